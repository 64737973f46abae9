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
