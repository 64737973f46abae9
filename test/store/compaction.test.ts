/**
 * The DuckDB store's hot table → Parquet compaction, with small blocks so
 * that many blocks seal and compact while writes go on: no event may be
 * lost, duplicated or hidden at any moment, and full-text pruning by bloom
 * filters must still find every needle.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogEvent } from '../../src/core/event.js';
import { parseQuery } from '../../src/query/parse.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import type { BlockCounts } from '../../src/store/duckdb/partition.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-compaction-'));
  dirs.push(d);
  return d;
}

const NOW = Date.now();
const RANGE = { fromMicros: (NOW - 3_600_000) * 1000, toMicros: (NOW + 60_000) * 1000 };

function events(from: number, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      ts: (NOW - 1_000_000 + n) * 1000,
      fields: { message: `request ${n} served ${n % 97 === 0 ? `needle${n}` : 'hay'}`, host: `web-${n % 7}`, n },
    };
  });
}

async function count(store: DuckDBStore, q = '*'): Promise<number> {
  const r = await store.search({ query: parseQuery(`${q} | stats count()`), range: RANGE, limit: 10 });
  assert.equal(r.kind, 'table');
  return Number(r.rows[0][0]);
}

describe('compaction of sealed blocks', () => {
  it('keeps every event visible exactly once while blocks compact under concurrent writes, and after a restart', async () => {
    const dir = tempDir();
    const store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 14 });
    await store.open();
    let written = 0;
    for (let round = 0; round < 12; round++) {
      // Several writers at once: their batches are merged into one commit while compaction runs.
      const batches = [337, 512, 99, 801].map((size) => {
        const evs = events(written, size);
        written += size;
        return store.write(evs);
      });
      await Promise.all(batches);
      assert.equal(await count(store), written, `after round ${round}`);
    }
    const distinct = await store.search({ query: parseQuery('* | stats count_distinct(n)'), range: RANGE, limit: 1 });
    assert.equal(distinct.kind === 'table' && Number(distinct.rows[0][0]), written, 'no event appears twice');
    // Segments become Parquet in the background: every event stays visible exactly once meanwhile.
    const blockFiles = (): string[] =>
      fs
        .readdirSync(path.join(dir, 'partitions'))
        .flatMap((d) => fs.readdirSync(path.join(dir, 'partitions', d)).filter((f) => /^b\d+\.parquet$/.test(f)));
    for (const deadline = Date.now() + 60_000; blockFiles().length < Math.floor(written / 1000); ) {
      assert.ok(Date.now() < deadline, `sealed blocks were compacted to Parquet (${blockFiles().length} files)`);
      assert.equal(await count(store), written, 'while compacting');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(blockFiles().length >= 10);

    // Needles in compacted blocks, in the open block, and absent ones.
    for (const n of [0, 97 * 3, 97 * 60, 97 * Math.floor((written - 1) / 97)]) {
      const r = await store.search({ query: parseQuery(`needle${n}`), range: RANGE, limit: 5 });
      assert.equal(r.kind === 'hits' && r.total, 1, `needle${n}`);
      assert.equal(r.kind === 'hits' && r.hits[0].n, n);
    }
    assert.equal(await count(store, 'needle5'), 0);

    await store.close();
    const reopened = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 14 });
    await reopened.open();
    assert.equal(await count(reopened), written, 'after a restart');
    await reopened.write(events(written, 1500));
    assert.equal(await count(reopened), written + 1500, 'writes go on after a restart');
    await reopened.close();
  });
});

describe('minis of the open block', () => {
  const files = (dir: string, pattern: RegExp): string[] =>
    fs.readdirSync(path.join(dir, 'partitions')).flatMap((d) => fs.readdirSync(path.join(dir, 'partitions', d)).filter((f) => pattern.test(f)));
  const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
    for (const deadline = Date.now() + 30_000; !ok(); ) {
      assert.ok(Date.now() < deadline, what);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('a trickle: segments a second old become a mini', async () => {
    const dir = tempDir();
    const store = new DuckDBStore({ dir, blockRows: 100_000, bloomBits: 12 });
    await store.open();
    try {
      await store.write(events(0, 50));
      await new Promise((r) => setTimeout(r, 1100));
      await store.write(events(50, 50));
      await waitFor('the segments became minis', () => files(dir, /^m\d+-\d+\.parquet$/).length > 0 && files(dir, /\.ndjson$/).length === 0);
      assert.equal(await count(store), 100);
    } finally {
      await store.close();
    }
  });

  it('a stream that fills the block within seconds: its segments wait and go straight into the block file', async () => {
    const dir = tempDir();
    const store = new DuckDBStore({ dir, blockRows: 30_000, bloomBits: 12 });
    await store.open();
    try {
      let written = 0;
      const seen = new Set<string>();
      // 1,000 rows every 110 ms, on a schedule: the 30,000 rows of the block take 3.3 s, long enough for a
      // later segment to turn a second old before the block seals, and when the rate is first known (after
      // a second) the rest of the block is little over two seconds away, within the limit of three.
      // Writes are not awaited one by one: a slow sync (the disk busy with a conversion) would hold the next
      // write back, and the rate the store sees would be the disk's, not the schedule's.
      const start = Date.now();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, Math.max(0, start + i * 110 - Date.now())));
        writes.push(store.write(events(written, 1000)));
        written += 1000;
        for (const f of files(dir, /^m\d+-\d+\.parquet$/)) seen.add(f);
      }
      await Promise.all(writes);
      await waitFor('the sealed block was compacted', () => files(dir, /^b0+\.parquet$/).length === 1);
      for (const f of files(dir, /^m\d+-\d+\.parquet$/)) seen.add(f);
      // The first second has no rate yet: only its rows may have become a mini.
      const later = [...seen].filter((f) => Number(/^m(\d+)-/.exec(f)?.[1]) >= 8000);
      assert.deepEqual(later, [], `rows written after the first second went into no mini: ${[...seen].join(', ')}`);
      assert.equal(await count(store), written);
    } finally {
      await store.close();
    }
  });
});

describe('histograms and time groups from per-second block counts', () => {
  it('agree with the rows they count, after a delete, and with counts gone stale or missing across a restart', async () => {
    const dir = tempDir();
    const base = Math.floor(NOW / 1000) * 1000 - 600_000;
    // 7 ms apart: a block of 1,000 rows spans 7 seconds, and blocks share their edge seconds.
    // Hosts for the facet counts; every fifth event has none.
    const evs: LogEvent[] = Array.from({ length: 8000 }, (_, n): LogEvent => {
      const fields: LogEvent['fields'] = { message: `m ${n}`, n };
      if (n % 5 !== 0) fields.host = `h${n % 3}`;
      return { ts: (base + n * 7) * 1000, fields };
    });
    const store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
    await store.open();
    for (let i = 0; i < evs.length; i += 500) await store.write(evs.slice(i, i + 500));
    const part = path.join(dir, 'partitions', fs.readdirSync(path.join(dir, 'partitions'))[0]);
    const countsFiles = (): string[] => fs.readdirSync(part).filter((f) => /^b\d+\.counts\.json$/.test(f));
    for (const deadline = Date.now() + 60_000; countsFiles().length < 7; ) {
      assert.ok(Date.now() < deadline, `blocks were counted (${countsFiles().length} counts files)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Beside the events per second, per ten seconds and host (nulls included).
    const sample = JSON.parse(fs.readFileSync(path.join(part, countsFiles().sort()[1]), 'utf8')) as BlockCounts;
    assert.deepEqual([...(sample.facets?.host?.values ?? [])].sort(), ['h0', 'h1', 'h2', null].sort());
    assert.equal(sample.facets?.host?.counts.reduce((a, b) => a + b, 0), sample.counts.reduce((a, b) => a + b, 0));
    const all = parseQuery('*').filter;
    const scanned = parseQuery('_exists_:n').filter;
    const expected = (live: LogEvent[], interval: number, range: { fromMicros: number; toMicros: number }): Map<number, number> => {
      const m = new Map<number, number>();
      for (const e of live) {
        if (e.ts < range.fromMicros || e.ts >= range.toMicros) continue;
        const b = Math.floor(e.ts / interval) * interval;
        m.set(b, (m.get(b) ?? 0) + 1);
      }
      return m;
    };
    const check = async (s: DuckDBStore, live: LogEvent[], what: string): Promise<void> => {
      // A range that covers some blocks whole and cuts others, and one that covers everything.
      const ranges = [RANGE, { fromMicros: (base + 9_000) * 1000, toMicros: (base + 41_000) * 1000 }];
      for (const range of ranges) {
        for (const interval of [1_000_000, 10_000_000, 500_000]) {
          const fast = await s.histogram(all, range, interval);
          const slow = await s.histogram(scanned, range, interval);
          assert.deepEqual(fast, slow, `${what}: counts and scan agree (interval ${interval})`);
          const want = expected(live, interval, range);
          const got = new Map(fast.filter((b) => b.count > 0).map((b) => [Date.parse(b.time) * 1000, b.count]));
          assert.deepEqual(got, want, `${what}: the events' own buckets (interval ${interval})`);
        }
        // The same through `group` (the Elasticsearch date_histogram), with an offset, two count metrics.
        for (const [interval, offset] of [
          [10_000_000, 3_000_000],
          [1_000_000, 0],
          [2_000_000, 500_000],
        ]) {
          const req = { range, keys: [{ kind: 'time' as const, field: '@timestamp', intervalMicros: interval, offsetMicros: offset }], metrics: [{ fn: 'count' as const }, { fn: 'count' as const }] };
          const fast = await s.group({ ...req, filter: all });
          const slow = await s.group({ ...req, filter: scanned });
          assert.deepEqual(fast, slow, `${what}: group by time, counts and scan agree (interval ${interval}, offset ${offset})`);
          const want = new Map<number, number>();
          for (const e of live) {
            if (e.ts < range.fromMicros || e.ts >= range.toMicros) continue;
            const b = Math.floor((e.ts - offset) / interval) * interval + offset;
            want.set(b, (want.get(b) ?? 0) + 1);
          }
          assert.deepEqual(
            fast.map((r) => [r.keys[0], r.metrics[0], r.metrics[1]]),
            [...want].sort((x, y) => x[0] - y[0]).map(([b, n]) => [b, n, n]),
            `${what}: group by time, the events' own buckets (interval ${interval}, offset ${offset})`,
          );
        }
        // Totals of a search without a filter (counted from blocks), exact and capped, as a scan counts them.
        const inRange = live.filter((e) => e.ts >= range.fromMicros && e.ts < range.toMicros).length;
        for (const track of [true, 1000, inRange, inRange + 5] as const) {
          const fast = await s.find({ filter: all, range, limit: 0, trackTotalHits: track });
          const slow = await s.find({ filter: scanned, range, limit: 0, trackTotalHits: track });
          assert.deepEqual(fast.total, slow.total, `${what}: totals agree (track ${track})`);
          const exact = track === true || inRange <= track;
          assert.deepEqual(fast.total, { value: exact ? inRange : track, exact }, `${what}: the total (track ${track})`);
        }
        const page = await s.find({ filter: all, range, limit: 3, trackTotalHits: 10 });
        assert.equal(page.hits.length, 3, `${what}: hits still found beside a counted total`);
        // Split by host (Kibana's date_histogram → terms): facet counts for whole ten seconds, the scan otherwise.
        for (const [interval, offset] of [
          [10_000_000, 0],
          [20_000_000, 10_000_000],
          [2_000_000, 0],
        ]) {
          const req = {
            range,
            keys: [{ kind: 'time' as const, field: '@timestamp', intervalMicros: interval, offsetMicros: offset }, { kind: 'terms' as const, field: 'host' }],
            keyValues: [null, null],
            metrics: [{ fn: 'count' as const }],
          };
          const fast = await s.group({ ...req, filter: all });
          const slow = await s.group({ ...req, filter: scanned });
          assert.deepEqual(fast, slow, `${what}: group by time and host, counts and scan agree (interval ${interval}, offset ${offset})`);
          const want = new Map<string, number>();
          for (const e of live) {
            if (e.ts < range.fromMicros || e.ts >= range.toMicros) continue;
            const key = JSON.stringify([Math.floor((e.ts - offset) / interval) * interval + offset, e.fields.host ?? null]);
            want.set(key, (want.get(key) ?? 0) + 1);
          }
          assert.deepEqual(new Map(fast.map((r) => [JSON.stringify(r.keys), r.metrics[0]])), want, `${what}: group by time and host, the events' own (interval ${interval})`);
        }
      }
    };
    await check(store, evs, 'after compaction');

    // A delete rewrites block files; their counts are written again.
    assert.equal(await store.deleteWhere(parseQuery('n:<1500').filter), 1500);
    const live = evs.slice(1500);
    await check(store, live, 'after a delete');
    await store.close();

    // Counts of a block that has no file (a crash between the two) go; missing counts are written again.
    fs.writeFileSync(path.join(part, 'b999.counts.json'), JSON.stringify({ min: 0, max: 1e10, secs: [0], counts: [5] }));
    const lost = countsFiles().sort()[2];
    fs.rmSync(path.join(part, lost));
    const reopened = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
    await reopened.open();
    assert.equal(fs.existsSync(path.join(part, 'b999.counts.json')), false, 'stale counts removed');
    await check(reopened, live, 'after a restart, one block uncounted');
    for (const deadline = Date.now() + 30_000; !fs.existsSync(path.join(part, lost)); ) {
      assert.ok(Date.now() < deadline, 'the missing counts were written again');
      await new Promise((r) => setTimeout(r, 50));
    }
    await check(reopened, live, 'after a restart');
    await reopened.close();
  });
});
