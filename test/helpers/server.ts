/**
 * Helpers shared by the server integration tests: a real server in-process
 * (real DuckDB files in a temp dir, real HTTP over loopback), or as a child
 * process running the compiled CLI, plus small ingest/search clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, loadConfig, type ServerConfig } from '../../src/core/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
export { prng } from './prng.js';
import { prng } from './prng.js';

/** The repository root (this file is compiled to dist/test/helpers/server.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const BIN = path.join(REPO_ROOT, 'bin', 'logmill');

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-test-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export type Flags = Partial<Record<keyof ServerConfig, string | number | null | undefined>>;

export interface TestServer extends RunningServer {
  dir: string;
}

/**
 * Inputs other than HTTP that may be on by default at fixed ports (syslog, beats, gelf…): tests
 * turn them off unless they ask for them, so that servers never fight over a port.
 */
const EXTRA_LISTENERS = ['es', 'syslog', 'syslogTls', 'beats', 'gelf'].filter(
  (k) => typeof (DEFAULTS as unknown as Record<string, unknown>)[k] === 'string',
);

/** The same, as environment for a child server (unknown LOGMILL_* variables are ignored by older configs). */
export const LISTENERS_OFF_ENV: Record<string, string> = {
  LOGMILL_ES: 'off',
  LOGMILL_SYSLOG: 'off',
  LOGMILL_SYSLOG_TLS: 'off',
  LOGMILL_BEATS: 'off',
  LOGMILL_GELF: 'off',
};

/** Starts a real server on a free loopback port, with its data in `dir` (a new temp dir by default). */
export async function startTestServer(flags: Flags = {}, dir?: string): Promise<TestServer> {
  const data = dir ?? tempDir();
  const off: Flags = Object.fromEntries(EXTRA_LISTENERS.map((k) => [k, null]));
  try {
    const config = loadConfig({ flags: { data, http: '127.0.0.1:0', logLevel: 'silent', ...off, ...flags } });
    const server = await startServer(config);
    return Object.assign(server, { dir: data });
  } catch (err) {
    if (dir === undefined) removeDir(data); // a directory made for this server only
    throw err;
  }
}

export interface IngestResult {
  status: number;
  body: {
    accepted: number;
    rejected: { line: number; error: string }[];
    warnings?: { line: number; warning: string }[];
    error?: { type: string; message: string };
  };
}

/** POSTs a body to /api/v1/ingest. Objects in an array are sent as NDJSON lines. */
export async function ingest(
  base: string,
  body: string | Buffer | Record<string, unknown>[],
  headers: Record<string, string> = {},
): Promise<IngestResult> {
  const payload = Array.isArray(body) ? body.map((e) => JSON.stringify(e)).join('\n') + '\n' : body;
  const res = await fetch(`${base}/api/v1/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...headers },
    body: typeof payload === 'string' ? payload : (payload as unknown as Uint8Array<ArrayBuffer>),
  });
  const text = await res.text();
  let parsed: IngestResult['body'];
  try {
    parsed = JSON.parse(text) as IngestResult['body'];
  } catch {
    throw new Error(`ingest answered ${res.status} with non-JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body: parsed };
}

