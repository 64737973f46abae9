/**
 * HTTP ingest against a real server: body formats, the per-line answer,
 * compression, read-after-write, flattening, types, timestamps and ids.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {
  apiGet,
  fieldsInfo,
  ingest,
  ingestOk,
  removeDir,
  search,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

describe('HTTP ingest', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startTestServer();
  });
  afterEach(async () => {
    await s.close();
    removeDir(s.dir);
  });

  it('stores an NDJSON body and answers {accepted, rejected}', async () => {
    const body = [
      JSON.stringify({ message: 'ndjson one', host: 'h1' }),
      JSON.stringify({ message: 'ndjson two', host: 'h2' }),
      JSON.stringify({ message: 'ndjson three', host: 'h3' }),
    ].join('\n');
    const r = await ingest(s.url, body); // no trailing newline on the last line
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accepted: 3, rejected: [] });
    const found = await search(s.url, 'ndjson');
    assert.equal(found.total, 3);
    assert.deepEqual(found.hits.map((h) => h.message).sort(), ['ndjson one', 'ndjson three', 'ndjson two']);
    assert.deepEqual(found.hits.map((h) => h.host).sort(), ['h1', 'h2', 'h3']);
  });

  it('accepts CRLF line ends', async () => {
    const r = await ingest(s.url, '{"message":"crlf a"}\r\n{"message":"crlf b"}\r\n');
    assert.deepEqual(r.body, { accepted: 2, rejected: [] });
    const found = await search(s.url, 'crlf');
    assert.deepEqual(found.hits.map((h) => h.message).sort(), ['crlf a', 'crlf b']);
  });

  it('stores a JSON-array body', async () => {
    const body = JSON.stringify([
      { message: 'array one', n: 1 },
      { message: 'array two', n: 2 },
    ]);
    const r = await ingest(s.url, body, { 'content-type': 'application/json' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accepted: 2, rejected: [] });
    const found = await search(s.url, 'array');
    assert.equal(found.total, 2);
    assert.deepEqual(found.hits.map((h) => h.n).sort(), [1, 2]);
  });

  it('rejects the non-object items of a JSON array by position and stores the rest', async () => {
    const body = JSON.stringify([{ message: 'arr good 1' }, 42, { message: 'arr good 2' }, 'text', null]);
    const r = await ingest(s.url, body, { 'content-type': 'application/json' });
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 2);
    assert.deepEqual(
      r.body.rejected.map((x) => x.line),
      [2, 4, 5],
    );
    for (const x of r.body.rejected) assert.equal(typeof x.error, 'string');
    const found = await search(s.url, 'arr');
    assert.deepEqual(found.hits.map((h) => h.message).sort(), ['arr good 1', 'arr good 2']);
  });

  it('names a rejected line by its 1-based number and keeps the good lines', async () => {
    const body = '{"message":"keep first"}\n{"message": oops}\n{"message":"keep third"}\n';
    const r = await ingest(s.url, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 2);
    assert.equal(r.body.rejected.length, 1);
    assert.equal(r.body.rejected[0].line, 2);
    assert.equal(typeof r.body.rejected[0].error, 'string');
    assert.ok(r.body.rejected[0].error.length > 0);
    assert.deepEqual(Object.keys(r.body.rejected[0]).sort(), ['error', 'line']);
    const found = await search(s.url, 'keep');
    assert.deepEqual(found.hits.map((h) => h.message).sort(), ['keep first', 'keep third']);
  });

  it('decodes a gzip body (Content-Encoding: gzip)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) lines.push(JSON.stringify({ message: `gzipped event ${i}`, i }));
    const gz = zlib.gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const r = await ingest(s.url, gz, { 'content-encoding': 'gzip' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accepted: 200, rejected: [] });
    const found = await search(s.url, 'gzipped');
    assert.equal(found.total, 200);
    assert.deepEqual(
      found.hits.map((h) => h.i as number).sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  it('decodes a deflate body', async () => {
    const body = zlib.deflateSync(Buffer.from('{"message":"deflated one"}\n{"message":"deflated two"}\n'));
    const r = await ingest(s.url, body, { 'content-encoding': 'deflate' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { accepted: 2, rejected: [] });
    assert.equal((await search(s.url, 'deflated')).total, 2);
  });

  it('answers 400 (not 500) for a body that is not valid gzip, and stores nothing', async () => {
    const r = await ingest(s.url, Buffer.from('{"message":"not really gzip"}\n'), { 'content-encoding': 'gzip' });
    assert.equal(r.status, 400);
    assert.equal(typeof r.body.error?.message, 'string');
    assert.equal((await search(s.url, '*')).total, 0);
  });

  it('makes events searchable as soon as the ingest answers', async () => {
    for (let round = 0; round < 20; round++) {
      const word = `visible${round}x`;
      await ingestOk(s.url, [{ message: `round ${word}`, round }]);
      const found = await search(s.url, word);
      assert.equal(found.total, 1, `round ${round}: the event must be found right after the ingest answered`);
      assert.equal(found.hits[0].round, round);
      const all = await search(s.url, '*');
      assert.equal(all.total, round + 1);
    }
  });

  it('flattens nested objects to dotted field names', async () => {
    await ingestOk(s.url, [
      {
        message: 'nested',
        http: { response: { status: 404, bytes: 512 }, request: { method: 'GET' } },
        a: { b: { c: { d: 'deep' } } },
      },
    ]);
    const [hit] = (await search(s.url, 'nested')).hits;
    assert.equal(hit['http.response.status'], 404);
    assert.equal(hit['http.response.bytes'], 512);
    assert.equal(hit['http.request.method'], 'GET');
    assert.equal(hit['a.b.c.d'], 'deep');
    assert.equal(hit.http, undefined, 'no un-flattened "http" object');
    assert.equal(hit.a, undefined);

    assert.equal((await search(s.url, 'http.response.status:404')).total, 1);
    assert.equal((await search(s.url, 'http.response.status:200')).total, 0);
    assert.equal((await search(s.url, 'http.request.method:get')).total, 1);
    assert.equal((await search(s.url, 'a.b.c.d:deep')).total, 1);

    const names = (await fieldsInfo(s.url)).map((f) => f.name);
    for (const n of ['http.response.status', 'http.response.bytes', 'http.request.method', 'a.b.c.d']) assert.ok(names.includes(n), n);
    assert.ok(!names.includes('http'));
  });

  it('keeps value types: string, integer, float, boolean, timestamp', async () => {
    await ingestOk(s.url, [
      { message: 'typed', s_field: 'text', i_field: 42, f_field: 1.25, b_field: true, t_field: '2026-01-02T03:04:05Z' },
      { message: 'typed', s_field: 'more', i_field: -7, f_field: 3.5, b_field: false, t_field: '2026-02-03T04:05:06.789Z' },
    ]);
    const fields = await fieldsInfo(s.url);
    const typeOf = (n: string) => fields.find((f) => f.name === n)?.type;
    assert.equal(typeOf('s_field'), 'string');
    assert.equal(typeOf('i_field'), 'integer');
    assert.equal(typeOf('f_field'), 'float');
    assert.equal(typeOf('b_field'), 'boolean');
    assert.equal(typeOf('t_field'), 'timestamp');
    assert.equal(typeOf('@timestamp'), 'timestamp');

    const hits = (await search(s.url, 'typed')).hits;
    const first = hits.find((h) => h.s_field === 'text');
    assert.ok(first);
    assert.equal(first.i_field, 42);
    assert.equal(first.f_field, 1.25);
    assert.equal(first.b_field, true);
    assert.equal(first.t_field, '2026-01-02T03:04:05.000Z');
    const second = hits.find((h) => h.s_field === 'more');
    assert.ok(second);
    assert.equal(second.i_field, -7);
    assert.equal(second.b_field, false);
    assert.equal(second.t_field, '2026-02-03T04:05:06.789Z');

    // The types behave as types in queries.
    assert.equal((await search(s.url, 'i_field:>0')).total, 1);
    assert.equal((await search(s.url, 'f_field:[1 TO 2]')).total, 1);
    assert.equal((await search(s.url, 'b_field:false')).total, 1);
    assert.equal((await search(s.url, 't_field:>2026-01-15T00:00:00Z')).total, 1);
  });

  it('gives events without a timestamp their arrival time', async () => {
    const before = Date.now();
    await ingestOk(s.url, [{ message: 'no time given' }]);
    const after = Date.now();
    const [hit] = (await search(s.url, 'given')).hits;
    const t = Date.parse(hit['@timestamp']);
    assert.ok(t >= before - 1 && t <= after + 1, `arrival time ${hit['@timestamp']} outside [${new Date(before).toISOString()}, ${new Date(after).toISOString()}]`);
  });

  it('uses the sender\'s @timestamp, timestamp, or epoch milliseconds', async () => {
    const base = Date.now() - 10 * 60_000;
    await ingestOk(s.url, [
      { message: 'when iso', '@timestamp': new Date(base).toISOString() },
      { message: 'when alias', timestamp: new Date(base + 1000).toISOString() },
      { message: 'when epoch', '@timestamp': base + 2000 },
      { message: 'when micro', '@timestamp': '2026-01-01T00:00:00.123456Z' },
    ]);
    const hits = (await search(s.url, 'when', { from: '2025-12-31T00:00:00Z' })).hits;
    const at = (m: string) => hits.find((h) => h.message === m)?.['@timestamp'];
    assert.equal(at('when iso'), new Date(base).toISOString());
    assert.equal(at('when alias'), new Date(base + 1000).toISOString());
    assert.equal(at('when epoch'), new Date(base + 2000).toISOString());
    assert.equal(at('when micro'), '2026-01-01T00:00:00.123456Z');
  });

  it('keeps an unparseable @timestamp as text in _timestamp_invalid, tagged _timestampparsefailure', async () => {
    const before = Date.now();
    await ingestOk(s.url, [
      { message: 'bad clock', '@timestamp': 'yesterday-ish at noon' },
      { message: 'good clock', '@timestamp': new Date(before - 60_000).toISOString() },
    ]);
    const after = Date.now();
    const hits = (await search(s.url, 'clock')).hits;
    const bad = hits.find((h) => h.message === 'bad clock');
    assert.ok(bad);
    assert.equal(bad._timestamp_invalid, 'yesterday-ish at noon');
    assert.ok(Array.isArray(bad.tags) && (bad.tags as string[]).includes('_timestampparsefailure'), JSON.stringify(bad.tags));
    const t = Date.parse(bad['@timestamp']);
    assert.ok(t >= before - 1 && t <= after + 1, 'an event with a bad timestamp gets its arrival time');
    const good = hits.find((h) => h.message === 'good clock');
    assert.ok(good);
    assert.equal(good._timestamp_invalid, undefined);
    assert.equal(good.tags, undefined);

    assert.equal((await search(s.url, '_exists_:_timestamp_invalid')).total, 1);
    assert.equal((await search(s.url, '_timestamp_invalid:"yesterday-ish at noon"')).total, 1);
  });

  it('finds events by a tag (tags:_timestampparsefailure)', async () => {
    await ingestOk(s.url, [
      { message: 'bad clock', '@timestamp': 'not a time at all' },
      { message: 'good clock' },
      { message: 'own tags', tags: ['alpha', 'beta'] },
    ]);
    const tagged = await search(s.url, 'tags:_timestampparsefailure');
    assert.deepEqual(tagged.hits.map((h) => h.message), ['bad clock']);
    const alpha = await search(s.url, 'tags:alpha');
    assert.deepEqual(alpha.hits.map((h) => h.message), ['own tags']);
    assert.deepEqual(alpha.hits[0].tags, ['alpha', 'beta']);
  });

  it('generates an _id for every event, unique across events and requests', async () => {
    const ids = new Set<string>();
    for (let req = 0; req < 3; req++) {
      const events = Array.from({ length: 300 }, (_, i) => ({ message: `idcheck ${req} ${i}` }));
      await ingestOk(s.url, events);
    }
    // Events on another day land in another partition; their ids must not collide either.
    await ingestOk(s.url, [
      { message: 'idcheck yesterday', '@timestamp': new Date(Date.now() - 86_400_000).toISOString() },
      { message: 'idcheck two days', '@timestamp': new Date(Date.now() - 2 * 86_400_000).toISOString() },
    ]);
    const found = await search(s.url, 'idcheck', { from: 'now-3d' });
    assert.equal(found.total, 902);
    assert.equal(found.hits.length, 902);
    for (const h of found.hits) {
      assert.equal(typeof h._id, 'string');
      assert.ok(h._id.length > 0);
      ids.add(h._id);
    }
    assert.equal(ids.size, 902, 'every _id is unique');
    // An _id finds exactly its event.
    const one = found.hits[123];
    const byId = await search(s.url, `_id:"${one._id}"`, { from: 'now-3d' });
    assert.equal(byId.total, 1);
    assert.equal(byId.hits[0].message, one.message);
  });

  it('keeps an _id given by the sender', async () => {
    await ingestOk(s.url, [{ _id: 'sender-id-1', message: 'with own id' }]);
    const [hit] = (await search(s.url, 'own')).hits;
    assert.equal(hit._id, 'sender-id-1');
    assert.equal((await search(s.url, '_id:sender-id-1')).total, 1);
  });

  it('answers searches that run while ingest registers new fields (never a 500)', async () => {
    const failures: string[] = [];
    let searches = 0;
    for (let round = 0; round < 60; round++) {
      // Each request brings fields never seen before; searches run alongside it.
      const events = Array.from({ length: 5 }, (_, k) => ({ message: `racing ${round}`, [`race_${round}`]: round * 10 + k }));
      const queries = ['*', 'racing', `race_${round}:>=0`, '* | stats count()'].map(async (q) => {
        const r = await apiGet(s.url, '/api/v1/search', { q, from: 'now-1h' });
        searches++;
        if (r.status !== 200) failures.push(`round ${round} ${q}: ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
      });
      await Promise.all([ingestOk(s.url, events), ...queries]);
    }
    assert.equal(searches, 240);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${searches} searches failed`);
    assert.equal((await search(s.url, 'racing')).total, 300);
  });

  it('answers 400 for an unsupported Content-Encoding', async () => {
    const r = await apiGet(s.url, '/api/v1/health');
    assert.equal(r.status, 200);
    const bad = await ingest(s.url, '{"message":"x"}\n', { 'content-encoding': 'br' });
    assert.equal(bad.status, 400);
    assert.equal((await search(s.url, '*')).total, 0);
  });
});
