import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../../src/core/event.js';
import { runAggregations, type AggBase } from '../../../src/api/es/aggs.js';
import { EsRequestError, indexFilter, translateQuery, UnsupportedQuery } from '../../../src/api/es/dsl.js';
import type { FilterNode } from '../../../src/query/ast.js';
import { DuckDBStore } from '../../../src/store/duckdb/store.js';
import type { GroupRequest, Store } from '../../../src/store/store.js';
import { removeDir, tempDir } from '../../helpers/server.js';

// 48 events, one an hour from 2026-11-20T00:00Z, in two daily indices; 48 more in `dst`
// across the Paris daylight-saving change of 2026-03-29.
const H = 3_600_000_000;
const START = Date.UTC(2026, 10, 20) * 1000;
const HOSTS = ['web-1', 'web-2', 'db-1'];
const STATUS = [200, 200, 404, 500];

interface Doc {
  i: number;
  host: string;
  status: number;
  bytes: number;
  duration: number;
  level: string;
  region?: string;
  tags: string[];
}

const DOCS: Doc[] = Array.from({ length: 48 }, (_, i) => ({
  i,
  host: HOSTS[i % 3],
  status: STATUS[i % 4],
  bytes: i * 100,
  duration: i + 0.5,
  level: i % 6 === 0 ? 'error' : 'info',
  region: i < 24 ? 'eu' : undefined,
  tags: i % 4 === 0 ? ['a', 'b'] : ['a'],
}));

function events(): LogEvent[] {
  const out: LogEvent[] = DOCS.map((d) => {
    const fields: LogEvent['fields'] = {
      message: d.i % 2 ? 'GET /api ok' : 'POST /login failed',
      host: d.host,
      status: d.status,
      bytes: d.bytes,
      duration: d.duration,
      level: d.level,
      tags: d.tags,
    };
    if (d.region) fields.region = d.region;
    return { ts: START + d.i * H, id: `e${d.i}`, index: d.i < 24 ? 'logs-2026.11.20' : 'logs-2026.11.21', fields };
  });
  const dstStart = Date.UTC(2026, 2, 28) * 1000;
  for (let i = 0; i < 48; i++) out.push({ ts: dstStart + i * H, id: `d${i}`, index: 'dst', fields: { message: 'tick', n: i } });
  return out;
}

let dir: string;
let store: DuckDBStore;
let groupCalls = 0;
/** The store, counting group calls. */
let counted: Store;
const NOW = Date.UTC(2026, 10, 22, 12) ;

const LOGS: AggBase = { filter: indexFilter('logs-*'), indexFilter: indexFilter('logs-*') };
const DST: AggBase = { filter: indexFilter('dst') };

function withQuery(query: unknown): AggBase {
  const filter: FilterNode = { kind: 'and', children: [indexFilter('logs-*'), translateQuery(query)] };
  return { filter, indexFilter: indexFilter('logs-*') };
}

async function aggs(spec: unknown, base: AggBase = LOGS, opts = {}): Promise<any> {
  return runAggregations(spec, base, counted, NOW, { fieldType: (f: string) => (f === '@timestamp' ? 'timestamp' : undefined), ...opts });
}

function count(pred: (d: Doc) => boolean): number {
  return DOCS.filter(pred).length;
}

