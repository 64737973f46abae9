/**
 * npm run bench, part two: the protocol figures of the ingest and
 * Elasticsearch issues, each beside a baseline measured in the same run.
 *
 * - syslog over TCP into the store from syslog-ng's load generator loggen
 *   (200-byte messages, newline-framed), beside syslog-ng receiving the same
 *   loggen stream into a plain file, with one connection (loggen's default)
 *   and with two; syslog-ng runs from the tree that
 *   test/fixtures/syslog-ng/setup.sh unpacks (npm test makes it); and the
 *   server's RSS through a burst of a million loggen messages, and at rest
 *   before and after it;
 * - syslog over TCP of lines generated from the shared samples, beside
 *   rsyslog receiving the same stream into a plain file;
 * - Beats v2 over TLS, acknowledged (durable), beside native HTTP NDJSON of
 *   the same events;
 * - Elasticsearch _bulk through the official client's bulk helper, given
 *   objects and given NDJSON lines, each with the whole answer and with the
 *   `filter_path` Logstash and Filebeat ask every bulk request for, beside native HTTP
 *   NDJSON of the same documents, and the helper alone against a server that
 *   only answers (in the same shape);
 * - native ingest and _bulk are warmed up first (40,000 documents each, not
 *   measured), every ingest starts on a quiet server (the conversion of the
 *   one before done), and each phase lets go of its data before the next;
 * - a date_histogram + terms aggregation over everything stored.
 *
 * BENCH_PROTO_EVENTS (default 500,000) sets the volume; BENCH_PROTO_PHASES
 * (a comma list of syslog, loggen, beats, bulk; all by default) the parts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Client } from '@elastic/elasticsearch';
import { encodeCompressed, encodeJsonFrame, encodeWindow } from '../src/ingest/beats/protocol.js';
import type { ShipperResult } from './bulk-shipper.js';
import { generate } from './generate.js';
import { cpuSecondsOf, freePort, ingested, rssOf } from './server.js';

const N = Number(process.env.BENCH_PROTO_EVENTS ?? 500_000);
const ALL_PHASES = ['syslog', 'loggen', 'beats', 'bulk'];
/** The parts to run (BENCH_PROTO_PHASES, a comma list; all by default): one part alone fits a quiet spell of a shared machine. */
const PHASES = new Set((process.env.BENCH_PROTO_PHASES ?? ALL_PHASES.join(',')).split(',').map((p) => p.trim()));
for (const p of PHASES) if (!ALL_PHASES.includes(p)) throw new Error(`BENCH_PROTO_PHASES: no part "${p}"; the parts are ${ALL_PHASES.join(', ')}`);
const DIR = path.join(process.env.BENCH_DIR ?? '/tmp/logmill-bench', 'protocols');
const rows: [string, string, string, string][] = [];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 600_000, everyMs = 50): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function count(url: string, q: string): Promise<number> {
  const r = await fetch(`${url}/api/v1/search?${new URLSearchParams({ q: `${q} | stats count()`, from: 'now-2d', to: 'now+1d' })}`);
  const j = (await r.json()) as { rows: number[][] };
  return j.rows[0][0];
}

/** Waits until the server's background work is done: its bytes on disk unchanged for two seconds (a minute at most). */
async function settle(url: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const h = (await (await fetch(`${url}/api/v1/health`)).json()) as { bytesOnDisk: number };
    if (h.bytesOnDisk === last) return;
    last = h.bytesOnDisk;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function send(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const c of chunks) if (!s.write(c)) await new Promise((r) => s.once('drain', r));
      s.end(resolve);
    });
    s.on('error', reject);
  });
}

/** What every phase needs: the running server, its ports, and the generated documents. */
interface Bench {
  url: string;
  server: ChildProcess;
  ports: { syslog: number; beats: number; es: number };
  /** One JSON document per event. */
  docs: string[];
  /** The same events as RFC 3164 lines; emptied once the syslog phase is done with them. */
  syslogLines: string[];
}

