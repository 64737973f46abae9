/**
 * Issue 24, outcome 1: documents come back as they were indexed. Every
 * document below is sent through `_bulk` (the scanner's path for plain
 * documents, the JSON parser's for the rest) or `PUT _doc`, and read back
 * through `_doc`, `_source`, `_mget`, `_search` and `_msearch`, from segment
 * files and again after a restart, from Parquet: the JSON text must be the
 * one sent, key order included.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, ndjson, startEs, type EsTestServer } from './helpers.js';
import { tempDir } from '../../helpers/server.js';

/** Documents that storage alone would give back changed. */
const DOCS: Record<string, Record<string, unknown>> = {
  plain: { foo: 'bar' },
  order: { zeta: 1, alpha: 'a', mid: true },
  nested: { http: { response: { status: 200, bytes: 512 }, method: 'GET' }, url: '/x' },
  dotted: { 'http.response.status': 404, 'http.method': 'POST' },
  mixedDots: { a: { 'b.c': 1, d: { e: 'f' } }, 'g.h': 'i' },
  nulls: { present: 'yes', gone: null, deep: { also: null, kept: 1 } },
  emptyObject: { meta: {}, x: 1 },
  emptyArray: { list: [], x: 2 },
  arrays: { words: ['a', 'b'], nums: [1, 2.5, 3], flags: [true, false], mixed: ['a', 1, true] },
  arrayOfObjects: { users: [{ name: 'ann', age: 31 }, { name: 'bob' }], more: [[1, 2], [3]], withNull: [1, null, 2] },
  numericText: { status: '200', padded: '0200', plus: '+5', spaced: ' 7', hex: '0x1F', exp: '1e3', zero: '0' },
  dateText: { when: '2026-11-21 10:00:00', iso: '2026-11-21T10:00:00Z', isoMs: '2026-11-21T10:00:00.000Z', day: '2026-11-21' },
  boolText: { t: 'true', f: 'false', yes: 'yes' },
  bracketText: { b: '[not a list]', j: '["looks","like",1]', empty: '[]' },
  timeIsoMs: { '@timestamp': '2026-11-21T10:00:00.123Z', message: 'with ms' },
  timeIsoSeconds: { message: 'seconds, not first', '@timestamp': '2026-11-21T10:00:01Z' },
  timeOffset: { '@timestamp': '2026-11-21T11:00:00+01:00', message: 'offset' },
  timeSpace: { '@timestamp': '2026-11-21 10:00:00', message: 'space' },
  timeEpoch: { '@timestamp': 1763719200123, message: 'epoch ms' },
  timeEpochText: { '@timestamp': '1763719200123', message: 'epoch text' },
  timeNull: { '@timestamp': null, message: 'null time' },
  timeOnlyField: { timestamp: '2026-11-21T10:00:00Z', message: 'a field called timestamp' },
  tags: { tags: ['x', 'y'], message: 'tagged' },
  tagText: { tags: 'solo' },
  messageNumber: { message: 42 },
  messageArray: { message: ['a', 'b'] },
  hostObject: { host: { name: 'web-1', ip: ['10.0.0.1'] } },
  hostNumber: { host: 7 },
  proto: { __proto__: 'not a prototype', constructor: 'nor this', toString: 1 } as Record<string, unknown>,
  unicode: { 'clé': 'valeur', emoji: '🙂 ok', 'key with space': 'v', quote: 'say "hi"\n\ttab' },
  escapedKey: { 'a"b': 1, 'back\\slash': 2 },
  clash: { 'a.b': 1, a: { b: 2 } },
  floats: { pi: 3.14159, neg: -2.5, big: 123456789012345, small: 1e-7, negZero: -1 },
  deep: {},
  long: { text: 'x'.repeat(100_000) },
};
// 40 levels: deeper than the store flattens (32).
{
  let d: Record<string, unknown> = { leaf: 'bottom' };
  for (let i = 0; i < 40; i++) d = { [`l${i}`]: d };
  DOCS.deep = d;
}
// JSON.parse of an object literal with __proto__ would set the prototype: build it as JSON.parse does.
DOCS.proto = JSON.parse('{"__proto__":"not a prototype","constructor":"nor this","toString":1}') as Record<string, unknown>;

