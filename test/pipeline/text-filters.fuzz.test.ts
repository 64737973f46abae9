/**
 * The structure filters (dissect, json, kv, csv, split) against seeded random and damaged text:
 * nothing throws out of a filter, every event stays well-formed (JSON round-trips, tags are strings,
 * the time readable), and text built from known parts is read back into exactly those parts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline, type Pipeline } from '../../src/pipeline/runtime.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { UNWATCHED, type PipelineLogger } from '../../src/pipeline/plugin.js';
import { parseCsvRow } from '../../src/pipeline/filters/csv.js';
import { CharScanner } from '../../src/pipeline/filters/kv.js';
import { compileDissection, dissect } from '../../src/pipeline/filters/dissect.js';
import { Gen } from '../helpers/prng.js';

const silent: PipelineLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function filters(filter: string): Pipeline {
  const config = `input { stdin {} } filter { ${filter} } output { stdout {} }`;
  return buildPipeline(parseConfig(config), { logger: silent, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() });
}

const ALPHABET = ['a', 'b', 'Z', '0', '9', ' ', ' ', '=', '=', ',', ',', '"', '"', "'", '\\', '[', ']', '(', ')', '<', '>', '{', '}', ':', '|', '&', '\n', '\r', '\t', 'é', '😀', '%', '\u0000'];

/** Damages a text: a few characters dropped, doubled, changed or inserted. */
function mutate(gen: Gen, text: string): string {
  const chars = [...text];
  const edits = 1 + gen.int(4);
  for (let i = 0; i < edits; i++) {
    const at = gen.int(chars.length + 1);
    switch (gen.int(4)) {
      case 0:
        chars.splice(at, 1);
        break;
      case 1:
        if (at < chars.length) chars.splice(at, 0, chars[at]);
        break;
      case 2:
        chars[at] = gen.pick(ALPHABET);
        break;
      default:
        chars.splice(at, 0, gen.pick(ALPHABET));
    }
  }
  return chars.join('');
}

function assertWellFormed(events: PipelineEvent[], what: string): void {
  for (const event of events) {
    const json = JSON.stringify(event.toJSON());
    assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(JSON.parse(json))), what);
    assert.ok(Object.getPrototypeOf(event.fields) === Object.prototype, what);
    const tags = event.fields.tags;
    if (tags !== undefined) assert.ok(typeof tags === 'string' || (Array.isArray(tags) && tags.every((t) => typeof t === 'string')), `${what}: tags ${JSON.stringify(tags)}`);
    assert.ok(!Number.isNaN(Date.parse(String(event.fields['@timestamp']))), what);
  }
}

function runOn(pipeline: Pipeline, messages: string[]): PipelineEvent[] {
  return pipeline.filter(messages.map((message) => new PipelineEvent({ message })));
}

