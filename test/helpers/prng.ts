/** A small seeded PRNG (mulberry32): fuzz tests and generated benchmark data are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded choices for fuzz tests. */
export class Gen {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  pick<T>(items: ArrayLike<T>): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  /** A string of up to `max` characters drawn from `alphabet` (an array, so astral characters stay whole). */
  text(alphabet: readonly string[], max: number): string {
    let s = '';
    const n = this.int(max + 1);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
}
