/**
 * The Elasticsearch-compatible API's handshake and administration over raw
 * HTTP: version body and product header, cluster health, license, xpack,
 * nodes, templates/policies/pipelines (stored, surviving a restart), index
 * create/exists/get/delete with patterns, mappings, field caps, _cat, data
 * streams, refresh, auth and body limits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countIn, esError, http, ndjson, startEs, type EsTestServer } from './helpers.js';

describe('ES handshake', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('GET / answers an 8.x version body with the product header; HEAD / is 200', async () => {
    const r = await http(s.url, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
    assert.match(String(r.headers.get('content-type')), /application\/json/);
    assert.equal(r.body.tagline, 'You Know, for Search');
    assert.equal(typeof r.body.name, 'string');
    assert.equal(typeof r.body.cluster_name, 'string');
    assert.match(r.body.cluster_uuid, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(r.body.version.number, '8.17.0');
    assert.equal(r.body.version.build_flavor, 'default');
    assert.equal(typeof r.body.version.lucene_version, 'string');
    assert.equal(typeof r.body.version.minimum_wire_compatibility_version, 'string');
    assert.equal(typeof r.body.version.minimum_index_compatibility_version, 'string');
    const head = await http(s.url, 'HEAD', '/');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-elastic-product'), 'Elasticsearch');
  });

  it('cluster health, license, xpack and nodes answer what shippers check', async () => {
    const h = await http(s.url, 'GET', '/_cluster/health?wait_for_status=yellow&timeout=50s');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'green');
    assert.equal(h.body.timed_out, false);
    assert.equal(h.body.number_of_nodes, 1);
    assert.equal((await http(s.url, 'GET', '/_cluster/health/some-index')).body.status, 'green');
    const lic = await http(s.url, 'GET', '/_license?human=false');
    assert.equal(lic.body.license.status, 'active');
    assert.equal(lic.body.license.type, 'basic');
    const x = await http(s.url, 'GET', '/_xpack');
    assert.deepEqual(x.body.features.ilm, { available: true, enabled: true });
    assert.equal(x.body.license.status, 'active');
    for (const path of ['/_nodes', '/_nodes/http', '/_nodes/_local', '/_nodes/_all/http']) {
      const n = await http(s.url, 'GET', path);
      assert.equal(n.status, 200, path);
      const nodes = Object.values(n.body.nodes) as any[];
      assert.equal(nodes.length, 1);
      assert.equal(nodes[0].version, '8.17.0');
      assert.equal(nodes[0].http.publish_address, new URL(s.url).host, path);
    }
  });

  it('unknown endpoints are 400 in Elasticsearch\'s shape, with the header, never a 500', async () => {
    for (const [method, path] of [
      ['GET', '/_no_such_api'],
      ['POST', '/idx/_no_such_thing'],
      ['GET', '/a/b/c/d/e'],
    ]) {
      const r = await http(s.url, method, path);
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
      const e = esError(r.body);
      assert.equal(e.type, 'illegal_argument_exception');
      assert.match(e.reason, /no handler found for uri/);
    }
  });
});

describe('ES templates, policies and pipelines', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('stores, returns, lists and deletes each kind, and keeps them across a restart', async () => {
    const indexTemplate = { index_patterns: ['app-*'], priority: 100, template: { settings: { number_of_shards: 1 } }, data_stream: {} };
    const component = { template: { mappings: { properties: { host: { type: 'keyword' } } } } };
    const legacy = { index_patterns: ['old-*'], order: 1, settings: {} };
    const policy = { policy: { phases: { hot: { actions: { rollover: { max_age: '1d' } } } } } };
    const pipeline = { description: 'parse', processors: [{ set: { field: 'x', value: 1 } }] };
    assert.equal((await http(s.url, 'PUT', '/_index_template/app', indexTemplate)).body.acknowledged, true);
    assert.equal((await http(s.url, 'PUT', '/_component_template/comp', component)).body.acknowledged, true);
    assert.equal((await http(s.url, 'PUT', '/_template/legacy', legacy)).body.acknowledged, true);
    assert.equal((await http(s.url, 'PUT', '/_ilm/policy/pol', policy)).body.acknowledged, true);
    assert.equal((await http(s.url, 'PUT', '/_ingest/pipeline/pipe', pipeline)).body.acknowledged, true);

    const check = async (): Promise<void> => {
      let r = await http(s.url, 'GET', '/_index_template/app');
      assert.deepEqual(r.body, { index_templates: [{ name: 'app', index_template: { ...indexTemplate, composed_of: [] } }] });
      r = await http(s.url, 'GET', '/_index_template/ap*');
      assert.equal(r.body.index_templates.length, 1);
      assert.equal((await http(s.url, 'HEAD', '/_index_template/app')).status, 200);
      r = await http(s.url, 'GET', '/_component_template/comp');
      assert.deepEqual(r.body, { component_templates: [{ name: 'comp', component_template: component }] });
      r = await http(s.url, 'GET', '/_template/legacy');
      assert.deepEqual(r.body.legacy.index_patterns, ['old-*']);
      assert.equal((await http(s.url, 'HEAD', '/_template/legacy')).status, 200);
      r = await http(s.url, 'GET', '/_ilm/policy/pol');
      assert.deepEqual(r.body.pol.policy, policy.policy);
      assert.equal(r.body.pol.version, 1);
      r = await http(s.url, 'GET', '/_ingest/pipeline/pipe');
      assert.deepEqual(r.body, { pipe: pipeline });
    };
    await check();

    // Restart on the same data directory.
    await s.stop();
    s = await startEs({}, s.dir);
    await check();

    // Missing ones: 404 in the shapes Elasticsearch uses.
    let r = await http(s.url, 'GET', '/_index_template/nope');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'resource_not_found_exception');
    assert.equal((await http(s.url, 'HEAD', '/_index_template/nope')).status, 404);
    r = await http(s.url, 'GET', '/_ilm/policy/nope');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'resource_not_found_exception');
    r = await http(s.url, 'GET', '/_template/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, {});
    r = await http(s.url, 'GET', '/_ingest/pipeline/nope');
    assert.equal(r.status, 404);

    // Delete.
    assert.equal((await http(s.url, 'DELETE', '/_index_template/app')).body.acknowledged, true);
    assert.equal((await http(s.url, 'GET', '/_index_template/app')).status, 404);
    assert.equal((await http(s.url, 'DELETE', '/_ilm/policy/pol')).body.acknowledged, true);
    assert.equal((await http(s.url, 'DELETE', '/_ilm/policy/pol')).status, 404);
    assert.equal((await http(s.url, 'DELETE', '/_ingest/pipeline/pipe')).body.acknowledged, true);
    assert.deepEqual((await http(s.url, 'GET', '/_index_template')).body.index_templates.map((t: { name: string }) => t.name), ['logs']); // the built-in one

    // A bad body is a parse error, not a 500.
    r = await http(s.url, 'PUT', '/_index_template/bad', '{nope', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    esError(r.body);
    r = await http(s.url, 'PUT', '/_ilm/policy/bad', { not_policy: 1 });
    assert.equal(r.status, 400);
    esError(r.body);
  });
});

describe('ES indices', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    const docs: unknown[] = [];
    for (const [index, n] of [
      ['web-2026.11.20', 3],
      ['web-2026.11.21', 2],
      ['db', 4],
    ] as const) {
      for (let i = 0; i < n; i++) {
        docs.push(
          { index: { _index: index } },
          { message: `${index} ${i}`, '@timestamp': '2026-11-21T10:00:00Z', status: 200 + i, duration: 0.5 + i, ok: i % 2 === 0, when: '2026-11-21T09:00:00Z', http: { method: 'GET' } },
        );
      }
    }
    const r = await http(s.url, 'POST', '/_bulk', ndjson(docs));
    assert.equal(r.body.errors, false);
  });
  after(async () => {
    await s.close();
  });

  it('HEAD /{index}: 200 for indices with events, patterns and created ones; 404 otherwise', async () => {
    assert.equal((await http(s.url, 'HEAD', '/db')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/web-*')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/db,web-2026.11.20')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/nothing-here')).status, 404);
    assert.equal((await http(s.url, 'HEAD', '/nothing-*')).status, 404);
    const created = await http(s.url, 'PUT', '/fresh', { settings: { number_of_shards: 1 }, mappings: { properties: { user: { type: 'keyword' } } }, aliases: { 'fresh-alias': {} } });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body, { acknowledged: true, shards_acknowledged: true, index: 'fresh' });
    assert.equal((await http(s.url, 'HEAD', '/fresh')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/fresh-alias')).status, 200);
    const again = await http(s.url, 'PUT', '/fresh');
    assert.equal(again.status, 400);
    assert.equal(esError(again.body).type, 'resource_already_exists_exception');
    const bad = await http(s.url, 'PUT', '/BadName');
    assert.equal(bad.status, 400);
    assert.equal(esError(bad.body).type, 'invalid_index_name_exception');
  });

  it('GET /{index} answers settings and mappings; a missing index is index_not_found_exception', async () => {
    let r = await http(s.url, 'GET', '/fresh');
    assert.equal(r.status, 200);
    assert.equal(r.body.fresh.settings.index.number_of_shards, '1');
    assert.equal(r.body.fresh.settings.index.provided_name, 'fresh');
    assert.equal(r.body.fresh.mappings.properties.user.type, 'keyword');
    assert.deepEqual(r.body.fresh.aliases, { 'fresh-alias': {} });
    r = await http(s.url, 'GET', '/web-*');
    assert.deepEqual(Object.keys(r.body).sort(), ['web-2026.11.20', 'web-2026.11.21']);
    r = await http(s.url, 'GET', '/missing-index');
    assert.equal(r.status, 404);
    const e = esError(r.body);
    assert.equal(e.type, 'index_not_found_exception');
    assert.equal(e.reason, 'no such index [missing-index]');
    assert.equal((e as any).index, 'missing-index');
    assert.equal(r.body.status, 404);
  });

  it('_mapping maps stored types to Elasticsearch types', async () => {
    const r = await http(s.url, 'GET', '/db/_mapping');
    assert.equal(r.status, 200);
    const p = r.body.db.mappings.properties;
    assert.equal(p['@timestamp'].type, 'date');
    assert.equal(p.message.type, 'text');
    assert.equal(p.status.type, 'long');
    assert.equal(p.duration.type, 'double');
    assert.equal(p.ok.type, 'boolean');
    assert.equal(p.when.type, 'date');
    assert.equal(p.http.properties.method.type, 'keyword');
    const all = await http(s.url, 'GET', '/_mapping');
    assert.ok(['db', 'web-2026.11.20', 'web-2026.11.21', 'fresh'].every((i) => i in all.body));
    assert.equal((await http(s.url, 'GET', '/nope/_mapping')).status, 404);
  });

  it('_field_caps lists fields with types, for patterns too', async () => {
    let r = await http(s.url, 'GET', '/_field_caps?fields=*');
    assert.equal(r.status, 200);
    assert.ok(r.body.indices.includes('db'));
    assert.deepEqual(r.body.fields.status.long, { type: 'long', metadata_field: false, searchable: true, aggregatable: true });
    assert.equal(r.body.fields.message.text.aggregatable, false);
    assert.equal(r.body.fields['http.method'].keyword.type, 'keyword');
    assert.equal(r.body.fields._id._id.metadata_field, true);
    r = await http(s.url, 'GET', '/web-*/_field_caps?fields=stat*,ok');
    assert.deepEqual(r.body.indices, ['web-2026.11.20', 'web-2026.11.21']);
    assert.deepEqual(Object.keys(r.body.fields).sort(), ['ok', 'status']);
    r = await http(s.url, 'POST', '/db/_field_caps', { fields: ['duration'] });
    assert.deepEqual(Object.keys(r.body.fields), ['duration']);
    r = await http(s.url, 'GET', '/_field_caps');
    assert.equal(r.status, 400);
    esError(r.body);
  });

  it('_cat/indices, _cat/count and _cat/health: text with v, and format=json', async () => {
    let r = await http(s.url, 'GET', '/_cat/indices?v');
    assert.equal(r.status, 200);
    assert.match(String(r.headers.get('content-type')), /text\/plain/);
    const lines = r.text.trim().split('\n');
    assert.match(lines[0], /^health\s+status\s+index\s+uuid\s+pri\s+rep\s+docs\.count/);
    const dbLine = lines.find((l) => /\sdb\s/.test(l))!;
    assert.ok(dbLine, r.text);
    assert.equal(dbLine.split(/\s+/)[6], '4');
    r = await http(s.url, 'GET', '/_cat/indices');
    assert.doesNotMatch(r.text, /^health/);
    r = await http(s.url, 'GET', '/_cat/indices/web-*?format=json&s=index:desc');
    assert.deepEqual(r.body.map((x: any) => [x.index, x['docs.count']]), [
      ['web-2026.11.21', '2'],
      ['web-2026.11.20', '3'],
    ]);
    r = await http(s.url, 'GET', '/_cat/indices?h=index,docs.count&format=json&s=index');
    assert.deepEqual(Object.keys(r.body[0]), ['index', 'docs.count']);
    r = await http(s.url, 'GET', '/_cat/count/web-*?format=json');
    assert.equal(r.body[0].count, '5');
    r = await http(s.url, 'GET', '/_cat/count?v');
    assert.match(r.text, /^epoch\s+timestamp\s+count\n\d+\s+\d\d:\d\d:\d\d\s+9\n$/);
    r = await http(s.url, 'GET', '/_cat/health?v');
    assert.match(r.text, /^epoch\s+timestamp\s+cluster\s+status/);
    assert.match(r.text.split('\n')[1], /\bgreen\b/);
    r = await http(s.url, 'GET', '/_cat/health?format=json');
    assert.equal(r.body[0].status, 'green');
    r = await http(s.url, 'GET', '/_cat/indices?h=nope');
    assert.equal(r.status, 400);
    esError(r.body);
  });

  it('_refresh is a no-op that succeeds', async () => {
    for (const [method, path] of [
      ['POST', '/_refresh'],
      ['POST', '/db/_refresh'],
      ['GET', '/web-*/_refresh'],
    ]) {
      const r = await http(s.url, method, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.body._shards.failed, 0);
    }
  });

  it('data streams: PUT creates, GET lists (also those with only events)', async () => {
    await http(s.url, 'POST', '/_bulk', ndjson([{ create: { _index: 'logs-app-default' } }, { message: 'ds event' }]));
    assert.equal((await http(s.url, 'PUT', '/_data_stream/logs-empty-default')).body.acknowledged, true);
    let r = await http(s.url, 'GET', '/_data_stream/logs-*');
    assert.deepEqual(r.body.data_streams.map((d: any) => d.name).sort(), ['logs-app-default', 'logs-empty-default']);
    assert.equal(r.body.data_streams[0].timestamp_field.name, '@timestamp');
    r = await http(s.url, 'GET', '/_data_stream/logs-empty-default');
    assert.equal(r.body.data_streams.length, 1);
    r = await http(s.url, 'GET', '/_data_stream/logs-none-default');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'index_not_found_exception');
    assert.equal((await http(s.url, 'HEAD', '/logs-empty-default')).status, 200);
  });

  it('DELETE /{index}: deletes that index\'s events, for names and patterns; missing names are 404', async () => {
    assert.equal(await countIn(s.store, 'web-2026.11.20'), 3);
    let r = await http(s.url, 'DELETE', '/web-*');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { acknowledged: true });
    assert.equal(await countIn(s.store, 'web-2026.11.20'), 0);
    assert.equal(await countIn(s.store, 'web-2026.11.21'), 0);
    assert.equal(await countIn(s.store, 'db'), 4);
    assert.equal((await http(s.url, 'HEAD', '/web-2026.11.20')).status, 404);
    r = await http(s.url, 'DELETE', '/fresh');
    assert.equal(r.body.acknowledged, true);
    assert.equal((await http(s.url, 'HEAD', '/fresh')).status, 404);
    r = await http(s.url, 'DELETE', '/never-was');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'index_not_found_exception');
    r = await http(s.url, 'DELETE', '/never-*');
    assert.equal(r.status, 200);
    r = await http(s.url, 'DELETE', '/db');
    assert.equal(r.status, 200);
    assert.equal(await countIn(s.store, 'db'), 0);
  });
});