/** The documents whose time is not where Elasticsearch keeps it: none. Every JSON text must equal the sent one. */
const text = (v: unknown): string => JSON.stringify(v);

async function readAll(s: EsTestServer, index: string, id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const doc = await http(s.url, 'GET', `/${index}/_doc/${encodeURIComponent(id)}`);
  assert.equal(doc.status, 200, `GET _doc/${id}: ${doc.text.slice(0, 200)}`);
  out._doc = text(doc.body._source);
  const src = await http(s.url, 'GET', `/${index}/_source/${encodeURIComponent(id)}`);
  out._source = text(src.body);
  const mget = await http(s.url, 'POST', `/${index}/_mget`, { ids: [id] });
  out._mget = text(mget.body.docs[0]._source);
  const search = await http(s.url, 'POST', `/${index}/_search`, { query: { ids: { values: [id] } } });
  assert.equal(search.body.hits.hits.length, 1, `_search ids ${id}`);
  out._search = text(search.body.hits.hits[0]._source);
  const msearch = await http(s.url, 'POST', '/_msearch', ndjson([{ index }, { query: { ids: { values: [id] } } }]));
  out._msearch = text(msearch.body.responses[0].hits.hits[0]._source);
  return out;
}

async function assertAsSent(s: EsTestServer, index: string, when: string): Promise<void> {
  const wrong: string[] = [];
  for (const [id, doc] of Object.entries(DOCS)) {
    const got = await readAll(s, index, id);
    for (const [api, t] of Object.entries(got)) {
      if (t !== text(doc)) wrong.push(`${when} ${index}/${id} via ${api}:\n  sent ${text(doc).slice(0, 300)}\n  got  ${t.slice(0, 300)}`);
    }
  }
  assert.deepEqual(wrong, [], wrong.join('\n'));
}

