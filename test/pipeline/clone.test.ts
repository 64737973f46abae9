/** The clone filter, run in pipelines built from config text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { runLines as run, buildWithFilter as build, testContext } from '../helpers/pipeline.js';

describe('clone filter', () => {
  it('sends the original first, then one copy per type, decorating the copies only', async () => {
    const events = await run(`clone { clones => ["audit", "archive"] add_tag => ["cloned"] add_field => { "copy_of" => "%{message}" } }`, ['hello', 'world']);
    assert.equal(events.length, 6);
    assert.deepEqual(events.map((e) => [e.message, e.type ?? null]), [['hello', null], ['hello', 'audit'], ['hello', 'archive'], ['world', null], ['world', 'audit'], ['world', 'archive']]);
    assert.equal(events[0].tags, undefined, 'the original is not decorated');
    assert.deepEqual(events[1].tags, ['cloned']);
    assert.equal(events[1].copy_of, 'hello');
  });

  it('makes deep copies: a later filter that changes a copy leaves the original alone', async () => {
    const events = await run(`mutate { add_field => { "[n][a]" => "1" } } clone { clones => ["c"] } if [type] == "c" { mutate { replace => { "[n][a]" => "changed" } } }`, ['x']);
    const byType = new Map(events.map((e) => [e.type ?? 'original', e.n.a]));
    assert.equal(events.length, 2);
    assert.equal(byType.get('original'), '1');
    assert.equal(byType.get('c'), 'changed');
  });

  it('copies @metadata too', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const config = `input { generator { lines => ["m"] count => 1 } } filter { mutate { add_field => { "[@metadata][k]" => "v" } } clone { clones => ["t"] } } output { stdout { codec => line { format => "%{[@metadata][k]} %{type}" } } }`;
    await buildPipeline(parseConfig(config), testContext([], new PassThrough(), stdout)).run();
    assert.deepEqual(text.trim().split('\n'), ['v %{type}', 'v t']);
  });

  it('warns when clones is empty and passes events through', async () => {
    const logs: string[] = [];
    const events = await run(`clone { }`, ['a'], logs);
    assert.equal(events.length, 1);
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('"clones" is empty')));
  });

  it('refuses unknown settings', () => {
    assert.throws(() => build(`clone { clone => ["a"] }`), (e: unknown) => e instanceof PipelineConfigError && /unknown setting "clone"/.test(e.message));
  });
});
