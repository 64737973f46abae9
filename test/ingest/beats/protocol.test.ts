import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import {
  LumberjackDecoder,
  type LumberjackFrame,
  beatsEventToFields,
  encodeAck,
  encodeCompressed,
  encodeJsonFrame,
  encodeV1DataFrame,
  encodeWindow,
} from '../../../src/ingest/beats/protocol.js';

const filebeatEvent = {
  '@timestamp': '2026-03-01T12:00:00.123Z',
  '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
  message: 'GET /index.html 200',
  host: { name: 'web-1', os: { family: 'debian' } },
  log: { file: { path: '/var/log/nginx/access.log' }, offset: 1234 },
  input: { type: 'filestream' },
  agent: { type: 'filebeat', version: '8.15.0' },
  tags: ['nginx', 'prod'],
  ecs: { version: '8.0.0' },
};

/** A window of n events, as go-lumber's v2 client sends it: W then C{J 1..n}. */
function batch(events: unknown[], compressed = true): Buffer {
  const frames = Buffer.concat(events.map((e, i) => encodeJsonFrame(i + 1, e)));
  return Buffer.concat([encodeWindow(2, events.length), compressed ? encodeCompressed(frames) : frames]);
}

function fatal(frames: LumberjackFrame[]): string {
  const last = frames[frames.length - 1];
  assert.ok(last !== undefined && last.type === 'error' && last.fatal, `expected a fatal error, got ${JSON.stringify(frames)}`);
  return last.message;
}

test('encoders produce the go-lumber byte layout', () => {
  assert.deepEqual(encodeAck(2, 5), Buffer.from([0x32, 0x41, 0, 0, 0, 5]));
  assert.deepEqual(encodeAck(1, 0x01020304), Buffer.from([0x31, 0x41, 1, 2, 3, 4]));
  assert.deepEqual(encodeWindow(2, 1024), Buffer.from([0x32, 0x57, 0, 0, 4, 0]));
  assert.deepEqual(encodeJsonFrame(7, { a: 1 }), Buffer.concat([Buffer.from([0x32, 0x4a, 0, 0, 0, 7, 0, 0, 0, 7]), Buffer.from('{"a":1}')]));
  assert.deepEqual(
    encodeV1DataFrame(3, { k: 'vé' }),
    Buffer.from([0x31, 0x44, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0x6b, 0, 0, 0, 3, 0x76, 0xc3, 0xa9]),
  );
  const c = encodeCompressed(Buffer.from('xyz'));
  assert.deepEqual(c.subarray(0, 2), Buffer.from('2C'));
  assert.equal(c.readUInt32BE(2), c.length - 6);
  assert.throws(() => encodeAck(2, -1), RangeError);
  assert.throws(() => encodeWindow(2, 2 ** 32), RangeError);
  assert.throws(() => encodeAck(3 as 2, 1), RangeError);
});

test('round trip: window + uncompressed J frames', () => {
  const d = new LumberjackDecoder();
  const frames = d.push(batch([filebeatEvent, { message: 'two' }], false));
  assert.deepEqual(frames, [
    { type: 'window', version: 2, size: 2 },
    { type: 'data', version: 2, seq: 1, event: filebeatEvent },
    { type: 'data', version: 2, seq: 2, event: { message: 'two' } },
  ]);
  assert.equal(d.bufferedBytes, 0);
});

test('round trip: compressed frame holding several J frames', () => {
  const events = Array.from({ length: 50 }, (_, i) => ({ ...filebeatEvent, message: `line ${i}` }));
  const d = new LumberjackDecoder();
  const frames = d.push(batch(events));
  assert.equal(frames.length, 51);
  assert.deepEqual(frames[0], { type: 'window', version: 2, size: 50 });
  for (let i = 0; i < 50; i++) {
    const f = frames[i + 1]!;
    assert.ok(f.type === 'data');
    assert.equal(f.seq, i + 1);
    assert.equal(f.event['message'], `line ${i}`);
  }
});

test('several windows back to back, mixing compressed and plain', () => {
  const d = new LumberjackDecoder();
  const input = Buffer.concat([batch([{ n: 1 }]), batch([{ n: 2 }, { n: 3 }], false), batch([{ n: 4 }])]);
  const frames = d.push(input);
  assert.deepEqual(
    frames.map((f) => (f.type === 'data' ? `d${f.seq}:${String(f.event['n'])}` : f.type === 'window' ? `w${f.size}` : 'e')),
    ['w1', 'd1:1', 'w2', 'd1:2', 'd2:3', 'w1', 'd1:4'],
  );
});

