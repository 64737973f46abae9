/**
 * The per-index mapping cache (src/api/es/mappings.ts) against a real store
 * and ES listener: fields show up after new writes to that index only, no
 * field leaks across indices, the store is not asked again when nothing was
 * written, only the rows written since are looked at otherwise, and deletes
 * (document overwrite, delete_by_query, index delete) take fields away.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, ndjson, startEs, type EsTestServer } from './helpers.js';
import type { GroupRequest, GroupRow } from '../../../src/store/store.js';

describe('ES per-index mapping cache', () => {
  let s: EsTestServer;
  /** The field scans the mapping code asked of the store (grouped value_count requests), in order. */
  const scans: GroupRequest[] = [];

  const props = async (index: string): Promise<Record<string, { type?: string }>> => {
    const r = await http(s.url, 'GET', `/${index}/_mapping`);
    assert.equal(r.status, 200, r.text);
    return r.body[index].mappings.properties;
  };
  const bulk = async (lines: unknown[]): Promise<void> => {
    const r = await http(s.url, 'POST', '/_bulk?refresh=true', ndjson(lines));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.errors, false, r.text);
  };

  before(async () => {
    s = await startEs();
    const group = s.store.group.bind(s.store);
    s.store.group = (req: GroupRequest): Promise<GroupRow[]> => {
      if (req.metrics.some((m) => m.fn === 'value_count')) scans.push(req);
      return group(req);
    };
    await bulk([
      { index: { _index: 'alpha' } },
      { '@timestamp': '2026-11-20T10:00:00Z', a_num: 1, a_text: 'one' },
      { index: { _index: 'beta' } },
      { '@timestamp': '2026-11-20T10:00:01Z', b_flag: true },
    ]);
  });
  after(async () => {
    await s.close();
  });

  it('each index shows its own fields, and a second call asks the store nothing', async () => {
    let a = await props('alpha');
    assert.equal(a.a_num?.type, 'long');
    assert.equal(a.a_text?.type, 'keyword');
    assert.equal(a.b_flag, undefined);
    const b = await props('beta');
    assert.equal(b.b_flag?.type, 'boolean');
    assert.equal(b.a_num, undefined);
    const before = scans.length;
    a = await props('alpha');
    assert.equal(a.a_num?.type, 'long');
    assert.equal(scans.length, before, 'nothing was written: the cached fields answer');
    // GET idx and _field_caps share the cache.
    const idx = await http(s.url, 'GET', '/alpha');
    assert.equal(idx.body.alpha.mappings.properties.a_text.type, 'keyword');
    const caps = await http(s.url, 'GET', '/beta/_field_caps?fields=*');
    assert.equal(caps.status, 200);
    assert.ok(caps.body.fields.b_flag, 'b_flag in beta field caps');
    assert.equal(caps.body.fields.a_num, undefined, 'alpha field absent from beta field caps');
    assert.equal(scans.length, before);
  });

  it('a field written to one index appears there only, read from the rows written since', async () => {
    await props('alpha');
    await props('beta');
    const before = scans.length;
    await bulk([{ index: { _index: 'alpha' } }, { '@timestamp': '2026-11-20T10:00:02Z', a_new: 'x', a_num: 2 }]);
    const a = await props('alpha');
    assert.equal(a.a_new?.type, 'keyword');
    assert.equal(a.a_num?.type, 'long', 'fields known before stay');
    const b = await props('beta');
    assert.equal(b.a_new, undefined, 'no leak into another index');
    assert.equal(b.b_flag?.type, 'boolean');
    const mine = scans.slice(before);
    assert.ok(mine.some((req) => req.keyValues?.[0]?.[0] === 'alpha'), 'the new write to alpha was looked at');
    for (const req of mine) {
      assert.ok(req.since, 'only rows written since the cached position are read');
      const only = req.keyValues?.[0];
      if (only?.length === 1 && only[0] === 'alpha') assert.ok(!req.metrics.some((m) => m.field === 'a_num'), 'a field the index already has is not asked again');
    }
    // The same field arriving in the other index later shows there too.
    await bulk([{ index: { _index: 'beta' } }, { '@timestamp': '2026-11-20T10:00:03Z', a_new: 'y' }]);
    assert.equal((await props('beta')).a_new?.type, 'keyword');
  });

  it('a new index with an old name gets nothing of the deleted one', async () => {
    await bulk([{ index: { _index: 'gamma' } }, { '@timestamp': '2026-11-20T10:00:04Z', g_old: 1 }]);
    assert.equal((await props('gamma')).g_old?.type, 'long');
    assert.equal((await http(s.url, 'DELETE', '/gamma')).status, 200);
    await bulk([{ index: { _index: 'gamma' } }, { '@timestamp': '2026-11-20T10:00:05Z', g_new: 'z' }]);
    const g = await props('gamma');
    assert.equal(g.g_new?.type, 'keyword');
    assert.equal(g.g_old, undefined, 'the deleted documents\' field is gone');
  });

  it('an overwritten document and delete_by_query take their fields away', async () => {
    await bulk([
      { index: { _index: 'delta', _id: 'd1' } },
      { '@timestamp': '2026-11-20T10:00:06Z', keep: 1, dropped: 'v' },
      { index: { _index: 'delta', _id: 'd2' } },
      { '@timestamp': '2026-11-20T10:00:07Z', keep: 2, byquery: 'w' },
    ]);
    let d = await props('delta');
    assert.equal(d.dropped?.type, 'keyword');
    assert.equal(d.byquery?.type, 'keyword');
    await bulk([{ index: { _index: 'delta', _id: 'd1' } }, { '@timestamp': '2026-11-20T10:00:06Z', keep: 3 }]);
    d = await props('delta');
    assert.equal(d.dropped, undefined, 'the overwritten version\'s field is gone');
    assert.equal(d.keep?.type, 'long');
    const r = await http(s.url, 'POST', '/delta/_delete_by_query?refresh=true', { query: { term: { _id: 'd2' } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.deleted, 1);
    d = await props('delta');
    assert.equal(d.byquery, undefined, 'the deleted document\'s field is gone');
    assert.equal(d.keep?.type, 'long');
  });
});
