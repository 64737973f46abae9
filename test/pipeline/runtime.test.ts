/**
 * The pipeline run in-process: generator and stdin inputs, conditionals, mutate and drop, and the
 * stdout output writing JSON lines into a stream the test reads. What comes out is what a user of
 * Logstash would see from the same configuration.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import os from 'node:os';
import { UNWATCHED, type PipelineLogger } from '../../src/pipeline/plugin.js';

interface Run {
  events: Array<Record<string, any>>;
  text: string;
  logs: string[];
}

function quietLogger(logs: string[]): PipelineLogger {
  const keep = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

async function runConfig(config: string, stdinText?: string): Promise<Run> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const logs: string[] = [];
  const pipeline = buildPipeline(parseConfig(config), { logger: quietLogger(logs), signal: new AbortController().signal, stdin, stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() });
  if (stdinText !== undefined) stdin.end(stdinText);
  await pipeline.run();
  const lines = text.split('\n').filter(Boolean);
  const events = lines.every((l) => l.startsWith('{"')) ? lines.map((l) => JSON.parse(l)) : [];
  return { events, text, logs };
}

function build(config: string): void {
  buildPipeline(parseConfig(config), { logger: quietLogger([]), signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() });
}

describe('pipeline runtime', () => {
  it('generates count events per line, with sequence, host, @timestamp and @version', async () => {
    const { events } = await runConfig(`input { generator { lines => ["a", "b"] count => 3 } } output { stdout { codec => json_lines } }`);
    assert.equal(events.length, 6);
    assert.deepEqual(events.map((e) => e.message), ['a', 'b', 'a', 'b', 'a', 'b']);
    assert.deepEqual(events.map((e) => e.event.sequence), [0, 0, 1, 1, 2, 2]);
    for (const e of events) {
      assert.equal(e['@version'], '1');
      assert.ok(!Number.isNaN(Date.parse(e['@timestamp'])), e['@timestamp']);
      assert.equal(typeof e.host.name, 'string');
    }
  });

  it('reads stdin line by line, the last line without a newline too', async () => {
    const { events } = await runConfig(`input { stdin { type => "app" tags => ["x"] add_field => { "env" => "prod-%{type}" } } } output { stdout { codec => json_lines } }`, 'one\r\ntwo\nthree');
    assert.deepEqual(events.map((e) => e.message), ['one', 'two', 'three']);
    assert.deepEqual(events[0].tags, ['x']);
    assert.equal(events[0].type, 'app');
    assert.equal(events[0].env, 'prod-app');
  });

  it('keeps a stdin line that is not JSON under the json codec, tagged _jsonparsefailure', async () => {
    const { events } = await runConfig(`input { stdin { codec => json_lines } } output { stdout { codec => json_lines } }`, '{"a":1}\nnot json\n[1,2]\n{"b":{"c":true}}\n');
    assert.equal(events.length, 4);
    assert.equal(events[0].a, 1);
    assert.deepEqual(events[1].tags, ['_jsonparsefailure']);
    assert.equal(events[1].message, 'not json');
    assert.deepEqual(events[2].tags, ['_jsonparsefailure']);
    assert.equal(events[3].b.c, true);
  });

  it('sends each event down the first branch whose condition holds', async () => {
    const config = `
      input { stdin { codec => json_lines } }
      filter {
        if [status] >= 500 and [method] in ["GET", "HEAD"] { mutate { add_tag => ["server_error"] } }
        else if [status] >= 400 or [path] =~ /^\\/admin/ { mutate { add_field => { "class" => "client-%{status}" } } }
        else if ![status] { drop {} }
        else { mutate { replace => { "class" => "ok" } } }
        if "server_error" not in [tags] { mutate { add_tag => ["fine"] } }
      }
      output { stdout { codec => json_lines } }`;
    const input = [
      { status: 503, method: 'GET' },
      { status: 503, method: 'POST' },
      { status: 404, method: 'GET' },
      { status: 200, path: '/admin/x' },
      { method: 'GET' },
      { status: 200, path: '/' },
    ];
    const { events } = await runConfig(config, input.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const byShape = new Map(events.map((e) => [`${e.status}:${e.method ?? ''}:${e.path ?? ''}`, e]));
    assert.equal(events.length, 5, 'the event without status is dropped');
    assert.deepEqual(byShape.get('503:GET:')?.tags, ['server_error']);
    assert.equal(byShape.get('503:GET:')?.class, undefined, 'an event takes one branch only');
    assert.equal(byShape.get('503:POST:')?.class, 'client-503');
    assert.equal(byShape.get('404:GET:')?.class, 'client-404');
    assert.equal(byShape.get('200::/admin/x')?.class, 'client-200', 'or: the path matches');
    assert.equal(byShape.get('200::/')?.class, 'ok');
    for (const key of ['503:POST:', '404:GET:', '200::/admin/x', '200::/']) assert.deepEqual(byShape.get(key)?.tags, ['fine'], key);
  });

  it('runs mutate operations in Logstash order, whatever their order in the block', async () => {
    const config = `
      input { stdin { codec => json_lines } }
      filter {
        mutate {
          copy => { "n" => "n_copy" }
          lowercase => ["name"]
          convert => { "n" => "integer" "f" => "float" "b" => "boolean" "s" => "string" }
          rename => { "old" => "[nested][new]" }
          gsub => ["path", "/", "_"]
          split => { "csv" => "," }
          strip => ["pad"]
          remove_field => ["junk"]
          add_tag => ["mutated_%{name}"]
        }
      }
      output { stdout { codec => json_lines } }`;
    const { events } = await runConfig(config, JSON.stringify({ n: '1,234.9', f: '2.5', b: 'yes', s: 7, name: 'MiXed', old: 'v', path: '/a/b', csv: 'x,y', pad: '  p  ', junk: 1 }) + '\n');
    const e = events[0];
    assert.equal(e.n, 1234);
    assert.equal(e.n_copy, 1234, 'copy runs after convert');
    assert.equal(e.f, 2.5);
    assert.equal(e.b, true);
    assert.equal(e.s, '7');
    assert.equal(e.name, 'mixed');
    assert.deepEqual(e.nested, { new: 'v' });
    assert.equal(e.old, undefined);
    assert.equal(e.path, '_a_b');
    assert.deepEqual(e.csv, ['x', 'y']);
    assert.equal(e.pad, 'p');
    assert.equal(e.junk, undefined);
    assert.deepEqual(e.tags, ['mutated_mixed'], 'add_tag runs after the operations');
  });

  it('leaves an event untouched when a field name made from its data names no field', async () => {
    const config = `input { stdin { codec => json_lines } } filter { mutate { rename => { "a" => "%{to}" } add_field => { "%{to}" => "v" } } } output { stdout { codec => json_lines } }`;
    const { events } = await runConfig(config, JSON.stringify({ a: 1, to: 'x[y' }) + '\n' + JSON.stringify({ a: 2, to: 'b' }) + '\n');
    assert.equal(events.length, 2);
    assert.equal(events[0].a, 1, 'kept where it was');
    assert.equal(events[0]['x[y'], undefined);
    assert.deepEqual(events[1].b, [2, 'v'], 'renamed, then add_field adds to it');
    assert.equal(events[1].a, undefined);
  });

  it('sends an event to every output of the branches it passes, and @metadata to none', async () => {
    const config = `
      input { generator { lines => ["x"] count => 2 } }
      filter { mutate { add_field => { "[@metadata][target]" => "m" } } }
      output {
        stdout { codec => line { format => "A %{message} %{[@metadata][target]} %{[event][sequence]}" } }
        if [event][sequence] == 1 { stdout { codec => line { format => "B %{message} %{missing}" } } }
      }`;
    const { text } = await runConfig(config);
    const lines = text.trim().split('\n').sort();
    assert.deepEqual(lines, ['A x m 0', 'A x m 1', 'B x %{missing}']);
  });

  it('refuses unknown plugins, unknown or ill-typed settings and bad regular expressions, saying where', () => {
    const cases: Array<[string, RegExp]> = [
      ['input { stdn {} } output { stdout {} }', /1:9: unknown input plugin "stdn"; this version has: .*\bgenerator, http\b.*\bstdin\b/],
      ['input { stdin { codec => jsn } } output { stdout {} }', /unknown codec "jsn"/],
      ['input { generator { count => "many" } } output { stdout {} }', /setting "count" must be a whole number, not "many"/],
      ['input { stdin {} }\noutput {\n  stdout { codex => json }\n}', /3:12: unknown setting "codex" for output stdout/],
      ['input { stdin {} } filter { mutate { convert => { "a" => "int" } } } output { stdout {} }', /unknown type "int"/],
      ['input { stdin {} } filter { if [a] =~ /(/ { drop {} } } output { stdout {} }', /is not a regular expression/],
      ['input { stdin {} }', /has no output/],
      ['output { stdout {} }', /has no input/],
      ['input { stdin {} } output { elasticsearch { ilm_enabled => true } }', /ilm_enabled" cannot be true/],
      ['input { stdin {} } output { elasticsearch { password => "${NO_SUCH_VARIABLE_HERE}" user => "u" } }', /environment has no NO_SUCH_VARIABLE_HERE/],
      ['input { stdin {} } output { elasticsearch { hosts => ["ftp://x"] } }', /only http and https/],
    ];
    for (const [config, expected] of cases) {
      assert.throws(() => build(config), (error: unknown) => error instanceof PipelineConfigError && expected.test(error.message), config);
    }
  });

  it('takes ${VAR} and ${VAR:default} from the environment', async () => {
    process.env.LOGMILL_PIPELINE_TEST_WORD = 'from-env';
    const { events } = await runConfig(`input { generator { message => "\${LOGMILL_PIPELINE_TEST_WORD} \${UNSET_FOR_TEST:fallback}" count => 1 } } output { stdout { codec => json_lines } }`);
    assert.equal(events[0].message, 'from-env fallback');
  });
});
