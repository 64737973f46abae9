/**
 * The Beats input over TLS, with certificates made by openssl: 10,000 events
 * from the npm `lumberjack-client` (v2), a v1 stream from the npm
 * `lumberjack-protocol`, client certificates (required and optional), and
 * handshakes that stall or never were TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { startBeatsInput } from '../../../src/ingest/beats/server.js';
import { encodeCompressed, encodeJsonFrame, encodeWindow } from '../../../src/ingest/beats/protocol.js';
import { find, makePki, openHarness, portOf, waitFor, waitForHits, type Pki } from '../../fixtures/netinputs/harness.js';
import {
  RawConnection,
  completedWindows,
  lumberjackClient,
  lumberjackProtocolClient,
  stopLumberjackClient,
  stopLumberjackProtocolClient,
  tapAcks,
} from '../../fixtures/netinputs/lumberjack.js';

const labels = { input: 'beats' };
let pki: Pki;

before(() => {
  pki = makePki();
});
after(() => {
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

function serverTrust(): tls.ConnectionOptions {
  return { ca: [fs.readFileSync(pki.serverCert)], servername: 'localhost' };
}

/** Connects with TLS, sends a window if the client thinks it is connected, and waits until the server has closed the connection. */
function tlsAttempt(port: number, opts: tls.ConnectionOptions): Promise<void> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts });
    s.on('secureConnect', () => {
      // Under TLS 1.3 the server checks the client's certificate after the client
      // considers the handshake done: try to use the connection.
      s.write(Buffer.concat([encodeWindow(2, 1), encodeJsonFrame(1, { message: 'should not be stored' })]));
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
}

test('10,000 events from lumberjack-client over TLS: every window acknowledged, every event stored with its fields', async () => {
  const h = await openHarness();
  const input = await startBeatsInput('127.0.0.1:0', h.ctx, { tls: { cert: pki.serverCert, key: pki.serverKey } });
  const client = lumberjackClient({ host: '127.0.0.1', port: portOf(input), ...serverTrust() }, true);
  const acks = tapAcks(client.socket);
  const base = Date.UTC(2026, 4, 1, 8, 0, 0);
  const event = (i: number): object => ({
    '@timestamp': new Date(base + i).toISOString(),
    message: `tls event ${i}`,
    host: { name: `web-${i % 7}` },
    log: { file: { path: '/var/log/app/tls.log' }, offset: i * 64 },
    service: { name: 'checkout' },
    n: i,
  });
  try {
    const queued = 2000;
    for (let i = 0; i < queued; i++) client.log(event(i)); // queued while connecting: one window
    await waitFor('the TLS client to connect', () => client.connected === true);
    for (let i = queued; i < 10_000; i++) client.log(event(i)); // one window each
    const windows = [queued, ...new Array<number>(10_000 - queued).fill(1)];
    await waitFor('all 8,001 windows to be acknowledged', () => completedWindows(windows, acks.acks) === windows.length, 90_000);
    assert.deepEqual(acks.errors, []);

    const { total, hits } = await find(h.store, 'source:"/var/log/app/tls.log"');
    assert.equal(total, 10_000);
    const seen = new Set(hits.map((x) => x.n));
    assert.equal(seen.size, 10_000);
    for (const i of [0, 1999, 2000, 9999]) {
      const hit = hits.find((x) => x.n === i);
      assert.ok(hit, `event ${i} stored`);
      assert.equal(hit.message, `tls event ${i}`);
      assert.equal(hit.host, `web-${i % 7}`);
      assert.equal(hit['host.name'], `web-${i % 7}`);
      assert.equal(hit.source, '/var/log/app/tls.log');
      assert.equal(hit['log.file.path'], '/var/log/app/tls.log');
      assert.equal(hit['log.offset'], i * 64);
      assert.equal(hit['service.name'], 'checkout');
      assert.equal(hit['@timestamp'], new Date(base + i).toISOString());
    }
    assert.equal((await find(h.store, 'host:web-3')).total, Math.ceil((10_000 - 3) / 7));
    assert.equal(h.metrics.get('logmill_events_ingested_total', labels), 10_000);
    assert.equal(h.metrics.get('logmill_input_tls_handshake_failures_total', labels), 0);
  } finally {
    stopLumberjackClient(client);
    await input.close();
    await h.close();
  }
});

test('lumberjack-protocol (npm, v1 over TLS): one window then a stream of frames, all acknowledged with version-1 ACKs', async () => {
  const h = await openHarness();
  const input = await startBeatsInput('127.0.0.1:0', h.ctx, { tls: { cert: pki.serverCert, key: pki.serverKey } });
  const client = lumberjackProtocolClient({ host: '127.0.0.1', port: portOf(input), ...serverTrust() }, { windowSize: 100, maxQueueSize: 5000 });
  const drops: unknown[] = [];
  client.on('dropped', (n) => drops.push(n));
  try {
    await waitFor('the v1 client to connect', () => client.connected);
    for (let i = 1; i <= 1000; i++) {
      client.writeDataFrame({ line: `forwarded line ${i}`, file: '/var/log/fwd.log', host: 'fwd-1', offset: String(i) });
    }
    // Its parser refuses anything but '1A' frames, so reaching 1000 also checks the ACK version.
    await waitFor('the last frame to be acknowledged', () => client._socket?.lastAck === 1000);
    assert.deepEqual(drops, []);
    const { total, hits } = await find(h.store, 'source:"/var/log/fwd.log"');
    assert.equal(total, 1000);
    const one = hits.find((x) => x.offset === '500');
    assert.ok(one);
    assert.equal(one.message, 'forwarded line 500');
    assert.equal(one.host, 'fwd-1');
    assert.equal(one.line, 'forwarded line 500');
  } finally {
    stopLumberjackProtocolClient(client);
    await input.close();
    await h.close();
  }
});

test('mutual TLS (requireClientCert): no certificate or a foreign one is refused and counted; a CA-signed one gets in', async () => {
  const h = await openHarness();
  const input = await startBeatsInput('127.0.0.1:0', h.ctx, {
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requireClientCert: true },
  });
  const port = portOf(input);
  let client: ReturnType<typeof lumberjackClient> | null = null;
  try {
    // Under TLS 1.3 the client may believe it connected; what it writes then must not be stored.
    await tlsAttempt(port, serverTrust());
    await waitFor('the failure without a certificate to be counted', () => h.metrics.get('logmill_input_tls_handshake_failures_total', labels) === 1);
    await tlsAttempt(port, { ...serverTrust(), cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) });
    await waitFor('the failure with a foreign certificate to be counted', () => h.metrics.get('logmill_input_tls_handshake_failures_total', labels) === 2);
    assert.ok(h.logs.some((l) => l.startsWith('warn: beats 127.0.0.1') && l.includes('TLS handshake failed')), h.logs.join('\n'));

    client = lumberjackClient(
      { host: '127.0.0.1', port, ...serverTrust(), cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) },
      true,
    );
    const acks = tapAcks(client.socket);
    client.log({ message: 'signed by the CA', host: { name: 'mtls-1' } });
    await waitFor('the window to be acknowledged', () => completedWindows([1], acks.acks) === 1);
    const hits = await waitForHits(h.store, 'host:mtls-1', 1);
    assert.equal(hits[0]!.message, 'signed by the CA');
    assert.equal((await find(h.store, '*')).total, 1); // nothing from the refused ones
    assert.equal(h.metrics.get('logmill_input_tls_handshake_failures_total', labels), 2);
  } finally {
    if (client) stopLumberjackClient(client);
    await input.close();
    await h.close();
  }
});