async function main(): Promise<void> {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  const end = Date.now() - 60_000;
  const docs: string[] = [];
  const syslogLines: string[] = [];
  for (const g of generate(N, end - 3_600_000, end, 7)) {
    docs.push(g.json);
    // RFC 3164 as rsyslog forwards it: PRI, then the line's own date, host, tag and message.
    syslogLines.push(`<38>${g.line.startsWith('Nov') || /^[A-Z][a-z]{2} /.test(g.line) ? g.line : `Nov 21 00:00:00 web ${g.line}`}`);
  }
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', `${DIR}/key.pem`, '-out', `${DIR}/cert.pem`], { stdio: 'ignore' });
  const [http, syslog, beats, es] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const url = `http://127.0.0.1:${http}`;
  const server: ChildProcess = spawn(
    './bin/logmill',
    ['server', '--data', `${DIR}/data`, '--http', `127.0.0.1:${http}`, '--syslog', `127.0.0.1:${syslog}`, '--beats', `127.0.0.1:${beats}`, '--beats-tls',
      '--tls-cert', `${DIR}/cert.pem`, '--tls-key', `${DIR}/key.pem`, '--es', `127.0.0.1:${es}`, '--gelf', 'off', '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const bench: Bench = { url, server, ports: { syslog, beats, es }, docs, syslogLines };
  try {
    await waitFor(async () => fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false), 'the server');
    if (PHASES.has('syslog')) await syslogPhase(bench);
    // Each phase lets go of its data: the client side of a later phase (the bulk helper above all) should not
    // pay for full garbage collections that mark hundreds of megabytes it has no use for.
    syslogLines.length = 0;
    if (PHASES.has('loggen')) await loggenPhase(bench);
    if (PHASES.has('beats') || PHASES.has('bulk')) {
      const native = await nativePhase(bench);
      if (PHASES.has('beats')) await beatsPhase(bench, native.rate);
      if (PHASES.has('bulk')) await bulkPhase(bench, native);
    }
    await aggregationPhase(bench);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  const header: [string, string, string, string] = ['measure', 'logmill', 'baseline', 'ratio'];
  const all = [header, ...rows];
  const w = [0, 1, 2, 3].map((i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(`\nLogmill protocol benchmark: ${fmt(N)} events${PHASES.size < ALL_PHASES.length ? ` (${[...PHASES].join(', ')} only)` : ''}\n`);
  console.log(line(header));
  console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** RFC 3164 lines from the shared samples over two connections, beside rsyslog into a file. */
async function syslogPhase({ url, ports, syslogLines }: Bench): Promise<void> {
  log(`syslog TCP: ${fmt(N)} messages over 2 connections`);
  const half = Math.ceil(N / 2);
  const t0 = performance.now();
  await Promise.all([send(ports.syslog, syslogChunks(syslogLines.slice(0, half))), send(ports.syslog, syslogChunks(syslogLines.slice(half)))]);
  await waitFor(async () => (await ingested(url, 'syslog_tcp')) >= N, 'syslog events');
  const syslogRate = N / ((performance.now() - t0) / 1000);
  if ((await count(url, 'syslog.facility:4')) !== N) throw new Error('the syslog events stored are not all found');
  const rsyslogRate = await rsyslogBaseline(syslogLines, syslogChunks);
  rows.push(['syslog over TCP into the store, sample lines, msg/s', fmt(syslogRate), rsyslogRate ? `${fmt(rsyslogRate)} (rsyslog → file)` : 'rsyslog not installed', rsyslogRate ? (syslogRate / rsyslogRate).toFixed(2) : '']);
}

function syslogChunks(lines: string[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 2000) out.push(Buffer.from(lines.slice(i, i + 2000).join('\n') + '\n'));
  return out;
}

/** loggen with one connection and with two, beside syslog-ng into a file; then the RSS through a burst of a million. */
async function loggenPhase({ url, server, ports }: Bench): Promise<void> {
  if (!fs.existsSync(LOGGEN)) {
    rows.push(['syslog over TCP from loggen', 'syslog-ng not set up', 'run bash test/fixtures/syslog-ng/setup.sh', '']);
    return;
  }
  for (const connections of [1, 2]) {
    log(`syslog TCP from loggen: ${fmt(N)} messages of 200 bytes over ${connections} connection(s), into Logmill and into syslog-ng → file`);
    const before = await ingested(url, 'syslog_tcp');
    const found = await count(url, 'syslog.appname:prg00000');
    const t0 = performance.now();
    await loggen(ports.syslog, N, connections);
    await waitFor(async () => (await ingested(url, 'syslog_tcp')) - before >= N, 'loggen events');
    const rate = N / ((performance.now() - t0) / 1000);
    if ((await count(url, 'syslog.appname:prg00000')) - found !== N) throw new Error('the loggen events stored are not all found');
    const base = await syslogNgBaseline(N, connections);
    rows.push([`syslog over TCP into the store, loggen, ${connections} connection${connections > 1 ? 's' : ''}, msg/s`, fmt(rate), `${fmt(base)} (syslog-ng → file)`, (rate / base).toFixed(2)]);
  }

  // Memory through a burst of a million messages, and back at rest after it.
  const BURST = 1_000_000;
  await settle(url);
  const restBefore = rssOf(server.pid as number);
  let peak = restBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.pid as number))), 100);
  const before = await ingested(url, 'syslog_tcp');
  log(`syslog TCP burst: ${fmt(BURST)} loggen messages over 2 connections, server RSS sampled every 100 ms`);
  await loggen(ports.syslog, BURST, 2);
  await waitFor(async () => (await ingested(url, 'syslog_tcp')) - before >= BURST, 'the burst');
  clearInterval(sampler);
  // At rest: background work done, and 15 s more for V8 to collect an idle heap (it does within about 10 s).
  await settle(url);
  await new Promise((r) => setTimeout(r, 15_000));
  const restAfter = rssOf(server.pid as number);
  rows.push([`peak server RSS during a burst of ${fmt(BURST)} syslog messages, MB`, fmt(peak / 1e6), '', '']);
  rows.push(['server RSS at rest before → after the burst, MB', `${fmt(restBefore / 1e6)} → ${fmt(restAfter / 1e6)}`, '', '']);
}

/** Native HTTP NDJSON of the same documents, 5,000 a request, four in flight: the baseline of Beats and _bulk. */
async function nativePhase({ url, server, ports, docs }: Bench): Promise<{ rate: number; serverUs: number }> {
  await warmUp(url, ports.es, docs);
  // Each ingest starts on a quiet server: the conversion of the run before it must not take its cores.
  await settle(url);
  log(`native HTTP NDJSON: ${fmt(N)} events (baseline for Beats and _bulk)`);
  const bodies: string[] = [];
  for (let i = 0; i < N; i += 5000) bodies.push(docs.slice(i, i + 5000).map((d) => d.replace('{', '{"kind":"native",')).join('\n'));
  const t0 = performance.now();
  const cpu0 = cpuSecondsOf(server.pid as number);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const r = await fetch(`${url}/api/v1/ingest`, { method: 'POST', body });
        if (!r.ok) throw new Error(`ingest ${r.status}`);
        await r.arrayBuffer();
      }
    }),
  );
  const rate = N / ((performance.now() - t0) / 1000);
  return { rate, serverUs: ((cpuSecondsOf(server.pid as number) - cpu0) * 1e6) / N };
}

