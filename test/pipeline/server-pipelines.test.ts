/**
 * Pipelines inside the server: `-f FILE`, `-f DIR`, `--pipelines pipelines.yml`, pipeline-to-pipeline
 * routing, an `elasticsearch` output aimed at the server's own Elasticsearch-compatible API, the
 * store as the default output, `_bulk?pipeline=NAME`, and the mistakes that must stop a start.
 * Every server is real (DuckDB files in a temp dir, HTTP over loopback).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, countAll, freePort, removeDir, run, search, startTestServer, tempDir, type TestServer, waitForCount as waitForStoredCount } from '../helpers/server.js';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function workDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** The shared poll, with this file's patience. */
function waitForCount(s: TestServer, q: string, n: number, timeoutMs = 15_000): Promise<number> {
  return waitForStoredCount(s.url, q, n, { timeoutMs });
}

async function esRequest(s: TestServer, method: string, pathname: string, body?: string): Promise<{ status: number; body: any }> {
  assert.ok(s.esUrl, 'the Elasticsearch-compatible API is on');
  const res = await fetch(new URL(pathname, s.esUrl), { method, body, headers: body ? { 'content-type': 'application/x-ndjson' } : {} });
  return { status: res.status, body: await res.json() };
}

describe('logmill server -f', () => {
  it('runs a configuration file whose events reach the store, its default output', async () => {
    const dir = workDir();
    const conf = write(dir, 'gen.conf', `
      input { generator { count => 7 message => "hello from a pipeline" } }
      filter { mutate { add_field => { "stage" => "filtered" } } }
    `);
    const s = await startTestServer({ pipelineConfig: conf }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, 'stage:filtered', 7), 7);
      const hits = await search(s.url, 'stage:filtered');
      assert.equal(hits.hits[0].message, 'hello from a pipeline');
      assert.deepEqual(s.pipelines?.ids, ['main']);
    } finally {
      await s.close();
    }
  });

  it('reads a directory of *.conf files in name order, as logstash -f does', async () => {
    const dir = workDir();
    const confDir = path.join(dir, 'conf.d');
    write(confDir, '10-input.conf', 'input { generator { count => 3 message => "ordered" } }');
    // Read after 10-: the rename sees the field the earlier file added.
    write(confDir, '30-rename.conf', 'filter { mutate { rename => { "first" => "second" } } }');
    write(confDir, '20-add.conf', 'filter { mutate { add_field => { "first" => "x" } } }');
    write(confDir, 'README.txt', 'not a configuration: ignored');
    const s = await startTestServer({ pipelineConfig: confDir }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, 'second:x', 3), 3);
      assert.equal(await countAll(s.url, 'first:x'), 0);
    } finally {
      await s.close();
    }
  });

  it('writes through an elasticsearch output aimed at its own Elasticsearch-compatible address in-process', async () => {
    const dir = workDir();
    const esPort = await freePort();
    const conf = write(dir, 'es.conf', `
      input { generator { count => 5 message => "via es output" } }
      output { elasticsearch { hosts => ["http://127.0.0.1:${esPort}"] index => "app-%{+YYYY.MM.dd}" } }
    `);
    const s = await startTestServer({ pipelineConfig: conf, es: `127.0.0.1:${esPort}` }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, '"via es output"', 5), 5);
      assert.equal(s.es?.connectionsAccepted(), 0, 'no socket was opened to the server\'s own Elasticsearch address');
      const answer = await esRequest(s, 'GET', '/app-*/_count');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.count, 5);
    } finally {
      await s.close();
    }
  });
});

