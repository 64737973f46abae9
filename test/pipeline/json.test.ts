/** The json filter, run in pipelines built from config text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { MAX_JSON_DEPTH } from '../../src/pipeline/filters/json.js';
import { runLines as run, buildWithFilter as build, testContext } from '../helpers/pipeline.js';

describe('json filter', () => {
  it('merges an object into the event, reading @timestamp as the event time', async () => {
    const [e] = await run(`json { source => "message" add_tag => ["parsed"] }`, ['{"user":{"id":7,"name":"ann"},"level":"info","@timestamp":"2024-05-01T10:00:00.5+02:00","tags":["in"]}']);
    assert.deepEqual(e.user, { id: 7, name: 'ann' });
    assert.equal(e.level, 'info');
    assert.equal(e['@timestamp'], '2024-05-01T08:00:00.500Z');
    assert.deepEqual(e.tags, ['in', 'parsed'], 'tags from the JSON, then add_tag');
  });

  it('keeps a @timestamp that is not a time in _@timestamp, tagged _timestampparsefailure', async () => {
    const [e] = await run(`json { source => "message" }`, ['{"@timestamp":"yesterday-ish","a":1}']);
    assert.equal(e['_@timestamp'], 'yesterday-ish');
    assert.deepEqual(e.tags, ['_timestampparsefailure']);
    assert.equal(e.a, 1);
    assert.ok(!Number.isNaN(Date.parse(e['@timestamp'])));
  });

  it('keeps tags that are not texts in _tags, tagged _tagsparsefailure, as Logstash 8', async () => {
    const [e] = await run(`json { source => "message" }`, ['{"tags":{"a":1},"@timestamp":"bad"}']);
    assert.deepEqual(e._tags, { a: 1 });
    assert.deepEqual(e.tags.sort(), ['_tagsparsefailure', '_timestampparsefailure']);
  });

  it('puts any JSON value under target, and leaves @timestamp inside it alone', async () => {
    const events = await run(`json { source => "message" target => "[doc][body]" }`, ['[1,2,{"x":null}]', '"text"', '{"@timestamp":"not a time"}']);
    assert.deepEqual(events[0].doc.body, [1, 2, { x: null }]);
    assert.equal(events[1].doc.body, 'text');
    assert.deepEqual(events[2].doc.body, { '@timestamp': 'not a time' });
    assert.equal(events[2].tags, undefined);
  });

  it('tags _jsonparsefailure for bad JSON and for a non-object without target; the batch goes on', async () => {
    const logs: string[] = [];
    const events = await run(`json { source => "message" add_field => { "ok" => "yes" } }`, ['{"a":1}', '{"a":', '42', '{"b":2}'], logs);
    assert.equal(events.length, 4);
    assert.equal(events[0].ok, 'yes');
    assert.deepEqual(events[1].tags, ['_jsonparsefailure']);
    assert.equal(events[1].message, '{"a":', 'the text stays');
    assert.equal(events[1].ok, undefined, 'no add_field on failure');
    assert.deepEqual(events[2].tags, ['_jsonparsefailure']);
    assert.equal(events[3].b, 2);
    assert.ok(logs.filter((l) => l.startsWith('warn')).length >= 2);
  });

  it('skips invalid JSON silently with skip_on_invalid_json, and uses tag_on_failure', async () => {
    const [skipped] = await run(`json { source => "message" skip_on_invalid_json => true }`, ['nope']);
    assert.equal(skipped.tags, undefined);
    const [tagged] = await run(`json { source => "message" tag_on_failure => ["bad_json", "x"] }`, ['nope']);
    assert.deepEqual(tagged.tags, ['bad_json', 'x']);
  });

  it('leaves an event without the source field alone', async () => {
    const [e] = await run(`json { source => "payload" add_tag => ["t"] }`, ['{"a":1}']);
    assert.equal(e.a, undefined);
    assert.equal(e.tags, undefined);
  });

  it('refuses JSON nested deeper than the limit, without throwing', async () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    const fine = '{"a":' + '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1) + ',"s":"[[[["}';
    const events = await run(`json { source => "message" target => "t" }`, [deep, fine]);
    assert.deepEqual(events[0].tags, ['_jsonparsefailure']);
    assert.equal(events[1].tags, undefined, 'brackets inside strings do not count');
    assert.equal(events[1].t.s, '[[[[');
  });

  it('merges @metadata into the metadata, which no output ships', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const config = `input { stdin {} } filter { json { source => "message" } } output { stdout { codec => line { format => "%{[@metadata][index]} %{a}" } } }`;
    const pipeline = buildPipeline(parseConfig(config), testContext([], stdin, stdout));
    stdin.end('{"@metadata":{"index":"logs-x"},"a":"b"}\n');
    await pipeline.run();
    assert.equal(text.trim(), 'logs-x b');
  });

  it('tags, rather than throws, when the target is @metadata itself and the JSON is no object', async () => {
    const events = await run(`json { source => "message" target => "[@metadata]" }`, ['[1]', '{"a":1}']);
    assert.deepEqual(events[0].tags, ['_jsonparsefailure']);
    assert.equal(events[1].tags, undefined);
  });

  it('requires source and refuses unknown settings', () => {
    assert.throws(() => build(`json { }`), (e: unknown) => e instanceof PipelineConfigError && /setting "source" is required/.test(e.message));
    assert.throws(() => build(`json { source => "m" skip_invalid => true }`), /unknown setting "skip_invalid"/);
  });
});