test('frames split at every byte boundary decode identically', () => {
  const input = Buffer.concat([
    batch([filebeatEvent, { message: 'b' }]),
    batch([{ message: 'c' }], false),
    encodeWindow(1, 1),
    encodeV1DataFrame(1, { line: 'v1 line', file: '/f' }),
  ]);
  const whole = new LumberjackDecoder().push(input);
  assert.equal(whole.length, 7);
  for (let cut = 1; cut < input.length; cut++) {
    const d = new LumberjackDecoder();
    const got = [...d.push(input.subarray(0, cut)), ...d.push(input.subarray(cut))];
    assert.deepEqual(got, whole, `split at ${cut}`);
    assert.equal(d.bufferedBytes, 0);
  }
  // and one byte at a time
  const d = new LumberjackDecoder();
  const got: LumberjackFrame[] = [];
  for (let i = 0; i < input.length; i++) got.push(...d.push(input.subarray(i, i + 1)));
  assert.deepEqual(got, whole);
  assert.deepEqual(d.end(), []);
});

test('v1 D frames: string pairs, repeated keys (last wins), empty frame, UTF-8', () => {
  const d = new LumberjackDecoder();
  const frames = d.push(
    Buffer.concat([
      encodeWindow(1, 3),
      encodeV1DataFrame(1, { line: 'hello', file: '/var/log/x', host: 'h1', offset: '42' }),
      encodeV1DataFrame(2, [
        ['k', 'first'],
        ['k', 'second'],
        ['ünï', 'cödé'],
      ]),
      encodeV1DataFrame(3, {}),
    ]),
  );
  assert.deepEqual(frames, [
    { type: 'window', version: 1, size: 3 },
    { type: 'data', version: 1, seq: 1, event: { line: 'hello', file: '/var/log/x', host: 'h1', offset: '42' } },
    { type: 'data', version: 1, seq: 2, event: { k: 'second', ünï: 'cödé' } },
    { type: 'data', version: 1, seq: 3, event: {} },
  ]);
});

test('v1 compressed frame of D frames (logstash-forwarder style)', () => {
  const inner = Buffer.concat([encodeV1DataFrame(1, { line: 'a' }), encodeV1DataFrame(2, { line: 'b' })]);
  const frames = new LumberjackDecoder().push(Buffer.concat([encodeWindow(1, 2), encodeCompressed(inner, 1)]));
  assert.deepEqual(
    frames.map((f) => f.type),
    ['window', 'data', 'data'],
  );
});

test('a D frame key "__proto__" is kept as a plain field', () => {
  const [f] = new LumberjackDecoder().push(encodeV1DataFrame(1, [['__proto__', 'x']]));
  assert.ok(f !== undefined && f.type === 'data');
  assert.equal(Object.getPrototypeOf(f.event), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(f.event, '__proto__')?.value, 'x');
});

test('bad JSON in a J frame: non-fatal error carrying the ackable seq; decoding continues', () => {
  const bad = Buffer.from('{"message": oops}');
  const j = Buffer.alloc(10);
  j.write('2J');
  j.writeUInt32BE(2, 2);
  j.writeUInt32BE(bad.length, 6);
  const notObject = encodeJsonFrame(3, [1, 2]);
  const d = new LumberjackDecoder();
  const frames = d.push(Buffer.concat([encodeWindow(2, 4), encodeJsonFrame(1, { a: 1 }), j, bad, notObject, encodeJsonFrame(4, { b: 2 })]));
  assert.equal(frames.length, 5);
  const e2 = frames[2]!;
  assert.ok(e2.type === 'error' && !e2.fatal);
  assert.equal(e2.seq, 2);
  assert.equal(e2.version, 2);
  assert.match(e2.message, /invalid JSON in data frame seq 2/);
  const e3 = frames[3]!;
  assert.ok(e3.type === 'error' && !e3.fatal);
  assert.equal(e3.seq, 3);
  assert.match(e3.message, /holds an array, not a JSON object/);
  assert.deepEqual(frames[4], { type: 'data', version: 2, seq: 4, event: { b: 2 } });
  assert.equal(d.closed, false);
});

test('bad JSON inside a compressed frame is also non-fatal', () => {
  const bad = Buffer.from('not json');
  const j = Buffer.concat([Buffer.from([0x32, 0x4a, 0, 0, 0, 1, 0, 0, 0, bad.length]), bad]);
  const frames = new LumberjackDecoder().push(encodeCompressed(Buffer.concat([j, encodeJsonFrame(2, { ok: true })])));
  assert.equal(frames.length, 2);
  assert.ok(frames[0]!.type === 'error' && !frames[0]!.fatal && frames[0]!.seq === 1);
  assert.equal(frames[1]!.type, 'data');
});

