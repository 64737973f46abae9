/**
 * `_bulk` and the single-document write endpoints over raw HTTP: Elasticsearch's
 * per-item answer shape, every kind of malformed NDJSON failing alone, ids
 * (create conflicts, replace, delete, update with doc/upsert), timestamps,
 * index names, big and wide documents, conflicting types — and never a 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { countIn, esError, http, ndjson, startEs, storedIn, type EsTestServer } from './helpers.js';

type Item = Record<string, any>;

function itemOf(entry: Item): { action: string; body: Item } {
  const keys = Object.keys(entry);
  assert.equal(keys.length, 1, `an item has one key: ${JSON.stringify(entry)}`);
  return { action: keys[0], body: entry[keys[0]] };
}

/** Checks the exact shape of a successful item. */
function assertSuccess(entry: Item, action: string, index: string, status: number, result: string): Item {
  const { action: a, body } = itemOf(entry);
  assert.equal(a, action);
  // Elasticsearch's item without _shards (Logmill has no replicas).
  assert.deepEqual(Object.keys(body), ['_index', '_id', '_version', 'result', '_seq_no', '_primary_term', 'status']);
  assert.equal(body._index, index);
  assert.equal(typeof body._id, 'string');
  assert.ok(Number.isInteger(body._version) && body._version >= 1);
  assert.equal(body.result, result);
  assert.equal(body.status, status);
  return body;
}

function assertFailure(entry: Item, status: number, type: string, reasonPart?: RegExp): Item {
  const { body } = itemOf(entry);
  assert.equal(body.status, status, JSON.stringify(entry));
  assert.equal(typeof body.error, 'object', JSON.stringify(entry));
  assert.equal(body.error.type, type, JSON.stringify(entry));
  assert.equal(typeof body.error.reason, 'string');
  if (reasonPart) assert.match(body.error.reason, reasonPart);
  return body;
}