describe('logmill server --pipelines', () => {
  it('runs several pipelines from pipelines.yml and routes events between them by address', async () => {
    const dir = workDir();
    write(dir, 'pipelines/upstream.conf', `
      input { generator { count => 4 message => "routed" } }
      output { pipeline { send_to => ["parsed"] } }
    `);
    const yml = write(dir, 'pipelines.yml', `
- pipeline.id: upstream
  path.config: "pipelines/upstream.conf"
  pipeline.workers: 1
- pipeline.id: downstream
  pipeline.batch.size: 50
  config.string: |
    input { pipeline { address => "parsed" } }
    filter { mutate { add_tag => ["downstream"] } }
`);
    const s = await startTestServer({ pipelines: yml }, path.join(dir, 'data'));
    try {
      assert.deepEqual(s.pipelines?.ids, ['upstream', 'downstream']);
      assert.equal(await waitForCount(s, 'tags:downstream', 4), 4);
      assert.equal(await countAll(s.url, 'routed'), 4, 'each event stored once, by the downstream pipeline');
    } finally {
      await s.close();
    }
  });

  it('refuses a pipelines.yml with an unknown setting, naming it', async () => {
    const dir = workDir();
    const yml = write(dir, 'pipelines.yml', '- pipeline.id: a\n  config.string: "input { generator { count => 1 } }"\n  pipeline.wokers: 2\n');
    await assert.rejects(startTestServer({ pipelines: yml }, path.join(dir, 'data')), /pipeline\.wokers/);
  });

  it('refuses -f and --pipelines together', async () => {
    const dir = workDir();
    const conf = write(dir, 'a.conf', 'input { generator { count => 1 } }');
    const yml = write(dir, 'pipelines.yml', '- pipeline.id: a\n  path.config: a.conf\n');
    await assert.rejects(startTestServer({ pipelines: yml, pipelineConfig: conf }, path.join(dir, 'data')), /not both/);
  });

  it('refuses a configuration with a mistake before anything starts, naming the pipeline and the place', async () => {
    const dir = workDir();
    const conf = write(dir, 'bad.conf', 'input { generator { count => 1 } }\nfilter { mutate { add_feild => { "a" => "b" } } }\n');
    await assert.rejects(startTestServer({ pipelineConfig: conf }, path.join(dir, 'data')), (err: Error) => {
      assert.match(err.message, /pipeline "main"/);
      assert.match(err.message, /add_feild/);
      assert.match(err.message, /2:/);
      return true;
    });
  });

  it('refuses two pipelines that listen at the same pipeline address', async () => {
    const dir = workDir();
    const yml = write(dir, 'pipelines.yml', `
- pipeline.id: one
  config.string: 'input { pipeline { address => "same" } }'
- pipeline.id: two
  config.string: 'input { pipeline { address => "same" } }'
`);
    await assert.rejects(startTestServer({ pipelines: yml }, path.join(dir, 'data')), /same/);
  });
});

