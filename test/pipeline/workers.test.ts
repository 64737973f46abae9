/**
 * Filter workers inside the server: batches spread over `pipeline.workers` threads, every event stored
 * once, and the watchdog that stops a match that would never end (a catastrophic regular expression
 * fed by a stranger), tags that event `_groktimeout` and lets the batch's other events go on.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { countAll, freePort, removeDir, search, startTestServer, tempDir, type TestServer, waitForCount as waitForStoredCount } from '../helpers/server.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function setup(files: Record<string, string>): string {
  const dir = tempDir();
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The shared poll, with this file's patience. */
function waitForCount(s: TestServer, q: string, n: number, timeoutMs = 20_000): Promise<number> {
  return waitForStoredCount(s.url, q, n, { timeoutMs });
}

/** 60 a's then a b: `^(a|aa)+$` backtracks through every way of splitting them into ones and twos (about 1.6^60) before it fails. */
const RUNAWAY = 'a'.repeat(60) + 'b';
const RUNAWAY_PATTERN = '^(a|aa)+$';

describe('filter workers', () => {
  it('spreads batches over two workers and stores every event exactly once', async () => {
    const dir = setup({
      'pipelines.yml': `
- pipeline.id: spread
  pipeline.workers: 2
  pipeline.batch.size: 50
  config.string: |
    input { generator { count => 2000 message => "spread" } }
    filter { mutate { add_field => { "n" => "%{[event][sequence]}" } } }
`,
    });
    const s = await startTestServer({ pipelines: path.join(dir, 'pipelines.yml') }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, 'spread', 2000), 2000);
      const t = await search(s.url, 'n:1999');
      assert.equal(t.total, 1);
      assert.equal(await countAll(s.url, 'n:0'), 1);
    } finally {
      await s.close();
    }
  });

  it('stops a runaway grok match, tags that event _groktimeout and keeps the others', async () => {
    const dir = setup({
      'runaway.conf': `
input { generator { lines => ["aaaa", "${RUNAWAY}", "not a's"] count => 2 } }
filter {
  grok { match => { "message" => "${RUNAWAY_PATTERN}" } timeout_millis => 200 }
  mutate { add_field => { "after" => "grok" } }
}
`,
    });
    const s = await startTestServer({ pipelineConfig: path.join(dir, 'runaway.conf') }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, 'after:grok', 6), 6, 'all six events went on through the next filter');
      assert.equal(await countAll(s.url, 'tags:_groktimeout'), 2);
      assert.equal(await countAll(s.url, 'tags:_grokparsefailure'), 2, '"not a\'s" fails to match as usual');
      assert.equal(await countAll(s.url, 'aaaa AND NOT tags:*'), 2, 'the short line matched');
    } finally {
      await s.close();
    }
  });

  it('keeps _bulk?pipeline= answering while a document holds a runaway match', async () => {
    const esPort = await freePort();
    const dir = setup({
      'pipelines.yml': `
- pipeline.id: parse
  pipeline.workers: 1
  config.string: |
    filter { grok { match => { "message" => "${RUNAWAY_PATTERN}" } timeout_millis => 200 } }
`,
    });
    const s = await startTestServer({ pipelines: path.join(dir, 'pipelines.yml'), es: `127.0.0.1:${esPort}` }, path.join(dir, 'data'));
    try {
      const body = [{ index: { _index: 'x' } }, { message: RUNAWAY }, { index: { _index: 'x' } }, { message: 'aaa' }].map((l) => JSON.stringify(l)).join('\n') + '\n';
      const res = await fetch(new URL('/_bulk?pipeline=parse&refresh=true', s.esUrl!), { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(res.status, 200);
      const answer = (await res.json()) as { errors: boolean; items: unknown[] };
      assert.equal(answer.errors, false);
      assert.equal(answer.items.length, 2);
      assert.equal(await waitForCount(s, 'tags:_groktimeout', 1), 1);
      assert.equal(await countAll(s.url, 'aaa AND NOT tags:*'), 1);
    } finally {
      await s.close();
    }
  });
});
