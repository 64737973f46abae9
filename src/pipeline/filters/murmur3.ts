/**
 * MurmurHash3 (Austin Appleby's, public domain), the 32-bit x86 form the fingerprint filter's MURMUR3 gives
 * (as Logstash's murmurhash3 gem: an unsigned number) and the 128-bit x64 form of MURMUR3_128 (16 bytes).
 * Both hash the UTF-8 bytes of their text.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3_x86_32 of `data`, as an unsigned 32-bit number. */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const blocks = data.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  let k = 0;
  const rest = data.length & 3;
  if (rest > 0) {
    if (rest === 3) k ^= data[tail + 2] << 16;
    if (rest >= 2) k ^= data[tail + 1] << 8;
    k ^= data[tail];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MASK64 = (1n << 64n) - 1n;
const K1 = 0x87c37b91114253d5n;
const K2 = 0x4cf5ad432745937fn;

function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK64;
}

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
}

function readLe64(data: Uint8Array, at: number, count = 8): bigint {
  let v = 0n;
  for (let i = count - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]);
  return v;
}

/**
 * MurmurHash3_x64_128 of `data`: the 16 bytes h1 then h2, each little-endian, as the reference
 * implementation writes them. BigInt arithmetic: slower than the 32-bit form, but exact.
 */
export function murmur3x64_128(data: Uint8Array, seed = 0): Uint8Array {
  let h1 = BigInt(seed >>> 0);
  let h2 = h1;
  const blocks = data.length >>> 4;
  for (let i = 0; i < blocks; i++) {
    let k1 = readLe64(data, i * 16);
    let k2 = readLe64(data, i * 16 + 8);
    k1 = (k1 * K1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * K2) & MASK64;
    h1 ^= k1;
    h1 = rotl64(h1, 27n);
    h1 = (h1 + h2) & MASK64;
    h1 = (h1 * 5n + 0x52dce729n) & MASK64;
    k2 = (k2 * K2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * K1) & MASK64;
    h2 ^= k2;
    h2 = rotl64(h2, 31n);
    h2 = (h2 + h1) & MASK64;
    h2 = (h2 * 5n + 0x38495ab5n) & MASK64;
  }
  const tail = blocks * 16;
  const rest = data.length & 15;
  if (rest > 8) {
    let k2 = readLe64(data, tail + 8, rest - 8);
    k2 = (k2 * K2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * K1) & MASK64;
    h2 ^= k2;
  }
  if (rest > 0) {
    let k1 = readLe64(data, tail, Math.min(rest, 8));
    k1 = (k1 * K1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * K2) & MASK64;
    h1 ^= k1;
  }
  const length = BigInt(data.length);
  h1 ^= length;
  h2 ^= length;
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i] = Number((h1 >> BigInt(8 * i)) & 0xffn);
    out[8 + i] = Number((h2 >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}
