/**
 * Search at index speed (issue 22): needles found through the blocks' filters (addresses,
 * ids, host:port, paths), bare words over every string field, newest-first searches that stop
 * early with a bounded total. Every query's hits are checked against a brute-force scan of the
 * same events (the in-memory matcher, which reads every event and no index), across restarts,
 * compaction and retention; and the needles must have skipped blocks, or the index did nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogEvent } from '../../src/core/event.js';
import { compileMatcher } from '../../src/query/match.js';
import { parseQuery } from '../../src/query/parse.js';
import { DuckDBStore } from '../../src/store/duckdb/store.js';
import { QueryCancelled, queryAbort, type Hit } from '../../src/store/store.js';
import { prng } from '../helpers/prng.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const NOW = Date.now();
const DAY = 86_400_000;
const RANGE = { fromMicros: (NOW - 5 * DAY) * 1000, toMicros: (NOW + 60_000) * 1000 };
const COUNT = 4000;

/** Planted values, each with the decoys a careless index or matcher would confuse with it. */
const PLANTED: Record<number, { message?: string; fields?: Record<string, string> }> = {
  100: { message: 'Accepted password for root from 10.20.30.40 port 5522 ssh2' },
  // Decoys of the address: inside a longer number, with other separators, split by spaces.
  101: { message: 'client 110.20.30.40 and 10.20.30.401 sent 10 20 30 40' },
  102: { message: 'peer 5.10.20.30.40 relayed' },
  700: { message: 'connect to db-7:5432 refused' },
  701: { message: 'connect to db-7 on 5432 refused' },
  1500: { fields: { request_id: 'abc123' } },
  1501: { fields: { request_id: 'abc1234' } },
  2100: { message: 'worker NeedleMixedCase woke' },
  2600: { message: 'state zeta--omega reached' },
  2601: { message: 'state zeta omega reached' },
  3300: { message: 'GET /api/v1/orders/777 HTTP/1.1' },
  3301: { message: 'GET /api/v2/orders/777 HTTP/1.1' },
  3900: { fields: { service: 'checkout', user: 'Ana.Lima@example.com' } },
  // A host of its own: compacted blocks know their hosts exactly (facet counts), not by the filter.
  3950: { fields: { host: 'Lonely-Host' } },
};

