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
