/**
 * Templates, data streams and per-index mappings over raw HTTP against a real
 * server: Elasticsearch 8's response shapes and errors for index, component
 * and legacy templates; their mappings on new indices; each index showing only
 * its own fields; `_mapping/field` and `_field_caps` per index set; writes to
 * `logs-*-*` making data streams that take `create` and refuse `index`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countIn, esError, http, ndjson, startEs, type EsTestServer } from './helpers.js';
import { patternsOverlap, templateMappings } from '../../../src/api/es/templates.js';

describe('template pattern overlap and composition', () => {
  it('judges overlapping patterns', () => {
    assert.equal(patternsOverlap('app-*', 'app-web-*'), true);
    assert.equal(patternsOverlap('app-web-*', 'app-*'), true);
    assert.equal(patternsOverlap('*', 'logs-*-*'), true);
    assert.equal(patternsOverlap('logs-x', 'logs-*'), true);
    assert.equal(patternsOverlap('logs-x', 'logs-y'), false);
    assert.equal(patternsOverlap('a*x', 'b*'), false);
    assert.equal(patternsOverlap('a*x', 'a*y'), false);
    assert.equal(patternsOverlap('metrics-*', 'logs-*'), false);
  });

  it('composes components in order, then the template; legacy by order only when no index template matches', () => {
    const t = {
      componentTemplates: new Map([
        ['c1', { template: { mappings: { properties: { a: { type: 'keyword', ignore_above: 10 } } } } }],
        ['c2', { template: { mappings: { properties: { a: { type: 'long' } } } } }],
      ]),
      indexTemplates: new Map([
        ['low', { index_patterns: ['x-*'], priority: 1, composed_of: [], template: { mappings: { properties: { low: { type: 'keyword' } } } } }],
        ['high', { index_patterns: ['x-*'], priority: 9, composed_of: ['c1', 'c2', 'gone'], template: { mappings: { properties: { b: { type: 'ip' } } } } }],
      ]),
      legacyTemplates: new Map([['old', { index_patterns: ['y-*'], order: 0, mappings: { _doc: { properties: { l: { type: 'keyword' } } } } }]]),
    };
    assert.deepEqual(templateMappings(t, 'x-1'), { properties: { a: { type: 'long', ignore_above: 10 }, b: { type: 'ip' } } });
    assert.deepEqual(templateMappings(t, 'y-1'), { properties: { l: { type: 'keyword' } } });
    assert.deepEqual(templateMappings(t, 'z-1'), {});
  });
});

describe('ES templates', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('index templates: a string pattern becomes an array; GET by name, wildcard and all; HEAD; DELETE', async () => {
    const put = await http(s.url, 'PUT', '/_index_template/web', { index_patterns: 'web-*', priority: 5, version: 3, _meta: { owner: 'ops' }, template: { mappings: { properties: { status: { type: 'keyword' } } } } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { acknowledged: true });
    let r = await http(s.url, 'GET', '/_index_template/web');
    assert.equal(r.status, 200);
    assert.equal(r.body.index_templates.length, 1);
    const t = r.body.index_templates[0];
    assert.equal(t.name, 'web');
    assert.deepEqual(t.index_template.index_patterns, ['web-*']);
    assert.deepEqual(t.index_template.composed_of, []);
    assert.equal(t.index_template.priority, 5);
    assert.equal(t.index_template.version, 3);
    assert.deepEqual(t.index_template._meta, { owner: 'ops' });
    r = await http(s.url, 'GET', '/_index_template/we*');
    assert.deepEqual(r.body.index_templates.map((x: { name: string }) => x.name), ['web']);
    r = await http(s.url, 'GET', '/_index_template');
    const names = r.body.index_templates.map((x: { name: string }) => x.name);
    assert.ok(names.includes('web') && names.includes('logs'), names.join());
    const logs = r.body.index_templates.find((x: { name: string }) => x.name === 'logs').index_template;
    assert.deepEqual(logs.index_patterns, ['logs-*-*']);
    assert.ok(logs.data_stream && typeof logs.data_stream === 'object');
    assert.equal((await http(s.url, 'HEAD', '/_index_template/web')).status, 200);
    assert.equal((await http(s.url, 'HEAD', '/_index_template/nope')).status, 404);
    r = await http(s.url, 'GET', '/_index_template/nope');
    assert.equal(r.status, 404);
    const e = esError(r.body);
    assert.equal(e.type, 'resource_not_found_exception');
    assert.equal(e.reason, 'index template matching [nope] not found');
    assert.equal((await http(s.url, 'DELETE', '/_index_template/web')).status, 200);
    assert.equal((await http(s.url, 'GET', '/_index_template/web')).status, 404);
    r = await http(s.url, 'DELETE', '/_index_template/web');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'resource_not_found_exception');
  });

  it('two index templates with the same priority and overlapping patterns: 400 with Elasticsearch\'s wording', async () => {
    assert.equal((await http(s.url, 'PUT', '/_index_template/a1', { index_patterns: ['app-*'] })).status, 200);
    const r = await http(s.url, 'PUT', '/_index_template/a2', { index_patterns: ['app-web-*'] });
    assert.equal(r.status, 400);
    const e = esError(r.body);
    assert.equal(e.type, 'illegal_argument_exception');
    assert.match(e.reason, /^index template \[a2\] has index patterns \[app-web-\*\] matching patterns from existing templates \[a1\] with patterns \(a1 => \[app-\*\]\) that have the same priority \[0\], multiple index templates may not match during index creation, please use a different priority$/);
    assert.equal((await http(s.url, 'HEAD', '/_index_template/a2')).status, 404);
    // A different priority, or patterns that cannot meet, are fine.
    assert.equal((await http(s.url, 'PUT', '/_index_template/a2', { index_patterns: ['app-web-*'], priority: 1 })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/_index_template/a3', { index_patterns: ['other-*'] })).status, 200);
    // Replacing a template is no conflict with itself.
    assert.equal((await http(s.url, 'PUT', '/_index_template/a1', { index_patterns: ['app-*'], version: 2 })).status, 200);
    for (const n of ['a1', 'a2', 'a3']) assert.equal((await http(s.url, 'DELETE', `/_index_template/${n}`)).status, 200);
  });

  it('a template on `*` is accepted and breaks nothing', async () => {
    assert.equal((await http(s.url, 'PUT', '/_index_template/everything', { index_patterns: ['*'], priority: 0, template: { mappings: { properties: { tenant: { type: 'keyword' } } } } })).status, 200);
    const bulk = await http(s.url, 'POST', '/_bulk?refresh=true', ndjson([{ index: { _index: 'star-test' } }, { n: 1 }]));
    assert.equal(bulk.body.errors, false);
    const m = await http(s.url, 'GET', '/star-test/_mapping');
    assert.equal(m.status, 200);
    assert.equal(m.body['star-test'].mappings.properties.tenant.type, 'keyword');
    assert.equal(m.body['star-test'].mappings.properties.n.type, 'long');
    assert.equal((await http(s.url, 'GET', '/_cluster/health')).status, 200);
    assert.equal((await http(s.url, 'DELETE', '/_index_template/everything')).status, 200);
    assert.equal((await http(s.url, 'DELETE', '/star-test')).status, 200);
  });

  it('component templates: shape, missing ones, and a template naming a missing component is refused', async () => {
    const comp = { template: { mappings: { properties: { 'user.name': { type: 'keyword' } } } }, version: 1 };
    assert.equal((await http(s.url, 'PUT', '/_component_template/users', comp)).status, 200);
    let r = await http(s.url, 'GET', '/_component_template/users');
    assert.deepEqual(r.body, { component_templates: [{ name: 'users', component_template: comp }] });
    assert.equal((await http(s.url, 'HEAD', '/_component_template/users')).status, 200);
    r = await http(s.url, 'GET', '/_component_template/nope');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'resource_not_found_exception');
    r = await http(s.url, 'PUT', '/_component_template/bad', { mappings: {} });
    assert.equal(r.status, 400);
    esError(r.body);
    r = await http(s.url, 'PUT', '/_index_template/uses-missing', { index_patterns: ['um-*'], composed_of: ['nope'] });
    assert.equal(r.status, 400);
    assert.equal(esError(r.body).type, 'invalid_index_template_exception');
  });

  it('composed mappings (components in order, then the template) apply to a new index, explicit and by first write', async () => {
    assert.equal((await http(s.url, 'PUT', '/_component_template/c1', { template: { mappings: { properties: { a: { type: 'keyword' }, b: { type: 'keyword' } } } } })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/_component_template/c2', { template: { mappings: { properties: { b: { type: 'ip' } } } } })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/_index_template/comp', { index_patterns: ['comp-*'], priority: 10, composed_of: ['c1', 'c2'], template: { mappings: { properties: { c: { type: 'integer' } } } } })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/comp-one')).status, 200);
    let r = await http(s.url, 'GET', '/comp-one/_mapping');
    const p = r.body['comp-one'].mappings.properties;
    assert.equal(p.a.type, 'keyword');
    assert.equal(p.b.type, 'ip'); // the later component wins
    assert.equal(p.c.type, 'integer');
    // Written to without being created: the template's fields show, with the document's own.
    assert.equal((await http(s.url, 'POST', '/_bulk?refresh=true', ndjson([{ index: { _index: 'comp-two' } }, { extra: 'x' }]))).body.errors, false);
    r = await http(s.url, 'GET', '/comp-two');
    const p2 = r.body['comp-two'].mappings.properties;
    assert.equal(p2.c.type, 'integer');
    assert.equal(p2.extra.type, 'keyword');
    // Adding a field to the index leaves the template as it was.
    assert.equal((await http(s.url, 'PUT', '/comp-one/_mapping', { properties: { added: { type: 'keyword' } } })).status, 200);
    r = await http(s.url, 'GET', '/_index_template/comp');
    assert.deepEqual(Object.keys(r.body.index_templates[0].index_template.template.mappings.properties), ['c']);
    r = await http(s.url, 'GET', '/_component_template/c2');
    assert.deepEqual(Object.keys(r.body.component_templates[0].component_template.template.mappings.properties), ['b']);
    r = await http(s.url, 'GET', '/comp-one/_mapping');
    assert.equal(r.body['comp-one'].mappings.properties.added.type, 'keyword');
  });

  it('legacy templates: ES shape, order merges, missing is 404 with {}', async () => {
    assert.equal((await http(s.url, 'PUT', '/_template/old-low', { index_patterns: 'old-*', order: 0, mappings: { properties: { f: { type: 'keyword' }, g: { type: 'keyword' } } } })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/_template/old-high', { index_patterns: ['old-*'], order: 2, settings: { number_of_shards: 1 }, mappings: { properties: { f: { type: 'long' } } } })).status, 200);
    let r = await http(s.url, 'GET', '/_template/old-low');
    assert.deepEqual(r.body, { 'old-low': { order: 0, index_patterns: ['old-*'], settings: {}, mappings: { properties: { f: { type: 'keyword' }, g: { type: 'keyword' } } }, aliases: {} } });
    r = await http(s.url, 'GET', '/_template/old-*');
    assert.deepEqual(Object.keys(r.body).sort(), ['old-high', 'old-low']);
    r = await http(s.url, 'GET', '/_template/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, {});
    assert.equal((await http(s.url, 'HEAD', '/_template/nope')).status, 404);
    assert.equal((await http(s.url, 'PUT', '/old-idx')).status, 200);
    r = await http(s.url, 'GET', '/old-idx/_mapping');
    assert.equal(r.body['old-idx'].mappings.properties.f.type, 'long'); // higher order wins
    assert.equal(r.body['old-idx'].mappings.properties.g.type, 'keyword');
  });
});

describe('ES per-index mappings, _mapping/field and _field_caps', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
    const r = await http(
      s.url,
      'POST',
      '/_bulk?refresh=true',
      ndjson([
        { index: { _index: 'books' } },
        { title: 'Dune', pages: 412, author: { name: 'Herbert' } },
        { index: { _index: 'books' } },
        { title: 'Emma', pages: 474, author: { name: 'Austen' } },
        { index: { _index: 'weblogs' } },
        { '@timestamp': '2026-11-20T10:00:00Z', message: 'GET /', host: 'web-1', status: 200 },
      ]),
    );
    assert.equal(r.body.errors, false);
  });
  after(async () => {
    await s.close();
  });

  it('an index shows only its own documents\' fields', async () => {
    let r = await http(s.url, 'GET', '/books/_mapping');
    assert.equal(r.status, 200);
    const p = r.body.books.mappings.properties;
    assert.equal(p.title.type, 'keyword');
    assert.equal(p.pages.type, 'long');
    assert.equal(p.author.properties.name.type, 'keyword');
    for (const f of ['message', 'host', 'status']) assert.equal(p[f], undefined, `books has no ${f}`);
    r = await http(s.url, 'GET', '/books');
    assert.equal(r.body.books.mappings.properties.host, undefined);
    assert.equal(r.body.books.mappings.properties.title.type, 'keyword');
    r = await http(s.url, 'GET', '/weblogs/_mapping');
    const w = r.body.weblogs.mappings.properties;
    assert.equal(w.message.type, 'text');
    assert.equal(w.host.type, 'keyword');
    assert.equal(w.title, undefined);
    // A created, empty index has no fields from elsewhere.
    assert.equal((await http(s.url, 'PUT', '/empty-one')).status, 200);
    r = await http(s.url, 'GET', '/empty-one/_mapping');
    assert.deepEqual(r.body['empty-one'].mappings.properties, {});
  });

  it('GET idx/_mapping/field/<f>: names, patterns and comma lists in Elasticsearch\'s shape', async () => {
    let r = await http(s.url, 'GET', '/books/_mapping/field/title');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { books: { mappings: { title: { full_name: 'title', mapping: { title: { type: 'keyword' } } } } } });
    r = await http(s.url, 'GET', '/books/_mapping/field/author.*,pages');
    assert.deepEqual(Object.keys(r.body.books.mappings).sort(), ['author.name', 'pages']);
    assert.deepEqual(r.body.books.mappings['author.name'], { full_name: 'author.name', mapping: { name: { type: 'keyword' } } });
    r = await http(s.url, 'GET', '/books,weblogs/_mapping/field/host');
    assert.deepEqual(r.body.books, { mappings: {} });
    assert.equal(r.body.weblogs.mappings.host.mapping.host.type, 'keyword');
    r = await http(s.url, 'GET', '/nope/_mapping/field/x');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'index_not_found_exception');
  });

  it('_field_caps?fields= with patterns answers for the selected indices only', async () => {
    let r = await http(s.url, 'GET', '/books/_field_caps?fields=t*,host,pag*');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.indices, ['books']);
    assert.deepEqual(Object.keys(r.body.fields).sort(), ['pages', 'title']);
    assert.deepEqual(r.body.fields.pages.long, { type: 'long', metadata_field: false, searchable: true, aggregatable: true });
    r = await http(s.url, 'GET', '/books,weblogs/_field_caps?fields=host,title');
    assert.deepEqual(r.body.indices, ['books', 'weblogs']);
    assert.deepEqual(Object.keys(r.body.fields).sort(), ['host', 'title']);
  });
});

describe('ES data streams through logs-*-*', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('bulk create to logs-app-default makes a data stream; index ops to it are refused as Elasticsearch does', async () => {
    let r = await http(
      s.url,
      'POST',
      '/_bulk?refresh=true',
      ndjson([
        { create: { _index: 'logs-app-default' } },
        { '@timestamp': '2026-11-20T10:00:00Z', message: 'one' },
        { index: { _index: 'logs-app-default' } },
        { '@timestamp': '2026-11-20T10:00:01Z', message: 'refused' },
        { create: { _index: 'logs-app-default' } },
        { '@timestamp': '2026-11-20T10:00:02Z', message: 'two' },
      ]),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, true);
    assert.equal(r.body.items[0].create.status, 201);
    assert.equal(r.body.items[1].index.status, 400);
    assert.equal(r.body.items[1].index.error.type, 'illegal_argument_exception');
    assert.equal(r.body.items[1].index.error.reason, 'only write ops with an op_type of create are allowed in data streams');
    assert.equal(r.body.items[2].create.status, 201);
    assert.equal(await countIn(s.store, 'logs-app-default'), 2);

    r = await http(s.url, 'GET', '/_data_stream/logs-app-default');
    assert.equal(r.status, 200);
    const ds = r.body.data_streams[0];
    assert.equal(ds.name, 'logs-app-default');
    assert.deepEqual(ds.timestamp_field, { name: '@timestamp' });
    assert.match(ds.indices[0].index_name, /^\.ds-logs-app-default-/);
    assert.equal(typeof ds.indices[0].index_uuid, 'string');
    assert.equal(ds.generation, 1);
    assert.equal(ds.status, 'GREEN');
    assert.equal(ds.template, 'logs');
    assert.equal(ds.hidden, false);
    assert.equal(ds.system, false);
    r = await http(s.url, 'GET', '/logs-app-default/_mapping');
    assert.equal(r.body['logs-app-default'].mappings.properties['@timestamp'].type, 'date');
    assert.equal(r.body['logs-app-default'].mappings.properties.message.type, 'text');
    assert.deepEqual(r.body['logs-app-default'].mappings._data_stream_timestamp, { enabled: true });
    assert.equal(r.body['logs-app-default'].mappings.properties.data_stream.properties.dataset.type, 'constant_keyword');

    // A plain index is unaffected by the rule.
    r = await http(s.url, 'POST', '/_bulk', ndjson([{ index: { _index: 'plain' } }, { message: 'ok' }]));
    assert.equal(r.body.errors, false);

    // DELETE removes it.
    assert.equal((await http(s.url, 'DELETE', '/_data_stream/logs-app-default')).status, 200);
    r = await http(s.url, 'GET', '/_data_stream/logs-app-default');
    assert.equal(r.status, 404);
    assert.equal(esError(r.body).type, 'index_not_found_exception');
  });

  it('a user template with data_stream makes matching names data streams', async () => {
    assert.equal((await http(s.url, 'PUT', '/_index_template/events', { index_patterns: ['events-*'], priority: 200, data_stream: {} })).status, 200);
    assert.equal((await http(s.url, 'PUT', '/_data_stream/events-x')).status, 200);
    let r = await http(s.url, 'GET', '/_data_stream/events-*');
    assert.equal(r.body.data_streams[0].template, 'events');
    // No template with data_stream for the name: refused as Elasticsearch does.
    r = await http(s.url, 'PUT', '/_data_stream/plain-stream');
    assert.equal(r.status, 400);
    const e = esError(r.body);
    assert.equal(e.type, 'illegal_argument_exception');
    assert.equal(e.reason, 'no matching index template found for data stream [plain-stream]');
  });
});
