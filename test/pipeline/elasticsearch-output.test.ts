/**
 * `logmill pipeline` with Logstash configurations whose elasticsearch output points at Logmill's own
 * Elasticsearch-compatible port: the pipeline's output writing there, as a Logstash user would set it up
 * (user and password, daily index names, data streams, document ids), and nothing lost when the server
 * is killed with kill -9 in the middle.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_MAIN, REPO_ROOT, freePort, removeDir, sleep, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';

const TOKEN = 'pipeline-test-secret';
const BASIC = `Basic ${Buffer.from(`logstash:${TOKEN}`).toString('base64')}`;

interface Finished {
  code: number | null;
  stderr: string;
  stdout: string;
}

interface Running {
  readonly done: Promise<Finished>;
  write(text: string): void;
  end(): void;
  stderr(): string;
}

/** Starts `logmill pipeline -f FILE`, its stdin open for the test to write. */
function startPipeline(config: string, dir: string, env: Record<string, string> = {}): Running {
  const file = path.join(dir, `pipeline-${Math.random().toString(36).slice(2)}.conf`);
  fs.writeFileSync(file, config);
  const child = spawn(process.execPath, [CLI_MAIN, 'pipeline', '-f', file, '--log-level', 'info'], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout }))),
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    stderr: () => stderr,
  };
}

