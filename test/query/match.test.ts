/**
 * Live tail matches events in memory (src/query/match.ts); a search matches them in SQL. The two
 * must agree, or a tail would show what a search for the same query does not find (or hide what
 * it does). Generated events go into a real store; generated queries run both ways and the sets
 * of ids are compared.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ingestOk, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { Gen } from '../helpers/prng.js';
import { compileMatcher } from '../../src/query/match.js';
import { parseQuery } from '../../src/query/parse.js';
import type { Hit } from '../../src/store/store.js';

const WORDS = ['error', 'Error', 'timeout', 'connection', 'refused', 'GET', '/api/v1', '10.0.0.1', 'user=bob', 'ünïcode', 'café', 'a_b', 'x-y'];
const HOSTS = ['web-1', 'web-2', 'DB-1', 'cache'];
const LEVELS = ['info', 'warn', 'error'];

function event(g: Gen, i: number): Record<string, unknown> {
  const n = 1 + g.int(6);
  const message = Array.from({ length: n }, () => g.pick(WORDS)).join(g.pick([' ', ' ', ', ', ': ']));
  const e: Record<string, unknown> = { '@timestamp': new Date(Date.parse('2026-05-01T00:00:00Z') + i * 1000).toISOString(), message, host: g.pick(HOSTS) };
  if (g.chance(0.7)) e.level = g.pick(LEVELS);
  if (g.chance(0.6)) e.status = g.pick([200, 201, 404, 500, 503]);
  if (g.chance(0.5)) e.duration = Math.round(g.int(5000)) / 10;
  if (g.chance(0.3)) e.tags = g.chance(0.5) ? ['a', 'b'] : ['B'];
  if (g.chance(0.4)) e.path = g.pick(['/api/v1/users', '/api/v1/orders', '/health', '/Login']);
  if (g.chance(0.2)) e.ok = g.chance(0.5);
  return e;
}

function clause(g: Gen): string {
  switch (g.int(10)) {
    case 0:
      return g.pick(['error', 'timeout', 'refused', 'café', 'ünïcode', 'get']);
    case 1:
      return `"${g.pick(['connection refused', 'error timeout', 'GET /api/v1', '10.0.0.1', 'user=bob'])}"`;
    case 2:
      return `host:${g.pick([...HOSTS, 'db-1', 'WEB-1', 'web-*', '*-1', 'we?-2'])}`;
    case 3:
      return `level:${g.pick(LEVELS)}`;
    case 4:
      return `status:${g.pick(['200', '500', '[400 TO 599]', '>=500', '<300', '{200 TO 404]'])}`;
    case 5:
      return `duration:${g.pick(['>100', '<=50.5', '[10 TO 20]'])}`;
    case 6:
      return `tags:${g.pick(['a', 'b', 'B'])}`;
    case 7:
      return `_exists_:${g.pick(['level', 'status', 'tags', 'path', 'nosuch'])}`;
    case 8:
      return g.pick(['err*', 'time?ut', 'conn*', `path:${g.pick(['/api/v1/*', '/health', '/login', '*users'])}`]);
    default:
      return `ok:${g.pick(['true', 'false'])}`;
  }
}

function query(g: Gen, depth = 0): string {
  if (depth > 1 || g.chance(0.4)) return (g.chance(0.15) ? 'NOT ' : '') + clause(g);
  const parts = Array.from({ length: 2 + g.int(2) }, () => query(g, depth + 1));
  return `(${parts.join(g.pick([' AND ', ' OR ']))})`;
}

describe('live tail matches events as a search does', () => {
  let server: TestServer;
  let hits: Hit[];
  const range = { fromMicros: Date.parse('2026-04-30T00:00:00Z') * 1000, toMicros: Date.parse('2026-05-02T00:00:00Z') * 1000 };
  before(async () => {
    server = await startTestServer();
    const g = new Gen(20261207);
    await ingestOk(server.url, Array.from({ length: 400 }, (_, i) => event(g, i)));
    const all = await server.store.search({ query: parseQuery('*'), range, limit: 10_000 });
    assert.equal(all.kind, 'hits');
    hits = all.kind === 'hits' ? all.hits : [];
    assert.equal(hits.length, 400);
  });
  after(async () => {
    await server.close();
    removeDir(server.dir);
  });

  it('agrees with the store on 300 generated queries', async () => {
    const g = new Gen(7);
    let nonTrivial = 0;
    for (let i = 0; i < 300; i++) {
      const text = query(g);
      const parsed = parseQuery(text);
      const found = await server.store.search({ query: parsed, range, limit: 10_000 });
      assert.equal(found.kind, 'hits');
      const sql = new Set(found.kind === 'hits' ? found.hits.map((h) => h._id) : []);
      const matches = compileMatcher(parsed.filter);
      const mem = new Set(hits.filter((h) => matches({ ts: Date.parse(h['@timestamp']) * 1000, fields: h })).map((h) => h._id));
      const onlySql = [...sql].filter((id) => !mem.has(id));
      const onlyMem = [...mem].filter((id) => !sql.has(id));
      const show = (ids: string[]) => ids.slice(0, 3).map((id) => JSON.stringify(hits.find((h) => h._id === id)));
      assert.deepEqual([onlySql.length, onlyMem.length], [0, 0], `query ${text}\nonly in the search: ${show(onlySql)}\nonly in the tail: ${show(onlyMem)}`);
      if (sql.size > 0 && sql.size < hits.length) nonTrivial++;
    }
    // The queries are worth something only if most of them split the events.
    assert.ok(nonTrivial > 150, `only ${nonTrivial} queries matched some but not all events`);
  });
});
