/**
 * npm run bench, import part: `logmill import` of a big syslog file, whole CLI to durable, beside
 * `wc -l` of the same file (the floor: reading it) and the server's own syslog TCP listener fed the
 * same lines from a separate process (counted until durable, from /metrics).
 *
 * The file (BENCH_IMPORT_BYTES, default 1e9) is made from the shared auth.log lines with varied
 * times, hosts and pids, in /var/log/syslog's format (`Mmm dd hh:mm:ss host prog[pid]: msg`).
 * Each ingest runs into a fresh server. Target (issue 23): import >= 100,000 lines/s.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedData } from './generate.js';
import { freePort, ingested } from './server.js';

const BYTES = Number(process.env.BENCH_IMPORT_BYTES ?? 1e9);
const DIR = path.join(process.env.BENCH_DIR ?? '/tmp/logmill-bench', 'import');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'logmill');
const log = (m: string): void => void process.stderr.write(`[bench import] ${m}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const OFF = { LOGMILL_ES: 'off', LOGMILL_BEATS: 'off', LOGMILL_GELF: 'off', LOGMILL_SYSLOG_TLS: 'off' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Writes the syslog file (kept between runs of the same size) and answers its line count. */
function makeFile(file: string): number {
  const meta = `${file}.lines`;
  if (fs.existsSync(file) && fs.statSync(file).size >= BYTES && fs.existsSync(meta)) return Number(fs.readFileSync(meta, 'utf8'));
  log(`writing ${fmt(BYTES)} bytes of syslog lines to ${file}`);
  const bodies = fs
    .readFileSync(sharedData('auth.log'), 'utf8')
    .split('\n')
    .map((l) => /^\w{3} +\d+ [\d:]+ \S+ ([^[:]+)(?:\[\d+\])?: (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]] as const);
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let lines = 0;
  let t = Date.UTC(2026, 0, 1);
  const parts: string[] = [];
  let size = 0;
  while (written < BYTES) {
    const [prog, msg] = bodies[lines % bodies.length];
    t += 37 + (lines % 13);
    const d = new Date(t);
    const hms = d.toISOString().slice(11, 19);
    const line = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} host-${lines % 97} ${prog}[${1000 + (lines % 5003)}]: ${msg}\n`;
    parts.push(line);
    size += line.length;
    lines++;
    if (size >= 1 << 22) {
      const b = Buffer.from(parts.join(''));
      fs.writeSync(fd, b);
      written += b.length;
      parts.length = 0;
      size = 0;
    }
  }
  if (parts.length) fs.writeSync(fd, Buffer.from(parts.join('')));
  fs.closeSync(fd);
  // Year-less dates resolve against the mtime: keep every line in 2026.
  fs.utimesSync(file, new Date('2026-12-31T00:00:00Z'), new Date('2026-12-31T00:00:00Z'));
  fs.writeFileSync(meta, String(lines));
  return lines;
}

async function startServer(data: string, syslogPort: number | null): Promise<{ url: string; proc: ChildProcess }> {
  fs.rmSync(data, { recursive: true, force: true });
  const http = await freePort();
  const proc = spawn(BIN, ['server', '--data', data, '--http', `127.0.0.1:${http}`, '--log-level', 'warn', '--syslog', syslogPort === null ? 'off' : `127.0.0.1:${syslogPort}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...OFF, LOGMILL_TOKEN: '' },
  });
  const url = `http://127.0.0.1:${http}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) return { url, proc };
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await gone;
}

function runChild(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout }));
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, 'syslog.log');
  const lines = makeFile(file);
  log(`${fmt(lines)} lines, ${fmt(fs.statSync(file).size)} bytes`);

  let t0 = performance.now();
  const wc = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
  const wcRate = lines / ((performance.now() - t0) / 1000);
  if (Number(wc.stdout.trim().split(/\s+/)[0]) !== lines) throw new Error(`wc -l says ${wc.stdout}`);

  // logmill import, the whole CLI, into a fresh server.
  let server = await startServer(path.join(DIR, 'data-import'), null);
  t0 = performance.now();
  const imp = await runChild(BIN, ['import', file, '--server', server.url, '--timezone', 'UTC', '--json', '--quiet']);
  const importSeconds = (performance.now() - t0) / 1000;
  const summary = JSON.parse(imp.stdout) as { accepted: number; unparsed: number };
  await stop(server.proc);
  if (summary.accepted !== lines || summary.unparsed !== 0) throw new Error(`import stored ${summary.accepted} of ${lines} (${summary.unparsed} unparsed)`);
  const importRate = lines / importSeconds;

  // The server's own syslog TCP listener, fed the same lines by a separate process (nc-like node child).
  const port = await freePort();
  server = await startServer(path.join(DIR, 'data-syslog'), port);
  const feeder = `const s=require('net').connect(${port},'127.0.0.1',()=>{const r=require('fs').createReadStream(${JSON.stringify(file)},{highWaterMark:1<<20});r.pipe(s);});`;
  t0 = performance.now();
  const feed = runChild(process.execPath, ['-e', feeder]);
  for (;;) {
    if ((await ingested(server.url, 'syslog_tcp')) >= lines) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tcpRate = lines / ((performance.now() - t0) / 1000);
  await feed;
  await stop(server.proc);

  const rows = [
    ['wc -l (read the file)', fmt(wcRate), ''],
    ['logmill import, to durable', fmt(importRate), `${(importRate / wcRate).toFixed(3)}x wc -l; ${(importRate / tcpRate).toFixed(2)}x syslog TCP`],
    ['server syslog TCP listener, to durable', fmt(tcpRate), `${(tcpRate / wcRate).toFixed(3)}x wc -l`],
  ];
  process.stdout.write(`\nimport bench: ${fmt(lines)} syslog lines (${(fs.statSync(file).size / 1e9).toFixed(2)} GB); target import >= 100,000 lines/s\n`);
  process.stdout.write('| measure | lines/s | ratio |\n|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  fs.rmSync(path.join(DIR, 'data-import'), { recursive: true, force: true });
  fs.rmSync(path.join(DIR, 'data-syslog'), { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench import failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
