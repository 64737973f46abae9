/**
 * Index administration over raw HTTP against a real server: _settings (stored,
 * echoed, flat, defaults, unknown names, wrong types, static settings),
 * _close/_open (reads and writes refused with index_closed_exception, per bulk
 * item; state kept across a restart), _stats, GET _cat, _cat/aliases,
 * _update_by_query and _delete_by_query (scripts, conflicts, tasks).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countIn, esError, http, ndjson, startEs, storedIn, type EsTestServer } from './helpers.js';

async function seed(s: EsTestServer, index: string, docs: Record<string, unknown>[]): Promise<void> {
  const lines: unknown[] = [];
  docs.forEach((d, i) => lines.push({ index: { _index: index, _id: `d${i + 1}` } }, d));
  const r = await http(s.url, 'POST', '/_bulk', ndjson(lines));
  assert.equal(r.body.errors, false, r.text);
}

describe('ES _settings', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    assert.equal((await http(s.url, 'PUT', '/books', { settings: { number_of_shards: 1, 'index.refresh_interval': '5s' } })).status, 200);
  });
  after(async () => {
    await s.close();
  });

  it('PUT stores nested and dotted settings; GET echoes them as strings, nested or flat', async () => {
    const put = await http(s.url, 'PUT', '/books/_settings', { index: { number_of_replicas: 0, max_result_window: 20000 }, 'index.blocks.write': false });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { acknowledged: true });
    const got = await http(s.url, 'GET', '/books/_settings');
    const index = got.body.books.settings.index;
    assert.equal(index.number_of_shards, '1');
    assert.equal(index.number_of_replicas, '0');
    assert.equal(index.max_result_window, '20000');
    assert.equal(index.refresh_interval, '5s');
    assert.equal(index.blocks.write, 'false');
    assert.equal(index.provided_name, 'books');
    const flat = await http(s.url, 'GET', '/books/_settings?flat_settings=true');
    assert.equal(flat.body.books.settings['index.number_of_replicas'], '0');
    assert.equal(flat.body.books.settings['index.blocks.write'], 'false');
    const one = await http(s.url, 'GET', '/books/_settings/index.number_of_*?flat_settings=true');
    assert.deepEqual(Object.keys(one.body.books.settings).sort(), ['index.number_of_replicas', 'index.number_of_shards']);
    const defaults = await http(s.url, 'GET', '/books/_settings?include_defaults=true');
    assert.equal(defaults.body.books.defaults.index.codec, 'default');
    assert.equal(defaults.body.books.defaults.index.max_result_window, undefined, 'a setting that is set is not a default');
  });

  it('refuses unknown names, wrong types and static settings on an open index, as Elasticsearch', async () => {
    const unknown = await http(s.url, 'PUT', '/books/_settings', { index: { foo: 1 } });
    assert.equal(unknown.status, 400);
    assert.equal(esError(unknown.body).type, 'illegal_argument_exception');
    assert.equal(
      esError(unknown.body).reason,
      'unknown setting [index.foo] please check that any required plugins are installed, or check the breaking changes documentation for removed settings',
    );
    const wrong = await http(s.url, 'PUT', '/books/_settings', { number_of_replicas: 'x' });
    assert.equal(wrong.status, 400);
    assert.equal(esError(wrong.body).type, 'illegal_argument_exception');
    assert.equal(esError(wrong.body).reason, 'Failed to parse value [x] for setting [index.number_of_replicas]');
    const negative = await http(s.url, 'PUT', '/books/_settings', { number_of_replicas: -1 });
    assert.equal(esError(negative.body).reason, 'Failed to parse value [-1] for setting [index.number_of_replicas] must be >= 0');
    const bool = await http(s.url, 'PUT', '/books/_settings', { 'index.hidden': 'maybe' });
    assert.equal(bool.status, 400);
    assert.match(esError(bool.body).reason, /only \[true\] or \[false\] are allowed/);
    const time = await http(s.url, 'PUT', '/books/_settings', { 'index.refresh_interval': 'soon' });
    assert.equal(time.status, 400);
    assert.match(esError(time.body).reason, /as a time value/);
    const shards = await http(s.url, 'PUT', '/books/_settings', { number_of_shards: 2 });
    assert.equal(shards.status, 400);
    assert.match(esError(shards.body).reason, /^Can't update non dynamic settings \[\[index\.number_of_shards\]\] for open indices \[\[books\//);
    // Nothing of the refused requests was stored.
    const got = await http(s.url, 'GET', '/books/_settings?flat_settings=true');
    assert.equal(got.body.books.settings['index.number_of_replicas'], '0');
    assert.equal(got.body.books.settings['index.foo'], undefined);
    const missing = await http(s.url, 'PUT', '/nope/_settings', { number_of_replicas: 0 });
    assert.equal(missing.status, 404);
    assert.equal(esError(missing.body).type, 'index_not_found_exception');
  });
});

describe('ES _close and _open', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    await seed(s, 'shut', [{ message: 'a' }, { message: 'b' }]);
    await seed(s, 'other', [{ message: 'c' }]);
  });
  after(async () => {
    await s.close();
  });

  it('a closed index refuses reads and writes with index_closed_exception; wildcards skip it; _open restores it', async () => {
    const close = await http(s.url, 'POST', '/shut/_close');
    assert.equal(close.status, 200, close.text);
    assert.deepEqual(close.body, { acknowledged: true, shards_acknowledged: true, indices: { shut: { closed: true } } });
    for (const [method, path, body] of [
      ['POST', '/shut/_search', { query: { match_all: {} } }],
      ['POST', '/shut/_count', {}],
      ['GET', '/shut/_doc/d1', undefined],
      ['POST', '/shut/_mget', { ids: ['d1'] }],
      ['PUT', '/shut/_doc/x', { message: 'x' }],
      ['POST', '/shut/_update_by_query', { script: "ctx._source.a = 1" }],
    ] as const) {
      const r = await http(s.url, method, path, body as Record<string, unknown> | undefined);
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      assert.equal(esError(r.body).type, 'index_closed_exception', path);
      assert.equal(esError(r.body).reason, 'closed');
      assert.equal(r.body.error.index, 'shut');
    }
    // A bulk fails only the items for the closed index.
    const bulk = await http(s.url, 'POST', '/_bulk', ndjson([{ index: { _index: 'shut' } }, { message: 'no' }, { index: { _index: 'other' } }, { message: 'yes' }]));
    assert.equal(bulk.body.errors, true);
    assert.equal(bulk.body.items[0].index.status, 400);
    assert.equal(bulk.body.items[0].index.error.type, 'index_closed_exception');
    assert.equal(bulk.body.items[1].index.status, 201);
    assert.equal(await countIn(s.store, 'shut'), 2);
    // A wildcard search leaves the closed index out.
    const all = await http(s.url, 'POST', '/*/_search', { query: { match_all: {} } });
    assert.equal(all.status, 200, all.text);
    assert.ok(all.body.hits.hits.every((h: { _index: string }) => h._index !== 'shut'));
    assert.equal(all.body.hits.total.value, 2);
    const bare = await http(s.url, 'POST', '/_search', { query: { match_all: {} } });
    assert.equal(bare.body.hits.total.value, 2, 'a search of every index leaves the closed one out');
    const cat = await http(s.url, 'GET', '/_cat/indices/shut?format=json&h=index,status');
    assert.deepEqual(cat.body, [{ index: 'shut', status: 'close' }]);
    // Static settings can be changed on a closed index.
    assert.equal((await http(s.url, 'PUT', '/shut/_settings', { 'index.codec': 'best_compression' })).status, 200);

    const open = await http(s.url, 'POST', '/shut/_open');
    assert.deepEqual(open.body, { acknowledged: true, shards_acknowledged: true });
    const found = await http(s.url, 'POST', '/shut/_count', {});
    assert.equal(found.status, 200);
    assert.equal(found.body.count, 2);
  });

  it('closing a missing index is index_not_found_exception', async () => {
    const r = await http(s.url, 'POST', '/ghost/_close');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'index_not_found_exception');
  });
  it('the closed state survives a restart', async () => {
    assert.equal((await http(s.url, 'POST', '/other/_close')).status, 200);
    await s.stop();
    const again = await startEs({}, s.dir);
    try {
      const r = await http(again.url, 'POST', '/other/_search', {});
      assert.equal(esError(r.body).type, 'index_closed_exception');
      assert.equal((await http(again.url, 'POST', '/other/_open')).status, 200);
      assert.equal((await http(again.url, 'POST', '/other/_search', {})).status, 200);
    } finally {
      await again.stop();
    }
  });
});

