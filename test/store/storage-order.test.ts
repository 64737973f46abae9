/**
 * `find` in storage order (an empty sort: Elasticsearch's `_doc` and `_shard_doc`, what exports
 * page with): pages read by windows of sequence numbers must, put together, give every matching
 * event exactly once, in (day, sequence) order, across days, blocks, minis and young segments,
 * with filters that leave windows short, time ranges, offsets, snapshots taken while writes and
 * compaction go on, and rows deleted from the middle of files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogEvent } from '../../src/core/event.js';
import type { FilterNode } from '../../src/query/ast.js';
import { parseQuery } from '../../src/query/parse.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import type { FindRequest, StoreSnapshot } from '../../src/store/store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const DAY_MS = 86_400_000;
// Three days, the newest yesterday: each day's events an hour apart from the next day's.
const BASE = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS;

function events(from: number, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const day = n % 3;
    return {
      ts: (BASE + day * DAY_MS + 3_600_000 + n) * 1000,
      fields: { message: `request ${n} ${n % 13 === 0 ? 'rare' : 'common'}`, host: `web-${n % 5}`, n },
    };
  });
}

const filterOf = (q: string): FilterNode => parseQuery(q).filter;
type Page = { n: number; sort: [number, number] }[];

/** Every page of a storage-order listing, put together. */
async function listAll(store: DuckDBStore, req: Omit<FindRequest, 'limit' | 'sort'>, size: number): Promise<Page> {
  const out: Page = [];
  let searchAfter: unknown[] | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await store.find({ ...req, sort: [], limit: size, searchAfter, trackTotalHits: false });
    for (const h of r.hits) out.push({ n: Number(h.n), sort: h._sort as [number, number] });
    if (r.hits.length < size) return out;
    searchAfter = r.hits[r.hits.length - 1]._sort;
  }
  throw new Error('paging did not end');
}

function assertOrdered(page: Page, desc: boolean): void {
  for (let i = 1; i < page.length; i++) {
    const [a, b] = [page[i - 1].sort, page[i].sort];
    const cmp = a[0] - b[0] || a[1] - b[1];
    assert.ok(desc ? cmp > 0 : cmp < 0, `hit ${i} (${b.join('/')}) is not after ${a.join('/')}`);
  }
}

function assertExactly(page: Page, expected: Iterable<number>, what: string): void {
  const got = page.map((h) => h.n);
  assert.equal(new Set(got).size, got.length, `${what}: an event came back twice`);
  const want = [...expected].sort((a, b) => a - b);
  assert.deepEqual([...got].sort((a, b) => a - b), want, what);
}

const stores: DuckDBStore[] = [];
after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
});