/** Documents each of native ingest and _bulk take before either is measured (see warmUp). */
const WARM_UP_DOCS = 40_000;

/**
 * Sends WARM_UP_DOCS documents through native ingest and through _bulk, unmeasured. A server just started
 * compiles its hot paths while it runs them (V8's optimizing compiler took a tenth of a fresh server's CPU over
 * its first 300,000 _bulk documents): the figures are of a server that has been running, whichever runs first.
 */
async function warmUp(url: string, esPort: number, docs: string[]): Promise<void> {
  log(`warming up: ${fmt(WARM_UP_DOCS)} documents through native ingest and through _bulk, not measured`);
  const sample = docs.slice(0, WARM_UP_DOCS).map((d) => d.replace('{', '{"kind":"warm-up",'));
  for (let i = 0; i < sample.length; i += 5000) {
    const part = sample.slice(i, i + 5000);
    const native = await fetch(`${url}/api/v1/ingest`, { method: 'POST', body: part.join('\n') });
    if (!native.ok) throw new Error(`warm-up ingest ${native.status}`);
    await native.arrayBuffer();
    const body = part.map((d) => `{"create":{"_index":"logs-bench-default"}}\n${d}\n`).join('');
    const bulk = await fetch(`http://127.0.0.1:${esPort}/_bulk`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
    if (!bulk.ok) throw new Error(`warm-up _bulk ${bulk.status}`);
    await bulk.arrayBuffer();
  }
}

/** Beats v2 over TLS, windows of 2,000 compressed events, two in flight on each of two connections. */
async function beatsPhase({ url, ports, docs }: Bench, nativeRate: number): Promise<void> {
  log(`Beats v2 over TLS: ${fmt(N)} events in compressed windows of 2,000, two in flight per connection`);
  // Encoded before the clock starts, as the native bodies are: the shipper's JSON and zlib work is not the server's,
  // and on this machine it would take the cores the server needs.
  const windows = beatsWindows(docs.map((d) => JSON.parse(d.replace('{', '{"kind":"beats",')) as Record<string, unknown>));
  await settle(url);
  const t0 = performance.now();
  await Promise.all([0, 1].map((k) => beatsSender(ports.beats, windows.filter((_, i) => i % 2 === k))));
  const beatsRate = N / ((performance.now() - t0) / 1000);
  rows.push(['Beats v2 over TLS, acknowledged events/s', fmt(beatsRate), `${fmt(nativeRate)} (native HTTP NDJSON)`, (beatsRate / nativeRate).toFixed(2)]);
}

/** What Logstash's elasticsearch output and Filebeat ask every bulk request for: only whether anything failed, and each item's status and error. */
const LOGSTASH_FILTER_PATH = 'errors,items.*.error,items.*.status';

/**
 * The official bulk helper, given objects and given NDJSON lines, each in a shipper process of its own
 * (bench/bulk-shipper.ts) that holds only the documents it sends, as an application shipping its logs does. It
 * serializes and frames every document on this machine's two cores too: its own ceiling here is its rate against
 * a server that does nothing but answer, measured with the same documents just before. Given JSON text (its
 * documented way to index a file of NDJSON lines) it does not serialize each one, and more of the two cores are
 * left to the server.
 *
 * Each runs twice: with the whole answer (an item of five fields per document, which the helper parses), and
 * with the `filter_path` Logstash and Filebeat send (each item its status, and its error if any), a bulk option of the helper.
 */
async function bulkPhase({ url, server, ports, docs }: Bench, native: { rate: number; serverUs: number }): Promise<void> {
  // The NDJSON lines are tagged in the file, as a file being indexed would have them: tagged by the shipper, each
  // would be a string built of two, which the helper flattens at a cost the objects do not pay.
  const files = { objects: path.join(DIR, 'bulk-objects.ndjson'), lines: path.join(DIR, 'bulk-lines.ndjson') };
  fs.writeFileSync(files.objects, `${docs.join('\n')}\n`);
  fs.writeFileSync(files.lines, `${docs.map((d) => d.replace('{', '{"kind":"bulk-lines",')).join('\n')}\n`);
  const nullEs = await startNullEs();
  const ceilings: string[] = [];
  const cpuRows: [string, string, string, string][] = [];
  try {
    for (const kind of [
      { name: 'objects', arg: 'objects' },
      { name: 'NDJSON lines', arg: 'lines' },
    ] as const) {
      for (const filterPath of [null, LOGSTASH_FILTER_PATH]) {
        const name = filterPath === null ? kind.name : `${kind.name}, filter_path as Beats/Logstash`;
        log(`the bulk helper against a server that only answers: ${fmt(N)} documents as ${name}`);
        ceilings.push(fmt((await shipperRun(nullEs.port, files[kind.arg], kind.arg, filterPath, nullEs.pid)).rate));
        await settle(url);
        log(`Elasticsearch _bulk with the official client's bulk helper: ${fmt(N)} documents as ${name}`);
        const run = await shipperRun(ports.es, files[kind.arg], kind.arg, filterPath, server.pid as number);
        rows.push([`_bulk (official client bulk helper, ${name}), docs/s`, fmt(run.rate), `${fmt(native.rate)} (native HTTP NDJSON)`, (run.rate / native.rate).toFixed(2)]);
        cpuRows.push(cpuRow(`_bulk, ${name}`, run));
      }
    }
  } finally {
    nullEs.stop();
    for (const file of Object.values(files)) fs.rmSync(file, { force: true });
  }
  rows.push([`_bulk helper against a do-nothing server (objects | with filter_path | lines | with filter_path), docs/s`, ceilings.join(' | '), '', '']);
  rows.push(['server CPU per event, native HTTP NDJSON, µs', native.serverUs.toFixed(1), '', '']);
  rows.push(...cpuRows);
}

/** A date_histogram + terms aggregation through the official client over everything stored, warm, median of 5. */
async function aggregationPhase({ url, ports }: Bench): Promise<void> {
  const client = new Client({ node: `http://127.0.0.1:${ports.es}` });
  try {
    const aggBody = {
      size: 0,
      query: { range: { '@timestamp': { gte: 'now-2d' } } },
      aggs: { t: { date_histogram: { field: '@timestamp', fixed_interval: '5m' }, aggs: { h: { terms: { field: 'host', size: 5 } } } } },
    };
    await client.search({ index: '*', ...aggBody });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = performance.now();
      await client.search({ index: '*', ...aggBody });
      times.push(performance.now() - a);
    }
    times.sort((a, b) => a - b);
    const total = await count(url, '*');
    rows.push([`date_histogram + terms over ${fmt(total)} events, ms (warm, median)`, times[2].toFixed(1), '', '']);
  } finally {
    await client.close();
  }
}

