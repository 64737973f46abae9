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

  /**
   * A real line changed the ways broken logs are: cut, spliced, characters changed, parts repeated or
   * rotated, another line's start put in front; one to four edits, at most `maxLength` characters.
   */
  damage(line: string, alphabet: readonly string[], others: readonly string[], maxLength = 2000): string {
    let s = line;
    const edits = 1 + this.int(4);
    for (let i = 0; i < edits; i++) {
      const at = this.int(s.length + 1);
      switch (this.int(7)) {
        case 0:
          s = s.slice(0, at);
          break;
        case 1:
          s = s.slice(0, at) + s.slice(at + 1 + this.int(8));
          break;
        case 2:
          s = s.slice(0, at) + this.text(alphabet, 6) + s.slice(at);
          break;
        case 3:
          s = s.slice(0, at) + this.pick(alphabet) + s.slice(at + 1);
          break;
        case 4: {
          const piece = s.slice(at, at + 1 + this.int(20));
          s = s.slice(0, at) + piece.repeat(1 + this.int(4)) + s.slice(at);
          break;
        }
        case 5:
          s = s.slice(at) + s.slice(0, at);
          break;
        default:
          s = this.pick(others).slice(0, this.int(80)) + s.slice(at);
      }
    }
    return s.slice(0, maxLength);
  }
}
