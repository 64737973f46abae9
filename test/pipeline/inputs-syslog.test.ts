/**
 * The syslog input with util-linux `logger` as the sender (RFC 3164 and RFC 5424, UDP and TCP,
 * octet counting), hand-written garbage and oversized frames, and a fuzz run of the legacy mapping
 * over the ingest parser's output for random and mutated messages.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { Gen } from '../helpers/prng.js';
import { parseSyslog } from '../../src/ingest/syslog/parse.js';
import { syslogEvent } from '../../src/ingest/syslog/server.js';
import { legacySyslogEvent } from '../../src/pipeline/inputs/syslog.js';
import { buildInput, freePort, runInput, sendTcp, sendUdp, tcpListening, udpTaken, type Running } from './inputs-harness.js';

const run = promisify(execFile);

async function logger(port: number, args: string[]): Promise<void> {
  await run('logger', ['--server', '127.0.0.1', '--port', String(port), ...args]);
}

async function startSyslog(extra = ''): Promise<{ port: number; running: Running }> {
  const port = await freePort();
  const running = await runInput(`input { syslog { port => ${port} ${extra} } }`, async () => (await tcpListening(port)) && (await udpTaken(port)));
  return { port, running };
}

describe('syslog input', () => {
  it('reads RFC 3164 from logger over UDP into Logstash\'s legacy fields', async () => {
    const { port, running } = await startSyslog('type => "syslog"');
    try {
      await logger(port, ['--udp', '--rfc3164', '-t', 'myapp', '--id=4242', '-p', 'local3.warning', 'disk is almost full']);
      const [e] = await running.collector.waitForEvents(1);
      assert.equal(e.message, 'disk is almost full');
      assert.equal(e.program, 'myapp');
      assert.equal(e.pid, '4242');
      assert.equal(e.facility, 19);
      assert.equal(e.severity, 4);
      assert.equal(e.priority, 19 * 8 + 4);
      assert.equal(e.facility_label, 'local3');
      assert.equal(e.severity_label, 'Warning');
      assert.equal(e.host, '127.0.0.1');
      assert.equal(typeof e.logsource, 'string');
      assert.equal(e.type, 'syslog');
      assert.equal(e.tags, undefined);
      // logger stamps the message with the current time (to the second in RFC 3164).
      assert.ok(Math.abs(Date.parse(e['@timestamp']) - Date.now()) < 120_000, e['@timestamp']);
      assert.equal(e.level, undefined, 'the store-side level is not a Logstash field');
    } finally {
      await running.stop();
    }
  });

  it('reads RFC 5424 with octet counting from logger over TCP, keeping MSGID and structured data under [syslog]', async () => {
    const { port, running } = await startSyslog();
    try {
      await logger(port, ['--tcp', '--octet-count', '--rfc5424', '-t', 'svc', '-p', 'auth.err', '--msgid', 'ID47', '--sd-id', 'origin@32473', '--sd-param', 'ip="10.1.2.3"', 'login failed']);
      const [e] = await running.collector.waitForEvents(1);
      assert.equal(e.message, 'login failed');
      assert.equal(e.program, 'svc');
      assert.equal(e.facility_label, 'security/authorization');
      assert.equal(e.severity_label, 'Error');
      assert.equal(e.priority, 4 * 8 + 3);
      assert.equal(e.syslog.msgid, 'ID47');
      assert.equal(e.syslog.version, 1);
      assert.equal(e.syslog.sd['origin@32473'].ip, '10.1.2.3');
    } finally {
      await running.stop();
    }
  });

  it('tags what it cannot parse _grokparsefailure_sysloginput, with priority 13, and keeps the messages around it', async () => {
    const { port, running } = await startSyslog('use_labels => false');
    try {
      await sendTcp(port, '<13>Dec  7 01:02:03 host1 good[1]: before\nthis is not syslog at all\n<13>Dec  7 01:02:04 host1 good[1]: after\n');
      const events = await running.collector.waitForEvents(3);
      assert.deepEqual(events.map((e) => e.message), ['before', 'this is not syslog at all', 'after']);
      const bad = events[1];
      assert.deepEqual(bad.tags, ['_grokparsefailure_sysloginput']);
      assert.equal(bad.priority, 13);
      assert.equal(bad.facility, 1);
      assert.equal(bad.severity, 5);
      assert.equal(bad.program, undefined);
      assert.equal(bad.facility_label, undefined, 'use_labels => false');
      assert.equal(events[0].logsource, 'host1');
      assert.equal(events[0].program, 'good');
    } finally {
      await running.stop();
    }
  });

  it('reads RFC 3164 times in the zone timezone names', async () => {
    const { port, running } = await startSyslog('timezone => "America/New_York"');
    try {
      await sendUdp(port, '<13>Jun  1 12:00:00 h app: in new york');
      const [e] = await running.collector.waitForEvents(1);
      assert.match(e['@timestamp'], /-06-01T16:00:00\.000Z$/, 'EDT is UTC-4');
    } finally {
      await running.stop();
    }
  });

  it('cuts an oversized message, tags it _truncated, and goes on', async () => {
    const { port, running } = await startSyslog();
    try {
      await sendUdp(port, '<14>Dec  7 01:02:03 h app: small');
      const big = `<14>Dec  7 01:02:03 h app: ${'y'.repeat(1_200_000)}\n<14>Dec  7 01:02:03 h app: next\n`;
      const socket = net.connect({ host: '127.0.0.1', port });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.end(big);
      const events = await running.collector.waitForEvents(3);
      const truncated = events.find((e) => (e.tags ?? []).includes('_truncated'));
      assert.ok(truncated, JSON.stringify(events.map((e) => e.tags)));
      assert.ok(String(truncated.message).length <= 1024 * 1024);
      assert.ok(events.some((e) => e.message === 'small'));
      assert.ok(events.some((e) => e.message === 'next'));
    } finally {
      await running.stop();
    }
  });

  it('maps whatever the parser makes of random and mutated messages to well-formed events (fuzz)', () => {
    const gen = new Gen(5424);
    const seeds = [
      '<34>Oct 11 22:14:15 mymachine su[99]: \'su root\' failed',
      '<165>1 2003-10-11T22:14:15.003Z host.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App"] event',
      '<13>hello',
      '<191>Dec  7 01:02:03 10.0.0.1 kernel: [ 1.0] x',
    ];
    const alphabet = ['<', '>', '[', ']', '"', '=', ' ', '-', ':', '1', '9', 'a', 'Z', '\u00e9', '\uFFFD', '\\', '.', '@', '\n'];
    for (let i = 0; i < 3000; i++) {
      let text: string;
      if (gen.chance(0.5)) {
        const chars = [...gen.pick(seeds)];
        for (let m = gen.int(6); m > 0; m--) chars.splice(gen.int(chars.length + 1), gen.int(3), ...gen.text(alphabet, 3));
        text = chars.join('');
      } else {
        text = gen.text(alphabet, 80);
      }
      const parsed = syslogEvent(parseSyslog(text, { now: new Date(), receivedFrom: '192.0.2.1' }), Date.now() * 1000);
      const e = legacySyslogEvent(parsed, gen.chance(0.5));
      const json = e.toJSON() as Record<string, any>;
      assert.equal(typeof json.message, 'string');
      assert.ok(Number.isInteger(json.priority) && json.priority >= 0 && json.priority < 192, `${json.priority} for ${JSON.stringify(text)}`);
      assert.equal(json.priority, json.facility * 8 + json.severity);
      assert.ok(!Number.isNaN(Date.parse(json['@timestamp'])));
      assert.equal(json.host, '192.0.2.1');
      assert.doesNotThrow(() => JSON.stringify(json));
    }
  });

  it('declares UDP and TCP on its port and refuses what it cannot do', () => {
    assert.deepEqual(buildInput('input { syslog { } }').listeners, [
      { protocol: 'udp', host: '127.0.0.1', port: 514 },
      { protocol: 'tcp', host: '127.0.0.1', port: 514 },
    ]);
    assert.throws(() => buildInput('input { syslog { grok_pattern => "%{GREEDYDATA}" } }'), /"grok_pattern" is not supported/);
    assert.throws(() => buildInput('input { syslog { syslog_field => "raw" } }'), /"syslog_field" can only be "message"/);
    assert.throws(() => buildInput('input { syslog { codec => json } }'), /"codec" can only be plain/);
    assert.throws(() => buildInput('input { syslog { use_label => true } }'), /did you mean "use_labels"/);
    assert.throws(() => buildInput('input { syslog { timezone => "Mars/Olympus" } }'), /"timezone" names no time zone/);
    buildInput('input { syslog { syslog_field => "message" timezone => "Europe/Paris" locale => "en" codec => plain } }');
  });
});
