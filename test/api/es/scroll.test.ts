/**
 * Scroll and point in time over the real store and ES listener: every event
 * exactly once while ingest goes on, nothing stored after the context opened,
 * and Elasticsearch's errors for gone, forged, too many and too long.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { esError, http, ndjson, startEs, type EsTestServer } from './helpers.js';

const N = 57;
const BASE = Date.UTC(2026, 10, 21, 8, 0, 0);

let es: EsTestServer;

/**
 * Bulk-indexes docs `from`..`to-1` into `index`, two per second (so timestamps tie); with `within`,
 * at times among the first `within` docs' instead, so that a cursor has not passed them whatever the order.
 */
async function ingest(index: string, from: number, to: number, within?: number): Promise<void> {
  const lines: unknown[] = [];
  for (let i = from; i < to; i++) {
    const slot = within === undefined ? i : (i * 7) % within;
    lines.push({ index: { _index: index, _id: `${index}-${i}` } });
    lines.push({ '@timestamp': new Date(BASE + Math.floor(slot / 2) * 1000).toISOString(), n: i, message: `event ${i}` });
  }
  const r = await http(es.url, 'POST', '/_bulk?refresh=true', ndjson(lines));
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.body.errors, false, r.text.slice(0, 300));
}

async function ok(method: string, path: string, body?: Record<string, unknown>): Promise<any> {
  const r = await http(es.url, method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.text.slice(0, 400)}`);
  return r.body;
}

describe('Elasticsearch scroll and point in time', () => {
  before(async () => {
    es = await startEs();
    await ingest('scroll-a', 0, N);
  });
  after(async () => {
    await es?.close();
  });

  it('scrolls through every document exactly once while ingest continues, later writes unseen', async () => {
    const first = await ok('POST', '/scroll-a/_search?scroll=1m', { size: 10, query: { match_all: {} } });
    assert.equal(typeof first._scroll_id, 'string');
    assert.deepEqual(first.hits.total, { value: N, relation: 'eq' });
    const seen: string[] = first.hits.hits.map((h: any) => h._id);
    let id: string = first._scroll_id;
    let round = 0;
    for (;;) {
      // events written after the scroll opened, in the same index and at the same times
      await ingest('scroll-a', N + round * 5, N + round * 5 + 5, N);
      round++;
      const page = await ok('POST', '/_search/scroll', { scroll: '1m', scroll_id: id });
      assert.deepEqual(page.hits.total, { value: N, relation: 'eq' }, 'the total stays the snapshot’s');
      if (page.hits.hits.length === 0) break;
      assert.ok(page.hits.hits.length <= 10);
      seen.push(...page.hits.hits.map((h: any) => h._id));
      id = page._scroll_id;
      assert.ok(round < 20, 'the scroll ends');
    }
    assert.equal(seen.length, N, 'every document once');
    assert.equal(new Set(seen).size, N, 'no duplicates');
    for (const s of seen) assert.ok(Number(s.split('-').pop()) < N, `${s} was written after the scroll opened`);
    // the new events are there for a fresh search
    const now = await ok('POST', '/scroll-a/_count', {});
    assert.ok(now.count > N);
    const cleared = await http(es.url, 'DELETE', '/_search/scroll', { scroll_id: id });
    assert.equal(cleared.status, 200);
    assert.deepEqual(cleared.body, { succeeded: true, num_freed: 1 });
  });

  it('keeps the query, sort and size across pages, GET with the id in the path and rest_total_hits_as_int', async () => {
    const query = { range: { n: { lt: 20 } } };
    const first = await ok('POST', '/scroll-a/_search?scroll=30s&rest_total_hits_as_int=true', { size: 7, query, sort: [{ n: 'asc' }] });
    assert.equal(first.hits.total, 20);
    const ns: number[] = first.hits.hits.map((h: any) => h._source.n);
    let id = first._scroll_id;
    for (;;) {
      const page = await ok('GET', `/_search/scroll/${encodeURIComponent(id)}?scroll=30s&rest_total_hits_as_int=true`);
      assert.equal(page.hits.total, 20);
      if (page.hits.hits.length === 0) break;
      assert.ok(page.hits.hits.length <= 7);
      ns.push(...page.hits.hits.map((h: any) => h._source.n));
      id = page._scroll_id;
    }
    assert.deepEqual(ns, Array.from({ length: 20 }, (_, i) => i));
    const all = await http(es.url, 'DELETE', '/_search/scroll/_all');
    assert.equal(all.body.succeeded, true);
  });

  it('answers a cleared, expired, unknown or forged scroll id as Elasticsearch does', async () => {
    const first = await ok('POST', '/scroll-a/_search?scroll=1m', { size: 5 });
    const id: string = first._scroll_id;
    assert.deepEqual((await http(es.url, 'DELETE', '/_search/scroll', { scroll_id: [id] })).body, { succeeded: true, num_freed: 1 });
    const again = await http(es.url, 'DELETE', '/_search/scroll', { scroll_id: [id] });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { succeeded: true, num_freed: 0 });
    const gone = await http(es.url, 'POST', '/_search/scroll', { scroll_id: id, scroll: '1m' });
    assert.equal(gone.status, 404);
    const e = esError(gone.body);
    assert.equal(e.type, 'search_context_missing_exception');
    assert.equal(e.reason, `No search context found for id [${id}]`);

    const short = await ok('POST', '/scroll-a/_search?scroll=1ms', { size: 5 });
    await new Promise((r) => setTimeout(r, 30));
    const expired = await http(es.url, 'POST', '/_search/scroll', { scroll_id: short._scroll_id });
    assert.equal(expired.status, 404);
    assert.equal(esError(expired.body).type, 'search_context_missing_exception');

    // well-formed but never issued: missing; not an id at all: unparseable (400, as ES)
    const forged = Buffer.from('lmscroll:' + 'ab'.repeat(18)).toString('base64url');
    const f = await http(es.url, 'POST', '/_search/scroll', { scroll_id: forged });
    assert.equal(f.status, 404);
    assert.equal(esError(f.body).type, 'search_context_missing_exception');
    const junk = await http(es.url, 'POST', '/_search/scroll', { scroll_id: 'not a scroll id!' });
    assert.equal(junk.status, 400);
    assert.equal(esError(junk.body).reason, 'Cannot parse scroll id');
  });

  it('refuses a keep-alive over 24h, a bad time value, and from/size 0 in a scroll', async () => {
    const long = await http(es.url, 'POST', '/scroll-a/_search?scroll=25h', {});
    assert.equal(long.status, 400);
    const e = esError(long.body);
    assert.equal(e.type, 'illegal_argument_exception');
    assert.equal(e.reason, 'Keep alive for request (1d) is too large. It must be less than (1d). This limit can be set by changing the [search.max_keep_alive] cluster level setting.');
    const bad = await http(es.url, 'POST', '/scroll-a/_search?scroll=soon', {});
    assert.equal(bad.status, 400);
    assert.equal(esError(bad.body).type, 'parse_exception');
    const from = await http(es.url, 'POST', '/scroll-a/_search?scroll=1m', { from: 5 });
    assert.equal(from.status, 400);
    assert.equal(esError(from.body).type, 'action_request_validation_exception');
    const size0 = await http(es.url, 'POST', '/scroll-a/_search?scroll=1m&size=0', {});
    assert.equal(size0.status, 400);
    assert.match(esError(size0.body).reason, /\[size\] cannot be \[0\] in a scroll context/);
  });

  it('refuses more than 500 open scrolls with 429 too_many_scroll_contexts_exception, and frees them', async () => {
    await http(es.url, 'DELETE', '/_search/scroll/_all');
    const untracked = await http(es.url, 'POST', '/scroll-a/_search?scroll=5m&track_total_hits=false', {});
    assert.equal(untracked.status, 400);
    assert.match(untracked.text, /disabling \[track_total_hits\] is not allowed in a scroll context/);
    const ids: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => ok('POST', '/scroll-a/_search?scroll=5m&size=1', { _source: false })));
      ids.push(...answers.map((a) => a._scroll_id));
    }
    const over = await http(es.url, 'POST', '/scroll-a/_search?scroll=5m&size=1', {});
    assert.equal(over.status, 429);
    const e = esError(over.body);
    assert.equal(e.type, 'too_many_scroll_contexts_exception');
    assert.equal(
      e.reason,
      'Trying to create too many scroll contexts. Must be less than or equal to: [500]. This limit can be set by changing the [search.max_open_scroll_context] setting.',
    );
    const freed = await http(es.url, 'DELETE', '/_search/scroll', { scroll_id: ids.slice(0, 3) });
    assert.deepEqual(freed.body, { succeeded: true, num_freed: 3 });
    await ok('POST', '/scroll-a/_search?scroll=5m&size=1', {});
    const all = await http(es.url, 'DELETE', '/_search/scroll/_all');
    assert.deepEqual(all.body, { succeeded: true, num_freed: 498 });
  });

  it('pages a PIT with search_after and _shard_doc, unaffected by later writes, then deletes it', async () => {
    await ingest('pit-a', 0, 30);
    const opened = await ok('POST', '/pit-a/_pit?keep_alive=1m');
    assert.equal(typeof opened.id, 'string');
    await ingest('pit-a', 30, 40, 30);
    const seen: number[] = [];
    let searchAfter: unknown[] | undefined;
    for (let round = 0; round < 10; round++) {
      const body: Record<string, unknown> = { size: 8, pit: { id: opened.id, keep_alive: '1m' }, sort: [{ '@timestamp': 'asc' }, { _shard_doc: 'asc' }] };
      if (searchAfter) body.search_after = searchAfter;
      const page = await ok('POST', '/_search', body);
      assert.equal(page.pit_id, opened.id);
      assert.deepEqual(page.hits.total, { value: 30, relation: 'eq' });
      if (page.hits.hits.length === 0) break;
      for (const h of page.hits.hits) {
        assert.ok(Array.isArray(h.sort) && h.sort.length > 1, 'sort values carry the tie-breaker');
        seen.push(h._source.n);
      }
      searchAfter = page.hits.hits[page.hits.hits.length - 1].sort;
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i),
    );
    // ascending time: pairs share a second
    for (let i = 1; i < seen.length; i++) assert.ok(Math.floor(seen[i] / 2) >= Math.floor(seen[i - 1] / 2));

    const withIndex = await http(es.url, 'POST', '/pit-a/_search', { pit: { id: opened.id } });
    assert.equal(withIndex.status, 400);
    assert.equal(esError(withIndex.body).type, 'action_request_validation_exception');

    const closed = await http(es.url, 'DELETE', '/_pit', { id: opened.id });
    assert.deepEqual(closed.body, { succeeded: true, num_freed: 1 });
    const gone = await http(es.url, 'POST', '/_search', { pit: { id: opened.id } });
    assert.equal(gone.status, 404);
    assert.equal(esError(gone.body).type, 'search_context_missing_exception');
    const twice = await http(es.url, 'DELETE', '/_pit', { id: opened.id });
    assert.equal(twice.status, 404);
    assert.deepEqual(twice.body, { succeeded: true, num_freed: 0 });
    const noKeepAlive = await http(es.url, 'POST', '/pit-a/_pit');
    assert.equal(noKeepAlive.status, 400);
    assert.equal(esError(noKeepAlive.body).type, 'action_request_validation_exception');
  });
});