test('optional client certificates (ca without requireClientCert): none is fine, a foreign one is refused', async () => {
  const h = await openHarness();
  const input = await startBeatsInput('127.0.0.1:0', h.ctx, { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert } });
  const port = portOf(input);
  try {
    const plain = await RawConnection.open(port, serverTrust());
    plain.write(Buffer.concat([encodeWindow(2, 1), encodeCompressed(encodeJsonFrame(1, { message: 'no client cert' }))]));
    await plain.waitForAck(1);
    plain.destroy();
    await tlsAttempt(port, { ...serverTrust(), cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) });
    await waitFor('the foreign certificate to be counted', () => h.metrics.get('logmill_input_tls_handshake_failures_total', labels) === 1);
    const { hits } = await find(h.store, '*');
    assert.deepEqual(
      hits.map((x) => x.message),
      ['no client cert'],
    );
  } finally {
    await input.close();
    await h.close();
  }
});

test('a stalled handshake and plain bytes on the TLS port are dropped and counted; others still connect', async () => {
  const h = await openHarness();
  const input = await startBeatsInput('127.0.0.1:0', h.ctx, {
    tls: { cert: pki.serverCert, key: pki.serverKey, handshakeTimeoutMs: 300 },
  });
  const port = portOf(input);
  const stalled = net.connect({ host: '127.0.0.1', port });
  const plain = net.connect({ host: '127.0.0.1', port });
  try {
    // Half a ClientHello record header, then silence.
    stalled.on('error', () => undefined);
    plain.on('error', () => undefined);
    stalled.write(Buffer.from([0x16, 0x03, 0x01]));
    plain.write(Buffer.concat([encodeWindow(2, 1), encodeJsonFrame(1, { message: 'not TLS' })]));
    await Promise.all([
      new Promise<void>((r) => stalled.once('close', () => r())),
      new Promise<void>((r) => plain.once('close', () => r())),
    ]);
    await waitFor('both failures to be counted', () => h.metrics.get('logmill_input_tls_handshake_failures_total', labels) === 2);
    assert.ok(h.logs.some((l) => /TLS handshake failed: .*(timed out|timeout)/i.test(l)), h.logs.join('\n'));

    const good = await RawConnection.open(port, serverTrust());
    good.write(Buffer.concat([encodeWindow(2, 1), encodeCompressed(encodeJsonFrame(1, { message: 'after the stall' }))]));
    await good.waitForAck(1);
    good.destroy();
    assert.deepEqual(
      (await find(h.store, '*')).hits.map((x) => x.message),
      ['after the stall'],
    );
  } finally {
    stalled.destroy();
    plain.destroy();
    await input.close();
    await h.close();
  }
});

test('TLS settings are checked: requireClientCert without a CA, unreadable files', async () => {
  const h = await openHarness();
  try {
    await assert.rejects(
      startBeatsInput('127.0.0.1:0', h.ctx, { tls: { cert: pki.serverCert, key: pki.serverKey, requireClientCert: true } }),
      /requireClientCert needs a CA file/,
    );
    await assert.rejects(startBeatsInput('127.0.0.1:0', h.ctx, { tls: { cert: '/nonexistent/cert.pem', key: pki.serverKey } }), /TLS certificate file \/nonexistent\/cert\.pem/);
  } finally {
    await h.close();
  }
});
