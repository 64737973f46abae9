/**
 * Application loggers shipping to the Elasticsearch-compatible API:
 * `pino-elasticsearch` and `winston-elasticsearch`, as an application would
 * set them up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import pinoElasticModule from 'pino-elasticsearch';
import winston from 'winston';
import { ElasticsearchTransport } from 'winston-elasticsearch';
import { sleep } from '../../helpers/server.js';
import { countIn, startEs, storedIn, type EsTestServer } from './helpers.js';

// The package's types declare an ES default export; at run time the CommonJS module itself is the function.
const pinoElastic = pinoElasticModule as unknown as (typeof pinoElasticModule)['default'];

/** Waits until `index` holds `n` events (shippers send in the background). */
async function waitForCount(s: EsTestServer, index: string, n: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const have = await countIn(s.store, index);
    if (have >= n) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${have} of ${n} events arrived in ${index}`);
    await sleep(100);
  }
}

/** The one index whose name starts with `prefix` (daily index names depend on the day). */
async function indexStartingWith(s: EsTestServer, prefix: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const names = (await s.store.indices()).map((i) => i.index).filter((n) => n.startsWith(prefix));
    if (names.length === 1) return names[0];
    if (names.length > 1) throw new Error(`several indices start with ${prefix}: ${names.join(', ')}`);
    if (Date.now() > deadline) throw new Error(`no index starting with ${prefix} appeared`);
    await sleep(100);
  }
}

describe('pino-elasticsearch', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('ships an application\'s logs: msg, level, time and bound fields', async () => {
    const stream = pinoElastic({ index: 'pino-app', node: s.url, esVersion: 8, flushBytes: 200, flushInterval: 100 });
    const problems: unknown[] = [];
    stream.on('insertError', (e) => problems.push(e));
    stream.on('error', (e) => problems.push(e));
    stream.on('unknown', (line, e) => problems.push({ line, e }));
    const logger = pino({ level: 'debug', base: { service: 'checkout' } }, stream);
    const child = logger.child({ requestId: 'r-42' });
    logger.info('application started');
    child.warn({ cart: { items: 3, total: 59.9 } }, 'slow checkout');
    child.error(new Error('payment declined'), 'payment failed');
    logger.debug({ attempt: 2 }, 'retrying');
    await waitForCount(s, 'pino-app', 4, 'pino');
    // The stream's bulk helper finishes (last flush, then a refresh) after end: 'insert' says it is done.
    stream.end();
    assert.deepEqual(problems, []);

    const hits = await storedIn(s.store, 'pino-app');
    const byMsg = new Map(hits.map((h) => [h.msg, h]));
    assert.deepEqual([...byMsg.keys()].sort(), ['application started', 'payment failed', 'retrying', 'slow checkout']);
    const slow = byMsg.get('slow checkout')!;
    assert.equal(String(slow.level), '40');
    assert.equal(slow.service, 'checkout');
    assert.equal(slow.requestId, 'r-42');
    assert.equal(slow['cart.items'], 3);
    assert.equal(slow['cart.total'], 59.9);
    const failed = byMsg.get('payment failed')!;
    assert.equal(String(failed.level), '50');
    assert.equal(failed['err.message'], 'payment declined');
    assert.match(String(failed['err.stack']), /Error: payment declined/);
    assert.equal(String(byMsg.get('application started')!.level), '30');
    assert.equal(String(byMsg.get('retrying')!.level), '20');
    // pino's `time` became the event time.
    for (const h of hits) {
      const t = Date.parse(h['@timestamp']);
      assert.ok(Math.abs(t - Date.now()) < 10 * 60_000, `time ${h['@timestamp']}`);
    }
  });

  it('ships with op_type create into a data stream', async () => {
    const stream = pinoElastic({ index: 'logs-pino-default', node: s.url, esVersion: 8, opType: 'create', flushBytes: 100, flushInterval: 100 });
    const problems: unknown[] = [];
    stream.on('insertError', (e) => problems.push(e));
    const logger = pino({}, stream);
    logger.info({ user: 'ann' }, 'to a data stream');
    await waitForCount(s, 'logs-pino-default', 1, 'pino data stream');
    const done = once(stream, 'insert');
    stream.end();
    await done;
    assert.deepEqual(problems, []);
    const [hit] = await storedIn(s.store, 'logs-pino-default');
    assert.equal(hit.msg, 'to a data stream');
    assert.equal(hit.user, 'ann');
  });
});

describe('winston-elasticsearch', () => {
  let s: EsTestServer;
  before(async () => {
    s = await startEs();
  });
  after(async () => {
    await s.close();
  });

  it('ships an application\'s logs to a daily index: message, severity and meta fields', async () => {
    const errors: unknown[] = [];
    const transport = new ElasticsearchTransport({
      level: 'debug',
      indexPrefix: 'winston-app',
      flushInterval: 100,
      clientOpts: { node: s.url },
      retryLimit: 1,
    });
    transport.on('error', (e) => errors.push(e));
    const logger = winston.createLogger({ level: 'debug', transports: [transport] });
    logger.info('server listening', { port: 8080 });
    logger.warn('disk almost full', { disk: { free_pct: 3.5, mount: '/var' } });
    logger.error('request failed', { status: 502, path: '/api/cart' });
    logger.debug('cache miss', { key: 'user:1' });
    const index = await indexStartingWith(s, 'winston-app-');
    assert.match(index, /^winston-app-\d{4}\.\d{2}\.\d{2}$/);
    await waitForCount(s, index, 4, 'winston');
    await transport.flush();
    assert.deepEqual(errors, []);
    const hits = await storedIn(s.store, index);
    const byMsg = new Map(hits.map((h) => [h.message, h]));
    assert.deepEqual([...byMsg.keys()].sort(), ['cache miss', 'disk almost full', 'request failed', 'server listening']);
    assert.equal(byMsg.get('server listening')!.severity, 'info');
    assert.equal(byMsg.get('server listening')!['fields.port'], 8080);
    assert.equal(byMsg.get('disk almost full')!.severity, 'warn');
    assert.equal(byMsg.get('disk almost full')!['fields.disk.free_pct'], 3.5);
    assert.equal(byMsg.get('disk almost full')!['fields.disk.mount'], '/var');
    assert.equal(byMsg.get('request failed')!.severity, 'error');
    assert.equal(byMsg.get('request failed')!['fields.status'], 502);
    assert.equal(byMsg.get('cache miss')!.severity, 'debug');
    logger.close();
  });

  it('ships to a data stream (create actions)', async () => {
    const transport = new ElasticsearchTransport({ dataStream: true, index: 'logs-winston-default', flushInterval: 100, clientOpts: { node: s.url } });
    const errors: unknown[] = [];
    transport.on('error', (e) => errors.push(e));
    const logger = winston.createLogger({ transports: [transport] });
    logger.info('into the stream', { user: 'bob' });
    await waitForCount(s, 'logs-winston-default', 1, 'winston data stream');
    await transport.flush();
    assert.deepEqual(errors, []);
    const [hit] = await storedIn(s.store, 'logs-winston-default');
    assert.equal(hit.message, 'into the stream');
    assert.equal(hit.severity, 'info');
    assert.equal(hit['fields.user'], 'bob');
    logger.close();
  });
});
