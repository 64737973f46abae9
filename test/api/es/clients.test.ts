/**
 * Clients nobody here wrote, against the Elasticsearch-compatible API: the
 * official `@elastic/elasticsearch` client (current major) and
 * `@opensearch-project/opensearch`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, errors } from '@elastic/elasticsearch';
import { Client as OpenSearchClient, type Types } from '@opensearch-project/opensearch';
import { countIn, http, startEs, storedIn, type EsTestServer } from './helpers.js';

const SPAN = { start: 0, end: 0 };

/** Whether the server has a route for this (the search half of the API may not be there yet). */
async function hasRoute(base: string, method: string, path: string): Promise<boolean> {
  const r = await http(base, method, path);
  return !(r.status === 400 && /no handler found/.test(r.text));
}

describe('official @elastic/elasticsearch client', () => {
  let s: EsTestServer;
  let client: Client;
  before(async () => {
    s = await startEs();
    client = new Client({ node: s.url, compression: true });
  });
  after(async () => {
    await client.close();
    await s.close();
  });

  it('info() passes the product check and reads the version', async () => {
    const info = await client.info();
    assert.equal(info.version.number, '8.17.0');
    assert.equal(info.tagline, 'You Know, for Search');
    assert.equal(typeof info.cluster_uuid, 'string');
  });

  it('helpers.bulk stores 100,000 documents with their fields', async () => {
    const N = 100_000;
    const services = ['api', 'web', 'db', 'cache'];
    const base = Date.UTC(2026, 10, 21, 10, 0, 0);
    async function* docs(): AsyncGenerator<Record<string, unknown>> {
      for (let i = 0; i < N; i++) {
        yield {
          '@timestamp': new Date(base + i * 10).toISOString(),
          message: `request ${i} handled`,
          seq: i,
          service: { name: services[i % 4] },
          status: i % 10 === 0 ? 500 : 200,
          duration_ms: (i % 1000) / 10,
          tags: i % 2 === 0 ? ['even'] : ['odd'],
        };
      }
    }
    const dropped: unknown[] = [];
    const sample = new Set([0, 1, 4242, 77_777, N - 1]);
    const answered = new Map<number, string | null | undefined>();
    const result = await client.helpers.bulk({
      datasource: docs(),
      onDocument: () => ({ index: { _index: 'bulk-100k' } }),
      onDrop: (d) => dropped.push(d),
      onSuccess: ({ result, document }) => {
        const seq = (document as { seq: number }).seq;
        if (sample.has(seq)) answered.set(seq, result.index?._id);
      },
    });
    assert.deepEqual(dropped, []);
    assert.equal(result.total, N);
    assert.equal(result.successful, N);
    assert.equal(result.failed, 0);

    assert.equal(await countIn(s.store, 'bulk-100k'), N);
    const filter = { kind: 'term' as const, field: '_index', value: 'bulk-100k', span: SPAN };
    const byService = await s.store.group({ filter, keys: [{ kind: 'terms', field: 'service.name' }], metrics: [{ fn: 'count' }] });
    assert.deepEqual(
      byService.map((r) => [r.keys[0], r.metrics[0]]).sort(),
      services.map((name) => [name, N / 4]).sort(),
    );
    const errorsCount = await s.store.group({
      filter: { kind: 'and', children: [filter, { kind: 'term', field: 'status', value: '500', span: SPAN }] },
      keys: [],
      metrics: [{ fn: 'count' }, { fn: 'min', field: 'seq' }, { fn: 'max', field: 'seq' }],
    });
    assert.deepEqual(errorsCount[0].metrics, [N / 10, 0, N - 10]);
    // Every field of a sample of documents, exactly.
    for (const i of [0, 1, 4242, 77_777, N - 1]) {
      const found = await s.store.find({ filter: { kind: 'and', children: [filter, { kind: 'term', field: 'seq', value: String(i), span: SPAN }] }, limit: 10 });
      assert.equal(found.hits.length, 1, `seq ${i}`);
      const h = found.hits[0];
      assert.equal(h['@timestamp'], new Date(base + i * 10).toISOString());
      assert.equal(h.message, `request ${i} handled`);
      assert.equal(h['service.name'], services[i % 4]);
      assert.equal(h.status, i % 10 === 0 ? 500 : 200);
      assert.equal(h.duration_ms, (i % 1000) / 10);
      assert.deepEqual(h.tags, i % 2 === 0 ? ['even'] : ['odd']);
      assert.equal(h._index, 'bulk-100k');
      // The id the bulk answer gave this document finds it.
      assert.equal(h._id, answered.get(i));
      const got = await client.get<{ seq: number }>({ index: 'bulk-100k', id: h._id });
      assert.equal(got._source?.seq, i);
    }
  });

  it('index with an id, get it back, replace it; create conflicts', async () => {
    const r = await client.index({ index: 'client-docs', id: 'doc-1', document: { message: 'first version', user: { name: 'ann' } } });
    assert.equal(r.result, 'created');
    assert.equal(r._id, 'doc-1');
    const again = await client.index({ index: 'client-docs', id: 'doc-1', document: { message: 'second version', user: { name: 'ann' } }, refresh: 'wait_for' });
    assert.equal(again.result, 'updated');
    await assert.rejects(client.create({ index: 'client-docs', id: 'doc-1', document: { message: 'x' } }), (err: unknown) => {
      assert.ok(err instanceof errors.ResponseError);
      assert.equal(err.statusCode, 409);
      assert.equal((err.body as any).error.type, 'version_conflict_engine_exception');
      return true;
    });
    const upd = await client.update({ index: 'client-docs', id: 'doc-1', doc: { level: 'warn' } });
    assert.equal(upd.result, 'updated');
    if (await hasRoute(s.url, 'GET', '/client-docs/_doc/doc-1')) {
      const got = await client.get<{ message: string; user: { name: string }; level: string }>({ index: 'client-docs', id: 'doc-1' });
      assert.equal(got.found, true);
      assert.equal(got._source?.message, 'second version');
      assert.equal(got._source?.level, 'warn');
    } else {
      // GET /{index}/_doc/{id} belongs to the search half of the API; until it is there, read the store.
      const [hit] = await s.store.getByIds(['doc-1'], 'client-docs');
      assert.equal(hit.message, 'second version');
      assert.equal(hit['user.name'], 'ann');
      assert.equal(hit.level, 'warn');
    }
    const del = await client.delete({ index: 'client-docs', id: 'doc-1' });
    assert.equal(del.result, 'deleted');
    assert.equal((await s.store.getByIds(['doc-1'], 'client-docs')).length, 0);
  });

  it('cluster.health, index templates, ILM, indices.exists/create/delete', async () => {
    const health = await client.cluster.health({ wait_for_status: 'yellow' });
    assert.equal(health.status, 'green');
    await client.indices.putIndexTemplate({
      name: 'client-template',
      index_patterns: ['client-*'],
      priority: 200,
      template: { mappings: { properties: { message: { type: 'text' } } } },
    });
    assert.equal(await client.indices.existsIndexTemplate({ name: 'client-template' }), true);
    const t = await client.indices.getIndexTemplate({ name: 'client-template' });
    assert.equal(t.index_templates[0].name, 'client-template');
    assert.deepEqual(t.index_templates[0].index_template.index_patterns, ['client-*']);
    await client.ilm.putLifecycle({ name: 'client-policy', policy: { phases: { hot: { actions: {} } } } });
    const pol = await client.ilm.getLifecycle({ name: 'client-policy' });
    assert.ok(pol['client-policy']);

    assert.equal(await client.indices.exists({ index: 'client-created' }), false);
    await client.indices.create({ index: 'client-created', mappings: { properties: { user: { type: 'keyword' } } } });
    assert.equal(await client.indices.exists({ index: 'client-created' }), true);
    const mapping = await client.indices.getMapping({ index: 'client-created' });
    assert.equal((mapping['client-created'].mappings.properties as any).user.type, 'keyword');

    await client.helpers.bulk({ datasource: [{ message: 'a' }, { message: 'b' }], onDocument: () => ({ create: { _index: 'client-deleted' } }) });
    assert.equal(await countIn(s.store, 'client-deleted'), 2);
    const cat = await client.cat.indices({ index: 'client-*', format: 'json' });
    assert.ok(cat.some((row) => row.index === 'client-deleted' && row['docs.count'] === '2'));
    const deleted = await client.indices.delete({ index: 'client-deleted' });
    assert.equal(deleted.acknowledged, true);
    assert.equal(await countIn(s.store, 'client-deleted'), 0);
    assert.equal(await client.indices.exists({ index: 'client-deleted' }), false);
    await assert.rejects(client.indices.delete({ index: 'client-never' }), (err: unknown) => {
      assert.ok(err instanceof errors.ResponseError);
      assert.equal(err.statusCode, 404);
      assert.equal((err.body as any).error.type, 'index_not_found_exception');
      return true;
    });
  });

  it('helpers.scrollDocuments, openPointInTime, search with pit, closePointInTime', async () => {
    await client.helpers.bulk({
      datasource: Array.from({ length: 33 }, (_, i) => ({ '@timestamp': new Date(Date.UTC(2026, 10, 21) + i * 1000).toISOString(), n: i })),
      onDocument: () => ({ index: { _index: 'client-scroll' } }),
      refreshOnCompletion: true,
    });
    const ns: number[] = [];
    // scrolls with scroll/clearScroll under the hood
    for await (const doc of client.helpers.scrollDocuments<{ n: number }>({ index: 'client-scroll', size: 5, sort: [{ n: 'asc' }] })) ns.push(doc.n);
    assert.deepEqual(ns, Array.from({ length: 33 }, (_, i) => i));

    const pit = await client.openPointInTime({ index: 'client-scroll', keep_alive: '1m' });
    await client.index({ index: 'client-scroll', document: { '@timestamp': new Date(Date.UTC(2026, 10, 21) + 1500).toISOString(), n: 999 }, refresh: true });
    const page = await client.search<{ n: number }>({ pit: { id: pit.id, keep_alive: '1m' }, size: 100, sort: [{ n: 'asc' }] });
    assert.equal(page.pit_id, pit.id);
    assert.deepEqual(
      page.hits.hits.map((h) => h._source?.n),
      Array.from({ length: 33 }, (_, i) => i),
    );
    const closed = await client.closePointInTime({ id: pit.id });
    assert.equal(closed.succeeded, true);
    assert.equal(closed.num_freed, 1);
  });
});

