/**
 * The store keeps each event's shape (core/shape.ts) in its `_shape` column,
 * through segments, minis and sealed blocks, and reads data directories
 * written before the column existed: files without it read as events
 * without a shape, beside newer files that have it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LogEvent } from '../../src/core/event.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import { HIT_SHAPE, type Hit } from '../../src/store/store.js';
import { removeDir, tempDir } from '../helpers/server.js';

const NOW = Date.now();
const RANGE = { fromMicros: (NOW - 3_600_000) * 1000, toMicros: (NOW + 60_000) * 1000 };
const SHAPE = '{"n":1,"message":0}';

function events(from: number, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const ev: LogEvent = { ts: (NOW - 1_000_000 + n) * 1000, fields: { message: `event ${n}`, n }, id: `e${n}` };
    // Every third event has no shape (as events of the native API), the others one of two.
    if (n % 3 === 1) ev.shape = SHAPE;
    else if (n % 3 === 2) ev.shape = `{"message":0,"n":1,"lit":[${n}]}`;
    return ev;
  });
}

function expectedShape(n: number): string | undefined {
  return n % 3 === 1 ? SHAPE : n % 3 === 2 ? `{"message":0,"n":1,"lit":[${n}]}` : undefined;
}

async function allHits(store: DuckDBStore): Promise<Hit[]> {
  const r = await store.find({ filter: { kind: 'all' }, range: RANGE, limit: 100_000, sort: [{ field: 'n', desc: false }] });
  return r.hits;
}

function parquetFiles(dir: string): string[] {
  const root = path.join(dir, 'partitions');
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.parquet')).map((f) => path.join(root, d, f)));
}

function assertShapes(hits: Hit[], from: number, to: number, old: (n: number) => boolean): void {
  assert.equal(hits.length, to - from);
  for (const h of hits) {
    const n = Number(h.n);
    assert.equal(h[HIT_SHAPE], old(n) ? undefined : expectedShape(n), `shape of event ${n}`);
    assert.equal(Object.keys(h).includes('_shape'), false, 'the shape is not a field');
  }
}

describe('the shape column', () => {
  it('keeps shapes through segments, minis and blocks, in find and getByIds, and reads files written before it', async () => {
    const dir = tempDir();
    try {
      let store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
      await store.open();
      await store.write(events(0, 1500));
      assertShapes(await allHits(store), 0, 1500, () => false);
      await store.close();

      store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
      await store.open();
      assertShapes(await allHits(store), 0, 1500, () => false);
      const byId = await store.getByIds(['e1', 'e2', 'e3']);
      assert.deepEqual(
        byId.map((h) => h[HIT_SHAPE]),
        [SHAPE, '{"message":0,"n":1,"lit":[2]}', undefined],
      );
      await store.close();

      // A data directory from before the column: the same files without it.
      const files = parquetFiles(dir);
      assert.ok(files.length > 0, 'events were compacted to Parquet');
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      for (const f of files) {
        const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${f}')`)).getRows().map((r) => String(r[0]));
        assert.ok(cols.includes('_shape'), `${path.basename(f)} has the shape column`);
        await conn.run(`COPY (SELECT * EXCLUDE (_shape) FROM read_parquet('${f}')) TO '${f}.old' (FORMAT parquet)`);
        fs.renameSync(`${f}.old`, f);
      }
      conn.closeSync();
      instance.closeSync();

      store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
      await store.open();
      assertShapes(await allHits(store), 0, 1500, () => true);
      assert.equal((await store.getByIds(['e1']))[0][HIT_SHAPE], undefined);
      // New events beside old files: both read in one answer, the new with their shapes.
      await store.write(events(1500, 1200));
      assertShapes(await allHits(store), 0, 2700, (n) => n < 1500);
      const searched = await store.find({ filter: { kind: 'all' }, range: RANGE, limit: 5, sort: [{ field: 'n', desc: true }] });
      assert.equal(searched.hits[0][HIT_SHAPE], expectedShape(2699));
      await store.close();

      // And once the new events are compacted among the old files.
      store = new DuckDBStore({ dir, blockRows: 1000, bloomBits: 12 });
      await store.open();
      assertShapes(await allHits(store), 0, 2700, (n) => n < 1500);
      await store.close();
    } finally {
      removeDir(dir);
    }
  });
});
