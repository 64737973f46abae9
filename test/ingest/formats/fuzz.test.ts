/**
 * Fuzzing what `logmill import` parses: every format's test() and parse() on random and mutated lines
 * (never a throw; a line that is not in the format is kept whole), and the file reader on random files
 * (random line lengths, lines over the limit, bytes that are not UTF-8, CRLF, gzip): it gives back exactly
 * the file's lines, in order, each once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { detectFormat, FORMATS } from '../../../src/ingest/formats/detect.js';
import { FileLines } from '../../../src/ingest/formats/file-lines.js';
import { Gen } from '../../helpers/prng.js';
import { sharedData } from '../../helpers/shared-data.js';

const ctx = { now: new Date('2026-12-07T00:00:00Z'), timeZone: 'Europe/Berlin' };

const seeds = [
  ...fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n').slice(0, 200),
  ...fs.readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').slice(0, 200),
  '{"message":"x","n":1,"a":{"b":[1,2,{"c":null}]}}',
  '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x@1 a="b"] msg',
  '2026-12-07T03:35:53.123456+00:00 host prog[1]: m',
];
const alphabet = [...' abc:[]{}<>"\'=\\/-.%0123456789\t\u0000\u0007\ufeff\ufffdé世😀', 'Mar', 'Dec', ' 12:00:00 ', '"GET / HTTP/1.1"', '[07/Dec/2026:10:00:00 +0000]'];

describe('import formats under fuzzing', () => {
  test('test() and parse() never throw; a line not in the format is kept whole and tagged', () => {
    const g = new Gen(2312);
    for (let i = 0; i < 20_000; i++) {
      const line = g.chance(0.3) ? g.text(alphabet, 120) : g.damage(g.pick(seeds), alphabet, seeds);
      for (const f of FORMATS) {
        const label = `${f.name}: ${JSON.stringify(line)}`;
        assert.equal(typeof f.test(line), 'boolean', label);
        const p = f.parse(line, ctx);
        assert.equal(typeof p.ok, 'boolean', label);
        assert.ok(p.time !== p.time || Number.isFinite(p.time), `${label}: time ${p.time}`);
        if (!p.ok) {
          // The syslog parser drops trailing NUL, CR and LF (transport trailers) even from a line it keeps whole.
          const whole = f.name === 'syslog' ? line.replace(/[\r\n\u0000]+$/, '') : line;
          assert.equal(p.fields.message, whole, label);
          assert.ok(Array.isArray(p.fields.tags) && p.fields.tags.length > 0, label);
        }
        assert.doesNotThrow(() => JSON.stringify(p.fields), label);
      }
    }
  });

  test('detection of random samples always names a format', () => {
    const g = new Gen(77);
    for (let i = 0; i < 300; i++) {
      const sample = Array.from({ length: g.int(70) }, () => (g.chance(0.5) ? g.damage(g.pick(seeds), alphabet, seeds) : g.text(alphabet, 80)));
      assert.ok(FORMATS.includes(detectFormat(sample)));
    }
  });
});

describe('the import file reader on random files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-lines-fuzz-'));
  const MAX = 300;

  async function readAll(file: string): Promise<{ lines: (string | null)[]; invalid: number; oversize: number[]; error: string | null }> {
    const r = new FileLines(file, MAX);
    const lines: (string | null)[] = [];
    const oversize: number[] = [];
    let invalid = 0;
    let expectFirst = 1;
    for await (const c of r.chunks()) {
      assert.equal(c.first, expectFirst, 'chunks follow each other');
      expectFirst += c.lines.length;
      invalid += c.invalid?.length ?? 0;
      for (const o of c.oversize) oversize.push(o.line);
      lines.push(...c.lines);
    }
    return { lines, invalid, oversize, error: r.error };
  }

  for (let round = 0; round < 12; round++) {
    test(`round ${round}: every line once, in order, long ones skipped, bad bytes marked${round % 3 === 2 ? ' (gzip)' : ''}`, async () => {
      const g = new Gen(1000 + round);
      const parts: Buffer[] = [];
      const want: (string | null)[] = [];
      const wantOversize: number[] = [];
      let wantInvalid = 0;
      const n = 500 + g.int(3000);
      for (let i = 0; i < n; i++) {
        const long = g.chance(0.02);
        let text = long ? 'x'.repeat(MAX + 1 + g.int(3 << 20)) : g.text(['a', 'b', ' ', 'é', '世', '😀', '\t', ':'], 200);
        if (!long && Buffer.byteLength(text) > MAX) text = text.slice(0, 60);
        let bytes = Buffer.from(text, 'utf8');
        let bad = false;
        if (!long && g.chance(0.03)) {
          bytes = Buffer.concat([bytes, Buffer.from([0xff, 0xc3])]);
          bad = true;
        }
        const crlf = g.chance(0.2);
        parts.push(bytes, Buffer.from(crlf ? '\r\n' : '\n'));
        if (bytes.length > MAX) {
          want.push(null);
          wantOversize.push(i + 1);
        } else {
          want.push(bytes.toString('utf8'));
          if (bad) wantInvalid++;
        }
      }
      let data = Buffer.concat(parts);
      const gzip = round % 3 === 2;
      if (gzip) data = zlib.gzipSync(data);
      const file = path.join(dir, `f${round}${gzip ? '.gz' : '.log'}`);
      fs.writeFileSync(file, data);
      const got = await readAll(file);
      assert.equal(got.error, null);
      assert.equal(got.lines.length, want.length);
      for (let i = 0; i < want.length; i++) assert.equal(got.lines[i], want[i], `line ${i + 1}`);
      assert.deepEqual(got.oversize, wantOversize);
      assert.equal(got.invalid, wantInvalid);
    });
  }

  test('a gzip file cut anywhere: whole lines before the break, an error, never a throw', async () => {
    const g = new Gen(9);
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${g.text(['a', 'b', 'c'], 40)}`);
    const gz = zlib.gzipSync(Buffer.from(lines.join('\n') + '\n'));
    for (let k = 0; k < 8; k++) {
      const cut = 20 + g.int(gz.length - 40);
      const file = path.join(dir, `cut${k}.gz`);
      fs.writeFileSync(file, gz.subarray(0, cut));
      const got = await readAll(file);
      assert.ok(got.error !== null, `cut at ${cut}: an error`);
      assert.ok(got.lines.length < lines.length);
      for (let i = 0; i < got.lines.length; i++) assert.equal(got.lines[i], lines[i], `cut at ${cut}, line ${i + 1}`);
    }
  });
});
