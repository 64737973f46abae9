/**
 * The words of the messages in segment lines, hashed straight from the
 * bytes written to disk, for the bloom filter of a block. This runs in the
 * bloom worker (bloom-worker.ts), off the event loop: tokenizing every
 * message was a fifth of the ingest thread's time.
 *
 * The hashes of ASCII words are exactly those of `hashWords` in
 * core/tokens.ts (the query side looks up only ASCII words). Words with
 * non-ASCII characters are hashed over their UTF-8 bytes here and over
 * UTF-16 units there; they are never looked up, so the difference is moot,
 * and the word boundaries are the same (every byte of a non-ASCII character
 * is ≥ 128, a word character).
 *
 * A line is what encodeRow writes: `{"_seq":N,"ts":N` then, each optional,
 * `"_doc_id"`, `"_index"` and `"message"` in that order.
 */

import { WORD_HASH_SEED1, WORD_HASH_SEED2, isWordCode, joinKey1, joinKey2 } from '../../core/tokens.js';
import { BLOOM_HASHES } from '../bloom.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

const KEY_MESSAGE = bytesOf(',"message":');
const KEY_DOC_ID = bytesOf(',"_doc_id":');
const KEY_INDEX = bytesOf(',"_index":');

function bytesOf(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function startsWith(b: Uint8Array, at: number, key: Uint8Array): boolean {
  if (at + key.length > b.length) return false;
  for (let i = 0; i < key.length; i++) if (b[at + i] !== key[i]) return false;
  return true;
}

/** The index just past the JSON value starting at `at` (a string, or a scalar up to the next `,` or `}`). */
function skipValue(b: Uint8Array, at: number, end: number): number {
  if (b[at] !== QUOTE) {
    while (at < end && b[at] !== COMMA && b[at] !== 0x7d) at++;
    return at;
  }
  for (let i = at + 1; i < end; i++) {
    if (b[i] === BACKSLASH) i++;
    else if (b[i] === QUOTE) return i + 1;
    // A raw newline ends the line (JSON strings hold none): a cut line must not take the next one with it.
    else if (b[i] === NEWLINE) return i;
  }
  return end;
}

/** Each byte's value as a hex digit, 16 for any other byte (a cut `\u` escape is not read across the line's end). */
export const HEX = new Uint8Array(256).fill(16);
for (let c = 0; c < 256; c++) {
  if (c >= 48 && c <= 57) HEX[c] = c - 48;
  else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) HEX[c] = (c | 0x20) - 87;
}

/**
 * Adds the keys (words, and n-grams inside space-free tokens: hashKeys of
 * core/tokens.ts) of the JSON string whose content starts at `at` in `b` to
 * `bits`, hashed from the seeds `s1`, `s2`, and returns the index after its
 * closing quote (or of the raw newline, or `end`, where a cut string stops).
 */
export type MessageWords = (b: Uint8Array, at: number, end: number, bits: Uint32Array, mask: number, s1: number, s2: number) => number;

const KEY_TAGS = bytesOf('tags');
const KEY_OVERFLOW = bytesOf('_overflow');
const KEY_SHAPE = bytesOf('_shape');

/**
 * Adds the keys of every line's message, and of every other field's values
 * (host, source, level and the field columns, each from seeds of its column's
 * name: scopeSeeds), in `b` to the bloom filter whose bits are `bits`,
 * setting the bits `BloomFilter.add` would. Lines that are not of the expected shape are
 * skipped: they hold no message this could read, and a block whose bloom
 * lacks a word would hide a match, so callers build blooms only from lines
 * encodeRow wrote. `words` reads each string (segment-words-wasm.ts has a
 * faster one).
 */