/** Ingests and asserts a 200 with every line accepted. */
export async function ingestOk(base: string, events: Record<string, unknown>[]): Promise<void> {
  const r = await ingest(base, events);
  if (r.status !== 200 || r.body.accepted !== events.length || r.body.rejected.length !== 0) {
    throw new Error(`ingest of ${events.length} events answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  }
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

/** GET an API path with query parameters; returns status and parsed JSON (or text when not JSON). */
export async function apiGet<T = any>(
  base: string,
  pathname: string,
  params: Record<string, string | number | undefined> = {},
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const url = new URL(pathname, base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: body as T };
}

export interface Hits {
  total: number;
  hits: (Record<string, unknown> & { _id: string; '@timestamp': string })[];
  cursor: string | null;
}
export interface Table {
  columns: string[];
  rows: unknown[][];
}

/** Searches (default range: the last 24 hours up to now); fails unless 200. */
export async function search(base: string, q: string, params: Record<string, string | number | undefined> = {}): Promise<Hits> {
  const r = await apiGet<Hits>(base, '/api/v1/search', { q, from: 'now-24h', to: 'now+1h', limit: 10_000, ...params });
  if (r.status !== 200) throw new Error(`search ${JSON.stringify(q)} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  if (!('hits' in (r.body as object))) throw new Error(`search ${JSON.stringify(q)} gave no hits: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** A piped query; fails unless 200 with a table. */
export async function table(base: string, q: string, params: Record<string, string | number | undefined> = {}): Promise<Table> {
  const r = await apiGet<Table>(base, '/api/v1/search', { q, from: 'now-24h', to: 'now+1h', ...params });
  if (r.status !== 200) throw new Error(`search ${JSON.stringify(q)} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  if (!('columns' in (r.body as object))) throw new Error(`search ${JSON.stringify(q)} gave no table: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** `* | stats count()` over a wide range. */
export async function countAll(base: string, q = '*', params: Record<string, string | number | undefined> = {}): Promise<number> {
  const t = await table(base, `${q} | stats count()`, { from: 'now-3650d', to: 'now+3650d', ...params });
  return Number(t.rows[0][0]);
}

export async function fieldsInfo(
  base: string,
  params: Record<string, string | number | undefined> = {},
): Promise<{ name: string; type: string; conflicts: string[]; storage: string }[]> {
  const r = await apiGet(base, '/api/v1/fields', { from: 'now-24h', to: 'now+1h', ...params });
  if (r.status !== 200) throw new Error(`fields answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body.fields;
}

/**
 * Polls `q | stats count()` until it reaches `n` or `timeoutMs` passes, and answers the last count (for
 * work the server does in the background, such as a pipeline's inputs). The caller asserts the count.
 */
export async function waitForCount(base: string, q: string, n: number, options: { timeoutMs?: number; params?: Record<string, string | number | undefined> } = {}): Promise<number> {
  const until = Date.now() + (options.timeoutMs ?? 20_000);
  let seen = -1;
  while (Date.now() < until) {
    seen = await countAll(base, q, options.params);
    if (seen >= n) return seen;
    await sleep(50);
  }
  return seen;
}

/** A free loopback TCP port: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  port: number;
  dir: string;
  /** What the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code / signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node dist/src/cli/main.js server --data DIR --http 127.0.0.1:PORT --log-level warn`
 * and waits until /api/v1/health answers 200. `token`: the server's API token, when extraArgs give one
 * (the health check must send it).
 */
export async function spawnServer(dir: string, extraArgs: string[] = [], timeoutMs = 30_000, token?: string): Promise<ChildServer> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [CLI_MAIN, 'server', '--data', dir, '--http', `127.0.0.1:${port}`, '--log-level', 'warn', ...extraArgs],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOGMILL_TOKEN: '', ...LISTENERS_OFF_ENV } },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`server child exited before answering /api/v1/health; output:\n${out}`);
    try {
      const res = await fetch(`${url}/api/v1/health`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      if (res.status === 200) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server child did not answer /api/v1/health within ${timeoutMs} ms; output:\n${out}`);
    }
    await sleep(50);
  }
  return { proc, url, port, dir, output: () => out, exited };
}

/** Stops a child server with SIGTERM (graceful) and waits for it. */
export async function stopChild(child: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill(signal);
  return child.exited;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a command to completion, capturing its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60_000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}


/** A field name written for the query language: every character a bare field name cannot hold is escaped with "\". */
export function queryField(name: string): string {
  let out = '';
  for (const ch of name) out += /^[\p{L}\p{N}_.@-]$/u.test(ch) ? ch : '\\' + ch;
  return out;
}

/** A value written as a quoted query phrase. */
export function queryPhrase(value: string): string {
  return '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/**
 * Runs `fn` with a fresh server, then closes it and removes its directory. If `fn` failed, that
 * failure is what the test reports (a failing close is appended to it rather than hiding it).
 */
export async function withServer<T>(flags: Flags, fn: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await startTestServer(flags);
  let failure: unknown = null;
  try {
    return await fn(s);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    try {
      await s.close();
    } catch (closeErr) {
      if (failure === null) throw closeErr;
      if (failure instanceof Error) failure.message += `\n(closing the server failed too: ${(closeErr as Error).message.split('\n')[0]})`;
    } finally {
      removeDir(s.dir);
    }
  }
}
