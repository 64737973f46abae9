/** The split filter, run in pipelines built from config text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { MAX_PIECES } from '../../src/pipeline/filters/split.js';
import { UNWATCHED, type PipelineLogger } from '../../src/pipeline/plugin.js';

function context(logs: string[], stdin = new PassThrough(), stdout = new PassThrough()) {
  const keep = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return { logger, signal: new AbortController().signal, stdin, stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() };
}

function build(filter: string): void {
  buildPipeline(parseConfig(`input { stdin {} } filter { ${filter} } output { stdout {} }`), context([]));
}

/** Runs the filter over JSON-lines input, so events can hold lists and newlines. */
async function runJson(filter: string, inputs: unknown[], logs: string[] = []): Promise<Array<Record<string, any>>> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const config = `input { stdin { codec => json_lines } } filter { ${filter} } output { stdout { codec => json_lines } }`;
  const pipeline = buildPipeline(parseConfig(config), context(logs, stdin, stdout));
  stdin.end(inputs.map((m) => JSON.stringify(m)).join('\n') + '\n');
  await pipeline.run();
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('split filter', () => {
  it('makes one event per line of a message, leaving out empty lines, in the batch order', async () => {
    const events = await runJson(`split { add_tag => ["piece"] }`, [{ message: 'a\nb\n\nc\n', n: 1 }, { message: 'single', n: 2 }, { message: 'last\n', n: 3 }, { message: '\n\n', n: 4 }]);
    assert.deepEqual(events.map((e) => [e.message, e.n]), [['a', 1], ['b', 1], ['c', 1], ['single', 2], ['last', 3]]);
    assert.deepEqual(events[0].tags, ['piece']);
    assert.equal(events[3].tags, undefined, 'a message without the terminator is left as it is');
    assert.deepEqual(events[4].tags, ['piece'], 'a message with a terminator is split, even into one piece');
  });

  it('splits a list into one event per element, deep copies that do not share anything', async () => {
    const events = await runJson(`split { field => "items" target => "item" } mutate { add_field => { "[meta][seen]" => "%{[item][id]}" } }`, [{ items: [{ id: 1 }, { id: 2 }], meta: { from: 'x' } }]);
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.item.id), [1, 2]);
    assert.deepEqual(events[0].meta, { from: 'x', seen: '1' });
    assert.deepEqual(events[1].meta, { from: 'x', seen: '2' }, 'changing one copy did not change the other');
    assert.equal(events[0].items.length, 2, 'with a target the list stays');
  });

  it('cuts at a terminator of several characters', async () => {
    const events = await runJson(`split { terminator => "||" field => "[a][b]" }`, [{ a: { b: 'x||y|z||' } }]);
    assert.deepEqual(events.map((e) => e.a.b), ['x', 'y|z']);
  });

  it('leaves missing or empty fields alone and tags a field that is neither text nor list', async () => {
    const logs: string[] = [];
    const events = await runJson(`split { field => "f" }`, [{ other: 1 }, { f: '' }, { f: [] }, { f: 42 }, { f: { a: 1 } }], logs);
    assert.equal(events.length, 5);
    assert.equal(events[0].tags, undefined);
    assert.equal(events[1].tags, undefined);
    assert.deepEqual(events[2].f, []);
    assert.deepEqual(events[3].tags, ['_split_type_failure']);
    assert.deepEqual(events[4].tags, ['_split_type_failure']);
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('only strings and arrays')));
  });

  it(`leaves whole, tagged, an event that would make more than ${MAX_PIECES} events`, async () => {
    const events = await runJson(`split {}`, [{ message: 'x\n'.repeat(MAX_PIECES + 1) }, { message: 'a\nb' }]);
    assert.equal(events.length, 3);
    assert.deepEqual(events[0].tags, ['_split_limit_failure']);
    assert.deepEqual([events[1].message, events[2].message], ['a', 'b']);
  });

  it('works on what the generator makes, in a conditional', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const config = `input { generator { lines => ["a,b,c", "z"] count => 1 } } filter { if [message] =~ /,/ { split { terminator => "," } } } output { stdout { codec => line { format => "%{message}" } } }`;
    await buildPipeline(parseConfig(config), context([], new PassThrough(), stdout)).run();
    assert.deepEqual(text.trim().split('\n').sort(), ['a', 'b', 'c', 'z']);
  });

  it('refuses an empty terminator, and @metadata itself as the place for pieces', () => {
    assert.throws(() => build(`split { terminator => "" }`), (e: unknown) => e instanceof PipelineConfigError && /setting "terminator" must not be empty/.test(e.message));
    assert.throws(() => build(`split { target => "@metadata" }`), (e: unknown) => e instanceof PipelineConfigError && /setting "target" cannot be @metadata itself/.test(e.message));
  });
});
