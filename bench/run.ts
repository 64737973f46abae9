/**
 * npm run bench: the server-core figures, each beside a baseline measured in
 * the same run.
 *
 * - Ingest over HTTP NDJSON and TCP JSON lines into a real server process
 *   (acknowledged = durable), events/s and MB/s, with the server's peak RSS.
 * - Bytes on disk per raw byte, beside `zstd -3` of the same raw lines.
 * - Needle search, histogram and `stats count() by host` latency over all
 *   events, warm; and a `date_histogram` + `terms` aggregation asked by the
 *   official Elasticsearch client of the Elasticsearch-compatible listener.
 * - Baseline: the same NDJSON loaded into a bare DuckDB table by DuckDB's own
 *   reader, and the same three questions asked of it in SQL.
 *
 * BENCH_EVENTS (default 10,000,000) sets the volume; data is generated from
 * ../shared/data once and kept in $BENCH_DIR (default /tmp/logmill-bench).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from '@elastic/elasticsearch';
import { generate } from './generate.js';
import { dataFiles, NEEDLE, Planter } from './needles.js';
import { freePort, ingested, rssOf } from './server.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const HTTP_SHARE = Number(process.env.BENCH_HTTP_SHARE ?? 0.3);
const DIR = process.env.BENCH_DIR ?? '/tmp/logmill-bench';
const CONCURRENCY = 4;
const HTTP_BATCH = 5000;
/** What Kibana's Discover asks for its chart, split by host: the aggregation of issue 4's figure. */
const ES_AGG = {
  size: 0,
  query: { range: { '@timestamp': { gte: 'now-2d' } } },
  aggs: { t: { date_histogram: { field: '@timestamp', fixed_interval: '5m' }, aggs: { h: { terms: { field: 'host', size: 5 } } } } },
};

