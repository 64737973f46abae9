/** What the Elasticsearch-compatible API's routes share: the store, metrics and configuration. */
import type { ServerConfig } from '../../core/config.js';
import type { Metrics } from '../../core/metrics.js';
import type { Store } from '../../store/store.js';
import type { DocumentTransform } from '../../pipeline/host.js';

export interface EsContext {
  store: Store;
  metrics: Metrics;
  config: ServerConfig;
  /** The server's pipelines, for `_bulk?pipeline=NAME`: the named one's filters over a document, or null if none has that name. */
  ingestPipelines?: IngestPipelines;
}

export type { DocumentTransform };

export interface IngestPipelines {
  /** Whether the server runs any pipeline at all. */
  readonly running: boolean;
  transform(name: string): DocumentTransform | null;
}
