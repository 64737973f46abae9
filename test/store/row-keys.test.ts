/**
 * A write's row keys: the store tells where each event went (its day and
 * sequence number), and the generated id made of them finds that event,
 * whether the write was encoded on arrival or in its turn (new fields, a new
 * day), alone or with others.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogEvent } from '../../src/core/event.js';
import { newFields } from '../../src/core/normalize.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import { RowKeys } from '../../src/store/store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const DAY1 = Date.UTC(2026, 10, 20, 10) * 1000;
const DAY2 = Date.UTC(2026, 10, 21, 10) * 1000;

function event(name: string, ts: number, extra?: string): LogEvent {
  const fields = newFields();
  fields.message = name;
  if (extra !== undefined) fields[extra] = name;
  return { ts, fields };
}

async function openStore(): Promise<DuckDBStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-keys-'));
  dirs.push(dir);
  const store = new DuckDBStore({ dir });
  await store.open();
  return store;
}

describe('row keys of a write', () => {
  it('name each event: one day, two days, writes encoded in turn and together', async () => {
    const store = await openStore();
    try {
      // Sent at once: the first needs its day's partition and the others new fields, so all wait and are encoded
      // together; days alternate so that each day's sequence numbers interleave in the write.
      const writes = Array.from({ length: 5 }, (_, w) =>
        Array.from({ length: 300 + w }, (_, i) => event(`w${w} e${i}`, i % 3 === 0 ? DAY1 + i : DAY2 + i, `field_${w}`)),
      );
      const keys = writes.map((events) => new RowKeys(events.length + 10));
      await Promise.all(writes.map((events, w) => store.write(events, keys[w])));
      // Encoded on arrival: fields known, partitions open.
      const more = Array.from({ length: 500 }, (_, i) => event(`more ${i}`, i % 2 === 0 ? DAY1 : DAY2));
      const moreKeys = new RowKeys(more.length);
      await store.write(more, moreKeys);
      writes.push(more);
      keys.push(moreKeys);
      // One day only (the usual case).
      const oneDay = Array.from({ length: 200 }, (_, i) => event(`one day ${i}`, DAY2 + i));
      const oneDayKeys = new RowKeys(oneDay.length);
      await store.write(oneDay, oneDayKeys);
      writes.push(oneDay);
      keys.push(oneDayKeys);

      const seen = new Set<string>();
      for (let w = 0; w < writes.length; w++) {
        const ids = writes[w].map((_, i) => keys[w].id(i));
        for (let i = 0; i < ids.length; i++) {
          assert.equal(keys[w].days[i], writes[w][i].ts < DAY2 - 3_600_000_000 ? 20261120 : 20261121, `write ${w} event ${i}`);
          assert.ok(!seen.has(ids[i]), `${ids[i]} named twice`);
          seen.add(ids[i]);
        }
        const hits = await store.getByIds(ids);
        assert.equal(hits.length, ids.length);
        const byId = new Map(hits.map((h) => [h._id, h.message]));
        ids.forEach((id, i) => assert.equal(byId.get(id), writes[w][i].fields.message, id));
      }
    } finally {
      await store.close();
    }
  });

  it('are refused when too few for the events', async () => {
    const store = await openStore();
    try {
      await assert.rejects(store.write([event('a', DAY1), event('b', DAY1)], new RowKeys(1)), /room for 1 keys but 2 events/);
    } finally {
      await store.close();
    }
  });
});
