/**
 * The multiline codec on stdin: a Java stack trace joined to the line that threw it (`what =>
 * previous`), continuation lines ending in a backslash joined forwards (`what => next`), and the limits
 * that keep one writer from growing an event without end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { UNWATCHED } from '../../src/pipeline/plugin.js';
import { prng } from '../helpers/prng.js';
import net from 'node:net';
import { freePort } from '../helpers/server.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function run(codec: string, text: string | Buffer[]): Promise<Array<Record<string, any>>> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const pipeline = buildPipeline(parseConfig(`input { stdin { codec => ${codec} } } output { stdout { codec => json_lines } }`), { logger: quiet, signal: new AbortController().signal, stdin, stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() });
  const running = pipeline.run();
  if (typeof text === 'string') stdin.end(text);
  else {
    for (const chunk of text) stdin.write(chunk);
    stdin.end();
  }
  await running;
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const TRACE = [
  '2026-12-07 10:00:00,001 INFO starting',
  '2026-12-07 10:00:01,002 ERROR request failed',
  'java.lang.IllegalStateException: boom',
  '\tat com.example.Service.handle(Service.java:42)',
  '\tat com.example.Server.run(Server.java:7)',
  'Caused by: java.io.IOException: closed',
  '\t... 2 more',
  '2026-12-07 10:00:02,003 INFO recovered',
].join('\n') + '\n';

describe('multiline codec', () => {
  it('joins a stack trace to the line that threw it (negate + previous, a grok pattern)', async () => {
    const events = await run('multiline { pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => "previous" }', TRACE);
    assert.equal(events.length, 3);
    assert.equal(events[0].message, '2026-12-07 10:00:00,001 INFO starting');
    assert.equal(events[0].tags, undefined);
    assert.match(events[1].message, /^2026-12-07 10:00:01,002 ERROR request failed\njava\.lang\.IllegalStateException: boom\n\tat com\.example\.Service/);
    assert.equal(events[1].message.split('\n').length, 6);
    assert.deepEqual(events[1].tags, ['multiline']);
    assert.equal(events[2].message, '2026-12-07 10:00:02,003 INFO recovered');
  });

  it('is the same when the bytes come in pieces cut anywhere', async () => {
    const rand = prng(7);
    const bytes = Buffer.from(TRACE);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rand() * 9);
      chunks.push(bytes.subarray(i, i + n));
      i += n;
    }
    const events = await run('multiline { pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => "previous" }', chunks);
    assert.deepEqual(events.map((e) => e.message.split('\n').length), [1, 6, 1]);
  });

  it('joins lines forwards with what => next', async () => {
    const events = await run('multiline { pattern => "\\\\$" what => "next" }', 'one \\\ntwo \\\nthree\nalone\n');
    assert.deepEqual(events.map((e) => e.message), ['one \\\ntwo \\\nthree', 'alone']);
  });

  it('cuts an event at max_lines and tags it', async () => {
    const text = 'head\n' + Array.from({ length: 12 }, (_, i) => ` cont ${i}`).join('\n') + '\n';
    const events = await run('multiline { pattern => "^\\s" what => "previous" max_lines => 5 }', text);
    assert.equal(events[0].message.split('\n').length, 5);
    assert.ok(events[0].tags.includes('multiline_codec_max_lines_reached'));
    assert.equal(events.reduce((n, e) => n + e.message.split('\n').length, 0), 13, 'no line lost');
  });

  it('refuses a configuration without what, or with a bad pattern, naming the setting', () => {
    const build = (codec: string) => buildPipeline(parseConfig(`input { stdin { codec => ${codec} } } output { stdout {} }`), { logger: quiet, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() });
    assert.throws(() => build('multiline { pattern => "^\\s" }'), (e: Error) => e instanceof PipelineConfigError && /what/.test(e.message));
    assert.throws(() => build('multiline { pattern => "^%{NO_SUCH_PATTERN}" what => "previous" }'), (e: Error) => e instanceof PipelineConfigError && /NO_SUCH_PATTERN/.test(e.message));
    assert.throws(() => build('multiline { pattern => "(" what => "previous" }'), PipelineConfigError);
  });

  it('over tcp, hands a held event on once the sender has been quiet for auto_flush_interval', async () => {
    const port = await freePort();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    const controller = new AbortController();
    const pipeline = buildPipeline(
      parseConfig(`input { tcp { port => ${port} codec => multiline { pattern => "^\\s" what => "previous" auto_flush_interval => 0.2 } } } output { stdout { codec => json_lines } }`),
      { logger: quiet, signal: controller.signal, stdin: new PassThrough(), stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() },
    );
    const running = pipeline.run();
    let socket: net.Socket | null = null;
    for (let i = 0; i < 100 && socket === null; i++) {
      socket = await new Promise<net.Socket | null>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', () => setTimeout(() => resolve(null), 50));
      });
    }
    assert.ok(socket, 'connected');
    socket.write('Exception in thread main\n  at a\n  at b\n');
    const until = Date.now() + 10_000;
    while (!out.includes('\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const [event] = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(event.message, 'Exception in thread main\n  at a\n  at b', 'flushed while the connection stays open');
    socket.destroy();
    controller.abort();
    await running;
  });
});
