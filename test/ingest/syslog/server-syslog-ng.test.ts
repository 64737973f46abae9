/**
 * The syslog TCP input fed by syslog-ng, a client nobody here wrote: syslog-ng
 * forwarding with its syslog() destination (RFC 5424, octet-counted) and its
 * network() destination (RFC 3164, LF-framed), both with flow-control, and
 * its load generator loggen sending RFC 3164-like lines (`--inet --stream`)
 * and RFC 5424 octet-counted messages with a BOM (`-P`) straight to the
 * input. Every check reads the events back from the store.
 *
 * syslog-ng and loggen come from the Debian package syslog-ng-core, which
 * conflicts with rsyslog (used by server-rsyslog.test.ts), so they run from a
 * private tree that test/fixtures/syslog-ng/setup.sh unpacks into
 * <repo>/.cache/syslog-ng (or $LOGMILL_SYSLOG_NG_ROOT). Without that tree
 * the tests fail, saying how to make it: they are never skipped.
 *
 * Each test has its own store and syslog input on a free loopback port, and
 * its own temp dir holding syslog-ng's config, pid file, persist file and
 * control socket. syslog-ng is fed through a syslog() source (octet-counted
 * RFC 5424 over TCP) by this file. The children run with TZ=UTC, so that
 * loggen's offset-less RFC 3164 dates are UTC, the input's default zone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSyslogInputs } from '../../../src/ingest/syslog/server.js';
import type { Hit } from '../../../src/store/store.js';
import { freePort } from '../../helpers/server.js';
import { sharedData } from '../../helpers/shared-data.js';
import { find, inputNamed, openHarness, portOf, sleep, stopChild, tempDir, waitFor, waitForHits, type Harness } from '../../fixtures/syslog/harness.js';

/** The repository root (this file is compiled to dist/test/ingest/syslog/). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const ROOT = process.env.LOGMILL_SYSLOG_NG_ROOT ? path.resolve(process.env.LOGMILL_SYSLOG_NG_ROOT) : path.join(REPO_ROOT, '.cache', 'syslog-ng');
const SETUP = 'bash test/fixtures/syslog-ng/setup.sh';
const CHILD_ENV = { ...process.env, TZ: 'UTC' };

interface Tree {
  syslogNg: string;
  loggen: string;
  /** The config version to declare (`@version:`): the name of the module directory, e.g. 3.38. */
  version: string;
}

/** The unpacked syslog-ng tree, or an error saying how to make it. */
function tree(): Tree {
  const fail = (what: string): never => {
    const cmd = process.env.LOGMILL_SYSLOG_NG_ROOT ? `${SETUP} ${ROOT}` : SETUP;
    throw new Error(`syslog-ng is not set up in ${ROOT} (${what}): run \`${cmd}\` first (it needs apt-get, and root to install missing libraries)`);
  };
  const syslogNg = path.join(ROOT, 'bin', 'syslog-ng');
  const loggen = path.join(ROOT, 'bin', 'loggen');
  for (const p of [syslogNg, loggen]) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
    } catch {
      fail(`${p} is missing`);
    }
  }
  const libDir = path.join(ROOT, 'usr', 'lib', 'syslog-ng');
  const versions = fs.existsSync(libDir) ? fs.readdirSync(libDir).filter((d) => /^\d+\.\d+$/.test(d)) : [];
  if (versions.length === 0) fail(`no module directory in ${libDir}`);
  return { syslogNg, loggen, version: versions.sort().at(-1) as string };
}

/** A child process with its output kept. */
interface Child {
  proc: ChildProcess;
  output: () => string;
}

function spawnChild(cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: CHILD_ENV });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  proc.on('error', (e) => (out += `\nspawn error: ${e.message}`));
  return { proc, output: () => out };
}

