/**
 * The shipper's time (issue 25, outcome 4) through a real server: a document
 * without `@timestamp` takes its time from a plausible `timestamp`, `time` or
 * `ts`, found at that time by a time range, while `_source` keeps the field
 * as sent. pino-elasticsearch (its `time`), a bunyan-style ISO `time` and an
 * epoch-seconds `ts` over `_bulk`, and the native API's NDJSON.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import pinoElasticModule from 'pino-elasticsearch';
import { waitFor } from '../../helpers/inputs.js';
import { ingestOk, removeDir, search, startTestServer, type TestServer } from '../../helpers/server.js';
import { countIn, http, ndjson, startEs, type EsTestServer } from './helpers.js';

const pinoElastic = pinoElasticModule as unknown as (typeof pinoElasticModule)['default'];

const HOUR = 3_600_000;

/** The hits of `index` whose `@timestamp` is within a minute of `atMs`. */
async function hitsAround(s: EsTestServer, index: string, atMs: number): Promise<{ _source: Record<string, unknown>; fields?: Record<string, unknown[]> }[]> {
  const r = await http(s.url, 'POST', `/${index}/_search`, {
    query: { range: { '@timestamp': { gte: atMs - 60_000, lte: atMs + 60_000, format: 'epoch_millis' } } },
    fields: ['@timestamp'],
    size: 100,
  });
  assert.equal(r.status, 200, r.text);
  return r.body.hits.hits;
}

describe('the shipper\'s time over _bulk', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('pino-elasticsearch: the event\'s time is pino\'s `time`, an hour ago, not the arrival time', async () => {
    const hourAgo = Date.now() - HOUR;
    const stream = pinoElastic({ index: 'pino-time', node: s.url, esVersion: 8, flushBytes: 100, flushInterval: 100 });
    const problems: unknown[] = [];
    stream.on('insertError', (e) => problems.push(e));
    // A logger whose clock says an hour ago: as a line logged an hour before its shipper flushed it.
    const logger = pino({ timestamp: () => `,"time":${hourAgo}` }, stream);
    logger.info('logged an hour ago');
    const now = pino({}, stream);
    now.info('logged now');
    await waitFor('pino documents', async () => (await countIn(s.store, 'pino-time')) >= 2, 60_000);
    const done = once(stream, 'insert');
    stream.end();
    await done;
    assert.deepEqual(problems, []);
    const old = await hitsAround(s, 'pino-time', hourAgo);
    assert.deepEqual(old.map((h) => h._source.msg), ['logged an hour ago']);
    // pino-elasticsearch sends pino's `time` as ISO text: `_source` keeps it so, and has no `@timestamp`.
    assert.equal(old[0]._source.time, new Date(hourAgo).toISOString());
    assert.equal(old[0]._source['@timestamp'], undefined);
    assert.deepEqual(old[0].fields?.['@timestamp'], [new Date(hourAgo).toISOString()]);
    const recent = await hitsAround(s, 'pino-time', Date.now());
    assert.deepEqual(recent.map((h) => h._source.msg), ['logged now']);
  });

  it('a bunyan-style ISO `time` and an epoch-seconds `ts`; durations and times a year ahead stay fields and take the arrival time', async () => {
    const hourAgo = Date.now() - HOUR;
    const twoHoursAgo = Date.now() - 2 * HOUR;
    const yearAhead = Date.now() + 366 * 24 * HOUR;
    const r = await http(
      s.url,
      'POST',
      '/shipped/_bulk?refresh=true',
      ndjson([
        { index: {} },
        { name: 'app', hostname: 'h', pid: 1, level: 30, msg: 'bunyan', time: new Date(hourAgo).toISOString(), v: 0 },
        { index: {} },
        { ts: twoHoursAgo / 1000, msg: 'epoch seconds' },
        { index: {} },
        { time: 0.12, msg: 'a duration' },
        { index: {} },
        { time: yearAhead, msg: 'a year ahead' },
        { index: {} },
        { time: -5, msg: 'negative' },
        { index: { _id: 'with-id' } },
        { time: hourAgo, msg: 'millis, with an id' },
      ]),
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.errors, false, r.text);
    assert.deepEqual((await hitsAround(s, 'shipped', hourAgo)).map((h) => h._source.msg).sort(), ['bunyan', 'millis, with an id']);
    const seconds = await hitsAround(s, 'shipped', twoHoursAgo);
    assert.deepEqual(seconds.map((h) => h._source), [{ ts: twoHoursAgo / 1000, msg: 'epoch seconds' }]);
    const arrived = await hitsAround(s, 'shipped', Date.now());
    assert.deepEqual(arrived.map((h) => h._source).sort((a, b) => String(a.msg).localeCompare(String(b.msg))), [
      { time: 0.12, msg: 'a duration' },
      { time: yearAhead, msg: 'a year ahead' },
      { time: -5, msg: 'negative' },
    ]);
    // Sorted by time, the shipper's order: two hours ago, an hour ago, then the arrivals.
    const sorted = await http(s.url, 'POST', '/shipped/_search', { sort: [{ '@timestamp': 'asc' }], size: 10 });
    assert.deepEqual(sorted.body.hits.hits.slice(0, 2).map((h: { _source: { msg: string } }) => h._source.msg)[0], 'epoch seconds');
  });
});

describe('the shipper\'s time over the native API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.close();
    removeDir(s.dir);
  });

  it('NDJSON with `time` or `ts`: the event\'s time, and the field kept', async () => {
    const hourAgo = Date.now() - HOUR;
    await ingestOk(s.url, [
      { msg: 'native pino', time: hourAgo, level: 30 },
      { msg: 'native ts', ts: (hourAgo - 60_000) / 1000 },
      { msg: 'native duration', time: 0.12 },
    ]);
    const t = (iso: string): number => Date.parse(iso);
    const old = await search(s.url, 'msg:native', { from: new Date(hourAgo - 120_000).toISOString(), to: new Date(hourAgo + 1000).toISOString() });
    const byMsg = new Map(old.hits.map((h) => [h.msg, h]));
    assert.deepEqual([...byMsg.keys()].sort(), ['native pino', 'native ts']);
    assert.equal(t(byMsg.get('native pino')!['@timestamp']), hourAgo);
    assert.equal(byMsg.get('native pino')!.time, hourAgo);
    assert.equal(t(byMsg.get('native ts')!['@timestamp']), hourAgo - 60_000);
    const recent = await search(s.url, 'msg:native', { from: 'now-5m' });
    assert.deepEqual(recent.hits.map((h) => h.msg), ['native duration']);
  });
});
