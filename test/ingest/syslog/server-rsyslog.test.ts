/**
 * The syslog inputs fed by a real rsyslogd forwarding over TCP and over TLS
 * (gtls, anonymous auth), with the RFC 5424 template
 * (RSYSLOG_SyslogProtocol23Format, octet-counted) and the default
 * traditional RFC 3164 one (LF-framed).
 *
 * rsyslogd runs as a child in the foreground with its own config in a temp
 * dir (no imuxsock, no system config). Four imudp inputs on loopback, each
 * with its own ruleset and one omfwd action, are the four paths; `logger`
 * sends to them. Needs the Debian packages rsyslog and rsyslog-gnutls: the
 * suite is skipped without them, except under CI (CI=true), where that fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Input } from '../../../src/ingest/input.js';
import { startSyslogInputs } from '../../../src/ingest/syslog/server.js';
import type { Hit } from '../../../src/store/store.js';
import {
  find,
  inputNamed,
  isNearNow,
  openHarness,
  portOf,
  run,
  selfSignedCert,
  sleep,
  stopChild,
  tempDir,
  waitFor,
  waitForHits,
  which,
  type Harness,
} from '../../fixtures/syslog/harness.js';

const RSYSLOGD = which('rsyslogd');
const LOGGER = which('logger');

/** rsyslog's gtls network stream driver (Debian package rsyslog-gnutls). */
function hasGtlsDriver(): boolean {
  const roots = ['/usr/lib', '/usr/lib64', '/lib'];
  for (const root of roots) {
    if (!fs.existsSync(root)) continue;
    const dirs = [path.join(root, 'rsyslog')];
    for (const e of fs.readdirSync(root)) if (e.includes('-linux-')) dirs.push(path.join(root, e, 'rsyslog'));
    if (dirs.some((d) => fs.existsSync(path.join(d, 'lmnsd_gtls.so')))) return true;
  }
  return false;
}

const missing = RSYSLOGD === null ? 'rsyslogd (Debian package rsyslog)' : !hasGtlsDriver() ? 'rsyslog gtls driver (Debian package rsyslog-gnutls)' : LOGGER === null ? 'logger' : null;
if (missing !== null && process.env.CI === 'true') {
  throw new Error(`${missing} is not installed: npm test installs it first (test/fixtures/install-peers.sh), or apt-get install -y rsyslog rsyslog-gnutls`);
}

type PathName = 'tcp5424' | 'tcp3164' | 'tls5424' | 'tls3164';
const PATHS: PathName[] = ['tcp5424', 'tcp3164', 'tls5424', 'tls3164'];

