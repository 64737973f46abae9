/**
 * A fixed-size bloom filter over the words of one block of events, in the
 * spirit of VictoriaLogs' per-block bloom filters: a needle search reads only
 * the blocks whose filter may contain every word it needs.
 */
import { hashKeys, scopeSeeds } from '../core/tokens.js';

export const BLOOM_HASHES = 4;
const MESSAGE_SEEDS = scopeSeeds('message');

export class BloomFilter {
  readonly bits: Uint32Array;
  private readonly mask: number;

  /** `log2Bits` between 10 and 30 (2^22 bits, 512 KiB, keeps ~2% false positives up to ~500k distinct keys). */
  constructor(log2Bits = 20, bits?: Uint32Array) {
    this.bits = bits ?? new Uint32Array(1 << (log2Bits - 5));
    this.mask = this.bits.length * 32 - 1;
  }

  static fromBytes(bytes: Uint8Array): BloomFilter {
    const copy = new Uint32Array(bytes.byteLength >>> 2);
    new Uint8Array(copy.buffer).set(bytes.subarray(0, copy.byteLength));
    return new BloomFilter(Math.log2(copy.length * 32), copy);
  }

  toBytes(): Uint8Array {
    return new Uint8Array(this.bits.buffer, this.bits.byteOffset, this.bits.byteLength);
  }

  add(h1: number, h2: number): void {
    const bits = this.bits;
    const mask = this.mask;
    let h = h1;
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = h & mask;
      bits[bit >>> 5] |= 1 << (bit & 31);
      h = (h + h2) >>> 0;
    }
  }

  /** Adds the keys of `text` as a value of `column` (message by default): its words and n-grams (hashKeys). */
  addWords(text: string, column = 'message'): void {
    hashKeys(text, column === 'message' ? MESSAGE_SEEDS : scopeSeeds(column), this.adder);
  }

  private readonly adder = (h1: number, h2: number): void => this.add(h1, h2);

  mayContain(h1: number, h2: number): boolean {
    const bits = this.bits;
    const mask = this.mask;
    let h = h1;
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = h & mask;
      if ((bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
      h = (h + h2) >>> 0;
    }
    return true;
  }
}
