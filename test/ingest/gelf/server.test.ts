/**
 * GELF over UDP (and the HTTP handler): the npm client `gelf-pro` (deflated,
 * always chunked, > 8 KB messages in many chunks), hand-built gzip / zlib /
 * plain / out-of-order chunked datagrams, a flood of chunked messages that
 * never complete (memory stays bounded), and malformed payloads. Every check
 * reads the stored events back from a real DuckDB store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { gelfHttpHandler, startGelfInputs, startGelfUdp } from '../../../src/ingest/gelf/server.js';
import { Datagrams, chunk, chunksOf, gelfPro, gelfProSend } from '../../fixtures/netinputs/gelf.js';
import { find, openHarness, portOf, waitFor, waitForHits } from '../../fixtures/netinputs/harness.js';

const udp = { input: 'gelf_udp' };
const http = { input: 'gelf_http' };

function gelf(fields: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ version: '1.1', host: 'app-1', ...fields }));
}

test('gelf-pro over UDP: small and > 8 KB (chunked) messages stored with their fields', async () => {
  const h = await openHarness();
  const input = await startGelfUdp('127.0.0.1:0', h.ctx);
  const logger = gelfPro('udp', { host: '127.0.0.1', port: portOf(input), protocol: 'udp4' }, { facility: 'checkout' });
  try {
    await gelfProSend(logger, 'payment failed', 3, {
      host: 'pay-1',
      timestamp: 1767225600.123,
      user_id: 42,
      http: { status: 502, method: 'POST' },
    });
    const big = randomBytes(12_000).toString('hex'); // 24,000 chars; ~12 KB deflated
    await gelfProSend(logger, 'a big one', 6, { host: 'pay-1', full_message: big, trace: 'abc' });

    const [small] = await waitForHits(h.store, 'message:"payment failed"', 1);
    assert.equal(small!.host, 'pay-1');
    assert.equal(small!.level, 'err');
    assert.equal(small!['gelf.level'], 3);
    assert.equal(small!['@timestamp'], '2026-01-01T00:00:00.123Z');
    assert.equal(small!.user_id, 42);
    assert.equal(small!.http_status, 502); // gelf-pro flattens nested extras with "_"
    assert.equal(small!.http_method, 'POST');
    assert.equal(small!.facility, 'checkout');

    const [large] = await waitForHits(h.store, 'message:"a big one"', 1);
    assert.equal(large!.full_message, big);
    // More than 8 KB arrived, in gelf-pro's chunks of at most 1,400 bytes: the big one came in several chunks.
    assert.ok(h.metrics.get('logmill_ingest_bytes_total', udp) > 8 * 1024);
    assert.equal(large!.level, 'info');
    assert.equal(large!.trace, 'abc');
    const stats = input.chunkStats();
    assert.ok(stats.completed >= 2, JSON.stringify(stats)); // gelf-pro chunks everything, even 1-chunk messages
    assert.equal(stats.pendingMessages, 0);
    assert.equal(stats.pendingBytes, 0);
    assert.equal(h.metrics.get('logmill_events_ingested_total', udp), 2);
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', udp), 0);
  } finally {
    await input.close();
    await h.close();
  }
});

test('hand-built datagrams: plain, gzip, zlib, and chunked out of order with duplicates', async () => {
  const h = await openHarness();
  const input = await startGelfUdp('127.0.0.1:0', h.ctx);
  const sender = new Datagrams(portOf(input));
  try {
    await sender.send(gelf({ short_message: 'plain one', _kind: 'plain' }));
    await sender.send(gzipSync(gelf({ short_message: 'gzip one', _kind: 'gzip', level: 4 })));
    await sender.send(deflateSync(gelf({ short_message: 'zlib one', _kind: 'zlib', timestamp: 1767225600.000001 })));
    const payload = gzipSync(gelf({ short_message: 'chunked one', _kind: 'chunked', full_message: 'x'.repeat(5000) }));
    const parts = chunksOf(payload, 5);
    for (const i of [4, 2, 0, 2, 3, 1]) await sender.send(parts[i]!); // seq 2 twice

    await waitForHits(h.store, 'kind:*', 4);
    const { hits } = await find(h.store, 'kind:*');
    const by = new Map(hits.map((x) => [x.kind, x]));
    assert.equal(by.get('plain')!.message, 'plain one');
    assert.equal(by.get('plain')!.host, 'app-1');
    assert.equal(by.get('gzip')!.message, 'gzip one');
    assert.equal(by.get('gzip')!.level, 'warning');
    assert.equal(by.get('zlib')!.message, 'zlib one');
    assert.equal(by.get('zlib')!['@timestamp'], '2026-01-01T00:00:00.000001Z');
    assert.equal(by.get('chunked')!.message, 'chunked one');
    assert.equal(by.get('chunked')!.full_message, 'x'.repeat(5000));
    assert.equal(input.chunkStats().duplicates, 1);
    assert.equal(input.chunkStats().pendingMessages, 0);
  } finally {
    await sender.close();
    await input.close();
    await h.close();
  }
});

test('5,000 chunked messages that never complete: memory stays within the budget, drops are counted, later messages stored', async () => {
  const h = await openHarness();
  const budget = 256 * 1024;
  const input = await startGelfUdp('127.0.0.1:0', h.ctx, {
    chunks: { maxBytes: budget, maxMessages: 1000, timeoutMs: 1000 },
    expireIntervalMs: 100,
  });
  const sender = new Datagrams(portOf(input));
  const filler = Buffer.alloc(1000, 0x61);
  let worstBytes = 0;
  let worstMessages = 0;
  try {
    for (let i = 0; i < 5000; i++) {
      await sender.send(chunk(randomBytes(8), 0, 2, filler)); // chunk 1 of 2 never comes
      if (i % 50 === 0) {
        // Loopback send callbacks come without a turn of the event loop: give the receiver one.
        await new Promise((r) => setImmediate(r));
        const s = input.chunkStats();
        worstBytes = Math.max(worstBytes, s.pendingBytes);
        worstMessages = Math.max(worstMessages, s.pendingMessages);
      }
    }
    const datagram = 12 + filler.length;
    // What the kernel delivered (it may drop some of a flood): every one of them is accounted for below.
    const received = (): number => h.metrics.get('logmill_ingest_bytes_total', udp) / datagram;
    await waitFor('the receiver to catch up', async () => {
      const before = received();
      await new Promise((r) => setTimeout(r, 50));
      return received() === before;
    });
    const s = input.chunkStats();
    assert.ok(s.pendingBytes <= budget && worstBytes <= budget, `pending ${s.pendingBytes}, worst ${worstBytes}, budget ${budget}`);
    assert.ok(worstMessages <= Math.floor(budget / datagram), `worst ${worstMessages} messages held`);
    assert.ok(received() > 2000, `only ${received()} datagrams arrived`);
    assert.ok(s.evicted > 0, JSON.stringify(s));
    assert.equal(s.pendingMessages + s.evicted + s.expired, received());
    // Every message is held, evicted or expired; the dropped ones are counted.
    await waitFor('every incomplete message to expire', () => input.chunkStats().pendingMessages === 0);
    const end = input.chunkStats();
    assert.equal(end.pendingBytes, 0);
    assert.equal(end.evicted + end.expired, received());
    assert.equal(h.metrics.get('logmill_input_dropped_total', udp), received());
    assert.equal(h.metrics.get('logmill_gelf_chunks_pending_bytes', udp), 0);

    await sender.send(gelf({ short_message: 'after the flood' }));
    await waitForHits(h.store, 'message:"after the flood"', 1);
    assert.equal((await find(h.store, '*')).total, 1);
  } finally {
    await sender.close();
    await input.close();
    await h.close();
  }
});

test('malformed UDP payloads: counted, stored tagged when they hold text, nothing crashes, good ones still stored', async () => {
  const h = await openHarness();
  const input = await startGelfUdp('127.0.0.1:0', h.ctx);
  const sender = new Datagrams(portOf(input));
  try {
    const bad: Buffer[] = [
      Buffer.from('this is not json'),
      Buffer.from('{"short_message":"no host"}'),
      gzipSync(Buffer.from('{"host":"h","short_message":"bad level","level":"loud"}')),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), // a gzip header and nothing after
      Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]), // zlib header, garbage
      Buffer.from('[1,2,3]'),
      Buffer.from([0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x41]), // chunk with count 0
      Buffer.from([0x1e, 0x0f, 1, 2]), // chunk header cut short
    ];
    for (const b of bad) await sender.send(b);
    await sender.send(gelf({ short_message: 'good after bad' }));

    await waitForHits(h.store, 'message:"good after bad"', 1);
    await waitFor('every bad datagram to be counted', () => h.metrics.get('logmill_input_parse_failures_total', udp) === bad.length);
    // The six that are not chunk-header errors are stored, tagged (searched as '*': see the report on tags: queries).
    await waitFor('the failure events to be stored', async () => (await find(h.store, '*')).total === 7);
    const failed = (await find(h.store, '*')).hits.filter((x) => Array.isArray(x.tags) && x.tags.includes('_jsonparsefailure'));
    assert.equal(failed.length, 6);
    const byMessage = new Map(failed.map((x) => [String(x.message), x]));
    assert.match(String(byMessage.get('this is not json')!['error.message']), /not valid JSON/);
    assert.match(String(byMessage.get('{"short_message":"no host"}')!['error.message']), /missing required field "host"/);
    assert.match(String(byMessage.get('{"host":"h","short_message":"bad level","level":"loud"}')!['error.message']), /"level" must be a syslog severity/);
    assert.ok(byMessage.has('[undecodable gzip GELF payload of 6 bytes]'), [...byMessage.keys()].join(' | '));
    assert.ok(byMessage.has('[undecodable zlib GELF payload of 5 bytes]'), [...byMessage.keys()].join(' | '));
    assert.ok(h.logs.some((l) => l.includes('GELF chunk: sequence count 0 out of range')), h.logs.join('\n'));
  } finally {
    await sender.close();
    await input.close();
    await h.close();
  }
});

test('startGelfInputs: UDP and TCP on the same port', async () => {
  const h = await openHarness();
  const inputs = await startGelfInputs('127.0.0.1:0', h.ctx);
  try {
    assert.deepEqual(
      inputs.map((i) => i.name),
      ['gelf_udp', 'gelf_tcp'],
    );
    assert.equal(portOf(inputs[0]), portOf(inputs[1]));
    const port = portOf(inputs[0]);
    await gelfProSend(gelfPro('udp', { host: '127.0.0.1', port, protocol: 'udp4' }), 'via udp', 6, {});
    await gelfProSend(gelfPro('tcp', { host: '127.0.0.1', port }), 'via tcp', 6, {});
    await waitForHits(h.store, 'message:via*', 2);
  } finally {
    for (const i of inputs) await i.close();
    await h.close();
  }
});

test('GELF over HTTP: 202 once stored, compressed bodies recognized, 400 with the decoder error for a bad one', async () => {
  const h = await openHarness();
  try {
    const ok = await gelfHttpHandler(gelf({ short_message: 'over http', _request_id: 'r-1', timestamp: 1767225600.5 }), h.ctx);
    assert.deepEqual(ok, { status: 202, body: { accepted: 1 } });
    const gz = await gelfHttpHandler(gzipSync(gelf({ short_message: 'gzipped over http' })), h.ctx);
    assert.equal(gz.status, 202);
    // Stored already: the handler resolves only when the write is durable.
    const { hits } = await find(h.store, 'request_id:r-1');
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.message, 'over http');
    assert.equal(hits[0]!['@timestamp'], '2026-01-01T00:00:00.500Z');
    assert.equal((await find(h.store, 'message:gzipped*')).total, 1);

    const bad = await gelfHttpHandler(Buffer.from('{"host":"h"}'), h.ctx);
    assert.deepEqual(bad, { status: 400, body: { error: { type: 'bad_request', message: 'GELF: missing required field "short_message"' } } });
    const empty = await gelfHttpHandler(Buffer.alloc(0), h.ctx);
    assert.equal(empty.status, 400);
    assert.equal((await find(h.store, '*')).total, 2);
    assert.equal(h.metrics.get('logmill_input_parse_failures_total', http), 2);
    assert.equal(h.metrics.get('logmill_events_ingested_total', http), 2);
  } finally {
    await h.close();
  }
});

test('fields that must not steer the event: _timestamp stays a field, __id and __index become gelf__id and gelf__index', async () => {
  const h = await openHarness();
  try {
    const r = await gelfHttpHandler(
      gelf({ short_message: 'steer', timestamp: 1767225600, _timestamp: '1999-01-01T00:00:00Z', __id: 'doc-1', __index: 'other' }),
      h.ctx,
    );
    assert.equal(r.status, 202);
    const [hit] = (await find(h.store, 'message:steer')).hits;
    assert.equal(hit!['@timestamp'], '2026-01-01T00:00:00.000Z');
    assert.equal(hit!.timestamp, '1999-01-01T00:00:00.000Z'); // the store keeps ISO text as a timestamp field
    assert.notEqual(hit!._id, 'doc-1');
    assert.equal(hit!._index, undefined);
    assert.equal(hit!.gelf__id, 'doc-1');
    assert.equal(hit!.gelf__index, 'other');
  } finally {
    await h.close();
  }
});
