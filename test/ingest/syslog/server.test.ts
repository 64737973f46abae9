/**
 * The syslog inputs with Node's own clients: UDP, TCP and TLS into a real
 * DuckDB store, checked by searching the store; batching, backpressure,
 * drop counting, connection limit, metrics and the event conversion.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { eventFromObject } from '../../../src/core/normalize.js';
import type { Input } from '../../../src/ingest/input.js';
import { parseSyslog } from '../../../src/ingest/syslog/parse.js';
import { WRITES_IN_FLIGHT } from '../../../src/ingest/paced-writer.js';
import { startSyslogInputs, syslogEvent } from '../../../src/ingest/syslog/server.js';
import {
  find,
  inputNamed,
  isNearNow,
  openHarness,
  portOf,
  selfSignedCert,
  sleep,
  tempDir,
  waitFor,
  waitForHits,
  type Harness,
} from '../../fixtures/syslog/harness.js';

function sendUdp(port: number, ...datagrams: (string | Buffer)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    let left = datagrams.length;
    for (const d of datagrams) {
      s.send(typeof d === 'string' ? Buffer.from(d) : d, port, '127.0.0.1', (err) => {
        if (err) reject(err);
        if (--left === 0) s.close(() => resolve());
      });
    }
  });
}

/** Opens a TCP connection, writes the chunks one by one (each flushed before the next) and ends it. */
async function sendTcp(port: number, chunks: (string | Buffer)[]): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  for (const c of chunks) {
    await new Promise<void>((r) => sock.write(c, () => r()));
    await sleep(5);
  }
  await new Promise<void>((r) => sock.end(() => r()));
  sock.destroy();
}

const metric = (h: Harness, name: string, input: string): number => h.metrics.get(name, { input });

