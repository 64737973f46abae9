/**
 * A least-recently-used cache on a Map (a Map keeps insertion order, so the first key is the oldest).
 * geoip, useragent and translate's regex lookups keep their answers here: the same addresses and
 * browsers come back again and again in real logs.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      if (!this.entries.has(key)) {
        this.misses++;
        return undefined;
      }
    }
    this.hits++;
    // Touch: move the key to the young end.
    this.entries.delete(key);
    this.entries.set(key, value as V);
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
