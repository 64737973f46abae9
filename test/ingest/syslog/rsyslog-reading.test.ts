/**
 * Syslog read as rsyslog reads it (issue 23): the RFC 3164 TAG rules of
 * rsyslog's pmrfc3164, the quirks it tolerates, lenient RFC 5424 structured
 * data, the BOM and control characters; then the same lines sent through a
 * real rsyslogd (imtcp -> omfile with a template of its parsed properties)
 * and compared field by field with Logmill's parser.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseSyslog, SYSLOG_PARSE_FAILURE_TAG, SYSLOG_SD_PARSE_FAILURE_TAG, type SyslogResult } from '../../../src/ingest/syslog/parse.js';
import { portOf, run, stopChild, tempDir, waitFor, which } from '../../fixtures/syslog/harness.js';
import { countAll, freePort, removeDir, search, startTestServer, waitForCount, type TestServer } from '../../helpers/server.js';
import { sharedData } from '../../helpers/shared-data.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const opts = { now: NOW, timeZone: 'UTC' };

interface Reading {
  host?: string;
  program?: string;
  pid?: string;
  message: string;
  time?: string;
}

function reading(line: string): Reading {
  const r = parseSyslog(line, opts);
  const out: Reading = { message: r.message };
  if (r.host !== undefined) out.host = r.host;
  if (r['syslog.appname'] !== undefined) out.program = r['syslog.appname'];
  if (r['syslog.procid'] !== undefined) out.pid = r['syslog.procid'];
  if (r['@timestamp'] !== undefined) out.time = new Date(r['@timestamp']).toISOString();
  return out;
}

describe('RFC 3164 as rsyslog reads it', () => {
  const cases: [string, string, Reading][] = [
    ['Cisco PIX mnemonic is the TAG', '<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded from 10.0.0.1/137', { host: '172.20.245.8', program: '%PIX-7-710005', message: 'UDP request discarded from 10.0.0.1/137', time: '2026-03-06T16:57:54.000Z' }],
    ['a TAG without a colon', '<6>Feb 18 16:01:59 serverX sshd This is a message', { host: 'serverX', program: 'sshd', message: 'This is a message', time: '2026-02-18T16:01:59.000Z' }],
    ['a colon after the time', '<38>Mar 7 19:06:53: example tag: testmessage', { host: 'example', program: 'tag', message: 'testmessage', time: '2026-03-07T19:06:53.000Z' }],
    ['a year inside the date', '<13>Mar 7 2008 19:06:53 host prog: m', { host: 'host', program: 'prog', message: 'm', time: '2008-03-07T19:06:53.000Z' }],
    ['upper-case month', '<13>MAR  7 19:06:53 host prog: m', { host: 'host', program: 'prog', message: 'm', time: '2026-03-07T19:06:53.000Z' }],
    ['one space before a single-digit day', '<13>Mar 7 19:06:53 host prog[42]: m', { host: 'host', program: 'prog', pid: '42', message: 'm', time: '2026-03-07T19:06:53.000Z' }],
    ['a leading space before the date', '<13> Mar  7 19:06:53 host prog: m', { host: 'host', program: 'prog', message: 'm', time: '2026-03-07T19:06:53.000Z' }],
    ['no PRI', 'Mar  7 19:06:53 host prog: m', { host: 'host', program: 'prog', message: 'm', time: '2026-03-07T19:06:53.000Z' }],
    ['no host', '<13>Mar  7 19:06:53 prog[7]: m', { program: 'prog', pid: '7', message: 'm', time: '2026-03-07T19:06:53.000Z' }],
    ['a TAG with a slash and a pid', '<22>Mar  7 19:06:53 mx postfix/smtpd[1234]: connect from x', { host: 'mx', program: 'postfix/smtpd', pid: '1234', message: 'connect from x', time: '2026-03-07T19:06:53.000Z' }],
    ['a TAG in parentheses', '<86>Mar  7 19:06:53 h (sd-pam)[1235]: pam_unix(systemd-user:session): closed', { host: 'h', program: '(sd-pam)', pid: '1235', message: 'pam_unix(systemd-user:session): closed', time: '2026-03-07T19:06:53.000Z' }],
    ['only one space after the TAG goes', '<13>Mar  7 19:06:53 h sudo:   ubuntu : TTY=pts/0', { host: 'h', program: 'sudo', message: '  ubuntu : TTY=pts/0', time: '2026-03-07T19:06:53.000Z' }],
    ['a word longer than 32 characters ended by a space is text', '<13>Mar  7 19:06:53 h abcdefghijklmnopqrstuvwxyz0123456789 rest', { host: 'h', message: 'abcdefghijklmnopqrstuvwxyz0123456789 rest', time: '2026-03-07T19:06:53.000Z' }],
    ['JSON after the host is text', '<13>Mar  7 19:06:53 h {"a":1,"b":"c d"}', { host: 'h', message: '{"a":1,"b":"c d"}', time: '2026-03-07T19:06:53.000Z' }],
    ['key=value after the host is text', '<13>Mar  7 19:06:53 h user=bob action=login', { host: 'h', message: 'user=bob action=login', time: '2026-03-07T19:06:53.000Z' }],
    // Deliberate differences from rsyslog (docs/ingest.md):
    ['RFC 3164 example 2 has no TAG: a sentence keeps its first word', '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!', { host: '10.0.0.99', message: 'Use the BFG!', time: '2026-02-05T17:32:18.000Z' }],
    ['a dotted word after the host is not a TAG', '<13>Feb  5 17:32:18 relay a.example.org sched[0]: x', { host: 'relay', message: 'a.example.org sched[0]: x', time: '2026-02-05T17:32:18.000Z' }],
    ['an IPv6 host', '<13>Feb  5 17:32:18 2001:db8::1 app: x', { host: '2001:db8::1', program: 'app', message: 'x', time: '2026-02-05T17:32:18.000Z' }],
    ['Cisco sequence number: no HOSTNAME after the time', '<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console', { program: '%SYS-5-CONFIG_I', message: 'Configured from console', time: '2026-03-01T18:46:11.123Z' }],
  ];
  for (const [name, line, want] of cases) {
    test(name, () => {
      const r = parseSyslog(line, opts);
      assert.ok(!r.tags?.includes(SYSLOG_PARSE_FAILURE_TAG), `no failure: ${JSON.stringify(r)}`);
      assert.deepEqual(reading(line), want);
    });
  }

  test('the severity and facility of a line without PRI are user.notice (13)', () => {
    const r = parseSyslog('Mar  7 19:06:53 host prog: m', opts);
    assert.equal(r['syslog.facility_name'], 'user');
    assert.equal(r['syslog.severity_name'], 'notice');
  });
});

describe('RFC 5424: strict header, lenient structured data', () => {
  test("the issue's line: a space after '=' keeps host, app, msgid; the SD goes to syslog.sd_raw", () => {
    const line = '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource= "Application"]';
    const r = parseSyslog(line, opts);
    assert.equal(r.host, 'mymachine.example.com');
    assert.equal(r['syslog.appname'], 'evntslog');
    assert.equal(r['syslog.msgid'], 'ID47');
    assert.equal(r['syslog.sd_raw'], '[exampleSDID@32473 iut="3" eventSource= "Application"]');
    assert.deepEqual(r.tags, [SYSLOG_SD_PARSE_FAILURE_TAG]);
    assert.equal(r.message, '');
    assert.equal(r['@timestamp'], Date.UTC(2003, 9, 11, 22, 14, 15, 3));
  });

  test('a malformed header is still a parse failure, whole line kept', () => {
    const line = '<165>1 2003-10-11T22:14:15.003 host app - - - no offset';
    const r = parseSyslog(line, opts);
    assert.deepEqual(r.tags, [SYSLOG_PARSE_FAILURE_TAG]);
    assert.equal(r.message, line);
  });

  test('a UTF-8 BOM before MSG is dropped, from text and from bytes; one before the PRI too', () => {
    const text = '<14>1 2026-02-05T17:32:18Z h a - - - \ufeffhello';
    assert.equal(parseSyslog(text, opts).message, 'hello');
    assert.equal(parseSyslog(Buffer.from(text, 'utf8'), opts).message, 'hello');
    assert.equal(parseSyslog('\ufeff<13>Mar  7 19:06:53 h p: x', opts).message, 'x');
    assert.equal(parseSyslog('\ufeff<13>Mar  7 19:06:53 h p: x', opts).host, 'h');
  });
});

describe('control characters are kept as sent', () => {
  test('tabs, BEL and ESC stay in the message (not #011)', () => {
    const r = parseSyslog('<13>Mar  7 19:06:53 h app: a\tb\u0007c\u001bd', opts);
    assert.equal(r.message, 'a\tb\u0007c\u001bd');
    const r2 = parseSyslog('<14>1 2026-02-05T17:32:18Z h a - - - col1\tcol2', opts);
    assert.equal(r2.message, 'col1\tcol2');
  });
});

// ---------------------------------------------------------------------------
// Differential: the same lines through a real rsyslogd

const RSYSLOGD = which('rsyslogd');
if (RSYSLOGD === null && process.env.CI === 'true') {
  throw new Error('rsyslogd is not installed: npm test installs it first (test/fixtures/install-peers.sh)');
}

describe('the same lines read by rsyslogd', { skip: RSYSLOGD === null ? 'rsyslogd (Debian package rsyslog) is not installed' : false }, () => {
  let dir = '';
  let child: ChildProcess | null = null;
  let port = 0;
  let out = '';
  let log = '';
  let server: TestServer | null = null;

  before(async () => {
    server = await startTestServer({ syslog: '127.0.0.1:0' });
    const syslogTcp = server.inputs.find((i) => i.name === 'syslog_tcp');
    assert.ok(syslogTcp);
    const logmillPort = portOf(syslogTcp);
    dir = tempDir('logmill-rsyslog-diff-');
    out = path.join(dir, 'out.txt');
    port = await freePort();
    // One line per message: the properties rsyslog parsed, tab-separated.
    const conf = [
      `global(workDirectory="${dir}")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="r")`,
      'template(name="t" type="string" string="%hostname%\\t%programname%\\t%procid%\\t%timereported:::date-rfc3339%\\t%msg%\\n")',
      // ... and forwarded to Logmill twice: rsyslog's traditional RFC 3164 and its RFC 5424 template.
      'ruleset(name="r") {',
      `  action(type="omfile" file="${out}" template="t")`,
      `  action(type="omfwd" Target="127.0.0.1" Port="${logmillPort}" Protocol="tcp")`,
      `  action(type="omfwd" Target="127.0.0.1" Port="${logmillPort}" Protocol="tcp" Template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted")`,
      '}',
      '',
    ].join('\n');
    const confFile = path.join(dir, 'rsyslog.conf');
    fs.writeFileSync(confFile, conf);
    await run(RSYSLOGD as string, ['-N1', '-f', confFile]);
    child = spawn(RSYSLOGD as string, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('rsyslogd listening', async () => {
      if (child?.exitCode !== null) throw new Error(`rsyslogd exited: ${log}`);
      return new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
    }, 20_000);
  });

  after(async () => {
    await stopChild(child);
    if (server !== null) {
      await server.close();
      removeDir(server.dir);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('host, program, pid, time and message agree on device quirks and on auth.log', async () => {
    const quirks = [
      '<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded from 10.0.0.1/137',
      '<6>Feb 18 16:01:59 serverX sshd This is a message',
      '<38>Mar 7 19:06:53: example tag: testmessage',
      '<13>Mar 7 2008 19:06:53 host prog: m',
      '<13>Mar  7 19:06:53 host prog[42]: m',
      '<13> Mar  7 19:06:53 host prog: leading space',
      'Mar  7 19:06:53 host prog: no pri',
      '<22>Mar  7 19:06:53 mx postfix/smtpd[1234]: connect from x',
      '<13>Mar  7 19:06:53 h sudo:   ubuntu : TTY=pts/0',
    ];
    // Not compared (deliberate differences, docs/ingest.md): Cisco ASA's "host : %ASA-...:" (rsyslog
    // reads an empty TAG ":"), RFC 3164 example 2, dotted words and IPv6 hosts, Cisco sequence numbers.
    const auth = fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n').filter((l) => l !== '').slice(0, 400);
    const lines = [...quirks, ...auth.map((l) => `<38>${l}`)];

    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    await new Promise<void>((r) => sock.end(lines.join('\n') + '\n', () => r()));
    await waitFor('rsyslogd wrote every line', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').length > lines.length, 20_000);

    const theirs = fs.readFileSync(out, 'utf8').split('\n').slice(0, lines.length);
    let compared = 0;
    lines.forEach((line, i) => {
      const [host, program, procid, time, ...rest] = (theirs[i] as string).split('\t');
      const msg = rest.join('\t');
      // rsyslog resolves year-less dates against its own clock: compare with the same "now".
      const r: SyslogResult = parseSyslog(line, { now: new Date(), timeZone: 'UTC' });
      const label = `line ${i}: ${line}`;
      if (r.host !== undefined) assert.equal(r.host, host, `${label}: host`);
      // rsyslog's programname ends at '/' (parser.permitSlashInProgramname off); Logmill keeps
      // the whole name before '[pid]' (postfix/smtpd), as Logstash's SYSLOGPROG does.
      assert.equal((r['syslog.appname'] ?? '').split('/')[0], program, `${label}: program`);
      assert.equal(r['syslog.procid'] ?? '-', procid === '' ? '-' : procid, `${label}: pid`);
      // rsyslog's %msg% keeps the space after the TAG; Logmill's message starts after it.
      assert.equal(r.message, (msg as string).startsWith(' ') ? (msg as string).slice(1) : msg, `${label}: message`);
      assert.ok(r['@timestamp'] !== undefined, `${label}: time`);
      assert.equal(new Date(r['@timestamp'] as number).getTime(), new Date(time as string).getTime(), `${label}: time`);
      compared++;
    });
    assert.equal(compared, lines.length);

    // Forwarded by rsyslogd in both its formats: every auth.log line stored twice, with host and
    // program, at the time in the line.
    const base = (server as TestServer).url;
    const all = '_exists_:syslog.appname AND host:"ip-10-77-20-248"';
    await waitForCount(base, 'host:"ip-10-77-20-248"', 2 * auth.length, { params: { from: '1970-01-01T00:00:00Z' } });
    assert.equal(await countAll(base, 'host:"ip-10-77-20-248"', { from: '1970-01-01T00:00:00Z' }), 2 * auth.length);
    assert.equal(await countAll(base, all, { from: '1970-01-01T00:00:00Z' }), 2 * auth.length, 'every forwarded line has a program');
    assert.equal(await countAll(base, '_syslogparsefailure OR _syslogsdparsefailure', { from: '1970-01-01T00:00:00Z' }), 0);
    const first = await search(base, '"Server listening on 0.0.0.0 port 22"', { from: '1970-01-01T00:00:00Z' });
    assert.equal(first.total, 2);
    for (const h of first.hits) {
      assert.equal(h['syslog.appname'], 'sshd');
      assert.equal(h['syslog.procid'], '1291');
      // RSYSLOG_SyslogProtocol23Format writes %msg% with the space rsyslog keeps after a TAG, so
      // that MSG as sent starts with a space; Logmill keeps MSG as sent.
      assert.equal(String(h.message).replace(/^ /, ''), 'Server listening on 0.0.0.0 port 22.');
      assert.equal(String(h['@timestamp']).slice(5, 19), '03-27T13:06:56');
    }
  });
});

// ---------------------------------------------------------------------------
// End to end: a real server's syslog TCP listener, read back over its HTTP API

describe('read back from a server', () => {
  it("the issue's lines and control characters, as stored and as the API shows them", async () => {
    const s = await startTestServer({ syslog: '127.0.0.1:0' });
    try {
      const input = s.inputs.find((i) => i.name === 'syslog_tcp');
      assert.ok(input, `inputs: ${s.inputs.map((i) => i.name).join(', ')}`);
      const port = portOf(input);
      const lines = [
        '<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded e2eone',
        '<6>Feb 18 16:01:59 serverX sshd This is a message e2etwo',
        '<38>Mar 7 19:06:53: example tag: testmessage e2ethree',
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource= "Application"] e2efour',
        '<13>Mar  7 19:06:53 h app: col1\tcol2\u0007bell e2efive',
      ];
      const sock = net.connect(port, '127.0.0.1');
      await new Promise<void>((r) => sock.once('connect', () => r()));
      await new Promise<void>((r) => sock.end(lines.join('\n') + '\n', () => r()));
      await waitForCount(s.url, 'e2eone OR e2etwo OR e2ethree OR e2efour OR e2efive', 5);
      const one = async (word: string): Promise<Record<string, unknown>> => {
        const r = await search(s.url, word, { from: '1970-01-01T00:00:00Z' });
        assert.equal(r.total, 1, word);
        return r.hits[0] as Record<string, unknown>;
      };
      const pix = await one('e2eone');
      assert.equal(pix['syslog.appname'], '%PIX-7-710005');
      assert.equal(pix.message, 'UDP request discarded e2eone');
      assert.equal(pix.host, '172.20.245.8');
      const sshd = await one('e2etwo');
      assert.equal(sshd['syslog.appname'], 'sshd');
      assert.equal(sshd.host, 'serverX');
      const colon = await one('e2ethree');
      assert.equal(colon.host, 'example');
      assert.equal(colon['syslog.appname'], 'tag');
      const sd = await one('e2efour');
      assert.equal(sd.host, 'mymachine.example.com');
      assert.equal(sd['syslog.msgid'], 'ID47');
      assert.equal(sd['syslog.sd_raw'], '[exampleSDID@32473 iut="3" eventSource= "Application"]');
      assert.deepEqual(sd.tags, ['_syslogsdparsefailure']);
      assert.equal(sd['@timestamp'], '2003-10-11T22:14:15.003Z');
      const ctl = await one('e2efive');
      assert.equal(ctl.message, 'col1\tcol2\u0007bell e2efive');
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});
