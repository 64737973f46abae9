/**
 * Queries made to defeat the index (issue 22): a phrase of hundreds of common words, leading
 * wildcards, regex-like values, thousands of ORed terms. Each runs within the query timeout or
 * is refused with a clear error; none takes the server down, and ingest goes on meanwhile. A
 * query past `--query-timeout` is stopped with an error that names the limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiGet, ingestOk, removeDir, search, startTestServer, type TestServer } from '../helpers/server.js';

const COMMON = ['GET', 'HTTP', 'the', 'from', 'port', 'for', 'password', 'user', '200', '1'];

describe('hostile queries', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ queryTimeout: '2s' });
    const now = Date.now();
    for (let batch = 0; batch < 5; batch++) {
      await ingestOk(
        s.url,
        Array.from({ length: 4000 }, (_, i) => ({
          '@timestamp': new Date(now - 60_000 + batch * 4000 + i).toISOString(),
          message: `${i % 250}.${i % 7}.1.${batch} - - "GET /api/v1/orders/${i} HTTP/1.1" 200 ${i} user ${i % 13} from port ${1000 + i} for the password`,
          request_id: `r${batch}-${i}`,
          host: `web-${i % 5}`,
        })),
      );
    }
  });
  after(async () => {
    await s.close();
    removeDir(s.dir);
  });

  const hostile: [string, string][] = [
    ['a phrase of 500 common words', `"${Array.from({ length: 500 }, (_, i) => COMMON[i % COMMON.length]).join(' ')}"`],
    ['a leading wildcard on the message', 'message:*rder*'],
    ['a leading wildcard on another field', 'request_id:*1-1*'],
    ['a regex-like value', '"(a+)+$ .* [^x]{1000} \\\\d+"'],
    // About 8 KB of query: Node refuses request lines past 16 KB (431) before Logmill sees them.
    ['1,000 ORed terms', Array.from({ length: 1000 }, (_, i) => `r${i % 5}-${i}`).join(' OR ')],
    ['800 ORed bare addresses', Array.from({ length: 800 }, (_, i) => `${i % 250}.${i % 7}.1.${i % 5}`).join(' OR ')],
    ['10,000 ORed terms', Array.from({ length: 10_000 }, (_, i) => `r${i % 5}-${i}`).join(' OR ')],
  ];

  for (const [what, q] of hostile) {
    it(`${what}: an answer or a clear refusal, and the server goes on`, async () => {
      const ingesting = ingestOk(s.url, [{ message: `during ${what}`, host: 'meanwhile' }]);
      const r = await apiGet<{ total?: number; error?: { type: string; message: string } | string; message?: string }>(s.url, '/api/v1/search', { q, from: 'now-1h', to: 'now+1m', limit: 10 });
      assert.ok([200, 400, 431, 503].includes(r.status), `${what}: status ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      // Logmill's errors are {error: {type, message}}; Node's own refusal of a request line past 16 KB is {error, message}.
      const message = typeof r.body.error === 'object' ? r.body.error.message : r.body.message;
      if (r.status !== 200) assert.ok(message && message.length > 10, `${what}: the error says what was wrong (${JSON.stringify(r.body)})`);
      await ingesting;
      assert.ok((await search(s.url, 'request_id:r2-17', { from: 'now-1h', to: 'now+1m' })).total === 1, 'an ordinary search still works');
    });
  }

  it('the ORed terms find what a brute force finds', async () => {
    const found = await search(s.url, Array.from({ length: 300 }, (_, i) => `r${i % 5}-${i}`).join(' OR '), { from: 'now-1h', to: 'now+1m' });
    assert.equal(found.total, 300);
  });

  it('a query past the query timeout is stopped with an error naming the limit', async () => {
    const slow = await startTestServer({ queryTimeout: '1ms' }, undefined);
    try {
      for (let b = 0; b < 5; b++) {
        await ingestOk(slow.url, Array.from({ length: 20_000 }, (_, i) => ({ message: `line ${b}-${i} with some words in it and more words after them`, n: b * 20_000 + i })));
      }
      const r = await apiGet<{ error?: { type: string; message: string; limit_ms: number } }>(slow.url, '/api/v1/search', {
        q: 'message:*o*r*d* OR message:*i*t* | stats count() by message, n',
        from: 'now-1h',
        to: 'now+1m',
      });
      assert.equal(r.status, 503, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.error?.type, 'timeout');
      assert.equal(r.body.error?.limit_ms, 1);
      assert.match(r.body.error?.message ?? '', /query timeout of 0\.001 s \(--query-timeout\)/);
      const metrics = await (await fetch(`${slow.url}/metrics`)).text();
      assert.match(metrics, /logmill_queries_timed_out_total\S* 1\b/);
    } finally {
      await slow.close();
      removeDir(slow.dir);
    }
  });
});