describe('ES _bulk', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  const bulk = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => http(s.url, 'POST', path, body, headers);

  it('indexes documents and answers each item in Elasticsearch\'s shape', async () => {
    const r = await bulk(
      '/_bulk',
      ndjson([
        { index: { _index: 'shape' } },
        { message: 'one', '@timestamp': '2026-11-21T10:00:00.000Z', http: { response: { status: 200 } }, bytes: 12 },
        { create: { _index: 'shape' } },
        { message: 'two', '@timestamp': '2026-11-21T10:00:01.000Z', tags: ['a', 'b'], ok: true },
      ]),
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
    assert.deepEqual(Object.keys(r.body), ['took', 'errors', 'items']);
    assert.equal(r.body.errors, false);
    assert.ok(Number.isInteger(r.body.took));
    const a = assertSuccess(r.body.items[0], 'index', 'shape', 201, 'created');
    const b = assertSuccess(r.body.items[1], 'create', 'shape', 201, 'created');
    // The store's id: the day and the row's sequence number, which cost no space.
    assert.match(a._id, /^20261121-\d+$/);
    assert.notEqual(a._id, b._id);
    const hits = await storedIn(s.store, 'shape');
    assert.equal(hits.length, 2);
    assert.equal(hits[0]._id, a._id);
    assert.equal(hits[0]._index, 'shape');
    assert.equal(hits[0].message, 'one');
    assert.equal(hits[0]['@timestamp'], '2026-11-21T10:00:00.000Z');
    assert.equal(hits[0]['http.response.status'], 200);
    assert.equal(hits[0].bytes, 12);
    assert.deepEqual(hits[1].tags, ['a', 'b']);
    assert.equal(hits[1].ok, true);
    // The ids are the stored ids.
    const byId = await s.store.getByIds([b._id], 'shape');
    assert.equal(byId.length, 1);
    assert.equal(byId[0].message, 'two');
  });

  it('takes the index from the URL, and _index in the action line wins over it', async () => {
    const r = await bulk('/urlidx/_bulk', ndjson([{ index: {} }, { message: 'from url' }, { index: { _index: 'other-idx' } }, { message: 'from action' }]));
    assert.equal(r.body.errors, false);
    assertSuccess(r.body.items[0], 'index', 'urlidx', 201, 'created');
    assertSuccess(r.body.items[1], 'index', 'other-idx', 201, 'created');
    assert.equal((await storedIn(s.store, 'urlidx'))[0].message, 'from url');
    assert.equal((await storedIn(s.store, 'other-idx'))[0].message, 'from action');
  });

  it('a missing action line fails that line alone; the rest is stored', async () => {
    const r = await bulk(
      '/missing-action/_bulk',
      ndjson([{ index: {} }, { message: 'good 1' }, { message: 'orphan document', level: 'info' }, { index: {} }, { message: 'good 2' }]),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, true);
    assert.equal(r.body.items.length, 3);
    assertSuccess(r.body.items[0], 'index', 'missing-action', 201, 'created');
    assertFailure(r.body.items[1], 400, 'illegal_argument_exception', /line \[3\].*expected field \[create\], \[delete\], \[index\] or \[update\] but found \[message\]/);
    assertSuccess(r.body.items[2], 'index', 'missing-action', 201, 'created');
    assert.deepEqual((await storedIn(s.store, 'missing-action')).map((h) => h.message).sort(), ['good 1', 'good 2']);
  });

  it('an action line that is not JSON fails with its document; the next pair is stored', async () => {
    const body = ['{"index":{}', '{"message":"doc of the broken action"}', '{"index":{}}', '{"message":"after"}', ''].join('\n');
    const r = await bulk('/bad-action/_bulk', body);
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, 2);
    assertFailure(r.body.items[0], 400, 'illegal_argument_exception', /Malformed action\/metadata line \[1\]/);
    assertSuccess(r.body.items[1], 'index', 'bad-action', 201, 'created');
    assert.deepEqual((await storedIn(s.store, 'bad-action')).map((h) => h.message), ['after']);
  });

  it('an unknown action, a non-object action, unknown parameters and an empty object are illegal_argument_exception items; keys after the action are ignored', async () => {
    const r = await bulk(
      '/unknown-action/_bulk',
      ndjson([
        { upsert: { _id: '1' } },
        { message: 'body of upsert' },
        { index: {} },
        { message: 'kept 1' },
        { index: 5 },
        { message: 'body of index 5' },
        { index: { _index: 'unknown-action', colour: 'red' } },
        { message: 'body of bad parameter' },
        { index: {}, attempts: 0 },
        { message: 'kept 2, keys after the action are ignored (winston-elasticsearch sends them)' },
        { index: {} },
        { message: 'kept 3' },
        {},
      ]),
    );
    assert.equal(r.status, 200);
    const items = r.body.items;
    assert.equal(items.length, 7, JSON.stringify(items));
    assertFailure(items[0], 400, 'illegal_argument_exception', /but found \[upsert\]/);
    assertSuccess(items[1], 'index', 'unknown-action', 201, 'created');
    assertFailure(items[2], 400, 'illegal_argument_exception', /expected START_OBJECT but found \[VALUE_NUMBER\]/);
    assertFailure(items[3], 400, 'illegal_argument_exception', /unknown parameter \[colour\]/);
    assertSuccess(items[4], 'index', 'unknown-action', 201, 'created');
    assertSuccess(items[5], 'index', 'unknown-action', 201, 'created');
    assertFailure(items[6], 400, 'illegal_argument_exception', /found an empty object/);
    assert.equal((await storedIn(s.store, 'unknown-action')).length, 3);
  });

  it('a document line that is not JSON, or not an object, fails alone with mapper_parsing_exception', async () => {
    const body = [
      '{"index":{}}',
      '{"message": "broken',
      '{"index":{}}',
      '[1, 2, 3]',
      '{"index":{}}',
      '"just a string"',
      '{"index":{}}',
      '{"message":"fine"}',
      '',
    ].join('\n');
    const r = await bulk('/bad-doc/_bulk', body);
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, true);
    assert.equal(r.body.items.length, 4);
    const e = assertFailure(r.body.items[0], 400, 'mapper_parsing_exception', /not valid JSON/);
    assert.equal(e._index, 'bad-doc');
    assert.equal(e.error.caused_by.type, 'json_parse_exception');
    assertFailure(r.body.items[1], 400, 'mapper_parsing_exception', /not a JSON object/);
    assertFailure(r.body.items[2], 400, 'mapper_parsing_exception');
    assertSuccess(r.body.items[3], 'index', 'bad-doc', 201, 'created');
    assert.equal(await countIn(s.store, 'bad-doc'), 1);
  });

  it('accepts a last line without a newline, CRLF line ends and blank lines', async () => {
    const r = await bulk('/no-newline/_bulk', '{"index":{}}\r\n{"message":"crlf"}\r\n\r\n{"index":{}}\n{"message":"last, no newline"}');
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, false);
    assert.equal(r.body.items.length, 2);
    assert.deepEqual((await storedIn(s.store, 'no-newline')).map((h) => h.message).sort(), ['crlf', 'last, no newline']);
  });

  it('a missing document line fails that action, and the following action still counts', async () => {
    const r = await bulk('/missing-doc/_bulk', ndjson([{ index: {} }, { index: {} }, { message: 'mine' }, { create: {} }]));
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, 3);
    assertFailure(r.body.items[0], 400, 'action_request_validation_exception', /source is missing/);
    assertSuccess(r.body.items[1], 'index', 'missing-doc', 201, 'created');
    assertFailure(r.body.items[2], 400, 'action_request_validation_exception', /source is missing/);
    assert.deepEqual((await storedIn(s.store, 'missing-doc')).map((h) => h.message), ['mine']);
  });

  it('an empty body is a request error in Elasticsearch\'s shape', async () => {
    const r = await bulk('/_bulk', '\n\n');
    assert.equal(r.status, 400);
    assert.equal(esError(r.body).type, 'action_request_validation_exception');
  });

  it('refuses metadata fields inside documents and unparseable @timestamp per item', async () => {
    const r = await bulk(
      '/meta-doc/_bulk',
      ndjson([
        { index: {} },
        { _id: 'inside', message: 'x' },
        { index: {} },
        { '@timestamp': 'yesterday-ish', message: 'bad time' },
        { index: {} },
        { '@timestamp': { nested: true }, message: 'object time' },
        { index: {} },
        { message: 'good', timestamp: 'kept as a field' },
        { index: {} },
        { '@timestamp': '1960-01-01T00:00:00Z', message: 'too old' },
      ]),
    );
    assertFailure(r.body.items[0], 400, 'mapper_parsing_exception', /\[_id\] is a metadata field/);
    const e = assertFailure(r.body.items[1], 400, 'mapper_parsing_exception', /failed to parse field \[@timestamp\] of type \[date\]/);
    assert.equal(e.error.caused_by.type, 'illegal_argument_exception');
    assertFailure(r.body.items[2], 400, 'mapper_parsing_exception', /@timestamp/);
    assertSuccess(r.body.items[3], 'index', 'meta-doc', 201, 'created');
    const old = assertFailure(r.body.items[4], 400, 'mapper_parsing_exception', /@timestamp/);
    assert.match(old.error.caused_by.reason, /outside the range/);
    const hits = await storedIn(s.store, 'meta-doc');
    assert.equal(hits.length, 1);
    assert.equal(hits[0].timestamp, 'kept as a field');
  });

  it('reads @timestamp in every form Elasticsearch accepts', async () => {
    const forms: [unknown, string][] = [
      ['2026-11-21T10:00:00.123Z', '2026-11-21T10:00:00.123Z'],
      ['2026-11-21T10:00:00.123456Z', '2026-11-21T10:00:00.123456Z'],
      ['2026-11-21T11:00:00+01:00', '2026-11-21T10:00:00.000Z'],
      ['2026-11-21T05:00:00-0500', '2026-11-21T10:00:00.000Z'],
      ['2026-11-21T10:00:00', '2026-11-21T10:00:00.000Z'],
      ['2026-11-21T10:00', '2026-11-21T10:00:00.000Z'],
      ['2026-11-21T10', '2026-11-21T10:00:00.000Z'],
      ['2026-11-21', '2026-11-21T00:00:00.000Z'],
      ['2026-11', '2026-11-01T00:00:00.000Z'],
      [Date.UTC(2026, 10, 21, 10, 0, 0, 5), '2026-11-21T10:00:00.005Z'],
      [String(Date.UTC(2026, 10, 21, 10, 0, 0, 6)), '2026-11-21T10:00:00.006Z'],
    ];
    const lines: unknown[] = [];
    forms.forEach(([ts], i) => lines.push({ index: { _id: `t${i}` } }, { '@timestamp': ts, n: i }));
    const r = await bulk('/ts-forms/_bulk', ndjson(lines));
    assert.equal(r.body.errors, false, JSON.stringify(r.body.items.filter((x: Item) => itemOf(x).body.error)));
    const hits = await s.store.getByIds(forms.map((_, i) => `t${i}`), 'ts-forms');
    assert.equal(hits.length, forms.length);
    for (const h of hits) {
      const i = Number(h._id.slice(1));
      assert.equal(h['@timestamp'], forms[i][1], `form ${JSON.stringify(forms[i][0])}`);
    }
  });

  it('documents without @timestamp get the arrival time', async () => {
    const before = Date.now();
    await bulk('/no-ts/_bulk', ndjson([{ index: {} }, { message: 'when?' }]));
    const [hit] = await storedIn(s.store, 'no-ts');
    const t = Date.parse(hit['@timestamp']);
    assert.ok(t >= before - 1000 && t <= Date.now() + 1000);
  });

  it('keeps data stream and daily index names in _index; resolves date math', async () => {
    const r = await bulk(
      '/_bulk',
      ndjson([
        { create: { _index: 'logs-nginx.access-default' } },
        { message: 'ds', '@timestamp': '2026-11-21T10:00:00Z', 'data_stream.type': 'logs' },
        { index: { _index: 'logstash-2026.11.21' } },
        { message: 'daily', '@timestamp': '2026-11-21T10:00:00Z' },
        { index: { _index: '<dm-{now/d}>' } },
        { message: 'date math' },
      ]),
    );
    assert.equal(r.body.errors, false, JSON.stringify(r.body));
    assertSuccess(r.body.items[0], 'create', 'logs-nginx.access-default', 201, 'created');
    assertSuccess(r.body.items[1], 'index', 'logstash-2026.11.21', 201, 'created');
    const day = (ms: number): string => `dm-${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '.')}`;
    assert.ok([day(Date.now()), day(Date.now() - 60_000)].includes(itemOf(r.body.items[2]).body._index), JSON.stringify(r.body.items[2]));
    assert.equal((await storedIn(s.store, 'logs-nginx.access-default'))[0].message, 'ds');
    assert.equal((await storedIn(s.store, 'logstash-2026.11.21'))[0].message, 'daily');
    const indices = (await s.store.indices()).map((i) => i.index);
    assert.ok(indices.includes('logs-nginx.access-default') && indices.includes('logstash-2026.11.21'));
  });

  it('refuses invalid index names and a missing index per item', async () => {
    const r = await bulk(
      '/_bulk',
      ndjson([
        { index: { _index: 'UpperCase' } },
        { message: 'x' },
        { index: { _index: '_hidden' } },
        { message: 'x' },
        { index: {} },
        { message: 'no index anywhere' },
        { index: { _index: 'fine-name' } },
        { message: 'x' },
      ]),
    );
    assertFailure(r.body.items[0], 400, 'invalid_index_name_exception', /must be lowercase/);
    assertFailure(r.body.items[1], 400, 'invalid_index_name_exception', /must not start with/);
    assertFailure(r.body.items[2], 400, 'action_request_validation_exception', /index is missing/);
    assertSuccess(r.body.items[3], 'index', 'fine-name', 201, 'created');
  });

  it('create of an existing id is a 409 conflict; index of an existing id replaces it', async () => {
    let r = await bulk('/ids/_bulk', ndjson([{ create: { _id: 'a' } }, { message: 'first a' }, { index: { _id: 'b' } }, { message: 'first b' }]));
    assert.equal(r.body.errors, false);
    assertSuccess(r.body.items[0], 'create', 'ids', 201, 'created');
    assert.equal(itemOf(r.body.items[0]).body._id, 'a');
    r = await bulk(
      '/ids/_bulk',
      ndjson([{ create: { _id: 'a' } }, { message: 'second a' }, { index: { _id: 'b' } }, { message: 'second b' }, { create: { _id: 'c' } }, { message: 'c' }]),
    );
    assert.equal(r.body.errors, true);
    const conflict = assertFailure(r.body.items[0], 409, 'version_conflict_engine_exception', /\[a\]: version conflict, document already exists/);
    assert.equal(conflict._id, 'a');
    assert.equal(conflict.error.index, 'ids');
    const replaced = assertSuccess(r.body.items[1], 'index', 'ids', 200, 'updated');
    assert.ok(replaced._version >= 2);
    assertSuccess(r.body.items[2], 'create', 'ids', 201, 'created');
    const hits = await s.store.getByIds(['a', 'b', 'c'], 'ids');
    assert.deepEqual(hits.map((h) => [h._id, h.message]), [
      ['a', 'first a'],
      ['b', 'second b'],
      ['c', 'c'],
    ]);
    assert.equal(await countIn(s.store, 'ids'), 3);
  });

  it('the same id twice in one request: the later action sees the earlier one', async () => {
    const r = await bulk(
      '/same-req/_bulk',
      ndjson([{ create: { _id: 'x' } }, { message: 'x1' }, { create: { _id: 'x' } }, { message: 'x2' }, { index: { _id: 'x' } }, { message: 'x3' }]),
    );
    assertSuccess(r.body.items[0], 'create', 'same-req', 201, 'created');
    assertFailure(r.body.items[1], 409, 'version_conflict_engine_exception');
    assertSuccess(r.body.items[2], 'index', 'same-req', 200, 'updated');
    const hits = await storedIn(s.store, 'same-req');
    assert.deepEqual(hits.map((h) => h.message), ['x3']);
  });

  it('ids are per index: the same id in two indices are two documents', async () => {
    await bulk('/_bulk', ndjson([{ create: { _index: 'per-a', _id: 'same' } }, { v: 'a' }, { create: { _index: 'per-b', _id: 'same' } }, { v: 'b' }]));
    assert.equal((await s.store.getByIds(['same'], 'per-a'))[0].v, 'a');
    assert.equal((await s.store.getByIds(['same'], 'per-b'))[0].v, 'b');
  });

  it('delete: found → deleted; missing → 404 not_found (not an error)', async () => {
    await bulk('/del/_bulk', ndjson([{ index: { _id: 'd1' } }, { message: 'to delete' }, { index: { _id: 'd2' } }, { message: 'to keep' }]));
    const r = await bulk('/del/_bulk', ndjson([{ delete: { _id: 'd1' } }, { delete: { _id: 'nope' } }, { delete: {} }]));
    assertSuccess(r.body.items[0], 'delete', 'del', 200, 'deleted');
    assertSuccess(r.body.items[1], 'delete', 'del', 404, 'not_found');
    assertFailure(r.body.items[2], 400, 'action_request_validation_exception', /id is missing/);
    assert.deepEqual((await storedIn(s.store, 'del')).map((h) => h._id), ['d2']);
    const only404 = await bulk('/del/_bulk', ndjson([{ delete: { _id: 'still-nope' } }]));
    assert.equal(only404.body.errors, false);
  });

  it('update: doc merges, doc_as_upsert and upsert create, a missing document is document_missing_exception', async () => {
    await bulk('/upd/_bulk', ndjson([{ index: { _id: 'u1' } }, { message: 'orig', '@timestamp': '2026-11-21T10:00:00Z', user: { name: 'ann', id: 1 }, level: 'info' }]));
    const r = await bulk(
      '/upd/_bulk',
      ndjson([
        { update: { _id: 'u1' } },
        { doc: { level: 'warn', user: { id: 2 }, added: true } },
        { update: { _id: 'u2' } },
        { doc: { message: 'no such doc' } },
        { update: { _id: 'u3' } },
        { doc: { message: 'upserted by doc' }, doc_as_upsert: true },
        { update: { _id: 'u4' } },
        { doc: { message: 'not used' }, upsert: { message: 'from upsert' } },
        { update: { _id: 'u1' } },
        { doc: { level: 'warn' } },
        { update: { _id: 'u1', retry_on_conflict: 3 } },
        { script: { source: 'ctx._source.n += 1' } },
      ]),
    );
    assertSuccess(r.body.items[0], 'update', 'upd', 200, 'updated');
    const missing = assertFailure(r.body.items[1], 404, 'document_missing_exception', /\[u2\]: document missing/);
    assert.equal(missing.error.index, 'upd');
    assertSuccess(r.body.items[2], 'update', 'upd', 201, 'created');
    assertSuccess(r.body.items[3], 'update', 'upd', 201, 'created');
    const noop = itemOf(r.body.items[4]).body;
    assert.equal(noop.result, 'noop');
    assert.equal(noop.status, 200);
    assertFailure(r.body.items[5], 400, 'illegal_argument_exception', /script/);
    const hits = await s.store.getByIds(['u1', 'u3', 'u4'], 'upd');
    const u1 = hits.find((h) => h._id === 'u1')!;
    assert.equal(u1.message, 'orig');
    assert.equal(u1.level, 'warn');
    assert.equal(u1['user.name'], 'ann');
    assert.equal(u1['user.id'], 2);
    assert.equal(u1.added, true);
    assert.equal(u1['@timestamp'], '2026-11-21T10:00:00.000Z');
    assert.equal(hits.find((h) => h._id === 'u3')!.message, 'upserted by doc');
    assert.equal(hits.find((h) => h._id === 'u4')!.message, 'from upsert');
    assert.equal(await countIn(s.store, 'upd'), 3);
  });

  it('refuses versioning parameters it cannot honour, naming them (if_seq_no works: seq-no.test.ts)', async () => {
    const r = await bulk('/ver/_bulk', ndjson([{ index: { _id: '1', version: 3 } }, { message: 'x' }, { index: {} }, { message: 'ok' }]));
    assertFailure(r.body.items[0], 400, 'illegal_argument_exception', /\[version\] is not supported/);
    assertSuccess(r.body.items[1], 'index', 'ver', 201, 'created');
  });

  it('accepts a 10 MB document', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const r = await bulk('/big-doc/_bulk', ndjson([{ index: {} }, { message: big }, { index: {} }, { message: 'small one' }]));
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, false);
    const hits = await storedIn(s.store, 'big-doc');
    assert.deepEqual(hits.map((h) => String(h.message).length).sort((a, b) => a - b), [9, big.length]);
  });

  it(
    'accepts a document with 50,000 fields (the store overflows what exceeds its columns)',
    async () => {
    const wide: Record<string, unknown> = { message: 'wide one' };
    for (let i = 0; i < 50_000; i++) wide[`w${i}`] = i % 2 === 0 ? i : `s${i}`;
    const r = await bulk('/wide/_bulk', ndjson([{ index: { _id: 'wide' } }, wide, { index: { _id: 'narrow' } }, { message: 'narrow one' }]));
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, false, JSON.stringify(r.body).slice(0, 500));
    const [hit] = await s.store.getByIds(['wide'], 'wide');
    assert.equal(hit.message, 'wide one');
    for (const i of [0, 1, 999, 1000, 25_001, 49_998, 49_999]) {
      assert.equal(String(hit[`w${i}`]), i % 2 === 0 ? String(i) : `s${i}`, `field w${i}`);
    }
    assert.equal((await s.store.getByIds(['narrow'], 'wide'))[0].message, 'narrow one');
    },
  );

  it('accepts conflicting types for one field', async () => {
    const r = await bulk(
      '/conflicts/_bulk',
      ndjson([
        { index: { _id: '1' } },
        { v: 1 },
        { index: { _id: '2' } },
        { v: 'text' },
        { index: { _id: '3' } },
        { v: true },
        { index: { _id: '4' } },
        { v: 2.5 },
        { index: { _id: '5' } },
        { v: ['a', 'b'] },
        { index: { _id: '6' } },
        { v: { inner: 1 } },
      ]),
    );
    assert.equal(r.body.errors, false, JSON.stringify(r.body));
    const hits = await s.store.getByIds(['1', '2', '3', '4', '5', '6'], 'conflicts');
    assert.equal(hits.length, 6);
    const v = (id: string): unknown => hits.find((h) => h._id === id)!.v;
    assert.equal(String(v('1')), '1');
    assert.equal(String(v('2')), 'text');
    assert.equal(String(v('3')), 'true');
    assert.equal(String(v('4')), '2.5');
    assert.equal(hits.find((h) => h._id === '6')!['v.inner'], 1);
  });

  it('accepts gzip and deflate bodies', async () => {
    const body = ndjson([{ index: {} }, { message: 'zipped' }]);
    let r = await bulk('/gz/_bulk', zlib.gzipSync(body), { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, false);
    r = await bulk('/gz/_bulk', zlib.deflateSync(body), { 'content-encoding': 'deflate', 'content-type': 'application/x-ndjson' });
    assert.equal(r.body.errors, false);
    r = await bulk('/gz/_bulk', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 400);
    esError(r.body);
    assert.equal(await countIn(s.store, 'gz'), 2);
  });

  it('accepts Elasticsearch\'s vendor content types and PUT', async () => {
    const r = await http(s.url, 'PUT', '/vendor/_bulk', ndjson([{ index: {} }, { message: 'vendor' }]), {
      'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, false);
  });

  it('filter_path trims the answer as Logstash asks', async () => {
    const r = await bulk(
      '/fp/_bulk?filter_path=errors,items.*.error,items.*.status',
      ndjson([{ index: {} }, { message: 'ok' }, { index: {} }, '{bad json']),
    );
    assert.equal(r.body.errors, true);
    assert.deepEqual(Object.keys(r.body).sort(), ['errors', 'items']);
    assert.deepEqual(r.body.items[0], { index: { status: 201 } });
    assert.equal(r.body.items[1].index.status, 400);
    assert.equal(r.body.items[1].index.error.type, 'mapper_parsing_exception');
    const pretty = await bulk('/fp/_bulk?pretty', ndjson([{ index: {} }, { message: 'pretty' }]));
    assert.match(pretty.text, /\n {2}"took"/);
    // Only errors asked for, and none: nothing but `errors` is left.
    const quiet = await bulk('/fp/_bulk?filter_path=errors,items.*.error', ndjson([{ index: {} }, { message: 'quiet' }]));
    assert.deepEqual(quiet.body, { errors: false });
    // A filter the answer is not written with (an exclusion) goes through the generic one.
    const excluded = await bulk('/fp/_bulk?filter_path=-took,-items.*._version', ndjson([{ create: {} }, { message: 'excluded' }]));
    assert.deepEqual(Object.keys(excluded.body), ['errors', 'items']);
    assert.deepEqual(Object.keys(excluded.body.items[0].create), ['_index', '_id', 'result', '_seq_no', '_primary_term', 'status']);
    const twice = await bulk('/fp/_bulk?filter_path=errors&filter_path=took', ndjson([{ index: {} }, { message: 'twice' }]));
    assert.equal(twice.status, 400);
    assert.equal(twice.body.error.type, 'illegal_argument_exception');
    assert.match(twice.body.error.reason, /\[filter_path\] more than once/);
  });

  it('never answers 500 for garbage', async () => {
    const bodies: (string | Buffer)[] = [
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a, 0x80, 0x81]),
      '{}\n{}\n',
      'null\n',
      '[]\n[]\n',
      '{"index":null}\n{}\n',
      '{"delete":{"_id":{"a":1}}}\n',
      '{"index":{"_index":5}}\n{}\n',
      '{"index":{"_id":""}}\n{}\n',
      `{"index":{"_id":"${'i'.repeat(600)}"}}\n{}\n`,
      '{"update":{"_id":"1"}}\n{"doc":5}\n',
      '{"update":{"_id":"1"}}\n{"weird":1}\n',
      '\u0000\u0000\n',
      '{"index":{}}\n{"\u0000ctl":"name"}\n',
    ];
    for (const b of bodies) {
      const r = await bulk('/garbage/_bulk', b);
      assert.ok(r.status === 200 || r.status === 400, `status ${r.status} for ${JSON.stringify(b.toString())}: ${r.text.slice(0, 300)}`);
      if (r.status === 200) {
        assert.equal(typeof r.body.errors, 'boolean');
        for (const item of r.body.items) {
          const { body } = itemOf(item);
          assert.ok(body.status < 500, JSON.stringify(item));
        }
      } else esError(r.body);
    }
  });

  it('each created item names the id that finds its document: across chunks, days, failed items and keyed actions', async () => {
    // 2,500 documents (three chunks), alternating between two days, every 400th failing, and a keyed action among them.
    const lines: unknown[] = [];
    const expected: (string | null)[] = [];
    for (let i = 0; i < 2500; i++) {
      if (i === 1500) {
        lines.push({ index: { _id: 'keyed-1' } }, { message: 'keyed', '@timestamp': '2026-11-21T12:00:00Z' });
        expected.push('keyed');
      }
      const day = i % 2 === 0 ? '2026-11-20' : '2026-11-21';
      lines.push({ create: {} }, { message: `doc ${i}`, '@timestamp': i % 400 === 7 ? 'not a time' : `${day}T10:00:00.000Z` });
      expected.push(i % 400 === 7 ? null : `doc ${i}`);
    }
    const r = await bulk('/keyed-ids/_bulk', ndjson(lines));
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, expected.length);
    const ids: string[] = [];
    const wanted = new Map<string, string>();
    r.body.items.forEach((entry: Item, k: number) => {
      const message = expected[k];
      if (message === null) return void assertFailure(entry, 400, 'mapper_parsing_exception', /@timestamp/);
      const { body } = itemOf(entry);
      assert.equal(body.status, 201, JSON.stringify(entry));
      if (message === 'keyed') return assert.equal(body._id, 'keyed-1');
      const i = Number(message.slice(4));
      assert.match(body._id, i % 2 === 0 ? /^20261120-\d+$/ : /^20261121-\d+$/, message);
      ids.push(body._id);
      wanted.set(body._id, message);
    });
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    for (let k = 0; k < ids.length; k += 1000) {
      const hits = await s.store.getByIds(ids.slice(k, k + 1000), 'keyed-ids');
      assert.equal(hits.length, Math.min(1000, ids.length - k));
      for (const h of hits) assert.equal(h.message, wanted.get(h._id), h._id);
    }
  });

  it('stores a document the same whether its body was scanned or parsed as JSON (a body that is not valid UTF-8)', async () => {
    // The scanner takes bodies of valid UTF-8 only: one stray byte anywhere sends every document of its body through JSON.parse.
    const docs: Record<string, unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      docs.push({
        '@timestamp': `2026-11-21T10:${String(i % 60).padStart(2, '0')}:00.${String(i).padStart(3, '0')}Z`,
        message: i % 3 === 0 ? `GET "/a\\b" ${i}\n` : i % 3 === 1 ? `line ${i}` : `ligne ${i}: café ✓ 日本`,
        host: i % 2 === 0 ? { name: `web-${i % 4}`, ip: [`10.0.0.${i % 7}`, 'fe80::1'] } : { name: `web-${i % 4}` },
        log: { offset: i * 100, file: { path: '/var/log/x.log' } },
        duration: i % 5 === 0 ? 1.5 * i : i,
        ok: i % 2 === 0,
        gone: null,
        nested: { deep: { deeper: { value: `v${i}` } } },
        ...(i % 11 === 0 ? { pair: [{ a: 1 }, 'x'] } : {}),
        n: i,
      });
    }
    const send = async (index: string, strayByte: boolean): Promise<void> => {
      const lines: unknown[] = [];
      for (const d of docs) lines.push({ create: {} }, { ...d, copy: index });
      let body = Buffer.from(ndjson(lines));
      // A document whose message holds a byte that is not UTF-8 (stored as U+FFFD).
      if (strayByte) body = Buffer.concat([body, Buffer.from('{"create":{}}\n{"message":"x'), Buffer.from([0xff]), Buffer.from('"}\n')]);
      const r = await bulk(`/${index}/_bulk`, body);
      assert.equal(r.status, 200);
      assert.equal(r.body.errors, false, JSON.stringify(r.body.items.find((x: Item) => itemOf(x).body.error)));
    };
    // Parsed first: the scanned body then finds its fields typed, and its rows are written from their bytes.
    await send('same-parsed', true);
    await send('same-scanned', false);
    const scanned = await storedIn(s.store, 'same-scanned');
    const parsed = (await storedIn(s.store, 'same-parsed')).filter((h) => h.copy === 'same-parsed');
    assert.equal(scanned.length, docs.length);
    assert.equal(parsed.length, docs.length);
    const strip = (h: Record<string, unknown>): Record<string, unknown> => {
      const { _id, _index, _sort, copy, ...rest } = h;
      return rest;
    };
    for (let i = 0; i < docs.length; i++) {
      assert.equal(scanned[i].copy, 'same-scanned');
      assert.deepEqual(strip(scanned[i]), strip(parsed[i]), `document ${i}`);
    }
    const third = scanned.find((h) => h.n === 3) as Record<string, unknown>;
    assert.equal(third.message, docs[3].message);
    assert.equal(third['nested.deep.deeper.value'], 'v3');
    assert.equal(third['log.offset'], 300);
  });

  it('reads bodies one at a time: the events of concurrent bodies reach the store body by body', async () => {
    // A spy that passes every write on to the real store, noting which body each chunk came from.
    const chunks: string[] = [];
    const write = s.store.write.bind(s.store);
    s.store.write = (events, keys) => {
      chunks.push(new Set(events.map((e) => String(e.fields.message).slice(0, 1))).size === 1 ? String(events[0].fields.message).slice(0, 1) : 'mixed');
      return write(events, keys);
    };
    try {
      const body = (letter: string): string =>
        ndjson(Array.from({ length: 6000 }, (_, i) => [{ create: {} }, { message: `${letter}${i}`, '@timestamp': '2026-11-21T10:00:00.000Z' }]).flat());
      const answers = await Promise.all(['a', 'b', 'c'].map((letter) => bulk(`/turns-${letter}/_bulk`, body(letter))));
      for (const r of answers) assert.equal(r.body.errors, false);
      assert.ok(chunks.length >= 3 * 3, `6,000 documents are written in several chunks: ${chunks.join('')}`);
      assert.ok(!chunks.includes('mixed'), chunks.join(''));
      // Each body's chunks are consecutive: read side by side, they alternated (abcabc…).
      const runs = chunks.filter((c, i) => i === 0 || c !== chunks[i - 1]);
      assert.deepEqual([...runs].sort(), ['a', 'b', 'c'], `chunks in order of writing: ${chunks.join('')}`);
      for (const letter of ['a', 'b', 'c']) assert.equal(await countIn(s.store, `turns-${letter}`), 6000);
    } finally {
      s.store.write = write;
    }
  });
});

