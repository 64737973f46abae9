/**
 * The bloom worker's tokenizer reads messages out of segment lines (JSON,
 * with escapes) and must agree with the query side's `hashWords` on every
 * ASCII word, or a needle search would skip a block that holds it.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { BloomFilter } from '../../src/store/bloom.js';
import { BloomIndexer, sharedBloom } from '../../src/store/duckdb/bloom-indexer.js';
import { addSegmentWords } from '../../src/store/duckdb/segment-words.js';
import { MAX_WASM_LINES_BYTES, WasmSegmentWords } from '../../src/store/duckdb/segment-words-wasm.js';
import { MESSAGE_WORDS_WASM } from '../../src/store/duckdb/message-words-wasm.js';
import { hashWord, isAscii, textKeys, words } from '../../src/core/tokens.js';
import { prng } from '../helpers/prng.js';

const ALPHABET = ['a', 'B', 'z', '0', '9', '_', ' ', '-', '.', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '日本', '😀', '\ud800', ':', ',', '{', '}', 'message'];

function randomText(rand: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rand() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

function line(seq: number, message: string | null, docId?: string, index?: string): string {
  let s = `{"_seq":${seq},"ts":${1_700_000_000_000_000 + seq}`;
  if (docId !== undefined) s += ',"_doc_id":' + JSON.stringify(docId);
  if (index !== undefined) s += ',"_index":' + JSON.stringify(index);
  if (message !== null) s += ',"message":' + JSON.stringify(message);
  return s + ',"host":"message","f3":"not the message"}';
}

function isAsciiText(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

function fromSegment(lines: string[]): BloomFilter {
  const bloom = new BloomFilter(16);
  addSegmentWords(Buffer.from(lines.join('\n') + '\n'), bloom.bits);
  return bloom;
}

describe('words of segment lines', () => {
  it('sets exactly the bits hashWords sets, for ASCII messages with escapes and tricky ids', () => {
    const messages = ['Failed password for root from 10.0.0.1 port 22', 'say "hi"\\there\nnext\tTAB', 'a,"message":"decoy"', '', 'UPPER lower_case 42'];
    const lines = messages.map((m, i) => line(i, m, i % 2 ? `x","message":"decoy${i}` : undefined, i % 3 ? 'logs-"x"' : undefined));
    const expected = new BloomFilter(16);
    for (const m of messages) {
      expected.addWords(m);
      expected.addWords('message', 'host');
      expected.addWords('not the message', 'f3');
    }
    assert.deepEqual(fromSegment(lines).bits, expected.bits);
    // The decoys in ids and other fields are not words of any message.
    const [a, b] = hashWord('decoy1');
    assert.equal(fromSegment(lines).mayContain(a, b), false);
  });

  it('finds every ASCII word of random messages, whatever else they hold', () => {
    const rand = prng(7);
    for (let round = 0; round < 200; round++) {
      const messages = Array.from({ length: 20 }, () => randomText(rand, 40));
      const lines = messages.map((m, i) => line(i, rand() < 0.1 ? null : m, rand() < 0.3 ? randomText(rand, 10) : undefined, rand() < 0.3 ? randomText(rand, 10) : undefined));
      const bloom = fromSegment(lines);
      lines.forEach((l, i) => {
        if (!l.includes('"message":')) return;
        for (const w of words(messages[i]).filter(isAscii)) {
          const [h1, h2] = hashWord(w);
          assert.ok(bloom.mayContain(h1, h2), `word ${JSON.stringify(w)} of ${JSON.stringify(messages[i])}`);
        }
      });
    }
  });

  it('holds every key a query asks for: n-grams inside tokens, and each field under its own seeds', () => {
    const rand = prng(17);
    for (let round = 0; round < 200; round++) {
      const messages = Array.from({ length: 10 }, () => randomText(rand, 40));
      const values = Array.from({ length: 10 }, () => randomText(rand, 12));
      const lines = messages.map((m, i) => `{"_seq":${i},"ts":1,"message":${JSON.stringify(m)},"host":${JSON.stringify(values[i])},"tags":["a,\\"b"],"f7":${i},"f9":${JSON.stringify(values[i])}}`);
      const bloom = fromSegment(lines);
      const other = new BloomFilter(16);
      for (let i = 0; i < messages.length; i++) {
        other.addWords(messages[i]);
        other.addWords(values[i], 'host');
        other.addWords(String(i), 'f7');
        other.addWords(values[i], 'f9');
        for (const [a, b] of textKeys(messages[i])) assert.ok(bloom.mayContain(a, b), `a key of ${JSON.stringify(messages[i])}`);
        for (const [a, b] of textKeys(values[i], 'host')) assert.ok(bloom.mayContain(a, b), `a key of host ${JSON.stringify(values[i])}`);
        for (const [a, b] of textKeys(values[i], 'f9')) assert.ok(bloom.mayContain(a, b), `a key of f9 ${JSON.stringify(values[i])}`);
        for (const [a, b] of textKeys(String(i), 'f7')) assert.ok(bloom.mayContain(a, b), `the number ${i} of f7`);
      }
      // ASCII text: the worker's bits are exactly those of the query side's hashing.
      if (messages.every(isAsciiText) && values.every(isAsciiText)) assert.deepEqual(bloom.bits, other.bits);
    }
  });

  it('keys an address by its triples, not only by words found everywhere', () => {
    const bloom = fromSegment([line(0, 'client 10.20.30.40 port 22'), line(1, '10 20 30 40 and 30.40.50.60')]);
    assert.ok(textKeys('10.20.30.40').every(([a, b]) => bloom.mayContain(a, b)));
    assert.ok(textKeys('30.40.50').every(([a, b]) => bloom.mayContain(a, b)));
    // The words are all there, but never as one token: the triple's key is absent.
    assert.equal(textKeys('20.30.40.60').every(([a, b]) => bloom.mayContain(a, b)), false);
  });

  it('survives lines that are not of the expected shape', () => {
    const bloom = new BloomFilter(12);
    const junk = ['', '{', '{"_seq":', '{"_seq":1,"ts":2,"message":"unterminated \\', '{"_seq":1,"ts":2,"message":"\\u12', '\n\n', 'x'.repeat(1000)];
    for (const j of junk) addSegmentWords(Buffer.from(j), bloom.bits);
    const rand = prng(11);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rand() * 256);
      addSegmentWords(bytes, bloom.bits);
    }
  });

  it('a cut line does not take the next one with it', () => {
    const good = ['disk quota exceeded', 'kernel: Out of memory', 'say "hi" \\ back'];
    const cut = ['{"_seq":0,"ts":1,"message":"cut in the middle', '{"_seq":0,"ts":1,"message":"cut after a backslash \\', '{"_seq":0,"ts":1,"_doc_id":"cut id', '{"_seq":0,"ts":1,"message":"cut in an escape \\u12'];
    for (const c of cut) {
      const bloom = fromSegment([c, ...good.map((m, i) => line(i + 1, m))]);
      for (const w of good.flatMap((m) => words(m))) assert.ok(bloom.mayContain(...hashWord(w)), `${w} after ${c}`);
    }
  });

  it('fills a shared filter on the worker thread', async () => {
    const indexer = new BloomIndexer();
    try {
      const bloom = sharedBloom(16);
      const lines = ['disk quota exceeded on /var', 'kernel: Out of memory'].map((m, i) => line(i, m));
      // A copy of its own: the bytes' memory moves to the worker (Node's small-buffer pool must not).
      assert.equal(await indexer.add(bloom, new Uint8Array(Buffer.from(lines.join('\n')))), true);
      for (const w of ['quota', 'var', 'kernel', 'memory']) assert.ok(bloom.mayContain(...hashWord(w)), w);
      assert.equal(bloom.mayContain(...hashWord('absent')), false);
    } finally {
      await indexer.close();
    }
  });
});

describe('words of segment lines in WebAssembly', () => {
  const wasm = new WasmSegmentWords();
  /** The bits each loop sets for the same bytes, from the same starting bits. */
  function both(bytes: Buffer, log2Bits = 14, start?: Uint32Array): [Uint32Array, Uint32Array] {
    const js = new BloomFilter(log2Bits);
    const wa = new BloomFilter(log2Bits);
    if (start) {
      js.bits.set(start);
      wa.bits.set(start);
    }
    addSegmentWords(bytes, js.bits);
    wasm.addInWasm(new Uint8Array(bytes), wa.bits);
    return [js.bits, wa.bits];
  }

  it('is the module compiled from message-words.wat', async () => {
    const { compileWat } = (await import(new URL('../../../bin/wasm.mjs', import.meta.url).href)) as { compileWat: (file: string) => Promise<Buffer> };
    const wat = fileURLToPath(new URL('../../../src/store/duckdb/message-words.wat', import.meta.url));
    assert.equal((await compileWat(wat)).toString('base64'), MESSAGE_WORDS_WASM, 'message-words.wat changed: run npm run wasm');
  });

  it('sets exactly the bits of the JavaScript loop: random messages, escapes, ids and cut lines', () => {
    const rand = prng(23);
    let set = 0;
    for (let round = 0; round < 300; round++) {
      const lines = Array.from({ length: 1 + Math.floor(rand() * 30) }, (_, i) =>
        line(i, rand() < 0.1 ? null : randomText(rand, 60), rand() < 0.3 ? randomText(rand, 10) : undefined, rand() < 0.3 ? randomText(rand, 10) : undefined),
      );
      let text = lines.join('\n') + (rand() < 0.5 ? '\n' : '');
      // Now and then a line cut anywhere, escapes and all.
      if (rand() < 0.3) text = text.slice(0, Math.floor(rand() * text.length));
      const [js, wa] = both(Buffer.from(text), 10 + Math.floor(rand() * 8));
      assert.deepEqual(wa, js, `round ${round}: ${JSON.stringify(text.slice(0, 200))}`);
      set += js.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);
    }
    assert.ok(set > 1000, 'the messages set bits');
  });

  it('sets exactly the bits of the JavaScript loop for random bytes, and adds to bits already set', () => {
    const rand = prng(29);
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 400));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rand() < 0.5 ? Math.floor(rand() * 256) : '{"_seq":1,"ts":2,"message":"\\u00e9\n'.charCodeAt(k % 36);
      const start = new Uint32Array(1 << 7);
      for (let k = 0; k < start.length; k++) start[k] = rand() < 0.1 ? (rand() * 2 ** 32) >>> 0 : 0;
      const [js, wa] = both(bytes, 12, start);
      assert.deepEqual(wa, js, `round ${round}`);
    }
  });

  it('takes jobs of any size, one after another (the smallest and the largest with the JavaScript loop)', () => {
    const message = 'GET /index.html 200 "Mozilla/5.0 (X11)" \\ caf\u00e9 done';
    for (const count of [1, 20_000, 3, 2000, Math.ceil(MAX_WASM_LINES_BYTES / 60)]) {
      const bytes = Buffer.from(Array.from({ length: count }, (_, i) => line(i, `${message} n${i}`)).join('\n'));
      const [js, wa] = both(bytes, 20);
      assert.deepEqual(wa, js, `${count} lines`);
      const chosen = new BloomFilter(20);
      wasm.add(new Uint8Array(bytes), chosen.bits);
      assert.deepEqual(chosen.bits, js, `${count} lines, the loop chosen by size`);
      for (const w of ['mozilla', `n${count - 1}`]) assert.ok(new BloomFilter(20, wa).mayContain(...hashWord(w)), `${w} of ${count} lines`);
    }
  });
});