/** Runs a program to its end (killed after timeoutMs); rejects with its output on a non-zero exit. */
async function runChild(cmd: string, args: string[], children: Child[], timeoutMs = 30_000): Promise<string> {
  const c = spawnChild(cmd, args);
  children.push(c);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => c.proc.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}${c.proc.signalCode ? ` (${c.proc.signalCode})` : ''}: ${c.output()}`);
  return c.output();
}


/** One test's world: a store, the syslog TCP input, a temp dir, and the children to stop at the end. */
interface World {
  h: Harness;
  tcpPort: number;
  dir: string;
  children: Child[];
  tree: Tree;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const t = tree();
  const h = await openHarness();
  const dir = tempDir('logmill-syslog-ng-');
  const children: Child[] = [];
  let inputs: Awaited<ReturnType<typeof startSyslogInputs>> = [];
  try {
    inputs = await startSyslogInputs({ tcp: '127.0.0.1:0' }, h.ctx);
    await fn({ h, tcpPort: portOf(inputNamed(inputs, 'syslog_tcp')), dir, children, tree: t });
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', { input: 'syslog_tcp' }), 0, 'no parse failures');
  } finally {
    // syslog-ng is stopped on failure too (SIGTERM, then SIGKILL after 5 s)
    await Promise.all(children.map((c) => stopChild(c.proc)));
    await Promise.all(inputs.map((i) => i.close()));
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts syslog-ng in the foreground with `body` as its config (after `@version:`), all its state
 * in w.dir; resolves once it has started (its sources are listening then).
 */
async function startSyslogNg(w: World, body: string): Promise<Child> {
  const conf = path.join(w.dir, 'syslog-ng.conf');
  fs.writeFileSync(conf, `@version: ${w.tree.version}\n${body}`);
  const state = [`--pidfile=${path.join(w.dir, 'syslog-ng.pid')}`, `--persist-file=${path.join(w.dir, 'syslog-ng.persist')}`, `--control=${path.join(w.dir, 'syslog-ng.ctl')}`];
  // a bad config fails here with syslog-ng's own words
  await runChild(w.tree.syslogNg, [...state, '--syntax-only', '-f', conf], w.children);
  const c = spawnChild(w.tree.syslogNg, [...state, '-F', '-e', '-f', conf]);
  w.children.push(c);
  await waitFor('syslog-ng to start', () => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) throw new Error(`syslog-ng exited ${c.proc.exitCode ?? c.proc.signalCode}: ${c.output()}`);
    return c.output().includes('syslog-ng starting up');
  }, 15_000).catch((e: Error) => {
    throw new Error(`${e.message}; its output: ${c.output()}`);
  });
  return c;
}

/** Sends messages to a TCP port, octet-counted (RFC 6587), and waits until the peer has closed too. */
async function sendOctetCounted(port: number, messages: string[]): Promise<void> {
  const body = Buffer.concat(
    messages.map((m) => {
      const b = Buffer.from(m, 'utf8');
      return Buffer.concat([Buffer.from(`${b.length} `), b]);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(body));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

const options = `options {
  keep-hostname(yes); chain-hostnames(no); use-dns(no); dns-cache(no); use-fqdn(no);
  stats-freq(0); mark-freq(0); log-fifo-size(100000);
};
`;

let seq = 0;
const marker = (): string => `sng${process.pid}x${++seq}`;

/** What the forwarding tests send into syslog-ng, and when (2 minutes ago, whole seconds). */
function forwardedMessages(m: string): { base: number; sd: string; utf8: string; plain: string; text: { sd: string; utf8: string; plain: string } } {
  const base = Math.floor(Date.now() / 1000) * 1000 - 120_000;
  const at = (ms: number, offsetHours: number): string => {
    const sign = offsetHours < 0 ? '-' : '+';
    const wall = new Date(ms + offsetHours * 3600_000).toISOString().slice(0, 19);
    return `${wall}.123456${sign}${String(Math.abs(offsetHours)).padStart(2, '0')}:00`;
  };
  const text = { sd: `${m} with structured data`, utf8: `${m} Grüße, 世界 ✓ 😀`, plain: `${m} plain` };
  return {
    base,
    text,
    // local4.notice, at base + 0.123456 s written in +02:00, structured data with escapes, BOM before MSG
    sd:
      `<165>1 ${at(base, 2)} web01.example.com sngapp 4711 ID47 ` +
      `[exampleSDID@32473 iut="3" eventSource="Application"][origin ip="192.0.2.1"][esc@32473 q="a \\"b\\" \\] c\\\\d"] ` +
      `\ufeff${text.sd}`,
    // auth.crit, 1 s later in -05:00, no PROCID/MSGID/SD, non-ASCII (2-, 3- and 4-byte UTF-8)
    utf8: `<34>1 ${at(base + 1000, -5)} db02.example.org sngapp2 - - - ${text.utf8}`,
    // user.info, 2 s later in UTC
    plain: `<14>1 ${at(base + 2000, 0)} host3 sngapp3 33 - - ${text.plain}`,
  };
}

/** Hits by message text; fails unless each text is there exactly once. */
function byText(hits: Hit[], texts: string[]): Hit[] {
  return texts.map((t) => {
    const found = hits.filter((x) => x.message === t);
    assert.equal(found.length, 1, `one event with message ${JSON.stringify(t)} among ${JSON.stringify(hits.map((x) => x.message))}`);
    return found[0] as Hit;
  });
}

/** Fields every forwarded event has, whatever the destination's format. */
function checkCommon(sd: Hit, utf8: Hit, plain: Hit): void {
  for (const hit of [sd, utf8, plain]) {
    assert.equal(hit.tags, undefined, `no parse failure: ${JSON.stringify(hit)}`);
    assert.equal(hit['log.source.address'], '127.0.0.1');
  }
  assert.equal(sd.host, 'web01.example.com');
  assert.equal(sd['syslog.appname'], 'sngapp');
  assert.equal(sd['syslog.procid'], '4711');
  assert.equal(sd['syslog.facility'], 20);
  assert.equal(sd['syslog.facility_name'], 'local4');
  assert.equal(sd['syslog.severity'], 5);
  assert.equal(sd['syslog.severity_name'], 'notice');
  assert.equal(sd.level, 'notice');
  assert.equal(utf8.host, 'db02.example.org');
  assert.equal(utf8['syslog.appname'], 'sngapp2');
  assert.equal(utf8['syslog.procid'], undefined);
  assert.equal(utf8['syslog.facility'], 4);
  assert.equal(utf8['syslog.facility_name'], 'auth');
  assert.equal(utf8['syslog.severity'], 2);
  assert.equal(utf8['syslog.severity_name'], 'crit');
  assert.equal(plain.host, 'host3');
  assert.equal(plain['syslog.appname'], 'sngapp3');
  assert.equal(plain['syslog.procid'], '33');
  assert.equal(plain['syslog.facility'], 1);
  assert.equal(plain['syslog.facility_name'], 'user');
  assert.equal(plain['syslog.severity'], 6);
  assert.equal(plain['syslog.severity_name'], 'info');
}

/** loggen's message text: `seq: N, thread: T, runid: R, stamp: ISO PADD...` (after the header). */
const LOGGEN_TEXT = /^seq: (\d{10}), thread: (\d{4}), runid: (\d+) *, stamp: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (?:PADD)*P?A?D?D?$/;

/**
 * Checks every stored loggen event (fields, and its time against the `stamp:` in its text) and
 * that the (thread, seq) pairs are exactly 0..perConnection-1 for each connection.
 */
function checkLoggenEvents(hits: Hit[], connections: number, perConnection: number, extra: (hit: Hit) => void): void {
  const seen = new Set<string>();
  const runids = new Set<string>();
  for (const hit of hits) {
    const msg = String(hit.message);
    const match = LOGGEN_TEXT.exec(msg);
    assert.ok(match, `loggen message text as sent, without BOM or trailer: ${JSON.stringify(msg)} (${JSON.stringify(hit)})`);
    const [, seqNo, thread, runid, stamp] = match;
    seen.add(`${Number(thread)}:${Number(seqNo)}`);
    runids.add(runid as string);
    assert.equal(hit.tags, undefined, `no parse failure: ${JSON.stringify(hit)}`);
    assert.equal(hit.host, 'localhost');
    assert.equal(hit['syslog.appname'], 'prg00000');
    assert.equal(hit['syslog.procid'], '1234');
    assert.equal(hit['syslog.facility'], 4);
    assert.equal(hit['syslog.facility_name'], 'auth');
    assert.equal(hit['syslog.severity'], 6);
    assert.equal(hit['syslog.severity_name'], 'info');
    assert.equal(hit.level, 'info');
    assert.equal(hit['syslog.msgid'], undefined);
    assert.equal(hit['log.source.address'], '127.0.0.1');
    // loggen writes the same local (here UTC) time into the header and after `stamp:`
    assert.equal(hit['@timestamp'], new Date(`${stamp as string}Z`).toISOString());
    extra(hit);
  }
  assert.equal(runids.size, 1, `one loggen run: ${[...runids].join(', ')}`);
  assert.equal(seen.size, connections * perConnection, 'every (thread, seq) pair once');
  for (let t = 0; t < connections; t++) {
    for (let s = 0; s < perConnection; s++) if (!seen.has(`${t}:${s}`)) assert.fail(`loggen thread ${t} seq ${s} is missing`);
  }
}

/** Waits until the store holds exactly n events (and no more arrive shortly after); returns them all. */
async function exactlyStored(h: Harness, n: number): Promise<Hit[]> {
  await waitFor(`${n} events stored`, async () => (await find(h.store, '*', 1)).total >= n, 30_000).catch(async (e: Error) => {
    throw new Error(`${e.message}; found ${(await find(h.store, '*', 1)).total}`);
  });
  await sleep(300);
  const all = await find(h.store, '*', n + 10);
  assert.equal(all.total, n, `exactly ${n} events stored (no loss, no duplicate)`);
  assert.equal(h.metrics.get('logmill_events_ingested_total', { input: 'syslog_tcp' }), n);
  return all.hits;
}

/**
 * The batch of messages `<marker> n=<i>` (i from 0), forwarded through syslog-ng: every one stored once
 * (lossless), with its fields; `more` checks what the destination's format keeps of each.
 */
async function checkBatch(w: World, marker: string, size: number, more: (hit: Hit, n: number) => void): Promise<void> {
  const got = (await find(w.h.store, marker, size + 1000)).hits;
  const ns = new Set<number>();
  for (const hit of got) {
    const n = Number(/ n=(\d+)$/.exec(String(hit.message))?.[1]);
    assert.equal(hit.message, `${marker} n=${n}`);
    assert.equal(hit.host, 'batchhost');
    assert.equal(hit['syslog.appname'], 'batchapp');
    assert.equal(hit['syslog.severity_name'], 'notice');
    assert.equal(hit['syslog.facility_name'], 'user');
    more(hit, n);
    ns.add(n);
  }
  assert.equal(got.length, size);
  assert.equal(ns.size, size);
}

describe('syslog TCP input fed by syslog-ng and loggen', () => {
  it('syslog-ng forwards with its syslog() destination (RFC 5424, octet-counted, flow-control)', { timeout: 60_000 }, async () => {
    await withWorld(async (w) => {
      const inPort = await freePort();
      await startSyslogNg(
        w,
        options +
          `source s_in { syslog(ip("127.0.0.1") port(${inPort}) transport("tcp") max-connections(10)); };\n` +
          `destination d_logmill { syslog("127.0.0.1" port(${w.tcpPort}) transport("tcp") frac-digits(6)); };\n` +
          `log { source(s_in); destination(d_logmill); flags(flow-control); };\n`,
      );
      const m = marker();
      const mb = marker();
      const f = forwardedMessages(m);
      const batch = Array.from({ length: 2000 }, (_, i) => `<13>1 - batchhost batchapp - B${i} - ${mb} n=${i}`);
      await sendOctetCounted(inPort, [f.sd, f.utf8, f.plain, ...batch]);

      const [sd, utf8, plain] = byText(await waitForHits(w.h.store, m, 3), [f.text.sd, f.text.utf8, f.text.plain]) as [Hit, Hit, Hit];
      checkCommon(sd, utf8, plain);
      for (const hit of [sd, utf8, plain]) assert.equal(hit['syslog.version'], 1);
      // the time, to the microsecond (frac-digits(6)), whatever zone it was written in
      assert.equal(sd['@timestamp'], new Date(f.base).toISOString().replace('.000Z', '.123456Z'));
      assert.equal(utf8['@timestamp'], new Date(f.base + 1000).toISOString().replace('.000Z', '.123456Z'));
      assert.equal(plain['@timestamp'], new Date(f.base + 2000).toISOString().replace('.000Z', '.123456Z'));
      // MSGID and structured data (escapes included) pass through; the BOM is not part of the message
      assert.equal(sd['syslog.msgid'], 'ID47');
      assert.equal(sd['syslog.sd.exampleSDID@32473.iut'], '3');
      assert.equal(sd['syslog.sd.exampleSDID@32473.eventSource'], 'Application');
      assert.equal(sd['syslog.sd.origin.ip'], '192.0.2.1');
      assert.equal(sd['syslog.sd.esc@32473.q'], 'a "b" ] c\\d');
      assert.equal(utf8['syslog.msgid'], undefined);
      assert.equal(plain['syslog.msgid'], undefined);
      assert.equal(Object.keys(utf8).filter((k) => k.startsWith('syslog.sd.')).length, 0);

      // lossless: all 2,000 of the batch, once each, in fields too
      await checkBatch(w, mb, batch.length, (hit, n) => assert.equal(hit['syslog.msgid'], `B${n}`));
    });
  });

  it('syslog-ng forwards with its network() destination (RFC 3164, LF-framed, flow-control)', { timeout: 60_000 }, async () => {
    await withWorld(async (w) => {
      const inPort = await freePort();
      await startSyslogNg(
        w,
        options +
          `source s_in { syslog(ip("127.0.0.1") port(${inPort}) transport("tcp") max-connections(10)); };\n` +
          // RFC 3164 dates carry no zone: have syslog-ng write them in UTC, the input's default zone
          `destination d_logmill { network("127.0.0.1" port(${w.tcpPort}) transport("tcp") time-zone("UTC")); };\n` +
          `log { source(s_in); destination(d_logmill); flags(flow-control); };\n`,
      );
      const m = marker();
      const mb = marker();
      const f = forwardedMessages(m);
      const batch = Array.from({ length: 2000 }, (_, i) => `<13>1 - batchhost batchapp ${i} - - ${mb} n=${i}`);
      await sendOctetCounted(inPort, [f.sd, f.utf8, f.plain, ...batch]);

      const [sd, utf8, plain] = byText(await waitForHits(w.h.store, m, 3), [f.text.sd, f.text.utf8, f.text.plain]) as [Hit, Hit, Hit];
      checkCommon(sd, utf8, plain);
      // RFC 3164: no version, MSGID or structured data; the time to the second
      for (const hit of [sd, utf8, plain]) {
        assert.equal(hit['syslog.version'], undefined);
        assert.equal(hit['syslog.msgid'], undefined);
        assert.equal(Object.keys(hit).filter((k) => k.startsWith('syslog.sd.')).length, 0);
      }
      assert.equal(sd['@timestamp'], new Date(f.base).toISOString());
      assert.equal(utf8['@timestamp'], new Date(f.base + 1000).toISOString());
      assert.equal(plain['@timestamp'], new Date(f.base + 2000).toISOString());

      await checkBatch(w, mb, batch.length, (hit, n) => assert.equal(hit['syslog.procid'], String(n)));
    });
  });

  it('syslog-ng forwards auth.log lines with syslog() and network(): host, program and pid on every line, times from the lines', { timeout: 60_000 }, async () => {
    await withWorld(async (w) => {
      const inPort = await freePort();
      await startSyslogNg(
        w,
        `${options}
