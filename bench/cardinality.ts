/**
 * npm run bench: issue 25's cardinality figure. Elasticsearch's `cardinality` aggregation over every stored
 * event, by `host` (a few dozen values) and by `request_id` (one per event), asked of the Elasticsearch-compatible
 * listener, beside DuckDB's exact `count(DISTINCT …)` and `approx_count_distinct(…)` of the same column read
 * straight from the same Parquet files, as times, values and ratios. Each figure is the median of 3 warm runs.
 *
 * The events are those bench/run.ts left in $BENCH_DIR/logmill-data. That directory is never written to: the
 * server runs over a fresh copy in $BENCH_DIR/cardinality-data (a starting server creates and removes files in
 * its data directory), and the baselines read that copy's Parquet files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort, waitHealthy } from './server.js';

const DIR = process.env.BENCH_DIR ?? '/tmp/logmill-bench';
const RUNS = 3;
const FIELDS = ['host', 'request_id'];
const log = (m: string): void => void process.stderr.write(`[bench cardinality] ${m}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function median(run: () => Promise<number>): Promise<{ ms: number; value: number }> {
  let value = await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    value = await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(RUNS / 2)], value };
}

async function main(): Promise<void> {
  const source = path.join(DIR, 'logmill-data');
  if (!fs.existsSync(source)) {
    log(`${source} is missing: run node dist/bench/run.js first (npm run bench does)`);
    process.exit(1);
  }
  const dataDir = path.join(DIR, 'cardinality-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.cpSync(source, dataDir, { recursive: true });

  // Which column holds each field: the catalog of the copy, read before the server opens it.
  const columns = new Map<string, string>([['host', 'host']]);
  {
    const db = await DuckDBInstance.create(path.join(dataDir, 'catalog.duckdb'), { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    for (const [name, col] of (await conn.runAndReadAll('SELECT name, col FROM fields WHERE col IS NOT NULL')).getRows()) columns.set(String(name), String(col));
    conn.closeSync();
    db.closeSync(); // the server must be able to lock it
  }
  const parquet = path.join(dataDir, 'partitions', '*', '*.parquet');

  const [port, esPort] = [await freePort(), await freePort()];
  const server: ChildProcess = spawn(
    './bin/logmill',
    ['server', '--data', dataDir, '--http', `127.0.0.1:${port}`, '--es', `127.0.0.1:${esPort}`, '--syslog', 'off', '--beats', 'off', '--gelf', 'off', '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const rows: string[] = [];
  try {
    await waitHealthy(`http://127.0.0.1:${port}`);
    const es = `http://127.0.0.1:${esPort}`;
    const count = ((await (await fetch(`${es}/_count`)).json()) as { count: number }).count;
    log(`${fmt(count)} stored events`);
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    const sql = async (q: string): Promise<number> => Number((await conn.runAndReadAll(q)).getRows()[0][0]);

    for (const field of FIELDS) {
      const col = columns.get(field);
      if (!col) {
        log(`no column for ${field}: skipped`);
        continue;
      }
      const logmill = await median(async () => {
        const res = await fetch(`${es}/_search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ size: 0, track_total_hits: false, aggs: { c: { cardinality: { field } } } }),
        });
        if (!res.ok) throw new Error(`cardinality of ${field}: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { aggregations: { c: { value: number } } }).aggregations.c.value;
      });
      // Parquet only: rows not yet compacted (a few at most after bench/run.ts) are in the segment files.
      const exact = await median(() => sql(`SELECT count(DISTINCT "${col}") FROM read_parquet('${parquet}')`));
      const approx = await median(() => sql(`SELECT approx_count_distinct("${col}") FROM read_parquet('${parquet}')`));
      log(`${field}: logmill ${fmt(logmill.value)} in ${logmill.ms.toFixed(0)} ms, exact ${fmt(exact.value)} in ${exact.ms.toFixed(0)} ms, approx ${fmt(approx.value)} in ${approx.ms.toFixed(0)} ms`);
      const err = (v: number): string => (exact.value === 0 ? '-' : `${(((v - exact.value) / exact.value) * 100).toFixed(1)} %`);
      rows.push(
        `| ${field} | ${logmill.ms.toFixed(0)} ms, ${fmt(logmill.value)} (${err(logmill.value)}) | ${exact.ms.toFixed(0)} ms, ${fmt(exact.value)} | ${approx.ms.toFixed(0)} ms, ${fmt(approx.value)} (${err(approx.value)}) | ${(logmill.ms / exact.ms).toFixed(2)} | ${(logmill.ms / approx.ms).toFixed(2)} |`,
      );
    }
    conn.closeSync();
    console.log(`\nCardinality over ${fmt(count)} stored events (issue 25): value and error against DuckDB's exact count\n`);
    console.log('| field | Logmill `cardinality` | DuckDB `count(DISTINCT)` | DuckDB `approx_count_distinct` | × exact | × approx |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(r);
  } finally {
    server.kill('SIGTERM');
    await new Promise<void>((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', () => resolve())));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