describe('ES _stats and _cat', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    await seed(s, 'alpha', [{ message: 'a' }, { message: 'b' }, { message: 'c' }]);
    await seed(s, 'beta', [{ message: 'd' }]);
    assert.equal((await http(s.url, 'POST', '/_aliases', { actions: [{ add: { index: 'alpha', alias: 'letters', is_write_index: true } }, { add: { index: 'beta', alias: 'letters' } }] })).status, 200);
  });
  after(async () => {
    await s.close();
  });

  it('_stats counts one shard per index, documents and a store size per index', async () => {
    const r = await http(s.url, 'GET', '/_stats');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body._shards, { total: 2, successful: 2, failed: 0 });
    assert.equal(r.body._all.primaries.docs.count, 4);
    assert.equal(r.body.indices.alpha.primaries.docs.count, 3);
    assert.equal(r.body.indices.beta.total.docs.count, 1);
    assert.equal(r.body.indices.alpha.primaries.docs.deleted, 0);
    assert.ok(r.body.indices.alpha.primaries.store.size_in_bytes >= r.body.indices.beta.primaries.store.size_in_bytes);
    const one = await http(s.url, 'GET', '/beta/_stats');
    assert.deepEqual(one.body._shards, { total: 1, successful: 1, failed: 0 });
    assert.deepEqual(Object.keys(one.body.indices), ['beta']);
  });

  it('GET _cat lists the cat endpoints; _cat/aliases answers text and json', async () => {
    const cat = await http(s.url, 'GET', '/_cat');
    assert.equal(cat.status, 200);
    assert.match(cat.text, /^=\^\.\^=\n/);
    assert.match(cat.text, /^\/_cat\/aliases$/m);
    assert.match(cat.text, /^\/_cat\/indices$/m);
    const text = await http(s.url, 'GET', '/_cat/aliases?v');
    const lines = text.text.trim().split('\n');
    assert.match(lines[0], /^alias\s+index\s+filter\s+routing\.index\s+routing\.search\s+is_write_index$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1], /^letters\s+alpha\s+-\s+-\s+-\s+true$/);
    const json = await http(s.url, 'GET', '/_cat/aliases/let*?format=json&h=alias,index,is_write_index');
    assert.deepEqual(json.body, [
      { alias: 'letters', index: 'alpha', is_write_index: 'true' },
      { alias: 'letters', index: 'beta', is_write_index: '-' },
    ]);
    const none = await http(s.url, 'GET', '/_cat/aliases/zzz?format=json');
    assert.deepEqual(none.body, []);
  });
});