describe('ES auth and limits', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs({ token: 's3cret-token', maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await s.close();
  });

  it('without credentials: 401 security_exception in Elasticsearch\'s shape', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['POST', '/_bulk'],
      ['GET', '/_cat/indices'],
    ]) {
      const r = await http(s.url, method, path, method === 'POST' ? ndjson([{ index: { _index: 'x' } }, { m: 1 }]) : undefined);
      assert.equal(r.status, 401, path);
      assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
      assert.match(String(r.headers.get('www-authenticate')), /Basic/);
      const e = esError(r.body);
      assert.equal(e.type, 'security_exception');
      assert.match(e.reason, /missing authentication credentials/);
      assert.equal(r.body.status, 401);
    }
    const wrong = await http(s.url, 'GET', '/', undefined, { authorization: `Basic ${Buffer.from('elastic:wrong').toString('base64')}` });
    assert.equal(wrong.status, 401);
    assert.equal(esError(wrong.body).type, 'security_exception');
    assert.equal((await http(s.url, 'HEAD', '/')).status, 401);
  });

  it('accepts Basic with any user and the token as password, Bearer and ApiKey', async () => {
    const basic = `Basic ${Buffer.from('elastic:s3cret-token').toString('base64')}`;
    const r = await http(s.url, 'GET', '/', undefined, { authorization: basic });
    assert.equal(r.status, 200);
    assert.equal(r.body.version.number, '8.17.0');
    assert.equal((await http(s.url, 'GET', '/', undefined, { authorization: 'Bearer s3cret-token' })).status, 200);
    assert.equal((await http(s.url, 'GET', '/', undefined, { authorization: 'ApiKey s3cret-token' })).status, 200);
    const pair = Buffer.from('some-id:s3cret-token').toString('base64');
    assert.equal((await http(s.url, 'GET', '/', undefined, { authorization: `ApiKey ${pair}` })).status, 200);
    const b = await http(s.url, 'POST', '/authed/_bulk', ndjson([{ index: {} }, { message: 'with auth' }]), { authorization: basic });
    assert.equal(b.status, 200);
    assert.equal(b.body.errors, false);
  });

  it('a body over the limit is 413 in Elasticsearch\'s shape, also when it only grows past it once inflated', async () => {
    const auth = { authorization: 'Bearer s3cret-token' };
    const big = ndjson([{ index: { _index: 'big' } }, { message: 'x'.repeat(100 * 1024) }]);
    let r = await http(s.url, 'POST', '/_bulk', big, auth);
    assert.equal(r.status, 413);
    assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
    esError(r.body);
    const { gzipSync } = await import('node:zlib');
    r = await http(s.url, 'POST', '/_bulk', gzipSync(big), { ...auth, 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' });
    assert.equal(r.status, 413);
    esError(r.body);
  });
});

