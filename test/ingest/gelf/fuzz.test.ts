import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { decodeGelfPayload } from '../../../src/ingest/gelf/decode.js';
import { GelfChunkAssembler } from '../../../src/ingest/gelf/chunks.js';
import { prng } from '../../helpers/prng.js';


const SEED = 0x5eed1;
const ITERATIONS = 12_000;

function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

function mutate(r: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const ops = 1 + int(r, 4);
  let out = b;
  for (let k = 0; k < ops; k++) {
    const op = int(r, 5);
    if (out.length === 0) return randomBytes(r, int(r, 16));
    const at = int(r, out.length);
    if (op === 0) out[at] = int(r, 256);
    else if (op === 1) out[at] = out[at]! ^ (1 << int(r, 8));
    else if (op === 2) out = out.subarray(0, at);
    else if (op === 3) out = Buffer.concat([out.subarray(0, at), randomBytes(r, 1 + int(r, 8)), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(r, 8)))]);
  }
  return out;
}

const SCALARS: unknown[] = ['', 'x', 'héllo', 0, -1, 1.5, 7, 8, 1e300, true, false, null, [], [1, 'a'], {}, { a: { b: 1 } }];

function randomDoc(r: () => number): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  const keys = ['version', 'host', 'short_message', 'full_message', 'timestamp', 'level', '_id', '_a', '_b.c', '_', 'message', '__proto__', '_x y', 'facility'];
  const n = int(r, 10);
  for (let i = 0; i < n; i++) doc[keys[int(r, keys.length)]!] = SCALARS[int(r, SCALARS.length)];
  if (r() < 0.5) {
    doc['host'] = 'h';
    doc['short_message'] = 'm';
  }
  return doc;
}

const MAX_FIELDS = 50;

function checkDecode(buf: Buffer): 'ok' | 'error' {
  const res = decodeGelfPayload(buf, { maxDecompressedBytes: 64 * 1024, maxFields: MAX_FIELDS });
  if (res.ok) {
    const keys = Object.keys(res.event);
    assert.ok(keys.length <= MAX_FIELDS);
    assert.equal(typeof res.event['message'], 'string');
    assert.equal(typeof res.event['host'], 'string');
    for (const k of keys) {
      const v = res.event[k];
      assert.ok(v === null || ['string', 'number', 'boolean'].includes(typeof v), `field ${k} has type ${typeof v}`);
    }
    return 'ok';
  }
  assert.equal(typeof res.error, 'string');
  assert.ok(res.error.startsWith('GELF: '), res.error);
  assert.ok(res.error.length < 2000);
  return 'error';
}

test(`decodeGelfPayload never throws on ${ITERATIONS} random and mutated payloads`, () => {
  const r = prng(SEED);
  const seeds: Buffer[] = [];
  for (let i = 0; i < 30; i++) {
    const plain = Buffer.from(JSON.stringify(randomDoc(r)));
    seeds.push(plain, gzipSync(plain), deflateSync(plain));
  }
  // a compressed bomb among the seeds: mutations of it must stay bounded
  seeds.push(gzipSync(Buffer.alloc(1024 * 1024, 0x20)), deflateSync(Buffer.alloc(1024 * 1024, 0x20)));
  const counts = { ok: 0, error: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    let input: Buffer;
    const kind = int(r, 4);
    if (kind === 0) input = randomBytes(r, int(r, 200));
    else if (kind === 1) input = Buffer.from(JSON.stringify(randomDoc(r)));
    else input = mutate(r, seeds[int(r, seeds.length)]!);
    counts[checkDecode(input)]++;
  }
  assert.ok(counts.ok > 100, `some inputs decode (${counts.ok})`);
  assert.ok(counts.error > 100, `some inputs fail (${counts.error})`);
});

test(`GelfChunkAssembler stays bounded over ${ITERATIONS} random datagrams`, () => {
  const r = prng(SEED + 1);
  const opts = { maxMessages: 20, maxBytes: 16 * 1024, timeoutMs: 50 };
  const a = new GelfChunkAssembler(opts);
  const ids = Array.from({ length: 40 }, (_, i) => Buffer.from([0, 0, 0, 0, 0, 0, 0, i]));
  let now = 0;
  let outputs = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    now += int(r, 3);
    let d: Buffer;
    const kind = int(r, 4);
    if (kind === 0) {
      d = randomBytes(r, int(r, 64));
    } else {
      const count = r() < 0.9 ? 1 + int(r, 4) : int(r, 256);
      const seq = r() < 0.9 ? int(r, Math.max(1, count)) : int(r, 256);
      const hdr = Buffer.from([0x1e, 0x0f, ...ids[int(r, ids.length)]!, seq, count]);
      d = Buffer.concat([hdr, randomBytes(r, int(r, 2000))]);
      if (kind === 3) d = mutate(r, d);
    }
    const res = a.push(d, now);
    if (Buffer.isBuffer(res)) {
      outputs++;
      assert.ok(res.length <= 128 * 2100);
      checkDecode(res);
    } else if (res !== null) {
      assert.equal(typeof res.error, 'string');
    }
    if (i % 100 === 0) a.expire(now);
    assert.ok(a.pendingBytes <= opts.maxBytes, `pendingBytes ${a.pendingBytes}`);
    assert.ok(a.pendingBytes >= 0);
    assert.ok(a.pendingMessages <= opts.maxMessages);
  }
  assert.ok(outputs > 0);
  assert.ok(a.completed > 0 && a.invalid > 0 && a.evicted + a.expired > 0);
});