async function openStore(): Promise<DuckDBStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-storage-order-'));
  dirs.push(dir);
  const store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 14 });
  await store.open();
  stores.push(store);
  return store;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('find in storage order', () => {
  it('pages through every event once, newest day and row first, over blocks, minis and segments', async () => {
    const store = await openStore();
    for (let written = 0; written < 9_000; written += 750) await store.write(events(written, 750));
    // The young rows of the last writes stay in segments: written after the conversions above.
    await store.write(events(9_000, 120));
    const all = await listAll(store, { filter: { kind: 'all' } }, 700);
    assertExactly(all, range(9_120), 'everything');
    assertOrdered(all, true);
    const days = [...new Set(all.map((h) => h.sort[0]))];
    assert.equal(days.length, 3, 'three days');

    const asc = await listAll(store, { filter: { kind: 'all' }, storageOrder: 'asc' }, 1_000);
    assertOrdered(asc, false);
    assert.deepEqual(asc.map((h) => h.n), [...all].reverse().map((h) => h.n), 'ascending is descending reversed');

    // A filter that leaves most of each window empty: windows grow until the page fills.
    const rare = await listAll(store, { filter: filterOf('rare') }, 50);
    assertExactly(rare, range(9_120).filter((n) => n % 13 === 0), 'the rare word');
    assertOrdered(rare, true);
    const host = await listAll(store, { filter: filterOf('host:web-3 AND n:>4000') }, 333);
    assertExactly(host, range(9_120).filter((n) => n % 5 === 3 && n > 4000), 'a field filter');

    // A time range that cuts the middle day in half.
    const from = BASE + DAY_MS + 3_600_000 + 4_000;
    const timed = await listAll(store, { filter: { kind: 'all' }, range: { fromMicros: from * 1000, toMicros: (BASE + 3 * DAY_MS) * 1000 } }, 500);
    assertExactly(timed, range(9_120).filter((n) => (n % 3 === 1 && n >= 4_000) || n % 3 === 2), 'a time range');

    // from/size: an offset skips rows of the listing, whatever files they are in.
    const offset = await store.find({ filter: { kind: 'all' }, sort: [], offset: 2_950, limit: 300, trackTotalHits: true });
    assert.deepEqual(offset.hits.map((h) => Number(h.n)), all.slice(2_950, 3_250).map((h) => h.n));
    assert.deepEqual(offset.total, { value: 9_120, exact: true });

    // search_after at a day's last row resumes at the next day.
    const lastOfDay = all.findIndex((h, i) => i > 0 && h.sort[0] !== all[i - 1].sort[0]) - 1;
    const nextDay = await store.find({ filter: { kind: 'all' }, sort: [], limit: 5, searchAfter: all[lastOfDay].sort });
    assert.deepEqual(nextDay.hits.map((h) => Number(h.n)), all.slice(lastOfDay + 1, lastOfDay + 6).map((h) => h.n), 'the next day');
    await assert.rejects(store.find({ filter: { kind: 'all' }, sort: [], limit: 5, searchAfter: [all[0].sort[0]] }), /search_after has 1 values/);
    await assert.rejects(store.find({ filter: { kind: 'all' }, sort: [], limit: 5, searchAfter: ['x', 1] }), /search_after of a storage-order sort/);
  });

  it('sees only what a snapshot held while writes and compaction go on, and not rows deleted since', async () => {
    const store = await openStore();
    await store.write(events(0, 4_321));
    const snapshot: StoreSnapshot = await store.snapshot();
    // Writes after the snapshot, converted and compacted while the listing pages.
    const END = 4_321 + 20 * 400;
    const writing = (async () => {
      for (let written = 4_321; written < END; written += 400) await store.write(events(written, 400));
    })();
    const seen = await listAll(store, { filter: { kind: 'all' }, snapshot }, 400);
    await writing;
    assertExactly(seen, range(4_321), 'the snapshot');
    const counted = await store.find({ filter: { kind: 'all' }, sort: [], limit: 0, snapshot, trackTotalHits: true });
    assert.deepEqual(counted.total, { value: 4_321, exact: true }, 'its exact total, counted from blocks and rows');
    const later = await store.find({ filter: filterOf('common'), sort: [], limit: 0, snapshot, trackTotalHits: true });
    assert.equal(later.total.value, range(4_321).filter((n) => n % 13 !== 0).length);

    // Rows deleted from the middle of files leave gaps in the sequence numbers, which windows step over.
    const deleted = await store.deleteWhere(filterOf('host:web-1 OR host:web-2'));
    assert.equal(deleted, range(END).filter((n) => n % 5 === 1 || n % 5 === 2).length);
    const rest = await listAll(store, { filter: { kind: 'all' } }, 1_000);
    assertExactly(rest, range(END).filter((n) => n % 5 !== 1 && n % 5 !== 2), 'after the delete');
    assertOrdered(rest, true);
    const snapshotRest = await listAll(store, { filter: { kind: 'all' }, snapshot }, 1_000);
    assertExactly(snapshotRest, range(4_321).filter((n) => n % 5 !== 1 && n % 5 !== 2), 'the snapshot after the delete');
  });
});
