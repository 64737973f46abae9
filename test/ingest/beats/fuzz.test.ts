import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../../helpers/prng.js';
import {
  LumberjackDecoder,
  type LumberjackDecoderOptions,
  type LumberjackFrame,
  beatsEventToFields,
  encodeCompressed,
  encodeJsonFrame,
  encodeV1DataFrame,
  encodeWindow,
} from '../../../src/ingest/beats/protocol.js';


const SEED = 0xbea75;
const ITERATIONS = 12_000;
const OPTS: LumberjackDecoderOptions = { maxFrameBytes: 4096, maxWindow: 1000, maxInflatedBytes: 64 * 1024 };

function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

function mutate(r: () => number, src: Buffer): Buffer {
  let out = Buffer.from(src);
  const ops = 1 + int(r, 3);
  for (let k = 0; k < ops; k++) {
    if (out.length === 0) return randomBytes(r, int(r, 16));
    const at = int(r, out.length);
    const op = int(r, 6);
    if (op === 0) out[at] = int(r, 256);
    else if (op === 1) out[at] = out[at]! ^ (1 << int(r, 8));
    else if (op === 2) out = out.subarray(0, at);
    else if (op === 3) out = Buffer.concat([out.subarray(0, at), randomBytes(r, 1 + int(r, 8)), out.subarray(at)]);
    else if (op === 4) out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(r, 8)))]);
    else if (at + 4 <= out.length) out.writeUInt32BE(int(r, 2) === 0 ? 0xffffffff : int(r, 5000), at); // length-like fields
  }
  return out;
}

function randomEvent(r: () => number): Record<string, unknown> {
  const e: Record<string, unknown> = { message: `m${int(r, 1000)}` };
  if (r() < 0.5) e['host'] = { name: `h${int(r, 10)}` };
  if (r() < 0.3) e['log'] = { file: { path: '/var/log/x' }, offset: int(r, 1e6) };
  if (r() < 0.2) e['tags'] = ['a', 'b'];
  return e;
}

function validStream(r: () => number): Buffer {
  const parts: Buffer[] = [];
  const windows = 1 + int(r, 3);
  for (let w = 0; w < windows; w++) {
    const n = 1 + int(r, 5);
    if (r() < 0.2) {
      parts.push(encodeWindow(1, n));
      const ds = Array.from({ length: n }, (_, i) => encodeV1DataFrame(i + 1, { line: `l${i}`, file: '/f' }));
      parts.push(r() < 0.5 ? encodeCompressed(Buffer.concat(ds), 1) : Buffer.concat(ds));
    } else {
      parts.push(encodeWindow(2, n));
      const js = Array.from({ length: n }, (_, i) => encodeJsonFrame(i + 1, randomEvent(r)));
      parts.push(r() < 0.6 ? encodeCompressed(Buffer.concat(js)) : Buffer.concat(js));
    }
  }
  return Buffer.concat(parts);
}

/** Feed `input` in random-sized chunks; check the bounds after every push. */
function feed(r: () => number, input: Buffer): { frames: LumberjackFrame[]; decoder: LumberjackDecoder } {
  const d = new LumberjackDecoder(OPTS);
  const frames: LumberjackFrame[] = [];
  let p = 0;
  while (p < input.length) {
    const n = 1 + int(r, r() < 0.5 ? 16 : 512);
    const chunk = input.subarray(p, p + n);
    p += n;
    const got = d.push(chunk);
    for (const f of got) frames.push(f);
    // one push yields at most: whole frames in the bytes seen (>= 6 bytes each, or
    // from an inflated frame: >= 6 bytes each of at most maxInflatedBytes) + one error
    assert.ok(got.length <= Math.ceil((chunk.length + OPTS.maxInflatedBytes! + 10) / 6) + 1);
    // buffered input never exceeds one maximal frame plus the current chunk
    assert.ok(d.bufferedBytes <= OPTS.maxFrameBytes! + 10 + chunk.length, `buffered ${d.bufferedBytes}`);
    if (d.closed) break;
  }
  return { frames, decoder: d };
}

function checkFrames(frames: LumberjackFrame[]): void {
  let fatals = 0;
  for (const f of frames) {
    switch (f.type) {
      case 'window':
        assert.ok(Number.isInteger(f.size) && f.size >= 0 && f.size <= OPTS.maxWindow!);
        break;
      case 'data':
        assert.ok(typeof f.event === 'object' && f.event !== null && !Array.isArray(f.event));
        assert.ok(Number.isInteger(f.seq) && f.seq >= 0 && f.seq <= 0xffffffff);
        beatsEventToFields(f.event); // must not throw either
        break;
      case 'error':
        assert.equal(typeof f.message, 'string');
        if (f.fatal) fatals++;
        else assert.ok(Number.isInteger(f.seq));
        break;
      default:
        assert.fail(`unexpected frame ${JSON.stringify(f)}`);
    }
  }
  assert.ok(fatals <= 1, 'at most one fatal error, and it is last');
  if (fatals === 1) {
    const last = frames[frames.length - 1]!;
    assert.ok(last.type === 'error' && last.fatal);
  }
}

test(`LumberjackDecoder never throws and stays bounded on ${ITERATIONS} random and mutated streams`, () => {
  const r = prng(SEED);
  const stats = { data: 0, fatal: 0, nonFatal: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    let input: Buffer;
    const kind = int(r, 5);
    if (kind === 0) input = randomBytes(r, int(r, 300));
    else if (kind === 1) {
      // random bytes after a valid prefix byte pair, to reach the frame parsers
      const types = ['W', 'J', 'C', 'D', 'A'];
      input = Buffer.concat([Buffer.from((r() < 0.5 ? '2' : '1') + types[int(r, types.length)]!), randomBytes(r, int(r, 64))]);
    } else if (kind === 2) input = validStream(r);
    else input = mutate(r, validStream(r));

    const { frames } = feed(r, input);
    checkFrames(frames);

    // splitting must not change the outcome
    const whole = new LumberjackDecoder(OPTS).push(input);
    assert.deepEqual(frames, whole, `iteration ${i}: chunked and whole decoding differ`);
    if (kind === 2) assert.ok(frames.every((f) => f.type !== 'error'), 'valid streams decode cleanly');

    for (const f of frames) {
      if (f.type === 'data') stats.data++;
      else if (f.type === 'error') stats[f.fatal ? 'fatal' : 'nonFatal']++;
    }
  }
  assert.ok(stats.data > 1000 && stats.fatal > 1000 && stats.nonFatal > 0, JSON.stringify(stats));
});
