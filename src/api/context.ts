/** What route handlers share: the store, metrics, configuration and the ingest entry point. */
import type { ServerConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { Input } from '../ingest/input.js';
import type { Store } from '../store/store.js';
import type { TailHub } from '../store/tail.js';
import type { PipelinesView } from './routes/pipelines.js';

export interface ApiContext {
  store: Store;
  metrics: Metrics;
  config: ServerConfig;
  /** The running network inputs, for /api/v1/inputs. */
  inputs?: Input[];
  /** GELF over HTTP: decodes and stores one GELF payload. */
  gelf?: (body: Buffer) => Promise<{ status: number; body: unknown }>;
  /** Live tail: the writes of the store, offered to open tails. */
  tail?: TailHub;
  /** The pipelines the server runs, for /api/v1/pipelines (null until they are built). */
  pipelines?: () => PipelinesView | null;
  /** Where the server keeps its data (saved objects live there too). */
  dataDir?: string;
}
