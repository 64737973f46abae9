import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../../src/core/event.js';
import { esError, http, ndjson, startEs, type EsTestServer } from './helpers.js';

// 40 events in app-a (even) and app-b (odd), two per minute (so timestamps tie),
// one with microseconds, plus 2 events stored without an index (as the native API stores them).
const BASE = Date.UTC(2026, 10, 21, 8, 0, 0) * 1000;
const MESSAGES = ['user login failed for admin', 'connection refused by upstream', 'GET /api/orders 200', 'timeout waiting for db'];
const HOSTS = ['web-1', 'web-2', 'db-1'];
const STATUSES = [200, 404, 500, 503];

interface Doc {
  id: string;
  i: number;
  index: string | null;
  ts: number;
  message: string;
  host: string;
  status: number;
  method: string;
  bytes?: number;
  user?: string;
}

const DOCS: Doc[] = Array.from({ length: 42 }, (_, i) => {
  const d: Doc = {
    id: `doc-${i}`,
    i,
    index: i >= 40 ? null : i % 2 ? 'app-b' : 'app-a',
    ts: BASE + Math.floor(i / 2) * 60_000_000 + (i === 10 ? 123 : 0),
    message: MESSAGES[i % 4],
    host: HOSTS[i % 3],
    status: STATUSES[i % 4],
    method: i % 2 ? 'GET' : 'POST',
  };
  if (i % 5 !== 0 && i < 40) d.bytes = i * 10;
  if (i % 7 === 0) d.user = 'alice';
  return d;
});

function toEvent(d: Doc): LogEvent {
  const fields: LogEvent['fields'] = { message: d.message, host: d.host, 'http.response.status': d.status, 'http.request.method': d.method };
  if (d.bytes !== undefined) fields.bytes = d.bytes;
  if (d.user !== undefined) fields.user = d.user;
  const ev: LogEvent = { ts: d.ts, id: d.id, fields };
  if (d.index) ev.index = d.index;
  return ev;
}

let es: EsTestServer;