describe('documents come back as indexed (_source)', () => {
  const dir = tempDir();
  let s: EsTestServer;

  before(async () => {
    s = await startEs({}, dir);
    // The same documents three ways: one _bulk, PUT _doc one by one, and _bulk into an index where
    // every field first arrived with another type (so that columns and conflicts differ).
    const bulk = await http(s.url, 'POST', '/bulk-idx/_bulk?refresh=true', ndjson(Object.entries(DOCS).flatMap(([id, d]) => [{ index: { _id: id } }, d])));
    assert.equal(bulk.status, 200);
    assert.equal(bulk.body.errors, false, JSON.stringify(bulk.body.items.filter((i: any) => i.index.error)).slice(0, 500));
    for (const [id, d] of Object.entries(DOCS)) {
      const r = await http(s.url, 'PUT', `/put-idx/_doc/${encodeURIComponent(id)}`, d);
      assert.ok(r.status === 201 || r.status === 200, `PUT ${id}: ${r.text.slice(0, 200)}`);
    }
    const primers = { status: true, padded: 1.5, when: 7, iso: 'text', t: 3, words: 'one', pi: 'pie', host: 'h', list: 'l', zeta: 'z' };
    await http(s.url, 'POST', '/typed-idx/_bulk?refresh=true', ndjson([{ index: { _id: 'primer' } }, primers]));
    const typed = await http(s.url, 'POST', '/typed-idx/_bulk?refresh=true', ndjson(Object.entries(DOCS).flatMap(([id, d]) => [{ index: { _id: id } }, d])));
    assert.equal(typed.body.errors, false);
  });

  after(async () => {
    await s.close();
  });

  for (const index of ['bulk-idx', 'put-idx', 'typed-idx']) {
    it(`gives back every document of ${index} as sent, by every read API`, async () => {
      await assertAsSent(s, index, 'fresh');
    });
  }

  it('gives them back the same after a restart, read from Parquet', async () => {
    await s.stop();
    s = await startEs({}, dir);
    for (const index of ['bulk-idx', 'put-idx', 'typed-idx']) await assertAsSent(s, index, 'restarted');
  });

  it('keeps Logmill’s own time beside a document without one: `fields` and `docvalue_fields` ask for it', async () => {
    const r = await http(s.url, 'POST', '/bulk-idx/_search', { query: { ids: { values: ['plain'] } }, fields: ['@timestamp'], docvalue_fields: [{ field: '@timestamp', format: 'epoch_millis' }] });
    const hit = r.body.hits.hits[0];
    assert.deepEqual(hit._source, { foo: 'bar' });
    assert.ok(Array.isArray(hit.fields['@timestamp']) && hit.fields['@timestamp'].length === 1, JSON.stringify(hit.fields));
    assert.ok(Math.abs(Date.parse(String(hit.fields['@timestamp'][0])) - Date.now()) < 3_600_000 || Number(hit.fields['@timestamp'][0]) > 0);
    // The histogram still places it: a date_histogram over the index counts every document.
    const h = await http(s.url, 'POST', '/bulk-idx/_search', { size: 0, aggs: { t: { date_histogram: { field: '@timestamp', calendar_interval: 'year' } } } });
    const counted = h.body.aggregations.t.buckets.reduce((n: number, b: any) => n + b.doc_count, 0);
    assert.equal(counted, Object.keys(DOCS).length);
  });

  it('filters _source as Elasticsearch does: includes, excludes, false', async () => {
    const get = async (q: string): Promise<unknown> => (await http(s.url, 'GET', `/bulk-idx/_doc/nested?${q}`)).body._source;
    assert.equal(text(await get('_source_includes=http.response.*')), text({ http: { response: { status: 200, bytes: 512 } } }));
    assert.equal(text(await get('_source_excludes=http.response')), text({ http: { method: 'GET' }, url: '/x' }));
    assert.equal(text(await get('_source_includes=http&_source_excludes=*.bytes')), text({ http: { response: { status: 200 }, method: 'GET' } }));
    assert.equal(await get('_source=false'), undefined);
    const search = await http(s.url, 'POST', '/bulk-idx/_search', { query: { ids: { values: ['order'] } }, _source: { includes: ['alpha', 'zeta'] } });
    assert.equal(text(search.body.hits.hits[0]._source), text({ zeta: 1, alpha: 'a' }));
  });

  it('keeps a document as sent through _update and _update_by_query', async () => {
    const u = await http(s.url, 'POST', '/bulk-idx/_update/order?refresh=true', { doc: { alpha: 'b', added: { x: 1 } } });
    assert.equal(u.status, 200, u.text);
    const doc = await http(s.url, 'GET', '/bulk-idx/_doc/order');
    assert.equal(text(doc.body._source), text({ zeta: 1, alpha: 'b', mid: true, added: { x: 1 } }));
    const n = await http(s.url, 'POST', '/bulk-idx/_update/nested?refresh=true', { doc: { http: { response: { status: 500 } } } });
    assert.equal(n.status, 200, n.text);
    assert.equal(text((await http(s.url, 'GET', '/bulk-idx/_doc/nested')).body._source), text({ http: { response: { status: 500, bytes: 512 }, method: 'GET' }, url: '/x' }));
    const q = await http(s.url, 'POST', '/bulk-idx/_update_by_query?refresh=true', {
      query: { ids: { values: ['nulls'] } },
      script: { source: "ctx._source.present = 'no'; ctx._source.remove('deep')" },
    });
    assert.equal(q.status, 200, q.text);
    assert.equal(q.body.updated, 1, q.text);
    assert.equal(text((await http(s.url, 'GET', '/bulk-idx/_doc/nulls')).body._source), text({ present: 'no', gone: null }));
  });
});
