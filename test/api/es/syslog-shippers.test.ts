/**
 * The Elasticsearch-compatible API fed by two syslog daemons nobody here wrote:
 * rsyslog's omelasticsearch output (Debian package rsyslog-elasticsearch), in
 * bulk and in single-document mode, and syslog-ng's elasticsearch-http()
 * destination (Debian syslog-ng-mod-http + syslog-ng-scl) with its default
 * template, batching on and off.
 *
 * A real server runs as a child (`logmill server --http … --es …`); each daemon
 * runs unprivileged in the foreground with its own config, pid file and state in
 * a temp dir, is fed RFC 5424 messages over TCP by this file, and ships them to
 * the ES port through a pass-through proxy in this file that records each
 * request (method, path, documents per request), which is what tells bulk mode
 * from single mode and batches from single lines. Every message is then read
 * back through the native API (/api/v1/search) and through `_search`.
 *
 * rsyslog comes from Debian packages (npm test installs them: test/fixtures/install-peers.sh);
 * syslog-ng conflicts with rsyslog, so it runs from the private tree that
 * test/fixtures/syslog-ng/setup.sh unpacks into <repo>/.cache/syslog-ng (or
 * $LOGMILL_SYSLOG_NG_ROOT). Without them the tests fail saying how to install:
 * they are never skipped.
 *
 * Below each describe's end-to-end tests, the exact requests the daemons were
 * seen to send are replayed against an in-process ES listener, so that a
 * change in the server that would refuse them fails fast and says which.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { apiGet, freePort, REPO_ROOT, removeDir, sleep, spawnServer, stopChild as stopServer, tempDir, type ChildServer, type Hits } from '../../helpers/server.js';
import { http as esHttp, startEs, type Answer, type EsTestServer } from './helpers.js';
import { waitFor } from '../../helpers/inputs.js';

/**
 * The server runs with an API token, as a deployment reachable by syslog daemons would: they send it
 * as the password of HTTP basic auth (rsyslog's uid/pwd, syslog-ng's user()/password()).
 */
const TOKEN = 'syslog-shippers-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A request to the server's ES port, with the token. */
function esApi<T = any>(esUrl: string, method: string, pathname: string, body?: string | Record<string, unknown>): Promise<Answer<T>> {
  return esHttp<T>(esUrl, method, pathname, body, AUTH);
}

/** The native API's search over the last day, with the token; fails unless 200. */
async function search(base: string, q: string): Promise<Hits> {
  const r = await apiGet<Hits>(base, '/api/v1/search', { q, from: 'now-24h', to: 'now+1h', limit: 10_000 }, AUTH);
  if (r.status !== 200 || !Array.isArray(r.body.hits)) throw new Error(`search ${JSON.stringify(q)} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

// ------------------------------------------------------------------ shared parts

/** One request a shipper sent, as the recording proxy saw it. */
interface Recorded {
  method: string;
  path: string;
  contentType: string;
  /** The Authorization header's scheme (`Basic`), or '' when none was sent. */
  auth: string;
  /** Documents in the request: action lines of a `_bulk`, 1 for a single-document request. */
  docs: number;
  /** The action lines' metadata (`{"index":{…}}` → the inner object), for `_bulk`. */
  actions: Record<string, unknown>[];
  status: number;
}

/**
 * A pass-through HTTP proxy in front of the ES port that records every request. `hold()` makes
 * requests wait until `release()`, so that messages pile up in the shipper's queue while its first
 * request is in flight: what then follows is batched, whatever the machine's speed.
 */
class RecordingProxy {
  readonly requests: Recorded[] = [];
  private server: http.Server | null = null;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        void (async () => {
          if (this.gate) await this.gate;
          const body = Buffer.concat(chunks);
          const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), auth: String(req.headers.authorization ?? '').split(' ')[0], docs: 0, actions: [], status: 0 };
          countDocs(rec, body);
          this.requests.push(rec);
          const headers = { ...req.headers };
          delete headers.host;
          const up = http.request({ host: '127.0.0.1', port: this.target, method: req.method, path: req.url, headers, agent: false }, (answer) => {
            rec.status = answer.statusCode ?? 0;
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          });
          up.on('error', (e) => {
            rec.status = 502;
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`proxy: ${e.message}`);
          });
          up.end(body);
        })();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  hold(): void {
    this.gate = new Promise<void>((r) => (this.open = r));
  }

  release(): void {
    this.open?.();
    this.gate = null;
    this.open = null;
  }

  /** Requests that wrote to `index` (its name in the path or in an action line). */
  to(index: string): Recorded[] {
    return this.requests.filter((r) => r.path.startsWith(`/${index}/`) || r.actions.some((a) => a._index === index));
  }

  async close(): Promise<void> {
    this.release();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

function countDocs(rec: Recorded, body: Buffer): void {
  if (!rec.path.split('?')[0].endsWith('/_bulk')) {
    rec.docs = body.length > 0 ? 1 : 0;
    return;
  }
  for (const line of body.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const keys = Object.keys(v);
    const meta = (v as Record<string, unknown>)[keys[0]];
    if (keys.length === 1 && ['index', 'create'].includes(keys[0]) && meta !== null && typeof meta === 'object') {
      rec.docs++;
      rec.actions.push(meta as Record<string, unknown>);
    }
  }
}

/** A child process with its output kept. */
interface Child {
  proc: ChildProcess;
  output: () => string;
}

/** Children still running; killed should this process end without its after hooks (a test runner's timeout). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});
function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
}

function spawnChild(cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
  track(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  proc.on('error', (e) => (out += `\nspawn error: ${e.message}`));
  return { proc, output: () => out };
}

/** Runs a program to its end; rejects with its output on a non-zero exit. */
async function runChild(cmd: string, args: string[]): Promise<string> {
  const c = spawnChild(cmd, args);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => c.proc.once('close', (n) => resolve(n)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}: ${c.output()}`);
  return c.output();
}

