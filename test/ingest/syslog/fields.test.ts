/**
 * The syslog inputs' hot path (parseSyslogFields + eventWithTime, as
 * MessageSink.add runs it) gives exactly the event of the general path
 * (syslogEvent(parseSyslog(...))), on valid messages of every form, long SD
 * names, out-of-range times, and random and mutated input.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../../src/core/event.js';
import { parseSyslog, parseSyslogFields, useSyslogTimeCache } from '../../../src/ingest/syslog/parse.js';
import { eventWithTime, MessageSink, syslogEvent } from '../../../src/ingest/syslog/server.js';
import { prng } from '../../helpers/prng.js';

const NOW = new Date('2026-02-10T12:00:00Z');
const ZONES = [undefined, 'Europe/Berlin', 'America/New_York'];

const VALID: string[] = [
  "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
  "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] msg',
  '<14>1 2026-02-05T17:32:18Z h a - - [x@1 q="say \\"hi\\"" b="back\\\\slash" r="br\\]acket" p="1" p="2"] m',
  '<13>1 2026-11-21T01:00:00.123456+00:00 host-1 app 42 - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="412000"] hello',
  '<13>1 - - - - - -',
  '<13>1 1960-01-01T00:00:00Z oldhost app - - - from the past',
  `<13>1 - - - - - [${'s'.repeat(300)} ${'p'.repeat(10)}="v"] long SD name`,
  `<13>1 2026-02-05T17:32:18Z h a - - [${'s'.repeat(250)} ${'p'.repeat(10)}="v" ${'p'.repeat(10)}="w"][b@1 x="1"] long and short`,
  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
  '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
  '<13>Feb  5 17:32:18 sshd[123]: msg',
  '<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console by console',
  '<189>123: host: Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured',
  '<189>: 2026 Feb  5 17:32:18 UTC: %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up',
  '<166>Feb 05 2026 17:32:18 fw01 : %ASA-6-302013: Built outbound TCP connection',
  '<13>2026-02-05T17:32:18.123456789+01:00 host app[1]: hi',
  '<13>0001-02-05T17:32:18Z host app[1]: year one',
  'Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.',
  '<999>broken',
  'no pri and no date',
  '',
];

const ALPHABET = '<>[]"\\=:- .*%0123456789TZ+\n\r\0\uFEFFFebMarDecabcxyz@';

function mutate(rnd: () => number): Buffer {
  const bytes = [...Buffer.from(VALID[Math.floor(rnd() * VALID.length)])];
  const edits = Math.floor(rnd() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (bytes.length + 1));
    const op = Math.floor(rnd() * 4);
    if (op === 0) bytes[at] = Math.floor(rnd() * 256);
    else if (op === 1) bytes.splice(at, 0, ALPHABET.charCodeAt(Math.floor(rnd() * ALPHABET.length)) & 0xff);
    else if (op === 2) bytes.splice(at, 1 + Math.floor(rnd() * 5));
    else bytes.splice(at, 0, 0xc3);
  }
  return Buffer.from(bytes);
}

function general(data: Buffer, timeZone: string | undefined, arrival: number): LogEvent {
  const opts = { now: NOW, receivedFrom: '10.1.2.3', ...(timeZone ? { timeZone } : {}) };
  return syslogEvent(parseSyslog(data, opts), arrival);
}

function fast(data: Buffer, timeZone: string | undefined, arrival: number): LogEvent {
  const opts = { now: NOW, receivedFrom: '10.1.2.3', ...(timeZone ? { timeZone } : {}) };
  const p = parseSyslogFields(data, opts);
  return p.longName ? syslogEvent(parseSyslog(data, opts), arrival) : eventWithTime(p.fields, p.time, arrival);
}

describe('parseSyslogFields', () => {
  it('gives the general path\'s event for every sample', () => {
    for (const tz of ZONES) {
      for (const text of VALID) {
        const data = Buffer.from(text);
        assert.deepEqual(fast(data, tz, 1_000_000), general(data, tz, 1_000_000), `${tz}: ${text.slice(0, 60)}`);
      }
    }
  });

  it('gives the general path\'s event for mutated and random input', () => {
    const rnd = prng(424242);
    for (let i = 0; i < 20_000; i++) {
      const data = mutate(rnd);
      const tz = ZONES[i % ZONES.length];
      assert.deepEqual(fast(data, tz, 7_000_000), general(data, tz, 7_000_000), JSON.stringify(data.toString('latin1')));
    }
  });

  it('leaves nothing behind for the next message (time, long names, the mode itself)', () => {
    const opts = { now: NOW };
    assert.equal(parseSyslogFields(Buffer.from(VALID[7]), opts).longName, true);
    const p = parseSyslogFields(Buffer.from('<13>Feb  5 17:32:18 h a: x'), opts);
    assert.equal(p.longName, false);
    assert.ok(p.time > 0);
    assert.ok(Number.isNaN(parseSyslogFields(Buffer.from('<13>no date here'), opts).time));
    const r = parseSyslog('<13>1 2026-02-05T17:32:18Z h a - - - m', opts);
    assert.equal(Object.getPrototypeOf(r), Object.prototype);
    assert.equal(typeof r['@timestamp'], 'number');
  });

  it('MessageSink counts parse failures and truncations as before', () => {
    const sink = new MessageSink(undefined, '10.0.0.1');
    sink.stamp();
    sink.add(Buffer.from('<999>broken'), false);
    sink.add(Buffer.from('<13>1 - h a - - - fine'), true);
    assert.equal(sink.failures, 1);
    assert.equal(sink.truncated, 1);
    const [a, b] = sink.take();
    assert.deepEqual(a.fields.tags, ['_syslogparsefailure']);
    assert.deepEqual(b.fields.tags, ['_truncated']);
  });

  it('the per-second time cache gives what a cold conversion gives (fractions, zones, now near the year-less limit)', () => {
    const rnd = prng(77);
    const months = ['Dec', 'Jan', 'Feb', 'Mar'];
    const zones = [undefined, 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    const decoy = Buffer.from('<13>1999-07-07T07:07:07Z decoy a: x');
    for (let i = 0; i < 5000; i++) {
      const mon = months[Math.floor(rnd() * months.length)];
      const day = 1 + Math.floor(rnd() * 31);
      const sec = Math.floor(rnd() * 3);
      const frac = rnd() < 0.5 ? '' : `.${String(Math.floor(rnd() * 1000)).padStart(3, '0')}`;
      const withYear = rnd() < 0.2 ? ' 2026' : '';
      const text = Buffer.from(`<13>${mon} ${String(day).padStart(2, ' ')}${withYear} 23:59:5${sec}${frac} host app: m`);
      // now: around the turn of a year, so that the year-less search and its 24-hour limit matter
      let now = new Date(Date.UTC(2026, 0, 1) + Math.floor((rnd() - 0.5) * 4 * 86_400_000) + (rnd() < 0.3 ? 0 : Math.floor(rnd() * 3000)));
      if (i % 3 === 0 && !withYear) {
        // the 24-hour limit inside the message's second: the whole second fits, its fraction may not
        const sameYear = parseSyslog(text, { now: new Date(Date.UTC(2026, 0, 1)), timeZone: zones[i % zones.length] ?? 'UTC' })['@timestamp'] ?? 0;
        now = new Date(Math.floor(sameYear) - 86_400_000 + Math.floor(rnd() * 1000) - 500);
      }
      const opts = { now, ...(zones[i % zones.length] ? { timeZone: zones[i % zones.length] } : {}) };
      const hot1 = parseSyslogFields(text, opts).time;
      const hot2 = parseSyslogFields(text, opts).time;
      parseSyslogFields(decoy, opts);
      useSyslogTimeCache(false);
      const cold = parseSyslog(text, opts)['@timestamp'] ?? NaN;
      useSyslogTimeCache(true);
      assert.ok(Object.is(hot1, cold) && Object.is(hot2, cold), `${text.toString()} at ${now.toISOString()}: ${hot1} ${hot2} ${cold}`);
      // the same second received much later: a year-less date may resolve to another year
      const later = { ...opts, now: new Date(now.getTime() + 200 * 86_400_000) };
      parseSyslogFields(text, opts);
      const hot3 = parseSyslogFields(text, later).time;
      useSyslogTimeCache(false);
      const cold3 = parseSyslog(text, later)['@timestamp'] ?? NaN;
      useSyslogTimeCache(true);
      assert.ok(Object.is(hot3, cold3), `${text.toString()} at ${later.now.toISOString()}: ${hot3} ${cold3}`);
    }
  });
});