test('fatal: bad version byte', () => {
  const d = new LumberjackDecoder();
  const frames = d.push(Buffer.concat([encodeWindow(2, 1), Buffer.from('3W\0\0\0\x01')]));
  assert.equal(frames[0]!.type, 'window', 'frames before the error are returned');
  assert.match(fatal(frames), /bad version byte 0x33/);
  assert.equal(d.closed, true);
  assert.deepEqual(d.push(encodeWindow(2, 1)), [], 'closed decoder ignores input');
  // an HTTP client hitting the Beats port
  assert.match(fatal(new LumberjackDecoder().push(Buffer.from('GET / HTTP/1.1\r\n'))), /bad version byte 0x47/);
  // TLS client hello on a plaintext port
  assert.match(fatal(new LumberjackDecoder().push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))), /bad version byte 0x16/);
});

test('fatal: unknown frame type', () => {
  assert.match(fatal(new LumberjackDecoder().push(Buffer.from('2Z\0\0\0\0'))), /unknown frame type 'Z' \(0x5a\)/);
  assert.match(fatal(new LumberjackDecoder().push(Buffer.from([0x32, 0x00]))), /unknown frame type 0x00/);
});

test('fatal: ACK from a client, unless allowAck', () => {
  assert.match(fatal(new LumberjackDecoder().push(encodeAck(2, 9))), /unexpected ACK/);
  assert.deepEqual(new LumberjackDecoder({ allowAck: true }).push(encodeAck(2, 9)), [{ type: 'ack', version: 2, seq: 9 }]);
});

test('a window of 2^31 is a fatal error (never clamped, never allocated)', () => {
  const w = Buffer.from([0x32, 0x57, 0x80, 0, 0, 0]);
  assert.match(fatal(new LumberjackDecoder().push(w)), /window size 2147483648 exceeds the maximum 65536/);
  assert.match(fatal(new LumberjackDecoder().push(Buffer.from([0x32, 0x57, 0xff, 0xff, 0xff, 0xff]))), /window size 4294967295/);
  assert.deepEqual(new LumberjackDecoder().push(encodeWindow(2, 65536)), [{ type: 'window', version: 2, size: 65536 }]);
  assert.deepEqual(new LumberjackDecoder().push(encodeWindow(2, 0)), [{ type: 'window', version: 2, size: 0 }]);
  assert.match(fatal(new LumberjackDecoder({ maxWindow: 100 }).push(encodeWindow(2, 101))), /exceeds the maximum 100/);
});

test('absurd lengths fail at the header, with nothing buffered', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from([0x32, 0x4a, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]), /JSON frame length 4294967295 exceeds the 8388608-byte limit/],
    [Buffer.from([0x32, 0x43, 0x7f, 0xff, 0xff, 0xff]), /compressed frame length 2147483647 exceeds/],
    [Buffer.from([0x31, 0x44, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]), /pair count 4294967295 exceeds/],
    [Buffer.from([0x31, 0x44, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf0]), /data frame exceeds the 8388608-byte limit/],
    [Buffer.from([0x31, 0x44, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x6b, 0x7f, 0xff, 0xff, 0xff]), /data frame exceeds/],
  ];
  for (const [buf, re] of cases) {
    const d = new LumberjackDecoder();
    const before = process.memoryUsage().arrayBuffers;
    assert.match(fatal(d.push(buf)), re);
    assert.equal(d.bufferedBytes, 0);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no large allocation');
  }
  // lengths just within a small limit are buffered, one above fails
  const small = { maxFrameBytes: 100 };
  assert.deepEqual(new LumberjackDecoder(small).push(Buffer.from([0x32, 0x4a, 0, 0, 0, 1, 0, 0, 0, 100])), []);
  assert.match(fatal(new LumberjackDecoder(small).push(Buffer.from([0x32, 0x4a, 0, 0, 0, 1, 0, 0, 0, 101]))), /exceeds the 100-byte limit/);
});

test('compressed: inflate failure is fatal', () => {
  const garbage = Buffer.concat([Buffer.from([0x32, 0x43, 0, 0, 0, 5]), Buffer.from('hello')]);
  assert.match(fatal(new LumberjackDecoder().push(garbage)), /compressed frame does not inflate/);
  const z = deflateSync(encodeJsonFrame(1, { a: 1 }));
  const truncatedStream = Buffer.concat([Buffer.from([0x32, 0x43, 0, 0, 0, z.length - 4]), z.subarray(0, z.length - 4)]);
  assert.match(fatal(new LumberjackDecoder().push(truncatedStream)), /compressed frame does not inflate/);
});