source s_in { network(ip(127.0.0.1) port(${inPort}) transport(tcp)); };
destination d_5424 { syslog("127.0.0.1" port(${w.tcpPort}) transport(tcp) persist-name("d5424")); };
destination d_3164 { network("127.0.0.1" port(${w.tcpPort}) transport(tcp) persist-name("d3164")); };
log { source(s_in); destination(d_5424); destination(d_3164); flags(flow-control); };
`,
      );
      const auth = fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n').filter((l) => l !== '').slice(0, 300);
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(inPort, '127.0.0.1', () => sock.end(auth.map((l) => `<38>${l}\n`).join('')));
        sock.on('error', reject);
        sock.on('close', () => resolve());
        sock.resume();
      });
      const hits = await waitForHits(w.h.store, 'host:"ip-10-77-20-248"', 2 * auth.length);
      assert.equal(hits.length, 2 * auth.length);
      // Each line's program and pid, as the line has them
      const tag = /^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ([^\s\[:]+)(?:\[(\d+)\])?:/;
      const expected = new Map<string, number>();
      for (const l of auth) {
        const m = tag.exec(l);
        assert.ok(m, l);
        const key = `${m[1]}|${m[2] ?? ''}|${l.slice(4, 15)}`;
        expected.set(key, (expected.get(key) ?? 0) + 2);
      }
      const got = new Map<string, number>();
      for (const h of hits) {
        // "Mar 27 13:06:56" from the stored time, as the line wrote it (UTC)
        const d = new Date(String(h['@timestamp']));
        const when = `${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
        assert.equal(d.getUTCMonth(), 2, `March: ${String(h['@timestamp'])}`);
        const key = `${String(h['syslog.appname'])}|${String(h['syslog.procid'] ?? '')}|${when}`;
        got.set(key, (got.get(key) ?? 0) + 1);
      }
      assert.deepEqual([...got.entries()].sort(), [...expected.entries()].sort());
    });
  });

  it('loggen --inet --stream: 20,000 LF-framed messages of 200 bytes over 2 connections, all stored once', { timeout: 60_000 }, async () => {
    await withWorld(async (w) => {
      const connections = 2;
      const perConnection = 10_000; // loggen's --number counts per connection
      // --permanent: else loggen stops after ten seconds, whatever --number says.
      await runChild(w.tree.loggen, [
        '--inet', '--stream', '--size', '200', '--rate', '1000000', '--permanent', '--number', String(perConnection),
        '--active-connections', String(connections), '127.0.0.1', String(w.tcpPort),
      ], w.children);
      const hits = await exactlyStored(w.h, connections * perConnection);
      checkLoggenEvents(hits, connections, perConnection, (hit) => {
        assert.equal(hit['syslog.version'], undefined);
        // 200 bytes per line: the header `<38>YYYY-MM-DDThh:mm:ss localhost prg00000[1234]: ` is 50, LF 1
        assert.equal(Buffer.byteLength(String(hit.message)), 200 - 50 - 1);
      });
    });
  });

  it('loggen -P: RFC 5424 octet-counted with a BOM and structured data, all stored once, BOM not in the message', { timeout: 60_000 }, async () => {
    await withWorld(async (w) => {
      const connections = 2;
      const perConnection = 2500;
      const sdata = '[test@32473 name="value" n="1"]';
      await runChild(w.tree.loggen, [
        '--inet', '--stream', '-P', '--sdata', sdata, '--size', '300', '--rate', '1000000', '--permanent',
        '--number', String(perConnection), '--active-connections', String(connections), '127.0.0.1', String(w.tcpPort),
      ], w.children);
      const hits = await exactlyStored(w.h, connections * perConnection);
      checkLoggenEvents(hits, connections, perConnection, (hit) => {
        const msg = String(hit.message);
        assert.ok(!msg.includes('\ufeff') && !msg.includes('\n'), `no BOM or LF in ${JSON.stringify(msg)}`);
        // 300 bytes per frame: the header up to the BOM, the BOM (3), MSG and a closing LF (1)
        const header = Buffer.byteLength(`<38>1 2026-01-01T00:00:00+00:00 localhost prg00000 1234 - ${sdata} `);
        assert.equal(Buffer.byteLength(msg), 300 - header - 3 - 1);
        assert.equal(hit['syslog.version'], 1);
        assert.equal(hit['syslog.sd.test@32473.name'], 'value');
        assert.equal(hit['syslog.sd.test@32473.n'], '1');
      });
    });
  });
});