describe('ES single-document writes', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('POST /{index}/_doc creates with a generated id', async () => {
    const r = await http(s.url, 'POST', '/single/_doc', { message: 'auto id', '@timestamp': '2026-11-21T10:00:00Z' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
    assert.deepEqual(Object.keys(r.body), ['_index', '_id', '_version', 'result', '_shards', '_seq_no', '_primary_term']);
    assert.equal(r.body.result, 'created');
    assert.equal(r.body._index, 'single');
    const [hit] = await s.store.getByIds([r.body._id], 'single');
    assert.equal(hit.message, 'auto id');
  });

  it('PUT /{index}/_doc/{id} creates then replaces; op_type=create conflicts', async () => {
    let r = await http(s.url, 'PUT', '/single/_doc/p1', { message: 'v1' });
    assert.equal(r.status, 201);
    assert.equal(r.body.result, 'created');
    assert.equal(r.body._id, 'p1');
    r = await http(s.url, 'PUT', '/single/_doc/p1?refresh=wait_for&routing=x&pipeline=p', { message: 'v2' });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 'updated');
    r = await http(s.url, 'PUT', '/single/_doc/p1?op_type=create', { message: 'v3' });
    assert.equal(r.status, 409);
    assert.equal(esError(r.body).type, 'version_conflict_engine_exception');
    const hits = await s.store.getByIds(['p1'], 'single');
    assert.deepEqual(hits.map((h) => h.message), ['v2']);
  });

  it('PUT /{index}/_create/{id}: 201, then 409 in Elasticsearch\'s error shape', async () => {
    let r = await http(s.url, 'PUT', '/single/_create/c1', { message: 'created' });
    assert.equal(r.status, 201);
    r = await http(s.url, 'POST', '/single/_create/c1', { message: 'again' });
    assert.equal(r.status, 409);
    const e = esError(r.body);
    assert.equal(e.type, 'version_conflict_engine_exception');
    assert.equal(e.root_cause[0].type, 'version_conflict_engine_exception');
    assert.equal(r.body.status, 409);
  });

  it('POST /{index}/_update/{id}: merge, noop, missing, upsert', async () => {
    await http(s.url, 'PUT', '/single/_doc/up1', { message: 'base', n: 1 });
    let r = await http(s.url, 'POST', '/single/_update/up1', { doc: { n: 2 } });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 'updated');
    r = await http(s.url, 'POST', '/single/_update/up1', { doc: { n: 2 } });
    assert.equal(r.body.result, 'noop');
    r = await http(s.url, 'POST', '/single/_update/missing', { doc: { n: 2 } });
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'document_missing_exception');
    r = await http(s.url, 'POST', '/single/_update/up2', { doc: { n: 9 }, doc_as_upsert: true });
    assert.equal(r.status, 201);
    const hits = await s.store.getByIds(['up1', 'up2'], 'single');
    assert.deepEqual(hits.map((h) => [h._id, h.message ?? null, h.n]), [
      ['up1', 'base', 2],
      ['up2', null, 9],
    ]);
  });

  it('DELETE /{index}/_doc/{id}: 200 deleted, then 404 not_found', async () => {
    await http(s.url, 'PUT', '/single/_doc/gone', { message: 'bye' });
    let r = await http(s.url, 'DELETE', '/single/_doc/gone');
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 'deleted');
    r = await http(s.url, 'DELETE', '/single/_doc/gone');
    assert.equal(r.status, 404);
    assert.equal(r.body.result, 'not_found');
    assert.equal((await s.store.getByIds(['gone'], 'single')).length, 0);
  });

  it('a bad single document is a 400 in Elasticsearch\'s shape', async () => {
    let r = await http(s.url, 'POST', '/single/_doc', '{"message": nope', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(esError(r.body).type, 'mapper_parsing_exception');
    r = await http(s.url, 'POST', '/single/_doc', '', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    esError(r.body);
    r = await http(s.url, 'PUT', '/Bad/_doc/1', { message: 'x' });
    assert.equal(r.status, 400);
    assert.equal(esError(r.body).type, 'invalid_index_name_exception');
    r = await http(s.url, 'POST', '/single/_doc', { '@timestamp': 'not a date' });
    assert.equal(r.status, 400);
    assert.equal(esError(r.body).type, 'mapper_parsing_exception');
  });
});
