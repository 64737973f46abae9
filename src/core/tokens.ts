/**
 * The one definition of a "word" in log text, shared by the store's token
 * index (bloom filters) and by the query compiler, so that what the index
 * says may contain a word and what the query looks for always agree.
 *
 * A word is a maximal run of ASCII letters, digits, `_`, or any non-ASCII
 * character (so that words in any script stay whole). ASCII letters are
 * folded to lower case; non-ASCII is kept as is, and queries for words with
 * non-ASCII characters do not use the index (they still match, by scanning).
 */

export function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

/** Splits text into lower-cased words. For queries; the ingest path hashes without allocating (see hashWords). */
export function words(text: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const word = i < text.length && isWordCode(text.charCodeAt(i));
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      out.push(asciiLower(text.slice(start, i)));
      start = -1;
    }
  }
  return out;
}

export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false;
  return true;
}

/** Starting states of the two word hashes; segment-words.ts hashes bytes with the same ones. */
export const WORD_HASH_SEED1 = 0x811c9dc5;
export const WORD_HASH_SEED2 = 0x9747b28c;

/**
 * Calls `emit(h1, h2)` with two independent 32-bit hashes of every word in
 * `text`, folding ASCII case on the fly. No strings are created: this runs
 * for every message ingested.
 */
export function hashWords(text: string, emit: (h1: number, h2: number) => void): void {
  let h1 = WORD_HASH_SEED1;
  let h2 = WORD_HASH_SEED2;
  let inWord = false;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 32;
    if (isWordCode(c)) {
      const lc = c >= 65 && c <= 90 ? c + 32 : c;
      h1 = Math.imul(h1 ^ lc, 0x01000193);
      h2 = Math.imul(h2 ^ lc, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      inWord = true;
    } else if (inWord) {
      emit(h1 >>> 0, (h2 | 1) >>> 0);
      h1 = WORD_HASH_SEED1;
      h2 = WORD_HASH_SEED2;
      inWord = false;
    }
  }
}

/** The hashes of one (already lower-cased) word, identical to what hashWords emits for it. */
export function hashWord(word: string): [number, number] {
  let pair: [number, number] = [0, 0];
  hashWords(word, (a, b) => {
    pair = [a, b];
  });
  return pair;
}

/**
 * Whitespace, as RE2's `\s` reads it. A space-free run of text ("token":
 * `10.0.0.1`, `/api/v1/orders`, `db-01:5432`) is what the index keeps word
 * n-grams of, and what a query's space-free chunk must fall within.
 */
export function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

/** Joins a key (a word's or an n-gram's) with the next word's: the two halves of an n-gram's key. */
export function joinKey1(prev: number, word: number): number {
  return (Math.imul(prev ^ 0x27d4eb2f, 0x9e3779b1) ^ word) >>> 0;
}
export function joinKey2(prev: number, word: number): number {
  return ((Math.imul(prev ^ 0x165667b1, 0x85ebca77) ^ word) | 1) >>> 0;
}

/**
 * The hash seeds of a field's keys: `message` has the words' own seeds (the
 * keys of every block written before fields were indexed stay valid); any
 * other field's values are hashed from seeds of its column's name, so that
 * `host:web-3` asks for a key no message word can set.
 */
export function scopeSeeds(column: string): [number, number] {
  if (column === 'message') return [WORD_HASH_SEED1, WORD_HASH_SEED2];
  let h = 0x811c9dc5;
  for (let i = 0; i < column.length; i++) h = Math.imul(h ^ column.charCodeAt(i), 0x01000193);
  return [(WORD_HASH_SEED1 ^ h) >>> 0, (WORD_HASH_SEED2 ^ Math.imul(h, 0x5bd1e995)) >>> 0];
}

/**
 * Calls `emit(h1, h2, ascii)` with the key of every word of `text` and of
 * every pair and triple of consecutive words inside a space-free token (an
 * IPv4 address is made of words found everywhere, `10`, `0`, `1`: only its
 * triples are rare enough for a bloom filter to skip blocks by),
 * hashed from `seeds`. `ascii` is false for keys that involve a word with
 * non-ASCII characters: the index hashes those over UTF-8 bytes, so queries
 * must not look them up. The bloom worker computes the same keys from JSON
 * bytes (segment-words.ts, message-words.wat).
 */
export function hashKeys(text: string, seeds: [number, number], emit: (h1: number, h2: number, ascii: boolean) => void): void {
  const [s1, s2] = seeds;
  let h1 = s1;
  let h2 = s2;
  let inWord = false;
  let wordAscii = true;
  // The previous word of this token, and the pair that ends with it.
  let prev = 0;
  let p1 = 0;
  let p2 = 0;
  let pAscii = true;
  let q1 = 0;
  let q2 = 0;
  let qAscii = true;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 32;
    if (isWordCode(c)) {
      const lc = c >= 65 && c <= 90 ? c + 32 : c;
      if (c >= 128) wordAscii = false;
      h1 = Math.imul(h1 ^ lc, 0x01000193);
      h2 = Math.imul(h2 ^ lc, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      inWord = true;
      continue;
    }
    if (inWord) {
      const a = h1 >>> 0;
      const b = (h2 | 1) >>> 0;
      emit(a, b, wordAscii);
      if (prev >= 2) emit(joinKey1(q1, a), joinKey2(q2, b), qAscii && wordAscii);
      if (prev >= 1) {
        q1 = joinKey1(p1, a);
        q2 = joinKey2(p2, b);
        qAscii = pAscii && wordAscii;
        emit(q1, q2, qAscii);
      }
      p1 = a;
      p2 = b;
      pAscii = wordAscii;
      prev++;
      h1 = s1;
      h2 = s2;
      inWord = false;
      wordAscii = true;
    }
    if (isSpaceCode(c)) prev = 0;
  }
}

/** The keys a query's text must find in a block's filter, ASCII ones only (see hashKeys). */
export function textKeys(text: string, column = 'message'): [number, number][] {
  const out: [number, number][] = [];
  hashKeys(text, scopeSeeds(column), (a, b, ascii) => {
    if (ascii) out.push([a, b]);
  });
  return out;
}

/**
 * A query's text as the words of its space-free chunks: `GET /api/v1` is
 * `[["get"], ["api", "v1"]]`. Within a chunk, words must follow each other
 * inside one space-free token of the text (separated by punctuation only);
 * between chunks, by any run of non-word characters.
 */
export function queryChunks(text: string): string[][] {
  const out: string[][] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || isSpaceCode(text.charCodeAt(i))) {
      if (i > start) {
        const ws = words(text.slice(start, i));
        if (ws.length > 0) out.push(ws);
      }
      start = i + 1;
    }
  }
  return out;
}

/** The words of `text` with, for each, whether it follows the previous word within the same space-free token. */
export function wordsWithJoins(text: string): { words: string[]; joined: boolean[] } {
  const out: string[] = [];
  const joined: boolean[] = [];
  let start = -1;
  let spaceSince = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    const word = isWordCode(c);
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      joined.push(out.length > 0 && !spaceSince);
      out.push(asciiLower(text.slice(start, i)));
      start = -1;
      spaceSince = false;
    }
    if (!word && isSpaceCode(c)) spaceSince = true;
  }
  return { words: out, joined };
}
