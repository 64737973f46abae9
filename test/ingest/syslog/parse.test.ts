import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseSyslog,
  zoneOffsetMs,
  FACILITY_NAMES,
  SEVERITY_NAMES,
  SYSLOG_PARSE_FAILURE_TAG,
  type SyslogResult,
} from '../../../src/ingest/syslog/parse.js';

// ---------------------------------------------------------------------------
// helpers

/** `../shared/data/<name>` beside the repo: from cwd (the repo root under `node --test`), else from this file in dist/test/ingest/syslog/. */
function sharedDataPath(name: string): string {
  const fromCwd = path.resolve('..', 'shared', 'data', name);
  if (existsSync(fromCwd)) return fromCwd;
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', '..', '..', '..', 'shared', 'data', name);
}

/** Epoch ms of an RFC 3339 string keeping sub-millisecond digits (Date.parse drops them). */
function rfc3339ToEpoch(iso: string): number {
  const t = iso.indexOf('T');
  const dot = iso.indexOf('.', t);
  if (dot < 0) return Date.parse(iso);
  let k = dot + 1;
  while (k < iso.length && iso.charCodeAt(k) >= 48 && iso.charCodeAt(k) <= 57) k++;
  return Date.parse(iso.slice(0, dot) + iso.slice(k)) + Number(`0.${iso.slice(dot + 1, k)}`) * 1000;
}