describe('structure filters under fuzzing', () => {
  it('kv reads back pairs it was built from, and survives damaged and random text', () => {
    const gen = new Gen(1807);
    const plain = filters(`kv { target => "kv" }`);
    const others = [
      filters(`kv { field_split => "&;" value_split => ":" recursive => true whitespace => "strict" trim_value => "\\"" transform_key => "capitalize" }`),
      filters(`kv { field_split_pattern => ",\\s*" value_split_pattern => "=+" include_brackets => false allow_duplicate_values => false }`),
      filters(`kv { recursive => true target => "[a][b]" prefix => "p_" }`),
    ];
    const keyChars = ['a', 'b', 'k', 'Z', '_', '1', '.', '-'];
    const valueChars = ['x', 'y', '1', '.', ':', '/', '-', '_'];
    for (let round = 0; round < 400; round++) {
      const expected: Record<string, string> = {};
      const parts: string[] = [];
      const count = 1 + gen.int(8);
      for (let i = 0; i < count; i++) {
        const key = `k${i}${gen.text(keyChars, 5)}`;
        const quoted = gen.chance(0.3);
        const value = quoted ? gen.text([...valueChars, ' ', '=', ','], 10) + 'v' : gen.text(valueChars, 10) + 'v';
        expected[key] = value;
        parts.push(`${key}=${quoted ? `"${value}"` : value}`);
      }
      const text = parts.join(gen.chance(0.5) ? ' ' : '  ');
      const [event] = runOn(plain, [text]);
      assert.deepEqual(event.fields.kv, expected, text);

      const damaged = [mutate(gen, text), gen.text(ALPHABET, 120)];
      for (const pipeline of [plain, ...others]) assertWellFormed(runOn(pipeline, damaged), JSON.stringify(damaged));
    }
  });

  it("kv's one-pass scanner reads what Logstash's scan expression reads", () => {
    // Logstash's expression for character-set splitters, written out in JavaScript: the oracle.
    const logstash = (f: string, v: string, lenient: boolean, brackets: boolean): RegExp => {
      const vsp = lenient ? ` *[${v}] *` : `[${v}]`;
      const quoted = (o: string, c: string) => `\\${o}((?:\\\\.|[^\\${c}])+)?\\${c}`;
      const values = [quoted('"', '"'), quoted("'", "'"), ...(brackets ? [quoted('(', ')'), quoted('[', ']'), quoted('<', '>')] : []), `((?:\\\\.|[^${f}])+)`];
      return new RegExp(`((?:\\\\.|[^${v}${f}])+)${vsp}(?:${values.join('|')})?(?:[${f}]|$)`, 'gm');
    };
    const scanWith = (re: RegExp, text: string): Array<[string, string]> =>
      [...text.matchAll(re)].map((m) => [m[1], m.slice(2).find((x) => x !== undefined) ?? ''] as [string, string]).filter(([, value]) => value !== '');
    const gen = new Gen(31337);
    const alphabet = ['a', 'b', 'c', ' ', ' ', '=', '=', '&', ':', '"', "'", '(', ')', '[', ']', '<', '>', '\n', 'é'];
    const setups: Array<[string, string, boolean, boolean]> = [[' ', '=', true, true], [' ', '=', false, true], ['&', '=:', true, false], [' &', ':', false, true]];
    for (const [f, v, lenient, brackets] of setups) {
      const oracle = logstash(f, v, lenient, brackets);
      const scanner = new CharScanner(new RegExp(`[${f}]`), new RegExp(`[${v}]`), lenient, brackets);
      for (let round = 0; round < 3000; round++) {
        const text = gen.text(alphabet, 30);
        assert.deepEqual(scanner.scan(text, 1000), scanWith(oracle, text), `${JSON.stringify([f, v, lenient, brackets])} ${JSON.stringify(text)}`);
      }
    }
  });

  it('kv stays linear on long text without splitters', () => {
    const pipeline = filters(`kv { }`);
    const long = ['a'.repeat(200_000), 'a='.repeat(100_000), '"'.repeat(200_000), 'k=' + '['.repeat(200_000), 'x\\'.repeat(100_000)];
    const events = runOn(pipeline, long);
    assert.equal(events.length, long.length);
    assertWellFormed(events, 'long');
  });

  it('csv reads back rows it wrote, and tags (never throws on) damaged rows', () => {
    const gen = new Gen(4180);
    const pipeline = filters(`csv { target => "row" }`);
    const valueChars = ['a', 'b', ',', '"', '\n', '\r', ' ', 'é', '😀', ';'];
    for (let round = 0; round < 500; round++) {
      const values = Array.from({ length: 1 + gen.int(8) }, () => gen.text(valueChars, 8));
      const text = values.map((v) => (/[",\n\r]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v)).join(',');
      assert.deepEqual(parseCsvRow(text, ',', '"'), values, JSON.stringify(text));
      const [event] = runOn(pipeline, [text]);
      const row = event.fields.row as Record<string, unknown>;
      assert.deepEqual(values.map((_, i) => row[`column${i + 1}`]), values);

      const damaged = [mutate(gen, text), gen.text(ALPHABET, 80)];
      const events = runOn(pipeline, damaged);
      assertWellFormed(events, JSON.stringify(damaged));
      for (const e of events) assert.ok(e.tags().includes('_csvparsefailure') || e.fields.row !== undefined || e.fields.message === '', JSON.stringify(e.fields));
    }
  });

  it('dissect reads back values joined by its delimiters, and tags damaged text', () => {
    const gen = new Gen(9);
    const dissection = compileDissection('<%{a}> %{b->} [%{c}] %{+c} %{?k}=%{&k}: %{rest}');
    const pipeline = filters(`dissect { mapping => { "message" => "<%{a}> %{b->} [%{c}] %{+c} %{?k}=%{&k}: %{rest}" } }`);
    const safe = ['a', 'b', '1', '_', '.', '/', '-'];
    for (let round = 0; round < 500; round++) {
      const [a, b, c1, c2, k, v] = Array.from({ length: 6 }, () => gen.text(safe, 6));
      const rest = gen.text(ALPHABET, 20);
      const text = `<${a}> ${b}${' ['.repeat(1 + gen.int(3))}${c1}] ${c2} key${k}=${v}: ${rest}`;
      assert.deepEqual(dissect(dissection, text), [a, b, c1, c2, `key${k}`, v, rest], text);
      const [event] = runOn(pipeline, [text]);
      assert.equal(event.fields.c, `${c1}] ${c2}`, 'an append joins with the delimiter before it');
      assert.equal(event.fields[`key${k}`], v);
      const damaged = [mutate(gen, text), gen.text(ALPHABET, 60)];
      assertWellFormed(runOn(pipeline, damaged), JSON.stringify(damaged));
    }
  });

  it('json reads back any JSON value it was given, and tags damaged JSON', () => {
    const gen = new Gen(2718);
    const withTarget = filters(`json { source => "message" target => "doc" }`);
    const top = filters(`json { source => "message" }`);
    const value = (depth: number): unknown => {
      switch (gen.int(depth > 3 ? 4 : 6)) {
        case 0:
          return gen.text(ALPHABET, 8);
        case 1:
          return gen.int(1e6) - 5e5;
        case 2:
          return gen.chance(0.5);
        case 3:
          return null;
        case 4:
          return Array.from({ length: gen.int(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: gen.int(4) }, () => [gen.pick(['a', 'b', '@timestamp', 'tags', '__proto__', 'é']), value(depth + 1)]));
      }
    };
    for (let round = 0; round < 500; round++) {
      const original = value(0);
      const text = JSON.stringify(original);
      const [event] = runOn(withTarget, [text]);
      assert.deepEqual(event.fields.doc, JSON.parse(text), text);
      const damaged = [mutate(gen, text), gen.text(ALPHABET, 60), text];
      assertWellFormed(runOn(withTarget, damaged), JSON.stringify(damaged));
      assertWellFormed(runOn(top, damaged), JSON.stringify(damaged));
    }
  });

  it('split of random text gives the non-empty pieces in order, each event well-formed', () => {
    const gen = new Gen(77);
    const pipeline = filters(`split { terminator => "|" }`);
    for (let round = 0; round < 300; round++) {
      const text = gen.text(['a', 'b', '|', '|', '😀', '\n'], 40);
      const events = runOn(pipeline, [text]);
      const pieces = text.split('|');
      assert.deepEqual(events.map((e) => e.fields.message), pieces.length <= 1 ? [text] : pieces.filter((p) => p !== ''), text);
      assertWellFormed(events, text);
    }
  });
});
