/** What route handlers share: the store, metrics, configuration and the ingest entry point. */
import type { ServerConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { Input } from '../ingest/input.js';
import type { Store } from '../store/store.js';

export interface ApiContext {
  store: Store;
  metrics: Metrics;
  config: ServerConfig;
  /** The running network inputs, for /api/v1/inputs. */
  inputs?: Input[];
  /** GELF over HTTP: decodes and stores one GELF payload. */
  gelf?: (body: Buffer) => Promise<{ status: number; body: unknown }>;
}
