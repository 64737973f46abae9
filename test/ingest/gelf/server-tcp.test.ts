/**
 * GELF over TCP (NUL-delimited frames): the npm client `gelf-pro` in plain
 * and TLS mode, malformed and oversize frames on a connection that goes on,
 * and backpressure (one write at a time per connection, the socket paused
 * while the store works). Every check reads the stored events back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startGelfTcp } from '../../../src/ingest/gelf/server.js';
import { gelfPro, gelfProSend } from '../../fixtures/netinputs/gelf.js';
import { Gate, find, makePki, openHarness, portOf, waitFor, waitForHits, type Pki } from '../../fixtures/netinputs/harness.js';

const tcp = { input: 'gelf_tcp' };
let pki: Pki;

before(() => {
  pki = makePki();
});
after(() => {
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

function frame(fields: Record<string, unknown>): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify({ version: '1.1', host: 'tcp-1', ...fields })), Buffer.from([0])]);
}

/** Opens a connection, writes `data`, ends it, and waits until the server has closed its side too. */
function sendAndEnd(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(data));
    s.on('error', reject);
    s.on('data', () => undefined);
    s.on('close', () => resolve());
  });
}

test('gelf-pro over TCP: messages stored with their fields', async () => {
  const h = await openHarness();
  const input = await startGelfTcp('127.0.0.1:0', h.ctx);
  const logger = gelfPro('tcp', { host: '127.0.0.1', port: portOf(input) }, { app: 'billing' });
  try {
    for (let i = 0; i < 20; i++) {
      await gelfProSend(logger, `invoice ${i} sent`, 5, { host: 'bill-1', invoice: i, full_message: `line one\nline two ${i}` });
    }
    await waitForHits(h.store, 'app:billing', 20);
    const { hits } = await find(h.store, 'invoice:7');
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.message, 'invoice 7 sent');
    assert.equal(hits[0]!.full_message, 'line one\nline two 7');
    assert.equal(hits[0]!.host, 'bill-1');
    assert.equal(hits[0]!.level, 'notice');
    assert.equal(h.metrics.get('logmill_events_ingested_total', tcp), 20);
    assert.equal(h.metrics.get('logmill_input_connections_total', tcp), 20); // gelf-pro connects once per message
  } finally {
    await input.close();
    await h.close();
  }
});

test('gelf-pro over TLS (tcp-tls adapter)', async () => {
  const h = await openHarness();
  const input = await startGelfTcp('127.0.0.1:0', h.ctx, { tls: { cert: pki.serverCert, key: pki.serverKey } });
  const logger = gelfPro('tcp-tls', {
    host: '127.0.0.1',
    port: portOf(input),
    ca: [fs.readFileSync(pki.serverCert)],
    servername: 'localhost',
  });
  try {
    await gelfProSend(logger, 'over tls', 4, { host: 'sec-1', secret: false });
    const [hit] = await waitForHits(h.store, 'message:"over tls"', 1);
    assert.equal(hit!.host, 'sec-1');
    assert.equal(hit!.level, 'warning');
    assert.equal(hit!.secret, 'false'); // gelf-pro sends every non-number extra as text
  } finally {
    await input.close();
    await h.close();
  }
});

test('malformed and oversize frames: counted, the connection goes on, a last frame without its NUL still counts', async () => {
  const h = await openHarness();
  const input = await startGelfTcp('127.0.0.1:0', h.ctx, { maxFrameBytes: 1024 });
  try {
    const data = Buffer.concat([
      frame({ short_message: 'first good' }),
      Buffer.from('not json at all\0'),
      Buffer.from('{"short_message":"no host"}\0'),
      Buffer.from('\0\0'), // empty frames are ignored
      Buffer.concat([Buffer.from('{"host":"x","short_message":"'), Buffer.alloc(5000, 0x7a), Buffer.from('"}\0')]),
      frame({ short_message: 'second good' }),
      Buffer.from(JSON.stringify({ host: 'tcp-1', short_message: 'last, unterminated' })),
    ]);
    await sendAndEnd(portOf(input), data);
    await waitForHits(h.store, 'host:tcp-1', 3);
    const { hits } = await find(h.store, '*');
    const messages = hits.map((x) => String(x.message)).sort();
    assert.deepEqual(messages, ['first good', 'last, unterminated', 'not json at all', 'second good', '{"short_message":"no host"}']);
    const failed = hits.filter((x) => Array.isArray(x.tags) && x.tags.includes('_jsonparsefailure'));
    assert.equal(failed.length, 2);
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', tcp), 2);
    assert.equal(h.metrics.get('logmill_input_dropped_total', tcp), 1);
    assert.ok(h.logs.some((l) => l.includes('dropped a frame of more than 1024 bytes')), h.logs.join('\n'));
  } finally {
    await input.close();
    await h.close();
  }
});

test('backpressure: one write at a time per connection, the rest waits in the socket until the store is done', async () => {
  const gate = new Gate();
  const h = await openHarness({ gate: gate.pass });
  const input = await startGelfTcp('127.0.0.1:0', h.ctx);
  const total = 3000;
  const data = Buffer.concat(Array.from({ length: total }, (_, i) => frame({ short_message: `burst ${i}`, _i: i, _pad: 'p'.repeat(100) })));
  let sent: Promise<void> | null = null;
  try {
    gate.close();
    sent = sendAndEnd(portOf(input), data);
    await waitFor('the first write to reach the store', () => gate.held === 1);
    // Give the sender every chance to push more: the server must not read it while the write is held.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gate.held, 1);
    assert.ok(h.written() < total, `all ${h.written()} events were read while the store was held`);
    gate.open();
    await sent;
    await waitForHits(h.store, 'message:burst*', total);
    const { hits } = await find(h.store, 'message:burst*');
    assert.equal(new Set(hits.map((x) => x.i)).size, total);
    assert.equal(h.metrics.get('logmill_events_ingested_total', tcp), total);
  } finally {
    gate.open();
    await sent?.catch(() => undefined);
    await input.close();
    await h.close();
  }
});
