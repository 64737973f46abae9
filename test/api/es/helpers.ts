/**
 * Helpers for the Elasticsearch-compatible API's tests: a real DuckDB store in
 * a temp dir and the ES listener on a free loopback port, plus a small raw
 * HTTP client.
 */
import { DEFAULTS, loadConfig, type ServerConfig } from '../../../src/core/config.js';
import { Metrics } from '../../../src/core/metrics.js';
import { startEsServer, type RunningEsServer } from '../../../src/api/es/server.js';
import { DuckDBStore } from '../../../src/store/duckdb/store.js';
import type { Hit } from '../../../src/store/store.js';
import { removeDir, tempDir } from '../../helpers/server.js';

export interface EsTestServer {
  dir: string;
  config: ServerConfig;
  store: DuckDBStore;
  metrics: Metrics;
  es: RunningEsServer;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Stops the listener and the store (the data stays). */
  stop(): Promise<void>;
  /** Stops and removes the data. */
  close(): Promise<void>;
}

export async function startEs(flags: Partial<Record<keyof ServerConfig, string | number | null>> = {}, dir: string = tempDir()): Promise<EsTestServer> {
  const config = loadConfig({ flags: { data: dir, logLevel: 'silent', ...flags } });
  void DEFAULTS;
  const store = new DuckDBStore({ dir: config.data, maxColumns: config.maxColumns, memoryLimit: config.memoryLimit });
  await store.open();
  const metrics = new Metrics();
  const es = await startEsServer('127.0.0.1:0', { store, metrics, config });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await es.close();
    await store.close();
  };
  return {
    dir,
    config,
    store,
    metrics,
    es,
    url: es.address(),
    stop,
    close: async () => {
      try {
        await stop();
      } finally {
        removeDir(dir);
      }
    },
  };
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP request; the body is sent as is (string/Buffer) or as JSON (objects). */
export async function http<T = any>(
  base: string,
  method: string,
  pathname: string,
  body?: string | Buffer | Record<string, unknown> | unknown[],
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    init.body = isRaw ? (body as unknown as BodyInit) : JSON.stringify(body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      (init.headers as Record<string, string>)['content-type'] = isRaw ? 'application/x-ndjson' : 'application/json';
    }
  }
  const res = await fetch(new URL(pathname, base), init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** NDJSON with a trailing newline. */
export function ndjson(lines: unknown[]): string {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
}

const SPAN = { start: 0, end: 0 };

/** Every stored event of an index (up to `limit`), oldest first. */
export async function storedIn(store: DuckDBStore, index: string, limit = 10_000): Promise<Hit[]> {
  const r = await store.find({
    filter: { kind: 'term', field: '_index', value: index, span: SPAN },
    sort: [{ field: '@timestamp', desc: false }],
    limit,
  });
  return r.hits;
}

export async function countIn(store: DuckDBStore, index: string): Promise<number> {
  const rows = await store.group({ filter: { kind: 'term', field: '_index', value: index, span: SPAN }, keys: [], metrics: [{ fn: 'count' }] });
  return rows[0]?.metrics[0] ?? 0;
}

/** Asserts Elasticsearch's error shape and returns the error. */
export function esError(body: any): { type: string; reason: string; root_cause: { type: string; reason: string }[] } {
  if (!body || typeof body !== 'object' || !body.error || typeof body.status !== 'number') {
    throw new Error(`not an Elasticsearch error body: ${JSON.stringify(body).slice(0, 300)}`);
  }
  const e = body.error;
  if (typeof e.type !== 'string' || typeof e.reason !== 'string' || !Array.isArray(e.root_cause) || e.root_cause.length === 0) {
    throw new Error(`not an Elasticsearch error: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return e;
}
