/** The urldecode filter: %XX runs decoded in a charset, failures tagged, odd text never throwing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineEvent } from '../../src/pipeline/event.js';

import { Gen } from '../helpers/prng.js';
import { filterOf, refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

describe('urldecode filter', () => {
  it('decodes %XX runs in message by default, leaving + and malformed escapes as they are', () => {
    assert.equal(runOne(`urldecode { }`, { message: '/search?q=caf%C3%A9+cr%c3%a8me%20br%C3%BBl%C3%A9e' }).message, '/search?q=café+crème brûlée');
    assert.equal(runOne(`urldecode { }`, { message: '100% sure %zz %4' }).message, '100% sure %zz %4');
    assert.equal(runOne(`urldecode { }`, { message: 'europ%C3%A9enneeuropéenne' }).message, 'européenneeuropéenne', 'the case Logstash fixed');
    assert.equal(runOne(`urldecode { }`, { message: '%F0%9F%98%80' }).message, '😀');
  });

  it('tags bytes that are not valid UTF-8 with _urldecodefailure and leaves the field', () => {
    const logs: string[] = [];
    const e = runOne(`urldecode { add_tag => ["decoded"] }`, { message: 'bad %C3 byte' }, logs);
    assert.equal(e.message, 'bad %C3 byte');
    assert.deepEqual(e.tags, ['_urldecodefailure'], 'no add_tag on failure');
    assert.equal(logs.length, 1);
    const custom = runOne(`urldecode { tag_on_failure => ["nope"] }`, { message: '%FF' });
    assert.deepEqual(custom.tags, ['nope']);
  });

  it('decodes in another charset', () => {
    assert.equal(runOne(`urldecode { charset => "ISO-8859-1" }`, { message: 'caf%E9' }).message, 'café');
    refuses(`urldecode { charset => "KLINGON-8" }`, /"charset"/);
  });

  it('decodes a named field, lists and hashes, and with all_fields every field', () => {
    const one = runOne(`urldecode { field => "[url][query]" }`, { url: { query: ['a%20b', 'c%2Fd', 5] }, message: 'x%20y' });
    assert.deepEqual(one.url.query, ['a b', 'c/d', 5]);
    assert.equal(one.message, 'x%20y');
    const all = runOne(`urldecode { all_fields => true }`, { a: 'x%20y', b: { c: '%41' }, n: 1 });
    assert.equal(all.a, 'x y');
    assert.deepEqual(all.b, { c: 'A' });
    assert.equal(all.n, 1);
    const missing = runOne(`urldecode { field => "absent" }`, { message: 'm' });
    assert.equal('absent' in missing, false, 'a missing field is not created');
  });

  it('never throws on random and mutated text, and decodes what encodeURIComponent wrote (seeded)', () => {
    const filter = filterOf(`urldecode { }`);
    const gen = new Gen(11);
    const alphabet = ['%', '%2', '%C3', '%A9', '%F0%9F', '%98%80', 'a', '+', ' ', 'é', '😀', '\uD800', 'G', '0', 'f'];
    for (let i = 0; i < 5000; i++) {
      const text = gen.text(alphabet, 20);
      const [event] = filter.process([new PipelineEvent({ message: text })]);
      const out = event.fields.message as string;
      const tags = event.tags();
      assert.ok(tags.length === 0 || (tags.length === 1 && tags[0] === '_urldecodefailure'));
      if (tags.length > 0) assert.equal(out, text);
      const plain = gen.text(['a', 'é', '😀', ' ', '/', '%', '&', '='], 12);
      const [round] = filter.process([new PipelineEvent({ message: encodeURIComponent(plain) })]);
      assert.equal(round.fields.message, plain);
    }
  });

  it('leaves a pathologically deep value alone below its depth limit, without overflowing', () => {
    let deep: Record<string, any> = { leaf: 'abcdef%20' };
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const e = runOne(`urldecode { all_fields => true }`, { deep, top: 'a%20b' });
    assert.equal(e.top, 'a b');
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`urldecode { field => "q" }`, [{ q: 'a%26b%3Dc' }]);
    assert.equal(events[0].q, 'a&b=c');
  });
});
