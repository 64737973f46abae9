/**
 * Which fields each index's documents have. The store keeps one column set
 * for every index, so this asks it, per index, how many documents have a
 * value in each field (one grouped count over `_index`), and keeps only the
 * fields with any. Computed when asked rather than tracked on every write,
 * so `_bulk` pays nothing and data written before this build is covered too.
 */
import type { FieldInfo, Store } from '../../store/store.js';

/** Metrics per grouped query: bounds the width of each SQL statement however many fields the store has. */
const FIELDS_PER_QUERY = 200;

/**
 * For each of `indices`, the subset of `fields` its documents have a value in. Index names absent from
 * the store (created but empty) map to an empty list. `unindexed` (the name shown for events stored
 * without `_index`) gets every field: those events cannot be told apart by index.
 */
export async function fieldsByIndex(store: Store, indices: string[], fields: FieldInfo[], unindexed: string): Promise<Map<string, FieldInfo[]>> {
  const out = new Map<string, FieldInfo[]>(indices.map((n) => [n, []]));
  const named = indices.filter((n) => n !== unindexed);
  if (out.has(unindexed)) out.set(unindexed, [...fields]);
  if (named.length === 0) return out;
  for (let i = 0; i < fields.length; i += FIELDS_PER_QUERY) {
    const slice = fields.slice(i, i + FIELDS_PER_QUERY);
    const rows = await store.group({
      filter: { kind: 'all' },
      keys: [{ kind: 'terms', field: '_index' }],
      metrics: slice.map((f) => ({ fn: 'value_count' as const, field: f.name })),
      keyValues: [named],
    });
    for (const row of rows) {
      const list = out.get(String(row.keys[0]));
      if (!list) continue;
      slice.forEach((f, j) => {
        if ((row.metrics[j] ?? 0) > 0) list.push(f);
      });
    }
  }
  return out;
}