/** True while the daemon runs; once it has exited, throws with what it said (a wait for it would only time out). */
function stillRunning(c: Child, name: string, said: () => string): boolean {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) throw new Error(`${name} exited ${c.proc.exitCode ?? c.proc.signalCode}: ${said()}`);
  return true;
}

/** Whether something accepts TCP connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(() => resolve(true)));
    s.on('error', () => resolve(false));
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child is gone. */
async function stopChild(c: Child | null): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** Sends lines to a TCP port, each framed as the daemon's input expects, and waits until the peer has closed too. */
async function sendTcp(port: number, messages: string[], framing: 'lf' | 'octet-counted'): Promise<void> {
  const body = Buffer.concat(
    messages.map((m) => {
      const b = Buffer.from(m, 'utf8');
      return framing === 'lf' ? Buffer.concat([b, Buffer.from('\n')]) : Buffer.concat([Buffer.from(`${b.length} `), b]);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(body));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

/** What one test sends: RFC 5424 lines and what each should come back as. */
interface Sent {
  host: string;
  program: string;
  pid: string | null;
  message: string;
  /** The message's time (whole milliseconds). */
  at: number;
  line: string;
}

const HOSTS = ['web01', 'db-02.example.org', '10.0.0.7'];
const PROGRAMS = ['app', 'sshd', 'my-prog'];

/**
 * `n` messages tagged with `marker`: varied hosts and programs, some with a PID, texts with
 * quotes, a backslash and non-ASCII characters, times one millisecond apart ending a minute ago.
 */
function messages(marker: string, n: number): Sent[] {
  const base = Date.now() - 60_000 - n;
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) {
    const host = HOSTS[i % HOSTS.length];
    const program = PROGRAMS[i % PROGRAMS.length];
    const pid = i % 2 === 0 ? String(1000 + i) : null;
    const extra = i % 5 === 0 ? ' said "hi" to C:\\temp' : i % 5 === 1 ? ' Grüße, 世界 ✓' : '';
    const message = `${marker} line ${i} of ${n}${extra}`;
    const at = base + i;
    out.push({ host, program, pid, message, at, line: `<14>1 ${new Date(at).toISOString()} ${host} ${program} ${pid ?? '-'} - - ${message}` });
  }
  return out;
}

/** Polls `GET index/_count` on the ES port until it reaches `n`; fails naming what arrived and what the shipper said. */
async function waitForEsCount(esUrl: string, index: string, n: number, said: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let have = -1;
  for (;;) {
    const r = await esApi(esUrl, 'GET', `/${index}/_count`);
    have = r.status === 200 ? Number(r.body.count) : -1;
    if (have >= n) return;
    if (Date.now() > deadline) throw new Error(`${have} of ${n} messages arrived in ${index} within 60 s (last answer ${r.status}: ${r.text.slice(0, 300)}); the shipper said: ${said().slice(-3000)}`);
    await sleep(100);
  }
}

/** The documents of an index through `_search`, all of them (n ≤ 10,000). */
async function esDocs(esUrl: string, index: string, n: number): Promise<Record<string, unknown>[]> {
  const r = await esApi(esUrl, 'POST', `/${index}/_search`, { size: n + 10, track_total_hits: true, query: { match_all: {} } });
  assert.equal(r.status, 200, `_search of ${index}: ${r.text.slice(0, 300)}`);
  assert.equal(r.body.hits.total.value, n, `_search hits.total of ${index}`);
  return (r.body.hits.hits as { _source: Record<string, unknown> }[]).map((h) => h._source);
}

/** Fails unless every sent message is among `docs` exactly once, with its fields as `fieldsOf` maps them. */
function assertAllThere(what: string, sent: Sent[], docs: Record<string, unknown>[], fieldsOf: (s: Sent) => Record<string, unknown>, messageKey: string): void {
  assert.equal(docs.length, sent.length, `${what}: ${docs.length} documents for ${sent.length} messages`);
  const byText = new Map<string, Record<string, unknown>[]>();
  for (const d of docs) {
    const k = String(d[messageKey]);
    byText.set(k, [...(byText.get(k) ?? []), d]);
  }
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const s of sent) {
    const found = byText.get(s.message) ?? [];
    if (found.length !== 1) {
      missing.push(`${JSON.stringify(s.message)} (found ${found.length} times)`);
      continue;
    }
    const want = fieldsOf(s);
    for (const [k, v] of Object.entries(want)) {
      const got = found[0][k];
      const same = k === '@timestamp' ? typeof got === 'string' && Date.parse(got) === v : got === v;
      if (!same) wrong.push(`${JSON.stringify(s.message)}: ${k} is ${JSON.stringify(got)}, expected ${JSON.stringify(v)}`);
    }
  }
  assert.deepEqual(missing, [], `${what}: messages missing or duplicated`);
  assert.deepEqual(wrong, [], `${what}: fields not as sent`);
}

/** The server's child, and the ES port's URL. */
interface Servers {
  server: ChildServer;
  esUrl: string;
  dir: string;
}

async function startServers(): Promise<Servers> {
  const dir = tempDir();
  const esPort = await freePort();
  const server = await spawnServer(dir, ['--es', `127.0.0.1:${esPort}`, '--token', TOKEN], 30_000, TOKEN);
  track(server.proc);
  return { server, esUrl: `http://127.0.0.1:${esPort}`, dir };
}

/** Stops a daemon, then the proxy and the servers it shipped to, and removes their files. */
async function tearDown(daemon: Child | null, proxy: RecordingProxy | null, servers: Servers | null, dir: string): Promise<void> {
  await stopChild(daemon);
  await proxy?.close();
  await stopServers(servers);
  if (dir) removeDir(dir);
}

async function stopServers(s: Servers | null): Promise<void> {
  if (!s) return;
  try {
    await stopServer(s.server);
  } finally {
    removeDir(s.dir);
  }
}

let seq = 0;
const marker = (tag: string): string => `${tag}${process.pid}x${++seq}`;

// ------------------------------------------------------------------ rsyslog

const RSYSLOG_INSTALL = 'run `bash test/fixtures/install-peers.sh` as root (npm test runs it), or `apt-get install -y rsyslog rsyslog-elasticsearch`';

/** rsyslogd, or an error saying how to install it with its omelasticsearch module. */
function rsyslogd(): string {
  const bin = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'rsyslogd'))].find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!bin) throw new Error(`rsyslogd is not installed (Debian package rsyslog): ${RSYSLOG_INSTALL}`);
  const libs = ['/usr/lib', '/usr/lib64', '/lib'].filter((d) => fs.existsSync(d));
  const dirs = libs.flatMap((root) => [path.join(root, 'rsyslog'), ...fs.readdirSync(root).filter((e) => e.includes('-linux-')).map((e) => path.join(root, e, 'rsyslog'))]);
  if (!dirs.some((d) => fs.existsSync(path.join(d, 'omelasticsearch.so')))) {
    throw new Error(`rsyslog's omelasticsearch module is not installed (Debian package rsyslog-elasticsearch; looked in ${dirs.join(', ')}): ${RSYSLOG_INSTALL}`);
  }
  return bin;
}