describe('ES _update_by_query and _delete_by_query', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    await seed(s, 'items', [
      { '@timestamp': '2026-01-01T00:00:00Z', kind: 'a', n: 1, tmp: 'x' },
      { '@timestamp': '2026-01-02T00:00:00Z', kind: 'a', n: 2, tmp: 'y' },
      { '@timestamp': '2026-01-03T00:00:00Z', kind: 'b', n: 3 },
    ]);
  });
  after(async () => {
    await s.close();
  });

  it('sets fields from literals and params, removes fields, and keeps _id and timestamp', async () => {
    const r = await http(s.url, 'POST', '/items/_update_by_query', {
      query: { term: { kind: 'a' } },
      script: { source: "ctx._source.status = 'done'; ctx._source.rank = params.lvl; ctx._source.remove('tmp')", params: { lvl: 7 } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.total, 2);
    assert.equal(r.body.updated, 2);
    assert.equal(r.body.batches, 1);
    assert.equal(r.body.version_conflicts, 0);
    assert.equal(r.body.noops, 0);
    assert.deepEqual(r.body.failures, []);
    const doc = await http(s.url, 'GET', '/items/_doc/d1');
    assert.equal(doc.body.found, true);
    assert.equal(doc.body._source.status, 'done');
    assert.equal(doc.body._source.rank, 7);
    assert.equal(doc.body._source.tmp, undefined);
    assert.equal(doc.body._source.n, 1);
    const stored = await storedIn(s.store, 'items');
    const d1 = stored.find((h) => h._id === 'd1');
    assert.equal(d1?.['@timestamp'], '2026-01-01T00:00:00.000Z');
    const untouched = await http(s.url, 'GET', '/items/_doc/d3');
    assert.equal(untouched.body._source.status, undefined);
    assert.equal(await countIn(s.store, 'items'), 3);
    // The same script again changes nothing: noops.
    const again = await http(s.url, 'POST', '/items/_update_by_query', { query: { term: { kind: 'a' } }, script: "ctx._source.status = 'done'" });
    assert.equal(again.body.noops, 2);
    assert.equal(again.body.updated, 0);
  });

  it('refuses scripts it cannot run, naming the statement, and bad conflicts values', async () => {
    const bad = await http(s.url, 'POST', '/items/_update_by_query', { script: "ctx._source.n += 1" });
    assert.equal(bad.status, 400);
    assert.equal(esError(bad.body).type, 'illegal_argument_exception');
    assert.match(esError(bad.body).reason, /unsupported script statement \[ctx\._source\.n \+= 1\]/);
    const loop = await http(s.url, 'POST', '/items/_update_by_query', { script: { source: "ctx._source.a = 1; for (x in y) {}" } });
    assert.match(esError(loop.body).reason, /\[for \(x in y\) \{\}\]/);
    const param = await http(s.url, 'POST', '/items/_update_by_query', { script: { source: 'ctx._source.a = params.missing', params: {} } });
    assert.equal(param.status, 400);
    assert.match(esError(param.body).reason, /params\.missing/);
    const conflicts = await http(s.url, 'POST', '/items/_update_by_query?conflicts=maybe', {});
    assert.equal(conflicts.status, 400);
    assert.match(esError(conflicts.body).reason, /conflicts may only be "proceed" or "abort"/);
    assert.equal((await http(s.url, 'POST', '/items/_update_by_query?conflicts=proceed', { query: { term: { kind: 'zzz' } } })).body.total, 0);
    const missing = await http(s.url, 'POST', '/nope/_update_by_query', {});
    assert.equal(esError(missing.body).type, 'index_not_found_exception');
  });

  it('wait_for_completion=false answers a task id whose status and result _tasks gives', async () => {
    const r = await http(s.url, 'POST', '/items/_delete_by_query?wait_for_completion=false&conflicts=proceed', { query: { term: { kind: 'b' } } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.task, /^[^:]+:\d+$/);
    let task: any;
    for (let i = 0; i < 200; i++) {
      task = (await http(s.url, 'GET', `/_tasks/${r.body.task}`)).body;
      if (task.completed) break;
      await new Promise((done) => setTimeout(done, 20));
    }
    assert.equal(task.completed, true);
    assert.equal(task.task.action, 'indices:data/write/delete/byquery');
    assert.equal(task.response.deleted, 1);
    assert.equal(task.response.total, 1);
    assert.equal(await countIn(s.store, 'items'), 2);
    const unknown = await http(s.url, 'GET', '/_tasks/abc:999');
    assert.equal(unknown.status, 404);
    assert.equal(esError(unknown.body).type, 'resource_not_found_exception');
  });

  it('_delete_by_query needs a query and deletes in batches', async () => {
    const noQuery = await http(s.url, 'POST', '/items/_delete_by_query', {});
    assert.equal(noQuery.status, 400);
    const docs = Array.from({ length: 2500 }, (_, i) => ({ message: `m${i}` }));
    const lines: unknown[] = [];
    for (const d of docs) lines.push({ index: { _index: 'many' } }, d);
    assert.equal((await http(s.url, 'POST', '/_bulk', ndjson(lines))).body.errors, false);
    const r = await http(s.url, 'POST', '/many/_delete_by_query', { query: { match_all: {} } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.deleted, 2500);
    assert.equal(r.body.batches, 3);
    assert.equal(await countIn(s.store, 'many'), 0);
    assert.equal(await countIn(s.store, 'items'), 2);
  });
});