function assertTime(actual: number | undefined, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: @timestamp missing`);
  assert.ok(Math.abs((actual as number) - expected) < 1e-6, `${what}: @timestamp ${actual} != ${expected}`);
}

function isFailure(r: SyslogResult): boolean {
  return r.tags !== undefined && r.tags.includes(SYSLOG_PARSE_FAILURE_TAG);
}

function sdFields(r: SyslogResult): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k.startsWith('syslog.sd.')) out[k] = v as string | string[];
  }
  return out;
}

/** Asserts every listed field; `undefined` means "absent". */
function assertFields(r: SyslogResult, expected: Record<string, unknown>, what: string): void {
  const rec = r as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected)) {
    if (v === undefined) assert.ok(!(k in rec), `${what}: ${k} should be absent, is ${JSON.stringify(rec[k])}`);
    else if (k === '@timestamp') assertTime(r['@timestamp'], v as number, what);
    else assert.deepEqual(rec[k], v, `${what}: field ${k}`);
  }
}

const NOW = new Date('2026-02-10T12:00:00Z');
const opts = { now: NOW };

/** Expected instant of a year-less UTC "Mmm dd hh:mm:ss" under the documented rule. */
function yearlessUtc(mon: number, day: number, h: number, mi: number, s: number, now: Date): number {
  let y = now.getUTCFullYear() + 1;
  for (;;) {
    const t = Date.UTC(y, mon - 1, day, h, mi, s);
    if (new Date(t).getUTCDate() === day && t <= now.getTime() + 86400000) return t;
    y--;
  }
}

const MONTHS: Record<string, number> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

function bsdDate(text: string, now: Date): number {
  const mon = MONTHS[text.slice(0, 3)];
  assert.ok(mon !== undefined, text);
  const day = Number(text.slice(4, 6).trim());
  const [h, mi, s] = text.slice(7, 15).split(':').map(Number) as [number, number, number];
  return yearlessUtc(mon, day, h, mi, s, now);
}

// ---------------------------------------------------------------------------
// RFC examples file

interface Rfc5424Example {
  id: string;
  input: string;
  input_literal_BOM?: string;
  expect: {
    pri: number;
    facility: number;
    facility_name?: string;
    severity: number;
    severity_name?: string;
    version: number;
    timestamp: string | null;
    timestamp_utc?: string;
    hostname: string | null;
    app_name: string | null;
    procid: string | null;
    msgid: string | null;
    structured_data: Record<string, Record<string, string>> | null;
    structured_data_raw?: string;
    msg: string | null;
    msg_has_bom?: boolean;
  };
}

interface Rfc3164Example {
  id: string;
  input: string;
  expect: {
    pri: number;
    facility: number;
    severity: number;
    timestamp?: string;
    timestamp_valid?: boolean;
    hostname?: string;
    hostname_strict?: string;
    tag?: string | null;
    content_per_rfc?: string;
    content_strict?: string;
    content?: string;
  };
}

interface ExamplesFile {
  rfc5424: Rfc5424Example[];
  'rfc5424_timestamps_6.2.3.1': { value: string; valid: boolean }[];
  rfc3164: Rfc3164Example[];
}

const examples = JSON.parse(readFileSync(sharedDataPath('syslog-rfc-examples.json'), 'utf8')) as ExamplesFile;

describe('RFC 5424 examples (syslog-rfc-examples.json)', () => {
  test('file has the examples', () => {
    assert.equal(examples.rfc5424.length, 4);
    assert.equal(examples['rfc5424_timestamps_6.2.3.1'].length, 5);
    assert.equal(examples.rfc3164.length, 5);
  });

  for (const ex of examples.rfc5424) {
    test(ex.id, () => {
      const e = ex.expect;
      const check = (r: SyslogResult, msg: string | null, label: string): void => {
        assert.ok(!isFailure(r), `${label}: failure tag`);
        assert.equal(r['syslog.facility'], Math.floor(e.pri / 8));
        assert.equal(r['syslog.facility'], e.facility);
        assert.equal(r['syslog.severity'], e.severity);
        assert.equal(r['syslog.facility_name'], e.facility_name ?? FACILITY_NAMES[e.facility]);
        assert.equal(r['syslog.severity_name'], e.severity_name ?? SEVERITY_NAMES[e.severity]);
        assert.equal(r.level, r['syslog.severity_name']);
        assert.equal(r['syslog.version'], e.version);
        if (e.timestamp === null) assert.ok(!('@timestamp' in r));
        else assertTime(r['@timestamp'], rfc3339ToEpoch(e.timestamp_utc ?? e.timestamp), label);
        if (e.timestamp_utc !== undefined && e.timestamp !== null) {
          assertTime(r['@timestamp'], rfc3339ToEpoch(e.timestamp), `${label} (local form)`);
        }
        assertFields(
          r,
          {
            host: e.hostname ?? undefined,
            'syslog.appname': e.app_name ?? undefined,
            'syslog.procid': e.procid ?? undefined,
            'syslog.msgid': e.msgid ?? undefined,
          },
          label,
        );
        const expectedSd: Record<string, string> = {};
        for (const [id, params] of Object.entries(e.structured_data ?? {})) {
          for (const [name, value] of Object.entries(params)) expectedSd[`syslog.sd.${id}.${name}`] = value;
        }
        assert.deepEqual(sdFields(r), expectedSd, `${label}: structured data`);
        assert.equal(r.message, msg ?? '', `${label}: message`);
      };

      const r = parseSyslog(ex.input, opts);
      check(r, e.msg, ex.id);
      if (e.msg_has_bom === true) {
        assert.ok(ex.input.includes('\uFEFF'), 'input carries a BOM');
        assert.ok(!r.message.startsWith('\uFEFF'), 'BOM stripped');
      }
      // the same bytes as a Buffer
      check(parseSyslog(Buffer.from(ex.input, 'utf8'), opts), e.msg, `${ex.id} (Buffer)`);
      // rsyslog-style placeholder text "BOM" is ordinary MSG text
      if (ex.input_literal_BOM !== undefined) {
        check(parseSyslog(ex.input_literal_BOM, opts), `BOM${e.msg ?? ''}`, `${ex.id} (literal BOM)`);
      }
    });
  }

  for (const ts of examples['rfc5424_timestamps_6.2.3.1']) {
    test(`timestamp ${ts.value} valid=${ts.valid}`, () => {
      const r = parseSyslog(`<14>1 ${ts.value} host app - - - hello`, opts);
      if (ts.valid) {
        assert.ok(!isFailure(r));
        assertTime(r['@timestamp'], rfc3339ToEpoch(ts.value), ts.value);
        assert.equal(r.message, 'hello');
      } else {
        // RFC 5424 is parsed strictly: an invalid TIMESTAMP fails the message, losslessly
        assert.ok(isFailure(r));
        assert.ok(!('@timestamp' in r));
        assert.equal(r.message, `<14>1 ${ts.value} host app - - - hello`);
        assert.equal(r['syslog.facility'], 1);
        assert.equal(r['syslog.severity'], 6);
      }
    });
  }
});

describe('RFC 3164 examples (syslog-rfc-examples.json)', () => {
  for (const ex of examples.rfc3164) {
    test(ex.id, () => {
      const e = ex.expect;
      const r = parseSyslog(ex.input, opts);
      assert.ok(!isFailure(r));
      assert.equal(r['syslog.facility'], e.facility);
      assert.equal(r['syslog.severity'], e.severity);
      assert.equal(r['syslog.facility'] * 8 + r['syslog.severity'], e.pri);
      assert.ok(!('syslog.version' in r));
      if (e.timestamp !== undefined) assertTime(r['@timestamp'], bsdDate(e.timestamp, NOW), ex.id);
      if (e.hostname !== undefined) assert.equal(r.host, e.hostname);
      if (e.hostname_strict !== undefined) assert.equal(r.host, e.hostname_strict);
      if (e.tag !== undefined) {
        if (e.tag === null) assert.ok(!('syslog.appname' in r));
        else assert.equal(r['syslog.appname'], e.tag);
      }
      if (e.content_per_rfc !== undefined) {
        // CONTENT per RFC keeps the TAG's ':'; like rsyslog and Logstash we drop ': '
        const content = e.content_per_rfc.startsWith(': ') ? e.content_per_rfc.slice(2) : e.content_per_rfc;
        assert.equal(r.message, content);
      }
      if (e.content_strict !== undefined) assert.equal(r.message, e.content_strict);
      if (e.content !== undefined) assert.equal(r.message, e.content);
      if (e.timestamp_valid === false) {
        // 3164-5.4-ex4: "1990 Oct 22 10:52:01" is not an RFC 3164 TIMESTAMP. Deliberate
        // deviation: the year-first form is one real devices send (Cisco NX-OS), so the
        // tolerant parser reads it as a date (in opts.timeZone, UTC here). Nothing is
        // lost: the rest of the text stays in host/message.
        assertTime(r['@timestamp'], Date.UTC(1990, 9, 22, 10, 52, 1), ex.id);
        assert.equal(`${r.host ?? ''} ${r.message}`, ex.input.slice(ex.input.indexOf('TZ-6')));
      }
    });
  }
});

// ---------------------------------------------------------------------------
// auth.log

describe('auth.log (7,121 real lines)', () => {
  const lines = readFileSync(sharedDataPath('auth.log'), 'utf8').split('\n').filter((l) => l.length > 0);
  const now = new Date('2017-05-01T00:00:00Z');

  test('line count', () => {
    assert.equal(lines.length, 7121);
  });

  test('every line parses: program, host, timestamp, pid when present, no failure', () => {
    let withPid = 0;
    let prev = -Infinity;
    for (const line of lines) {
      const r = parseSyslog(line, { now });
      assert.ok(!isFailure(r), line);
      assert.equal(r.host, 'ip-10-77-20-248', line);
      assert.equal(r['syslog.facility'], 1, line);
      assert.equal(r['syslog.severity'], 5, line);
      const ts = r['@timestamp'];
      assert.ok(typeof ts === 'number', line);
      assert.equal(ts, bsdDate(line.slice(0, 15), now), line);
      assert.ok(ts >= prev, `timestamps go backwards at ${line}`);
      prev = ts;
      // "prog[pid]: msg" or "prog: msg"
      const afterHost = line.indexOf(' ', 16) + 1;
      const colon = line.indexOf(': ', afterHost);
      const tag = line.slice(afterHost, colon);
      const bracket = tag.indexOf('[');
      const prog = bracket < 0 ? tag : tag.slice(0, bracket);
      assert.equal(r['syslog.appname'], prog, line);
      if (bracket >= 0) {
        withPid++;
        assert.equal(r['syslog.procid'], tag.slice(bracket + 1, -1), line);
        assert.match(r['syslog.procid'] ?? '', /^[0-9]+$/);
      } else {
        assert.ok(!('syslog.procid' in r), line);
      }
      assert.equal(r.message, line.slice(colon + 2), line);
    }
    // sudo and systemd lines carry no pid in this file
    assert.equal(withPid, 6326);
  });

  test('same lines as Buffers with PRI and CRLF', () => {
    for (let i = 0; i < lines.length; i += 97) {
      const line = lines[i] as string;
      const a = parseSyslog(line, { now });
      const b = parseSyslog(Buffer.from(`<86>${line}\r\n`), { now });
      assert.equal(b['syslog.facility'], 10);
      assert.equal(b['syslog.facility_name'], 'authpriv');
      assert.equal(b['syslog.severity'], 6);
      assert.equal(b.message, a.message);
      assert.equal(b['@timestamp'], a['@timestamp']);
      assert.equal(b['syslog.appname'], a['syslog.appname']);
    }
  });
});

// ---------------------------------------------------------------------------
// device quirks and edge cases

interface Case {
  name: string;
  input: string | Buffer;
  opts?: { now?: Date; timeZone?: string; receivedFrom?: string };
  expect: Record<string, unknown>;
  failure?: boolean;
}

const T = (iso: string): number => rfc3339ToEpoch(iso);

const cases: Case[] = [
  {
    name: 'missing PRI -> user.notice',
    input: 'Feb  5 17:32:18 host app: hi',
    expect: {
      'syslog.facility': 1, 'syslog.facility_name': 'user', 'syslog.severity': 5, 'syslog.severity_name': 'notice',
      level: 'notice', host: 'host', 'syslog.appname': 'app', message: 'hi', '@timestamp': T('2026-02-05T17:32:18Z'),
    },
  },
  {
    name: 'missing hostname, tag with pid',
    input: '<13>Feb  5 17:32:18 sshd[123]: Accepted publickey',
    expect: { host: undefined, 'syslog.appname': 'sshd', 'syslog.procid': '123', message: 'Accepted publickey' },
  },
  {
    name: 'missing hostname, tag without pid',
    input: '<13>Feb  5 17:32:18 kernel: [  123.456] eth0 up',
    expect: { host: undefined, 'syslog.appname': 'kernel', 'syslog.procid': undefined, message: '[  123.456] eth0 up' },
  },
  {
    name: 'missing hostname falls back to receivedFrom',
    input: '<13>Feb  5 17:32:18 sshd[123]: x',
    opts: { receivedFrom: '192.0.2.7' },
    expect: { host: '192.0.2.7', 'log.source.address': '192.0.2.7' },
  },
  {
    name: 'HOSTNAME wins over receivedFrom',
    input: '<13>Feb  5 17:32:18 web1 app: x',
    opts: { receivedFrom: '192.0.2.7' },
    expect: { host: 'web1', 'log.source.address': '192.0.2.7' },
  },
  {
    name: 'tag with pid, no colon',
    input: '<13>Feb  5 17:32:18 host app[77] message text',
    expect: { host: 'host', 'syslog.appname': 'app', 'syslog.procid': '77', message: 'message text' },
  },
  {
    name: 'slash and dots in tag',
    input: '<22>Feb  5 17:32:18 mx postfix/smtpd[4242]: connect from unknown[192.0.2.1]',
    expect: { 'syslog.facility_name': 'mail', 'syslog.appname': 'postfix/smtpd', 'syslog.procid': '4242', message: 'connect from unknown[192.0.2.1]' },
  },
  {
    name: 'tag longer than 32 characters',
    input: '<13>Feb  5 17:32:18 host org.example.some-very-long-application-name-here[9]: x',
    expect: { 'syslog.appname': 'org.example.some-very-long-application-name-here', 'syslog.procid': '9', message: 'x' },
  },
  {
    name: 'upper-case month',
    input: '<13>FEB  5 17:32:18 host app: x',
    expect: { '@timestamp': T('2026-02-05T17:32:18Z'), host: 'host' },
  },
  {
    name: 'zero-padded and unpadded day',
    input: '<13>Feb 5 17:32:18 host app: x',
    expect: { '@timestamp': T('2026-02-05T17:32:18Z'), host: 'host' },
  },
  {
    name: 'seconds fraction',
    input: '<13>Feb 05 17:32:18.123 host app: x',
    expect: { '@timestamp': T('2026-02-05T17:32:18.123Z'), host: 'host' },
  },
  {
    name: 'microsecond fraction is kept',
    input: '<13>Feb 05 17:32:18.123456 host app: x',
    expect: { '@timestamp': T('2026-02-05T17:32:18.123456Z') },
  },
  {
    name: 'year after day',
    input: '<13>Feb  5 2024 17:32:18 host app: x',
    expect: { '@timestamp': T('2024-02-05T17:32:18Z'), host: 'host', 'syslog.appname': 'app' },
  },
  {
    name: 'year first',
    input: '<13>2024 Feb  5 17:32:18 host app: x',
    expect: { '@timestamp': T('2024-02-05T17:32:18Z'), host: 'host', 'syslog.appname': 'app' },
  },
  {
    name: 'year in the date uses timeZone',
    input: '<13>Jul  4 2025 12:00:00 host app: x',
    opts: { timeZone: 'America/New_York' },
    expect: { '@timestamp': T('2025-07-04T16:00:00Z') },
  },
  {
    name: 'ISO timestamp with offset in 3164 position',
    input: '<13>2026-02-05T17:32:18.123+01:00 host app[1]: x',
    opts: { timeZone: 'America/New_York' },
    expect: { '@timestamp': T('2026-02-05T16:32:18.123Z'), host: 'host', 'syslog.appname': 'app', 'syslog.procid': '1', 'syslog.version': undefined },
  },
  {
    name: 'ISO timestamp with nanoseconds and Z (rsyslog high precision)',
    input: '<13>2026-02-05T17:32:18.123456789Z host app: x',
    expect: { '@timestamp': T('2026-02-05T17:32:18.123456789Z'), host: 'host' },
  },
  {
    name: 'ISO timestamp without offset uses timeZone',
    input: '<13>2026-02-05T17:32:18 host app: x',
    opts: { timeZone: 'Asia/Kolkata' },
    expect: { '@timestamp': T('2026-02-05T12:02:18Z') },
  },
  {
    name: 'ISO timestamp with +hhmm offset',
    input: '<13>2026-02-05T17:32:18-0530 host app: x',
    expect: { '@timestamp': T('2026-02-05T23:02:18Z') },
  },
  {
    name: 'Cisco IOS: sequence, unsynchronised clock, no hostname',
    input: '<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console by console',
    opts: { now: new Date('2026-03-02T00:00:00Z') },
    expect: {
      'syslog.facility_name': 'local7', 'syslog.severity_name': 'notice', 'syslog.sequence': 123, host: undefined,
      '@timestamp': T('2026-03-01T18:46:11.123Z'), message: 'Configured from console by console',
      'syslog.appname': '%SYS-5-CONFIG_I',
    },
  },
  {
    name: 'Cisco IOS: sequence and origin-id hostname',
    input: '<189>123: host: Mar  1 18:46:11: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up',
    opts: { now: new Date('2026-03-02T00:00:00Z') },
    expect: { 'syslog.sequence': 123, host: 'host', '@timestamp': T('2026-03-01T18:46:11Z'), 'syslog.appname': '%LINK-3-UPDOWN', message: 'Interface Gi0/1, changed state to up' },
  },
  {
    name: 'Cisco IOS: "." prefix (NTP sync lost) and show-timezone label',
    input: '<187>4567: router1: .Mar  1 18:46:11.123 UTC: %LINEPROTO-5-UPDOWN: down',
    opts: { now: new Date('2026-03-02T00:00:00Z'), timeZone: 'Europe/Berlin' },
    expect: { 'syslog.severity_name': 'err', 'syslog.sequence': 4567, host: 'router1', '@timestamp': T('2026-03-01T18:46:11.123Z'), 'syslog.appname': '%LINEPROTO-5-UPDOWN', message: 'down' },
  },
  {
    name: 'Cisco IOS: unknown zone label uses timeZone',
    input: '<189>12: *Mar  1 18:46:11 CET: %SYS-5-CONFIG_I: x',
    opts: { now: new Date('2026-03-02T00:00:00Z'), timeZone: 'Europe/Berlin' },
    expect: { '@timestamp': T('2026-03-01T17:46:11Z'), 'syslog.appname': '%SYS-5-CONFIG_I', message: 'x' },
  },
  {
    name: 'Cisco IOS: date with year',
    input: '<189>77: Mar  1 2025 18:46:11.123 UTC: %SYS-5-CONFIG_I: x',
    expect: { 'syslog.sequence': 77, '@timestamp': T('2025-03-01T18:46:11.123Z'), 'syslog.appname': '%SYS-5-CONFIG_I', message: 'x' },
  },
  {
    name: 'Cisco NX-OS: empty sequence, year-first date',
    input: '<189>: 2026 Feb  5 17:32:18 UTC: %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up',
    opts: { timeZone: 'Asia/Tokyo' },
    expect: { '@timestamp': T('2026-02-05T17:32:18Z'), 'syslog.appname': '%ETHPORT-5-IF_UP', message: 'Interface Ethernet1/1 is up', host: undefined },
  },
  {
    name: 'Cisco ASA with hostname and " : " separator',
    input: '<166>Feb 05 2026 17:32:18 fw01 : %ASA-6-302013: Built outbound TCP connection 1',
    expect: { host: 'fw01', '@timestamp': T('2026-02-05T17:32:18Z'), 'syslog.severity_name': 'info', 'syslog.appname': '%ASA-6-302013', message: 'Built outbound TCP connection 1' },
  },
  {
    name: 'Cisco ASA without timestamp',
    input: '<166>%ASA-6-302013: Built outbound TCP connection 1',
    expect: { '@timestamp': undefined, host: undefined, 'syslog.appname': '%ASA-6-302013', message: 'Built outbound TCP connection 1' },
  },
  {
    name: 'relayed Cisco line: numeric tag is a sequence number',
    input: '<189>Feb  5 17:32:18 10.1.1.1 98765: *Feb  5 17:32:17.999: %SYS-5-CONFIG_I: x',
    expect: { host: '10.1.1.1', 'syslog.sequence': 98765, 'syslog.appname': undefined, message: '*Feb  5 17:32:17.999: %SYS-5-CONFIG_I: x' },
  },
  {
    name: 'Juniper BSD format with double space before hostname',
    input: "<28>Feb  5 17:32:18  mx480-re0 mgd[1234]: UI_COMMIT: User 'root' requested 'commit' operation",
    expect: { 'syslog.facility_name': 'daemon', 'syslog.severity_name': 'warning', host: 'mx480-re0', 'syslog.appname': 'mgd', 'syslog.procid': '1234', message: "UI_COMMIT: User 'root' requested 'commit' operation" },
  },
  {
    name: 'Juniper structured (RFC 5424)',
    input: '<165>1 2026-02-05T17:32:18.123+01:00 srx01 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 source-address="10.0.0.1" destination-port="443"] session created',
    expect: {
      'syslog.version': 1, host: 'srx01', 'syslog.appname': 'RT_FLOW', 'syslog.msgid': 'RT_FLOW_SESSION_CREATE', 'syslog.procid': undefined,
      'syslog.sd.junos@2636.1.1.1.2.40.source-address': '10.0.0.1', 'syslog.sd.junos@2636.1.1.1.2.40.destination-port': '443',
      '@timestamp': T('2026-02-05T16:32:18.123Z'), message: 'session created',
    },
  },
  {
    name: 'IPv6 hostname',
    input: '<13>Feb  5 17:32:18 2001:db8::1 app: x',
    expect: { host: '2001:db8::1', 'syslog.appname': 'app', message: 'x' },
  },
  {
    name: 'a TAG ended by a space (rsyslog): the first word after the host',
    input: '<13>Feb  5 17:32:18 host just some words',
    expect: { host: 'host', 'syslog.appname': 'just', message: 'some words' },
  },
  {
    name: 'hostname without tag: a sentence keeps its first word',
    input: '<13>Feb  5 17:32:18 host Connection closed by 10.0.0.1',
    expect: { host: 'host', 'syslog.appname': undefined, message: 'Connection closed by 10.0.0.1' },
  },
  {
    name: 'only one space after the tag colon is removed',
    input: '<13>Feb  5 17:32:18 host sudo:   ubuntu : TTY=pts/0',
    expect: { 'syslog.appname': 'sudo', message: '  ubuntu : TTY=pts/0' },
  },
  {
    name: 'PRI but no date: CONTENT only, tag recognised',
    input: '<13>sshd[1]: hello',
    expect: { '@timestamp': undefined, host: undefined, 'syslog.appname': 'sshd', 'syslog.procid': '1', message: 'hello' },
  },
  {
    name: 'PRI but no date and no tag',
    input: '<13>hello world',
    expect: { '@timestamp': undefined, host: undefined, 'syslog.appname': undefined, message: 'hello world' },
  },
  {
    name: 'PRI only',
    input: '<0>',
    expect: { 'syslog.facility_name': 'kern', 'syslog.severity_name': 'emerg', message: '' },
  },
  {
    name: 'invalid date values are content',
    input: '<13>Feb 30 17:32:18 host app: x',
    expect: { '@timestamp': undefined, message: 'Feb 30 17:32:18 host app: x' },
  },
  {
    name: 'trailing CR LF and NUL removed',
    input: '<13>Feb  5 17:32:18 host app: x\r\n\0',
    expect: { message: 'x' },
  },
  {
    name: 'multi-line content kept',
    input: '<13>Feb  5 17:32:18 host app: line1\nline2',
    expect: { message: 'line1\nline2' },
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    input: Buffer.concat([Buffer.from('<13>Feb  5 17:32:18 host app: a'), Buffer.from([0xff, 0xc3]), Buffer.from('b')]),
    expect: { message: 'a\uFFFD\uFFFDb', host: 'host' },
  },
  {
    name: 'all 24 facilities named: local7.debug',
    input: '<191>Feb  5 17:32:18 host app: x',
    expect: { 'syslog.facility': 23, 'syslog.facility_name': 'local7', 'syslog.severity': 7, 'syslog.severity_name': 'debug', level: 'debug' },
  },
  {
    name: 'facility 10 authpriv, 15 solaris-cron',
    input: '<122>Feb  5 17:32:18 host app: x',
    expect: { 'syslog.facility': 15, 'syslog.facility_name': 'solaris-cron', 'syslog.severity_name': 'crit' },
  },
  // RFC 5424 specifics
  {
    name: '5424 all NILVALUE',
    input: '<14>1 - - - - - -',
    expect: { 'syslog.version': 1, '@timestamp': undefined, host: undefined, 'syslog.appname': undefined, 'syslog.procid': undefined, 'syslog.msgid': undefined, message: '' },
  },
  {
    name: '5424 NIL timestamp and hostname fall back to receivedFrom',
    input: '<14>1 - - app 12 MID - msg',
    opts: { receivedFrom: 'fe80::1' },
    expect: { '@timestamp': undefined, host: 'fe80::1', 'syslog.appname': 'app', 'syslog.procid': '12', 'syslog.msgid': 'MID', message: 'msg' },
  },
  {
    name: '5424 SD escapes and repeated params',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [x@1 q="say \\"hi\\"" b="back\\\\slash" r="br\\]acket" o="other\\n" p="1" p="2" p="3"][y z=""] m',
    expect: {
      'syslog.sd.x@1.q': 'say "hi"', 'syslog.sd.x@1.b': 'back\\slash', 'syslog.sd.x@1.r': 'br]acket', 'syslog.sd.x@1.o': 'other\\n',
      'syslog.sd.x@1.p': ['1', '2', '3'], 'syslog.sd.y.z': '', message: 'm',
    },
  },
  {
    name: '5424 SD value with UTF-8 and unescaped ]',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [x k="héllo ] wörld"] m',
    expect: { 'syslog.sd.x.k': 'héllo ] wörld', message: 'm' },
  },
  {
    name: '5424 SD element without params gives no field',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [timeQuality][x k="v"]',
    expect: { 'syslog.sd.x.k': 'v', message: '' },
  },
  {
    name: '5424 BOM only stripped at MSG start',
    input: '<14>1 2026-02-05T17:32:18Z h a - - - \uFEFFa\uFEFFb',
    expect: { message: 'a\uFEFFb' },
  },
  {
    name: '5424 version 2 parsed with the same grammar',
    input: '<14>2 2026-02-05T17:32:18Z h a - - - m',
    expect: { 'syslog.version': 2, message: 'm' },
  },
  {
    name: '5424 leading zeros in PRI tolerated',
    input: '<014>1 2026-02-05T17:32:18Z h a - - - m',
    expect: { 'syslog.facility': 1, 'syslog.severity': 6, message: 'm' },
  },
  // failures
  { name: 'empty input', input: '', expect: { message: '' }, failure: true },
  { name: 'only newline', input: '\n', expect: { message: '' }, failure: true },
  { name: 'no PRI and no date', input: 'hello world', expect: { message: 'hello world', 'syslog.facility': 1, 'syslog.severity': 5 }, failure: true },
  { name: 'PRI too large', input: '<192>Feb  5 17:32:18 host app: x', expect: { message: '<192>Feb  5 17:32:18 host app: x' }, failure: true },
  { name: 'PRI 4 digits', input: '<1000>x', expect: { message: '<1000>x' }, failure: true },
  { name: 'PRI empty', input: '<>x', expect: { message: '<>x' }, failure: true },
  { name: 'PRI unterminated', input: '<12', expect: { message: '<12' }, failure: true },
  { name: 'PRI not digits', input: '<ab>x', expect: { message: '<ab>x' }, failure: true },
  {
    name: '5424 missing fields keeps PRI',
    input: '<34>1 2003-10-11T22:14:15.003Z host app',
    expect: { message: '<34>1 2003-10-11T22:14:15.003Z host app', 'syslog.facility': 4, 'syslog.severity': 2, '@timestamp': undefined, host: undefined, 'syslog.version': undefined },
    failure: true,
  },
  { name: '5424 double space', input: '<34>1 2003-10-11T22:14:15.003Z  host app - - - x', expect: {}, failure: true },
  {
    name: '5424 unterminated SD: header kept, SD raw',
    input: '<34>1 2003-10-11T22:14:15.003Z host app - - [a b="c"',
    expect: { host: 'host', 'syslog.appname': 'app', 'syslog.sd_raw': '[a b="c"', message: '', tags: ['_syslogsdparsefailure'], 'syslog.sd.a.b': undefined },
  },
  {
    name: '5424 SD param without quotes',
    input: '<34>1 2003-10-11T22:14:15.003Z host app - - [a b=c] x',
    expect: { host: 'host', 'syslog.sd_raw': '[a b=c]', message: 'x', tags: ['_syslogsdparsefailure'] },
  },
  {
    name: '5424 SD missing: the rest is MSG',
    input: '<34>1 2003-10-11T22:14:15.003Z host app - - x',
    expect: { host: 'host', 'syslog.msgid': undefined, 'syslog.sd_raw': undefined, message: 'x', tags: ['_syslogsdparsefailure'] },
  },
  {
    name: '5424 no SP after SD',
    input: '<34>1 2003-10-11T22:14:15.003Z host app - - [a b="c"]x y',
    expect: { host: 'host', 'syslog.sd_raw': '[a b="c"]x', message: 'y', tags: ['_syslogsdparsefailure'], 'syslog.sd.a.b': undefined },
  },
  {
    name: '5424 SD: a space after = (rsyslog test vector); partial SD fields are not kept',
    input: '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource= "Application" eventID="1011"] \ufeffAn application event',
    expect: {
      host: 'mymachine.example.com', 'syslog.appname': 'evntslog', 'syslog.msgid': 'ID47', 'syslog.procid': undefined,
      'syslog.sd_raw': '[exampleSDID@32473 iut="3" eventSource= "Application" eventID="1011"]', 'syslog.sd.exampleSDID@32473.iut': undefined,
      message: 'An application event', tags: ['_syslogsdparsefailure'], '@timestamp': T('2003-10-11T22:14:15.003Z'),
    },
  },
  {
    name: '5424 SD: an unescaped quote inside a value',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [x@1 say="he said "hi" twice"][y@1 n="1"] msg',
    expect: { 'syslog.sd_raw': '[x@1 say="he said "hi" twice"][y@1 n="1"]', message: 'msg', tags: ['_syslogsdparsefailure'] },
  },
  {
    name: '5424 SD: a missing closing quote ends at the first "] "',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [x@1 k="v] the message',
    expect: { 'syslog.sd_raw': '[x@1 k="v]', message: 'the message', tags: ['_syslogsdparsefailure'] },
  },
  {
    name: '5424 SD: an unescaped ] inside a quoted value is part of the value',
    input: '<14>1 2026-02-05T17:32:18Z h a - - [x@1 k="a]b"] m',
    expect: { 'syslog.sd.x@1.k': 'a]b', message: 'm', tags: undefined },
  },
  { name: '5424 timestamp without offset', input: '<34>1 2003-10-11T22:14:15.003 host app - - - x', expect: {}, failure: true },
  { name: '5424 timestamp impossible date', input: '<34>1 2003-02-29T22:14:15Z host app - - - x', expect: {}, failure: true },
  { name: '5424 lower-case t', input: '<34>1 2003-10-11t22:14:15Z host app - - - x', expect: {}, failure: true },
];

describe('device quirks and edge cases', () => {
  for (const c of cases) {
    test(c.name, () => {
      const o = { now: NOW, ...c.opts };
      const r = parseSyslog(c.input, o);
      assert.equal(isFailure(r), c.failure === true, `failure tag: ${JSON.stringify(r)}`);
      if (c.failure !== true && !('tags' in c.expect)) assert.ok(!('tags' in r), 'no tags on success');
      if (c.failure === true && typeof c.input === 'string') {
        // nothing is dropped: the whole text (minus transport trailers) is in message
        assert.equal(r.message, c.input.replace(/[\r\n\0]+$/, ''));
      }
      assertFields(r, c.expect, c.name);
    });
  }
});

// ---------------------------------------------------------------------------
// year resolution

describe('year-less dates', () => {
  const at = (text: string, now: string, timeZone?: string): number | undefined =>
    parseSyslog(`<13>${text} host app: x`, timeZone === undefined ? { now: new Date(now) } : { now: new Date(now), timeZone })['@timestamp'];

  test('December message received in January -> previous year', () => {
    assert.equal(at('Dec 31 23:59:59', '2026-01-01T00:00:02Z'), Date.UTC(2025, 11, 31, 23, 59, 59));
    assert.equal(at('Dec 24 10:00:00', '2026-01-15T08:00:00Z'), Date.UTC(2025, 11, 24, 10, 0, 0));
  });

  test('January message received on Dec 31 (sender clock ahead) -> next year', () => {
    assert.equal(at('Jan  1 00:00:05', '2025-12-31T23:59:50Z'), Date.UTC(2026, 0, 1, 0, 0, 5));
  });

  test('same year for recent dates', () => {
    assert.equal(at('Feb  9 11:00:00', '2026-02-10T12:00:00Z'), Date.UTC(2026, 1, 9, 11, 0, 0));
    assert.equal(at('Feb 10 12:00:00', '2026-02-10T12:00:00Z'), Date.UTC(2026, 1, 10, 12, 0, 0));
  });

  test('up to 24 h in the future stays in the current year, more goes back a year', () => {
    assert.equal(at('Feb 11 11:59:59', '2026-02-10T12:00:00Z'), Date.UTC(2026, 1, 11, 11, 59, 59));
    assert.equal(at('Feb 11 12:00:00', '2026-02-10T12:00:00Z'), Date.UTC(2026, 1, 11, 12, 0, 0));
    assert.equal(at('Feb 11 12:00:01', '2026-02-10T12:00:00Z'), Date.UTC(2025, 1, 11, 12, 0, 1));
    assert.equal(at('Jul  1 00:00:00', '2026-01-05T00:00:00Z'), Date.UTC(2025, 6, 1));
  });

  test('Feb 29 goes to the latest leap year', () => {
    assert.equal(at('Feb 29 12:00:00', '2026-03-01T00:00:00Z'), Date.UTC(2024, 1, 29, 12));
    assert.equal(at('Feb 29 12:00:00', '2028-03-01T00:00:00Z'), Date.UTC(2028, 1, 29, 12));
  });

  test('the year is decided in opts.timeZone', () => {
    // now = 2026-01-01T03:00Z is still Dec 31 2025 22:00 in New York
    assert.equal(at('Dec 31 21:00:00', '2026-01-01T03:00:00Z', 'America/New_York'), Date.UTC(2026, 0, 1, 2, 0, 0));
    assert.equal(at('Dec 31 23:30:00', '2026-01-01T03:00:00Z', 'America/New_York'), Date.UTC(2026, 0, 1, 4, 30, 0));
    // now = 2025-12-31T20:00Z is already Jan 1 2026 05:00 in Tokyo
    assert.equal(at('Jan  1 04:00:00', '2025-12-31T20:00:00Z', 'Asia/Tokyo'), Date.UTC(2025, 11, 31, 19, 0, 0));
    assert.equal(at('Dec 31 23:00:00', '2025-12-31T20:00:00Z', 'Asia/Tokyo'), Date.UTC(2025, 11, 31, 14, 0, 0));
  });

  test('an invalid opts.now falls back to the clock', () => {
    const r = parseSyslog('<13>Jan  1 00:00:00 host app: x', { now: new Date(NaN) });
    assert.equal(typeof r['@timestamp'], 'number');
  });
});

// ---------------------------------------------------------------------------
// time zones

describe('time zones via Intl', () => {
  test('DST in New York', () => {
    const p = (d: string): number | undefined =>
      parseSyslog(`<13>${d} host app: x`, { now: NOW, timeZone: 'America/New_York' })['@timestamp'];
    assert.equal(p('Jul  4 2025 12:00:00'), Date.UTC(2025, 6, 4, 16));
    assert.equal(p('Jan  4 2025 12:00:00'), Date.UTC(2025, 0, 4, 17));
    // fall back: 01:30 happens twice; the first (EDT) is taken
    assert.equal(p('Nov  2 2025 01:30:00'), Date.UTC(2025, 10, 2, 5, 30));
    // just before and after the transitions
    assert.equal(p('Mar  9 2025 01:59:59'), Date.UTC(2025, 2, 9, 6, 59, 59));
    assert.equal(p('Mar  9 2025 03:00:00'), Date.UTC(2025, 2, 9, 7, 0, 0));
    assert.equal(p('Nov  2 2025 02:00:00'), Date.UTC(2025, 10, 2, 7, 0, 0));
  });

  test('half- and quarter-hour zones', () => {
    const p = (tz: string): number | undefined =>
      parseSyslog('<13>2025 Jun 15 12:00:00 host app: x', { now: NOW, timeZone: tz })['@timestamp'];
    assert.equal(p('Asia/Kolkata'), Date.UTC(2025, 5, 15, 6, 30));
    assert.equal(p('Asia/Kathmandu'), Date.UTC(2025, 5, 15, 6, 15));
    assert.equal(p('Australia/Lord_Howe'), Date.UTC(2025, 5, 15, 1, 30));
    assert.equal(p('Etc/GMT+5'), Date.UTC(2025, 5, 15, 17));
  });

  test('unknown zone name is treated as UTC, no throw', () => {
    const r = parseSyslog('<13>2025 Jun 15 12:00:00 host app: x', { now: NOW, timeZone: 'Not/AZone' });
    assert.equal(r['@timestamp'], Date.UTC(2025, 5, 15, 12));
  });

  test('zoneOffsetMs agrees with Intl across a year of instants', () => {
    const zones = ['Europe/Berlin', 'America/Sao_Paulo', 'Australia/Sydney', 'America/St_Johns', 'Pacific/Chatham', 'UTC'];
    for (const tz of zones) {
      const fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
      });
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2026, 0, 1); t += 3600000 * 7 + 60000 * 13 + 17000) {
        const parts: Record<string, number> = {};
        for (const p of fmt.formatToParts(t)) parts[p.type] = Number(p.value);
        const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
        assert.equal(zoneOffsetMs(tz, t), wall - Math.floor(t / 1000) * 1000, `${tz} at ${new Date(t).toISOString()}`);
      }
    }
  });
});

describe('never throws on odd arguments', () => {
  test('bad opts and non-string input at runtime', () => {
    const weird: unknown[] = [null, undefined, 42, {}, [], new Uint8Array([60, 49, 51, 62, 120])];
    for (const w of weird) {
      const r = parseSyslog(w as string, { now: NOW });
      assert.equal(typeof r.message, 'string');
    }
    const r = parseSyslog('<13>Feb  5 17:32:18 host app: x', undefined as unknown as { now: Date });
    assert.equal(r.host, 'host');
  });
});