async function search(path: string, body?: Record<string, unknown>): Promise<any> {
  const r = await http(es.url, body === undefined ? 'GET' : 'POST', path, body);
  assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 500)}`);
  assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
  return r.body;
}

function ids(body: any): string[] {
  return body.hits.hits.map((h: any) => h._id);
}

function idsOf(pred: (d: Doc) => boolean): string[] {
  return DOCS.filter(pred)
    .map((d) => d.id)
    .sort();
}

before(async () => {
  es = await startEs();
  await es.store.write(DOCS.map(toEvent));
});

after(async () => {
  await es.close();
});

describe('_search: hits', () => {
  it('match_all: every hit newest first, ES hit shape, total', async () => {
    const b = await search('/_search', { size: 100 });
    assert.deepEqual(Object.keys(b), ['took', 'timed_out', '_shards', 'hits']);
    assert.equal(b.timed_out, false);
    assert.deepEqual(b._shards, { total: 1, successful: 1, skipped: 0, failed: 0 });
    assert.deepEqual(b.hits.total, { value: 42, relation: 'eq' });
    assert.equal(b.hits.max_score, 1);
    assert.equal(b.hits.hits.length, 42);
    const times = b.hits.hits.map((h: any) => Date.parse(h._source['@timestamp']));
    assert.deepEqual(times, [...times].sort((x, y) => y - x));
    const h = b.hits.hits.find((x: any) => x._id === 'doc-7');
    assert.deepEqual(h, {
      _index: 'app-b',
      _id: 'doc-7',
      _score: 1,
      _source: {
        '@timestamp': '2026-11-21T08:03:00.000Z',
        message: 'timeout waiting for db',
        host: 'web-2',
        http: { response: { status: 503 }, request: { method: 'GET' } },
        bytes: 70,
        user: 'alice',
      },
    });
    assert.equal(b.hits.hits.find((x: any) => x._id === 'doc-40')._index, 'logmill');
    assert.equal(b.hits.hits.find((x: any) => x._id === 'doc-10')._source['@timestamp'], '2026-11-21T08:05:00.000123Z');
  });

  it('index patterns: names, wildcards, exclusions, unknown names', async () => {
    assert.equal((await search('/app-a/_search')).hits.total.value, 20);
    assert.equal((await search('/app-*/_search')).hits.total.value, 40);
    assert.equal((await search('/app-*,-app-b/_search')).hits.total.value, 20);
    assert.equal((await search('/app-a,app-b/_search')).hits.total.value, 40);
    assert.equal((await search('/_all/_search')).hits.total.value, 42);
    assert.equal((await search('/logs-nothing/_search')).hits.total.value, 0);
    assert.deepEqual(ids(await search('/logmill/_search')).sort(), ['doc-40', 'doc-41']);
    assert.equal((await search('/app-a,logm*/_search')).hits.total.value, 22);
  });

  it('bool queries', async () => {
    const b = await search('/_search', {
      size: 100,
      query: {
        bool: {
          must: [{ match: { message: 'refused timeout' } }],
          filter: [{ range: { 'http.response.status': { gte: 500 } } }],
          must_not: [{ term: { host: 'web-1' } }],
        },
      },
    });
    assert.deepEqual(ids(b).sort(), idsOf((d) => (d.i % 4 === 1 || d.i % 4 === 3) && d.status >= 500 && d.host !== 'web-1'));
    const should = await search('/app-a/_search', {
      size: 100,
      query: { bool: { should: [{ term: { host: 'db-1' } }, { term: { user: 'alice' } }, { match_phrase: { message: 'login failed' } }], minimum_should_match: 2 } },
    });
    const score = (d: Doc) => Number(d.host === 'db-1') + Number(d.user === 'alice') + Number(d.i % 4 === 0);
    assert.deepEqual(ids(should).sort(), idsOf((d) => d.index === 'app-a' && score(d) >= 2));
    const time = await search('/_search', { size: 100, query: { range: { '@timestamp': { gte: '2026-11-21T08:05:00.000Z', lt: '2026-11-21T08:06:00.000Z' } } } });
    assert.deepEqual(ids(time).sort(), ['doc-10', 'doc-11']);
    const ms = await search('/_search', { size: 100, query: { range: { '@timestamp': { gte: BASE / 1000 + 19 * 60_000, format: 'epoch_millis' } } } });
    assert.deepEqual(ids(ms).sort(), ['doc-38', 'doc-39', 'doc-40', 'doc-41']);
  });

  it('q= with default_operator and df', async () => {
    assert.equal((await search('/_search?q=refused%20timeout')).hits.total.value, idsOf((d) => d.i % 4 === 1 || d.i % 4 === 3).length);
    assert.equal((await search('/_search?q=connection%20refused&default_operator=AND')).hits.total.value, idsOf((d) => d.i % 4 === 1).length);
    assert.equal((await search('/_search?q=connection%20timeout&default_operator=AND')).hits.total.value, 0);
    assert.equal((await search('/_search?q=web-1&df=host')).hits.total.value, idsOf((d) => d.host === 'web-1').length);
    assert.equal((await search('/_search?q=http.response.status:%5B500%20TO%20*%5D%20-host:db-1')).hits.total.value, idsOf((d) => d.status >= 500 && d.host !== 'db-1').length);
    // q replaces the body's query
    assert.equal((await search('/_search?q=host:web-2', { query: { match_none: {} } })).hits.total.value, 14);
  });

  it('a bare word of q= and query_string also finds the whole value of other string fields; a named default field does not', async () => {
    const alice = idsOf((d) => d.user === 'alice').length;
    assert.ok(alice > 0);
    assert.equal((await search('/_search?q=alice')).hits.total.value, alice);
    assert.equal((await search('/_search', { query: { query_string: { query: 'alice' } } })).hits.total.value, alice);
    assert.equal((await search('/_search?q=db-1')).hits.total.value, idsOf((d) => d.host === 'db-1').length);
    assert.equal((await search('/_search?q=alice&df=message')).hits.total.value, 0);
    assert.equal((await search('/_search', { query: { query_string: { query: 'alice', default_field: 'message' } } })).hits.total.value, 0);
  });

  it('post_filter narrows hits, not aggregations', async () => {
    const b = await search('/_search', { size: 100, post_filter: { term: { host: 'web-1' } }, aggs: { h: { terms: { field: 'host' } } } });
    assert.equal(b.hits.total.value, 14);
    assert.deepEqual(
      b.aggregations.h.buckets.map((x: any) => x.doc_count),
      [14, 14, 14],
    );
  });

  it('.keyword fields resolve to the stored field', async () => {
    const b = await search('/_search', { size: 0, query: { term: { 'host.keyword': 'db-1' } }, aggs: { h: { terms: { field: 'host.keyword' } } } });
    assert.equal(b.hits.total.value, 14);
    assert.deepEqual(b.aggregations.h.buckets, [{ key: 'db-1', doc_count: 14 }]);
  });
});

describe('_search: sort and paging', () => {
  it('sort by field with missing first or last; sort values', async () => {
    const first = await search('/_search', { size: 100, sort: [{ bytes: { order: 'asc', missing: '_first' } }] });
    const missing = DOCS.filter((d) => d.bytes === undefined).length;
    assert.ok(first.hits.hits.slice(0, missing).every((h: any) => h._source.bytes === undefined));
    const rest = first.hits.hits.slice(missing).map((h: any) => h._source.bytes);
    assert.deepEqual(rest, [...rest].sort((x: number, y: number) => x - y));
    assert.equal(first.hits.max_score, null);
    assert.equal(first.hits.hits[0]._score, null);
    const last = await search('/_search', { size: 100, sort: [{ bytes: 'desc' }] });
    assert.equal(last.hits.hits[0]._source.bytes, 390);
    assert.ok(last.hits.hits.slice(-missing).every((h: any) => h._source.bytes === undefined));
    assert.equal(last.hits.hits[0].sort.length, 1); // one value per sort key, as Elasticsearch
    assert.equal(last.hits.hits[0].sort[0], 390);
    const param = await search('/_search?sort=bytes:desc&size=1');
    assert.equal(param.hits.hits[0]._source.bytes, 390);
    const ts = await search('/_search', { size: 1, sort: [{ '@timestamp': 'asc' }] });
    assert.equal(ts.hits.hits[0].sort[0], BASE / 1000);
    const fmt = await search('/_search', { size: 100, sort: [{ '@timestamp': { order: 'asc', format: 'strict_date_optional_time' } }] });
    assert.equal(fmt.hits.hits[0].sort[0], '2026-11-21T08:00:00.000Z');
    assert.equal(fmt.hits.hits.find((h: any) => h._id === 'doc-10').sort[0], '2026-11-21T08:05:00.000123Z');
  });

  it('_score sorts nothing and reads 1.0; _doc is storage order', async () => {
    const b = await search('/_search', { size: 3, sort: ['_score', { '@timestamp': 'desc' }] });
    assert.equal(b.hits.hits[0]._score, 1);
    assert.equal(b.hits.hits[0].sort[0], 1);
    const d = await search('/_search', { size: 100, sort: ['_doc'] });
    assert.equal(d.hits.hits.length, 42);
  });

  for (const sort of [
    [{ host: 'asc' }, { '@timestamp': 'desc' }],
    [{ '@timestamp': { order: 'desc', format: 'strict_date_optional_time' } }],
    [{ bytes: { order: 'asc', missing: '_first' } }],
    [{ user: { order: 'desc', missing: '_last' } }, { 'http.response.status': 'asc' }],
    ['_score', { method: { order: 'asc', unmapped_type: 'keyword' } }],
  ]) {
    it(`search_after pages through everything without gaps or duplicates: ${JSON.stringify(sort)} with _doc as the tie-breaker`, async () => {
      const seen: string[] = [];
      let after: unknown[] | undefined;
      for (let page = 0; page < 50; page++) {
        const body: Record<string, unknown> = { size: 5, sort: [...sort, '_doc'] };
        if (after) body.search_after = after;
        const b = await search('/_search', body);
        if (b.hits.hits.length === 0) break;
        seen.push(...ids(b));
        after = b.hits.hits[b.hits.hits.length - 1].sort;
      }
      assert.equal(seen.length, 42);
      assert.equal(new Set(seen).size, 42);
    });
  }

  it('from/size pages do not overlap; the result window is limited', async () => {
    const a = await search('/_search', { from: 0, size: 20 });
    const b = await search('/_search', { from: 20, size: 30 });
    assert.equal(b.hits.hits.length, 22);
    assert.equal(new Set([...ids(a), ...ids(b)]).size, 42);
    const r = await http(es.url, 'POST', '/_search', { from: 9999, size: 2 });
    assert.equal(r.status, 400);
    assert.match(esError(r.body).reason, /Result window is too large/);
    const sa = await http(es.url, 'POST', '/_search', { from: 3, sort: ['host'], search_after: ['a'] });
    assert.equal(sa.status, 400);
  });
});

describe('_search: _source, fields, totals', () => {
  it('_source filtering in the body and in parameters', async () => {
    const q = { query: { ids: { values: ['doc-7'] } } };
    const one = async (path: string, extra: Record<string, unknown> = {}) => (await search(path, { ...q, ...extra })).hits.hits[0];
    assert.equal((await one('/_search', { _source: false }))._source, undefined);
    assert.deepEqual((await one('/_search', { _source: ['http.*'] }))._source, { http: { response: { status: 503 }, request: { method: 'GET' } } });
    assert.deepEqual((await one('/_search', { _source: 'host' }))._source, { host: 'web-2' });
    assert.deepEqual((await one('/_search', { _source: { includes: ['http'], excludes: ['http.request'] } }))._source, { http: { response: { status: 503 } } });
    assert.deepEqual((await one('/_search', { _source: { excludes: ['message', '@timestamp', 'http.*'] } }))._source, { host: 'web-2', bytes: 70, user: 'alice' });
    assert.deepEqual((await one('/_search?_source_includes=host,user'))._source, { host: 'web-2', user: 'alice' });
    assert.deepEqual((await one('/_search?_source_excludes=http,message,%40timestamp'))._source, { host: 'web-2', bytes: 70, user: 'alice' });
    assert.equal((await one('/_search?_source=false'))._source, undefined);
    assert.deepEqual((await one('/_search?_source=bytes'))._source, { bytes: 70 });
  });

  it('fields and docvalue_fields', async () => {
    const h = (await search('/_search', { query: { ids: { values: ['doc-7'] } }, _source: false, fields: ['http.*', { field: '@timestamp', format: 'epoch_millis' }] })).hits.hits[0];
    assert.deepEqual(h.fields, { '@timestamp': [String(BASE / 1000 + 3 * 60_000)], 'http.response.status': [503], 'http.request.method': ['GET'] });
    const all = (await search('/_search', { query: { ids: { values: ['doc-7'] } }, fields: [{ field: '*', include_unmapped: 'true' }] })).hits.hits[0];
    assert.deepEqual(all.fields.user, ['alice']);
  });

  it('track_total_hits and rest_total_hits_as_int', async () => {
    assert.deepEqual((await search('/_search', { size: 0 })).hits, { total: { value: 42, relation: 'eq' }, max_score: null, hits: [] });
    assert.deepEqual((await search('/_search', { size: 0, track_total_hits: 5 })).hits.total, { value: 5, relation: 'gte' });
    assert.deepEqual((await search('/_search', { size: 0, track_total_hits: 100 })).hits.total, { value: 42, relation: 'eq' });
    assert.deepEqual((await search('/_search', { size: 0, track_total_hits: true })).hits.total, { value: 42, relation: 'eq' });
    const none = await search('/_search', { size: 1, track_total_hits: false });
    assert.equal(none.hits.total, undefined);
    assert.equal(none.hits.hits.length, 1);
    assert.equal((await search('/_search?track_total_hits=7&size=0')).hits.total.value, 7);
    assert.equal((await search('/_search?rest_total_hits_as_int=true', { size: 0 })).hits.total, 42);
    assert.equal((await search('/_search?rest_total_hits_as_int=true', { size: 0, track_total_hits: false })).hits.total, -1);
  });

  it('size 0 with aggregations', async () => {
    const b = await search('/app-*/_search', {
      size: 0,
      aggs: { per_min: { date_histogram: { field: '@timestamp', fixed_interval: '10m' }, aggs: { st: { terms: { field: 'http.response.status' } } } } },
    });
    assert.deepEqual(b.hits.hits, []);
    assert.deepEqual(
      b.aggregations.per_min.buckets.map((x: any) => x.doc_count),
      [20, 20],
    );
    assert.deepEqual(
      b.aggregations.per_min.buckets[0].st.buckets.map((x: any) => [x.key, x.doc_count]),
      [
        [200, 5],
        [404, 5],
        [500, 5],
        [503, 5],
      ],
    );
    const typed = await search('/_search?typed_keys=true', { size: 0, aggs: { a: { avg: { field: 'bytes' } } } });
    assert.ok('avg#a' in typed.aggregations);
  });
});

describe('_count, _msearch', () => {
  it('_count with a query, q= and an index', async () => {
    const count = async (path: string, body?: Record<string, unknown>) => {
      const r = await http(es.url, body ? 'POST' : 'GET', path, body);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body._shards, { total: 1, successful: 1, skipped: 0, failed: 0 });
      return r.body.count;
    };
    assert.equal(await count('/_count'), 42);
    assert.equal(await count('/app-b/_count'), 20);
    assert.equal(await count('/_count', { query: { term: { host: 'web-1' } } }), 14);
    assert.equal(await count('/_count?q=user:alice'), idsOf((d) => d.user === 'alice').length);
  });

  it('_msearch: NDJSON pairs, per-search errors', async () => {
    const r = await http(
      es.url,
      'POST',
      '/app-a/_msearch',
      ndjson([{}, { size: 1, query: { match_all: {} } }, { index: 'app-b' }, { size: 0, aggs: { h: { terms: { field: 'host' } } } }, { index: 'app-*' }, { query: { fuzzy: { host: 'web' } } }, { index: ['app-a', 'app-b'] }, { query: { term: { user: 'alice' } } }]),
    );
    assert.equal(r.status, 200, r.text);
    const [a, b, c, d] = r.body.responses;
    assert.equal(r.body.responses.length, 4);
    assert.equal(a.status, 200);
    assert.equal(a.hits.total.value, 20);
    assert.equal(b.aggregations.h.buckets.length, 3);
    assert.equal(c.status, 400);
    assert.equal(c.error.type, 'parsing_exception');
    assert.equal(c.error.reason, '[fuzzy] query is not supported by Logmill');
    assert.equal(d.hits.total.value, idsOf((x) => x.user === 'alice' && x.index !== null).length);
    const bad = await http(es.url, 'POST', '/_msearch', '{}\n{not json\n');
    assert.equal(bad.status, 400);
    esError(bad.body);
  });
});

describe('_doc, _source, _mget', () => {
  it('GET /{index}/_doc/{id}: found and not found', async () => {
    const r = await http(es.url, 'GET', '/app-b/_doc/doc-7');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      _index: 'app-b',
      _id: 'doc-7',
      _version: 1,
      _seq_no: r.body._seq_no, // the row's position (seq-no.test.ts)
      _primary_term: 1,
      found: true,
      _source: {
        '@timestamp': '2026-11-21T08:03:00.000Z',
        message: 'timeout waiting for db',
        host: 'web-2',
        http: { response: { status: 503 }, request: { method: 'GET' } },
        bytes: 70,
        user: 'alice',
      },
    });
    const wrong = await http(es.url, 'GET', '/app-a/_doc/doc-7');
    assert.equal(wrong.status, 404);
    assert.deepEqual(wrong.body, { _index: 'app-a', _id: 'doc-7', found: false });
    assert.equal((await http(es.url, 'GET', '/app-b/_doc/nope')).status, 404);
    assert.equal((await http(es.url, 'GET', '/logmill/_doc/doc-41')).body.found, true);
    assert.equal((await http(es.url, 'HEAD', '/app-b/_doc/doc-7')).status, 200);
    assert.equal((await http(es.url, 'HEAD', '/app-b/_doc/nope')).status, 404);
    assert.deepEqual((await http(es.url, 'GET', '/app-b/_doc/doc-7?_source_includes=host')).body._source, { host: 'web-2' });
    assert.deepEqual((await http(es.url, 'GET', '/app-b/_source/doc-7?_source=user')).body, { user: 'alice' });
    assert.equal((await http(es.url, 'GET', '/app-b/_source/nope')).status, 404);
  });

  it('_mget with docs or ids', async () => {
    const r = await http(es.url, 'POST', '/_mget', { docs: [{ _index: 'app-a', _id: 'doc-2' }, { _index: 'app-a', _id: 'doc-3' }, { _index: 'app-b', _id: 'doc-3', _source: ['host'] }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.docs.map((d: any) => [d._index, d._id, d.found]),
      [
        ['app-a', 'doc-2', true],
        ['app-a', 'doc-3', false],
        ['app-b', 'doc-3', true],
      ],
    );
    assert.deepEqual(r.body.docs[2]._source, { host: 'web-1' });
    const byIds = await http(es.url, 'POST', '/app-a/_mget', { ids: ['doc-0', 'doc-1', 'doc-4'] });
    assert.deepEqual(
      byIds.body.docs.map((d: any) => d.found),
      [true, false, true],
    );
    const noIndex = await http(es.url, 'POST', '/_mget', { ids: ['doc-0'] });
    assert.equal(noIndex.status, 400);
    assert.equal(esError(noIndex.body).type, 'action_request_validation_exception');
  });
});

describe('errors', () => {
  it('unsupported and malformed requests answer in Elasticsearch shape', async () => {
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ['POST', '/_search', { query: { fuzzy: { host: 'web' } } }, 400, 'parsing_exception', /^\[fuzzy\] query is not supported by Logmill$/],
      ['POST', '/_search', { query: { bool: { filter: [{ regexp: { host: 'w.*' } }] } } }, 400, 'parsing_exception', /\[regexp\] query/],
      ['POST', '/_search', { collapse: { field: 'host' } }, 400, 'parsing_exception', /\[collapse\] in a search is not supported/],
      ['POST', '/_search', { aggs: { t: { top_hits: {} } } }, 400, 'parsing_exception', /\[top_hits\] aggregation is not supported/],
      ['POST', '/_search', { querry: {} }, 400, 'parsing_exception', /Unknown key for a START_OBJECT in \[querry\]/],
      ['POST', '/_search', { sort: [{ host: { missing: 0 } }] }, 400, 'parsing_exception', /\[missing\] sort value/],
      ['POST', '/_search', { sort: [{ nosuchfield: 'asc' }] }, 400, 'query_shard_exception', /No mapping found for \[nosuchfield\] in order to sort on/],
      ['POST', '/_search?scroll=25h', {}, 400, 'illegal_argument_exception', /Keep alive for request \(1d\) is too large/],
      ['POST', '/_search', { runtime_mappings: { x: { type: 'long' } } }, 400, 'parsing_exception', /runtime_mappings/],
      ['GET', '/_search?q=a%20AND', undefined, 400, 'parsing_exception', /Failed to parse query/],
      ['POST', '/_search', '{"query": ', 400, 'x_content_parse_exception', /not valid JSON/],
    ];
    for (const [method, path, body, status, type, reason] of cases) {
      const r = await http(es.url, method, path, body as Record<string, unknown>, typeof body === 'string' ? { 'content-type': 'application/json' } : {});
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
      const e = esError(r.body);
      assert.equal(e.type, type, r.text);
      assert.match(e.reason, reason);
    }
  });

  it('accepts what Kibana and Grafana send: highlight, empty runtime_mappings and script_fields, stored_fields', async () => {
    const b = await search('/_search', {
      size: 1,
      highlight: { fields: { '*': {} } },
      runtime_mappings: {},
      script_fields: {},
      stored_fields: ['*'],
      _source: { excludes: [] },
      version: true,
      sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'boolean' } }, { _doc: { order: 'desc' } }],
      query: { bool: { must: [], filter: [{ match_all: {} }, { range: { '@timestamp': { gte: '2026-11-21T00:00:00.000Z', lte: '2026-11-21T23:59:59.999Z', format: 'strict_date_optional_time' } } }], should: [], must_not: [] } },
    });
    assert.equal(b.hits.hits.length, 1);
    assert.equal(b.hits.hits[0]._version, 1);
    assert.ok(b.hits.hits[0]._source);
  });
});

// --- the official client --------------------------------------------------------

interface EsClient {
  search(req: Record<string, unknown>): Promise<any>;
  count(req: Record<string, unknown>): Promise<{ count: number }>;
  get(req: Record<string, unknown>): Promise<any>;
  mget(req: Record<string, unknown>): Promise<any>;
  msearch(req: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

async function officialClient(url: string): Promise<EsClient | null> {
  const name = '@elastic/elasticsearch';
  try {
    const mod = (await import(name)) as { Client: new (o: Record<string, unknown>) => EsClient };
    return new mod.Client({ node: url });
  } catch {
    return null;
  }
}

describe('@elastic/elasticsearch client', () => {
  it('search with a bool query and date_histogram + terms, count, get, mget, msearch', async (t) => {
    const client = await officialClient(es.url);
    if (!client) {
      t.skip('@elastic/elasticsearch is not installed (npm install --no-save @elastic/elasticsearch)');
      return;
    }
    try {
      const r = await client.search({
        index: 'app-*',
        size: 3,
        query: {
          bool: {
            filter: [{ range: { '@timestamp': { gte: '2026-11-21T08:00:00.000Z', lte: '2026-11-21T09:00:00.000Z', format: 'strict_date_optional_time' } } }],
            must_not: [{ match_phrase: { message: 'login failed' } }],
          },
        },
        aggs: {
          timeline: {
            date_histogram: { field: '@timestamp', fixed_interval: '5m', min_doc_count: 0, extended_bounds: { min: BASE / 1000, max: BASE / 1000 + 30 * 60_000 } },
            aggs: { hosts: { terms: { field: 'host', size: 2 } } },
          },
        },
      });
      assert.equal(r.hits.total.value, 30);
      assert.equal(r.hits.hits.length, 3);
      const buckets = r.aggregations.timeline.buckets;
      assert.equal(buckets.length, 7);
      assert.deepEqual(
        buckets.map((b: any) => b.doc_count),
        [7, 8, 7, 8, 0, 0, 0],
      );
      for (const b of buckets.slice(0, 4)) {
        assert.equal(b.hosts.buckets.length, 2);
        assert.equal(b.hosts.sum_other_doc_count, b.doc_count - b.hosts.buckets.reduce((s: number, x: any) => s + x.doc_count, 0));
      }
      assert.equal((await client.count({ index: 'app-a', query: { term: { host: 'web-1' } } })).count, 7);
      const got = await client.get({ index: 'app-b', id: 'doc-7' });
      assert.equal(got.found, true);
      assert.equal(got._source.http.response.status, 503);
      await assert.rejects(client.get({ index: 'app-b', id: 'missing' }), (e: any) => e.meta?.statusCode === 404);
      const m = await client.mget({ index: 'app-a', ids: ['doc-0', 'doc-1'] });
      assert.deepEqual(
        m.docs.map((d: any) => d.found),
        [true, false],
      );
      const ms = await client.msearch({ searches: [{ index: 'app-a' }, { query: { match_all: {} }, size: 0 }, { index: 'app-b' }, { query: { match: { message: 'refused' } } }] });
      assert.equal(ms.responses[0].hits.total.value, 20);
      assert.equal(ms.responses[1].hits.total.value, 10);
    } finally {
      await client.close();
    }
  });
});
