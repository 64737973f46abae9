/**
 * The redis input and output against real redis-server processes: lists in batches with at-least-once
 * delivery through the processing list, channels and patterns, Redis going away and coming back, and
 * a `logmill pipeline` process killed with SIGKILL mid-stream and started again without losing an event.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { inputs, outputs } from '../../src/pipeline/plugins.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';
import { UNWATCHED, type Emit, type PipelineLogger, type PluginContext } from '../../src/pipeline/plugin.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function context(signal: AbortSignal, logs: string[]): PluginContext {
  const keep = (level: string) => (m: string) => void logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger, signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() };
}

function pluginOf(config: string, kind: 'input' | 'output') {
  const section = parseConfig(config).sections.find((s) => s.kind === kind);
  const statement = section?.body[0];
  if (!statement || statement.kind !== 'plugin') throw new Error(`no ${kind}`);
  return statement.plugin;
}

/** Runs a redis input with an emit the test gives; `stop` aborts it and waits for its end. */
function runInput(body: string, emit: Emit) {
  const controller = new AbortController();
  const logs: string[] = [];
  const plugin = pluginOf(`input { redis { ${body} } }`, 'input');
  const input = inputs.redis(new Settings(plugin, 'input'), context(controller.signal, logs));
  const done = input.run(emit);
  return {
    logs,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

function makeOutput(body: string, signal = new AbortController().signal, logs: string[] = []) {
  const plugin = pluginOf(`output { redis { ${body} } }`, 'output');
  return outputs.redis(new Settings(plugin, 'output'), context(signal, logs));
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('redis input and output', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis.stop());

  it('reads a list in batches of batch_count, in order, and leaves nothing in the processing list', async () => {
    const c = await redis.client();
    await c.rPush('in1', Array.from({ length: 1000 }, (_, i) => JSON.stringify({ n: i, message: `m${i}` })));
    const got: Array<Record<string, any>> = [];
    const sizes: number[] = [];
    const run = runInput(`host => "127.0.0.1" port => ${redis.port} key => "in1" data_type => "list" batch_count => 100 type => "r"`, async (events) => {
      sizes.push(events.length);
      got.push(...events.map((e) => e.toJSON()));
    });
    await waitFor('1000 events', () => got.length >= 1000);
    await run.stop();
    assert.deepEqual(got.map((e) => e.n), Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(got[0].type, 'r');
    assert.ok(Math.max(...sizes) <= 100, `batches of at most 100 (${Math.max(...sizes)})`);
    assert.equal(await c.lLen('in1'), 0);
    assert.equal(await c.lLen('in1:processing'), 0);
  });

  it('delivers again a batch whose emit failed, and what an earlier run left in the processing list', async () => {
    const c = await redis.client();
    await c.rPush('in2:processing', [JSON.stringify({ n: 'left' })]);
    await c.rPush('in2', [JSON.stringify({ n: 1 }), JSON.stringify({ n: 2 })]);
    const got: unknown[] = [];
    let failOnce = true;
    const run = runInput(`port => ${redis.port} key => "in2" data_type => "list"`, async (events) => {
      if (failOnce && events.some((e) => e.fields.n === 1)) {
        failOnce = false;
        // While the emit is under way, the batch waits in the processing list, not in the list.
        assert.equal(await c.lLen('in2'), 0);
        assert.equal(await c.lLen('in2:processing'), 2);
        throw new Error('the output is down');
      }
      got.push(...events.map((e) => e.fields.n));
    });
    await waitFor('3 events', () => got.length >= 3);
    await run.stop();
    assert.deepEqual(got, ['left', 1, 2]);
    assert.equal(await c.lLen('in2:processing'), 0);
    assert.ok(run.logs.some((l) => l.includes('the output is down')), run.logs.join('\n'));
  });

  it('decodes each item with the codec; an item that is not JSON is kept, tagged _jsonparsefailure', async () => {
    const c = await redis.client();
    await c.rPush('in3', ['{\n  "pretty": true\n}', 'plain words']);
    const got: Array<Record<string, any>> = [];
    const run = runInput(`port => ${redis.port} key => "in3" data_type => "list"`, async (events) => void got.push(...events.map((e) => e.toJSON())));
    await waitFor('2 events', () => got.length >= 2);
    await run.stop();
    assert.equal(got[0].pretty, true);
    assert.deepEqual(got[1].tags, ['_jsonparsefailure']);
    assert.equal(got[1].message, 'plain words');
  });

  it('reads a channel and a channel pattern', async () => {
    const c = await redis.client();
    const got: string[] = [];
    const emit: Emit = async (events) => void got.push(...events.map((e) => String(e.fields.message)));
    const one = runInput(`port => ${redis.port} key => "news" data_type => "channel" codec => plain`, emit);
    const many = runInput(`port => ${redis.port} key => "logs.*" data_type => "pattern_channel" codec => plain`, emit);
    await waitFor('the subscriptions', async () => (await c.pubSubNumSub('news')).news === 1 && (await c.pubSubNumPat()) === 1);
    await c.publish('news', 'hello');
    await c.publish('logs.app', 'from app');
    await c.publish('other', 'nobody');
    await waitFor('2 messages', () => got.length >= 2);
    await one.stop();
    await many.stop();
    assert.deepEqual(got.sort(), ['from app', 'hello']);
  });

  it('waits for Redis that is down at start, and reconnects after it goes away', async () => {
    const port = await freePort();
    const got: unknown[] = [];
    const run = runInput(`port => ${port} key => "later" data_type => "list"`, async (events) => void got.push(...events.map((e) => e.fields.n)));
    await new Promise((r) => setTimeout(r, 300));
    let server = await startRedis(port);
    const c1 = await server.client();
    await c1.rPush('later', [JSON.stringify({ n: 1 })]);
    await waitFor('the first event', () => got.length >= 1);
    await server.stop();
    server = await startRedis(port);
    const c2 = await server.client();
    await c2.rPush('later', [JSON.stringify({ n: 2 })]);
    await waitFor('the event after the restart', () => got.length >= 2, 30_000);
    await run.stop();
    await server.stop();
    assert.deepEqual(got, [1, 2]);
  });

  it('logs in with a password and uses the db given, both ways', async () => {
    const secured = await startRedis(undefined, { password: 's3cret' });
    try {
      const c = await secured.client();
      const output = makeOutput(`port => ${secured.port} password => "s3cret" db => 3 key => "auth" data_type => "list"`);
      await output.write([new PipelineEvent({ message: 'in db 3' })]);
      await output.close();
      assert.equal(await c.lLen('auth'), 0, 'not in db 0');
      await c.select(3);
      assert.equal(await c.lLen('auth'), 1);
      const got: unknown[] = [];
      const run = runInput(`port => ${secured.port} password => "s3cret" db => 3 key => "auth" data_type => "list"`, async (events) => void got.push(...events.map((e) => e.fields.message)));
      await waitFor('the event', () => got.length >= 1);
      await run.stop();
      assert.deepEqual(got, ['in db 3']);
    } finally {
      await secured.stop();
    }
  });

  it('pushes events to lists named by sprintf keys, in batches, in order', async () => {
    const c = await redis.client();
    const output = makeOutput(`host => ["127.0.0.1:${redis.port}"] key => "out-%{type}" data_type => "list" batch => true batch_events => 7`);
    await output.start();
    const events = Array.from({ length: 50 }, (_, i) => new PipelineEvent({ message: `e${i}`, type: i % 2 ? 'odd' : 'even' }));
    await output.write(events);
    await output.close();
    const odd = (await c.lRange('out-odd', 0, -1)).map((t) => JSON.parse(t));
    const even = (await c.lRange('out-even', 0, -1)).map((t) => JSON.parse(t));
    assert.equal(odd.length, 25);
    assert.deepEqual(even.map((e) => e.message), events.filter((_, i) => i % 2 === 0).map((e) => e.fields.message));
    assert.equal(typeof odd[0]['@timestamp'], 'string');
  });

  it('publishes events on a channel', async () => {
    const c = await redis.client();
    const sub = c.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    const got: string[] = [];
    await sub.subscribe('out-channel', (m: string) => void got.push(m));
    const output = makeOutput(`port => ${redis.port} key => "out-channel" data_type => "channel" codec => line { format => "%{message}!" }`);
    await output.start();
    await output.write([new PipelineEvent({ message: 'a' }), new PipelineEvent({ message: 'b' })]);
    await waitFor('2 messages', () => got.length >= 2);
    await output.close();
    sub.destroy();
    assert.deepEqual(got, ['a!', 'b!']);
  });

  it('holds a write while Redis is down and resolves it once Redis has the events', async () => {
    const port = await freePort();
    const logs: string[] = [];
    const output = makeOutput(`port => ${port} key => "held" data_type => "list" reconnect_interval => 0.05 timeout => 0.5`, new AbortController().signal, logs);
    await output.start();
    let resolved = false;
    const write = output.write([new PipelineEvent({ message: 'kept' })]).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(resolved, false, 'no Redis, no resolve');
    const server = await startRedis(port);
    await write;
    const c = await server.client();
    assert.equal(JSON.parse((await c.lRange('held', 0, -1))[0]).message, 'kept');
    await output.close();
    await server.stop();
    assert.ok(logs.some((l) => l.startsWith('warn')));
  });

  it('refuses settings Logstash requires or does not know', () => {
    const bad = (config: string) => () => buildPipeline(parseConfig(config), context(new AbortController().signal, []));
    assert.throws(bad('input { redis { data_type => "list" } } output { stdout {} }'), (e: Error) => e instanceof PipelineConfigError && /"key" is required/.test(e.message));
    assert.throws(bad('input { redis { key => "k" } } output { stdout {} }'), /"data_type" is required/);
    assert.throws(bad('input { redis { key => "k" data_type => "set" } } output { stdout {} }'), /data_type/);
    assert.throws(bad('input { stdin {} } output { redis { data_type => "list" } }'), /"key" is required/);
    assert.throws(bad('input { stdin {} } output { redis { key => "k" data_type => "list" batch_event => 3 } }'), /did you mean "batch_events"/);
  });

  it('loses nothing when `logmill pipeline` is killed with SIGKILL mid-stream and started again', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logmill-redis-kill-'));
    const c = await redis.client();
    const total = 20_000;
    for (let i = 0; i < total; i += 1000) await c.rPush('kill', Array.from({ length: 1000 }, (_, j) => JSON.stringify({ id: i + j })));
    const out = path.join(dir, 'out.log');
    const config = `input { redis { port => ${redis.port} key => "kill" data_type => "list" batch_count => 50 } } output { file { path => "${out}" } }`;
    let stderr = '';
    const launch = () => {
      const child = spawn(path.join(repo, 'bin/logmill'), ['pipeline', '-e', config, '--log-level', 'warn'], { env: { ...process.env, LOGMILL_DATA: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return child;
    };
    /** A run that ended by itself (it could not start, it failed) ends the test with what it said. */
    const alive = (child: ReturnType<typeof launch>) => {
      if (child.exitCode !== null) throw new Error(`logmill pipeline exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
    };
    // A line torn by the kill is left out: its batch was not acknowledged and comes again whole.
    const parse = (line: string): number[] => {
      try {
        return [JSON.parse(line).id as number];
      } catch {
        return [];
      }
    };
    const ids = (): number[] => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).flatMap(parse) : []);
    const children: Array<ReturnType<typeof launch>> = [];
    t.after(() => {
      // A failed assertion must not leave a pipeline process running (the test runner would wait for it).
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const first = launch();
    children.push(first);
    await waitFor('some events in the file', () => (alive(first), ids().length >= 2000), 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${ids().length}; stderr: ${stderr.slice(-2000)}`);
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const afterKill = ids().length;
    assert.ok(afterKill < total, `killed mid-stream (${afterKill} of ${total})`);
    const second = launch();
    children.push(second);
    await waitFor('every event', () => (alive(second), new Set(ids()).size >= total), 60_000).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${new Set(ids()).size} of ${total}, ${await c.lLen('kill')} in the list, ${await c.lLen('kill:processing')} in processing; stderr: ${stderr.slice(-2000)}`);
    });
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    const seen = new Set(ids());
    for (let i = 0; i < total; i++) assert.ok(seen.has(i), `event ${i} is in the file`);
    assert.equal(await c.lLen('kill:processing'), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
