/**
 * The syslog inputs fed by util-linux `logger`, a client nobody here wrote:
 * RFC 5424 and RFC 3164, over UDP and TCP, octet-counted and LF-framed.
 * Every check reads the events back from the store.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import type { Input } from '../../../src/ingest/input.js';
import { startSyslogInputs } from '../../../src/ingest/syslog/server.js';
import { inputNamed, isNearNow, openHarness, portOf, run, waitForHits, which, type Harness } from '../../fixtures/syslog/harness.js';

const LOGGER = which('logger');
const shortHost = (h: unknown): string => String(h).split('.')[0];
const myHost = shortHost(os.hostname());

describe('syslog inputs with util-linux logger', { skip: LOGGER === null ? 'logger (util-linux) is not installed' : false }, () => {
  let h: Harness;
  let inputs: Input[] = [];
  let udpPort = 0;
  let tcpPort = 0;
  let seq = 0;
  /** A word unique to one message, to find it by full-text search. */
  const marker = (): string => `lgr${process.pid}x${++seq}`;

  before(async () => {
    h = await openHarness();
    inputs = await startSyslogInputs({ udp: '127.0.0.1:0', tcp: '127.0.0.1:0' }, h.ctx);
    udpPort = portOf(inputNamed(inputs, 'syslog_udp'));
    tcpPort = portOf(inputNamed(inputs, 'syslog_tcp'));
  });
  after(async () => {
    await Promise.all(inputs.map((i) => i.close()));
    await h.close();
  });

  const logger = (args: string[], input?: string): Promise<string> => run(LOGGER as string, args, input);

  it('RFC 5424 over UDP: tag, priority, msgid, procid and structured data', async () => {
    const m = marker();
    await logger([
      '--rfc5424', '-d', '-n', '127.0.0.1', '-P', String(udpPort),
      '-t', 'lgr-app', '-p', 'local3.warning', '--id=4242', '--msgid', 'MSG42',
      '--sd-id', 'origin@32473', '--sd-param', 'ip="192.0.2.1"', '--sd-param', 'note="a \\"quoted\\" word"',
      `hello ${m} over udp`,
    ]);
    const [hit] = await waitForHits(h.store, m, 1);
    assert.equal(hit.message, `hello ${m} over udp`);
    assert.equal(shortHost(hit.host), myHost);
    assert.equal(hit['syslog.appname'], 'lgr-app');
    assert.equal(hit['syslog.procid'], '4242');
    assert.equal(hit['syslog.msgid'], 'MSG42');
    assert.equal(hit['syslog.version'], 1);
    assert.equal(hit['syslog.facility'], 19);
    assert.equal(hit['syslog.facility_name'], 'local3');
    assert.equal(hit['syslog.severity'], 4);
    assert.equal(hit['syslog.severity_name'], 'warning');
    assert.equal(hit.level, 'warning');
    assert.equal(hit['syslog.sd.origin@32473.ip'], '192.0.2.1');
    assert.equal(hit['syslog.sd.origin@32473.note'], 'a "quoted" word');
    assert.equal(hit['syslog.sd.timeQuality.tzKnown'], '1');
    assert.equal(hit['log.source.address'], '127.0.0.1');
    assert.equal(hit.tags, undefined);
    assert.ok(isNearNow(hit['@timestamp']), `@timestamp ${String(hit['@timestamp'])} is near now`);
  });

  it('RFC 5424 over TCP with octet counting', async () => {
    const m = marker();
    await logger([
      '--rfc5424', '-T', '--octet-count', '-n', '127.0.0.1', '-P', String(tcpPort),
      '-t', 'lgr-oc', '-p', 'auth.crit', '--id=7', '--msgid', 'OC1', `octet ${m} counted`,
    ]);
    const [hit] = await waitForHits(h.store, m, 1);
    assert.equal(hit.message, `octet ${m} counted`);
    assert.equal(shortHost(hit.host), myHost);
    assert.equal(hit['syslog.appname'], 'lgr-oc');
    assert.equal(hit['syslog.procid'], '7');
    assert.equal(hit['syslog.msgid'], 'OC1');
    assert.equal(hit['syslog.facility'], 4);
    assert.equal(hit['syslog.facility_name'], 'auth');
    assert.equal(hit['syslog.severity'], 2);
    assert.equal(hit['syslog.severity_name'], 'crit');
    assert.ok(isNearNow(hit['@timestamp']));
  });

  it('RFC 5424 over TCP, LF-framed, several lines from stdin', async () => {
    const m = marker();
    const lines = [1, 2, 3].map((i) => `line ${i} ${m}`);
    await logger(['--rfc5424', '-T', '-n', '127.0.0.1', '-P', String(tcpPort), '-t', 'lgr-lines', '-p', 'user.info'], lines.join('\n') + '\n');
    const hits = await waitForHits(h.store, m, 3);
    assert.deepEqual(hits.map((x) => x.message).sort(), lines);
    for (const hit of hits) {
      assert.equal(hit['syslog.appname'], 'lgr-lines');
      assert.equal(hit['syslog.facility_name'], 'user');
      assert.equal(hit['syslog.severity_name'], 'info');
    }
  });

  it('RFC 3164 over UDP', async () => {
    const m = marker();
    await logger(['--rfc3164', '-d', '-n', '127.0.0.1', '-P', String(udpPort), '-t', 'lgr-bsd', '-p', 'mail.err', '--id=31', `bsd ${m} udp`]);
    const [hit] = await waitForHits(h.store, m, 1);
    assert.equal(hit.message, `bsd ${m} udp`);
    assert.equal(shortHost(hit.host), myHost);
    assert.equal(hit['syslog.appname'], 'lgr-bsd');
    assert.equal(hit['syslog.procid'], '31');
    assert.equal(hit['syslog.facility'], 2);
    assert.equal(hit['syslog.facility_name'], 'mail');
    assert.equal(hit['syslog.severity'], 3);
    assert.equal(hit['syslog.severity_name'], 'err');
    assert.equal(hit['syslog.version'], undefined);
    assert.equal(hit['syslog.msgid'], undefined);
    // logger writes local time without a zone; the input reads it as UTC, which is this machine's zone in CI
    if (new Date().getTimezoneOffset() === 0) assert.ok(isNearNow(hit['@timestamp']));
  });

  it('RFC 3164 over TCP, LF-framed and octet-counted', async () => {
    const m = marker();
    await logger(['--rfc3164', '-T', '-n', '127.0.0.1', '-P', String(tcpPort), '-t', 'lgr-bsdt', '-p', 'daemon.debug', `bsd ${m} lf`]);
    await logger(['--rfc3164', '-T', '--octet-count', '-n', '127.0.0.1', '-P', String(tcpPort), '-t', 'lgr-bsdt', '-p', 'daemon.debug', `bsd ${m} oc`]);
    const hits = await waitForHits(h.store, m, 2);
    assert.deepEqual(hits.map((x) => x.message).sort(), [`bsd ${m} lf`, `bsd ${m} oc`]);
    for (const hit of hits) {
      assert.equal(shortHost(hit.host), myHost);
      assert.equal(hit['syslog.appname'], 'lgr-bsdt');
      assert.equal(hit['syslog.facility_name'], 'daemon');
      assert.equal(hit['syslog.severity'], 7);
      assert.equal(hit['syslog.severity_name'], 'debug');
      if (new Date().getTimezoneOffset() === 0) assert.ok(isNearNow(hit['@timestamp']));
    }
  });

  it('counts per listener', () => {
    const get = (name: string, input: string): number => h.metrics.get(name, { input });
    assert.ok(get('logmill_events_ingested_total', 'syslog_udp') >= 2);
    assert.ok(get('logmill_events_ingested_total', 'syslog_tcp') >= 6);
    assert.ok(get('logmill_input_connections_total', 'syslog_tcp') >= 4);
    assert.ok(get('logmill_ingest_bytes_total', 'syslog_udp') > 0);
    assert.equal(get('logmill_input_parse_failures_total', 'syslog_udp'), 0);
    assert.equal(get('logmill_input_parse_failures_total', 'syslog_tcp'), 0);
  });
});