/** Free loopback UDP ports (bound and released; rsyslogd binds them right after). */
async function freeUdpPorts(n: number): Promise<number[]> {
  const socks: dgram.Socket[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s);
    ports.push(s.address().port);
  }
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function sendUdp(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.send(Buffer.from(text), port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

describe('syslog inputs fed by rsyslogd', { skip: missing !== null ? `${missing} is not installed` : false }, () => {
  let h: Harness;
  let inputs: Input[] = [];
  let dir = '';
  let rsyslogd: ChildProcess | null = null;
  let rsyslogOutput = '';
  const udpPort = {} as Record<PathName, number>;
  let seq = 0;
  const marker = (): string => `rsl${process.pid}x${++seq}`;

  before(async () => {
    h = await openHarness();
    dir = tempDir('logmill-rsyslog-');
    const cert = selfSignedCert(dir);
    inputs = await startSyslogInputs(
      { tcp: '127.0.0.1:0', tls: { listen: '127.0.0.1:0', cert: cert.cert, key: cert.key } },
      h.ctx,
    );
    const tcpPort = portOf(inputNamed(inputs, 'syslog_tcp'));
    const tlsPort = portOf(inputNamed(inputs, 'syslog_tls'));
    const ports = await freeUdpPorts(PATHS.length);
    PATHS.forEach((p, i) => (udpPort[p] = ports[i] as number));

    const tlsAction = `StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="anon"`;
    const rfc5424 = `Template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted"`;
    const action: Record<PathName, string> = {
      tcp5424: `Port="${tcpPort}" Protocol="tcp" ${rfc5424}`,
      tcp3164: `Port="${tcpPort}" Protocol="tcp"`,
      tls5424: `Port="${tlsPort}" Protocol="tcp" ${rfc5424} ${tlsAction}`,
      tls3164: `Port="${tlsPort}" Protocol="tcp" ${tlsAction}`,
    };
    const conf = [
      `global(workDirectory="${dir}" DefaultNetstreamDriverCAFile="${cert.cert}")`,
      'module(load="imudp")',
      ...PATHS.map((p) => `input(type="imudp" address="127.0.0.1" port="${udpPort[p]}" ruleset="${p}")`),
      ...PATHS.map((p) => `ruleset(name="${p}") { action(type="omfwd" Target="127.0.0.1" ${action[p]}) }`),
      '',
    ].join('\n');
    const confFile = path.join(dir, 'rsyslog.conf');
    fs.writeFileSync(confFile, conf);
    // -N1 checks the config first, so that a bad one fails with rsyslogd's own words
    await run(RSYSLOGD as string, ['-N1', '-f', confFile]);
    const child = spawn(RSYSLOGD as string, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rsyslogd = child;
    child.stdout?.on('data', (d: Buffer) => (rsyslogOutput += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (rsyslogOutput += d.toString()));

    // Ready when a probe sent to each path has been stored (UDP sent before rsyslogd binds is lost: resend).
    const deadline = Date.now() + 30_000;
    for (const p of PATHS) {
      const probe = `probe${p}x${process.pid}`;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited ${child.exitCode}: ${rsyslogOutput}`);
        await sendUdp(udpPort[p], `<14>1 - probehost probe - - - ${probe}`);
        const end = Date.now() + 1000;
        let found = false;
        while (!found && Date.now() < end) {
          found = (await find(h.store, probe, 1)).total > 0;
          if (!found) await sleep(50);
        }
        if (found) break;
        if (Date.now() > deadline) throw new Error(`rsyslogd did not forward on path ${p} within 30 s; its output: ${rsyslogOutput}`);
      }
    }
  });

  after(async () => {
    await stopChild(rsyslogd);
    await Promise.all(inputs.map((i) => i.close()));
    if (h) await h.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const tlsEvents = (): number => h.metrics.get('logmill_events_ingested_total', { input: 'syslog_tls' });
  const myHost = os.hostname().split('.')[0];
  const logger = (args: string[]): Promise<string> => run(LOGGER as string, args);

  /** Sends one RFC 5424 and one RFC 3164 message through a path and returns them as stored. */
  async function through(p: PathName): Promise<{ m: string; from5424: Hit; from3164: Hit }> {
    const m = marker();
    const port = String(udpPort[p]);
    await logger([
      '--rfc5424', '-d', '-n', '127.0.0.1', '-P', port, '-t', 'rsapp', '--id=4711', '-p', 'local5.warning',
      '--msgid', 'RS1', '--sd-id', 'fwd@32473', '--sd-param', 'path="' + p + '"', `five ${m} ${p}`,
    ]);
    await logger(['--rfc3164', '-d', '-n', '127.0.0.1', '-P', port, '-t', 'bsdapp', '--id=815', '-p', 'mail.err', `three ${m} ${p}`]);
    const hits = await waitForHits(h.store, m, 2);
    assert.equal(hits.length, 2, `two events for ${m}`);
    const from5424 = hits.find((x) => String(x.message).includes('five')) as Hit;
    const from3164 = hits.find((x) => String(x.message).includes('three')) as Hit;
    assert.ok(from5424 && from3164, JSON.stringify(hits));
    for (const hit of hits) {
      assert.equal(hit.tags, undefined, `no parse failure: ${JSON.stringify(hit)}`);
      assert.equal(String(hit.host).split('.')[0], myHost);
      assert.equal(hit['log.source.address'], '127.0.0.1');
      assert.ok(isNearNow(hit['@timestamp']), `@timestamp ${String(hit['@timestamp'])} is near now`);
    }
    assert.equal(from5424['syslog.appname'], 'rsapp');
    assert.equal(from5424['syslog.procid'], '4711');
    assert.equal(from5424['syslog.facility'], 21);
    assert.equal(from5424['syslog.facility_name'], 'local5');
    assert.equal(from5424['syslog.severity'], 4);
    assert.equal(from5424['syslog.severity_name'], 'warning');
    assert.equal(from3164['syslog.appname'], 'bsdapp');
    assert.equal(from3164['syslog.procid'], '815');
    assert.equal(from3164['syslog.facility_name'], 'mail');
    assert.equal(from3164['syslog.severity_name'], 'err');
    return { m, from5424, from3164 };
  }

  /** With the RFC 5424 template, MSGID and structured data survive the hop. */
  function check5424Template(p: PathName, r: { m: string; from5424: Hit; from3164: Hit }): void {
    assert.equal(r.from5424['syslog.version'], 1);
    assert.equal(r.from5424.message, `five ${r.m} ${p}`);
    assert.equal(r.from5424['syslog.msgid'], 'RS1');
    assert.equal(r.from5424['syslog.sd.fwd@32473.path'], p);
    assert.equal(r.from5424['syslog.sd.timeQuality.tzKnown'], '1');
    // rsyslog keeps the space that followed the RFC 3164 tag's colon in MSG
    assert.equal(r.from3164['syslog.version'], 1);
    assert.equal(String(r.from3164.message).trim(), `three ${r.m} ${p}`);
  }

  /** The traditional template is RFC 3164: no version, MSGID or SD; `tag[pid]` (rsyslog writes no colon after a 5424 one). */
  function check3164Template(p: PathName, r: { m: string; from5424: Hit; from3164: Hit }): void {
    for (const hit of [r.from5424, r.from3164]) {
      assert.equal(hit['syslog.version'], undefined);
      assert.equal(hit['syslog.msgid'], undefined);
    }
    assert.equal(r.from5424.message, `five ${r.m} ${p}`);
    assert.equal(r.from3164.message, `three ${r.m} ${p}`);
  }

  it('forwards over TCP with the RFC 5424 template, octet-counted', async () => {
    check5424Template('tcp5424', await through('tcp5424'));
  });

  it('forwards over TCP with the default (RFC 3164) template', async () => {
    check3164Template('tcp3164', await through('tcp3164'));
  });

  it('forwards over TLS with the RFC 5424 template, octet-counted', async () => {
    const tlsBefore = tlsEvents();
    check5424Template('tls5424', await through('tls5424'));
    await waitFor('the events counted on the TLS listener', () => tlsEvents() >= tlsBefore + 2);
  });

  it('forwards over TLS with the default (RFC 3164) template', async () => {
    const tlsBefore = tlsEvents();
    check3164Template('tls3164', await through('tls3164'));
    await waitFor('the events counted on the TLS listener', () => tlsEvents() >= tlsBefore + 2);
  });

  it('keeps rsyslogd connected: no handshake failures, no parse failures', () => {
    assert.equal(h.metrics.get('logmill_input_tls_handshake_failures_total', { input: 'syslog_tls' }), 0);
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', { input: 'syslog_tls' }), 0);
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', { input: 'syslog_tcp' }), 0);
    assert.ok(h.metrics.get('logmill_input_connections_total', { input: 'syslog_tls' }) >= 2);
  });
});