/** omelasticsearch's module counters from the last line impstats wrote (its JSON format). */
function omesStats(file: string): Record<string, number> | null {
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"origin": "omelasticsearch"'));
  const last = lines.at(-1);
  if (!last) return null;
  return JSON.parse(last.slice(last.indexOf('{'))) as Record<string, number>;
}

/**
 * The `message` of each document in omelasticsearch's error file: one JSON object a failed request,
 * `{"request":{"url":…,"postdata":"<the body>"},"reply":{…}}`.
 */
function errorFileMessages(file: string): Set<string> {
  const out = new Set<string>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let rec: { request?: { postdata?: unknown } };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue; // a line being written
    }
    const body = rec.request?.postdata;
    if (typeof body !== 'string') continue;
    for (const docLine of body.split('\n')) {
      try {
        const doc = JSON.parse(docLine) as Record<string, unknown>;
        if (typeof doc.message === 'string') out.add(doc.message);
      } catch {
        // the blank last line
      }
    }
  }
  return out;
}

describe('rsyslog omelasticsearch', () => {
  describe('to a real server', () => {
    let servers: Servers | null = null;
    let proxy: RecordingProxy | null = null;
    let rsyslog: Child | null = null;
    let dir = '';
    const port = { bulk: 0, single: 0, typed: 0 };
    const files = { bulkErrors: '', singleErrors: '', typedErrors: '', stats: '', internal: '' };
    const said = (): string => `${rsyslog?.output() ?? ''}${files.internal && fs.existsSync(files.internal) ? fs.readFileSync(files.internal, 'utf8') : ''}`;

    before(async () => {
      const bin = rsyslogd();
      servers = await startServers();
      proxy = new RecordingProxy(Number(new URL(servers.esUrl).port));
      await proxy.start();
      dir = tempDir();
      port.bulk = await freePort();
      port.single = await freePort();
      port.typed = await freePort();
      files.bulkErrors = path.join(dir, 'es-errors-bulk.json');
      files.singleErrors = path.join(dir, 'es-errors-single.json');
      files.typedErrors = path.join(dir, 'es-errors-typed.json');
      files.stats = path.join(dir, 'stats.json');
      files.internal = path.join(dir, 'internal.log');
      const es = `server="127.0.0.1" serverport="${proxy.port}" uid="logmill" pwd="${TOKEN}" template="logmill-json" esVersion.major="8"`;
      // without esVersion.major (rsyslog's default, and most configs in the wild): `_type` "events" in
      // bulk mode, and `POST /{index}/events` in single mode
      const esTyped = `server="127.0.0.1" serverport="${proxy.port}" uid="logmill" pwd="${TOKEN}" template="logmill-json"`;
      const conf = [
        // rsyslog's own messages (errors from omelasticsearch among them) go to a file shown on failure
        `global(workDirectory="${dir}" processInternalMessages="on")`,
        `action(type="omfile" file="${files.internal}")`,
        'module(load="imtcp")',
        'module(load="omelasticsearch")',
        // omelasticsearch's counters (submitted, failed.es, …) every second
        `module(load="impstats" interval="1" format="json" log.syslog="off" log.file="${files.stats}")`,
        'template(name="logmill-json" type="list" option.jsonf="on") {',
        '  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
        '  property(outname="host" name="hostname" format="jsonf")',
        '  property(outname="program" name="programname" format="jsonf")',
        '  property(outname="procid" name="procid" format="jsonf")',
        '  property(outname="severity" name="syslogseverity-text" format="jsonf")',
        '  property(outname="message" name="msg" format="jsonf")',
        '}',
        `input(type="imtcp" address="127.0.0.1" port="${port.bulk}" ruleset="bulk")`,
        `input(type="imtcp" address="127.0.0.1" port="${port.single}" ruleset="single")`,
        `input(type="imtcp" address="127.0.0.1" port="${port.typed}" ruleset="typed")`,
        `ruleset(name="bulk") { action(type="omelasticsearch" ${es} searchIndex="rsyslog-bulk" bulkmode="on" errorfile="${files.bulkErrors}") }`,
        `ruleset(name="single") { action(type="omelasticsearch" ${es} searchIndex="rsyslog-single" bulkmode="off" errorfile="${files.singleErrors}") }`,
        `ruleset(name="typed") { action(type="omelasticsearch" ${esTyped} searchIndex="rsyslog-typed" bulkmode="off" errorfile="${files.typedErrors}") }`,
        '',
      ].join('\n');
      const confFile = path.join(dir, 'rsyslog.conf');
      fs.writeFileSync(confFile, conf);
      // -N1 checks the config first, so that a bad one fails with rsyslogd's own words
      await runChild(bin, ['-N1', '-f', confFile]);
      rsyslog = spawnChild(bin, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')]);
      // Ready once its inputs accept connections.
      const daemon = rsyslog;
      for (const p of [port.bulk, port.single, port.typed]) {
        await waitFor(() => `rsyslogd's imtcp did not listen on ${p} within 15 s: ${said()}`, async () => stillRunning(daemon, 'rsyslogd', said) && (await accepts(p)), 15_000, 50);
      }
    });

    after(() => tearDown(rsyslog, proxy, servers, dir));

    const rsyslogFields = (s: Sent): Record<string, unknown> => ({ host: s.host, program: s.program, procid: s.pid ?? '-', severity: 'info', '@timestamp': s.at });

    /** Sends `sent` with the proxy holding requests until rsyslog has read them all, then waits until they are stored. */
    async function ship(which: 'bulk' | 'single' | 'typed', sent: Sent[]): Promise<void> {
      proxy!.hold();
      try {
        await sendTcp(port[which], sent.map((s) => s.line), 'lf');
      } finally {
        proxy!.release();
      }
      await waitForEsCount(servers!.esUrl, `rsyslog-${which}`, sent.length, said);
    }

    it('bulkmode="on": every line arrives through _bulk, batched, with host, program and message', async (t) => {
      const m = marker('rsb');
      const sent = messages(m, 300);
      await ship('bulk', sent);
      // the native API
      const hits = await search(servers!.server.url, `_index:rsyslog-bulk`);
      assertAllThere('native search', sent, hits.hits, rsyslogFields, 'message');
      // `_search`: `_source` as omelasticsearch sent it
      assertAllThere('_search', sent, await esDocs(servers!.esUrl, 'rsyslog-bulk', sent.length), rsyslogFields, 'message');
      const reqs = proxy!.to('rsyslog-bulk');
      assert.deepEqual([...new Set(reqs.map((r) => `${r.auth} ${r.method} ${r.path} ${r.status}`))], ['Basic POST /_bulk 200'], 'every request a POST /_bulk with basic auth, answered 200');
      assert.equal(reqs.reduce((n, r) => n + r.docs, 0), sent.length, 'documents sent, summed over the requests');
      assert.ok(reqs.some((r) => r.docs > 1), `some request carried more than one document (per request: ${reqs.map((r) => r.docs).join(',')})`);
      t.diagnostic(`rsyslog bulk: ${sent.length} messages in ${reqs.length} requests (documents per request: ${reqs.map((r) => r.docs).join(',')})`);
      assert.equal(fs.existsSync(files.bulkErrors), false, `no error file: ${fs.existsSync(files.bulkErrors) ? fs.readFileSync(files.bulkErrors, 'utf8').slice(0, 500) : ''}`);
    });

    it('bulkmode="off": every line arrives through POST index/_doc, one a request', async () => {
      const m = marker('rss');
      const sent = messages(m, 60);
      await ship('single', sent);
      const hits = await search(servers!.server.url, `_index:rsyslog-single`);
      assertAllThere('native search', sent, hits.hits, rsyslogFields, 'message');
      assertAllThere('_search', sent, await esDocs(servers!.esUrl, 'rsyslog-single', sent.length), rsyslogFields, 'message');
      const reqs = proxy!.to('rsyslog-single');
      assert.deepEqual([...new Set(reqs.map((r) => `${r.auth} ${r.method} ${r.path} ${r.status}`))], ['Basic POST /rsyslog-single/_doc 201'], 'every request a POST /rsyslog-single/_doc with basic auth, answered 201');
      assert.equal(reqs.length, sent.length, 'one request a message');
      assert.equal(fs.existsSync(files.singleErrors), false, 'no error file');
    });

    it('rsyslog\'s default (no esVersion.major), single mode: POST index/events is taken as index/_doc', async () => {
      const sent = messages(marker('rst'), 20);
      await ship('typed', sent);
      assertAllThere('_search', sent, await esDocs(servers!.esUrl, 'rsyslog-typed', sent.length), rsyslogFields, 'message');
      const reqs = proxy!.to('rsyslog-typed');
      assert.deepEqual([...new Set(reqs.map((r) => `${r.method} ${r.path} ${r.status}`))], ['POST /rsyslog-typed/events 201'], 'every request a POST /rsyslog-typed/events answered 201');
      assert.equal(fs.existsSync(files.typedErrors), false, `no error file: ${fs.existsSync(files.typedErrors) ? fs.readFileSync(files.typedErrors, 'utf8').slice(0, 500) : ''}`);
    });

    it('a closed index: each refused message is in rsyslog\'s error file and its failed.es count, none stored; after _open, lines arrive again', async () => {
      const es = servers!.esUrl;
      const before = omesStats(files.stats);
      const firstRequest = proxy!.requests.length;
      for (const idx of ['rsyslog-bulk', 'rsyslog-single']) {
        const r = await esApi(es, 'POST', `/${idx}/_close`);
        assert.equal(r.status, 200, `_close ${idx}: ${r.text}`);
      }
      const m = marker('rsc');
      const refused = messages(m, 3);
      await sendTcp(port.bulk, refused.map((s) => s.line), 'lf');
      await sendTcp(port.single, refused.map((s) => s.line), 'lf');
      // omelasticsearch writes each failed request with the server's answer to its error file
      const inFile = (file: string): number => {
        const logged = errorFileMessages(file);
        return refused.filter((s) => logged.has(s.message)).length;
      };
      await waitFor(() => `refused messages in the error files: bulk ${inFile(files.bulkErrors)}, single ${inFile(files.singleErrors)} of ${refused.length}; rsyslog said: ${said()}`, async () => !(inFile(files.bulkErrors) < refused.length || inFile(files.singleErrors) < refused.length), 60_000, 100);
      for (const file of [files.bulkErrors, files.singleErrors]) {
        assert.match(fs.readFileSync(file, 'utf8'), /index_closed_exception/, `${path.basename(file)} holds the server's reason`);
      }
      // failed.es counts requests that Elasticsearch refused (a bulk with refused items once): one for
      // each request sent while the indices were closed. impstats writes every second: wait for it.
      const closedPhase = proxy!.requests.slice(firstRequest);
      assert.equal(closedPhase.filter((r) => r.path === '/rsyslog-single/_doc').length, refused.length, 'one single-mode request a refused message');
      assert.ok(closedPhase.every((r) => r.status === (r.path === '/_bulk' ? 200 : 400)), `answers: ${closedPhase.map((r) => `${r.path} ${r.status}`).join(', ')}`);
      const failedBefore = before?.['failed.es'] ?? 0;
      await waitFor(() => `omelasticsearch's failed.es went from ${failedBefore} to ${omesStats(files.stats)?.['failed.es']}, expected +${closedPhase.length} (one a refused request)`, async () => !((omesStats(files.stats)?.['failed.es'] ?? 0) < failedBefore + closedPhase.length), 30_000, 100);
      assert.equal(omesStats(files.stats)?.['failed.es'], failedBefore + closedPhase.length, 'failed.es: one a refused request');
      for (const idx of ['rsyslog-bulk', 'rsyslog-single']) {
        const r = await esApi(es, 'POST', `/${idx}/_open`);
        assert.equal(r.status, 200, `_open ${idx}: ${r.text}`);
        const c = await esApi(es, 'POST', `/${idx}/_count`, { query: { query_string: { query: `message:"${m} line"` } } });
        assert.equal(c.body.count, 0, `no refused message stored in ${idx}`);
      }
      // the actions are not stuck: new lines arrive
      const after = messages(marker('rsa'), 2);
      await sendTcp(port.bulk, after.map((s) => s.line), 'lf');
      await sendTcp(port.single, after.map((s) => s.line), 'lf');
      for (const idx of ['rsyslog-bulk', 'rsyslog-single']) {
        const deadline2 = Date.now() + 60_000;
        for (;;) {
          const hits = await search(servers!.server.url, `_index:${idx}`);
          if (after.every((s) => hits.hits.some((h) => h.message === s.message))) break;
          if (Date.now() > deadline2) throw new Error(`after _open, the new lines did not arrive in ${idx}; rsyslog said: ${said()}`);
          await sleep(100);
        }
      }
    });

  });

  // needs no daemon: runs (and can pass) without rsyslog or syslog-ng installed
  describe('its requests, replayed', () => {
    let s: EsTestServer;
    before(async () => {
      s = await startEs();
    });
    after(async () => {
      await s.close();
    });

    it('bulk: application/json; charset=utf-8, `{"index":{"_index": …}}` with a space, and a blank last line', async () => {
      // as recorded from omelasticsearch 8.2302 with esVersion.major="8"
      const body =
        '{"index":{"_index": "rs-replay"}}\n{"@timestamp":"2026-12-07T20:50:00.000Z", "host":"web01", "program":"myapp", "severity":"info", "message":"hello one"}\n' +
        '{"index":{"_index": "rs-replay"}}\n{"@timestamp":"2026-12-07T20:50:01.000Z", "host":"web02", "program":"myapp2", "severity":"info", "message":"hello \\"two\\" \u00fc"}\n\n';
      const r = await esHttp(s.url, 'POST', '/_bulk', body, { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.errors, false, r.text);
      assert.deepEqual(r.body.items.map((i: { index: { status: number; _index: string } }) => [i.index._index, i.index.status]), [['rs-replay', 201], ['rs-replay', 201]]);
    });

    it('single: POST index/_doc with a trailing newline, answered 201 with `_id` and `result`', async () => {
      const r = await esHttp(s.url, 'POST', '/rs-replay1/_doc', '{"@timestamp":"2026-12-07T20:51:00.000Z", "host":"web03", "program":"myapp", "severity":"info", "message":"hi"}\n', {
        'content-type': 'application/json; charset=utf-8',
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.result, 'created');
      assert.equal(typeof r.body._id, 'string');
    });

    it('without esVersion.major: `_type` in bulk action lines, and POST/PUT index/{type}[/id] as index/_doc[/id]', async () => {
      const bulk = await esHttp(s.url, 'POST', '/_bulk', '{"index":{"_index": "rs-typed","_type":"events"}}\n{"message":"typed bulk"}\n\n', { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(bulk.status, 200, bulk.text);
      assert.equal(bulk.body.errors, false, bulk.text);
      const single = await esHttp(s.url, 'POST', '/rs-typed/events', '{"message":"typed single"}\n', { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(single.status, 201, single.text);
      assert.equal(single.body._index, 'rs-typed');
      const withId = await esHttp(s.url, 'PUT', '/rs-typed/events/7?refresh=true', { message: 'typed with id' });
      assert.ok([200, 201].includes(withId.status), withId.text);
      assert.equal(withId.body._id, '7');
      const got = await esHttp(s.url, 'GET', '/rs-typed/_doc/7');
      assert.deepEqual(got.body._source, { message: 'typed with id' });
      // endpoints are left alone: an unknown one is still "no handler", not a document
      const unknown = await esHttp(s.url, 'POST', '/_nothing/here', { message: 'x' });
      assert.equal(unknown.status, 400, unknown.text);
      assert.match(unknown.text, /no handler found/);
      const count = await esHttp(s.url, 'GET', '/rs-typed/_count');
      assert.equal(count.body.count, 3);
    });

    it('a closed index: the bulk item and the single request answer index_closed_exception (what omelasticsearch counts as failed.es)', async () => {
      await esHttp(s.url, 'POST', '/rs-closed/_doc', { message: 'x' });
      assert.equal((await esHttp(s.url, 'POST', '/rs-closed/_close')).status, 200);
      const bulk = await esHttp(s.url, 'POST', '/_bulk', '{"index":{"_index": "rs-closed"}}\n{"message":"y"}\n\n', { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(bulk.status, 200, bulk.text);
      assert.equal(bulk.body.errors, true);
      assert.equal(bulk.body.items[0].index.status, 400);
      assert.equal(bulk.body.items[0].index.error.type, 'index_closed_exception');
      const single = await esHttp(s.url, 'POST', '/rs-closed/_doc', '{"message":"z"}\n', { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(single.status, 400, single.text);
      assert.equal(single.body.error.type, 'index_closed_exception');
    });
  });
});

// ------------------------------------------------------------------ syslog-ng

const SNG_ROOT = process.env.LOGMILL_SYSLOG_NG_ROOT ? path.resolve(process.env.LOGMILL_SYSLOG_NG_ROOT) : path.join(REPO_ROOT, '.cache', 'syslog-ng');

/** The unpacked syslog-ng tree with the http module and the SCL, or an error saying how to make it. */
function syslogNgTree(): { bin: string; version: string } {
  const setup = `bash test/fixtures/syslog-ng/setup.sh${process.env.LOGMILL_SYSLOG_NG_ROOT ? ` ${SNG_ROOT}` : ''}`;
  const fail = (what: string): never => {
    throw new Error(`syslog-ng with elasticsearch-http() is not set up in ${SNG_ROOT} (${what}): run \`${setup}\` first (it needs apt-get, and root to install missing libraries such as libcurl4)`);
  };
  const bin = path.join(SNG_ROOT, 'bin', 'syslog-ng');
  if (!fs.existsSync(bin)) fail(`${bin} is missing`);
  const libDir = path.join(SNG_ROOT, 'usr', 'lib', 'syslog-ng');
  const versions = fs.existsSync(libDir) ? fs.readdirSync(libDir).filter((d) => /^\d+\.\d+$/.test(d)).sort() : [];
  const version = versions.at(-1) ?? fail(`no module directory in ${libDir}`);
  if (!fs.existsSync(path.join(libDir, version, 'libhttp.so'))) fail('the http module (syslog-ng-mod-http) is missing');
  if (!fs.existsSync(path.join(SNG_ROOT, 'usr', 'share', 'syslog-ng', 'include', 'scl', 'elasticsearch', 'elastic-http.conf'))) fail('the SCL (syslog-ng-scl) is missing');
  return { bin, version };
}

describe('syslog-ng elasticsearch-http()', () => {
  describe('to a real server', () => {
    let servers: Servers | null = null;
    let proxy: RecordingProxy | null = null;
    let sng: Child | null = null;
    let dir = '';
    const port = { batched: 0, single: 0 };
    const said = (): string => sng?.output() ?? '';

    before(async () => {
      const tree = syslogNgTree();
      servers = await startServers();
      proxy = new RecordingProxy(Number(new URL(servers.esUrl).port));
      await proxy.start();
      dir = tempDir();
      port.batched = await freePort();
      port.single = await freePort();
      const url = `http://127.0.0.1:${proxy.port}/_bulk`;
      // The destinations as a user writes them from syslog-ng's documentation: the default template
      // (the RFC 5424 name-value pairs as JSON, MESSAGE among them), type("") for Elasticsearch 7+.
      // Big source windows and queues, so that a source reads everything sent while the proxy holds
      // requests (flow-control would otherwise stop reading at log-iw-size).
      const conf = `@version: ${tree.version}
@include "scl.conf"
options {
  keep-hostname(yes); chain-hostnames(no); use-dns(no); dns-cache(no); use-fqdn(no);
  stats-freq(0); mark-freq(0); log-fifo-size(100000);
};
source s_batched { syslog(ip("127.0.0.1") port(${port.batched}) transport("tcp") log-iw-size(100000)); };
source s_single { syslog(ip("127.0.0.1") port(${port.single}) transport("tcp") log-iw-size(100000)); };
destination d_batched { elasticsearch-http(url("${url}") index("syslog-ng-batched") type("") user("logmill") password("${TOKEN}") persist-name("es-batched")); };
destination d_single { elasticsearch-http(url("${url}") index("syslog-ng-single") type("") user("logmill") password("${TOKEN}") batch-lines(1) persist-name("es-single")); };
log { source(s_batched); destination(d_batched); flags(flow-control); };
log { source(s_single); destination(d_single); flags(flow-control); };
`;
      const confFile = path.join(dir, 'syslog-ng.conf');
      fs.writeFileSync(confFile, conf);
      const state = [`--pidfile=${path.join(dir, 'syslog-ng.pid')}`, `--persist-file=${path.join(dir, 'syslog-ng.persist')}`, `--control=${path.join(dir, 'syslog-ng.ctl')}`];
      // a bad config fails here with syslog-ng's own words
      await runChild(tree.bin, [...state, '--syntax-only', '-f', confFile]);
      sng = spawnChild(tree.bin, [...state, '-F', '-e', '-f', confFile]);
      const daemon = sng;
      await waitFor(() => `syslog-ng did not start within 15 s: ${said()}`, () => stillRunning(daemon, 'syslog-ng', said) && said().includes('syslog-ng starting up'), 15_000, 50);
    });

    after(() => tearDown(sng, proxy, servers, dir));

    // the default template's keys: `$(format-json --scope rfc5424 …)` plus @timestamp
    const sngFields = (s: Sent): Record<string, unknown> => ({
      HOST: s.host,
      PROGRAM: s.program,
      ...(s.pid !== null ? { PID: s.pid } : {}),
      PRIORITY: 'info',
      FACILITY: 'user',
      // ${ISODATE} has whole seconds unless the config sets frac-digits()
      '@timestamp': Math.floor(s.at / 1000) * 1000,
    });

    async function ship(which: 'batched' | 'single', sent: Sent[]): Promise<void> {
      proxy!.hold();
      try {
        await sendTcp(port[which], sent.map((s) => s.line), 'octet-counted');
      } finally {
        proxy!.release();
      }
      await waitForEsCount(servers!.esUrl, `syslog-ng-${which}`, sent.length, said);
    }

    /** Checks one destination's requests: POST /_bulk, x-ndjson, action lines with `_index` only (type("") sends no `_type`). */
    function checkRequests(index: string, total: number): number[] {
      const reqs = proxy!.to(index);
      assert.deepEqual([...new Set(reqs.map((r) => `${r.auth} ${r.method} ${r.path} ${r.contentType} ${r.status}`))], ['Basic POST /_bulk application/x-ndjson 200'], 'every request a POST /_bulk of x-ndjson with basic auth, answered 200');
      assert.deepEqual([...new Set(reqs.flatMap((r) => r.actions.map((a) => JSON.stringify(a))))], [JSON.stringify({ _index: index })], 'action lines');
      assert.equal(reqs.reduce((n, r) => n + r.docs, 0), total, 'documents sent, summed over the requests');
      return reqs.map((r) => r.docs);
    }

    it('batching on (batch-lines(100), 4 workers): every message arrives, MESSAGE holds the text, HOST and PROGRAM as sent', async (t) => {
      const sent = messages(marker('sngb'), 400);
      await ship('batched', sent);
      const hits = await search(servers!.server.url, `_index:syslog-ng-batched`);
      assertAllThere('native search', sent, hits.hits, sngFields, 'MESSAGE');
      assertAllThere('_search', sent, await esDocs(servers!.esUrl, 'syslog-ng-batched', sent.length), sngFields, 'MESSAGE');
      const perRequest = checkRequests('syslog-ng-batched', sent.length);
      assert.ok(perRequest.some((n) => n > 1), `some request carried more than one document (per request: ${perRequest.join(',')})`);
      assert.ok(perRequest.every((n) => n <= 100), 'no request above batch-lines(100)');
      t.diagnostic(`syslog-ng batched: ${sent.length} messages in ${perRequest.length} requests (documents per request: ${perRequest.join(',')})`);
    });

    it('batching off (batch-lines(1)): every message arrives, one a request', async () => {
      const sent = messages(marker('sngs'), 60);
      await ship('single', sent);
      const hits = await search(servers!.server.url, `_index:syslog-ng-single`);
      assertAllThere('native search', sent, hits.hits, sngFields, 'MESSAGE');
      assertAllThere('_search', sent, await esDocs(servers!.esUrl, 'syslog-ng-single', sent.length), sngFields, 'MESSAGE');
      const perRequest = checkRequests('syslog-ng-single', sent.length);
      assert.ok(perRequest.every((n) => n === 1), `one document a request (per request: ${perRequest.join(',')})`);
    });

    it('MESSAGE is found today by its whole value and by a wildcard, on both APIs', async () => {
      const m = marker('sngq');
      const sent = messages(m, 5);
      await sendTcp(port.single, sent.map((s) => s.line), 'octet-counted');
      const es = servers!.esUrl;
      const base = servers!.server.url;
      await waitFor(() => `the ${sent.length} messages of ${m} did not arrive; syslog-ng said: ${said()}`, async () => !((await search(base, `MESSAGE:*${m}*`)).total < sent.length), 60_000, 100);
      const one = sent[2];
      assert.equal((await search(base, `MESSAGE:"${one.message}"`)).total, 1, 'native: MESSAGE:"whole text"');
      assert.equal((await search(base, `MESSAGE:*${m}*`)).total, sent.length, 'native: MESSAGE:*marker*');
      const count = async (q: string): Promise<number> => {
        const r = await esApi(es, 'GET', `/syslog-ng-*/_count?q=${encodeURIComponent(q)}`);
        assert.equal(r.status, 200, `_count q=${q}: ${r.text}`);
        return Number(r.body.count);
      };
      assert.equal(await count(`MESSAGE:"${one.message}"`), 1, '_count q=MESSAGE:"whole text"');
      assert.equal(await count(`MESSAGE.keyword:"${one.message}"`), 1, '_count q=MESSAGE.keyword:"whole text"');
      assert.equal(await count(`MESSAGE:*${m}*`), sent.length, '_count q=MESSAGE:*marker*');
    });

    // Every string field is searched by word, as Elasticsearch's text fields: syslog-ng's default
    // template sends the text as MESSAGE.
    it('a word of MESSAGE is found by q=word, MESSAGE:word and match', async () => {
      const m = marker('sngw');
      const sent = messages(m, 3);
      await sendTcp(port.single, sent.map((s) => s.line), 'octet-counted');
      const base = servers!.server.url;
      await waitFor(() => `the messages of ${m} did not arrive; syslog-ng said: ${said()}`, async () => !((await search(base, `MESSAGE:*${m}*`)).total < sent.length), 60_000, 100);
      const failures: string[] = [];
      for (const q of [m, `MESSAGE:${m}`]) {
        const n = (await search(base, q)).total;
        if (n !== sent.length) failures.push(`native q=${q}: ${n} of ${sent.length}`);
        const r = await esApi(servers!.esUrl, 'GET', `/syslog-ng-single/_count?q=${encodeURIComponent(q)}`);
        if (r.body.count !== sent.length) failures.push(`_count q=${q}: ${r.body.count} of ${sent.length}`);
      }
      const match = await esApi(servers!.esUrl, 'POST', '/syslog-ng-single/_count', { query: { match: { MESSAGE: m } } });
      if (match.body.count !== sent.length) failures.push(`_count match MESSAGE=${m}: ${match.body.count} of ${sent.length}`);
      assert.deepEqual(failures, []);
    });

  });

  // needs no daemon: runs (and can pass) without rsyslog or syslog-ng installed
  describe('its requests, replayed', () => {
    let s: EsTestServer;
    before(async () => {
      s = await startEs();
    });
    after(async () => {
      await s.close();
    });

    it('a batch: x-ndjson records joined by "\\n", the default template, type("") leaving `_type` out', async () => {
      // as recorded from syslog-ng 3.38 elasticsearch-http() (format-json sorts nothing: key order as it sent it)
      const doc = (host: string, msg: string, t: string): string =>
        `{"index":{"_index":"sng-replay"}}\n{"PROGRAM":"myapp","PRIORITY":"info","PID":"42","MESSAGE":${JSON.stringify(msg)},"ISODATE":"${t}","HOST":"${host}","FACILITY":"user","@timestamp":"${t}"}`;
      const body = [doc('web01', 'hello one', '2026-12-07T20:50:00+00:00'), doc('web02', 'hello "two" \u00fc', '2026-12-07T20:50:01+00:00')].join('\n') + '\n';
      const r = await esHttp(s.url, 'POST', '/_bulk', body, { 'content-type': 'application/x-ndjson', 'user-agent': 'syslog-ng 3.38.1/libcurl 7.88.1' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.errors, false, r.text);
      assert.equal(r.body.items.length, 2);
      const got = await esHttp(s.url, 'POST', '/sng-replay/_search', { query: { match_all: {} }, sort: [{ '@timestamp': 'asc' }] });
      assert.deepEqual(got.body.hits.hits[0]._source, {
        PROGRAM: 'myapp', PRIORITY: 'info', PID: '42', MESSAGE: 'hello one', ISODATE: '2026-12-07T20:50:00+00:00', HOST: 'web01', FACILITY: 'user', '@timestamp': '2026-12-07T20:50:00+00:00',
      });
    });

    it('type("_doc") (older configs) sends `_type`, which is accepted', async () => {
      const r = await esHttp(s.url, 'POST', '/_bulk', '{"index":{"_index":"sng-typed","_type":"_doc"}}\n{"MESSAGE":"typed","HOST":"h"}\n', { 'content-type': 'application/x-ndjson' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.errors, false, r.text);
    });
  });
});
