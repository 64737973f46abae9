/**
 * The grok filter as users configure it: pipelines built from configuration text, events through the
 * filters, and what comes out. Settings, failures, several patterns and fields, overwrite, conversion,
 * patterns_dir with real files, the watchdog's timeout path, and the Apache sample log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildFilterSteps, runFilterSteps } from '../../src/pipeline/runtime.js';
import { PipelineEvent, type PipelineObject } from '../../src/pipeline/event.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { UNWATCHED, type PipelineLogger, type Watchdog } from '../../src/pipeline/plugin.js';
import { sharedData } from '../helpers/shared-data.js';

interface Built {
  run(fields: PipelineObject | PipelineObject[]): Array<Record<string, any>>;
  logs: string[];
}

function build(filterBody: string, watchdog: Watchdog = UNWATCHED): Built {
  const logs: string[] = [];
  const keep = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  const context = { logger, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog, dataDir: os.tmpdir() };
  const steps = buildFilterSteps(parseConfig(`filter { ${filterBody} }`), context);
  return {
    logs,
    run(fields) {
      const events = (Array.isArray(fields) ? fields : [fields]).map((f) => new PipelineEvent(structuredClone(f)));
      return runFilterSteps(steps, events).map((e) => e.toJSON() as Record<string, any>);
    },
  };
}

function one(filterBody: string, fields: PipelineObject): Record<string, any> {
  return build(filterBody).run(fields)[0];
}

function configError(filterBody: string): string {
  try {
    build(filterBody);
  } catch (error) {
    assert.ok(error instanceof PipelineConfigError, `a PipelineConfigError, not ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected a configuration error for: ${filterBody}`);
}

const APACHE = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)"';

describe('grok filter', () => {
  it('parses an Apache combined line into the legacy fields, as strings', () => {
    const e = one(`grok { match => { "message" => "%{COMBINEDAPACHELOG}" } }`, { message: APACHE });
    assert.equal(e.tags, undefined);
    assert.equal(e.clientip, '83.149.9.216');
    assert.equal(e.ident, '-');
    assert.equal(e.timestamp, '17/May/2015:10:05:03 +0000');
    assert.equal(e.verb, 'GET');
    assert.equal(e.request, '/presentations/logstash-monitorama-2013/images/kibana-search.png');
    assert.equal(e.httpversion, '1.1');
    assert.equal(e.response, '200');
    assert.equal(e.bytes, '203023');
    assert.equal(e.referrer, '"http://semicomplete.com/presentations/logstash-monitorama-2013/"');
    assert.equal(e.agent, '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)"');
    assert.equal(e.message, APACHE, 'message untouched: COMBINEDAPACHELOG captures no "message"');
  });

  it('tags a failure with _grokparsefailure, or the tags of tag_on_failure, and goes on with the batch', () => {
    const built = build(`grok { match => { "message" => "^%{INT:n}$" } }`);
    const out = built.run([{ message: 'x' }, { message: '42' }, { message: '' }]);
    assert.deepEqual(out.map((e) => e.tags), [['_grokparsefailure'], undefined, ['_grokparsefailure']]);
    assert.equal(out[1].n, '42');
    const custom = one(`grok { match => { "message" => "^%{INT:n}$" } tag_on_failure => ["bad", "_nogrok"] }`, { message: 'x' });
    assert.deepEqual(custom.tags, ['bad', '_nogrok']);
    const none = one(`grok { match => { "message" => "^%{INT:n}$" } tag_on_failure => [] }`, { message: 'x' });
    assert.equal(none.tags, undefined);
  });

  it('treats a missing field as no match', () => {
    const e = one(`grok { match => { "nothere" => "%{GREEDYDATA:x}" } }`, { message: 'a' });
    assert.deepEqual(e.tags, ['_grokparsefailure']);
    assert.equal(e.x, undefined);
  });

  it('tries the patterns of a field in order and stops at the first match (break_on_match)', () => {
    const body = `match => { "message" => ["%{INT:number}", "%{WORD:word}"] }`;
    const first = one(`grok { ${body} }`, { message: 'abc 12' });
    assert.equal(first.number, '12');
    assert.equal(first.word, undefined, 'the second pattern is not tried');
    const all = one(`grok { ${body} break_on_match => false }`, { message: 'abc 12' });
    assert.equal(all.number, '12');
    assert.equal(all.word, 'abc');
    const second = one(`grok { ${body} }`, { message: 'abc' });
    assert.equal(second.word, 'abc');
    assert.equal(second.tags, undefined);
  });

  it('matches several fields, and an array field item by item', () => {
    const e = one(`grok { match => { "a" => "%{INT:ai}" "b" => "%{WORD:bw}" } break_on_match => false }`, { a: 'n=5', b: '!! hello' });
    assert.equal(e.ai, '5');
    assert.equal(e.bw, 'hello');
    const broke = one(`grok { match => { "a" => "%{INT:ai}" "b" => "%{WORD:bw}" } }`, { a: 'n=5', b: 'hello' });
    assert.equal(broke.bw, undefined, 'break_on_match stops after the first field that matched');
    const arr = one(`grok { match => { "list" => "^%{INT:num}$" } }`, { list: ['1', 'x', '3'] });
    assert.deepEqual(arr.num, ['1', '3']);
    assert.equal(arr.tags, undefined);
    const number = one(`grok { match => { "code" => "^%{INT:as_text}$" } }`, { code: 404 });
    assert.equal(number.as_text, '404', 'a number is matched as its text');
  });

  it('makes [original, captured] for a capture into message, unless message is in overwrite', () => {
    const body = `match => { "message" => "%{WORD:verb} %{GREEDYDATA:message}" }`;
    const kept = one(`grok { ${body} }`, { message: 'GET /index' });
    assert.deepEqual(kept.message, ['GET /index', '/index']);
    const over = one(`grok { ${body} overwrite => ["message"] }`, { message: 'GET /index' });
    assert.equal(over.message, '/index');
    assert.equal(over.verb, 'GET');
  });

  it('turns a field captured twice into an array, and appends to an array already there', () => {
    const twice = one(`grok { match => { "message" => "%{WORD:w} %{WORD:w}" } }`, { message: 'one two' });
    assert.deepEqual(twice.w, ['one', 'two']);
    const onto = one(`grok { match => { "message" => "%{WORD:w}" } }`, { message: 'three', w: ['one', 'two'] });
    assert.deepEqual(onto.w, ['one', 'two', 'three']);
  });

  it('converts :int and :float as Ruby does (the leading number, 0 when there is none)', () => {
    const e = one(`grok { match => { "message" => "%{NOTSPACE:i:int} %{NOTSPACE:f:float} %{NOTSPACE:z:int} %{NOTSPACE:neg:int} %{NUMBER:n:float} %{NOTSPACE:s:string}" } }`, { message: '12abc 3.5e2x abc -7 0.25 9' });
    assert.deepStrictEqual([e.i, e.f, e.z, e.neg, e.n, e.s], [12, 350, 0, -7, 0.25, '9']);
  });

  it('sets nested fields from [a][b] captures, and puts every capture under target', () => {
    const nested = one(`grok { match => { "message" => "%{IP:[client][ip]} %{WORD:[client][name]}" } }`, { message: '10.0.0.1 alice' });
    assert.deepEqual(nested.client, { ip: '10.0.0.1', name: 'alice' });
    const target = one(`grok { match => { "message" => "%{IP:ip} %{WORD:[who][name]}" } target => "[parsed]" }`, { message: '10.0.0.1 alice' });
    assert.deepEqual(target.parsed, { ip: '10.0.0.1', who: { name: 'alice' } });
    assert.equal(target.ip, undefined);
  });

  it('captures unnamed %{NAME}s only with named_captures_only => false', () => {
    const off = one(`grok { match => { "message" => "%{WORD} %{INT:n}" } named_captures_only => false }`, { message: 'abc 1' });
    assert.equal(off.WORD, 'abc');
    assert.equal(off.n, '1');
    const on = one(`grok { match => { "message" => "%{WORD} %{INT:n}" } }`, { message: 'abc 1' });
    assert.equal(on.WORD, undefined);
  });

  it('drops empty captures unless keep_empty_captures', () => {
    const body = `match => { "message" => "^(?<before>[a-z]*)=%{INT:n}$" }`;
    assert.equal('before' in one(`grok { ${body} }`, { message: '=1' }), false);
    assert.equal(one(`grok { ${body} keep_empty_captures => true }`, { message: '=1' }).before, '');
  });

  it('takes pattern_definitions, which may use and override the library', () => {
    const e = one(`grok { match => { "message" => "%{KEYVAL}" } pattern_definitions => { "KEYVAL" => "%{WORD:key}=%{MYVALUE:value}" "MYVALUE" => "[0-9a-f]+" "INT" => "never" } break_on_match => false }`, { message: 'id=beef' });
    assert.equal(e.key, 'id');
    assert.equal(e.value, 'beef');
    const overridden = one(`grok { match => { "message" => "%{INT:n}" } pattern_definitions => { "INT" => "x+" } }`, { message: '12 xx' });
    assert.equal(overridden.n, 'xx');
  });

  describe('patterns_dir', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'grok-patterns-'));
      writeFileSync(path.join(dir, 'app.grok'), '# an application\nAPPID app-%{INT}\nAPPLINE %{APPID:app} says %{GREEDYDATA:said}\n');
      writeFileSync(path.join(dir, 'other.txt'), 'APPID other-%{WORD}\n');
      mkdirSync(path.join(dir, 'subdir'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads every file of a directory, later names overriding earlier ones', () => {
      const e = one(`grok { match => { "message" => "%{APPLINE}" } patterns_dir => ["${dir}"] }`, { message: 'other-x says hi' });
      assert.equal(e.app, 'other-x', 'other.txt comes after app.grok and redefines APPID');
      assert.equal(e.said, 'hi');
    });

    it('reads only the files that patterns_files_glob names', () => {
      const e = one(`grok { match => { "message" => "%{APPLINE}" } patterns_dir => ["${dir}"] patterns_files_glob => "*.grok" }`, { message: 'app-7 says hi' });
      assert.equal(e.app, 'app-7');
      const other = one(`grok { match => { "message" => "%{APPLINE}" } patterns_dir => ["${dir}"] patterns_files_glob => "*.grok" }`, { message: 'other-x says hi' });
      assert.deepEqual(other.tags, ['_grokparsefailure']);
    });

    it('refuses a directory that does not exist, naming patterns_dir', () => {
      assert.match(configError(`grok { match => { "message" => "%{WORD}" } patterns_dir => ["${dir}/missing"] }`), /setting "patterns_dir".*cannot read patterns/);
    });
  });

  it('refuses configuration mistakes, naming the setting and the pattern', () => {
    assert.match(configError(`grok { match => { "message" => "%{NOPE:x}" } }`), /setting "match".*unknown pattern %\{NOPE\}/);
    assert.match(configError(`grok { match => { "message" => "%{OUTER}" } pattern_definitions => { "OUTER" => "%{INNER}" } }`), /unknown pattern %\{INNER\} \(used by OUTER\)/);
    assert.match(configError(`grok { match => { "message" => "%{LOOP}" } pattern_definitions => { "LOOP" => "a%{LOOP}" } }`), /refers to itself/);
    assert.match(configError(`grok { match => { "message" => "(unclosed" } }`), /setting "match".*invalid regular expression/);
    assert.match(configError(`grok { match => { "message" => "%{WORD}" } pattern_definitions => { "bad name" => "x" } }`), /setting "pattern_definitions"/);
    assert.match(configError(`grok { match => { "message" => "%{WORD}" } break_on_mach => false }`), /unknown setting "break_on_mach".*did you mean "break_on_match"/);
    assert.match(configError(`grok { match => { "message" => "%{WORD}" } timeout_millis => -1 }`), /setting "timeout_millis" must be at least 0/);
    assert.match(configError(`grok { match => "message" }`), /setting "match" must be a hash/);
    assert.match(configError(`grok { match => { "message" => "%{WORD}" } ecs_compatibility => "v9" }`), /setting "ecs_compatibility" must be one of disabled, v1, v8/);
  });

  it('accepts ecs_compatibility, keeping the legacy patterns and saying so', () => {
    const built = build(`grok { match => { "message" => "%{COMBINEDAPACHELOG}" } ecs_compatibility => "v8" }`);
    const [e] = built.run({ message: APACHE });
    assert.equal(e.clientip, '83.149.9.216', 'legacy field names');
    assert.ok(built.logs.some((l) => l.startsWith('warn') && /legacy/.test(l)), built.logs.join('\n'));
    assert.equal(build(`grok { match => { "message" => "%{WORD}" } ecs_compatibility => disabled }`).logs.length, 0);
  });

  it('decorates only the events it matched (add_field, add_tag, remove_field)', () => {
    const out = build(`grok { match => { "message" => "^%{WORD:w}$" } add_tag => ["parsed_%{w}"] add_field => { "seen" => "%{w}" } remove_field => ["drop_me"] }`).run([
      { message: 'ok', drop_me: 1 },
      { message: 'not ok', drop_me: 1 },
    ]);
    assert.deepEqual(out[0].tags, ['parsed_ok']);
    assert.equal(out[0].seen, 'ok');
    assert.equal('drop_me' in out[0], false);
    assert.deepEqual(out[1].tags, ['_grokparsefailure']);
    assert.equal(out[1].drop_me, 1);
  });

  it('keeps an earlier iteration\'s captures in a repeat, as Oniguruma does', () => {
    const e = one(`grok { match => { "message" => "^%{WORD:head}(?: (?:a=%{WORD:a}|b=%{WORD:b}|c=%{WORD:c}))*$" } }`, { message: 'x b=2 a=1 c=3 b=4' });
    assert.equal(e.head, 'x');
    assert.equal(e.a, '1');
    assert.equal(e.b, '4', 'the last iteration that set b');
    assert.equal(e.c, '3');
  });

  describe('timeout_millis and the watchdog', () => {
    /** A test double for the worker supervisor: answers arm() as told and records the calls. */
    function stubWatchdog(answer: (call: number) => boolean) {
      const calls: number[] = [];
      let armed = 0;
      let disarmed = 0;
      const watchdog: Watchdog = {
        arm(ms) {
          calls.push(ms);
          const ok = answer(calls.length);
          if (ok) armed++;
          return ok;
        },
        disarm() {
          disarmed++;
        },
      };
      return { watchdog, calls, counts: () => ({ armed, disarmed }) };
    }

    // Nested quantifiers over the same letters: on "aaaa…b" a backtracking engine tries 2^n ways.
    const CATASTROPHIC = `grok { match => { "message" => "^(?:a+)+$" } timeout_millis => 25 }`;

    it('arms the watchdog with timeout_millis around each pattern and disarms it after', () => {
      const stub = stubWatchdog(() => true);
      const steps = build(`grok { match => { "message" => ["^x%{INT:n}$", "^%{WORD:w}$"] } timeout_millis => 250 }`, stub.watchdog);
      const [e] = steps.run({ message: 'hello' });
      assert.equal(e.w, 'hello');
      assert.deepEqual(stub.calls, [250, 250], 'one arm per pattern tried');
      assert.deepEqual(stub.counts(), { armed: 2, disarmed: 2 });
    });

    it('tags _groktimeout (not _grokparsefailure) when the watchdog refuses a match that ran away before', () => {
      const stub = stubWatchdog(() => false);
      const built = build(CATASTROPHIC, stub.watchdog);
      const [e] = built.run({ message: 'a'.repeat(40) + 'b' });
      assert.deepEqual(e.tags, ['_groktimeout']);
      assert.deepEqual(stub.calls, [25]);
      assert.equal(stub.counts().disarmed, 0, 'nothing ran, so nothing to disarm');
      assert.ok(built.logs.some((l) => l.startsWith('warn') && l.includes('_groktimeout')));
      const custom = build(`grok { match => { "message" => "^(?:a+)+$" } timeout_millis => 25 tag_on_timeout => "slow" }`, stubWatchdog(() => false).watchdog).run({ message: 'aab' });
      assert.deepEqual(custom[0].tags, ['slow']);
    });

    it('logs at most ten warnings however many events time out', () => {
      const built = build(CATASTROPHIC, stubWatchdog(() => false).watchdog);
      const out = built.run(Array.from({ length: 25 }, () => ({ message: 'aab' })));
      assert.ok(out.every((e) => e.tags.includes('_groktimeout')));
      const warnings = built.logs.filter((l) => l.startsWith('warn'));
      assert.equal(warnings.length, 10);
      assert.match(warnings[9], /further warnings of this filter are not logged/);
    });

    it('refuses only the step the watchdog names: the other events of the batch still match', () => {
      const stub = stubWatchdog((call) => call !== 2);
      const out = build(`grok { match => { "message" => "^%{WORD:w}$" } timeout_millis => 10 }`, stub.watchdog).run([{ message: 'a' }, { message: 'b' }, { message: 'c' }]);
      assert.deepEqual(out.map((e) => e.w ?? e.tags), ['a', ['_groktimeout'], 'c']);
    });

    it('arms once per event with timeout_scope => event, and never with timeout_millis => 0', () => {
      const perEvent = stubWatchdog(() => true);
      build(`grok { match => { "message" => ["^x$", "^y$", "^z$"] } timeout_scope => "event" timeout_millis => 99 }`, perEvent.watchdog).run({ message: 'z' });
      assert.deepEqual(perEvent.calls, [99]);
      assert.deepEqual(perEvent.counts(), { armed: 1, disarmed: 1 });
      const off = stubWatchdog(() => false);
      const [e] = build(`grok { match => { "message" => "^%{WORD:w}$" } timeout_millis => 0 }`, off.watchdog).run({ message: 'fine' });
      assert.equal(e.w, 'fine');
      assert.deepEqual(off.calls, []);
    });

    it('still answers a catastrophic pattern on a short input when nothing watches', () => {
      const [e] = build(CATASTROPHIC).run({ message: 'a'.repeat(12) + 'b' });
      assert.deepEqual(e.tags, ['_grokparsefailure']);
    });
  });

  it('parses the Apache sample log with COMBINEDAPACHELOG (all but the one truncated line)', () => {
    const lines = readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 10_000);
    const built = build(`grok { match => { "message" => "%{COMBINEDAPACHELOG}" } }`);
    const failed: string[] = [];
    for (let i = 0; i < lines.length; i += 500) {
      for (const e of built.run(lines.slice(i, i + 500).map((message) => ({ message })))) {
        if (e.tags?.includes('_grokparsefailure')) failed.push(e.message);
        else assert.ok(typeof e.clientip === 'string' && typeof e.response === 'string' && typeof e.timestamp === 'string', JSON.stringify(e));
      }
    }
    // Line 8899 ends inside its user agent, without the closing quote: Logstash fails it too.
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.ok(failed[0].startsWith('46.118.127.106 - - [20/May/2015:12:05:17 +0000]') && !failed[0].endsWith('"'));
  });
});