test('compressed: zip bomb stops at maxInflatedBytes', () => {
  const bomb = encodeCompressed(Buffer.alloc(64 * 1024 * 1024, 0x32), 2, 9);
  assert.ok(bomb.length < 128 * 1024);
  assert.match(fatal(new LumberjackDecoder().push(bomb)), /inflates beyond the 33554432-byte limit/);
  const small = encodeCompressed(Buffer.concat([encodeJsonFrame(1, { m: 'x'.repeat(5000) })]));
  assert.match(fatal(new LumberjackDecoder({ maxInflatedBytes: 1000 }).push(small)), /inflates beyond the 1000-byte limit/);
});

test('compressed: truncated inner frame is fatal and the frame is atomic (no partial events)', () => {
  const inner = Buffer.concat([encodeJsonFrame(1, { a: 1 }), encodeJsonFrame(2, { b: 2 }).subarray(0, 12)]);
  const frames = new LumberjackDecoder().push(encodeCompressed(inner));
  assert.equal(frames.length, 1, 'seq 1 is not emitted');
  assert.match(fatal(frames), /compressed frame ends inside a frame/);
  // a bad frame type inside is fatal too, again without partial output
  const inner2 = Buffer.concat([encodeJsonFrame(1, { a: 1 }), Buffer.from('2X')]);
  const f2 = new LumberjackDecoder().push(encodeCompressed(inner2));
  assert.equal(f2.length, 1);
  assert.match(fatal(f2), /unknown frame type 'X'/);
});

test('compressed: nesting is bounded', () => {
  const once = encodeCompressed(encodeJsonFrame(1, { deep: 1 }));
  const twice = encodeCompressed(once);
  assert.equal(new LumberjackDecoder().push(twice).length, 1);
  assert.match(fatal(new LumberjackDecoder().push(encodeCompressed(twice))), /nested more than 2 deep/);
  // empty compressed payload: no frames, no error
  assert.deepEqual(new LumberjackDecoder().push(encodeCompressed(Buffer.alloc(0))), []);
});

test('truncated frames: nothing emitted, bytes held, end() reports the truncation', () => {
  const full = batch([filebeatEvent]);
  for (const cut of [1, 2, 5, 7, 8, 11, full.length - 1]) {
    const d = new LumberjackDecoder();
    const frames = d.push(full.subarray(0, cut));
    assert.ok(frames.every((f) => f.type === 'window'));
    assert.ok(d.bufferedBytes > 0 && d.bufferedBytes <= cut);
    const end = d.end();
    assert.match(fatal(end), /connection ended inside a frame/);
    assert.equal(d.closed, true);
  }
  const d = new LumberjackDecoder();
  d.push(full);
  assert.deepEqual(d.end(), []);
});

test('a large J frame arriving in many small chunks is buffered once, bounded', () => {
  const big = encodeJsonFrame(1, { message: 'y'.repeat(1024 * 1024) });
  const d = new LumberjackDecoder();
  let frames: LumberjackFrame[] = [];
  for (let i = 0; i < big.length; i += 1000) {
    frames = frames.concat(d.push(big.subarray(i, i + 1000)));
    assert.ok(d.bufferedBytes <= big.length);
  }
  assert.equal(frames.length, 1);
  assert.equal(d.bufferedBytes, 0);
});

test('beatsEventToFields: Filebeat event', () => {
  assert.deepEqual(beatsEventToFields(filebeatEvent), {
    '@timestamp': '2026-03-01T12:00:00.123Z',
    '@metadata.beat': 'filebeat',
    '@metadata.type': '_doc',
    '@metadata.version': '8.15.0',
    message: 'GET /index.html 200',
    'host.name': 'web-1',
    'host.os.family': 'debian',
    host: 'web-1',
    'log.file.path': '/var/log/nginx/access.log',
    'log.offset': 1234,
    'input.type': 'filestream',
    'agent.type': 'filebeat',
    'agent.version': '8.15.0',
    tags: ['nginx', 'prod'],
    'ecs.version': '8.0.0',
    source: '/var/log/nginx/access.log',
  });
});

test('beatsEventToFields: string host kept, existing source kept, v1 line/file mapped', () => {
  assert.deepEqual(beatsEventToFields({ host: 'h', source: '/a', log: { file: { path: '/b' } } }), {
    host: 'h',
    source: '/a',
    'log.file.path': '/b',
  });
  assert.deepEqual(beatsEventToFields({ line: 'l', file: '/f', host: 'h', offset: '1' }), {
    line: 'l',
    file: '/f',
    host: 'h',
    offset: '1',
    message: 'l',
    source: '/f',
  });
  const deep: Record<string, unknown> = {};
  let cur = deep;
  for (let i = 0; i < 40; i++) {
    const next: Record<string, unknown> = {};
    cur['k'] = next;
    cur = next;
  }
  cur['leaf'] = 1;
  const flat = beatsEventToFields(deep);
  const keys = Object.keys(flat);
  assert.equal(keys.length, 1);
  assert.equal(typeof flat[keys[0]!], 'string');
});