interface BulkRun {
  /** Documents per second. */
  rate: number;
  /** CPU per document of the shipper and of the server's process, µs. */
  helperUs: number;
  serverUs: number;
}

/**
 * One shipper run (bench/bulk-shipper.ts), timed by the shipper from its first request to its last answer, with
 * the server's CPU over the same span; every document must succeed.
 */
async function shipperRun(port: number, file: string, kind: 'objects' | 'lines', filterPath: string | null, serverPid: number): Promise<BulkRun> {
  const args = [path.join(import.meta.dirname, 'bulk-shipper.js'), String(port), file, kind, ...(filterPath === null ? [] : [filterPath])];
  const shipper = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => shipper.once('exit', resolve));
  const lines = readLines(shipper.stdout as NodeJS.ReadableStream);
  if ((await lines.next()).value !== 'ready') throw new Error(`the bulk shipper did not start (exit ${await exited})`);
  const server0 = cpuSecondsOf(serverPid);
  shipper.stdin?.write('go\n');
  const answer = (await lines.next()).value;
  const server1 = cpuSecondsOf(serverPid);
  if (typeof answer !== 'string') throw new Error(`the bulk shipper ended without a result (exit ${await exited})`);
  await lines.return(undefined);
  await exited;
  const r = JSON.parse(answer) as ShipperResult;
  if (r.failed > 0) throw new Error(`${r.failed} bulk documents failed`);
  return { rate: r.successful / r.seconds, helperUs: r.cpuUsPerDoc, serverUs: ((server1 - server0) * 1e6) / r.successful };
}

