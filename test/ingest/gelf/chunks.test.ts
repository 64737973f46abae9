import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { GelfChunkAssembler } from '../../../src/ingest/gelf/chunks.js';
import { decodeGelfPayload } from '../../../src/ingest/gelf/decode.js';

/** Split `payload` into GELF chunks of at most `size` payload bytes. */
function chunk(id: Buffer, payload: Buffer, size: number, countOverride?: number): Buffer[] {
  const n = Math.max(1, Math.ceil(payload.length / size));
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const h = Buffer.alloc(12);
    h[0] = 0x1e;
    h[1] = 0x0f;
    id.copy(h, 2);
    h[10] = i;
    h[11] = countOverride ?? n;
    out.push(Buffer.concat([h, payload.subarray(i * size, (i + 1) * size)]));
  }
  return out;
}

function idOf(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function isBuffer(v: unknown): v is Buffer {
  return Buffer.isBuffer(v);
}

/** Deterministic text that gzip cannot shrink much, so the payload spans several chunks. */
function noise(n: number): string {
  let s = 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += String.fromCharCode(0x21 + (s % 90));
  }
  return out.replace(/["\\]/g, '.');
}

const payload = gzipSync(Buffer.from(JSON.stringify({ version: '1.1', host: 'h', short_message: noise(5000), _n: 1 })));

test('non-chunked datagrams pass through unchanged', () => {
  const a = new GelfChunkAssembler();
  const d = Buffer.from('{"host":"h","short_message":"m"}');
  assert.equal(a.push(d, 0), d);
  assert.equal(a.passthrough, 1);
  assert.equal(a.pendingMessages, 0);
});

test('in-order chunks reassemble to the original payload, which decodes', () => {
  const a = new GelfChunkAssembler();
  const parts = chunk(idOf(1), payload, 100);
  assert.ok(parts.length > 3);
  let result: unknown = null;
  for (let i = 0; i < parts.length; i++) {
    result = a.push(parts[i]!, 1000);
    if (i < parts.length - 1) assert.equal(result, null);
  }
  assert.ok(isBuffer(result));
  assert.deepEqual(result, payload);
  const r = decodeGelfPayload(result);
  assert.ok(r.ok);
  assert.equal(a.completed, 1);
  assert.equal(a.pendingBytes, 0);
  assert.equal(a.pendingMessages, 0);
});

test('out-of-order chunks (reversed and shuffled) reassemble', () => {
  const a = new GelfChunkAssembler();
  const parts = chunk(idOf(2), payload, 64);
  const reversed = [...parts].reverse();
  let last: unknown;
  for (const p of reversed) last = a.push(p, 0);
  assert.deepEqual(last, payload);

  // deterministic shuffle, interleaved with a second message
  const p1 = chunk(idOf(3), payload, 50);
  const other = Buffer.from('second message payload '.repeat(20));
  const p2 = chunk(idOf(4), other, 37);
  const order = [...p1.map((b) => [1, b] as const), ...p2.map((b) => [2, b] as const)];
  let s = 7;
  for (let i = order.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const done = new Map<number, Buffer>();
  for (const [which, b] of order) {
    const r = a.push(b, 0);
    if (isBuffer(r)) done.set(which, r);
    else assert.equal(r, null);
  }
  assert.deepEqual(done.get(1), payload);
  assert.deepEqual(done.get(2), other);
  assert.equal(a.completed, 3);
  assert.equal(a.pendingBytes, 0);
});

test('a single-chunk chunked message completes immediately', () => {
  const a = new GelfChunkAssembler();
  const [only] = chunk(idOf(5), Buffer.from('abc'), 100);
  assert.deepEqual(a.push(only!, 0), Buffer.from('abc'));
  assert.equal(a.completed, 1);
});

test('duplicate chunks are ignored and counted', () => {
  const a = new GelfChunkAssembler();
  const parts = chunk(idOf(6), payload, 200);
  assert.equal(a.push(parts[0]!, 0), null);
  const bytesAfterFirst = a.pendingBytes;
  assert.equal(a.push(parts[0]!, 0), null);
  assert.equal(a.duplicates, 1);
  assert.equal(a.pendingBytes, bytesAfterFirst, 'duplicate not stored');
  let last: unknown;
  for (const p of parts.slice(1)) last = a.push(p, 0);
  assert.deepEqual(last, payload);
});

test('inconsistent sequence counts are refused without losing the message', () => {
  const a = new GelfChunkAssembler();
  const parts = chunk(idOf(7), payload, 500);
  assert.equal(a.push(parts[0]!, 0), null);
  const liar = chunk(idOf(7), payload, 500, parts.length + 1)[1]!;
  const r = a.push(liar, 0);
  assert.ok(r !== null && !isBuffer(r));
  assert.match(r.error, /sequence count \d+ differs/);
  assert.equal(a.invalid, 1);
  let last: unknown;
  for (const p of parts.slice(1)) last = a.push(p, 0);
  assert.deepEqual(last, payload);
});

test('malformed chunks are refused', () => {
  const a = new GelfChunkAssembler({ maxChunks: 10 });
  const errors: string[] = [];
  const push = (b: Buffer): void => {
    const r = a.push(b, 0);
    assert.ok(r !== null && !isBuffer(r), `expected error for ${b.toString('hex')}`);
    errors.push(r.error);
  };
  push(Buffer.from([0x1e, 0x0f, 1, 2, 3])); // short header
  const h = (seq: number, count: number): Buffer => Buffer.from([0x1e, 0x0f, 0, 0, 0, 0, 0, 0, 0, 9, seq, count, 0x41]);
  push(h(0, 0)); // count 0
  push(h(0, 11)); // count > maxChunks
  push(h(3, 3)); // seq == count
  push(h(200, 129)); // > 128
  push(Buffer.alloc(0));
  assert.equal(a.invalid, 6);
  assert.match(errors[0]!, /shorter than the 12-byte chunk header/);
  assert.match(errors[1]!, /sequence count 0 out of range \(1\.\.10\)/);
  assert.match(errors[2]!, /sequence count 11 out of range/);
  assert.match(errors[3]!, /sequence number 3 not below sequence count 3/);
  assert.match(errors[5]!, /empty datagram/);
  assert.equal(a.pendingMessages, 0);
});

test('expire drops incomplete messages older than the timeout', () => {
  const a = new GelfChunkAssembler({ timeoutMs: 5000 });
  const p1 = chunk(idOf(10), payload, 100);
  const p2 = chunk(idOf(11), payload, 100);
  a.push(p1[0]!, 1000);
  a.push(p2[0]!, 4000);
  assert.equal(a.expire(5999), 0);
  assert.equal(a.expire(6001), 1);
  assert.equal(a.pendingMessages, 1);
  assert.equal(a.expired, 1);
  assert.equal(a.expire(9001), 1);
  assert.equal(a.expired, 2);
  assert.equal(a.pendingBytes, 0);
  // remaining chunks of an expired message start a new (never-completing) message
  for (const p of p1.slice(1)) assert.equal(a.push(p, 9002), null);
});

test('a late chunk for a timed-out message restarts it even before expire() runs', () => {
  const a = new GelfChunkAssembler({ timeoutMs: 100 });
  const parts = chunk(idOf(12), Buffer.from('0123456789'), 5);
  assert.equal(a.push(parts[0]!, 0), null);
  assert.equal(a.push(parts[1]!, 500), null, 'first chunk was stale, so not complete');
  assert.equal(a.expired, 1);
  assert.deepEqual(a.push(parts[0]!, 510), Buffer.from('0123456789'));
});

test('flood of never-completed messages: memory stays bounded by maxMessages', () => {
  const a = new GelfChunkAssembler({ maxMessages: 50 });
  const body = Buffer.alloc(1000, 0x61);
  for (let i = 0; i < 10_000; i++) {
    const [first] = chunk(idOf(100 + i), Buffer.concat([body, body]), 1000);
    assert.equal(a.push(first!, i), null);
    assert.ok(a.pendingMessages <= 50);
    assert.ok(a.pendingBytes <= 50 * 1012);
  }
  assert.equal(a.pendingMessages, 50);
  assert.equal(a.pendingBytes, 50 * 1012);
  assert.equal(a.evicted, 10_000 - 50);
});

test('flood of never-completed messages: memory stays bounded by maxBytes', () => {
  const maxBytes = 64 * 1024;
  const a = new GelfChunkAssembler({ maxBytes, maxMessages: 100_000 });
  const body = Buffer.alloc(8000, 0x62);
  for (let i = 0; i < 5_000; i++) {
    const parts = chunk(idOf(20_000 + i), Buffer.concat([body, body, body]), 8000);
    // two of three chunks: never completes
    a.push(parts[0]!, i);
    a.push(parts[2]!, i);
    assert.ok(a.pendingBytes <= maxBytes, `pendingBytes ${a.pendingBytes}`);
  }
  assert.ok(a.evicted > 4_900);
  // the newest message survived eviction and can still complete
  const last = chunk(idOf(20_000 + 4_999), Buffer.concat([body, body, body]), 8000);
  assert.deepEqual(a.push(last[1]!, 5000), Buffer.concat([body, body, body]));
});

test('a message that alone exceeds maxBytes is refused, and the budget is kept', () => {
  const a = new GelfChunkAssembler({ maxBytes: 3000 });
  const parts = chunk(idOf(30), Buffer.alloc(5000, 1), 1000);
  assert.equal(a.push(parts[0]!, 0), null);
  assert.equal(a.push(parts[1]!, 0), null);
  const r = a.push(parts[2]!, 0);
  assert.ok(r !== null && !isBuffer(r));
  assert.match(r.error, /exceeds the 3000-byte reassembly budget/);
  assert.equal(a.pendingBytes, 0);
  assert.equal(a.evicted, 1);
  const big = Buffer.concat([Buffer.from([0x1e, 0x0f, 0, 0, 0, 0, 0, 0, 0, 31, 0, 2]), Buffer.alloc(4000)]);
  const r2 = a.push(big, 0);
  assert.ok(r2 !== null && !isBuffer(r2));
  assert.match(r2.error, /exceeds the 3000-byte reassembly budget/);
});

test('128 chunks (the GELF maximum) reassemble', () => {
  const a = new GelfChunkAssembler();
  const big = Buffer.alloc(128 * 100);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const parts = chunk(idOf(40), big, 100);
  assert.equal(parts.length, 128);
  let last: unknown;
  for (const p of parts.reverse()) last = a.push(p, 0);
  assert.deepEqual(last, big);
});
