/**
 * Retention deletes whole days: the partition files of days past the
 * retention period leave the disk and their events leave every answer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import { apiGet, countAll, ingestOk, removeDir, search, startTestServer, table, tempDir } from '../helpers/server.js';

const DAY_MS = 86_400_000;

/** YYYYMMDD of a time in ms, UTC: the name of its partition file. */
function dayName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Every file under partitions/ that belongs to a day: its directory's segments and Parquet files. */
function dayFiles(dir: string, day: string): string[] {
  const pdir = path.join(dir, 'partitions');
  return fs
    .readdirSync(pdir)
    .filter((f) => f === day || f.startsWith(`${day}.`))
    .flatMap((f) => (fs.statSync(path.join(pdir, f)).isDirectory() ? fs.readdirSync(path.join(pdir, f)).map((n) => `${f}/${n}`) : [f]));
}

/** A day holds its rows in a segment, or in Parquet once converted. */
const holdsRows = (f: string): boolean => /\.(ndjson|parquet)$/.test(f);

describe('retention', () => {
  it('deletes partitions older than retentionDays from disk and from answers; keeps the rest', async () => {
    const s = await startTestServer({ retentionDays: 30 });
    let open = true;
    try {
      const now = Date.now();
      const ages: [string, number][] = [
        ['d40', now - 40 * DAY_MS],
        ['d31', now - 31 * DAY_MS],
        ['d30', now - 30 * DAY_MS + 60_000], // inside the oldest kept day
        ['d10', now - 10 * DAY_MS],
        ['d0', now - 60_000],
      ];
      for (const [tag, ts] of ages) {
        await ingestOk(
          s.url,
          Array.from({ length: 7 }, (_, k) => ({ '@timestamp': new Date(ts - k * 1000).toISOString(), message: `retained ${tag} ${k}`, tag })),
        );
      }
      const range = { from: 'now-60d', to: 'now' };
      for (const [, ts] of ages) assert.ok(dayFiles(s.dir, dayName(ts)).some(holdsRows), `partition of ${dayName(ts)} exists`);
      assert.equal((await apiGet(s.url, '/api/v1/health')).body.partitions, 5);
      assert.equal(await countAll(s.url), 35);
      const oldId = (await search(s.url, 'tag:d40', range)).hits[0]._id;

      const removed = await s.store.applyRetention(Date.now() * 1000);
      assert.equal(removed, 2);

      for (const [tag, ts] of ages) {
        const files = dayFiles(s.dir, dayName(ts));
        if (tag === 'd40' || tag === 'd31') assert.deepEqual(files, [], `${tag}: every file of ${dayName(ts)} is gone`);
        else assert.ok(files.some(holdsRows), `${tag}: ${dayName(ts)} is kept`);
      }
      const t = await table(s.url, '* | stats count() by tag | sort tag', range);
      assert.deepEqual(t.rows, [
        ['d0', 7],
        ['d10', 7],
        ['d30', 7],
      ]);
      assert.equal((await search(s.url, 'retained', range)).total, 21);
      assert.equal((await search(s.url, 'tag:d40 OR tag:d31', { from: 'now-100d', to: 'now' })).total, 0);
      assert.equal((await search(s.url, `_id:"${oldId}"`, { from: 'now-100d', to: 'now' })).total, 0);
      const h = await apiGet(s.url, '/api/v1/histogram', { from: 'now-60d', to: 'now' });
      assert.equal((h.body.buckets as { count: number }[]).reduce((a, b) => a + b.count, 0), 21);
      assert.equal((await apiGet(s.url, '/api/v1/health')).body.partitions, 3);
      assert.equal(await s.store.applyRetention(Date.now() * 1000), 0, 'nothing more to delete');

      // Writes still work, and a restart does not bring the deleted days back.
      await ingestOk(s.url, [{ message: 'retained after', tag: 'after' }]);
      await s.close();
      open = false;
      const again = await startTestServer({ retentionDays: 30 }, s.dir);
      try {
        assert.equal(await countAll(again.url), 22);
        assert.equal((await search(again.url, 'tag:d40 OR tag:d31', { from: 'now-100d', to: 'now' })).total, 0);
        assert.equal((await apiGet(again.url, '/api/v1/health')).body.partitions, 3);
      } finally {
        await again.close();
      }
    } finally {
      if (open) await s.close();
      removeDir(s.dir);
    }
  });

  it('applies retention when the server starts', async () => {
    const dir = tempDir();
    try {
      const now = Date.now() * 1000;
      const store = new DuckDBStore({ dir, retentionDays: 0 });
      await store.open();
      await store.write([
        { ts: now - 45 * DAY_MS * 1000, fields: { message: 'startup old', tag: 'old' } },
        { ts: now - 2 * DAY_MS * 1000, fields: { message: 'startup recent', tag: 'recent' } },
      ]);
      assert.equal(await store.applyRetention(now), 0, 'retentionDays 0 keeps everything');
      await store.close();
      const oldDay = dayName(now / 1000 - 45 * DAY_MS);
      assert.ok(dayFiles(dir, oldDay).length > 0);

      const s = await startTestServer({ retentionDays: 30 }, dir);
      try {
        assert.deepEqual(dayFiles(dir, oldDay), []);
        const found = await search(s.url, 'startup', { from: 'now-60d', to: 'now' });
        assert.deepEqual(found.hits.map((h) => h.tag), ['recent']);
      } finally {
        await s.close();
      }
    } finally {
      removeDir(dir);
    }
  });

  it('a last-hour query answers only last-hour events, whatever older partitions hold', async () => {
    const s = await startTestServer();
    try {
      const now = Date.now();
      const recent = Array.from({ length: 10 }, (_, k) => ({ '@timestamp': new Date(now - (k * 5 + 1) * 60_000).toISOString(), message: 'window probe', k }));
      // Look-alikes: the same words and fields, older than an hour (today or earlier) and days old.
      const older = [2, 5, 23].map((h) => ({ '@timestamp': new Date(now - h * 3_600_000).toISOString(), message: 'window probe', k: 100 + h }));
      const old = [3, 10, 40].map((d) => ({ '@timestamp': new Date(now - d * DAY_MS).toISOString(), message: 'window probe', k: 1000 + d }));
      await ingestOk(s.url, [...old, ...recent, ...older]);

      const lastHour = { from: 'now-1h', to: 'now' };
      const found = await search(s.url, 'window probe', lastHour);
      assert.equal(found.total, 10);
      assert.deepEqual(found.hits.map((h) => h.k), Array.from({ length: 10 }, (_, k) => k), 'newest first, nothing older');
      assert.deepEqual((await table(s.url, '* | stats count(), max(k)', lastHour)).rows, [[10, 9]]);
      const h = await apiGet(s.url, '/api/v1/histogram', { q: 'probe', ...lastHour });
      assert.equal((h.body.buckets as { count: number }[]).reduce((a, b) => a + b.count, 0), 10);
      const top = await apiGet(s.url, '/api/v1/fields', { field: 'k', size: 100, ...lastHour });
      assert.equal(top.body.values.length, 10);
      assert.ok(top.body.values.every((v: { value: number }) => v.value < 100));
      // The same queries over a wider range do see the older events.
      assert.equal((await search(s.url, 'window probe', { from: 'now-50d', to: 'now' })).total, 16);
      assert.equal((await search(s.url, 'window probe', { from: 'now-24h', to: 'now' })).total, 13);
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});
