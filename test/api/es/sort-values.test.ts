/**
 * `sort` in hits as Elasticsearch answers it: one value per sort key, plus
 * the `_shard_doc` tie-breaker with a point in time; `search_after` with the
 * values a hit returned pages through documents that tie on every key without
 * losing or repeating one. Through the official client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, errors, type estypes } from '@elastic/elasticsearch';
import { http, startEs, type EsTestServer } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 8);
/** 60 documents over two days, 50 of them with status 200 (ties), 10 with 500. */
const N = 60;
const docs = Array.from({ length: N }, (_, i) => ({
  '@timestamp': new Date(T0 + (i % 2) * 86_400_000 + Math.floor(i / 4) * 1000).toISOString(),
  status: i < 50 ? 200 : 500,
  n: i,
}));

type Doc = (typeof docs)[number];

describe('sort values and search_after', () => {
  let s: EsTestServer;
  let client: Client;
  before(async () => {
    s = await startEs();
    client = new Client({ node: s.url });
    await client.helpers.bulk({ datasource: docs, onDocument: () => ({ index: { _index: 'sorted' } }), refreshOnCompletion: true });
  });
  after(async () => {
    await client.close();
    await s.close();
  });

  /** Every page of a search, by search_after with the last hit's sort values, unchanged. */
  async function pageAll(request: estypes.SearchRequest, size = 7): Promise<estypes.SearchHit<Doc>[]> {
    const all: estypes.SearchHit<Doc>[] = [];
    let searchAfter: estypes.SortResults | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await client.search<Doc>({ ...request, size, ...(searchAfter ? { search_after: searchAfter } : {}) });
      if (r.hits.hits.length === 0) return all;
      all.push(...r.hits.hits);
      searchAfter = r.hits.hits[r.hits.hits.length - 1].sort;
    }
    throw new Error('paging did not end');
  }

  it('one value per sort key: a field, @timestamp as epoch milliseconds or formatted, _score', async () => {
    const byStatus = await client.search<Doc>({ index: 'sorted', size: 100, sort: [{ status: 'asc' }] });
    assert.equal(byStatus.hits.hits.length, N);
    for (const h of byStatus.hits.hits) assert.deepEqual(h.sort, [h._source?.status]);
    const two = await client.search<Doc>({ index: 'sorted', size: 1, sort: [{ status: 'desc' }, { n: 'asc' }] });
    assert.deepEqual(two.hits.hits[0].sort, [500, 50]);
    const ts = await client.search<Doc>({ index: 'sorted', size: 1, sort: [{ '@timestamp': 'asc' }] });
    assert.deepEqual(ts.hits.hits[0].sort, [T0]);
    const formatted = await client.search<Doc>({ index: 'sorted', size: 1, sort: [{ '@timestamp': { order: 'asc', format: 'strict_date_optional_time' } }] });
    assert.deepEqual(formatted.hits.hits[0].sort, [new Date(T0).toISOString()]);
    const scored = await client.search<Doc>({ index: 'sorted', size: 1, sort: ['_score', { n: 'desc' }] });
    assert.deepEqual(scored.hits.hits[0].sort, [1, N - 1]);
  });

  it('_doc is one whole number per hit, the document _seq_no, and a stable tie-breaker without a PIT', async () => {
    const hits = await pageAll({ index: 'sorted', sort: [{ status: 'asc' }, '_doc'], seq_no_primary_term: true });
    assert.equal(hits.length, N);
    assert.equal(new Set(hits.map((h) => h._source?.n)).size, N);
    for (const h of hits) {
      assert.equal(h.sort?.length, 2);
      assert.ok(Number.isSafeInteger(h.sort?.[1]));
      assert.equal(h.sort?.[1], h._seq_no);
    }
    const docOnly = await pageAll({ index: 'sorted', sort: ['_doc'] });
    assert.equal(new Set(docOnly.map((h) => h._source?.n)).size, N);
  });

  it('with a PIT: the _shard_doc tie-breaker is added, and paging over 50 tied documents loses and repeats none', async () => {
    const pit = await client.openPointInTime({ index: 'sorted', keep_alive: '1m' });
    // Written after the PIT opened: not part of it.
    await client.index({ index: 'sorted', document: { '@timestamp': new Date(T0).toISOString(), status: 200, n: 999 }, refresh: true });
    try {
      const hits = await pageAll({ pit: { id: pit.id, keep_alive: '1m' }, sort: [{ status: 'asc' }] });
      assert.deepEqual(
        hits.map((h) => h._source?.n).sort((a, b) => (a ?? 0) - (b ?? 0)),
        docs.map((d) => d.n),
      );
      for (const h of hits) {
        assert.equal(h.sort?.length, 2, 'the key and _shard_doc');
        assert.equal(h.sort?.[0], h._source?.status);
        assert.ok(Number.isSafeInteger(h.sort?.[1]));
      }
      // Without a sort: _shard_doc alone.
      const unsorted = await pageAll({ pit: { id: pit.id } }, 11);
      assert.equal(new Set(unsorted.map((h) => h._source?.n)).size, N);
      assert.ok(unsorted.every((h) => h.sort?.length === 1));
      // An explicit _shard_doc is not added twice, and may be descending.
      const explicit = await pageAll({ pit: { id: pit.id }, sort: [{ '@timestamp': 'desc' }, { _shard_doc: 'desc' }] });
      assert.equal(new Set(explicit.map((h) => h._source?.n)).size, N);
      assert.ok(explicit.every((h) => h.sort?.length === 2));
    } finally {
      await client.closePointInTime({ id: pit.id });
    }
  });

  it('without a tie-breaker, hits that tie with the last one are skipped, as in Elasticsearch', async () => {
    const r = await client.search<Doc>({ index: 'sorted', size: 100, sort: [{ status: 'asc' }], search_after: [200] });
    assert.ok(r.hits.hits.length > 0);
    assert.ok(r.hits.hits.every((h) => h._source?.status === 500));
  });

  it('search_after with more or fewer values than the sort has keys is a 400', async () => {
    await assert.rejects(client.search({ index: 'sorted', sort: [{ status: 'asc' }], search_after: [200, 1, 2] }), (err: unknown) => {
      assert.ok(err instanceof errors.ResponseError);
      assert.equal(err.statusCode, 400);
      assert.match(JSON.stringify(err.body), /search_after has 3 value\(s\) but sort has 1/);
      return true;
    });
    const bad = await http(s.url, 'POST', '/sorted/_search', { sort: ['_doc'], search_after: ['not a number'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.type, 'illegal_argument_exception');
  });
});