/** The lines a stream writes, one at a time. */
async function* readLines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    rest += String(chunk);
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
}

/**
 * Where a run's CPU went. Client and server share this machine's cores, so no rate can pass the cores
 * divided by the CPU both spend per document; the ratio is the share of that limit the run reached.
 */
function cpuRow(name: string, run: BulkRun): [string, string, string, string] {
  const cores = os.availableParallelism();
  const limit = (cores * 1e6) / (run.helperUs + run.serverUs);
  return [`${name}: CPU per document, helper + server, µs`, `${run.helperUs.toFixed(1)} + ${run.serverUs.toFixed(1)}`, `${fmt(limit)} docs/s (${cores} cores' limit)`, (run.rate / limit).toFixed(2)];
}

/**
 * A server answering every _bulk with success at once, in a process of its own. Its items have the shape of
 * Logmill's (the helper parses every one), or only a status when the request asks for a filter_path.
 */
const NULL_ES = `
const http = require('node:http');
let seq = 0;
const server = http.createServer((req, res) => {
  let lines = 0;
  req.on('data', (c) => { for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++; });
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-elastic-product', 'Elasticsearch');
    if (!req.url.includes('_bulk')) return res.end('{"version":{"number":"8.15.0"}}');
    const filtered = req.url.includes('filter_path=');
    const items = new Array(lines >> 1);
    for (let i = 0; i < items.length; i++) {
      items[i] = filtered ? '{"create":{"status":201}}' : '{"create":{"_index":"logs-bench-default","_id":"20261121-' + seq++ + '","_version":1,"result":"created","status":201}}';
    }
    res.end((filtered ? '{"errors":false,"items":[' : '{"took":1,"errors":false,"items":[') + items.join(',') + ']}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** The do-nothing server in a process of its own. */
async function startNullEs(): Promise<{ port: number; pid: number; stop: () => void }> {
  const proc = spawn(process.execPath, ['-e', NULL_ES], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => proc.stdout?.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  return { port, pid: proc.pid as number, stop: () => void proc.kill() };
}

interface BeatsWindow {
  size: number;
  bytes: Buffer;
}

/** Events as Beats v2 windows of 2,000: a window frame, then the events' JSON frames compressed in one frame. */
function beatsWindows(events: Record<string, unknown>[]): BeatsWindow[] {
  const out: BeatsWindow[] = [];
  for (let i = 0; i < events.length; i += 2000) {
    const win = events.slice(i, i + 2000);
    const frames = Buffer.concat(win.map((e, k) => encodeJsonFrame(k + 1, e)));
    out.push({ size: win.length, bytes: Buffer.concat([encodeWindow(2, win.length), encodeCompressed(frames, 2, 1)]) });
  }
  return out;
}

/**
 * Sends windows over TLS, two in flight as Filebeat's Logstash output does
 * by default (`pipelining: 2`), each counted once its final ACK (the seq of
 * its last event) arrives.
 */
async function beatsSender(port: number, windows: BeatsWindow[]): Promise<void> {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  await new Promise((r, j) => socket.once('secureConnect', r).once('error', j));
  const inFlight: { size: number; done: () => void }[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 6) {
      const seq = buf.readUInt32BE(2);
      buf = buf.subarray(6);
      // Partial and keepalive ACKs carry a lower seq; the window's last seq completes it.
      if (inFlight.length > 0 && seq === inFlight[0].size) inFlight.shift()?.done();
    }
  });
  const PIPELINING = 2;
  const pending: Promise<void>[] = [];
  for (const w of windows) {
    pending.push(new Promise<void>((done) => inFlight.push({ size: w.size, done })));
    socket.write(w.bytes);
    if (pending.length >= PIPELINING) await pending.shift();
  }
  await Promise.all(pending);
  socket.end();
}

/** rsyslog receiving the same stream over TCP into a plain file: the time until the file holds every line. */
async function rsyslogBaseline(lines: string[], toChunks: (l: string[]) => Buffer[]): Promise<number | null> {
  const rsyslogd = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => fs.existsSync(p));
  if (!rsyslogd) return null;
  const port = await freePort();
  const out = `${DIR}/rsyslog.out`;
  fs.mkdirSync(`${DIR}/rsyslog-work`, { recursive: true });
  fs.writeFileSync(
    `${DIR}/rsyslog.conf`,
    `global(workDirectory="${DIR}/rsyslog-work")\nmodule(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${port}")\n*.* action(type="omfile" file="${out}")\n`,
  );
  const proc = spawn(rsyslogd, ['-n', '-f', `${DIR}/rsyslog.conf`, '-i', `${DIR}/rsyslog.pid`], { stdio: 'ignore' });
  try {
    await waitFor(async () => new Promise((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false))), 'rsyslogd', 20_000);
    const half = Math.ceil(lines.length / 2);
    const t0 = performance.now();
    await Promise.all([send(port, toChunks(lines.slice(0, half))), send(port, toChunks(lines.slice(half)))]);
    await waitFor(async () => fs.existsSync(out) && countLines(out) >= lines.length, 'rsyslog output', 600_000, 250);
    return lines.length / ((performance.now() - t0) / 1000);
  } finally {
    proc.kill('SIGTERM');
  }
}

