/** Field names that collide with JavaScript's object machinery are ordinary fields. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { eventFromObject } from '../../src/core/normalize.js';
import { parseQuery } from '../../src/query/parse.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-names-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('field names', () => {
  it('stores toString, constructor, hasOwnProperty, valueOf and __proto__ as fields', async () => {
    const store = new DuckDBStore({ dir });
    await store.open();
    try {
      const doc = JSON.parse('{"message":"odd names","toString":"a","constructor":"b","hasOwnProperty":"c","valueOf":7,"__proto__":["x","y"]}') as Record<string, unknown>;
      const ev = eventFromObject(doc, Date.now() * 1000);
      assert.deepEqual(Object.keys(ev.fields).sort(), ['__proto__', 'constructor', 'hasOwnProperty', 'message', 'toString', 'valueOf']);
      await store.write([ev]);
      const r = await store.search({ query: parseQuery('constructor:b AND toString:a'), range: { fromMicros: 0, toMicros: (Date.now() + 60_000) * 1000 }, limit: 5 });
      assert.equal(r.kind, 'hits');
      if (r.kind !== 'hits') return;
      assert.equal(r.total, 1);
      const hit = r.hits[0];
      assert.equal(hit.toString, 'a');
      assert.equal(hit.hasOwnProperty, 'c');
      assert.equal(hit.valueOf, 7);
      // Arrays outside `tags` are kept as their JSON text (docs/storage.md).
      assert.equal(JSON.parse(JSON.stringify(hit)).__proto__, '["x","y"]');
      const fields = (await store.fields({ fromMicros: 0, toMicros: 1 })).map((f) => f.name);
      for (const n of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__']) assert.ok(fields.includes(n), n);
    } finally {
      await store.close();
    }
  });

  it('finds events by many ids in one OR of terms', async () => {
    const store = new DuckDBStore({ dir: path.join(dir, 'ids') });
    await store.open();
    try {
      const now = Date.now() * 1000;
      await store.write(Array.from({ length: 300 }, (_, i) => ({ ts: now - i, fields: { message: `m${i}` }, id: `doc-${i}` })));
      const wanted = Array.from({ length: 120 }, (_, i) => `doc-${i * 2}`);
      const r = await store.search({ query: parseQuery(wanted.map((id) => `_id:${id}`).join(' OR ')), range: { fromMicros: 0, toMicros: now + 1e9 }, limit: 500 });
      assert.equal(r.kind === 'hits' && r.total, 120);
      assert.equal(await store.deleteWhere(parseQuery(wanted.map((id) => `_id:${id}`).join(' OR ')).filter), 120);
      const left = await store.search({ query: parseQuery('*'), range: { fromMicros: 0, toMicros: now + 1e9 }, limit: 1 });
      assert.equal(left.kind === 'hits' && left.total, 180);
    } finally {
      await store.close();
    }
  });
});