interface Row {
  what: string;
  logmill: string;
  baseline: string;
  ratio: string;
}
const rows: Row[] = [];
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function prepareData(): Promise<{ ndjson: string; raw: string; lines: number }> {
  fs.mkdirSync(DIR, { recursive: true });
  const { ndjson, raw } = dataFiles(DIR, EVENTS);
  if (fs.existsSync(ndjson) && fs.existsSync(raw)) return { ndjson, raw, lines: EVENTS };
  log(`generating ${fmt(EVENTS)} events from ../shared/data samples…`);
  const j = fs.createWriteStream(ndjson + '.tmp');
  const r = fs.createWriteStream(raw + '.tmp');
  const end = Date.now() - 60_000;
  const start = end - 6 * 3600_000; // six hours: one or two daily partitions
  // The needle, and an access line with a planted client address and request_id (bench/search.ts).
  const planter = new Planter(EVENTS);
  let i = 0;
  let jb: string[] = [];
  let rb: string[] = [];
  for (const g of generate(EVENTS, start, end)) {
    const { line, json } = planter.apply(i, g.line, g.json);
    jb.push(json);
    rb.push(line);
    if (jb.length === 10_000) {
      if (!j.write(jb.join('\n') + '\n')) await new Promise<void>((res) => j.once('drain', () => res()));
      if (!r.write(rb.join('\n') + '\n')) await new Promise<void>((res) => r.once('drain', () => res()));
      jb = [];
      rb = [];
    }
    i++;
  }
  if (jb.length) {
    j.write(jb.join('\n') + '\n');
    r.write(rb.join('\n') + '\n');
  }
  await Promise.all([new Promise<void>((res) => j.end(() => res())), new Promise<void>((res) => r.end(() => res()))]);
  if (!planter.done) throw new Error('no access line followed the planted line\'s index: nothing planted');
  fs.renameSync(ndjson + '.tmp', ndjson);
  fs.renameSync(raw + '.tmp', raw);
  return { ndjson, raw, lines: EVENTS };
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${url}/api/v1/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function query(url: string, p: Record<string, string>): Promise<unknown> {
  const r = await fetch(`${url}${p.path}?${new URLSearchParams({ ...p, path: '' })}`);
  if (!r.ok) throw new Error(`${p.path} ${r.status}: ${await r.text()}`);
  return r.json();
}

/** Reads the NDJSON file in slices of `batch` lines, handing them to `send` from `concurrency` workers. */
/**
 * Sends lines `fromLine` up to `toLine` of `file` in bodies of `batch` lines over `concurrency` senders.
 * Bytes stay bytes (as a shipper reading a file sends them): the feeder shares this machine's two cores
 * with the server, and decoding, splitting and re-encoding every line cost it several seconds of them.
 */
async function feed(file: string, fromLine: number, toLine: number, batch: number, concurrency: number, send: (body: Buffer) => Promise<void>): Promise<number> {
  let lineNo = 0;
  let bytes = 0;
  const queue: Buffer[] = [];
  let done = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const producer = (async () => {
    // Pieces of the body being gathered (a body may span two chunks of the file).
    let pieces: Buffer[] = [];
    let inBody = 0;
    let rest: Buffer = Buffer.alloc(0);
    for await (const read of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
      const chunk: Buffer = rest.length ? Buffer.concat([rest, read as Buffer]) : (read as Buffer);
      let start = 0; // start of the current body's part in this chunk
      let at = 0;
      for (let nl = chunk.indexOf(10, at); nl >= 0; nl = chunk.indexOf(10, at)) {
        if (lineNo < fromLine) start = nl + 1;
        else if (lineNo < toLine) inBody++;
        at = nl + 1;
        lineNo++;
        if (inBody === batch || (lineNo === toLine && inBody > 0)) {
          pieces.push(chunk.subarray(start, at));
          queue.push(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces));
          pieces = [];
          inBody = 0;
          start = at;
          wake();
          while (queue.length > concurrency * 4) await new Promise((r) => setTimeout(r, 1));
        }
        if (lineNo >= toLine) break;
      }
      if (lineNo >= toLine) break;
      if (inBody > 0) pieces.push(chunk.subarray(start, at));
      rest = chunk.subarray(at);
    }
    if (pieces.length) queue.push(Buffer.concat(pieces));
    done = true;
    wake();
  })();
  const worker = async (): Promise<void> => {
    for (;;) {
      const body = queue.shift();
      if (body) {
        bytes += body.length;
        await send(body);
        continue;
      }
      if (done) return;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  await Promise.all([producer, ...Array.from({ length: concurrency }, worker)]);
  return bytes;
}

async function countAll(url: string): Promise<number> {
  const r = (await query(url, { path: '/api/v1/search', q: '* | stats count()', from: 'now-2d', to: 'now' })) as { rows: number[][] };
  return r.rows[0][0];
}

async function timeQuery(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[2];
}

async function main(): Promise<void> {
  const { ndjson, raw } = await prepareData();
  const rawBytes = fs.statSync(raw).size;
  const ndjsonBytes = fs.statSync(ndjson).size;
  const dataDir = path.join(DIR, 'logmill-data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const esPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const server: ChildProcess = spawn(
    './bin/logmill',
    ['server', '--data', dataDir, '--http', `127.0.0.1:${httpPort}`, '--tcp', `127.0.0.1:${tcpPort}`, '--es', `127.0.0.1:${esPort}`, '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server.pid as number))), 100);
  try {
    await waitHealthy(url);
    const httpEvents = Math.floor(EVENTS * HTTP_SHARE);

    log(`HTTP: ${fmt(httpEvents)} events, ${CONCURRENCY} connections, ${HTTP_BATCH} per request`);
    let t0 = performance.now();
    const httpBytes = await feed(ndjson, 0, httpEvents, HTTP_BATCH, CONCURRENCY, async (body) => {
      const r = await fetch(`${url}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: new Blob([new Uint8Array(body)]) });
      const j = (await r.json()) as { rejected: unknown[] };
      if (!r.ok || j.rejected.length) throw new Error(`ingest failed: ${r.status} ${JSON.stringify(j).slice(0, 200)}`);
    });
    const httpSec = (performance.now() - t0) / 1000;
    const httpRss = peakRss;

    log(`TCP: ${fmt(EVENTS - httpEvents)} events, ${CONCURRENCY} connections`);
    peakRss = 0;
    t0 = performance.now();
    const sockets = Array.from({ length: CONCURRENCY }, () => net.connect(tcpPort, '127.0.0.1'));
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
    let next = 0;
    const tcpBytes = await feed(ndjson, httpEvents, EVENTS, 2000, CONCURRENCY, async (body) => {
      const s = sockets[next++ % sockets.length];
      if (!s.write(body)) await new Promise<void>((r) => s.once('drain', () => r()));
    });
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.end(() => r()))));
    // TCP has no acknowledgement: the time counts until every event is durable, as the server's metrics
    // say (polling a search instead would measure queries over millions of rows as well); then all must be found.
    while ((await ingested(url, 'tcp')) < EVENTS - httpEvents) await new Promise((r) => setTimeout(r, 50));
    const tcpSec = (performance.now() - t0) / 1000;
    const tcpRss = peakRss;
    if ((await countAll(url)) !== EVENTS) throw new Error('not every event stored is found');

    log('waiting for compaction to settle, then measuring disk');
    let lastSize = -1;
    for (let i = 0; i < 120; i++) {
      const h = (await query(url, { path: '/api/v1/health' })) as { bytesOnDisk: number };
      if (h.bytesOnDisk === lastSize) break;
      lastSize = h.bytesOnDisk;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const diskBytes = dirSize(dataDir);
    const zstd = spawnSync('zstd', ['-3', '-c', '-q', raw], { maxBuffer: 1 << 30 });
    const zstdBytes = zstd.status === 0 ? zstd.stdout.length : NaN;

    log('queries (warm; median of 5)');
    const range = { from: 'now-2d', to: 'now' };
    const needleMs = await timeQuery(async () => {
      const r = (await query(url, { path: '/api/v1/search', q: NEEDLE, ...range, limit: '10' })) as { total: number };
      if (r.total !== 1) throw new Error(`needle found ${r.total} times`);
    });
    const histMs = await timeQuery(() => query(url, { path: '/api/v1/histogram', q: '*', ...range }));
    const statsMs = await timeQuery(() => query(url, { path: '/api/v1/search', q: '* | stats count() by host', ...range }));
    const es = new Client({ node: `http://127.0.0.1:${esPort}` });
    const aggMs = await timeQuery(async () => {
      const r = await es.search({ index: '*', ...ES_AGG });
      const buckets = (r.aggregations as { t: { buckets: { doc_count: number }[] } }).t.buckets;
      const total = buckets.reduce((sum, b) => sum + b.doc_count, 0);
      if (total !== EVENTS) throw new Error(`date_histogram counted ${total} events of ${EVENTS}`);
    });
    await es.close();
    const serverRssAfter = rssOf(server.pid as number);

    // At rest: after a clean shutdown (compaction finished, hot rows checkpointed, WAL folded in).
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    const restBytes = dirSize(dataDir);

    log('baseline: bare DuckDB table loaded by read_json');
    const base = await baseline(ndjson);

    const httpRate = httpEvents / httpSec;
    const tcpRate = (EVENTS - httpEvents) / tcpSec;
    rows.push(
      { what: 'HTTP NDJSON ingest, events/s (durable)', logmill: fmt(httpRate), baseline: fmt(base.loadRate), ratio: (httpRate / base.loadRate).toFixed(2) },
      { what: 'HTTP NDJSON ingest, MB/s', logmill: fmt(httpBytes / httpSec / 1e6, 1), baseline: fmt(base.loadMBps, 1), ratio: (httpBytes / httpSec / 1e6 / base.loadMBps).toFixed(2) },
      { what: 'TCP JSON lines ingest, events/s (stored)', logmill: fmt(tcpRate), baseline: fmt(base.loadRate), ratio: (tcpRate / base.loadRate).toFixed(2) },
      { what: 'TCP JSON lines ingest, MB/s', logmill: fmt(tcpBytes / tcpSec / 1e6, 1), baseline: fmt(base.loadMBps, 1), ratio: (tcpBytes / tcpSec / 1e6 / base.loadMBps).toFixed(2) },
      { what: 'bytes on disk per raw byte, at rest', logmill: (restBytes / rawBytes).toFixed(3), baseline: `${(base.diskBytes / rawBytes).toFixed(3)} (zstd -3: ${(zstdBytes / rawBytes).toFixed(3)})`, ratio: (restBytes / base.diskBytes).toFixed(2) },
      { what: 'bytes on disk per raw byte, while ingesting', logmill: (diskBytes / rawBytes).toFixed(3), baseline: `${(base.diskBytes / rawBytes).toFixed(3)} (zstd -3: ${(zstdBytes / rawBytes).toFixed(3)})`, ratio: (diskBytes / base.diskBytes).toFixed(2) },
      { what: 'peak server RSS during HTTP ingest, MB', logmill: fmt(httpRss / 1e6), baseline: '', ratio: '' },
      { what: 'peak server RSS during TCP ingest, MB', logmill: fmt(tcpRss / 1e6), baseline: '', ratio: '' },
      { what: `needle search over ${fmt(EVENTS)} events, ms`, logmill: fmt(needleMs, 1), baseline: fmt(base.needleMs, 1), ratio: (needleMs / base.needleMs).toFixed(2) },
      { what: 'histogram, ms', logmill: fmt(histMs, 1), baseline: fmt(base.histMs, 1), ratio: (histMs / base.histMs).toFixed(2) },
      { what: 'stats count() by host, ms', logmill: fmt(statsMs, 1), baseline: fmt(base.statsMs, 1), ratio: (statsMs / base.statsMs).toFixed(2) },
      { what: 'ES date_histogram (5m) + terms (host) aggregation, ms', logmill: fmt(aggMs, 1), baseline: fmt(base.aggMs, 1), ratio: (aggMs / base.aggMs).toFixed(2) },
      { what: 'server RSS after queries, MB', logmill: fmt(serverRssAfter / 1e6), baseline: '', ratio: '' },
    );
    void ndjsonBytes;
  } finally {
    clearInterval(rssTimer);
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }
  printTable();
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

async function baseline(
  ndjson: string,
): Promise<{ loadRate: number; loadMBps: number; diskBytes: number; needleMs: number; histMs: number; statsMs: number; aggMs: number }> {
  const file = path.join(DIR, 'baseline.duckdb');
  fs.rmSync(file, { force: true });
  fs.rmSync(file + '.wal', { force: true });
  const db = await DuckDBInstance.create(file, { threads: '2' });
  const c = await db.connect();
  const t0 = performance.now();
  await c.run(`CREATE TABLE events AS SELECT * FROM read_json('${ndjson}', format = 'newline_delimited', columns = {"@timestamp": 'TIMESTAMP', host: 'VARCHAR', source: 'VARCHAR', message: 'VARCHAR'})`);
  await c.run('CHECKPOINT');
  const sec = (performance.now() - t0) / 1000;
  const diskBytes = fs.statSync(file).size;
  const run = (sql: string) => timeQuery(() => c.runAndReadAll(sql));
  const needleMs = await run(`SELECT * FROM events WHERE message ILIKE '%${NEEDLE}%' ORDER BY "@timestamp" DESC LIMIT 10`);
  const histMs = await run(`SELECT time_bucket(INTERVAL 5 MINUTE, "@timestamp") b, count(*) FROM events GROUP BY b ORDER BY b`);
  const statsMs = await run(`SELECT host, count(*) FROM events GROUP BY host ORDER BY host`);
  // The aggregation's two levels: counts per bucket, and per bucket and host (the top five picked from them).
  const aggMs = await timeQuery(async () => {
    await c.runAndReadAll(`SELECT time_bucket(INTERVAL 5 MINUTE, "@timestamp") b, count(*) FROM events WHERE "@timestamp" >= now() - INTERVAL 2 DAY GROUP BY b ORDER BY b`);
    await c.runAndReadAll(`SELECT time_bucket(INTERVAL 5 MINUTE, "@timestamp") b, host, count(*) FROM events WHERE "@timestamp" >= now() - INTERVAL 2 DAY GROUP BY b, host ORDER BY b, host`);
  });
  c.closeSync();
  db.closeSync();
  return { loadRate: EVENTS / sec, loadMBps: fs.statSync(ndjson).size / sec / 1e6, diskBytes, needleMs, histMs, statsMs, aggMs };
}

function printTable(): void {
  const header: Row = { what: 'measure', logmill: 'logmill', baseline: 'baseline (bare DuckDB)', ratio: 'ratio' };
  const all = [header, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) => `| ${r.what.padEnd(w('what'))} | ${r.logmill.padStart(w('logmill'))} | ${r.baseline.padStart(w('baseline'))} | ${r.ratio.padStart(w('ratio'))} |`;
  console.log(`\nLogmill server-core benchmark: ${fmt(EVENTS)} events on ${process.platform}, ${(await_cpus())} cores\n`);
  console.log(line(header));
  console.log(`|${'-'.repeat(w('what') + 2)}|${'-'.repeat(w('logmill') + 2)}|${'-'.repeat(w('baseline') + 2)}|${'-'.repeat(w('ratio') + 2)}|`);
  for (const r of rows) console.log(line(r));
}

function await_cpus(): number {
  return spawnSync('nproc').stdout?.toString().trim() ? Number(spawnSync('nproc').stdout.toString().trim()) : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
