/**
 * The translate filter through a real pipeline: inline and file dictionaries (YAML, JSON, CSV), the
 * four lookup modes, fallback, override, iterate_on, and reloading a changed file (keeping the last
 * good dictionary when the new one is broken). Dictionary files are fuzzed for throws.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';
import { UNWATCHED, type Filter, type Watchdog } from '../../src/pipeline/plugin.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { translateFilter } from '../../src/pipeline/filters/translate.js';
import { makeLookup, parseDictionary } from '../../src/pipeline/filters/translate-dictionary.js';
import { WatchedFile } from '../../src/pipeline/filters/watched-file.js';
import { Gen } from '../helpers/prng.js';
import { runEvents, testContext, recordingLogger as logger } from '../helpers/pipeline.js';

async function run(filter: string, events: object[]): Promise<{ events: Array<Record<string, any>>; logs: string[] }> {
  const logs: string[] = [];
  return { events: await runEvents(filter, events, logs), logs };
}

function translate(block: string, logs: string[] = [], watchdog: Watchdog = UNWATCHED): Filter {
  const statement = parseConfig(`filter { translate { ${block} } }`).sections[0].body[0];
  if (statement.kind !== 'plugin') throw new Error('expected a plugin');
  return translateFilter(new Settings(statement.plugin, 'filter'), { ...testContext(logs), watchdog });
}

const tmp = (name: string, text: string): string => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'translate-')), name);
  fs.writeFileSync(file, text);
  return file;
};

const waitMs = (ms: number): void => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* let a refresh interval pass */
  }
};

