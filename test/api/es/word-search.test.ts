/**
 * Every string field searched by word, as Elasticsearch's text fields are: application loggers that
 * put their text under names other than `message` (pino's `msg`; winston-elasticsearch's `message` with
 * its meta under `fields.*`) ship through their real npm transports, and each line is found by a word of
 * its text, bare and by field, over the native API and `_search`, and by its whole value under `.keyword`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import pinoElasticModule from 'pino-elasticsearch';
import winston from 'winston';
import { ElasticsearchTransport } from 'winston-elasticsearch';
import { waitFor } from '../../helpers/inputs.js';
import { apiGet, startTestServer, type TestServer } from '../../helpers/server.js';
import { http } from './helpers.js';

const pinoElastic = pinoElasticModule as unknown as (typeof pinoElasticModule)['default'];

describe('a word of any string field is found, as in Elasticsearch', () => {
  let s: TestServer;
  let es: string;
  before(async () => {
    s = await startTestServer({ es: '127.0.0.1:0' });
    es = s.esUrl as string;
  });
  after(async () => {
    await s.close();
  });

  /** Native search: the ids of the hits. */
  const native = async (q: string): Promise<number> => {
    const r = await apiGet(s.url, '/api/v1/search', { q, from: 'now-1d', to: 'now+1h', limit: 1000 });
    assert.equal(r.status, 200, `native q=${q}: ${JSON.stringify(r.body)}`);
    return r.body.total as number;
  };
  const count = async (index: string, body: Record<string, unknown> | string): Promise<number> => {
    const r =
      typeof body === 'string'
        ? await http(es, 'GET', `/${index}/_count?q=${encodeURIComponent(body)}`)
        : await http(es, 'POST', `/${index}/_count`, { query: body });
    assert.equal(r.status, 200, `_count ${JSON.stringify(body)}: ${r.text}`);
    return r.body.count as number;
  };

  it("pino-elasticsearch's msg", async () => {
    const stream = pinoElastic({ index: 'words-pino', node: es, esVersion: 8, flushBytes: 100, flushInterval: 100 });
    const problems: unknown[] = [];
    stream.on('insertError', (e) => problems.push(e));
    const logger = pino({ base: { service: 'checkout-api' } }, stream);
    logger.info({ order: 'ord-7781' }, 'payment gateway zqpino timeout after 30s');
    logger.info('cart updated by zqpino-user');
    logger.warn('an unrelated line');
    await waitFor('the 3 pino lines', async () => (await count('words-pino', { match_all: {} })) === 3, 60_000, 100);
    stream.end();
    assert.deepEqual(problems, []);

    // A bare word, and msg:word, natively and through `q=` and `match`.
    assert.equal(await native('zqpino'), 2, 'a bare word finds both lines that hold it as a word');
    assert.equal(await native('msg:timeout'), 1);
    assert.equal(await native('msg:"gateway zqpino timeout"'), 1, 'a phrase of the field');
    assert.equal(await native('msg:"timeout gateway"'), 0, 'the words in their order');
    assert.equal(await count('words-pino', 'zqpino'), 2);
    assert.equal(await count('words-pino', 'msg:gateway'), 1);
    assert.equal(await count('words-pino', { match: { msg: 'gateway' } }), 1);
    assert.equal(await count('words-pino', { match: { msg: { query: 'gateway nothing', operator: 'and' } } }), 0);
    assert.equal(await count('words-pino', { match_phrase: { msg: 'cart updated' } }), 1);
    // Other string fields too: the service name's words, the order id as a token.
    assert.equal(await count('words-pino', 'service:checkout'), 3);
    assert.equal(await count('words-pino', 'ord-7781'), 1);
    // .keyword is the whole value, case-sensitively.
    assert.equal(await count('words-pino', { term: { 'msg.keyword': 'cart updated by zqpino-user' } }), 1);
    assert.equal(await count('words-pino', { term: { 'msg.keyword': 'cart updated' } }), 0);
    assert.equal(await count('words-pino', { term: { 'service.keyword': 'Checkout-API' } }), 0);
    assert.equal(await native('service.keyword:checkout-api'), 3);
  });

  it("winston-elasticsearch's message and its fields.*", async () => {
    const errors: unknown[] = [];
    const transport = new ElasticsearchTransport({ level: 'info', index: 'words-winston', flushInterval: 100, clientOpts: { node: es }, retryLimit: 1 });
    transport.on('error', (e) => errors.push(e));
    const logger = winston.createLogger({ level: 'info', transports: [transport] });
    logger.info('disk zqwin almost full', { mount: '/var/lib/docker' });
    logger.info('another line');
    await waitFor('the 2 winston lines', async () => (await count('words-winston', { match_all: {} })) === 2, 60_000, 100);
    await transport.flush();
    assert.deepEqual(errors, []);
    assert.equal(await native('zqwin'), 1);
    assert.equal(await count('words-winston', 'zqwin'), 1);
    assert.equal(await count('words-winston', { match: { message: 'almost' } }), 1);
    // A word of a meta field's path, bare and by field.
    assert.equal(await count('words-winston', 'docker'), 1);
    assert.equal(await count('words-winston', 'fields.mount:docker'), 1);
    assert.equal(await count('words-winston', { term: { 'fields.mount.keyword': '/var/lib/docker' } }), 1);
    logger.close();
  });
});
