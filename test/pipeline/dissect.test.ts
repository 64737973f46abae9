/** The dissect filter, run in a pipeline built from config text, as a Logstash user would write it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { compileDissection, dissect } from '../../src/pipeline/filters/dissect.js';
import { sharedData } from '../helpers/shared-data.js';
import { runLines as run, buildWithFilter as build } from '../helpers/pipeline.js';

describe('dissect filter', () => {
  it('cuts a syslog line, appending %{+ts} with the delimiter before it and skipping %{}', async () => {
    const [e] = await run(`dissect { mapping => { "message" => "%{ts} %{+ts} %{+ts} %{src} %{} %{prog}[%{pid}]: %{msg}" } add_tag => ["cut"] }`, ['Mar 16 00:01:25 evita skip-this postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]']);
    assert.equal(e.ts, 'Mar 16 00:01:25');
    assert.equal(e.src, 'evita');
    assert.equal(e.prog, 'postfix/smtpd');
    assert.equal(e.pid, '1713');
    assert.equal(e.msg, 'connect from camomile.cloud9.net[168.100.1.3]', 'the last field takes the rest');
    assert.deepEqual(e.tags, ['cut']);
    assert.equal(Object.keys(e).includes(''), false);
  });

  it('orders appends by /N, pairs %{?k} with %{&k}, skips padding with ->, and nests [a][b]', async () => {
    const [e] = await run(`dissect { mapping => { "message" => "%{+name/2} %{+name/1}|%{?key}=%{&key}|%{level->}|%{[http][status]}" } }`, ['world hello|user=alice|INFO|||||200']);
    assert.equal(e.name, 'hello world');
    assert.equal(e.user, 'alice');
    assert.equal(e.level, 'INFO');
    assert.deepEqual(e.http, { status: '200' });
  });

  it('converts with convert_datatype (Ruby to_i / to_f) and handles several mappings', async () => {
    const [e] = await run(`dissect { mapping => { "message" => "%{a},%{b},%{c}" } convert_datatype => { "a" => "int" "b" => "float" "c" => "int" } }`, ['42,2.5e1,x']);
    assert.equal(e.a, 42);
    assert.equal(e.b, 25);
    assert.equal(e.c, 0);
  });

  it('tags _dissectfailure (or tag_on_failure) when a delimiter is missing, and goes on with the batch', async () => {
    const logs: string[] = [];
    const events = await run(`dissect { mapping => { "message" => "%{a} - %{b}" } add_tag => ["ok"] }`, ['one - two', 'no delimiter here', 'three - four'], logs);
    assert.equal(events.length, 3);
    assert.deepEqual([events[0].b, events[2].b], ['two', 'four']);
    assert.deepEqual(events[1].tags, ['_dissectfailure']);
    assert.equal(events[1].a, undefined, 'a failed dissection sets nothing');
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('does not fit')));
    const [custom] = await run(`dissect { mapping => { "message" => "%{a}|%{b}" } tag_on_failure => ["bad_cut"] }`, ['nothing']);
    assert.deepEqual(custom.tags, ['bad_cut']);
  });

  it('tags an event whose field is missing', async () => {
    const [e] = await run(`dissect { mapping => { "nothere" => "%{a} %{b}" } }`, ['x y']);
    assert.deepEqual(e.tags, ['_dissectfailure']);
  });

  it('reads 10,000 real Apache access lines as an independent regular expression reads them', async () => {
    const lines = readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').filter(Boolean);
    const pattern = '%{clientip} %{ident} %{auth} [%{timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{response} %{bytes} "%{referrer}" "%{agent}"';
    const events = await run(`dissect { mapping => { "message" => '${pattern}' } convert_datatype => { "response" => "int" } }`, lines);
    assert.equal(events.length, lines.length);
    const oracle = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) HTTP\/([^"]+)" (\d{3}) (\S+) "([^"]*)" "([^"]*)"$/;
    let compared = 0;
    for (let i = 0; i < lines.length; i++) {
      const m = oracle.exec(lines[i]);
      if (!m) continue;
      compared++;
      const e = events[i];
      assert.deepEqual([e.clientip, e.auth, e.timestamp, e.verb, e.request, e.httpversion, e.response, e.bytes, e.referrer, e.agent], [m[1], m[3], m[4], m[5], m[6], m[7], Number(m[8]), m[9], m[10], m[11]], lines[i]);
      assert.equal(e.tags, undefined);
    }
    assert.ok(compared > 9900, `compared ${compared}`);
  });

  it('compiles patterns once and dissects prefixes and trailing text', () => {
    const d = compileDissection('[%{ts}] %{level}: %{msg}');
    assert.deepEqual(dissect(d, '[2024-01-01] WARN: disk full'), ['2024-01-01', 'WARN', 'disk full']);
    assert.equal(dissect(d, '2024-01-01 WARN disk'), null);
  });

  it('refuses patterns that cannot work and unknown conversion types, naming the setting', () => {
    const cases: Array<[string, RegExp]> = [
      [`dissect { mapping => { "message" => "%{a}%{b}" } }`, /setting "mapping".*no delimiter between/],
      [`dissect { mapping => { "message" => "no fields" } }`, /setting "mapping".*has no %\{…\} field/],
      [`dissect { mapping => { "message" => "%{a} %{&b}" } }`, /without a "%\{\?b\}"/],
      [`dissect { mapping => { "message" => "%{a} %{b" } }`, /never closed/],
      [`dissect { mapping => { "message" => "%{a} %{@metadata}" } }`, /cannot capture into @metadata itself/],
      [`dissect { mapping => { "message" => "%{a} %{b}" } convert_datatype => { "a" => "long" } }`, /setting "convert_datatype" names an unknown type "long"/],
      [`dissect { mapping => { "message" => "%{a} %{b}" } mappings => {} }`, /unknown setting "mappings"/],
    ];
    for (const [config, expected] of cases) assert.throws(() => build(config), (e: unknown) => e instanceof PipelineConfigError && expected.test(e.message), config);
  });
});
