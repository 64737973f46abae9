/**
 * The date filter: formats Logstash users write (Apache's, syslog's, ISO8601, epochs, TAI64N), time zones
 * with daylight-saving edges in Europe/Berlin, and failures that tag events rather than stop them. Real log
 * lines come from ../shared/data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { compileDateFormat, instantText, type ParsedInstant } from '../../src/pipeline/filters/date-format.js';
import { getZone } from '../../src/core/zones.js';
import { SHARED_DATA } from '../helpers/shared-data.js';
import { filterOf, runOne, testContext } from '../helpers/pipeline.js';

const DATA = SHARED_DATA;

function parseWith(format: string, text: string | number, options: { now?: string; zone?: string; locale?: string } = {}): string | null {
  const out: ParsedInstant = { ms: 0, micros: 0 };
  const parser = compileDateFormat(format, options.locale ?? 'en');
  const now = Date.parse(options.now ?? '2026-12-07T01:00:00Z');
  const zone = options.zone ? getZone(options.zone) : null;
  return parser.parse(text, now, () => zone, out) ? instantText(out) : null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('date filter', () => {
  it('reads every Apache access-log time ("dd/MMM/yyyy:HH:mm:ss Z") to the instant JavaScript reads from the same text', () => {
    const lines = readFileSync(`${DATA}/apache_access_combined.log`, 'utf8').split('\n').filter(Boolean);
    const filter = filterOf(`date { match => ["ts", "dd/MMM/yyyy:HH:mm:ss Z"] }`);
    const events = lines.map((line) => new PipelineEvent({ ts: line.slice(line.indexOf('[') + 1, line.indexOf(']')) }));
    filter.process(events);
    assert.equal(events.length, 10_000);
    for (const event of events) {
      const ts = event.fields.ts as string;
      // An independent reading: "17/May/2015:10:05:03 +0000" → "17 May 2015 10:05:03 +0000".
      const expected = new Date(Date.parse(ts.replace(/^(\d+)\/(\w+)\/(\d+):/, '$1 $2 $3 '))).toISOString();
      assert.equal(event.fields['@timestamp'], expected, ts);
      assert.equal(event.tags().length, 0);
    }
    assert.equal(events[0].fields['@timestamp'], '2015-05-17T10:05:03.000Z');
  });

  it('reads every auth.log syslog time, one- and two-digit days, in the year it guesses and the zone it is given', () => {
    const lines = readFileSync(`${DATA}/auth.log`, 'utf8').split('\n').filter(Boolean);
    const filter = filterOf(`date { match => ["ts", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss"] timezone => "Europe/Berlin" }`);
    const events = lines.map((line) => new PipelineEvent({ ts: line.slice(0, 15) }));
    filter.process(events);
    let singleDigit = 0;
    let inGap = 0;
    const nowYear = new Date().getUTCFullYear();
    // The sample was written on a machine on UTC, and holds times that Berlin's clocks skip (the last Sunday
    // of March, 02:00-03:00): those fail, as they do in Logstash. The year of a March date is guessed as the
    // filter does: this year, unless March is more than a month ahead.
    const marchYear = Date.UTC(nowYear, 2, 1) > Date.now() + 31 * 86_400_000 ? nowYear - 1 : nowYear;
    const lastSunday = 31 - new Date(Date.UTC(marchYear, 2, 31)).getUTCDay();
    const gap = `Mar ${lastSunday} 02:`;
    for (const event of events) {
      const ts = event.fields.ts as string;
      if (ts[4] === ' ') singleDigit++;
      if (ts.startsWith(gap)) {
        inGap++;
        assert.deepEqual(event.tags(), ['_dateparsefailure'], ts);
        continue;
      }
      assert.equal(event.tags().length, 0, ts);
      const [month, day, time] = ts.split(/ +/);
      const at = new Date(event.fields['@timestamp'] as string);
      // Berlin is UTC+1 or UTC+2: the UTC time is one or two hours behind the text.
      const wall = Date.UTC(at.getUTCFullYear(), MONTHS.indexOf(month), Number(day), ...(time.split(':').map(Number) as [number, number, number]));
      const behind = (wall - at.getTime()) / 3_600_000;
      assert.ok(behind === 1 || behind === 2, `${ts} → ${at.toISOString()}`);
      assert.ok([nowYear, nowYear - 1].includes(new Date(wall).getUTCFullYear()));
    }
    assert.ok(singleDigit > 1000, 'the sample has "Apr  1"-style days');
    assert.ok(inGap < 50, `${inGap} lines in the skipped hour`);
    const first = events[0].fields['@timestamp'] as string;
    // Mar 27 is before Berlin's summer time of 2026 (from Mar 29): UTC+1.
    if (first.startsWith('2026')) assert.equal(first, '2026-03-27T12:06:56.000Z');
  });

  it('puts a year-less date in the current year, or the last one when that would be more than a month ahead', () => {
    assert.equal(parseWith('MMM dd HH:mm:ss', 'Dec 31 23:59:59', { now: '2027-01-02T00:00:00Z' }), '2026-12-31T23:59:59.000Z');
    assert.equal(parseWith('MMM dd HH:mm:ss', 'Jan 01 00:00:01', { now: '2027-01-02T00:00:00Z' }), '2027-01-01T00:00:01.000Z');
    assert.equal(parseWith('MMM dd HH:mm:ss', 'Jan 20 00:00:01', { now: '2027-01-02T00:00:00Z' }), '2027-01-20T00:00:01.000Z', 'less than a month ahead stays this year');
    assert.equal(parseWith('MMM dd HH:mm:ss', 'Mar 20 00:00:01', { now: '2027-01-02T00:00:00Z' }), '2026-03-20T00:00:01.000Z');
  });

  it('takes Europe/Berlin offsets across daylight saving: winter, summer, the skipped hour fails, the repeated hour is the earlier', () => {
    const block = `date { match => ["t", "yyyy-MM-dd HH:mm:ss"] timezone => "Europe/Berlin" }`;
    assert.equal(runOne(block, { t: '2026-01-15 12:00:00' })['@timestamp'], '2026-01-15T11:00:00.000Z');
    assert.equal(runOne(block, { t: '2026-07-15 12:00:00' })['@timestamp'], '2026-07-15T10:00:00.000Z');
    assert.equal(runOne(block, { t: '2026-03-29 01:59:59' })['@timestamp'], '2026-03-29T00:59:59.000Z');
    assert.equal(runOne(block, { t: '2026-03-29 03:00:00' })['@timestamp'], '2026-03-29T01:00:00.000Z');
    const gap = runOne(block, { t: '2026-03-29 02:30:00' });
    assert.deepEqual(gap.tags, ['_dateparsefailure'], '02:30 does not exist that night (Joda refuses it too)');
    assert.equal(gap['@timestamp'], '2000-01-01T00:00:00.000Z');
    assert.equal(runOne(block, { t: '2026-10-25 02:30:00' })['@timestamp'], '2026-10-25T00:30:00.000Z', 'the first 02:30, still summer time');
    assert.equal(runOne(block, { t: '2026-10-25 03:30:00' })['@timestamp'], '2026-10-25T02:30:00.000Z');
    // An offset in the text wins over the zone setting.
    assert.equal(runOne(`date { match => ["t", "yyyy-MM-dd HH:mm:ss Z"] timezone => "Europe/Berlin" }`, { t: '2026-07-15 12:00:00 -0500' })['@timestamp'], '2026-07-15T17:00:00.000Z');
  });

  it('reads a zone named in the text (ZZZ), offsets with and without a colon (Z, ZZ), and US abbreviations (z)', () => {
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ss ZZZ', '2026-07-01 12:00:00 Europe/Berlin'), '2026-07-01T10:00:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ss ZZZ', '2026-07-01 12:00:00 America/New_York'), '2026-07-01T16:00:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ss ZZZ', '2026-07-01 12:00:00 Mars/Olympus'), null);
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ssZZ', '2026-07-01 12:00:00+05:30'), '2026-07-01T06:30:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ssZ', '2026-07-01 12:00:00+0530'), '2026-07-01T06:30:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ssZ', '2026-07-01 12:00:00Z'), '2026-07-01T12:00:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ss z', '2026-07-01 12:00:00 PDT'), '2026-07-01T19:00:00.000Z');
    assert.equal(parseWith('yyyy-MM-dd HH:mm:ssZ', '2026-07-01 12:00:00+2500'), null);
  });

  it('reads ISO8601 in the forms Logstash takes, keeping microseconds when the text has them', () => {
    assert.equal(parseWith('ISO8601', '2011-04-19T03:44:01.103Z'), '2011-04-19T03:44:01.103Z');
    assert.equal(parseWith('ISO8601', '2011-04-19T03:44:01Z'), '2011-04-19T03:44:01.000Z');
    assert.equal(parseWith('ISO8601', '2011-04-19 03:44:01,5+02:00'), '2011-04-19T01:44:01.500Z');
    assert.equal(parseWith('ISO8601', '2011-04-19T03:44:01.123456789-0100'), '2011-04-19T04:44:01.123456Z');
    assert.equal(parseWith('ISO8601', '2011-04-19'), '2011-04-19T00:00:00.000Z');
    assert.equal(parseWith('ISO8601', '2011-04-19T03:44'), '2011-04-19T03:44:00.000Z');
    assert.equal(parseWith('ISO8601', '2011-04-19T03:44:01', { zone: 'Europe/Berlin' }), '2011-04-19T01:44:01.000Z', 'no offset: the zone setting');
    for (const bad of ['2011-02-30T00:00:00Z', '2011-04-19T24:00:00Z', '2011-04-19T03:44:01.Z', '2011-04-19X03:44', '2011-04-19T03:44:01Zjunk', '11-04-19', '']) {
      assert.equal(parseWith('ISO8601', bad), null, bad);
    }
  });

  it('reads the RFC 5424 timestamp examples (ISO8601) and RFC 3164 dates from ../shared/data', () => {
    const rfc = JSON.parse(readFileSync(`${DATA}/syslog-rfc-examples.json`, 'utf8'));
    const expected: Record<string, string> = {
      '1985-04-12T23:20:50.52Z': '1985-04-12T23:20:50.520Z',
      '1985-04-12T19:20:50.52-04:00': '1985-04-12T23:20:50.520Z',
      '2003-10-11T22:14:15.003Z': '2003-10-11T22:14:15.003Z',
      '2003-08-24T05:14:15.000003-07:00': '2003-08-24T12:14:15.000003Z',
    };
    let checked = 0;
    for (const example of rfc['rfc5424_timestamps_6.2.3.1'] as Array<{ value: string; valid: boolean }>) {
      if (!example.valid) continue;
      assert.equal(parseWith('ISO8601', example.value), expected[example.value], example.value);
      checked++;
    }
    assert.equal(checked, 4);
    const dates = (rfc.rfc3164 as Array<{ expect: { timestamp?: string } }>).map((e) => e.expect.timestamp).filter((t): t is string => typeof t === 'string');
    assert.ok(dates.includes('Feb  5 17:32:18'));
    for (const ts of dates) {
      const filter = runOne(`date { match => ["ts", "MMM dd HH:mm:ss", "MMM  d HH:mm:ss"] }`, { ts });
      assert.equal(filter.tags, undefined, ts);
      assert.equal(filter['@timestamp'].slice(5, 19), `${String(MONTHS.indexOf(ts.slice(0, 3)) + 1).padStart(2, '0')}-${ts.slice(4, 6).trim().padStart(2, '0')}T${ts.slice(7)}`);
    }
    // RFC 3164's third example carries a zone abbreviation and a year after the time.
    assert.equal(parseWith('MMM dd HH:mm:ss z yyyy', 'Aug 24 05:34:00 CST 1987'), '1987-08-24T11:34:00.000Z');
  });

  it('reads UNIX seconds and UNIX_MS as numbers or text, exactly, and TAI64N', () => {
    assert.equal(parseWith('UNIX', 1326149001), '2012-01-09T22:43:21.000Z');
    assert.equal(parseWith('UNIX', '1326149001.132'), '2012-01-09T22:43:21.132Z');
    assert.equal(parseWith('UNIX', 1326149001.132), '2012-01-09T22:43:21.132Z');
    assert.equal(parseWith('UNIX', '1326149001.1325'), '2012-01-09T22:43:21.132500Z');
    assert.equal(parseWith('UNIX', '-1'), '1969-12-31T23:59:59.000Z');
    assert.equal(parseWith('UNIX_MS', 1326149001132), '2012-01-09T22:43:21.132Z');
    assert.equal(parseWith('UNIX_MS', '1326149001132'), '2012-01-09T22:43:21.132Z');
    for (const bad of ['abc', '12e5', '1.2.3', '', '.5', '99999999999999999999999']) assert.equal(parseWith('UNIX', bad), null, bad);
    assert.equal(parseWith('TAI64N', '@4000000050d506482dbdf024'), '2012-12-22T01:00:46.767422Z');
    assert.equal(parseWith('TAI64N', '4000000050d506482dbdf024'), '2012-12-22T01:00:46.767422Z');
    assert.equal(parseWith('TAI64N', '@4000000050d506482dbdf02'), null);
  });

  it('reads Joda letters: two-digit years, 12-hour clocks, weekdays, full month names, fractions, quoted text', () => {
    assert.equal(parseWith('EEE MMM dd HH:mm:ss yyyy', 'Mon Dec 07 01:00:05 2026'), '2026-12-07T01:00:05.000Z');
    assert.equal(parseWith('EEEE, MMMM d, yyyy h:mm a', 'Monday, December 7, 2026 1:05 PM'), '2026-12-07T13:05:00.000Z');
    assert.equal(parseWith('h:mm a dd/MM/yyyy', '12:05 AM 07/12/2026'), '2026-12-07T00:05:00.000Z');
    assert.equal(parseWith("yyyy-MM-dd'T'HH:mm:ss.SSS", '2026-12-07T01:00:05.1'), '2026-12-07T01:00:05.100Z');
    assert.equal(parseWith("yyyy-MM-dd'T'HH:mm:ss.SSS", '2026-12-07t01:00:05.123'), '2026-12-07T01:00:05.123Z', 'literals ignore case, as in Joda');
    assert.equal(parseWith('yyMMddHHmmss', '261207010005'), '2026-12-07T01:00:05.000Z');
    assert.equal(parseWith('dd.MM.yy', '07.12.70'), '1970-12-07T00:00:00.000Z', 'two-digit years pivot around now - 30');
    assert.equal(parseWith('dd.MM.yy', '07.12.45'), '2045-12-07T00:00:00.000Z');
    assert.equal(parseWith('yyyyMMdd', 20261207), '2026-12-07T00:00:00.000Z', 'a number is read as its digits');
    assert.equal(parseWith('yyyy-DDD', '2024-366'), '2024-12-31T00:00:00.000Z');
    assert.equal(parseWith('dd MMM yyyy', '07 DEC 2026'), '2026-12-07T00:00:00.000Z');
    assert.equal(parseWith('dd MMM yyyy', '07 Dezember 2026'), null);
    assert.equal(parseWith('dd MMMM yyyy', '07 Dezember 2026', { locale: 'de' }), '2026-12-07T00:00:00.000Z');
    assert.equal(parseWith('dd MMM yyyy', '07 März 2026', { locale: 'de' }), '2026-03-07T00:00:00.000Z');
    assert.equal(parseWith('dd MMM yyyy HH:mm', '07 Dec 2026 24:00'), null);
    assert.equal(parseWith('dd MMM yyyy', '29 Feb 2026'), null);
    assert.equal(parseWith('dd MMM yyyy', '29 Feb 2024'), '2024-02-29T00:00:00.000Z');
    assert.equal(parseWith('dd MMM yyyy', '07 Dec 2026 '), null, 'the whole text must be used');
  });

  it('sets target, tags failures with tag_on_failure, applies add_tag only on success, and leaves events without the field alone', () => {
    const logs: string[] = [];
    const filter = filterOf(`date { match => ["[when][text]", "ISO8601", "UNIX"] target => "[when][parsed]" tag_on_failure => ["bad_time"] add_tag => ["dated"] }`, logs);
    const events = [
      new PipelineEvent({ when: { text: '2026-01-01T00:00:00Z' } }),
      new PipelineEvent({ when: { text: 'yesterday' } }),
      new PipelineEvent({ other: 1 }),
      new PipelineEvent({ when: { text: ['1700000000', 'ignored'] } }),
      new PipelineEvent({ when: { text: 1700000000 } }),
    ];
    filter.process(events);
    const [ok, bad, missing, list, number] = events.map((e) => e.toJSON() as Record<string, any>);
    assert.equal(ok.when.parsed, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(ok.tags, ['dated']);
    assert.notEqual(ok['@timestamp'], ok.when.parsed, 'with a target, @timestamp stays');
    assert.deepEqual(bad.tags, ['bad_time']);
    assert.equal(bad.when.parsed, undefined);
    assert.equal(missing.tags, undefined, 'no field: no failure and no add_tag');
    assert.equal(list.when.parsed, '2023-11-14T22:13:20.000Z', 'a list is read from its first item');
    assert.equal(number.when.parsed, '2023-11-14T22:13:20.000Z');
    assert.equal(logs.filter((l) => l.startsWith('warn')).length, 1);
  });

  it('logs a bounded number of warnings however many events fail', () => {
    const logs: string[] = [];
    const filter = filterOf(`date { match => ["t", "ISO8601"] }`, logs);
    const events = Array.from({ length: 500 }, (_, i) => new PipelineEvent({ t: `junk ${i}` }));
    filter.process(events);
    assert.ok(events.every((e) => e.tags().includes('_dateparsefailure')));
    assert.ok(logs.length > 0 && logs.length <= 10, `${logs.length} warnings`);
  });

  it('reads the zone per event from a %{field} timezone', () => {
    const filter = filterOf(`date { match => ["t", "yyyy-MM-dd HH:mm"] timezone => "%{tz}" }`);
    const events = [new PipelineEvent({ t: '2026-07-01 12:00', tz: 'Asia/Tokyo' }), new PipelineEvent({ t: '2026-07-01 12:00', tz: 'America/Los_Angeles' })];
    filter.process(events);
    assert.deepEqual(events.map((e) => e.fields['@timestamp']), ['2026-07-01T03:00:00.000Z', '2026-07-01T19:00:00.000Z']);
  });

  it('takes a fixed offset or UTC as the timezone, as Joda does', () => {
    const at = (zone: string) => runOne(`date { match => ["t", "yyyy-MM-dd HH:mm"] timezone => "${zone}" }`, { t: '2026-07-01 12:00' })['@timestamp'];
    assert.equal(at('+01:00'), '2026-07-01T11:00:00.000Z');
    assert.equal(at('-0530'), '2026-07-01T17:30:00.000Z');
    assert.equal(at('UTC'), '2026-07-01T12:00:00.000Z');
    assert.equal(at('Etc/GMT-3'), '2026-07-01T09:00:00.000Z');
    assert.equal(runOne(`date { match => ["t", "MMM dd HH:mm"] timezone => "+14:00" }`, { t: 'Jan 01 00:00' }).tags, undefined);
  });

  it('refuses configuration mistakes, naming the setting', () => {
    const cases: Array<[string, RegExp]> = [
      [`date { }`, /"match" is required/],
      [`date { match => ["t"] }`, /"match" is required/],
      [`date { match => ["t", "yyyy-ww"] }`, /"match".*pattern letter "w"/],
      [`date { match => ["t", "ISO8601"] timezone => "Mars/Olympus" }`, /"timezone"/],
      [`date { match => ["t", "ISO8601"] locale => "xx_QQ_bogus!" }`, /"locale"/],
      [`date { match => ["t", "ISO8601"] tagonfailure => ["x"] }`, /unknown setting "tagonfailure"/],
    ];
    for (const [block, message] of cases) {
      assert.throws(() => filterOf(block), (error: Error) => error instanceof PipelineConfigError && message.test(error.message), block);
    }
  });

  it('runs in a pipeline from config text, with a conditional on the failure tag', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const config = `
      input { stdin { codec => json_lines } }
      filter {
        date { match => ["logdate", "MMM dd yyyy HH:mm:ss", "MMM  d yyyy HH:mm:ss", "ISO8601"] remove_field => ["logdate"] }
        if "_dateparsefailure" in [tags] { mutate { add_field => { "fix" => "me" } } }
      }
      output { stdout { codec => json_lines } }`;
    const pipeline = buildPipeline(parseConfig(config), testContext([], stdin, stdout));
    stdin.end(['{"logdate":"Jan 09 2026 10:00:00"}', '{"logdate":"Jan  9 2026 10:00:00"}', '{"logdate":"not a date"}'].join('\n') + '\n');
    await pipeline.run();
    const events = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(events.length, 3);
    // A conditional sends events down branches, so the order out is not the order in.
    const failed = events.filter((e) => e.fix === 'me');
    const dated = events.filter((e) => e.fix === undefined);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].logdate, 'not a date');
    assert.deepEqual(failed[0].tags, ['_dateparsefailure']);
    assert.deepEqual(dated.map((e) => e['@timestamp']), ['2026-01-09T10:00:00.000Z', '2026-01-09T10:00:00.000Z'], 'two-digit and space-padded days');
    assert.ok(dated.every((e) => e.logdate === undefined), 'remove_field runs on success');
  });
});
