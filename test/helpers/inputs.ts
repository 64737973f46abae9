/**
 * Shared by the network input tests (syslog, Beats, GELF): a real DuckDB
 * store in a temp dir, an InputContext over it (with an optional gate to hold
 * writes), store searches and bounded polling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogEvent } from '../../src/core/event.js';
import { Metrics } from '../../src/core/metrics.js';
import type { Input, InputContext } from '../../src/ingest/input.js';
import { parseQuery } from '../../src/query/parse.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import type { Hit } from '../../src/store/store.js';

export function tempDir(prefix = 'logmill-inputs-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Harness {
  dir: string;
  store: DuckDBStore;
  metrics: Metrics;
  ctx: InputContext;
  logs: string[];
  /** Events passed to ctx.write so far (written or not yet). */
  written: () => number;
  /** Number of ctx.write calls so far. */
  writes: () => number;
  close: () => Promise<void>;
}

/** A store in a new temp dir and a context writing to it. `gate` (if given) is awaited before each write. */
export async function openHarness(opts: { maxLineBytes?: number; gate?: () => Promise<void> } = {}): Promise<Harness> {
  const dir = tempDir();
  const store = new DuckDBStore({ dir });
  await store.open();
  const metrics = new Metrics();
  const logs: string[] = [];
  let written = 0;
  let writes = 0;
  const ctx: InputContext = {
    write: async (events: LogEvent[]) => {
      written += events.length;
      writes++;
      if (opts.gate) await opts.gate();
      await store.write(events);
    },
    metrics,
    maxLineBytes: opts.maxLineBytes ?? 1024 * 1024,
    log: (level, message) => {
      logs.push(`${level}: ${message}`);
    },
  };
  return {
    dir,
    store,
    metrics,
    ctx,
    logs,
    written: () => written,
    writes: () => writes,
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Searches the whole time range; hits newest first. */
export async function find(store: DuckDBStore, q: string, limit = 20_000): Promise<{ total: number; hits: Hit[] }> {
  const r = await store.search({ query: parseQuery(q), range: { fromMicros: 0, toMicros: Date.UTC(9999, 11, 31) * 1000 }, limit, trackTotalHits: true });
  if (r.kind !== 'hits') throw new Error(`search ${q} gave a table`);
  return { total: r.total, hits: r.hits };
}

/** Polls until the query finds at least `n` events (bounded; the error says what was found). */
export async function waitForHits(store: DuckDBStore, q: string, n: number, timeoutMs = 30_000): Promise<Hit[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await find(store, q);
    if (r.total >= n) return r.hits;
    if (Date.now() > deadline) {
      const all = await find(store, '*', 20);
      throw new Error(
        `waited for ${n} events matching ${q}, found ${r.total}; the store holds ${all.total}: ` +
          JSON.stringify(all.hits.map((h) => h.message)).slice(0, 2000),
      );
    }
    await sleep(50);
  }
}

/**
 * Polls a condition (bounded); throws with `what` when it never holds. A function for `what` is the
 * whole message, read at the timeout (what has arrived by then, what a child process said).
 */
export async function waitFor(what: string | (() => string), cond: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(typeof what === 'string' ? `timed out waiting for ${what}` : what());
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Port of an input's bound address. */
export function portOf(input: Input): number {
  const a = input.address();
  return Number(a.slice(a.lastIndexOf(':') + 1));
}

