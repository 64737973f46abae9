/**
 * Opening a partition after a crash: the states a process killed between
 * two steps of a segment's life leaves behind (a torn last line, a segment
 * beside the mini made from it, a mini beside its block, a file half written,
 * a block without its bloom filter). Every row must come back exactly once,
 * and writes must go on with fresh sequence numbers.
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

const NOW = Date.now();
const RANGE = { fromMicros: (NOW - 86_400_000) * 1000, toMicros: (NOW + 60_000) * 1000 };
const BLOCK = 1000;

function events(from: number, count: number): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    ts: (NOW - 100_000 + from + i) * 1000,
    fields: { message: `row ${from + i} word${from + i}`, n: from + i },
  }));
}

async function withStore<T>(dir: string, fn: (s: DuckDBStore) => Promise<T>): Promise<T> {
  const s = new DuckDBStore({ dir, blockRows: BLOCK, bloomBits: 14 });
  await s.open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

async function stats(s: DuckDBStore): Promise<{ count: number; distinct: number; max: number }> {
  const r = await s.search({ query: parseQuery('* | stats count(), count_distinct(n), max(n)'), range: RANGE, limit: 1 });
  assert.equal(r.kind, 'table');
  const [count, distinct, max] = r.rows[0].map(Number);
  return { count, distinct, max };
}

function dayDir(dir: string): string {
  const root = path.join(dir, 'partitions');
  const [day] = fs.readdirSync(root);
  return path.join(root, day);
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-recovery-'));
  dirs.push(d);
  return d;
}

describe('opening a partition after a crash', () => {
  it('cuts a segment after its last complete line, and numbers new rows after the kept ones', async () => {
    const dir = tempDir();
    let segment = '';
    let saved = Buffer.alloc(0);
    await withStore(dir, async (s) => {
      await s.write(events(0, 500));
      segment = path.join(dayDir(dir), 's0.ndjson');
      saved = fs.readFileSync(segment);
    });
    // The crash happened before the segment became a mini, during a write that never finished.
    for (const f of fs.readdirSync(dayDir(dir))) fs.rmSync(path.join(dayDir(dir), f));
    fs.writeFileSync(segment, Buffer.concat([saved, Buffer.from('{"_seq":500,"ts":17'), Buffer.from('\n{"_seq":9,"ts":1}\n')]));
    await withStore(dir, async (s) => {
      assert.deepEqual(await stats(s), { count: 500, distinct: 500, max: 499 });
      await s.write(events(500, 10));
      const hits = await s.search({ query: parseQuery('word505'), range: RANGE, limit: 1 });
      assert.equal(hits.kind === 'hits' && hits.hits[0]._id.endsWith('-505'), true, 'the new rows continue the sequence');
    });
    await withStore(dir, async (s) => assert.deepEqual(await stats(s), { count: 510, distinct: 510, max: 509 }));
  });

  it('drops a segment whose mini is complete, a mini whose block is complete, and half-written files', async () => {
    const dir = tempDir();
    let segment = '';
    let saved = Buffer.alloc(0);
    await withStore(dir, async (s) => {
      await s.write(events(0, 700));
      segment = path.join(dayDir(dir), 's0.ndjson');
      saved = fs.readFileSync(segment);
    });
    // Closing turned the segment into a mini and deleted it; the crash came before the delete.
    assert.ok(fs.readdirSync(dayDir(dir)).some((f) => /^m0-700\.parquet$/.test(f)));
    fs.writeFileSync(segment, saved);
    fs.writeFileSync(path.join(dayDir(dir), 'm0-700.parquet.tmp'), 'half a file');
    await withStore(dir, async (s) => {
      assert.deepEqual(await stats(s), { count: 700, distinct: 700, max: 699 });
      assert.ok(!fs.existsSync(segment));
      assert.ok(!fs.readdirSync(dayDir(dir)).some((f) => f.endsWith('.tmp')));
      // Fill the block, so that closing merges it into its block file.
      await s.write(events(700, 600));
    });
    const files = fs.readdirSync(dayDir(dir));
    assert.ok(files.includes('b000000.parquet') && files.includes('b000000.keys.bloom'), files.join(' '));
    // A mini of block 0 left beside the block file, and a block that lost its bloom filter.
    fs.copyFileSync(path.join(dayDir(dir), 'b000000.parquet'), path.join(dayDir(dir), 'm0-1000.parquet'));
    fs.rmSync(path.join(dayDir(dir), 'b000000.keys.bloom'));
    await withStore(dir, async (s) => {
      assert.deepEqual(await stats(s), { count: 1300, distinct: 1300, max: 1299 });
      assert.ok(!fs.existsSync(path.join(dayDir(dir), 'm0-1000.parquet')));
      assert.ok(fs.existsSync(path.join(dayDir(dir), 'b000000.keys.bloom')), 'the bloom filter is rebuilt');
      // Pruning by the rebuilt filter still finds what the block holds, and skips it for what it does not.
      for (const [q, n] of [['word17', 1], ['word1250', 1], ['word99999', 0]] as const) {
        const r = await s.search({ query: parseQuery(q), range: RANGE, limit: 5 });
        assert.equal(r.kind === 'hits' && r.total, n, q);
      }
    });
  });

  it('keeps text with lone surrogates and lines too long for the reader', async () => {
    const dir = tempDir();
    await withStore(dir, async (s) => {
      const huge = 'é'.repeat(9 * 1024 * 1024); // 18 MiB of UTF-8
      await s.write([
        { ts: NOW * 1000, fields: { message: 'lone \ud800 surrogate', odd: 'x\udfffy' } },
        { ts: NOW * 1000, fields: { message: `huge ${huge}` } },
      ]);
      const lone = await s.search({ query: parseQuery('lone'), range: RANGE, limit: 1 });
      assert.equal(lone.kind === 'hits' && lone.hits[0].message, 'lone \ufffd surrogate');
      assert.equal(lone.kind === 'hits' && lone.hits[0].odd, 'x\ufffdy');
      const big = await s.search({ query: parseQuery('huge'), range: RANGE, limit: 1 });
      assert.equal(big.kind, 'hits');
      const hit: Record<string, unknown> = big.kind === 'hits' ? big.hits[0] : {};
      assert.ok(String(hit.message).startsWith('huge éé'));
      assert.ok(Buffer.byteLength(String(hit.message)) < 16 * 1024 * 1024);
      assert.deepEqual(hit.tags, ['_truncated']);
    });
  });
});
