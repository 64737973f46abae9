/** Random JSON objects for fuzz tests: up to five keys drawn from `keys`, each with a value from `value`. */
export function randomObject(rand: () => number, depth: number, keys: string[], value: (rand: () => number, depth: number) => unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) o[keys[Math.floor(rand() * keys.length)]] = value(rand, depth);
  return o;
}
