/** The truncate filter: byte limits in UTF-8 that never split a character, on fields, lists, hashes and whole events. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Gen } from '../helpers/prng.js';
import { truncateUtf8 } from '../../src/pipeline/filters/truncate.js';
import { refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

describe('truncate filter', () => {
  it('cuts to length_bytes of UTF-8, backing up to the last whole character', () => {
    const block = (n: number) => `truncate { fields => ["m"] length_bytes => ${n} }`;
    assert.equal(runOne(block(10), { m: 'hello world, how are you?' }).m, 'hello worl', 'the example of Logstash');
    assert.equal(runOne(block(2), { m: 'héllo' }).m, 'h', 'é takes two bytes: it does not fit in the second');
    assert.equal(runOne(block(3), { m: 'héllo' }).m, 'hé');
    assert.equal(runOne(block(5), { m: '日本語' }).m, '日', 'three bytes each');
    assert.equal(runOne(block(6), { m: '日本語' }).m, '日本');
    assert.equal(runOne(block(5), { m: 'a😀b' }).m, 'a😀', 'a four-byte emoji stays whole');
    assert.equal(runOne(block(4), { m: 'a😀b' }).m, 'a');
    assert.equal(runOne(block(0), { m: 'abc' }).m, '');
    assert.equal(runOne(block(100), { m: 'short' }).m, 'short');
  });

  it('cuts each string of a list and every string in a hash, and leaves numbers alone', () => {
    const e = runOne(`truncate { fields => ["list", "[h]"] length_bytes => 3 }`, { list: ['abcdef', 12345678, 'xy'], h: { a: 'abcdef', deep: { b: 'ghijkl', n: 1234567 } }, other: 'untouched' });
    assert.deepEqual(e.list, ['abc', 12345678, 'xy']);
    assert.deepEqual(e.h, { a: 'abc', deep: { b: 'ghi', n: 1234567 } });
    assert.equal(e.other, 'untouched');
  });

  it('without fields cuts every string of the event but @timestamp, and applies add_tag', () => {
    const e = runOne(`truncate { length_bytes => 4 add_tag => ["cut"] }`, { message: 'a long message', nested: { s: 'abcdefgh' }, n: 123456789 });
    assert.equal(e.message, 'a lo');
    assert.deepEqual(e.nested, { s: 'abcd' });
    assert.equal(e.n, 123456789);
    assert.equal(e['@timestamp'], '2000-01-01T00:00:00.000Z');
    assert.deepEqual(e.tags, ['cut'], 'tags are strings too, but "cut" fits');
  });

  it('never splits a character, for any string and limit (seeded)', () => {
    const gen = new Gen(42);
    const alphabet = ['a', 'Z', ' ', 'é', 'ß', '€', '日', '😀', '🇩🇪', '\u0000', '\uD800', '\uDC00', '\u07FF', '\u0800', '\uFFFF'];
    for (let i = 0; i < 20_000; i++) {
      const text = gen.text(alphabet, 30);
      const limit = gen.int(60);
      const cut = truncateUtf8(text, limit);
      assert.ok(text.startsWith(cut));
      assert.ok(Buffer.byteLength(cut) <= limit, `${JSON.stringify(text)} ${limit}`);
      if (cut.length < text.length) {
        // The next character (a whole surrogate pair) would not have fitted.
        const next = text.codePointAt(cut.length)!;
        const nextUnits = next > 0xffff ? 2 : 1;
        assert.ok(Buffer.byteLength(text.slice(0, cut.length + nextUnits)) > limit, `${JSON.stringify(text)} ${limit} → ${JSON.stringify(cut)}`);
        assert.ok(!(cut.length > 0 && /[\uD800-\uDBFF]$/.test(cut) && /^[\uDC00-\uDFFF]/.test(text.slice(cut.length))), 'no half pair');
      }
    }
  });

  it('refuses a missing or negative length_bytes', () => {
    refuses(`truncate { fields => ["m"] }`, /"length_bytes" is required/);
    refuses(`truncate { length_bytes => -1 }`, /"length_bytes" must be at least 0/);
    refuses(`truncate { length_bytes => "ten" }`, /"length_bytes" must be a whole number/);
  });

  it('leaves a pathologically deep value alone below its depth limit, without overflowing', () => {
    let deep: Record<string, any> = { leaf: 'abcdef%20' };
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const e = runOne(`truncate { length_bytes => 3 }`, { deep, top: 'abcdef' });
    assert.equal(e.top, 'abc');
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`truncate { fields => ["message"] length_bytes => 5 }`, [{ message: 'Grüße aus Berlin' }]);
    assert.equal(events[0].message, 'Grü', '"Grü" is 4 bytes, "Grüß" 6');
  });
});
