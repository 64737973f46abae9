/**
 * The date parsers against seeded random text and mutated real dates: they never throw, always finish, and
 * whatever they accept is a well-formed instant that JavaScript reads back to the same time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Gen } from '../helpers/prng.js';
import { compileDateFormat, instantText, type ParsedInstant } from '../../src/pipeline/filters/date-format.js';
import { getZone } from '../../src/core/zones.js';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { Settings } from '../../src/pipeline/settings.js';
import { UNWATCHED } from '../../src/pipeline/plugin.js';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { dateFilter } from '../../src/pipeline/filters/date.js';

const FORMATS = [
  'ISO8601',
  'UNIX',
  'UNIX_MS',
  'TAI64N',
  'dd/MMM/yyyy:HH:mm:ss Z',
  'MMM  d HH:mm:ss',
  'MMM dd HH:mm:ss',
  "yyyy-MM-dd'T'HH:mm:ss.SSSZZ",
  'EEE MMM dd HH:mm:ss yyyy',
  'yyyy-MM-dd HH:mm:ss ZZZ',
  'yyMMddHHmmss',
  'h:mm a, EEEE d MMMM yy',
  'yyyy-DDD HH:mm:ss z',
];

const SEEDS = [
  '17/May/2015:10:05:03 +0000',
  'Mar  7 13:06:56',
  'Mar 27 13:06:56',
  '2011-04-19T03:44:01.103Z',
  '2026-12-07T01:00:05.123456789+01:00',
  'Mon Dec 07 01:00:05 2026',
  '2026-07-01 12:00:00 Europe/Berlin',
  '261207010005',
  '1:05 PM, Monday 7 December 26',
  '2024-366 23:59:59 PDT',
  '1326149001.132',
  '1326149001132',
  '@4000000050d506482dbdf024',
];

const ALPHABET = [...'0123456789:/-+. ,TZtz@aAmMpPdecJanFebMrMayunlgSpOctNvDEMonTueWdhFriSt_\'', 'März', 'é', '\u0000', '\uD83D\uDE00', '\uD800', '\n'];

const ISO_OUT = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(?:\d{3}|\d{6})Z$/;

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
        chars.splice(at, 0, gen.pick(ALPHABET));
        break;
      case 2:
        chars[at] = gen.pick(ALPHABET);
        break;
      default:
        chars.splice(at, 0, ...chars.slice(0, gen.int(chars.length)));
    }
  }
  return chars.join('');
}

describe('date parsers under fuzzing', () => {
  const parsers = FORMATS.map((format) => ({ format, parser: compileDateFormat(format, 'en') }));
  const zones = [null, getZone('Europe/Berlin'), getZone('America/St_Johns'), getZone('Australia/Lord_Howe'), { offsetMinutes: 330 }];
  const now = Date.parse('2026-12-07T01:00:00Z');
  const out: ParsedInstant = { ms: 0, micros: 0 };

  function check(text: string | number, zoneIndex: number): number {
    let accepted = 0;
    for (const { format, parser } of parsers) {
      const ok = parser.parse(text, now, () => zones[zoneIndex], out);
      if (!ok) continue;
      accepted++;
      assert.ok(Number.isInteger(out.ms) && out.micros >= 0 && out.micros < 1000 && Number.isInteger(out.micros), `${format} ${JSON.stringify(text)} → ${out.ms}/${out.micros}`);
      const iso = instantText(out);
      assert.match(iso, ISO_OUT, `${format} ${JSON.stringify(text)}`);
      assert.equal(Date.parse(iso), out.ms, `${format} ${JSON.stringify(text)} → ${iso}`);
    }
    return accepted;
  }

  it('mutated real dates: no throw, every accepted value well-formed', () => {
    const gen = new Gen(20261207);
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const text = mutate(gen, gen.pick(SEEDS));
      accepted += check(text, gen.int(zones.length));
    }
    // Mutations often keep a date readable (a changed digit): the parsers are exercised on both paths.
    assert.ok(accepted > 1000, `${accepted} accepted`);
  });

  it('random text and random numbers: no throw, every accepted value well-formed', () => {
    const gen = new Gen(7);
    for (let i = 0; i < 20_000; i++) check(gen.text(ALPHABET, 40), gen.int(zones.length));
    const numbers = [0, -0, 1e21, -1e21, 8.64e12, 8.64e15, 8.64e15 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, NaN, Infinity, -Infinity, 1e-7, 123.456e10];
    for (let i = 0; i < 5000; i++) numbers.push((gen.int(2) ? -1 : 1) * gen.int(2 ** 31) * 10 ** gen.int(8) + gen.int(1000) / 1000);
    for (const n of numbers) check(n, 0);
  });

  it('writes every instant exactly as Date.prototype.toISOString does (seeded, edges of the range too)', () => {
    const gen = new Gen(3);
    const cases = [0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    for (let i = 0; i < 30_000; i++) cases.push(Math.floor((gen.int(2) ? 1 : -1) * gen.int(2 ** 30) * gen.pick([1, 1000, 1_000_000, 8_000_000])));
    for (const ms of cases) assert.equal(instantText({ ms, micros: 0 }), new Date(ms).toISOString(), String(ms));
    assert.equal(instantText({ ms: 0, micros: 7 }), '1970-01-01T00:00:00.000007Z');
  });

  it('the filter itself: odd field values never throw out of process and failures are tagged', () => {
    const statement = parseConfig(`filter { date { match => ["t", ${FORMATS.map((f) => JSON.stringify(f)).join(', ')}] timezone => "%{tz}" } }`).sections[0].body[0];
    if (statement.kind !== 'plugin') throw new Error('not a plugin');
    const logs: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => logs.push(m), error() {} };
    const filter = dateFilter(new Settings(statement.plugin, 'filter'), { logger, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() });
    const gen = new Gen(99);
    const values = () => gen.pick([gen.text(ALPHABET, 30), mutate(gen, gen.pick(SEEDS)), gen.int(1e9), true, null, { a: 1 }, [gen.pick(SEEDS)], [], 'x'.repeat(10_000)]);
    for (let round = 0; round < 200; round++) {
      const events = Array.from({ length: 50 }, () => new PipelineEvent({ t: values(), tz: gen.pick(['UTC', 'Europe/Berlin', 'nowhere', '', '%{tz}']) }));
      const result = filter.process(events);
      assert.equal(result.length, 50);
      for (const event of result) {
        assert.ok(!Number.isNaN(Date.parse(event.fields['@timestamp'] as string)));
        const tags = event.tags();
        assert.ok(tags.length === 0 || (tags.length === 1 && tags[0] === '_dateparsefailure'), JSON.stringify(tags));
      }
    }
    assert.ok(logs.length <= 10, 'warnings stay bounded');
  });
});
