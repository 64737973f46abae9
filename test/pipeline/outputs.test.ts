/**
 * The file, http and null outputs with real parts: files on disk (sprintf paths, paths that try to
 * climb out, gzip, a file deleted under the output, modes), and a real node:http server that answers
 * as the test tells it (retries, drops, batches, forms, headers).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { outputs } from '../../src/pipeline/plugins.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';
import { UNWATCHED, type Output, type PipelineLogger, type PluginContext } from '../../src/pipeline/plugin.js';

function context(signal: AbortSignal, logs: string[]): PluginContext {
  const keep = (level: string) => (m: string) => void logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger, signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() };
}

function makeOutput(name: string, body: string, logs: string[] = [], signal = new AbortController().signal): Output {
  const statement = parseConfig(`output { ${name} { ${body} } }`).sections[0].body[0];
  if (statement.kind !== 'plugin') throw new Error('no plugin');
  return outputs[name](new Settings(statement.plugin, 'output'), context(signal, logs));
}

const at = (iso: string, fields: Record<string, any>) => new PipelineEvent({ ...fields, '@timestamp': iso });

describe('file output', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-file-output-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes JSON lines to the file its sprintf path names, making directories', async () => {
    const output = makeOutput('file', `path => "${dir}/%{type}/%{+YYYY-MM-dd}.log"`);
    await output.start();
    await output.write([at('2026-12-06T10:00:00Z', { type: 'web', message: 'a' }), at('2026-12-07T10:00:00Z', { type: 'web', message: 'b' }), at('2026-12-07T11:00:00Z', { type: 'db', message: 'c' })]);
    await output.write([at('2026-12-07T12:00:00Z', { type: 'web', message: 'd' })]);
    await output.close();
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).message);
    assert.deepEqual(read('web/2026-12-06.log'), ['a']);
    assert.deepEqual(read('web/2026-12-07.log'), ['b', 'd']);
    assert.deepEqual(read('db/2026-12-07.log'), ['c']);
  });

  it('sends an event whose fields would climb out of the directory to _filepath_failures', async () => {
    const logs: string[] = [];
    const sub = path.join(dir, 'safe');
    const output = makeOutput('file', `path => "${sub}/%{app}.log"`, logs);
    await output.write([new PipelineEvent({ app: '../../escaped', message: 'x' }), new PipelineEvent({ app: 'fine', message: 'y' })]);
    await output.close();
    assert.equal(fs.existsSync(path.join(dir, 'escaped.log')), false);
    assert.equal(fs.existsSync(path.join(path.dirname(dir), 'escaped.log')), false);
    assert.equal(JSON.parse(fs.readFileSync(path.join(sub, '_filepath_failures'), 'utf8')).message, 'x');
    assert.equal(JSON.parse(fs.readFileSync(path.join(sub, 'fine.log'), 'utf8')).message, 'y');
    assert.ok(logs.some((l) => l.includes('leaves')));
  });

  it('sends an event whose path cannot be a file (a directory) to the failure file, and goes on', async () => {
    const sub = path.join(dir, 'dirs');
    fs.mkdirSync(path.join(sub, 'taken.log'), { recursive: true });
    const output = makeOutput('file', `path => "${sub}/%{name}.log" codec => line`);
    await output.write([new PipelineEvent({ name: 'taken', message: 'x' }), new PipelineEvent({ name: 'free', message: 'y' })]);
    await output.close();
    assert.equal(fs.readFileSync(path.join(sub, '_filepath_failures'), 'utf8'), 'x\n');
    assert.equal(fs.readFileSync(path.join(sub, 'free.log'), 'utf8'), 'y\n');
  });

  it('writes gzip that gunzip reads whole, one member per batch', async () => {
    const file = path.join(dir, 'z.log.gz');
    const output = makeOutput('file', `path => "${file}" gzip => true codec => line { format => "%{message}" }`);
    await output.write([new PipelineEvent({ message: 'one' })]);
    await output.write([new PipelineEvent({ message: 'two' }), new PipelineEvent({ message: 'three' })]);
    await output.close();
    assert.equal(gunzipSync(fs.readFileSync(file)).toString(), 'one\ntwo\nthree\n');
  });

  it('makes the file again when it is deleted under it (create_if_deleted), with file_mode', async () => {
    const file = path.join(dir, 'deleted.log');
    const output = makeOutput('file', `path => "${file}" file_mode => 0600 codec => line`);
    await output.write([new PipelineEvent({ message: 'before' })]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    fs.unlinkSync(file);
    await output.write([new PipelineEvent({ message: 'after' })]);
    await output.close();
    assert.equal(fs.readFileSync(file, 'utf8'), 'after\n');
  });

  it('closes a line torn by a crash before appending, so the next event is a line of its own', async () => {
    const file = path.join(dir, 'torn.log');
    fs.writeFileSync(file, '{"whole":1}\n{"torn":');
    const output = makeOutput('file', `path => "${file}"`);
    await output.write([new PipelineEvent({ message: 'next' })]);
    await output.close();
    const got = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(got[1], '{"torn":');
    assert.equal(JSON.parse(got[2]).message, 'next');
  });

  it('keeps batches written at once whole, one after the other', async () => {
    const file = path.join(dir, 'concurrent.log');
    const output = makeOutput('file', `path => "${file}" codec => line`);
    const batches = Array.from({ length: 20 }, (_, b) => Array.from({ length: 50 }, (_, i) => new PipelineEvent({ message: `${b}-${i}` })));
    await Promise.all(batches.map((batch) => output.write(batch)));
    await output.close();
    const got = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(got, batches.flat().map((e) => e.fields.message));
  });

  it('refuses a relative path and a mode that is not octal', () => {
    assert.throws(() => makeOutput('file', 'path => "logs/x.log"'), (e: Error) => e instanceof PipelineConfigError && /absolute/.test(e.message));
    assert.throws(() => makeOutput('file', `path => "${dir}/x" file_mode => "rw"`), /octal/);
    assert.throws(() => makeOutput('file', ''), /"path" is required/);
  });
});

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('http output', () => {
  let server: http.Server;
  let base: string;
  const received: Received[] = [];
  /** The status of each next answer, in turn; 200 when none is queued. */
  const statuses: number[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.statusCode = statuses.shift() ?? 200;
        res.end('answer');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const reset = () => {
    received.length = 0;
    statuses.length = 0;
  };

  it('posts each event as JSON to its sprintf URL, with headers and basic auth', async () => {
    reset();
    const output = makeOutput('http', `url => "${base}/in/%{type}" http_method => "post" headers => { "X-Token" => "t1" } user => "u" password => "p"`);
    await output.write([new PipelineEvent({ type: 'a', message: 'one' }), new PipelineEvent({ type: 'b', message: 'two' })]);
    await output.close();
    assert.deepEqual(received.map((r) => r.url).sort(), ['/in/a', '/in/b']);
    const first = received.find((r) => r.url === '/in/a')!;
    assert.equal(first.method, 'POST');
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers['x-token'], 't1');
    assert.equal(first.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.equal(JSON.parse(first.body).message, 'one');
  });

  it('sends a batch as one JSON array (json_batch), a form, or a message template', async () => {
    reset();
    const batch = makeOutput('http', `url => "${base}/batch" http_method => "put" format => "json_batch"`);
    await batch.write([new PipelineEvent({ n: 1 }), new PipelineEvent({ n: 2 })]);
    await batch.close();
    assert.equal(received.length, 1);
    assert.equal(received[0].method, 'PUT');
    assert.deepEqual(JSON.parse(received[0].body).map((e: any) => e.n), [1, 2]);
    reset();
    const ndjson = makeOutput('http', `url => "${base}/ingest" http_method => "post" format => "ndjson"`);
    await ndjson.write([new PipelineEvent({ n: 1 }), new PipelineEvent({ n: 2 }), new PipelineEvent({ n: 3 })]);
    await ndjson.close();
    assert.equal(received.length, 1, 'one request for the batch');
    assert.equal(received[0].headers['content-type'], 'application/x-ndjson');
    assert.ok(received[0].body.endsWith('\n'));
    assert.deepEqual(received[0].body.trim().split('\n').map((l) => JSON.parse(l).n), [1, 2, 3]);
    reset();
    const form = makeOutput('http', `url => "${base}/form" http_method => "post" format => "form"`);
    await form.write([new PipelineEvent({ a: 'x y', b: { c: 1 } })]);
    await form.close();
    const params = new URLSearchParams(received[0].body);
    assert.equal(received[0].headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(params.get('a'), 'x y');
    assert.equal(params.get('b'), '{"c":1}');
    reset();
    const message = makeOutput('http', `url => "${base}/m" http_method => "post" format => "message" message => "%{level}: %{message}" content_type => "text/x-log"`);
    await message.write([new PipelineEvent({ level: 'warn', message: 'disk' })]);
    await message.close();
    assert.equal(received[0].body, 'warn: disk');
    assert.equal(received[0].headers['content-type'], 'text/x-log');
  });

  it('tries a retryable answer again until it succeeds, and drops one that is not retryable', async () => {
    reset();
    const logs: string[] = [];
    statuses.push(503, 429, 200);
    const output = makeOutput('http', `url => "${base}/retry" http_method => "post"`, logs);
    await output.write([new PipelineEvent({ message: 'persistent' })]);
    assert.equal(received.length, 3, 'two refusals, then the answer that takes it');
    reset();
    statuses.push(400);
    await output.write([new PipelineEvent({ message: 'bad' })]);
    assert.equal(received.length, 1, 'a 400 is not tried again');
    assert.ok(logs.some((l) => /answered 400.*dropped/.test(l)), logs.join('\n'));
    reset();
    statuses.push(404);
    const ignoring = makeOutput('http', `url => "${base}/x" http_method => "post" ignorable_codes => [404]`, logs);
    const before = logs.length;
    await ignoring.write([new PipelineEvent({ message: 'gone' })]);
    assert.equal(logs.length, before, 'an ignorable code is not even logged');
    await output.close();
    await ignoring.close();
  });

  it('with retry_failed off, a refused batch is logged and dropped after one try', async () => {
    reset();
    const logs: string[] = [];
    statuses.push(503);
    const output = makeOutput('http', `url => "${base}/once" http_method => "post" retry_failed => false`, logs);
    await output.write([new PipelineEvent({ message: 'x' })]);
    await output.close();
    assert.equal(received.length, 1);
    assert.ok(logs.some((l) => l.includes('retry_failed is off')));
  });

  it('waits for a server that is down, and delivers once it listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = http.createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const output = makeOutput('http', `url => "http://127.0.0.1:${port}/late" http_method => "post" automatic_retries => 0`);
    const got: string[] = [];
    const write = output.write([new PipelineEvent({ message: 'late' })]);
    await new Promise((r) => setTimeout(r, 300));
    const late = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        got.push(JSON.parse(body).message);
        res.end();
      });
    });
    await new Promise<void>((r) => late.listen(port, '127.0.0.1', r));
    await write;
    await output.close();
    late.closeAllConnections();
    await new Promise((r) => late.close(r));
    assert.deepEqual(got, ['late']);
  });

  it('refuses a missing url or method and an unknown format', () => {
    assert.throws(() => makeOutput('http', 'http_method => "post"'), /"url" is required/);
    assert.throws(() => makeOutput('http', `url => "${base}"`), /"http_method" is required/);
    assert.throws(() => makeOutput('http', `url => "${base}" http_method => "post" format => "xml"`), /format/);
    assert.throws(() => makeOutput('http', `url => "${base}" http_method => "post" format => "message"`), /"message" is required/);
    assert.throws(() => makeOutput('http', `url => "${base}" http_method => "post" retryable_codes => ["often"]`), /status codes/);
  });
});

describe('null output', () => {
  it('takes every event of a running pipeline and ships nothing', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d));
    const pipeline = buildPipeline(parseConfig('input { generator { count => 300 } } output { null {} }'), { ...context(new AbortController().signal, []), stdout });
    const counts = await pipeline.run();
    assert.equal(counts.out, 300);
    assert.equal(text, '');
  });
});
