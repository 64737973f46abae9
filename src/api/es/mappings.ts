/**
 * Which fields each index's documents have. The store keeps one column set
 * for every index, so this asks it, per index, how many documents have a
 * value in each field (one grouped count over `_index`), and keeps only the
 * fields with any. Computed when asked rather than tracked on every write,
 * so `_bulk` pays nothing and data written before this build is covered too.
 *
 * The answer is cached per index with the store's write position
 * (`Store.snapshot()`, per-day committed row marks) it was computed at. The
 * next call asks the store nothing when nothing was written since, and
 * otherwise looks only at the rows written since (`GroupRequest.since`) and
 * only for the fields that index does not already have. Rows only ever add
 * fields; what removes rows is handled apart: the ES API's deletes (index
 * delete, overwritten or deleted documents, delete_by_query) call
 * `forgetIndexFields`, and a day gone from the store (retention) drops every
 * entry. A delete through any other path may leave a field shown that no
 * remaining document has until the index is forgotten or the server restarts.
 */
import type { FieldInfo, Store, StoreSnapshot } from '../../store/store.js';

/** Metrics per grouped query: bounds the width of each SQL statement however many fields the store has. */
const FIELDS_PER_QUERY = 200;

interface Entry {
  /** The store's write position the names were computed at: rows below its marks are covered. */
  at: StoreSnapshot;
  names: Set<string>;
}

interface Cache {
  entries: Map<string, Entry>;
  /** Bumped by each forget: a scan that started before it must not store what it read. */
  generation: number;
}

/** Per store (a process may hold several, as tests do): the cache dies with it. */
const caches = new WeakMap<Store, Cache>();

function cacheOf(store: Store): Cache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = { entries: new Map(), generation: 0 }));
  return c;
}

/**
 * Drops what is known of these indices' fields (all, without `indices`): call after deleting events, since
 * the cache only ever adds fields. Safe while a scan runs: its result is then not stored.
 */
export function forgetIndexFields(store: Store, indices?: readonly string[]): void {
  const c = cacheOf(store);
  c.generation++;
  if (indices === undefined) c.entries.clear();
  else for (const i of indices) c.entries.delete(i);
}

type Relation = 'same' | 'later' | 'unrelated';

/** How `now` relates to `then`: the same position, later writes only, or something went away (retention). */
function compare(then: StoreSnapshot, now: StoreSnapshot): Relation {
  let same = then.marks.size === now.marks.size;
  for (const [day, mark] of then.marks) {
    const cur = now.marks.get(day);
    if (cur === undefined || cur < mark) return 'unrelated';
    if (cur !== mark) same = false;
  }
  return same ? 'same' : 'later';
}

/**
 * For each of `indices`, the subset of `fields` its documents have a value in. Index names absent from
 * the store (created but empty) map to an empty list. `unindexed` (the name shown for events stored
 * without `_index`) gets every field: those events cannot be told apart by index.
 */
export async function fieldsByIndex(store: Store, indices: string[], fields: FieldInfo[], unindexed: string): Promise<Map<string, FieldInfo[]>> {
  const out = new Map<string, FieldInfo[]>(indices.map((n) => [n, []]));
  const named = [...new Set(indices.filter((n) => n !== unindexed))];
  if (out.has(unindexed)) out.set(unindexed, [...fields]);
  if (named.length === 0) return out;

  const cache = cacheOf(store);
  const generation = cache.generation;
  // Taken before reading: rows committed during the scans are read again next time, never missed.
  const now = await store.snapshot();
  const full: string[] = [];
  // Indices cached at the same position are scanned together from it.
  const since = new Map<StoreSnapshot, string[]>();
  const known = new Map<string, Set<string>>();
  for (const name of named) {
    const e = cache.entries.get(name);
    const rel = e ? compare(e.at, now) : 'unrelated';
    if (e && rel !== 'unrelated') known.set(name, new Set(e.names));
    else known.set(name, new Set());
    if (!e || rel === 'unrelated') full.push(name);
    else if (rel === 'later') {
      const list = since.get(e.at);
      if (list) list.push(name);
      else since.set(e.at, [name]);
    }
  }
  if (full.length > 0) await scan(store, full, fields, known, undefined);
  for (const [at, names] of since) {
    // Only the fields some of these indices do not have yet: once an index's fields are known, later rows are cheap.
    const missing = fields.filter((f) => names.some((n) => !known.get(n)?.has(f.name)));
    if (missing.length > 0) await scan(store, names, missing, known, at);
  }
  if (cache.generation === generation) {
    for (const name of named) cache.entries.set(name, { at: now, names: known.get(name) ?? new Set() });
  }
  for (const name of named) {
    const have = known.get(name);
    out.set(
      name,
      fields.filter((f) => have?.has(f.name)),
    );
  }
  return out;
}

/** Adds to `known` the fields of `fields` that `indices`' documents (those stored after `since`, when given) have a value in. */
async function scan(store: Store, indices: string[], fields: FieldInfo[], known: Map<string, Set<string>>, since: StoreSnapshot | undefined): Promise<void> {
  for (let i = 0; i < fields.length; i += FIELDS_PER_QUERY) {
    const slice = fields.slice(i, i + FIELDS_PER_QUERY);
    const rows = await store.group({
      filter: { kind: 'all' },
      keys: [{ kind: 'terms', field: '_index' }],
      metrics: slice.map((f) => ({ fn: 'value_count' as const, field: f.name })),
      keyValues: [indices],
      ...(since ? { since } : {}),
    });
    for (const row of rows) {
      const set = known.get(String(row.keys[0]));
      if (!set) continue;
      slice.forEach((f, j) => {
        if ((row.metrics[j] ?? 0) > 0) set.add(f.name);
      });
    }
  }
}