describe('translate filter', () => {
  it('translates exact values into "translation", falls back, and decorates only what it translated', async () => {
    const { events } = await run(`translate { source => "status" dictionary => { "200" => "OK" "404" => "Not Found" } fallback => "other %{status}" add_tag => ["t"] } translate { field => "code" dictionary => { "a" => "A" } }`, [
      { status: 200 },
      { status: '404' },
      { status: 418 },
      { nothing: 1 },
      { code: 'a' },
    ]);
    assert.equal(events[0].translation, 'OK');
    assert.equal(events[1].translation, 'Not Found');
    assert.equal(events[2].translation, 'other 418');
    assert.deepEqual(events.slice(0, 3).map((e) => e.tags), [['t'], ['t'], ['t']]);
    assert.equal(events[3].translation, undefined);
    assert.equal(events[3].tags, undefined);
    assert.equal(events[4].translation, 'A');
  });

  it('leaves an existing target alone unless override is true', async () => {
    const { events } = await run(`translate { source => "s" target => "[out][t]" dictionary => { "x" => "X" } } translate { source => "s" destination => "d" override => true dictionary => { "x" => "Y" } }`, [
      { s: 'x', out: { t: 'kept' }, d: 'replaced' },
      { s: 'x' },
    ]);
    assert.equal(events[0].out.t, 'kept');
    assert.equal(events[0].d, 'Y');
    assert.equal(events[1].out.t, 'X');
  });

  it('finds the first regex key that matches with regex => true', async () => {
    const { events } = await run(`translate { source => "path" regex => true dictionary => { "^/api/" => "api" "\\.css$" => "style" ".*" => "page" } }`, [
      { path: '/api/v1/users' },
      { path: '/static/site.css' },
      { path: '/about' },
    ]);
    assert.deepEqual(events.map((e) => e.translation), ['api', 'style', 'page']);
  });

  it('replaces every key found inside the value with exact => false, literal and regex', async () => {
    const { events } = await run(
      `translate { source => "msg" target => "lit" exact => false dictionary => { "cat" => "dog" "category" => "kind" } }
       translate { source => "msg" target => "re" exact => false regex => true dictionary => { "c[a-z]t" => "CAT" "\\d+" => "N" } }`,
      [{ msg: 'the cat in category 42' }, { msg: 'nothing here' }],
    );
    assert.equal(events[0].lit, 'the dog in kind 42');
    assert.equal(events[0].re, 'the CAT in CATegory N');
    assert.equal(events[1].lit, undefined);
    assert.equal(events[1].re, undefined);
  });

  it('reads YAML, JSON and CSV dictionaries, keeping non-text values', async () => {
    const yml = tmp('d.yml', '"1": one\n"2": { name: two, even: true }\n');
    const json = tmp('d.json', '{"1": "uno", "3": [1, 2]}');
    const csv = tmp('d.csv', '1,"ein, one"\r\n"quoted ""key""",x\n');
    const { events } = await run(
      `translate { source => "n" target => "y" dictionary_path => "${yml}" }
       translate { source => "n" target => "j" dictionary_path => "${json}" }
       translate { source => "n" target => "c" dictionary_path => "${csv}" }`,
      [{ n: '1' }, { n: 2 }, { n: 3 }, { n: 'quoted "key"' }],
    );
    assert.deepEqual([events[0].y, events[0].j, events[0].c], ['one', 'uno', 'ein, one']);
    assert.deepEqual(events[1].y, { name: 'two', even: true });
    assert.deepEqual(events[2].j, [1, 2]);
    assert.equal(events[3].c, 'x');
  });

  it('translates each item with iterate_on: a list of values, or a list of hashes', async () => {
    const { events } = await run(
      `translate { iterate_on => "codes" source => "codes" target => "names" dictionary => { "a" => "Alpha" "b" => "Beta" } fallback => "?" }
       translate { iterate_on => "[users]" source => "[id]" target => "[name]" dictionary => { "1" => "ann" "2" => "bob" } }`,
      [{ codes: ['a', 'x', 'b'], users: [{ id: 1 }, { id: 3 }, { id: '2', name: 'kept' }, 'not a hash'] }],
    );
    assert.deepEqual(events[0].names, ['Alpha', '?', 'Beta']);
    assert.deepEqual(events[0].users, [{ id: 1, name: 'ann' }, { id: 3 }, { id: '2', name: 'kept' }, 'not a hash']);
  });

  it('reloads a changed file, merges by default or replaces, and keeps the last good dictionary when a reload fails', () => {
    const file = tmp('d.yaml', 'a: 1\nb: 2\n');
    const logs: string[] = [];
    const merge = translate(`source => "k" dictionary_path => "${file}" refresh_interval => 0.001`, logs);
    const replace = translate(`source => "k" dictionary_path => "${file}" refresh_interval => 0.001 refresh_behaviour => "replace"`, logs);
    const look = (f: Filter, k: string) => f.process([new PipelineEvent({ k })])[0].fields.translation;
    assert.equal(look(merge, 'a'), 1);
    fs.writeFileSync(file, 'a: 10\nc: 3\n');
    waitMs(20);
    assert.equal(look(merge, 'a'), 10);
    assert.equal(look(merge, 'c'), 3);
    assert.equal(look(merge, 'b'), 2, 'merge keeps keys the file no longer lists');
    assert.equal(look(replace, 'c'), 3);
    assert.equal(look(replace, 'b'), undefined, 'replace drops them');
    fs.writeFileSync(file, 'a: [unclosed\n');
    waitMs(20);
    assert.equal(look(merge, 'a'), 10);
    assert.equal(look(replace, 'a'), 10);
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('keeping its last good contents')), logs.join('\n'));
  });

  it('skips a regex lookup the watchdog stopped before, and warns', () => {
    const logs: string[] = [];
    const refusing: Watchdog = { arm: () => false, disarm: () => {} };
    const filter = translate(`source => "k" regex => true dictionary => { "a" => "A" }`, logs, refusing);
    const [event] = filter.process([new PipelineEvent({ k: 'a' })]);
    assert.equal(event.fields.translation, undefined);
    assert.ok(logs.some((l) => l.includes('ran too long')));
  });

  it('refuses conflicting, missing and malformed settings', () => {
    const yml = tmp('ok.yml', 'a: b\n');
    assert.throws(() => translate(`dictionary => { "a" => "b" }`), (e: unknown) => e instanceof PipelineConfigError && /source/.test(e.message));
    assert.throws(() => translate(`source => "a" field => "b" dictionary => { "a" => "b" }`), /only one/);
    assert.throws(() => translate(`source => "a"`), /dictionary/);
    assert.throws(() => translate(`source => "a" dictionary => { "a" => "b" } dictionary_path => "${yml}"`), /cannot both/);
    assert.throws(() => translate(`source => "a" dictionary_path => "/nonexistent.yml"`), /dictionary_path/);
    assert.throws(() => translate(`source => "a" dictionary_path => "${tmp('d.txt', 'a')}"`), /\.yml/);
    assert.throws(() => translate(`source => "a" dictionary_path => "${tmp('bad.json', '[1, 2]')}"`), /JSON object/);
    assert.throws(() => translate(`source => "a" dictionary_path => "${tmp('bad.csv', 'a,b,c\n')}"`), /columns/);
    assert.throws(() => translate(`source => "a" regex => true dictionary => { "(" => "b" }`), /regular expression/);
    assert.throws(() => translate(`source => "a" dictionary => { "a" => "b" } refresh_behaviour => "sometimes"`), /refresh_behaviour/);
  });
});

