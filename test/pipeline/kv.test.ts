/** The kv filter, run in pipelines built from config text, on real firewall lines among others. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { MAX_KV_PAIRS } from '../../src/pipeline/filters/kv.js';
import { runLines as run, buildWithFilter as build, testContext } from '../helpers/pipeline.js';

const FORTIGATE = 'date=2024-05-01 time=10:00:01 devname="FG100E" devid="FG100E3G16000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.5 srcport=51234 srcintf="port1" dstip=93.184.216.34 dstport=443 action="accept" policyid=12 service="HTTPS" proto=6 duration=62 sentbyte=1834 rcvdbyte=5230 msg="allowed by policy"';
const IPTABLES = 'IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:00:16:3e:1d:2f:01:08:00 SRC=192.168.1.5 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0';

describe('kv filter', () => {
  it('reads a FortiGate traffic line, quoted values whole and unquoted', async () => {
    const [e] = await run(`kv { add_tag => ["kv"] }`, [FORTIGATE]);
    assert.equal(e.devname, 'FG100E');
    assert.equal(e.srcip, '10.1.1.5');
    assert.equal(e.dstport, '443');
    assert.equal(e.msg, 'allowed by policy');
    assert.equal(e.type, 'traffic');
    assert.deepEqual(e.tags, ['kv']);
  });

  it('reads an iptables line: in strict mode an empty OUT= and bare words like DF are left out', async () => {
    const [lenient] = await run(`kv {}`, [IPTABLES]);
    assert.equal(lenient.OUT, 'MAC=00:16:3e:5e:6c:00:00:16:3e:1d:2f:01:08:00', 'lenient mode reads across the space after "=", as Logstash does');
    const [e] = await run(`kv { target => "fw" whitespace => "strict" }`, [IPTABLES]);
    assert.equal(e.fw.IN, 'eth0');
    assert.equal('OUT' in e.fw, false);
    assert.equal(e.fw.MAC, '00:16:3e:5e:6c:00:00:16:3e:1d:2f:01:08:00');
    assert.equal(e.fw.DPT, '22');
    assert.equal(e.fw.URGP, '0');
    assert.equal(Object.keys(e.fw).some((k) => k.includes('DF') || k.includes('SYN')), false);
  });

  it('splits at any character of field_split and value_split, and removes brackets', async () => {
    const [e] = await run(`kv { field_split => "&?" value_split => ":" }`, ['?pin:12345~0&d:123&e:(hello world)&f:[x y]&g:<z>']);
    assert.equal(e.pin, '12345~0');
    assert.equal(e.d, '123');
    assert.equal(e.e, 'hello world');
    assert.equal(e.f, 'x y');
    assert.equal(e.g, 'z');
    const [kept] = await run(`kv { include_brackets => false }`, ['a=(hello world) b=2']);
    assert.equal(kept.a, '(hello');
    assert.equal(kept.b, '2');
  });

  it('trims, removes characters, transforms, prefixes, and chooses keys', async () => {
    const [e] = await run(
      `kv { trim_key => "<>" trim_value => "<>," remove_char_key => "-" transform_key => "lowercase" transform_value => "uppercase" prefix => "p_" exclude_keys => ["skip"] default_keys => { "p_missing" => "dflt" "p_user" => "nobody" } }`,
      ['<User-Name>=<bob>, <Skip>=1 Host=web,'],
    );
    assert.equal(e.p_username, 'BOB');
    assert.equal(e.p_host, 'WEB');
    assert.equal(e.p_skip, undefined);
    assert.equal(e.p_missing, 'dflt', 'default_keys fill in missing keys');
    assert.equal(e.p_user, 'nobody');
    const [only] = await run(`kv { include_keys => ["a", "%{pick}"] }`, ['a=1 b=2 c=3']);
    assert.deepEqual([only.a, only.b, only.c], ['1', undefined, undefined]);
    const [cap] = await run(`kv { transform_key => "capitalize" }`, ['hELLO=1']);
    assert.equal(cap.Hello, '1');
  });

  it('makes an array of a repeated key, without repeats when allow_duplicate_values is false', async () => {
    const [dup] = await run(`kv {}`, ['a=1 a=2 a=1']);
    assert.deepEqual(dup.a, ['1', '2', '1']);
    const [unique] = await run(`kv { allow_duplicate_values => false }`, ['a=1 a=2 a=1 b=3 b=3']);
    assert.deepEqual(unique.a, ['1', '2']);
    assert.equal(unique.b, '3');
  });

  it('reads nested pairs with recursive', async () => {
    // Brackets do not nest (nor in Logstash): the inner pair uses other brackets.
    const [e] = await run(`kv { recursive => true }`, ['a=[b=1 c=(d=2)] e=3']);
    assert.deepEqual(e.a, { b: '1', c: { d: '2' } });
    assert.equal(e.e, '3');
    const [flat] = await run(`kv {}`, ['a=[b=1 c=2]']);
    assert.equal(flat.a, 'b=1 c=2');
  });

  it('is lenient with spaces around the splitter by default, and strict when asked', async () => {
    const [lenient] = await run(`kv {}`, ['a = 1 b= c=3']);
    assert.equal(lenient.a, '1');
    assert.equal(lenient.b, 'c=3', 'Logstash lenient mode reads past the space after "="');
    const [strict] = await run(`kv { whitespace => "strict" }`, ['a = 1 b= c=3']);
    assert.equal(strict.a, undefined);
    assert.equal(strict.b, undefined, 'an empty value is left out');
    assert.equal(strict.c, '3');
  });

  it('splits with field_split_pattern and value_split_pattern (regular expressions)', async () => {
    const [e] = await run(`kv { field_split_pattern => ",\\s*" value_split_pattern => ":\\s*" }`, ['k1: v1, k2:v2,k3:  "v 3"']);
    assert.equal(e.k1, 'v1');
    assert.equal(e.k2, 'v2');
    assert.equal(e.k3, 'v 3');
    const [multi] = await run(`kv { field_split_pattern => "\\|\\|" value_split => "=" }`, ['a=1||b=x|y||c=3']);
    assert.deepEqual([multi.a, multi.b, multi.c], ['1', 'x|y', '3']);
  });

  it('reads each text of a list, and tags a field it cannot read', async () => {
    const events = await run(`kv { source => "[parts]" } mutate { }`, ['x']);
    assert.equal(events[0].tags, undefined, 'a missing source is no failure');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const config = `input { stdin { codec => json_lines } } filter { kv { source => "parts" } } output { stdout { codec => json_lines } }`;
    const pipeline = buildPipeline(parseConfig(config), testContext([], stdin, stdout));
    stdin.end(JSON.stringify({ parts: ['a=1', 'b=2', 3] }) + '\n' + JSON.stringify({ parts: { no: 'text' } }) + '\n');
    await pipeline.run();
    const [list, hash] = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual([list.a, list.b], ['1', '2']);
    assert.deepEqual(hash.tags, ['_kv_filter_error']);
  });

  it(`reads at most ${MAX_KV_PAIRS} pairs from one event and tags the rest as an error`, async () => {
    const line = Array.from({ length: MAX_KV_PAIRS + 500 }, (_, i) => `k${i}=v${i}`).join(' ');
    const [e] = await run(`kv { target => "kv" }`, [line]);
    assert.equal(Object.keys(e.kv).length, MAX_KV_PAIRS);
    assert.equal(e.kv.k0, 'v0');
    assert.equal(e.kv[`k${MAX_KV_PAIRS}`], undefined);
    assert.deepEqual(e.tags, ['_kv_filter_error']);
  });

  it('never sets @metadata, @timestamp or __proto__ at the top', async () => {
    const [e] = await run(`kv {}`, ['@metadata=x @timestamp=y __proto__=z ok=1']);
    assert.equal(e.ok, '1');
    assert.ok(!Number.isNaN(Date.parse(e['@timestamp'])));
    assert.equal(Object.getPrototypeOf(e), Object.prototype);
  });

  it('runs a *_pattern under the watchdog and tags the event when the watchdog refuses it', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const armed: number[] = [];
    const watchdog = { arm: (ms: number) => (armed.push(ms), false), disarm: () => {} };
    const config = `input { stdin {} } filter { kv { value_split_pattern => "=" timeout_millis => 250 } kv { target => "plain" } } output { stdout { codec => json_lines } }`;
    const pipeline = buildPipeline(parseConfig(config), { ...testContext([], stdin, stdout), watchdog });
    stdin.end('a=1\n');
    await pipeline.run();
    const [e] = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(armed, [250]);
    assert.deepEqual(e.tags, ['_kv_filter_timeout']);
    assert.equal(e.a, undefined);
    assert.deepEqual(e.plain, { a: '1' }, 'the character-set scanner needs no watchdog');
  });

  it('refuses bad settings, naming them', () => {
    const cases: Array<[string, RegExp]> = [
      [`kv { whitespace => "loose" }`, /setting "whitespace" must be one of lenient, strict/],
      [`kv { transform_key => "title" }`, /setting "transform_key" must be one of/],
      [`kv { value_split => "" }`, /setting "value_split" must not be empty/],
      [`kv { field_split_pattern => "(" }`, /setting "field_split_pattern" is not a valid regular expression/],
      [`kv { field_splt => "," }`, /did you mean "field_split"/],
    ];
    for (const [config, expected] of cases) assert.throws(() => build(config), (e: unknown) => e instanceof PipelineConfigError && expected.test(e.message), config);
  });
});