/** Runs `logmill pipeline -f FILE` to its end, with `stdin` as its input. */
function runPipeline(config: string, dir: string, options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  const running = startPipeline(config, dir, options.env);
  if (options.stdin !== undefined) running.write(options.stdin);
  running.end();
  return running.done;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function es(server: ChildServer & { esUrl: string }, method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(pathname, server.esUrl), {
    method,
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function count(server: ChildServer & { esUrl: string }, index: string, q?: string): Promise<number> {
  await es(server, 'POST', `/${index}/_refresh`);
  const answer = await es(server, 'GET', `/${index}/_count${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  return answer.status === 404 ? 0 : (answer.body.count as number);
}

describe('pipeline elasticsearch output → Logmill', () => {
  let dir: string;
  let server: ChildServer & { esUrl: string };
  let esPort: number;

  const startServer = async (): Promise<void> => {
    const child = await spawnServer(dir, ['--es', `127.0.0.1:${esPort}`, '--token', TOKEN], 30_000, TOKEN);
    server = Object.assign(child, { esUrl: `http://127.0.0.1:${esPort}` });
  };

  before(async () => {
    dir = tempDir();
    esPort = await freePort();
    await startServer();
  });
  after(async () => {
    await stopChild(server);
    removeDir(dir);
  });

  it('ships a generator through conditionals into a daily index, with user and password from the environment', async () => {
    const config = `
      input { generator { lines => ["GET /a 200", "POST /b 500"] count => 500 } }
      filter {
        if [message] =~ / 5\\d\\d$/ { mutate { add_field => { "level" => "error" } add_tag => ["failed"] } }
        else { mutate { add_field => { "level" => "info" } } }
      }
      output {
        elasticsearch {
          hosts => ["127.0.0.1:${esPort}"]
          index => "logstash-%{+YYYY.MM.dd}"
          user => "logstash"
          password => "\${LS_TEST_PASSWORD}"
        }
      }`;
    const run = await runPipeline(config, dir, { env: { LS_TEST_PASSWORD: TOKEN } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /1000 event\(s\) stored, 0 dropped/);
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '.');
    const index = `logstash-${today}`;
    assert.equal(await count(server, index), 1000);
    assert.equal(await count(server, index, 'level:error AND tags:failed'), 500);
    assert.equal(await count(server, index, 'level:info'), 500);
    // The same events through the native API, by _index.
    const native = await fetch(`${server.url}/api/v1/search?${new URLSearchParams({ q: `_index:"${index}" AND message:"POST /b 500"`, from: 'now-1h', to: 'now+1h', limit: '1' })}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const found = (await native.json()) as { total: number; hits: Array<Record<string, unknown>> };
    assert.equal(found.total, 500);
    assert.equal(found.hits[0].level, 'error');
    const template = await es(server, 'GET', '/_index_template/logstash');
    assert.equal(template.status, 200, 'the output installs its index template, as Logstash does');
  });

  it('writes to a data stream when no index is set (Elasticsearch 8), routed by the events\' data_stream fields', async () => {
    const config = `
      input { stdin { codec => json_lines } }
      output { elasticsearch { hosts => ["http://127.0.0.1:${esPort}"] user => "logstash" password => "${TOKEN}" } }`;
    const lines = [{ message: 'plain' }, { message: 'routed', data_stream: { dataset: 'nginx' } }, { message: 'plain 2' }];
    const run = await runPipeline(config, dir, { stdin: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await count(server, 'logs-generic-default'), 2);
    assert.equal(await count(server, 'logs-nginx-default'), 1);
    assert.equal(await count(server, 'logs-generic-default', 'data_stream.type:logs AND data_stream.namespace:default'), 2);
  });

  it('drops, counts and logs documents the server refuses for good; stores the rest', async () => {
    const config = `
      input { generator { count => 10 message => "once" } }
      output {
        elasticsearch {
          hosts => ["127.0.0.1:${esPort}"] index => "ids" action => "create" document_id => "doc-%{[event][sequence]}"
          user => "logstash" password => "${TOKEN}"
        }
      }`;
    const first = await runPipeline(config, dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /10 event\(s\) stored, 0 dropped/);
    const second = await runPipeline(config, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /0 event\(s\) stored, 10 dropped/, 'create of an existing id is a conflict, not retried');
    assert.equal(await count(server, 'ids'), 10);
    assert.equal((await es(server, 'GET', '/ids/_doc/doc-7')).body.found, true);
  });

  it('says what is wrong with a configuration and exits 1 before sending anything', async () => {
    const run = await runPipeline(`input { stdin {} }\noutput { elasticsearch { hosts => ["127.0.0.1:${esPort}"] idnex => "x" } }`, dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /:2:\d+: unknown setting "idnex" for output elasticsearch \(did you mean "index"\?\)/);
    const syntax = await runPipeline('input { stdin {} \noutput { stdout {} }', dir);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /pipeline-\w+\.conf:\d+:\d+: /);
  });

  it('loses nothing when the server is killed with kill -9 while events flow, and retries until it is back', async () => {
    const N = 3000;
    const config = `
      input { stdin { codec => json_lines } }
      output { elasticsearch { hosts => ["127.0.0.1:${esPort}"] index => "outage" user => "logstash" password => "${TOKEN}" retry_initial_interval => 0.2 retry_max_interval => 1 } }`;
    const lines = (from: number, to: number): string => {
      let text = '';
      for (let i = from; i < to; i++) text += JSON.stringify({ message: `line ${i}`, seq: i }) + '\n';
      return text;
    };
    const pipeline = startPipeline(config, dir);
    pipeline.write(lines(0, N / 3));
    await until('the first lines are stored', async () => (await count(server, 'outage')) >= N / 3);
    server.proc.kill('SIGKILL');
    await server.exited;
    pipeline.write(lines(N / 3, (2 * N) / 3));
    await until('the pipeline has seen the server gone', () => /could not reach/.test(pipeline.stderr()));
    await startServer();
    pipeline.write(lines((2 * N) / 3, N));
    pipeline.end();
    const run = await pipeline.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /retrying \d+ event/, 'the outage was ridden out by retrying');
    // At least once: every line is there; a batch cut by the kill may be stored twice.
    const stored = await count(server, 'outage');
    assert.ok(stored >= N, `${stored} stored of ${N}`);
    const missing: number[] = [];
    for (let from = 0; from < N; from += 1000) {
      const answer = await es(server, 'POST', '/outage/_search', { size: 0, query: { range: { seq: { gte: from, lt: from + 1000 } } }, aggs: { s: { terms: { field: 'seq', size: 1000 } } } });
      const seen = new Set((answer.body.aggregations.s.buckets as Array<{ key: number }>).map((b) => Number(b.key)));
      for (let i = from; i < from + 1000; i++) if (!seen.has(i)) missing.push(i);
    }
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} line(s) lost`);
  });
});