const SYSLOG_NG_ROOT = process.env.LOGMILL_SYSLOG_NG_ROOT ?? path.resolve('.cache/syslog-ng');
const LOGGEN = path.join(SYSLOG_NG_ROOT, 'bin', 'loggen');

/** loggen's default stream (RFC 3164-like lines, newline-framed) of `total` 200-byte messages, as fast as it goes. */
async function loggen(port: number, total: number, connections: number): Promise<void> {
  // --permanent: without it loggen stops after ten seconds, however many messages it was told to send, and a slow
  // run then waited forever for the rest.
  const args = ['--inet', '--stream', '--size', '200', '--rate', '100000000', '--permanent', '--active-connections', String(connections), '--number', String(Math.ceil(total / connections)), '127.0.0.1', String(port)];
  const proc = spawn(LOGGEN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`loggen exited with ${code}: ${err}`);
}

/** syslog-ng receiving loggen's stream over TCP into a plain file (lossless: flow control): the time until the file holds every line. */
async function syslogNgBaseline(total: number, connections: number): Promise<number> {
  const port = await freePort();
  const work = `${DIR}/syslog-ng-${connections}`;
  fs.mkdirSync(work, { recursive: true });
  const out = `${work}/messages.log`;
  const versions = fs.readdirSync(path.join(SYSLOG_NG_ROOT, 'usr', 'lib', 'syslog-ng')).filter((d) => /^\d+\.\d+$/.test(d));
  fs.writeFileSync(
    `${work}/syslog-ng.conf`,
    [
      `@version: ${versions.sort().at(-1)}`,
      'options { keep-hostname(yes); chain-hostnames(no); use-dns(no); dns-cache(no); stats-freq(0); mark-freq(0); flush-lines(1000); log-fifo-size(100000); };',
      `source s { network(ip("127.0.0.1") port(${port}) transport("tcp") max-connections(100) log-iw-size(100000)); };`,
      `destination d { file("${out}"); };`,
      'log { source(s); destination(d); flags(flow-control); };',
      '',
    ].join('\n'),
  );
  const proc = spawn(
    path.join(SYSLOG_NG_ROOT, 'bin', 'syslog-ng'),
    ['-F', '-f', `${work}/syslog-ng.conf`, `--pidfile=${work}/pid`, `--persist-file=${work}/persist`, `--control=${work}/ctl`],
    { stdio: 'ignore' },
  );
  try {
    await waitFor(async () => new Promise((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false))), 'syslog-ng', 20_000);
    const t0 = performance.now();
    await loggen(port, total, connections);
    await waitFor(async () => fs.existsSync(out) && countLines(out) >= total, 'syslog-ng output', 600_000, 100);
    return total / ((performance.now() - t0) / 1000);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

function countLines(file: string): number {
  const b = fs.readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