describe('_bulk?pipeline=NAME', () => {
  it("runs the documents through that pipeline's filters, as Elasticsearch's ingest pipelines do", async () => {
    const dir = workDir();
    const esPort = await freePort();
    const yml = write(dir, 'pipelines.yml', `
- pipeline.id: enrich
  config.string: |
    filter {
      if [level] == "debug" { drop {} }
      mutate { add_field => { "enriched" => "yes" } uppercase => ["level"] }
    }
`);
    const s = await startTestServer({ pipelines: yml, es: `127.0.0.1:${esPort}` }, path.join(dir, 'data'));
    try {
      const lines = [
        { index: { _index: 'logs' } }, { message: 'kept one', level: 'info' },
        { index: { _index: 'logs' } }, { message: 'dropped one', level: 'debug' },
        { create: { _index: 'logs' } }, { message: 'kept two', level: 'warn' },
      ];
      const bulk = await esRequest(s, 'POST', '/_bulk?pipeline=enrich&refresh=true', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      assert.equal(bulk.status, 200);
      assert.equal(bulk.body.errors, false);
      assert.equal(bulk.body.items.length, 3);
      assert.equal(bulk.body.items[1].index.result, 'noop', 'a dropped document is answered as a noop');
      assert.equal(await waitForCount(s, 'enriched:yes', 2), 2);
      assert.equal(await countAll(s.url, 'level:WARN'), 1);
      assert.equal(await countAll(s.url, '"dropped one"'), 0);

      const single = await fetch(new URL('/logs/_doc?pipeline=enrich', s.esUrl!), { method: 'POST', body: JSON.stringify({ message: 'single', level: 'error' }), headers: { 'content-type': 'application/json' } });
      assert.equal(single.status, 201);
      assert.equal(await waitForCount(s, 'level:ERROR AND enriched:yes', 1), 1);

      const unknown = await esRequest(s, 'POST', '/_bulk?pipeline=nope', JSON.stringify({ index: { _index: 'logs' } }) + '\n' + JSON.stringify({ message: 'x' }) + '\n');
      assert.equal(unknown.status, 400);
      assert.match(JSON.stringify(unknown.body), /nope/);
    } finally {
      await s.close();
    }
  });
});

describe('the elasticsearch output with pipeline =>', () => {
  it("names one of the server's pipelines for each action, as with Elasticsearch's ingest pipelines", async () => {
    const dir = workDir();
    const esPort = await freePort();
    const yml = write(dir, 'pipelines.yml', `
- pipeline.id: ship
  config.string: |
    input { generator { lines => ["one", "two"] count => 1 } }
    output { elasticsearch { hosts => ["http://localhost:${esPort}"] index => "shipped" pipeline => "%{[@metadata][pipe]}" } }
    filter { mutate { add_field => { "[@metadata][pipe]" => "enrich" } } }
- pipeline.id: enrich
  config.string: 'filter { mutate { add_tag => ["enriched"] } }'
`);
    const s = await startTestServer({ pipelines: yml, es: `127.0.0.1:${esPort}` }, path.join(dir, 'data'));
    try {
      assert.equal(await waitForCount(s, 'tags:enriched', 2), 2);
      const lines = [{ index: { _index: 'own', pipeline: 'enrich' } }, { message: 'item pipeline' }, { index: { _index: 'own', pipeline: 'missing' } }, { message: 'refused item' }];
      const bulk = await esRequest(s, 'POST', '/_bulk', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      assert.equal(bulk.body.errors, true);
      assert.equal(bulk.body.items[0].index.status, 201);
      assert.equal(bulk.body.items[1].index.status, 400);
      assert.match(bulk.body.items[1].index.error.reason, /missing/);
      assert.equal(await waitForCount(s, '"item pipeline" AND tags:enriched', 1), 1);
    } finally {
      await s.close();
    }
  });
});

describe('logmill pipeline test', () => {
  it("runs a configuration's filters over standard input and prints each event", async () => {
    const dir = workDir();
    const input = write(dir, 'in.log', 'alpha\nbeta\n');
    const res = await run('bash', ['-c', `${BIN} pipeline test --json -e 'filter { mutate { add_field => { "seen" => "%{message}!" } } }' < ${input}`]);
    assert.equal(res.code, 0, res.stderr);
    const events = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.seen), ['alpha!', 'beta!']);
    assert.match(res.stderr, /2 line\(s\) in, 2 event\(s\) out, 0 with a failure tag/);
  });

  it('stops a runaway grok match with its timeout and goes on with the next line', async () => {
    const dir = workDir();
    const input = write(dir, 'in.log', `aaaa\n${'a'.repeat(60)}b\nzz\n`);
    const res = await run('bash', ['-c', `${BIN} pipeline test --json -e 'filter { grok { match => { "message" => "^(a|aa)+$" } timeout_millis => 200 } }' < ${input}`]);
    assert.equal(res.code, 2, res.stderr);
    const events = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.tags ?? []), [[], ['_groktimeout'], ['_grokparsefailure']]);
  });

  it('exits 2 and counts the failure tags when some events fail', async () => {
    const dir = workDir();
    const input = write(dir, 'in.log', 'good\nbad\n');
    const res = await run('bash', ['-c', `${BIN} pipeline test --json -e 'filter { if [message] == "bad" { mutate { add_tag => ["_jsonparsefailure"] } } }' < ${input}`]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /1 with a failure tag \(_jsonparsefailure 1\)/);
  });
});