async function rejects(spec: unknown): Promise<EsRequestError> {
  try {
    await aggs(spec);
  } catch (e) {
    assert.ok(e instanceof EsRequestError, `expected EsRequestError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

before(async () => {
  dir = tempDir();
  store = new DuckDBStore({ dir });
  await store.open();
  await store.write(events());
  counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'group') {
        return (req: GroupRequest) => {
          groupCalls++;
          return target.group(req);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
});

after(async () => {
  await store.close();
  removeDir(dir);
});

describe('terms', () => {
  it('counts, orders by count then key, reports sum_other_doc_count', async () => {
    const r = await aggs({ hosts: { terms: { field: 'host', size: 2 } } });
    assert.deepEqual(r, {
      hosts: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 16,
        buckets: [
          { key: 'db-1', doc_count: 16 },
          { key: 'web-1', doc_count: 16 },
        ],
      },
    });
  });

  it('numbers, _key order, min_doc_count', async () => {
    const r = await aggs({
      s: { terms: { field: 'status', order: { _key: 'desc' } } },
      big: { terms: { field: 'status', min_doc_count: 13 } },
    });
    assert.deepEqual(r.s.buckets, [
      { key: 500, doc_count: 12 },
      { key: 404, doc_count: 12 },
      { key: 200, doc_count: 24 },
    ]);
    assert.deepEqual(r.big.buckets, [{ key: 200, doc_count: 24 }]);
    assert.equal(r.big.sum_other_doc_count, 24);
  });

  it('list fields count each element; .keyword-style resolution; missing', async () => {
    const r = await aggs(
      {
        tags: { terms: { field: 'tags' } },
        region: { terms: { field: 'region.keyword', missing: 'none' } },
        tmiss: { terms: { field: 'tags', missing: 'untagged' } },
      },
      LOGS,
      { resolveField: (f: string) => f.replace(/\.keyword$/, '') },
    );
    assert.deepEqual(r.tags.buckets, [
      { key: 'a', doc_count: 48 },
      { key: 'b', doc_count: 12 },
    ]);
    assert.deepEqual(r.region.buckets, [
      { key: 'eu', doc_count: 24 },
      { key: 'none', doc_count: 24 },
    ]);
    assert.deepEqual(r.tmiss.buckets, [
      { key: 'a', doc_count: 48 },
      { key: 'b', doc_count: 12 },
    ]);
  });

  it('orders by a metric sub-aggregation; include and exclude', async () => {
    const r = await aggs({
      h: { terms: { field: 'host', order: { avg_bytes: 'desc' } }, aggs: { avg_bytes: { avg: { field: 'bytes' } } } },
      inc: { terms: { field: 'host', include: 'web-.*', exclude: ['web-2'] } },
    });
    const avg = (h: string) => DOCS.filter((d) => d.host === h).reduce((s, d) => s + d.bytes, 0) / 16;
    assert.deepEqual(
      r.h.buckets.map((b: any) => [b.key, b.avg_bytes.value]),
      [
        ['db-1', avg('db-1')],
        ['web-2', avg('web-2')],
        ['web-1', avg('web-1')],
      ],
    );
    await assert.rejects(aggs({ s: { terms: { field: 'host', order: { st: 'asc' } }, aggs: { st: { stats: { field: 'bytes' } } } } }), EsRequestError);
    const byMax = await aggs({ s: { terms: { field: 'host', order: { 'st.max': 'asc' } }, aggs: { st: { stats: { field: 'bytes' } } } } });
    assert.deepEqual(
      byMax.s.buckets.map((b: any) => b.key),
      ['web-1', 'web-2', 'db-1'],
    );
    assert.deepEqual(r.inc.buckets, [{ key: 'web-1', doc_count: 16 }]);
  });

  it('min_doc_count 0 lists every value of the indices', async () => {
    const r = await aggs({ h: { terms: { field: 'host', min_doc_count: 0 } } }, withQuery({ term: { host: 'web-1' } }));
    assert.deepEqual(r.h.buckets, [
      { key: 'web-1', doc_count: 16 },
      { key: 'db-1', doc_count: 0 },
      { key: 'web-2', doc_count: 0 },
    ]);
  });
});

describe('date_histogram', () => {
  it('fixed_interval, key and key_as_string', async () => {
    const r = await aggs({ t: { date_histogram: { field: '@timestamp', fixed_interval: '6h' } } });
    assert.equal(r.t.buckets.length, 8);
    assert.deepEqual(r.t.buckets[0], { key_as_string: '2026-11-20T00:00:00.000Z', key: START / 1000, doc_count: 6 });
    assert.deepEqual(r.t.buckets[7], { key_as_string: '2026-11-21T18:00:00.000Z', key: START / 1000 + 42 * 3_600_000, doc_count: 6 });
    assert.ok(r.t.buckets.every((b: any) => b.doc_count === 6));
  });

  it('calendar_interval, legacy interval, format', async () => {
    const r = await aggs({
      d: { date_histogram: { field: '@timestamp', calendar_interval: 'day', format: 'yyyy-MM-dd' } },
      legacy: { date_histogram: { field: '@timestamp', interval: '1d' } },
      month: { date_histogram: { field: '@timestamp', calendar_interval: '1M', format: 'epoch_millis' } },
    });
    assert.deepEqual(r.d.buckets, [
      { key_as_string: '2026-11-20', key: Date.UTC(2026, 10, 20), doc_count: 24 },
      { key_as_string: '2026-11-21', key: Date.UTC(2026, 10, 21), doc_count: 24 },
    ]);
    assert.deepEqual(
      r.legacy.buckets.map((b: any) => b.doc_count),
      [24, 24],
    );
    assert.deepEqual(r.month.buckets, [{ key_as_string: String(Date.UTC(2026, 10, 1)), key: Date.UTC(2026, 10, 1), doc_count: 48 }]);
  });

  it('time_zone: fixed offsets and named zones', async () => {
    const r = await aggs({
      plus2: { date_histogram: { field: '@timestamp', calendar_interval: 'day', time_zone: '+02:00' } },
      paris: { date_histogram: { field: '@timestamp', calendar_interval: '1d', time_zone: 'Europe/Paris' } },
      fixed: { date_histogram: { field: '@timestamp', fixed_interval: '1d', time_zone: '-05:00' } },
    });
    assert.deepEqual(r.plus2.buckets, [
      { key_as_string: '2026-11-20T00:00:00.000+02:00', key: Date.UTC(2026, 10, 19, 22), doc_count: 22 },
      { key_as_string: '2026-11-21T00:00:00.000+02:00', key: Date.UTC(2026, 10, 20, 22), doc_count: 24 },
      { key_as_string: '2026-11-22T00:00:00.000+02:00', key: Date.UTC(2026, 10, 21, 22), doc_count: 2 },
    ]);
    assert.deepEqual(r.paris.buckets, [
      { key_as_string: '2026-11-20T00:00:00.000+01:00', key: Date.UTC(2026, 10, 19, 23), doc_count: 23 },
      { key_as_string: '2026-11-21T00:00:00.000+01:00', key: Date.UTC(2026, 10, 20, 23), doc_count: 24 },
      { key_as_string: '2026-11-22T00:00:00.000+01:00', key: Date.UTC(2026, 10, 21, 23), doc_count: 1 },
    ]);
    assert.deepEqual(
      r.fixed.buckets.map((b: any) => [b.key_as_string, b.doc_count]),
      [
        ['2026-11-19T00:00:00.000-05:00', 5],
        ['2026-11-20T00:00:00.000-05:00', 24],
        ['2026-11-21T00:00:00.000-05:00', 19],
      ],
    );
  });

  it('calendar months in zones of constant offsets', async () => {
    const r = await aggs({
      kolkata: { date_histogram: { field: '@timestamp', calendar_interval: 'month', time_zone: 'Asia/Kolkata' } },
      plus1: { date_histogram: { field: '@timestamp', calendar_interval: 'month', time_zone: '+01:00' } },
      week: { date_histogram: { field: '@timestamp', calendar_interval: 'week', time_zone: '+05:30' } },
    });
    assert.deepEqual(r.kolkata.buckets, [{ key_as_string: '2026-11-01T00:00:00.000+05:30', key: Date.UTC(2026, 9, 31, 18, 30), doc_count: 48 }]);
    assert.deepEqual(r.plus1.buckets, [{ key_as_string: '2026-11-01T00:00:00.000+01:00', key: Date.UTC(2026, 9, 31, 23), doc_count: 48 }]);
    // Monday 2026-11-16 00:00 +05:30
    assert.deepEqual(r.week.buckets, [{ key_as_string: '2026-11-16T00:00:00.000+05:30', key: Date.UTC(2026, 10, 15, 18, 30), doc_count: 48 }]);
    const e = await rejects({ m: { date_histogram: { field: '@timestamp', calendar_interval: 'month', time_zone: '+05:30' } } });
    assert.match(e.reason, /\[calendar_interval\] \[month\] with the time zone \[\+05:30\] is not supported by Logmill/);
  });

  it('calendar days across a daylight-saving change (23-hour day)', async () => {
    const r = await aggs(
      {
        d: { date_histogram: { field: '@timestamp', calendar_interval: 'day', time_zone: 'Europe/Paris' } },
        fixed1d: { date_histogram: { field: '@timestamp', fixed_interval: '1d', time_zone: 'Europe/Paris' } },
        h: { date_histogram: { field: '@timestamp', fixed_interval: '1h', time_zone: 'Europe/Paris', min_doc_count: 1 } },
      },
      DST,
    );
    const expected = [
      { key_as_string: '2026-03-28T00:00:00.000+01:00', key: Date.UTC(2026, 2, 27, 23), doc_count: 23 },
      { key_as_string: '2026-03-29T00:00:00.000+01:00', key: Date.UTC(2026, 2, 28, 23), doc_count: 23 },
      { key_as_string: '2026-03-30T00:00:00.000+02:00', key: Date.UTC(2026, 2, 29, 22), doc_count: 2 },
    ];
    assert.deepEqual(r.d.buckets, expected);
    assert.deepEqual(r.fixed1d.buckets, expected);
    assert.equal(r.h.buckets.length, 48);
    const reason = (await rejects({ x: { date_histogram: { field: '@timestamp', fixed_interval: '12h', time_zone: 'Europe/Paris' } } })).reason;
    assert.match(reason, /\[fixed_interval\] of 43200000ms with the time zone \[Europe\/Paris\] is not supported by Logmill/);
  });

  it('min_doc_count 0 fills empty buckets between the first and the last', async () => {
    const r = await aggs({ t: { date_histogram: { field: '@timestamp', fixed_interval: '1h' } } }, withQuery({ term: { host: 'web-1' } }));
    assert.equal(r.t.buckets.length, 46);
    assert.deepEqual(
      r.t.buckets.slice(0, 4).map((b: any) => b.doc_count),
      [1, 0, 0, 1],
    );
    assert.equal(r.t.buckets.filter((b: any) => b.doc_count === 1).length, 16);
    const sparse = await aggs({ t: { date_histogram: { field: '@timestamp', fixed_interval: '1h', min_doc_count: 1 } } }, withQuery({ term: { host: 'web-1' } }));
    assert.equal(sparse.t.buckets.length, 16);
  });

  it('extended_bounds and hard_bounds', async () => {
    const r = await aggs({
      ext: { date_histogram: { field: '@timestamp', calendar_interval: 'day', extended_bounds: { min: '2026-11-18', max: '2026-11-23T12:00:00Z' } } },
      ms: { date_histogram: { field: '@timestamp', calendar_interval: 'day', format: 'epoch_millis', extended_bounds: { min: String(Date.UTC(2026, 10, 19)), max: Date.UTC(2026, 10, 21) } } },
      hard: { date_histogram: { field: '@timestamp', fixed_interval: '6h', hard_bounds: { min: '2026-11-20T12:00:00Z', max: '2026-11-21T05:59:59Z' } } },
    });
    assert.deepEqual(
      r.ext.buckets.map((b: any) => [b.key_as_string, b.doc_count]),
      [
        ['2026-11-18T00:00:00.000Z', 0],
        ['2026-11-19T00:00:00.000Z', 0],
        ['2026-11-20T00:00:00.000Z', 24],
        ['2026-11-21T00:00:00.000Z', 24],
        ['2026-11-22T00:00:00.000Z', 0],
        ['2026-11-23T00:00:00.000Z', 0],
      ],
    );
    assert.deepEqual(
      r.ms.buckets.map((b: any) => b.doc_count),
      [0, 24, 24],
    );
    assert.deepEqual(
      r.hard.buckets.map((b: any) => [b.key_as_string, b.doc_count]),
      [
        ['2026-11-20T12:00:00.000Z', 6],
        ['2026-11-20T18:00:00.000Z', 6],
        ['2026-11-21T00:00:00.000Z', 6],
      ],
    );
    const empty = await aggs({ t: { date_histogram: { field: '@timestamp', calendar_interval: 'day', extended_bounds: { min: '2026-11-01', max: '2026-11-03' } } } }, withQuery({ match_none: {} }));
    assert.deepEqual(
      empty.t.buckets.map((b: any) => b.doc_count),
      [0, 0, 0],
    );
  });

  it('keyed buckets and order', async () => {
    const r = await aggs({ t: { date_histogram: { field: '@timestamp', calendar_interval: 'day', keyed: true, order: { _key: 'desc' } } } });
    assert.deepEqual(Object.keys(r.t.buckets), ['2026-11-21T00:00:00.000Z', '2026-11-20T00:00:00.000Z']);
    assert.equal(r.t.buckets['2026-11-21T00:00:00.000Z'].doc_count, 24);
  });

  it('refuses bad intervals', async () => {
    assert.equal((await rejects({ t: { date_histogram: { field: '@timestamp', calendar_interval: '2d' } } })).type, 'illegal_argument_exception');
    assert.equal((await rejects({ t: { date_histogram: { field: '@timestamp' } } })).type, 'illegal_argument_exception');
    assert.equal((await rejects({ t: { date_histogram: { field: '@timestamp', fixed_interval: '1M' } } })).type, 'illegal_argument_exception');
  });
});

describe('histogram, range, filters, filter, missing', () => {
  it('histogram with filling and extended_bounds', async () => {
    const r = await aggs({ b: { histogram: { field: 'bytes', interval: 1000 } } });
    assert.deepEqual(r.b.buckets, [
      { key: 0, doc_count: 10 },
      { key: 1000, doc_count: 10 },
      { key: 2000, doc_count: 10 },
      { key: 3000, doc_count: 10 },
      { key: 4000, doc_count: 8 },
    ]);
    const gaps = await aggs(
      { b: { histogram: { field: 'bytes', interval: 1000, extended_bounds: { min: 0, max: 6000 } } } },
      withQuery({ bool: { should: [{ range: { bytes: { lt: 500 } } }, { range: { bytes: { gte: 3000 } } }] } }),
    );
    assert.deepEqual(
      gaps.b.buckets.map((b: any) => [b.key, b.doc_count]),
      [
        [0, 5],
        [1000, 0],
        [2000, 0],
        [3000, 10],
        [4000, 8],
        [5000, 0],
        [6000, 0],
      ],
    );
    const frac = await aggs({ d: { histogram: { field: 'duration', interval: 10, offset: 5, min_doc_count: 1 } } });
    assert.deepEqual(
      frac.d.buckets.map((b: any) => [b.key, b.doc_count]),
      [
        [-5, 5],
        [5, 10],
        [15, 10],
        [25, 10],
        [35, 10],
        [45, 3],
      ],
    );
  });

  it('range: ordered, keys, keyed', async () => {
    const r = await aggs({
      r: { range: { field: 'bytes', ranges: [{ from: 4000 }, { to: 1000 }, { from: 1000, to: 2000, key: 'mid' }] } },
      k: { range: { field: 'bytes', keyed: true, ranges: [{ to: 1000 }, { from: 1000 }] } },
    });
    assert.deepEqual(r.r.buckets, [
      { key: '*-1000.0', to: 1000, doc_count: 10 },
      { key: 'mid', from: 1000, to: 2000, doc_count: 10 },
      { key: '4000.0-*', from: 4000, doc_count: 8 },
    ]);
    assert.deepEqual(r.k.buckets, { '*-1000.0': { to: 1000, doc_count: 10 }, '1000.0-*': { from: 1000, doc_count: 38 } });
  });

  it('date_range', async () => {
    const r = await aggs({ r: { date_range: { field: '@timestamp', ranges: [{ to: '2026-11-20T12:00:00Z' }, { from: '2026-11-20T12:00:00Z', to: 'now/d' }] } } });
    assert.deepEqual(r.r.buckets, [
      { key: '*-2026-11-20T12:00:00.000Z', to: Date.UTC(2026, 10, 20, 12), to_as_string: '2026-11-20T12:00:00.000Z', doc_count: 12 },
      {
        key: '2026-11-20T12:00:00.000Z-2026-11-22T00:00:00.000Z',
        from: Date.UTC(2026, 10, 20, 12),
        from_as_string: '2026-11-20T12:00:00.000Z',
        to: Date.UTC(2026, 10, 22),
        to_as_string: '2026-11-22T00:00:00.000Z',
        doc_count: 36,
      },
    ]);
  });

  it('filters keyed, anonymous, with other bucket; filter; missing', async () => {
    const r = await aggs({
      f: { filters: { filters: { get: { match: { message: 'GET' } }, errors: { term: { level: 'error' } } }, other_bucket_key: 'rest' } },
      a: { filters: { filters: [{ term: { host: 'web-1' } }, { range: { bytes: { lt: 1000 } } }] } },
      one: { filter: { term: { status: 404 } }, aggs: { b: { sum: { field: 'bytes' } } } },
      noregion: { missing: { field: 'region' } },
    });
    const errors = count((d) => d.level === 'error');
    const gets = count((d) => d.i % 2 === 1);
    const rest = count((d) => d.level !== 'error' && d.i % 2 === 0);
    assert.deepEqual(r.f.buckets, { errors: { doc_count: errors }, get: { doc_count: gets }, rest: { doc_count: rest } });
    assert.deepEqual(r.a.buckets, [{ doc_count: 16 }, { doc_count: 10 }]);
    assert.deepEqual(r.one, { doc_count: 12, b: { value: DOCS.filter((d) => d.status === 404).reduce((s, d) => s + d.bytes, 0) } });
    assert.deepEqual(r.noregion, { doc_count: 24 });
  });
});

describe('metrics', () => {
  it('avg, sum, min, max, value_count, cardinality, stats, percentiles', async () => {
    const r = await aggs({
      avg: { avg: { field: 'bytes' } },
      sum: { sum: { field: 'bytes' } },
      min: { min: { field: 'bytes' } },
      max: { max: { field: 'duration' } },
      vc: { value_count: { field: 'region' } },
      card: { cardinality: { field: 'host' } },
      st: { stats: { field: 'bytes' } },
      p: { percentiles: { field: 'bytes', percents: [50, 95, 99.9] } },
      pd: { percentiles: { field: 'bytes' } },
      pk: { percentiles: { field: 'bytes', percents: [50], keyed: false } },
      first: { min: { field: '@timestamp' } },
    });
    assert.deepEqual(r.avg, { value: 2350 });
    assert.deepEqual(r.sum, { value: 112800 });
    assert.deepEqual(r.min, { value: 0 });
    assert.deepEqual(r.max, { value: 47.5 });
    assert.deepEqual(r.vc, { value: 24 });
    assert.deepEqual(r.card, { value: 3 });
    assert.deepEqual(r.st, { count: 48, min: 0, max: 4700, avg: 2350, sum: 112800 });
    assert.deepEqual(Object.keys(r.p.values), ['50.0', '95.0', '99.9']);
    assert.equal(r.p.values['50.0'], 2350);
    assert.ok(Math.abs(r.p.values['95.0'] - 4465) < 1e-6);
    assert.deepEqual(Object.keys(r.pd.values), ['1.0', '5.0', '25.0', '50.0', '75.0', '95.0', '99.0']);
    assert.deepEqual(r.pk, { values: [{ key: 50, value: 2350 }] });
    assert.deepEqual(r.first, { value: START / 1000, value_as_string: '2026-11-20T00:00:00.000Z' });
  });

  it('empty buckets: sums and counts 0, the rest null', async () => {
    const r = await aggs(
      { avg: { avg: { field: 'bytes' } }, sum: { sum: { field: 'bytes' } }, st: { stats: { field: 'bytes' } }, vc: { value_count: { field: 'bytes' } }, p: { percentiles: { field: 'bytes', percents: [50] } }, t: { terms: { field: 'host' } }, h: { date_histogram: { field: '@timestamp', fixed_interval: '1h' } } },
      withQuery({ match_none: {} }),
    );
    assert.deepEqual(r, {
      avg: { value: null },
      sum: { value: 0 },
      st: { count: 0, min: null, max: null, avg: null, sum: 0 },
      vc: { value: 0 },
      p: { values: { '50.0': null } },
      t: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] },
      h: { buckets: [] },
    });
  });

  it('meta is echoed; typed_keys prefixes names', async () => {
    const r = await aggs({ a: { avg: { field: 'bytes' }, meta: { x: 1 } }, h: { terms: { field: 'host', size: 1 }, aggs: { s: { sum: { field: 'status' } } } }, n: { terms: { field: 'status', size: 1 } } }, LOGS, { typedKeys: true });
    assert.deepEqual(Object.keys(r), ['avg#a', 'sterms#h', 'lterms#n']);
    assert.deepEqual(r['avg#a'], { meta: { x: 1 }, value: 2350 });
    assert.deepEqual(Object.keys(r['sterms#h'].buckets[0]), ['key', 'doc_count', 'sum#s']);
  });
});

describe('nesting', () => {
  it('terms → date_histogram → sum, in two store queries', async () => {
    groupCalls = 0;
    const r = await aggs({ h: { terms: { field: 'host', size: 2 }, aggs: { d: { date_histogram: { field: '@timestamp', calendar_interval: 'day' }, aggs: { b: { sum: { field: 'bytes' } } } } } } });
    assert.equal(groupCalls, 2);
    for (const hb of r.h.buckets) {
      assert.equal(hb.d.buckets.length, 2);
      for (const [day, db] of hb.d.buckets.entries()) {
        const docs = DOCS.filter((d) => d.host === hb.key && Math.floor(d.i / 24) === day);
        assert.equal(db.doc_count, docs.length);
        assert.equal(db.b.value, docs.reduce((s, d) => s + d.bytes, 0));
      }
    }
    assert.deepEqual(
      r.h.buckets.map((b: any) => b.key),
      ['db-1', 'web-1'],
    );
  });

  it('date_histogram → terms → avg, with empty filled buckets, in two store queries', async () => {
    groupCalls = 0;
    const r = await aggs(
      { d: { date_histogram: { field: '@timestamp', fixed_interval: '12h' }, aggs: { s: { terms: { field: 'status' }, aggs: { dur: { avg: { field: 'duration' } } } } } } },
      withQuery({ range: { bytes: { lt: 1200 } } }),
    );
    assert.equal(groupCalls, 2);
    assert.equal(r.d.buckets.length, 1);
    const b = r.d.buckets[0];
    assert.equal(b.doc_count, 12);
    assert.deepEqual(
      b.s.buckets.map((x: any) => [x.key, x.doc_count, x.dur.value]),
      [
        [200, 6, (0.5 + 1.5 + 4.5 + 5.5 + 8.5 + 9.5) / 6],
        [404, 3, (2.5 + 6.5 + 10.5) / 3],
        [500, 3, (3.5 + 7.5 + 11.5) / 3],
      ],
    );
    const filled = await aggs(
      { d: { date_histogram: { field: '@timestamp', fixed_interval: '6h' }, aggs: { s: { terms: { field: 'host' } }, m: { max: { field: 'bytes' } } } } },
      withQuery({ bool: { should: [{ range: { bytes: { lt: 600 } } }, { range: { bytes: { gte: 4200 } } }] } }),
    );
    assert.equal(filled.d.buckets.length, 8);
    assert.deepEqual(filled.d.buckets[1], { key_as_string: '2026-11-20T06:00:00.000Z', key: START / 1000 + 6 * 3_600_000, doc_count: 0, s: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: [] }, m: { value: null } });
    assert.equal(filled.d.buckets[7].m.value, 4700);
  });

  it('three levels: terms → terms → date_histogram', async () => {
    groupCalls = 0;
    const r = await aggs({ h: { terms: { field: 'host' }, aggs: { s: { terms: { field: 'status', size: 1 }, aggs: { d: { date_histogram: { field: '@timestamp', calendar_interval: 'day', min_doc_count: 1 } } } } } } });
    assert.equal(groupCalls, 3);
    for (const hb of r.h.buckets) {
      const top = hb.s.buckets[0];
      const docs = DOCS.filter((d) => d.host === hb.key && d.status === top.key);
      assert.equal(top.doc_count, docs.length);
      assert.equal(
        top.d.buckets.reduce((s: number, x: any) => s + x.doc_count, 0),
        docs.length,
      );
      assert.equal(hb.s.sum_other_doc_count, 16 - docs.length);
    }
  });
});

describe('refusals', () => {
  for (const type of ['top_hits', 'derivative', 'composite', 'significant_terms', 'extended_stats']) {
    it(`[${type}] is refused, naming it`, async () => {
      const e = await rejects({ x: { [type]: { field: 'bytes' } } });
      assert.ok(e instanceof UnsupportedQuery);
      assert.match(e.reason, new RegExp(`^\\[${type}\\] aggregation is not supported by Logmill`));
    });
  }
  it('nested unsupported aggregations are found too; scripts and unknown types refused', async () => {
    assert.match((await rejects({ h: { terms: { field: 'host' }, aggs: { c: { cumulative_sum: { buckets_path: '_count' } } } } })).reason, /\[cumulative_sum\] aggregation/);
    assert.match((await rejects({ a: { avg: { script: 'doc.x' } } })).reason, /\[script\] in \[avg\] aggregation/);
    assert.equal((await rejects({ a: { frobnicate: {} } })).type, 'parsing_exception');
    assert.equal((await rejects({ a: { avg: { field: 'x' }, aggs: { b: { sum: { field: 'y' } } } } })).type, 'aggregation_initialization_exception');
    assert.equal((await rejects({ a: { avg: { field: 'x' }, sum: { field: 'y' } } })).type, 'parsing_exception');
  });
  it('too many buckets', async () => {
    const e = await rejects({ t: { date_histogram: { field: '@timestamp', fixed_interval: '1s' } } });
    assert.equal(e.type, 'too_many_buckets_exception');
  });
});