describe('translate: watched file', () => {
  it('checks the file only once the interval has passed', () => {
    const file = tmp('w.json', '{"v": 1}');
    let now = 1000;
    let loads = 0;
    const watched = new WatchedFile(file, 60_000, (t) => (loads++, JSON.parse(t) as { v: number }), logger([]), () => now);
    fs.writeFileSync(file, '{"v": 22}');
    assert.equal(watched.current().v, 1);
    now += 60_000;
    assert.equal(watched.current().v, 22);
    assert.equal(watched.current().v, 22);
    assert.equal(loads, 2);
  });
});

describe('translate: fuzz', () => {
  it('parses random and mutated dictionary files without throwing anything but Error, and looks up in every mode', () => {
    const gen = new Gen(777);
    const seeds: Array<[string, 'yaml' | 'json' | 'csv']> = [
      ['a: 1\n"b": [x, y]\nc: { d: e }\n', 'yaml'],
      ['{"a": "1", "b": {"c": [1, null]}}', 'json'],
      ['a,1\n"b ""q""",2\r\nc,"multi\nline"\n', 'csv'],
    ];
    const alphabet = [...'ab:,"{}[]\n\r -#&*!|>\'\\', '\u0000', 'é', '😀', '- ', ': ', '""'];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const [seed, format] = gen.pick(seeds);
      const chars = [...seed];
      for (let k = gen.int(6); k > 0; k--) chars.splice(gen.int(chars.length + 1), gen.int(3), gen.pick(alphabet));
      const text = gen.chance(0.2) ? gen.text(alphabet, 60) : chars.join('');
      let dictionary;
      try {
        dictionary = parseDictionary(text, format);
      } catch (error) {
        assert.ok(error instanceof Error, String(error));
        continue;
      }
      parsed++;
      for (const [key, value] of dictionary) {
        assert.equal(typeof key, 'string');
        assert.notEqual(value, undefined);
      }
      for (const exact of [true, false]) {
        let lookup;
        try {
          lookup = makeLookup(dictionary, exact, gen.chance(0.5));
        } catch (error) {
          assert.ok(error instanceof Error && /regular expression/.test(error.message), String(error));
          continue;
        }
        for (const probe of ['a', 'b', text.slice(0, 20), 'xx a b yy']) lookup(probe);
      }
    }
    assert.ok(parsed > 500, `only ${parsed} of the inputs parsed: the fuzz is not reaching the lookups`);
  });
});
