/** What route handlers share: the store, metrics, configuration and the ingest entry point. */
import type { ServerConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { Store } from '../store/store.js';

export interface ApiContext {
  store: Store;
  metrics: Metrics;
  config: ServerConfig;
}