describe('@opensearch-project/opensearch client', () => {
  let s: EsTestServer;
  let client: OpenSearchClient;
  before(async () => {
    s = await startEs();
    client = new OpenSearchClient({ node: s.url });
  });
  after(async () => {
    await client.close();
    await s.close();
  });

  it('info, bulk and delete index', async () => {
    const info = await client.info();
    assert.equal(info.statusCode, 200);
    assert.equal(info.body.version.number, '8.17.0');

    const body: Record<string, unknown>[] = [];
    for (let i = 0; i < 500; i++) {
      body.push({ index: { _index: 'os-logs' } }, { '@timestamp': new Date(Date.UTC(2026, 10, 21) + i).toISOString(), message: `os ${i}`, n: i });
    }
    const r = await client.bulk({ body });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body.errors, false);
    assert.equal(r.body.items.length, 500);
    assert.equal(r.body.items[0].index?.status, 201);

    const helper = await client.helpers.bulk({
      datasource: Array.from({ length: 1000 }, (_, i) => ({ message: `helper ${i}`, n: i })),
      onDocument: () => ({ index: { _index: 'os-logs' } }),
    });
    assert.equal(helper.successful, 1000);
    assert.equal(await countIn(s.store, 'os-logs'), 1500);
    const hits = await storedIn(s.store, 'os-logs', 1);
    assert.equal(hits[0].message, 'os 0');

    const exists = await client.indices.exists({ index: 'os-logs' });
    assert.equal(exists.body, true);
    const del = await client.indices.delete({ index: 'os-logs' });
    assert.equal(del.body.acknowledged, true);
    assert.equal(await countIn(s.store, 'os-logs'), 0);
    assert.equal((await client.indices.exists({ index: 'os-logs' })).body, false);
  });

  it('scroll, clearScroll, createPit, search with pit and search_after, deletePit', async () => {
    const body: Record<string, unknown>[] = [];
    for (let i = 0; i < 45; i++) body.push({ index: { _index: 'os-scroll' } }, { '@timestamp': new Date(Date.UTC(2026, 10, 21) + i * 1000).toISOString(), n: i });
    assert.equal((await client.bulk({ body, refresh: true })).body.errors, false);

    const first = await client.search({ index: 'os-scroll', scroll: '1m', size: 10, body: { sort: [{ n: 'asc' }] } });
    const ns: number[] = first.body.hits.hits.map((h: any) => h._source.n);
    let scrollId = first.body._scroll_id as string;
    for (;;) {
      const page = await client.scroll({ scroll_id: scrollId, scroll: '1m' });
      if (page.body.hits.hits.length === 0) break;
      ns.push(...page.body.hits.hits.map((h: any) => h._source.n));
      scrollId = page.body._scroll_id as string;
    }
    assert.deepEqual(ns, Array.from({ length: 45 }, (_, i) => i));
    const cleared = await client.clearScroll({ body: { scroll_id: [scrollId] } });
    assert.equal(cleared.body.succeeded, true);
    assert.equal(cleared.body.num_freed, 1);

    const pit = await client.createPit({ index: ['os-scroll'], keep_alive: '1m' });
    const pitId = pit.body.pit_id as string;
    assert.equal(typeof pitId, 'string');
    // written after the PIT: not in it
    await client.index({ index: 'os-scroll', body: { '@timestamp': new Date(Date.UTC(2026, 10, 21) + 500).toISOString(), n: 1000 }, refresh: true });
    const seen: number[] = [];
    let after: Types.Common.SortResults | undefined;
    for (let round = 0; round < 10; round++) {
      const page = await client.search({
        body: { size: 20, pit: { id: pitId, keep_alive: '1m' }, sort: [{ '@timestamp': { order: 'desc' } }, { _shard_doc: { order: 'desc' } }], ...(after ? { search_after: after } : {}) },
      });
      const hits = page.body.hits.hits;
      if (hits.length === 0) break;
      seen.push(...hits.map((h: any) => h._source.n));
      after = hits[hits.length - 1].sort;
    }
    assert.deepEqual(seen, Array.from({ length: 45 }, (_, i) => 44 - i));
    const deleted = await client.deletePit({ body: { pit_id: [pitId] } });
    assert.deepEqual(deleted.body.pits, [{ pit_id: pitId, successful: true }]);
  });
});
