/**
 * Hostile and broken input to the syslog listeners: random bytes, a 10 MB
 * line, an absurd octet count, TLS clients that stall mid-handshake or do
 * not speak TLS. After each, valid messages are still stored and the
 * listeners keep serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Input } from '../../../src/ingest/input.js';
import { startSyslogInputs } from '../../../src/ingest/syslog/server.js';
import {
  find,
  inputNamed,
  openHarness,
  portOf,
  selfSignedCert,
  tempDir,
  waitFor,
  waitForHits,
  type Cert,
  type Harness,
} from '../../fixtures/syslog/harness.js';

const MIB = 1024 * 1024;

/** Connects, writes everything, ends, and waits until the server has closed too. */
async function sendTcp(port: number, ...chunks: (string | Buffer)[]): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  for (const c of chunks) sock.write(c);
  sock.end();
  await new Promise<void>((r) => sock.once('close', () => r()));
}

/** A deterministic pseudo-random byte string (xorshift32), optionally without ASCII digits. */
function pseudoRandom(n: number, seed: number, noDigits: boolean): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let b = x & 0xff;
    if (noDigits && b >= 48 && b <= 57) b += 20;
    out[i] = b;
  }
  return out;
}

/** The first flight a Node TLS client sends (a ClientHello), captured on a plain TCP server. */
async function captureClientHello(): Promise<Buffer> {
  const server = net.createServer();
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      s.once('data', (d: Buffer) => {
        resolve(Buffer.from(d));
        s.destroy();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return hello;
}

describe('syslog inputs under bad input', () => {
  let h: Harness;
  let inputs: Input[] = [];
  let dir = '';
  let cert: Cert;
  let tcpPort = 0;
  let tlsPort = 0;
  let udpPort = 0;

  before(async () => {
    h = await openHarness({ maxLineBytes: MIB });
    dir = tempDir();
    cert = selfSignedCert(dir);
    inputs = await startSyslogInputs(
      {
        udp: '127.0.0.1:0',
        tcp: '127.0.0.1:0',
        tls: { listen: '127.0.0.1:0', cert: cert.certPem, key: cert.keyPem },
        handshakeTimeoutMs: 500,
      },
      h.ctx,
    );
    tcpPort = portOf(inputNamed(inputs, 'syslog_tcp'));
    tlsPort = portOf(inputNamed(inputs, 'syslog_tls'));
    udpPort = portOf(inputNamed(inputs, 'syslog_udp'));
  });

  after(async () => {
    await Promise.all(inputs.map((i) => i.close()));
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const metric = (name: string, input: string): number => h.metrics.get(name, { input });

  it('random bytes: stored as parse failures; the next connection is served', async () => {
    const failuresBefore = metric('logmill_input_parse_failures_total', 'syslog_tcp');
    await sendTcp(tcpPort, crypto.randomBytes(256 * 1024));
    await sendTcp(tcpPort, '<13>1 - rnd1 app - - - valid after random bytes\n');
    const [hit] = await waitForHits(h.store, 'host:rnd1', 1);
    assert.equal(hit.message, 'valid after random bytes');
    assert.equal(hit.tags, undefined);
    assert.ok(metric('logmill_input_parse_failures_total', 'syslog_tcp') >= failuresBefore);
  });

  it('random bytes without digits, then valid messages on the same connection', async () => {
    const garbage = pseudoRandom(64 * 1024, 12345, true);
    const failuresBefore = metric('logmill_input_parse_failures_total', 'syslog_tcp');
    await sendTcp(tcpPort, garbage, '\n<13>1 - rnd2 app - - - first valid\n', '<13>Oct 11 22:14:15 rnd2 app: second valid\n');
    const hits = await waitForHits(h.store, 'host:rnd2', 2);
    assert.deepEqual(hits.map((x) => x.message).sort(), ['first valid', 'second valid']);
    // the garbage is stored (split at its LF and NUL bytes), tagged as not syslog
    await waitFor('parse failures counted', () => metric('logmill_input_parse_failures_total', 'syslog_tcp') > failuresBefore);
  });

  it('a 10 MB line: the first 1 MiB stored, truncated and tagged; the rest skipped; the next message stored', async () => {
    const head = '<13>Oct 11 22:14:15 bigline app: ';
    const body = Buffer.alloc(10 * MIB, 'z');
    await sendTcp(tcpPort, head, body, '\n', '<13>Oct 11 22:14:16 bigline app: after the big line\n');
    const hits = await waitForHits(h.store, 'host:bigline', 2, 30_000);
    assert.equal(hits.length, 2, 'the rest of the big line made no events');
    const big = hits.find((x) => x.message !== 'after the big line');
    assert.ok(big);
    assert.deepEqual(big.tags, ['_truncated']);
    assert.equal(big['syslog.appname'], 'app');
    assert.equal(String(big.message).length, MIB - Buffer.byteLength(head));
    assert.match(String(big.message), /^z+$/);
    assert.ok(hits.some((x) => x.message === 'after the big line' && x.tags === undefined));
    assert.equal(h.metrics.get('logmill_input_truncated_total', { input: 'syslog_tcp' }), 1);
  });

  it('an absurd octet count is read as a line and stored whole; the next message stored', async () => {
    await sendTcp(tcpPort, '99999999999 <13>1 - absurd app - - - hello\n', '<13>1 - absurd2 app - - - after absurd\n');
    const [after2] = await waitForHits(h.store, 'host:absurd2', 1);
    assert.equal(after2.message, 'after absurd');
    const [whole] = await waitForHits(h.store, '"99999999999"', 1);
    assert.equal(whole.message, '99999999999 <13>1 - absurd app - - - hello');
    assert.deepEqual(whole.tags, ['_syslogparsefailure']);
    assert.equal(whole.host, '127.0.0.1');
  });

  it('an octet count cut short by the end of the connection is stored truncated', async () => {
    await sendTcp(tcpPort, '200 <13>1 - shortframe app - - - only part of it');
    const [hit] = await waitForHits(h.store, 'host:shortframe', 1);
    assert.equal(hit.message, 'only part of it');
    assert.deepEqual(hit.tags, ['_truncated']);
  });

  it('invalid UTF-8 is stored with replacement characters', async () => {
    await sendTcp(tcpPort, Buffer.concat([Buffer.from('<13>1 - badutf app - - - bad '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' end\n')]));
    const [hit] = await waitForHits(h.store, 'host:badutf', 1);
    assert.equal(hit.message, 'bad \ufffd(\ufffd end');
  });

  it('TLS: a client that connects and sends nothing is dropped at the handshake timeout and counted', async () => {
    const failures = metric('logmill_input_tls_handshake_failures_total', 'syslog_tls');
    const sock = net.connect(tlsPort, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('close', () => r()));
    await waitFor('the failure counted', () => metric('logmill_input_tls_handshake_failures_total', 'syslog_tls') === failures + 1);
  });

  it('TLS: a client that stalls after half a ClientHello is dropped and counted', async () => {
    const hello = await captureClientHello();
    assert.equal(hello[0], 0x16, 'a TLS handshake record');
    const failures = metric('logmill_input_tls_handshake_failures_total', 'syslog_tls');
    const sock = net.connect(tlsPort, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(hello.subarray(0, Math.floor(hello.length / 2)));
    await new Promise<void>((r) => sock.once('close', () => r()));
    await waitFor('the failure counted', () => metric('logmill_input_tls_handshake_failures_total', 'syslog_tls') === failures + 1);
  });

  it('TLS: plain-text syslog sent to the TLS port is refused and counted, never stored', async () => {
    const failures = metric('logmill_input_tls_handshake_failures_total', 'syslog_tls');
    await sendTcp(tlsPort, '<13>1 - plaintotls app - - - not encrypted\n');
    await waitFor('the failure counted', () => metric('logmill_input_tls_handshake_failures_total', 'syslog_tls') === failures + 1);
    assert.equal((await find(h.store, 'host:plaintotls')).total, 0);
  });

  it('TLS: valid clients are served while stalled ones wait, and after them', async () => {
    const stalled = net.connect(tlsPort, '127.0.0.1');
    stalled.on('error', () => undefined);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    const good = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: cert.certPem, servername: 'localhost' });
    await new Promise<void>((r) => good.once('secureConnect', () => r()));
    const m = '<13>1 - tlsok app - - - served beside a stalled client';
    good.end(`${Buffer.byteLength(m)} ${m}`);
    const [hit] = await waitForHits(h.store, 'host:tlsok', 1);
    assert.equal(hit.message, 'served beside a stalled client');
    await new Promise<void>((r) => stalled.once('close', () => r()));
    good.destroy();
  });

  it('UDP: garbage and empty datagrams do no harm', async () => {
    const s = dgram.createSocket('udp4');
    const send = (b: Buffer): Promise<void> => new Promise((r) => s.send(b, udpPort, '127.0.0.1', () => r()));
    await send(pseudoRandom(1200, 777, false));
    await send(Buffer.alloc(0));
    await send(Buffer.from('\n\r\n\0'));
    await send(Buffer.from('<13>1 - udpafter app - - - valid after garbage'));
    s.close();
    const [hit] = await waitForHits(h.store, 'host:udpafter', 1);
    assert.equal(hit.message, 'valid after garbage');
  });

  it('every listener still answers at the end', async () => {
    await sendTcp(tcpPort, '<13>1 - finaltcp app - - - still alive\n');
    await waitForHits(h.store, 'host:finaltcp', 1);
    assert.equal(h.logs.filter((l) => l.startsWith('error')).length, 0, h.logs.join('\n'));
  });
});
