/** The fingerprint filter: digests, HMACs, MurmurHash3 with known vectors, concatenation and UUIDs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineEvent } from '../../src/pipeline/event.js';

import { createHmac } from 'node:crypto';
import { murmur3x64_128, murmur3x86_32 } from '../../src/pipeline/filters/murmur3.js';
import { filterOf, refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

const FOX = 'The quick brown fox jumps over the lazy dog';

describe('fingerprint filter', () => {
  it('hashes message with SHA1 by default, and each digest method to its known value', () => {
    assert.equal(runOne(`fingerprint { }`, { message: 'hello' }).fingerprint, 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d');
    assert.equal(runOne(`fingerprint { method => "MD5" }`, { message: 'hello' }).fingerprint, '5d41402abc4b2a76b9719d911017c592');
    assert.equal(runOne(`fingerprint { method => "SHA256" }`, { message: 'hello' }).fingerprint, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.equal(runOne(`fingerprint { method => "SHA384" }`, { message: '' }).fingerprint, '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b');
    assert.equal(runOne(`fingerprint { method => "SHA512" }`, { message: '' }).fingerprint.slice(0, 16), 'cf83e1357eefb8bd');
    assert.equal(runOne(`fingerprint { method => "SHA1" base64encode => true }`, { message: 'hello' }).fingerprint, 'qvTGHdzF6KLavt4PO0gs2a6pQ00=');
  });

  it('makes an HMAC when a key is given (RFC 4231-style vector)', () => {
    assert.equal(runOne(`fingerprint { method => "SHA256" key => "key" }`, { message: FOX }).fingerprint, 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
    assert.equal(runOne(`fingerprint { method => "MD5" key => "key" }`, { message: FOX }).fingerprint, '80070713463e7749b90c2dc24911e275');
  });

  it('computes MurmurHash3 x86_32 (a number) and x64_128 to the reference vectors', () => {
    assert.equal(runOne(`fingerprint { method => "MURMUR3" }`, { message: '123.123.123.123' }).fingerprint, 4013733395, 'the value Logstash\'s own test expects');
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.equal(murmur3x86_32(enc('')), 0);
    assert.equal(murmur3x86_32(enc('hello')), 613153351);
    assert.equal(murmur3x86_32(enc(FOX)), 0x2e4ff723);
    assert.equal(murmur3x86_32(enc('')), 0);
    assert.equal(murmur3x86_32(enc('abc')), 0xb3dd93fa);
    assert.equal(murmur3x86_32(enc('abcd')), 0x43ed676a);
    assert.equal(murmur3x86_32(enc(''), 1), 0x514e28b7, 'seeded');
    assert.equal(Buffer.from(murmur3x64_128(enc('hello'))).toString('hex'), '029bbd41b3a7d8cb191dae486a901e5b');
    assert.equal(Buffer.from(murmur3x64_128(enc(FOX))).toString('hex'), '6c1b07bc7bbc4be347939ac4a93c437a');
    assert.equal(Buffer.from(murmur3x64_128(enc(''))).toString('hex'), '0'.repeat(32));
    assert.equal(runOne(`fingerprint { method => "MURMUR3_128" }`, { message: FOX }).fingerprint, '6c1b07bc7bbc4be347939ac4a93c437a');
    assert.equal(runOne(`fingerprint { method => "MURMUR3_128" base64encode => true }`, { message: FOX }).fingerprint, Buffer.from('6c1b07bc7bbc4be347939ac4a93c437a', 'hex').toString('base64'));
  });

  it('concatenates sorted sources as |name|value|…| and all fields the same way', () => {
    const e = runOne(`fingerprint { source => ["b", "a"] concatenate_sources => true method => "SHA256" key => "k" target => "[@metadata][id]" }`, { a: 'one', b: 2 });
    const expected = createHmac('sha256', 'k').update('|a|one|b|2|').digest('hex');
    const [event] = filterOf(`fingerprint { source => ["b", "a"] concatenate_sources => true method => "SHA256" key => "k" target => "[@metadata][id]" }`).process([new PipelineEvent({ a: 'one', b: 2 })]);
    assert.equal(event.metadata.id, expected);
    assert.equal(e['@metadata'], undefined, '@metadata is not shipped');
    const block = `fingerprint { concatenate_all_fields => true method => "MD5" }`;
    const x = runOne(block, { z: { b: 1, a: [1, { d: 1, c: 2 }] }, y: 'v' });
    const y = runOne(block, { y: 'v', z: { a: [1, { c: 2, d: 1 }], b: 1 } });
    assert.equal(x.fingerprint, y.fingerprint, 'key order does not matter');
    assert.notEqual(x.fingerprint, runOne(block, { y: 'w', z: { a: [1, { c: 2, d: 1 }], b: 1 } }).fingerprint);
  });

  it('without concatenation: a list gives a list, several sources leave the last present one, a missing source nothing', () => {
    const sha1 = (s: string) => runOne(`fingerprint { }`, { message: s }).fingerprint;
    assert.deepEqual(runOne(`fingerprint { source => ["l"] }`, { l: ['x', 'y'] }).fingerprint, [sha1('x'), sha1('y')]);
    assert.equal(runOne(`fingerprint { source => ["a", "b", "c"] }`, { a: 'x', b: 'y' }).fingerprint, sha1('y'));
    const none = runOne(`fingerprint { source => ["absent"] add_tag => ["fp"] }`, { message: 'm' });
    assert.equal(none.fingerprint, undefined);
    assert.deepEqual(none.tags, ['fp'], 'the filter still succeeds, as in Logstash');
  });

  it('PUNCTUATION keeps punctuation and symbols; UUID makes a random UUID', () => {
    assert.equal(runOne(`fingerprint { method => "PUNCTUATION" }`, { message: 'Hello, World! 1+1=2 © "ok"' }).fingerprint, ',!+=©""');
    const a = runOne(`fingerprint { method => "UUID" }`, { message: 'm' }).fingerprint;
    const b = runOne(`fingerprint { method => "UUID" }`, { message: 'm' }).fingerprint;
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
  });

  it('hashes a pathologically deep value without overflowing', () => {
    let deep: Record<string, any> = { leaf: 1 };
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const e = runOne(`fingerprint { source => ["deep"] }`, { deep });
    assert.match(e.fingerprint, /^[0-9a-f]{40}$/);
  });

  it('refuses an unknown method', () => {
    refuses(`fingerprint { method => "CRC32" }`, /"method" must be one of/);
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`fingerprint { method => "MURMUR3" source => ["ip"] target => "h" }`, [{ ip: '123.123.123.123' }]);
    assert.equal(events[0].h, 4013733395);
  });
});
