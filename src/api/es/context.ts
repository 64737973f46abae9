/** What the Elasticsearch-compatible API's routes share: the store, metrics and configuration. */
import type { ServerConfig } from '../../core/config.js';
import type { Metrics } from '../../core/metrics.js';
import type { Store } from '../../store/store.js';

export interface EsContext {
  store: Store;
  metrics: Metrics;
  config: ServerConfig;
}