export function addSegmentWords(b: Uint8Array, bits: Uint32Array, words: MessageWords = addStringWords): void {
  const mask = bits.length * 32 - 1;
  const end = b.length;
  let lineStart = 0;
  while (lineStart < end) {
    // The line's end is looked for after its values, not across them: a JSON string holds no raw newline.
    let at = lineStart + 1;
    // Past `"_seq":N` and `,"ts":N`.
    for (let commas = 0; at < end && commas < 2; at++) {
      const c = b[at];
      if (c === COMMA) commas++;
      else if (c === NEWLINE) break;
    }
    at--;
    if (startsWith(b, at, KEY_DOC_ID)) at = skipValue(b, at + KEY_DOC_ID.length, end);
    if (startsWith(b, at, KEY_INDEX)) at = skipValue(b, at + KEY_INDEX.length, end);
    if (startsWith(b, at, KEY_MESSAGE) && b[at + KEY_MESSAGE.length] === QUOTE) at = words(b, at + KEY_MESSAGE.length + 1, end, bits, mask, WORD_HASH_SEED1, WORD_HASH_SEED2);
    // The other fields: `,"name":value` until the line's `}`.
    while (at + 2 < end && b[at] === COMMA && b[at + 1] === QUOTE) {
      const keyAt = at + 2;
      let keyEnd = keyAt;
      while (keyEnd < end && b[keyEnd] !== QUOTE && b[keyEnd] !== NEWLINE) keyEnd++;
      if (keyEnd + 1 >= end || b[keyEnd] !== QUOTE || b[keyEnd + 1] !== 0x3a /* : */) break;
      const valueAt = keyEnd + 2;
      const keyLength = keyEnd - keyAt;
      if ((keyLength === 4 && startsWith(b, keyAt, KEY_TAGS)) || (keyLength === 9 && startsWith(b, keyAt, KEY_OVERFLOW)) || (keyLength === 6 && startsWith(b, keyAt, KEY_SHAPE))) {
        at = skipNested(b, valueAt, end);
        continue;
      }
      // scopeSeeds of the key: column names are ASCII.
      let h = 0x811c9dc5;
      for (let i = keyAt; i < keyEnd; i++) h = Math.imul(h ^ b[i], 0x01000193);
      const s1 = (WORD_HASH_SEED1 ^ h) >>> 0;
      const s2 = (WORD_HASH_SEED2 ^ Math.imul(h, 0x5bd1e995)) >>> 0;
      if (b[valueAt] === QUOTE) at = words(b, valueAt + 1, end, bits, mask, s1, s2);
      else {
        // A number or a boolean, keyed as its text (what a string column holds of it once widened).
        const valueEnd = skipValue(b, valueAt, end);
        addScalarWords(b, valueAt, valueEnd, bits, mask, s1, s2);
        at = valueEnd;
      }
    }
    const lineEnd = b.indexOf(NEWLINE, at);
    lineStart = lineEnd < 0 ? end : lineEnd + 1;
  }
}

/** The index past the array or object (or any value) starting at `at`, strings and nesting respected, stopping at a raw newline. */
function skipNested(b: Uint8Array, at: number, end: number): number {
  if (b[at] !== 0x5b && b[at] !== 0x7b) return skipValue(b, at, end);
  let depth = 0;
  for (let i = at; i < end; i++) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipValue(b, i, end) - 1;
      if (b[i] === NEWLINE) return i;
    } else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) return i + 1;
    } else if (c === NEWLINE) return i;
  }
  return end;
}

/**
 * Each byte's lower-cased code if it is a word character, 0 if it separates words (quotes and
 * backslashes included): one load instead of the comparisons of isWordCode and of case folding,
 * a quarter off this loop's time.
 */
export const WORD_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) WORD_BYTE[c] = isWordCode(c) ? (c >= 65 && c <= 90 ? c + 32 : c) : 0;

/** Whether a code read from a JSON string (a byte, or an escape's value) is whitespace (isSpaceCode). */
function spaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

/**
 * The n-gram state of the string being read: the previous word of the token and the pair
 * that ends with it (hashKeys keeps the same). Module-level, as the loop is not reentrant.
 */
let prevWords = 0;
let p1 = 0;
let p2 = 0;
let q1 = 0;
let q2 = 0;

