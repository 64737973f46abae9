/**
 * `cardinality` as Elasticsearch answers it, over a real store and ES
 * listener: exact up to `precision_threshold` (default 3,000), within a few
 * per cent beyond it, on seeded random sets of 1 to 100,000 distinct values;
 * `precision_threshold` checked (negative: Elasticsearch's error) and clamped
 * (above 40,000); per bucket under `terms`; and `value_count` / `cardinality`
 * of a list field counting its elements, as of a multi-valued field.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { esError, http, ndjson, startEs, type EsTestServer } from './helpers.js';
import { prng } from '../../helpers/prng.js';

const DOCS = 100_000;
/** Distinct counts, one field each: below, at and beyond the default threshold, up to one value per document. */
const SIZES = [1, 13, 500, 2999, 3000, 3001, 10_000, 40_000, 100_000];
const HOSTS = 13;

describe('ES cardinality: exact up to precision_threshold, close beyond', () => {
  let s: EsTestServer;
  /** Per host, the distinct values of c500 its documents have (computed here, independently of the store). */
  const perHost = new Map<string, Set<string>>();

  before(async () => {
    s = await startEs();
    const random = prng(25);
    // Random values (not 0..n-1), so that nothing about their order or spacing helps a counter.
    const pools = SIZES.map((n) => {
      const set = new Set<string>();
      while (set.size < n) set.add(Math.floor(random() * 2 ** 48).toString(36));
      return [...set];
    });
    const hosts = Array.from({ length: HOSTS }, (_, i) => `host-${(i * 7919) % 1000}`);
    let lines: unknown[] = [];
    for (let i = 0; i < DOCS; i++) {
      const doc: Record<string, unknown> = { '@timestamp': new Date(Date.UTC(2026, 10, 20) + i * 1000).toISOString() };
      // The first n documents take each value once, the rest draw at random: exactly n distinct values.
      SIZES.forEach((n, k) => {
        doc[`c${n}`] = pools[k][i < n ? i : Math.floor(random() * n)];
      });
      doc.n500 = Number.parseInt(String(doc.c500), 36);
      const host = hosts[i % HOSTS];
      doc.host = host;
      let set = perHost.get(host);
      if (!set) perHost.set(host, (set = new Set()));
      set.add(String(doc.c500));
      lines.push({ index: { _index: 'card' } }, doc);
      if (lines.length >= 20_000 || i === DOCS - 1) {
        const r = await http(s.url, 'POST', '/_bulk', ndjson(lines));
        assert.equal(r.status, 200);
        assert.equal(r.body.errors, false);
        lines = [];
      }
    }
    const r = await http(s.url, 'POST', '/_bulk?refresh=true', ndjson([{ index: { _index: 'tagged' } }, { tags: ['a', 'b'] }, { index: { _index: 'tagged' } }, { tags: ['b', 'c', 'd'] }, { index: { _index: 'tagged' } }, { other: 1 }]));
    assert.equal(r.body.errors, false);
  });
  after(async () => {
    await s.close();
  });

  const cardinality = async (field: string, extra: Record<string, unknown> = {}, index = 'card'): Promise<number> => {
    const r = await http(s.url, 'POST', `/${index}/_search`, { size: 0, aggs: { c: { cardinality: { field, ...extra } } } });
    assert.equal(r.status, 200, r.text);
    return r.body.aggregations.c.value;
  };

  it('is exact up to the default threshold (3,000) and within a few per cent beyond', async () => {
    for (const n of SIZES) {
      const got = await cardinality(`c${n}`);
      if (n <= 3000) assert.equal(got, n, `c${n}: exact up to the threshold`);
      else assert.ok(Math.abs(got - n) / n <= 0.03, `c${n}: ${got} within 3 % of ${n}`);
    }
    assert.equal(await cardinality('n500'), 500, 'numbers too');
    assert.equal(await cardinality('host'), HOSTS, '13 hosts count 13');
    assert.equal(await cardinality('no_such_field'), 0);
  });

  it('takes precision_threshold: low thresholds stay within the error, -1 is refused, 10^9 acts as 40,000', async () => {
    const low = await cardinality('c10000', { precision_threshold: 100 });
    assert.ok(Math.abs(low - 10_000) / 10_000 <= 0.05, `threshold 100: ${low} within 5 % of 10,000`);
    assert.equal(await cardinality('c40000', { precision_threshold: 40_000 }), 40_000, 'exact up to the maximum threshold');
    assert.equal(await cardinality('c40000', { precision_threshold: 1e9 }), 40_000, 'a threshold above 40,000 is clamped, not refused');
    assert.equal(await cardinality('c3001', { precision_threshold: '5000' }), 3001, 'a numeric string as Elasticsearch parses it');
    assert.equal(await cardinality('c13', { precision_threshold: 0 }), 13);

    let r = await http(s.url, 'POST', '/card/_search', { size: 0, aggs: { bad: { cardinality: { field: 'c13', precision_threshold: -1 } } } });
    assert.equal(r.status, 400);
    const e = esError(r.body);
    assert.equal(e.type, 'illegal_argument_exception');
    assert.equal(e.reason, '[precisionThreshold] must be greater than or equal to 0. Found [-1] in [bad]');
    r = await http(s.url, 'POST', '/card/_search', { size: 0, aggs: { bad: { cardinality: { field: 'c13', precision_threshold: 'many' } } } });
    assert.equal(r.status, 400);
    assert.match(esError(r.body).reason, /precision_threshold/);
    // The server goes on answering.
    assert.equal(await cardinality('c13'), 13);
  });

  it('is exact per bucket under terms', async () => {
    const r = await http(s.url, 'POST', '/card/_search', {
      size: 0,
      aggs: { hosts: { terms: { field: 'host', size: 20 }, aggs: { c: { cardinality: { field: 'c500' } }, n: { value_count: { field: 'c500' } } } } },
    });
    assert.equal(r.status, 200, r.text);
    const buckets = r.body.aggregations.hosts.buckets as { key: string; doc_count: number; c: { value: number }; n: { value: number } }[];
    assert.equal(buckets.length, HOSTS);
    assert.equal(r.body.aggregations.hosts.sum_other_doc_count, 0);
    assert.equal(r.body.aggregations.hosts.doc_count_error_upper_bound, 0);
    for (const b of buckets) {
      assert.equal(b.c.value, perHost.get(b.key)?.size, `distinct c500 of ${b.key}`);
      assert.equal(b.n.value, b.doc_count, 'one value per document');
    }
    // Fewer buckets shown than terms: the rest is sum_other_doc_count.
    const few = await http(s.url, 'POST', '/card/_search', { size: 0, aggs: { hosts: { terms: { field: 'host', size: 3 } } } });
    const shown = (few.body.aggregations.hosts.buckets as { doc_count: number }[]).reduce((n, b) => n + b.doc_count, 0);
    assert.equal(few.body.aggregations.hosts.sum_other_doc_count, DOCS - shown);
  });

  it('counts the elements of a list field, as of a multi-valued field', async () => {
    assert.equal(await cardinality('tags', {}, 'tagged'), 4);
    const r = await http(s.url, 'POST', '/tagged/_search', { size: 0, aggs: { n: { value_count: { field: 'tags' } } } });
    assert.equal(r.body.aggregations.n.value, 5);
  });
});
