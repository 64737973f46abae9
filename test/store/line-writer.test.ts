/**
 * LineWriter writes segment lines straight into bytes: numbers digit by
 * digit, strings escaped as JSON. Every line must read back as the JSON the
 * values make.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineWriter } from '../../src/store/duckdb/rows.js';
import { prng } from '../helpers/prng.js';

function written(fill: (w: LineWriter) => void): string {
  const w = new LineWriter();
  fill(w);
  return w.take().toString('utf8');
}

describe('LineWriter', () => {
  it('writes numbers as JSON does, whole numbers of every length and sign included', () => {
    const fixed = [0, -0, 7, 10, 99, 100, 99_999_999, 100_000_000, 100_000_001, 123_456_789_012_345, 1_795_244_700_123_456, Number.MAX_SAFE_INTEGER, -5, -1_000_000_000_003, 1.5, -2.25, 1e300, 2 ** 53 + 2, 5e-7];
    for (const n of fixed) assert.equal(written((w) => w.number(n)), JSON.stringify(n), `number ${n}`);
    const random = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(random() * 16);
      const n = Math.floor(random() * 10 ** digits) * (random() < 0.2 ? -1 : 1);
      assert.equal(written((w) => w.number(n)), JSON.stringify(n), `number ${n}`);
    }
  });

  it('writes strings that parse back to themselves, whichever way they are escaped', () => {
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '世', '😀', '\u007f', '-'];
    const random = prng(11);
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(random() * (random() < 0.5 ? 40 : 300));
      let s = '';
      // Mostly plain ASCII with quotes, as access logs are; sometimes anything from the alphabet.
      const rich = random() < 0.3;
      for (let k = 0; k < len; k++) s += rich || random() < 0.1 ? alphabet[Math.floor(random() * alphabet.length)] : String.fromCharCode(32 + Math.floor(random() * 95));
      const text = written((w) => w.string(s));
      assert.equal(JSON.parse(text), s, `string ${JSON.stringify(s)}`);
    }
  });

  it('writes lines that parse back to their values', () => {
    const line = written((w) => {
      const start = w.pos;
      w.ascii('{"_seq":');
      w.number(42);
      w.ascii(',"ts":');
      w.number(1_795_244_700_123_456);
      w.ascii(',"message":');
      w.string('quote " backslash \\ tab \t grüße 😀 and a long enough text to take the other path');
      w.ascii(',"short":');
      w.string('a"b');
      w.endLine(start);
    });
    assert.deepEqual(JSON.parse(line), {
      _seq: 42,
      ts: 1_795_244_700_123_456,
      message: 'quote " backslash \\ tab \t grüße 😀 and a long enough text to take the other path',
      short: 'a"b',
    });
    assert.ok(line.endsWith('}\n'));
  });
});