/** Ends a word whose hashes are `h1`, `h2`: adds its key and those of the n-grams it ends. */
function endWord(bits: Uint32Array, mask: number, h1: number, h2: number): void {
  const a = h1 >>> 0;
  const b = (h2 | 1) >>> 0;
  addHashes(bits, mask, a, b);
  if (prevWords >= 2) addHashes(bits, mask, joinKey1(q1, a), joinKey2(q2, b));
  if (prevWords >= 1) {
    q1 = joinKey1(p1, a);
    q2 = joinKey2(p2, b);
    addHashes(bits, mask, q1, q2);
  }
  p1 = a;
  p2 = b;
  prevWords++;
}

/** Adds the keys of the JSON string whose content starts at `at`, decoding escapes as it goes; returns the index after its closing quote. */
export function addStringWords(b: Uint8Array, at: number, end: number, bits: Uint32Array, mask: number, s1: number, s2: number): number {
  let h1 = s1;
  let h2 = s2;
  let inWord = false;
  prevWords = 0;
  let i = at;
  while (i < end) {
    const c = b[i++];
    let lc = WORD_BYTE[c];
    if (lc === 0) {
      let space = c === 32;
      if (c === BACKSLASH) {
        if (b[i] === 0x75 /* u */ && i + 4 < end && (HEX[b[i + 1]] | HEX[b[i + 2]] | HEX[b[i + 3]] | HEX[b[i + 4]]) < 16) {
          const u = (HEX[b[i + 1]] << 12) | (HEX[b[i + 2]] << 8) | (HEX[b[i + 3]] << 4) | HEX[b[i + 4]];
          i += 5;
          lc = u >= 128 ? u : WORD_BYTE[u];
          space = spaceCode(u);
        } else if (b[i] !== NEWLINE) {
          // \" \\ \/ and the control-character escapes: none is a word character; \t \n \f \r are spaces.
          const e = b[i];
          space = e === 0x74 || e === 0x6e || e === 0x66 || e === 0x72;
          i++;
        }
      }
      if (lc === 0) {
        if (inWord) {
          endWord(bits, mask, h1, h2);
          h1 = s1;
          h2 = s2;
          inWord = false;
        }
        if (space) prevWords = 0;
        if (c === QUOTE) return i;
        if (c === NEWLINE) return i - 1;
        continue;
      }
    }
    h1 = Math.imul(h1 ^ lc, 0x01000193);
    h2 = Math.imul(h2 ^ lc, 0x5bd1e995);
    h2 ^= h2 >>> 15;
    inWord = true;
  }
  if (inWord) endWord(bits, mask, h1, h2);
  return i;
}

/** The keys of a scalar's text (`200`, `-1.5e+21`, `true`): bytes from `at` to `end`, no escapes, no spaces. */
function addScalarWords(b: Uint8Array, at: number, end: number, bits: Uint32Array, mask: number, s1: number, s2: number): void {
  let h1 = s1;
  let h2 = s2;
  let inWord = false;
  prevWords = 0;
  for (let i = at; i < end; i++) {
    const lc = WORD_BYTE[b[i]];
    if (lc === 0) {
      if (inWord) {
        endWord(bits, mask, h1, h2);
        h1 = s1;
        h2 = s2;
        inWord = false;
      }
      continue;
    }
    h1 = Math.imul(h1 ^ lc, 0x01000193);
    h2 = Math.imul(h2 ^ lc, 0x5bd1e995);
    h2 ^= h2 >>> 15;
    inWord = true;
  }
  if (inWord) endWord(bits, mask, h1, h2);
}

/** BloomFilter.add, with the bits at hand: a method call per word was a third of this loop's time. */
function addHashes(bits: Uint32Array, mask: number, h1: number, h2: number): void {
  const step = (h2 | 1) >>> 0;
  let h = h1 >>> 0;
  for (let k = 0; k < BLOOM_HASHES; k++) {
    const bit = h & mask;
    bits[bit >>> 5] |= 1 << (bit & 31);
    h = (h + step) >>> 0;
  }
}