describe('syslog inputs with Node clients', () => {
  let h: Harness;
  let inputs: Input[] = [];
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await Promise.all(inputs.map((i) => i.close()));
    inputs = [];
    await h.close();
  });

  it('UDP: stores an RFC 5424 datagram with every field', async () => {
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0' }, h.ctx);
    assert.equal(inputs.length, 1);
    const udp = inputNamed(inputs, 'syslog_udp');
    assert.match(udp.address(), /^127\.0\.0\.1:\d+$/);
    const msg =
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 ' +
      '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry';
    await sendUdp(portOf(udp), msg);
    const [hit] = await waitForHits(h.store, 'syslog.appname:evntslog', 1);
    assert.equal(hit['@timestamp'], '2003-10-11T22:14:15.003Z');
    assert.equal(hit.message, 'An application event log entry');
    assert.equal(hit.host, 'mymachine.example.com');
    assert.equal(hit.level, 'notice');
    assert.equal(hit['syslog.facility'], 20);
    assert.equal(hit['syslog.facility_name'], 'local4');
    assert.equal(hit['syslog.severity'], 5);
    assert.equal(hit['syslog.severity_name'], 'notice');
    assert.equal(hit['syslog.version'], 1);
    assert.equal(hit['syslog.appname'], 'evntslog');
    assert.equal(hit['syslog.procid'], '1234');
    assert.equal(hit['syslog.msgid'], 'ID47');
    assert.equal(hit['syslog.sd.exampleSDID@32473.iut'], '3');
    assert.equal(hit['syslog.sd.exampleSDID@32473.eventSource'], 'Application');
    assert.equal(hit['syslog.sd.exampleSDID@32473.eventID'], '1011');
    assert.equal(hit['log.source.address'], '127.0.0.1');
    assert.equal(hit.tags, undefined);
    await waitFor('metrics', () => metric(h, 'logmill_events_ingested_total', 'syslog_udp') === 1);
    assert.equal(metric(h, 'logmill_ingest_bytes_total', 'syslog_udp'), Buffer.byteLength(msg));
  });

  it('UDP: splits LF-separated messages in one datagram but keeps multi-line messages whole', async () => {
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0' }, h.ctx);
    const port = portOf(inputs[0]);
    await sendUdp(
      port,
      '<13>Oct 11 22:14:15 hosta packed[1]: first\n<14>Oct 11 22:14:16 hostb packed[2]: second\r\n<15>1 - hostc packed 3 - - third\n',
      '<11>Oct 11 22:14:17 hostd trace[9]: java.lang.Error: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)',
    );
    const hits = await waitForHits(h.store, 'syslog.appname:packed OR syslog.appname:trace', 4);
    assert.equal(hits.length, 4);
    const byHost = new Map(hits.map((x) => [x.host, x]));
    assert.equal(byHost.get('hosta')?.message, 'first');
    assert.equal(byHost.get('hostb')?.message, 'second');
    assert.equal(byHost.get('hostb')?.['syslog.severity_name'], 'info');
    assert.equal(byHost.get('hostc')?.message, 'third');
    assert.equal(byHost.get('hostc')?.['syslog.procid'], '3');
    assert.equal(byHost.get('hostd')?.message, 'java.lang.Error: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)');
  });

  it('UDP: stores RFC 3164 dates in the configured zone, and parse failures whole', async () => {
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0', timeZone: 'America/New_York' }, h.ctx);
    const port = portOf(inputs[0]);
    await sendUdp(port, '<34>Jan  5 2020 10:00:00 zhost su: zoned', '<999>not syslog at all', 'plain text without pri or date');
    const [zoned] = await waitForHits(h.store, 'zoned', 1);
    assert.equal(zoned['@timestamp'], '2020-01-05T15:00:00.000Z');
    assert.equal(zoned.host, 'zhost');
    assert.equal(zoned['syslog.facility_name'], 'auth');
    assert.equal(zoned['syslog.severity_name'], 'crit');
    // (not `tags:_syslogparsefailure`: a tags query fails in the DuckDB dialect, a bug reported separately)
    const failed = await waitForHits(h.store, 'host:"127.0.0.1"', 2);
    for (const f of failed) assert.deepEqual(f.tags, ['_syslogparsefailure']);
    assert.deepEqual(failed.map((x) => x.message).sort(), ['<999>not syslog at all', 'plain text without pri or date']);
    for (const f of failed) {
      assert.equal(f.host, '127.0.0.1');
      assert.ok(isNearNow(f['@timestamp']), 'a message without a usable time gets the arrival time');
    }
    await waitFor('parse failure count', () => metric(h, 'logmill_input_parse_failures_total', 'syslog_udp') === 2);
  });

  it('UDP: truncates datagrams longer than maxMessageBytes and tags them', async () => {
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0', maxMessageBytes: 100 }, h.ctx);
    const body = 'x'.repeat(500);
    await sendUdp(portOf(inputs[0]), `<13>1 2020-01-01T00:00:00Z longhost app - - - ${body}`);
    const [hit] = await waitForHits(h.store, 'host:longhost', 1);
    assert.deepEqual(hit.tags, ['_truncated']);
    assert.equal(hit['syslog.appname'], 'app');
    assert.equal(hit.message, body.slice(0, 100 - '<13>1 2020-01-01T00:00:00Z longhost app - - - '.length));
  });

  it('UDP: drops and counts datagrams while the store is behind', async () => {
    await h.close();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    h = await openHarness({ gate: () => gate });
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0', maxQueuedEvents: 1 }, h.ctx);
    const port = portOf(inputs[0]);
    await sendUdp(port, '<13>1 - qhost app - - - kept');
    await waitFor('the first write', () => h.writes() === 1);
    await sendUdp(port, ...Array.from({ length: 5 }, (_, i) => `<13>1 - qhost app - - - dropped ${i}`));
    await waitFor('5 drops', () => metric(h, 'logmill_input_dropped_total', 'syslog_udp') === 5);
    release();
    const hits = await waitForHits(h.store, 'host:qhost', 1);
    assert.deepEqual(hits.map((x) => x.message), ['kept']);
    assert.equal(h.writes(), 1);
  });

  it('TCP: both framings, split anywhere across chunks', async () => {
    inputs = await startSyslogInputs({ tcp: '127.0.0.1:0' }, h.ctx);
    const tcp = inputNamed(inputs, 'syslog_tcp');
    const m1 = '<86>1 2024-02-03T04:05:06.789+01:00 tcphost sshd 77 - - octet one';
    const m2 = '<86>1 2024-02-03T04:05:07+01:00 tcphost sshd 77 - - octet two\nwith a newline inside';
    const stream =
      `${Buffer.byteLength(m1)} ${m1}${Buffer.byteLength(m2)} ${m2}` +
      '<30>Feb  3 04:05:08 tcphost cron[5]: lf one\n' +
      '<30>Feb  3 04:05:09 tcphost cron[5]: crlf two\r\n' +
      '<30>Feb  3 04:05:10 tcphost cron[5]: nul three\0' +
      '<30>Feb  3 04:05:11 tcphost cron[5]: unterminated last';
    const bytes = Buffer.from(stream);
    // cut the stream into 7-byte chunks so frames and length prefixes span chunks
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    await sendTcp(portOf(tcp), chunks);
    const hits = await waitForHits(h.store, 'host:tcphost', 6);
    const msgs = hits.map((x) => x.message).sort();
    assert.deepEqual(msgs, ['crlf two', 'lf one', 'nul three', 'octet one', 'octet two\nwith a newline inside', 'unterminated last']);
    const one = hits.find((x) => x.message === 'octet one');
    assert.equal(one?.['@timestamp'], '2024-02-03T03:05:06.789Z');
    assert.equal(one?.['syslog.appname'], 'sshd');
    assert.equal(one?.['syslog.facility_name'], 'authpriv');
    assert.equal(one?.['syslog.severity_name'], 'info');
    const cron = hits.find((x) => x.message === 'lf one');
    assert.equal(cron?.['syslog.appname'], 'cron');
    assert.equal(cron?.['syslog.procid'], '5');
    assert.equal(cron?.['syslog.facility_name'], 'daemon');
    assert.equal(metric(h, 'logmill_input_connections_total', 'syslog_tcp'), 1);
    await waitFor('bytes', () => metric(h, 'logmill_ingest_bytes_total', 'syslog_tcp') === bytes.length);
    assert.equal(metric(h, 'logmill_events_ingested_total', 'syslog_tcp'), 6);
  });

  it('TCP: pauses the connection while the store is writing (backpressure)', async () => {
    await h.close();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    h = await openHarness({ gate: () => gate });
    inputs = await startSyslogInputs({ tcp: '127.0.0.1:0' }, h.ctx);
    const sock = net.connect(portOf(inputs[0]), '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const line = (i: number): string => `<13>1 - bphost app - - - backpressure ${i} ${'y'.repeat(200)}\n`;
    const n = 40_000; // ~9 MB: more than socket buffers hold
    let all = '';
    for (let i = 0; i < n; i++) all += line(i);
    const written = new Promise<void>((r) => sock.end(all, () => r()));
    await waitFor('the first writes', () => h.writes() === WRITES_IN_FLIGHT);
    await sleep(200);
    // While the batches in flight wait for the store, the connection is paused: no further batch is read.
    try {
      assert.equal(h.writes(), WRITES_IN_FLIGHT);
    } finally {
      release();
    }
    await written;
    await waitFor(`all ${n} stored`, async () => (await find(h.store, 'host:bphost', 1)).total === n, 60_000);
    assert.ok(h.writes() > 1);
    sock.destroy();
  });

  it('TCP: refuses connections beyond maxConnections and counts them', async () => {
    inputs = await startSyslogInputs({ tcp: '127.0.0.1:0', maxConnections: 2 }, h.ctx);
    const port = portOf(inputs[0]);
    const open = async (): Promise<net.Socket> => {
      const s = net.connect(port, '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      return s;
    };
    const a = await open();
    const b = await open();
    await waitFor('two connections', () => metric(h, 'logmill_input_connections_total', 'syslog_tcp') === 2);
    const c = await open();
    await new Promise<void>((r) => c.once('close', () => r()));
    assert.equal(metric(h, 'logmill_input_connections_refused_total', 'syslog_tcp'), 1);
    a.write('<13>1 - limhost app - - - still served\n');
    await waitForHits(h.store, 'host:limhost', 1);
    a.destroy();
    b.destroy();
  });

  it('TLS: RFC 5425 octet-counted messages from a Node TLS client', async () => {
    const dir = tempDir();
    try {
      const cert = selfSignedCert(dir);
      // cert and key as file paths here, as PEM text in the next test
      inputs = await startSyslogInputs({ tls: { listen: '127.0.0.1:0', cert: cert.cert, key: cert.key } }, h.ctx);
      const input = inputNamed(inputs, 'syslog_tls');
      const sock = tls.connect({ port: portOf(input), host: '127.0.0.1', ca: cert.certPem, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => {
        sock.once('secureConnect', resolve);
        sock.once('error', reject);
      });
      assert.equal(sock.authorized, true);
      const m = '<134>1 2024-05-06T07:08:09Z tlshost app 1 M1 [a@1 x="\\"q\\""] über TLS';
      sock.write(`${Buffer.byteLength(m)} ${m}`);
      sock.end();
      const [hit] = await waitForHits(h.store, 'host:tlshost', 1);
      assert.equal(hit.message, 'über TLS');
      assert.equal(hit['syslog.sd.a@1.x'], '"q"');
      assert.equal(hit['syslog.msgid'], 'M1');
      assert.equal(hit['syslog.facility_name'], 'local0');
      assert.equal(metric(h, 'logmill_input_connections_total', 'syslog_tls'), 1);
      assert.equal(metric(h, 'logmill_input_tls_handshake_failures_total', 'syslog_tls'), 0);
      sock.destroy();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TLS: requireClientCert refuses a client without a certificate and counts the failure', async () => {
    const dir = tempDir();
    try {
      const cert = selfSignedCert(dir);
      inputs = await startSyslogInputs(
        { tls: { listen: '127.0.0.1:0', cert: cert.certPem, key: cert.keyPem, ca: cert.certPem, requireClientCert: true } },
        h.ctx,
      );
      const port = portOf(inputs[0]);
      const bad = tls.connect({ port, host: '127.0.0.1', ca: cert.certPem, servername: 'localhost' });
      bad.on('error', () => undefined);
      bad.write('<13>1 - nocert app - - - refused\n');
      await new Promise<void>((r) => bad.once('close', () => r()));
      await waitFor('a handshake failure', () => metric(h, 'logmill_input_tls_handshake_failures_total', 'syslog_tls') === 1);
      // the same self-signed certificate doubles as the client's
      const good = tls.connect({ port, host: '127.0.0.1', ca: cert.certPem, servername: 'localhost', cert: cert.certPem, key: cert.keyPem });
      await new Promise<void>((r) => good.once('secureConnect', () => r()));
      good.end('<13>1 - withcert app - - - accepted\n');
      await waitForHits(h.store, 'host:withcert', 1);
      assert.equal((await find(h.store, 'host:nocert')).total, 0);
      good.destroy();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts all three listeners at once and close() is idempotent', async () => {
    const dir = tempDir();
    try {
      const cert = selfSignedCert(dir);
      inputs = await startSyslogInputs(
        { udp: '127.0.0.1:0', tcp: '127.0.0.1:0', tls: { listen: '127.0.0.1:0', cert: cert.cert, key: cert.key } },
        h.ctx,
      );
      assert.deepEqual(inputs.map((i) => i.name), ['syslog_udp', 'syslog_tcp', 'syslog_tls']);
      await Promise.all(inputs.map((i) => i.close()));
      await Promise.all(inputs.map((i) => i.close()));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails to start when a port is taken, closing what it had started', async () => {
    inputs = await startSyslogInputs({ tcp: '127.0.0.1:0' }, h.ctx);
    const taken = inputs[0].address();
    await assert.rejects(startSyslogInputs({ udp: '127.0.0.1:0', tcp: taken }, h.ctx), /EADDRINUSE/);
  });

  it('keeps a pre-1970 time as text, tagged, and files the event at arrival', async () => {
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0' }, h.ctx);
    await sendUdp(portOf(inputs[0]), '<13>1 1960-01-01T00:00:00Z oldhost app - - - from the past');
    const [hit] = await waitForHits(h.store, 'host:oldhost', 1);
    assert.deepEqual(hit.tags, ['_timestampparsefailure']);
    assert.equal(hit._timestamp_invalid, '1960-01-01T00:00:00.000Z');
    assert.ok(isNearNow(hit['@timestamp']));
  });
});

describe('syslogEvent', () => {
  const now = new Date('2024-06-01T12:00:00Z');
  const samples = [
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"][x@1 a="1" a="2"] msg',
    '<165>1 2003-10-11T22:14:15.000003-07:00 h a p m - x',
    '<34>Oct 11 22:14:15 mymachine su: su root failed for lonvick on /dev/pts/8',
    '<189>123: router1: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured',
    '<999>broken',
    'no pri and no date',
    '<13>1 - - - - - -',
    `<13>1 - - - - - [${'s'.repeat(300)} ${'p'.repeat(10)}="v"] long SD name`,
  ];
  for (const text of samples) {
    it(`matches eventFromObject for ${JSON.stringify(text.slice(0, 40))}`, () => {
      const a = syslogEvent(parseSyslog(text, { now, receivedFrom: '10.1.2.3' }), 1_000_000);
      const b = eventFromObject(
        parseSyslog(text, { now, receivedFrom: '10.1.2.3' }) as unknown as Record<string, unknown>,
        1_000_000,
      );
      assert.deepEqual(a, b);
    });
  }
});
