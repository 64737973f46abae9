/** The uuid filter: random version-4 UUIDs, kept or overwritten. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';
import { UNWATCHED, type Filter, type PipelineLogger } from '../../src/pipeline/plugin.js';
import { PipelineEvent, type PipelineObject } from '../../src/pipeline/event.js';
import { filters } from '../../src/pipeline/plugins.js';

function context(logs: string[], stdin = new PassThrough(), stdout = new PassThrough()) {
  const keep = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger, signal: new AbortController().signal, stdin, stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() };
}

/** The filter a `filter { … }` block names, built through the registry as the runtime builds it. */
function filterOf(block: string, logs: string[] = []): Filter {
  const statement = parseConfig(`filter { ${block} }`).sections[0].body[0];
  if (statement.kind !== 'plugin') throw new Error('not a plugin');
  const factory = filters[statement.plugin.name];
  assert.ok(factory, `${statement.plugin.name} is registered`);
  return factory(new Settings(statement.plugin, 'filter'), context(logs));
}

function runOne(block: string, fields: PipelineObject, logs: string[] = []): Record<string, any> {
  const [event] = filterOf(block, logs).process([new PipelineEvent(fields, new Date('2000-01-01T00:00:00Z'))]);
  return event.toJSON();
}

/** Runs `filter { … }` in a whole pipeline over JSON lines on stdin. */
async function runPipeline(block: string, inputs: PipelineObject[]): Promise<Array<Record<string, any>>> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const pipeline = buildPipeline(parseConfig(`input { stdin { codec => json_lines } } filter { ${block} } output { stdout { codec => json_lines } }`), context([], stdin, stdout));
  stdin.end(inputs.map((e) => JSON.stringify(e)).join('\n') + '\n');
  await pipeline.run();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function refuses(block: string, message: RegExp): void {
  assert.throws(() => filterOf(block), (error: Error) => error instanceof PipelineConfigError && message.test(error.message), block);
}

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid filter', () => {
  it('sets target to a distinct version-4 UUID per event', () => {
    const filter = filterOf(`uuid { target => "[event][id]" add_tag => ["id"] }`);
    const events = filter.process(Array.from({ length: 1000 }, () => new PipelineEvent({})));
    const ids = events.map((e) => (e.fields.event as Record<string, string>).id);
    for (const id of ids) assert.match(id, V4);
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual(events[0].tags(), ['id']);
  });

  it('keeps a value already there unless overwrite is true', () => {
    assert.equal(runOne(`uuid { target => "id" }`, { id: 'mine' }).id, 'mine');
    assert.match(runOne(`uuid { target => "id" }`, { id: null }).id, V4, 'null counts as empty, as nil does');
    assert.match(runOne(`uuid { target => "id" overwrite => true }`, { id: 'mine' }).id, V4);
  });

  it('refuses to run without a target', () => {
    refuses(`uuid { }`, /"target" is required/);
    refuses(`uuid { target => "id" overwrite => "sometimes" }`, /"overwrite"/);
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`uuid { target => "uuid" }`, [{ message: 'a' }, { message: 'b' }]);
    assert.equal(events.length, 2);
    assert.notEqual(events[0].uuid, events[1].uuid);
    for (const e of events) assert.match(e.uuid, V4);
  });
});