function makeEvents(): LogEvent[] {
  const rand = prng(22);
  const ip = (): string => `${1 + Math.floor(rand() * 223)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
  const hex = (): string => Array.from({ length: 16 }, () => Math.floor(rand() * 16).toString(16)).join('');
  const out: LogEvent[] = [];
  for (let n = 0; n < COUNT; n++) {
    // The first 500 events are three days old: a partition of their own, which retention drops.
    const ts = (n < 500 ? NOW - 3 * DAY + n : NOW - 2_000_000 + n * 100) * 1000;
    const auth = rand() < 0.3;
    const message = auth
      ? `${rand() < 0.5 ? 'Failed' : 'Accepted'} password for ${rand() < 0.5 ? 'root' : 'admin'} from ${ip()} port ${1024 + Math.floor(rand() * 60000)} ssh2`
      : `${ip()} - - "GET /api/v1/items/${Math.floor(rand() * 500)} HTTP/1.1" 200 ${Math.floor(rand() * 9000)} "Mozilla/5.0 ${rand() < 0.4 ? 'Firefox/120.0' : 'Chrome/119.0'}"`;
    const fields: Record<string, unknown> = {
      message,
      host: auth ? `auth-${n % 3}` : `web-${n % 5}`,
      request_id: hex(),
      service: rand() < 0.5 ? 'cart' : 'search',
      n,
    };
    const plant = PLANTED[n];
    if (plant?.message) fields.message = plant.message;
    Object.assign(fields, plant?.fields);
    out.push({ ts, fields: fields as LogEvent['fields'] });
  }
  return out;
}

const QUERIES = [
  '"10.20.30.40"',
  '10.20.30.40',
  'message:"10.20.30.40"',
  '"20.30.40"',
  '"db-7:5432"',
  '"db-7 5432"',
  'request_id:abc123',
  'abc123',
  'abc1234',
  'needlemixedcase',
  'NEEDLEMIXEDCASE',
  'zeta-omega',
  '"zeta omega"',
  'zetaomega',
  '/api/v1/orders',
  '"/api/v1/orders/777"',
  'checkout',
  'service:checkout',
  'ana.lima@example.com',
  'user:"ana.lima@example.com"',
  '"Failed password"',
  'sshd',
  'Firefox AND host:web-3',
  'firefox AND NOT host:web-3',
  'web-2',
  'lonely-host',
  'host:LONELY-HOST',
  '"for root from"',
  '*',
];

function brute(events: LogEvent[], q: string): number[] {
  const match = compileMatcher(parseQuery(q).filter, NOW);
  return events
    .filter((e) => e.ts >= RANGE.fromMicros && e.ts < RANGE.toMicros && match({ ts: e.ts, fields: e.fields as Record<string, unknown> }))
    .map((e) => Number(e.fields.n))
    .sort((a, b) => a - b);
}

async function found(store: DuckDBStore, q: string, extra: { trackTotalHits?: boolean | number; limit?: number } = {}): Promise<{ ns: number[]; total: number; relation?: string; hits: Hit[] }> {
  const r = await store.search({ query: parseQuery(q), range: RANGE, limit: extra.limit ?? COUNT, trackTotalHits: extra.trackTotalHits ?? true, nowMs: NOW });
  assert.equal(r.kind, 'hits');
  return { ns: r.hits.map((h) => Number(h.n)).sort((a, b) => a - b), total: r.total, relation: r.totalRelation, hits: r.hits };
}

async function checkAll(store: DuckDBStore, events: LogEvent[], when: string): Promise<void> {
  for (const q of QUERIES) {
    const want = brute(events, q);
    const got = await found(store, q);
    assert.deepEqual(got.ns, want, `${q} (${when})`);
    assert.equal(got.total, want.length, `total of ${q} (${when})`);
  }
}

async function openStore(dir: string, retentionDays = 0): Promise<DuckDBStore> {
  const store = new DuckDBStore({ dir, blockRows: 500, bloomBits: 18, retentionDays });
  await store.open();
  return store;
}

describe('search at index speed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-needles-'));
  dirs.push(dir);
  const events = makeEvents();

  it('plants what it means to: each needle is where the brute force finds it', () => {
    assert.deepEqual(brute(events, '"10.20.30.40"'), [100, 102]);
    assert.deepEqual(brute(events, 'abc123'), [1500]);
    assert.deepEqual(brute(events, 'zeta-omega'), [2600]);
    assert.deepEqual(brute(events, '"zeta omega"'), [2600, 2601]);
    assert.deepEqual(brute(events, 'checkout'), [3900]);
    assert.deepEqual(brute(events, '"db-7:5432"'), [700]);
  });

  it('finds the same events as a brute-force scan, while rows are young and once blocks are compacted', async () => {
    let store = await openStore(dir);
    for (let at = 0; at < events.length; at += 250) await store.write(events.slice(at, at + 250));
    await checkAll(store, events, 'young');
    // Closing waits for background compaction; reopening reads the blocks' files.
    await store.close();
    store = await openStore(dir);
    try {
      await checkAll(store, events, 'after a restart');
    } finally {
      await store.close();
    }
  });

  it('skips the blocks that cannot hold a needle', async () => {
    const store = await openStore(dir);
    try {
      for (const q of ['"10.20.30.40"', 'request_id:abc123', 'abc123', '"db-7:5432"', 'needlemixedcase', 'checkout', 'lonely-host', 'host:lonely-host']) {
        const before = { ...store.indexStats };
        await found(store, q);
        const files = store.indexStats.files - before.files;
        const skipped = store.indexStats.skipped - before.skipped;
        assert.ok(files >= 6, `${q}: ${files} files considered`);
        assert.ok(skipped >= files - 2, `${q}: only ${skipped} of ${files} files skipped`);
      }
      // A common word cannot skip: every block holds it.
      const before = { ...store.indexStats };
      await found(store, 'password');
      assert.equal(store.indexStats.skipped - before.skipped, 0);
    } finally {
      await store.close();
    }
  });

  it('returns the newest hits early with a bounded total, the same page as a full search', async () => {
    const store = await openStore(dir);
    try {
      for (const q of ['"Failed password"', 'password', 'firefox', 'web-2']) {
        const full = await store.search({ query: parseQuery(q), range: RANGE, limit: 20, trackTotalHits: true, nowMs: NOW });
        const early = await store.search({ query: parseQuery(q), range: RANGE, limit: 20, trackTotalHits: 50, nowMs: NOW });
        assert.ok(full.kind === 'hits' && early.kind === 'hits');
        assert.deepEqual(early.hits.map((h) => h._id), full.hits.map((h) => h._id), q);
        assert.ok(full.total > 50, `${q} is common: ${full.total}`);
        assert.equal(full.totalRelation, 'eq');
        assert.equal(early.total, 50);
        assert.equal(early.totalRelation, 'gte');
        // The next page, by cursor, is the same too.
        const full2 = await store.search({ query: parseQuery(q), range: RANGE, limit: 20, cursor: full.cursor ?? undefined, trackTotalHits: true, nowMs: NOW });
        const early2 = await store.search({ query: parseQuery(q), range: RANGE, limit: 20, cursor: early.cursor ?? undefined, trackTotalHits: 50, nowMs: NOW });
        assert.ok(full2.kind === 'hits' && early2.kind === 'hits');
        assert.deepEqual(early2.hits.map((h) => h._id), full2.hits.map((h) => h._id), `${q}, page 2`);
      }
      // A rare needle's total is exact whatever the cap.
      const rare = await store.search({ query: parseQuery('"10.20.30.40"'), range: RANGE, limit: 20, nowMs: NOW });
      assert.ok(rare.kind === 'hits');
      assert.equal(rare.total, 2);
      assert.equal(rare.totalRelation, 'eq');
    } finally {
      await store.close();
    }
  });

  it('says when a table was cut by the limit', async () => {
    const store = await openStore(dir);
    try {
      const cut = await store.search({ query: parseQuery('* | stats count() by request_id'), range: RANGE, limit: 10, nowMs: NOW });
      assert.ok(cut.kind === 'table');
      assert.equal(cut.rows.length, 10);
      assert.equal(cut.truncated, true);
      const whole = await store.search({ query: parseQuery('* | stats count() by host'), range: RANGE, limit: 10, nowMs: NOW });
      assert.ok(whole.kind === 'table');
      assert.equal(whole.rows.length, 9);
      assert.equal(whole.truncated, false);
    } finally {
      await store.close();
    }
  });

  it('a cancelled query stops and frees its connection for the next', async () => {
    const store = await openStore(dir);
    try {
      const controller = new AbortController();
      const running = queryAbort.run(controller.signal, () => store.search({ query: parseQuery('message:*a* | stats count() by request_id'), range: RANGE, limit: 10, nowMs: NOW }));
      controller.abort();
      await assert.rejects(running, QueryCancelled);
      for (let i = 0; i < 4; i++) assert.deepEqual((await found(store, 'abc123')).ns, [1500]);
    } finally {
      await store.close();
    }
  });

  it('still agrees with the brute force once retention dropped the oldest day', async () => {
    const store = await openStore(dir, 2);
    try {
      const dropped = await store.applyRetention(NOW * 1000);
      assert.ok(dropped > 0, 'the three-day-old partition is dropped');
      await checkAll(store, events.slice(500), 'after retention');
    } finally {
      await store.close();
    }
  });
});
