import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeGelfPayload, detectGelfCompression, GELF_LEVEL_NAMES } from '../../../src/ingest/gelf/decode.js';

const sample = {
  version: '1.1',
  host: 'example.org',
  short_message: 'A short message that helps you identify what is going on',
  full_message: 'Backtrace here\n\nmore stuff',
  timestamp: 1385053862.3072,
  level: 1,
  _user_id: 9001,
  _some_info: 'foo',
  _some_env_var: 'bar',
};

function json(obj: unknown): Buffer {
  return Buffer.from(JSON.stringify(obj));
}

function ok(buf: Buffer, opts?: Parameters<typeof decodeGelfPayload>[1]): Record<string, unknown> {
  const r = decodeGelfPayload(buf, opts);
  if (!r.ok) assert.fail(`expected ok, got ${r.error}`);
  return r.event;
}

function err(buf: Buffer, opts?: Parameters<typeof decodeGelfPayload>[1]): string {
  const r = decodeGelfPayload(buf, opts);
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r.event)}`);
  return r.error;
}

const expected = {
  message: 'A short message that helps you identify what is going on',
  full_message: 'Backtrace here\n\nmore stuff',
  host: 'example.org',
  '@timestamp': 1385053862307.2,
  level: 'alert',
  'gelf.level': 1,
  user_id: 9001,
  some_info: 'foo',
  some_env_var: 'bar',
};

test('plain JSON: the spec example maps to Logmill fields', () => {
  assert.deepEqual(ok(json(sample)), expected);
});

test('gzip payload', () => {
  const buf = gzipSync(json(sample));
  assert.equal(detectGelfCompression(buf), 'gzip');
  assert.deepEqual(ok(buf), expected);
});

test('zlib payload at every compression level (header bytes 78 01 / 5e / 9c / da)', () => {
  for (const level of [0, 1, 2, 6, 9]) {
    const buf = deflateSync(json(sample), { level });
    assert.equal(detectGelfCompression(buf), 'zlib', `level ${level} header ${buf.subarray(0, 2).toString('hex')}`);
    assert.deepEqual(ok(buf), expected);
  }
});

test('detection: plain JSON with leading whitespace is not mistaken for zlib', () => {
  for (const lead of ['', ' ', '\n', '\t', '\r\n']) {
    const buf = Buffer.from(lead + JSON.stringify(sample));
    assert.equal(detectGelfCompression(buf), 'none');
    assert.deepEqual(ok(buf), expected);
  }
});

test('trailing NUL delimiter and UTF-8 BOM are tolerated', () => {
  const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(sample), Buffer.from([0, 0])]);
  assert.deepEqual(ok(buf), expected);
});

test('levels map to syslog severity names', () => {
  assert.deepEqual(GELF_LEVEL_NAMES, ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']);
  for (let l = 0; l <= 7; l++) {
    const e = ok(json({ host: 'h', short_message: 'm', level: l }));
    assert.equal(e['level'], GELF_LEVEL_NAMES[l]);
    assert.equal(e['gelf.level'], l);
  }
  // numeric strings are tolerated
  assert.equal(ok(json({ host: 'h', short_message: 'm', level: '3' }))['level'], 'err');
});

test('missing level and timestamp: fields are absent', () => {
  const e = ok(json({ version: '1.1', host: 'h', short_message: 'm' }));
  assert.deepEqual(e, { message: 'm', host: 'h' });
});

test('timestamp: seconds with fraction → milliseconds (microsecond precision), numeric string accepted', () => {
  assert.equal(ok(json({ host: 'h', short_message: 'm', timestamp: 1700000000 }))['@timestamp'], 1700000000000);
  assert.equal(ok(json({ host: 'h', short_message: 'm', timestamp: 1700000000.123456 }))['@timestamp'], 1700000000123.456);
  assert.equal(ok(json({ host: 'h', short_message: 'm', timestamp: '1700000000.5' }))['@timestamp'], 1700000000500);
});

test('additional fields: underscore stripped, nested objects flattened, arrays as JSON, _id renamed', () => {
  const e = ok(
    json({
      host: 'h',
      short_message: 'm',
      _id: 'abc',
      _http: { status: 200, req: { method: 'GET', ok: true } },
      _tags: ['a', 'b'],
      _nothing: null,
      _flag: false,
    }),
  );
  assert.deepEqual(e, {
    message: 'm',
    host: 'h',
    gelf_id: 'abc',
    'http.status': 200,
    'http.req.method': 'GET',
    'http.req.ok': true,
    tags: '["a","b"]',
    nothing: null,
    flag: false,
  });
});

test('additional fields colliding with standard output fields are prefixed gelf_', () => {
  const e = ok(json({ host: 'h', short_message: 'm', level: 6, _message: 'x', _host: 'y', _level: 'z', '_gelf.level': 9 }));
  assert.equal(e['message'], 'm');
  assert.equal(e['host'], 'h');
  assert.equal(e['level'], 'info');
  assert.equal(e['gelf.level'], 6);
  assert.equal(e['gelf_message'], 'x');
  assert.equal(e['gelf_host'], 'y');
  assert.equal(e['gelf_level'], 'z');
  assert.equal(e['gelf_gelf.level'], 9);
});

test('field names: invalid characters replaced, "_" alone dropped, __proto__ is just a field', () => {
  const raw = '{"host":"h","short_message":"m","_a b":1,"_":2,"__proto__":{"polluted":1},"_x":{"__proto__":3}}';
  const e = ok(Buffer.from(raw));
  assert.equal(e['a_b'], 1);
  assert.equal(Object.prototype.hasOwnProperty.call(e, ''), false);
  assert.equal(e['_proto__.polluted'], 1);
  assert.equal(e['x.__proto__'], 3);
  assert.equal(Object.getPrototypeOf(e), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('deprecated GELF 1.0 top-level fields (facility, file, line) are kept', () => {
  const e = ok(json({ version: '1.0', host: 'h', short_message: 'm', facility: 'app', file: 'a.js', line: 12 }));
  assert.equal(e['facility'], 'app');
  assert.equal(e['file'], 'a.js');
  assert.equal(e['line'], 12);
});

test('short_message falls back to "message" (as Graylog does)', () => {
  const e = ok(json({ host: 'h', message: 'from message' }));
  assert.equal(e['message'], 'from message');
  assert.equal(Object.prototype.hasOwnProperty.call(e, 'gelf_message'), false);
});

test('deep nesting beyond maxDepth is kept as JSON text', () => {
  const e = ok(json({ host: 'h', short_message: 'm', _a: { b: { c: { d: 1 } } } }), { maxDepth: 2 });
  assert.deepEqual(e['a.b'], '{"c":{"d":1}}');
});

test('validation errors name what was wrong', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ host: 'h' }, /^GELF: missing required field "short_message"$/],
    [{ short_message: 'm' }, /^GELF: missing required field "host"$/],
    [{ host: '', short_message: 'm' }, /"host" is empty/],
    [{ host: 'h', short_message: '   ' }, /"short_message" is empty/],
    [{ host: 5, short_message: 'm' }, /"host" must be a string, got number/],
    [{ host: 'h', short_message: { a: 1 } }, /"short_message" must be a string, got object/],
    [{ host: 'h', short_message: 'm', full_message: 3 }, /"full_message" must be a string/],
    [{ host: 'h', short_message: 'm', level: 8 }, /"level" must be a syslog severity 0\.\.7, got 8/],
    [{ host: 'h', short_message: 'm', level: 'warn' }, /"level" must be a syslog severity/],
    [{ host: 'h', short_message: 'm', level: 2.5 }, /"level"/],
    [{ host: 'h', short_message: 'm', timestamp: 'yesterday' }, /"timestamp" must be a number of seconds/],
    [{ host: 'h', short_message: 'm', timestamp: -1 }, /"timestamp" out of range/],
    [{ host: 'h', short_message: 'm', timestamp: 1e13 }, /"timestamp" out of range/],
    [{ version: '2.0', host: 'h', short_message: 'm' }, /unsupported "version" "2\.0"/],
    [[1, 2], /must be a JSON object, got array/],
    ['str', /must be a JSON object, got string/],
  ];
  for (const [doc, re] of cases) assert.match(err(json(doc)), re, JSON.stringify(doc));
  assert.match(err(Buffer.alloc(0)), /empty payload/);
  assert.match(err(Buffer.from('{"host":')), /not valid JSON/);
  assert.match(err(Buffer.from([0, 0, 0])), /empty payload/);
  assert.match(err(Buffer.from([0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 0, 2, 0x7b])), /is a chunk .* reassemble it/);
});

test('too many fields is refused', () => {
  const doc: Record<string, unknown> = { host: 'h', short_message: 'm' };
  for (let i = 0; i < 20; i++) doc[`_f${i}`] = i;
  assert.match(err(json(doc), { maxFields: 10 }), /too many fields \(limit 10\)/);
  assert.equal(Object.keys(ok(json(doc), { maxFields: 22 })).length, 22);
});

test('corrupt compressed payloads give errors, not throws', () => {
  const gz = gzipSync(json(sample));
  assert.match(err(gz.subarray(0, gz.length - 10)), /^GELF: invalid gzip payload/);
  const z = deflateSync(json(sample));
  const bad = Buffer.from(z);
  bad[5] ^= 0xff;
  bad[6] ^= 0xff;
  assert.match(err(bad), /^GELF: (invalid zlib payload|payload is not valid JSON)/);
  // raw deflate has no header: treated as (invalid) plain JSON
  assert.match(err(deflateRawSync(json(sample))), /^GELF: /);
});

test('zip bombs are refused at the decompression bound', () => {
  const bomb = Buffer.alloc(20 * 1024 * 1024, 0x20); // 20 MiB of spaces
  const gz = gzipSync(bomb, { level: 9 });
  const z = deflateSync(bomb, { level: 9 });
  assert.ok(gz.length < 64 * 1024);
  assert.match(err(gz), /^GELF: gzip payload inflates beyond the 8388608-byte limit$/);
  assert.match(err(z), /^GELF: zlib payload inflates beyond the 8388608-byte limit$/);
  // a custom bound applies, and to plain payloads too
  const small = gzipSync(json({ host: 'h', short_message: 'x'.repeat(2000) }));
  assert.match(err(small, { maxDecompressedBytes: 1000 }), /inflates beyond the 1000-byte limit/);
  assert.match(err(json({ host: 'h', short_message: 'x'.repeat(2000) }), { maxDecompressedBytes: 1000 }), /exceeds the 1000-byte limit/);
});