describe('ES aliases and Logstash-style ILM bootstrap', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('a date-math index created with a write alias takes writes to the alias, and searches through it', async () => {
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '.');
    const created = await http(s.url, 'PUT', `/${encodeURIComponent('<logstash-{now/d}-000001>')}`, { aliases: { logstash: { is_write_index: true } } });
    assert.equal(created.status, 200, created.text);
    const concrete = created.body.index as string;
    assert.ok([`logstash-${day(Date.now())}-000001`, `logstash-${day(Date.now() - 60_000)}-000001`].includes(concrete), concrete);
    assert.equal((await http(s.url, 'HEAD', '/_alias/logstash')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/_alias/nope')).status, 404);
    const aliases = await http(s.url, 'GET', '/_alias/logstash');
    assert.deepEqual(aliases.body, { [concrete]: { aliases: { logstash: { is_write_index: true } } } });

    const r = await http(s.url, 'POST', '/logstash/_bulk', ndjson([{ index: {} }, { message: 'via alias' }, { create: { _index: 'logstash' } }, { message: 'via alias 2' }]));
    assert.equal(r.body.errors, false);
    assert.equal(r.body.items[0].index._index, concrete);
    assert.equal(await countIn(s.store, concrete), 2);

    const found = await http(s.url, 'POST', '/logstash/_search', { query: { match_all: {} } });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.hits.total.value, 2);
    assert.equal(found.body.hits.hits[0]._index, concrete);

    const stats = await http(s.url, 'GET', '/logstash-*/_stats');
    assert.equal(stats.body._all.primaries.docs.count, 2);
    assert.equal(stats.body.indices[concrete].primaries.docs.count, 2);
    assert.equal((await http(s.url, 'POST', '/_aliases', { actions: [{ remove: { index: concrete, alias: 'logstash' } }] })).body.acknowledged, true);
    assert.equal((await http(s.url, 'HEAD', '/_alias/logstash')).status, 404);
  });
});

describe('ES view of events stored through the native API', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('they appear as the index `logmill` and are never deleted through this API', async () => {
    await s.store.write([
      { ts: Date.now() * 1000, fields: { message: 'native one' } },
      { ts: Date.now() * 1000, fields: { message: 'native two' } },
    ]);
    await http(s.url, 'POST', '/_bulk', ndjson([{ index: { _index: 'es-side' } }, { message: 'es one' }]));
    const cat = await http(s.url, 'GET', '/_cat/indices?format=json&s=index');
    assert.deepEqual(cat.body.map((r: any) => [r.index, r['docs.count']]), [
      ['es-side', '1'],
      ['logmill', '2'],
    ]);
    assert.equal((await http(s.url, 'HEAD', '/logmill')).status, 200);
    assert.equal((await http(s.url, 'GET', '/_cat/count?format=json')).body[0].count, '3');
    const del = await http(s.url, 'DELETE', '/*');
    assert.equal(del.status, 200);
    assert.equal(await countIn(s.store, 'es-side'), 0);
    const left = await s.store.group({ filter: { kind: 'all' }, keys: [], metrics: [{ fn: 'count' }] });
    assert.equal(left[0].metrics[0], 2);
  });
});
