/**
 * The beats and lumberjack inputs: lumberjack-client (npm) as a real sender, ACKs only after the
 * pipeline's emit resolved (held emit: no ACK until released), fields as Beats send them, @metadata
 * in the event's metadata, garbage frames confined to their connection, TLS with client certificates.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { encodeCompressed, encodeJsonFrame, encodeWindow } from '../../src/ingest/beats/protocol.js';
import { makePki } from '../fixtures/netinputs/harness.js';
import { RawConnection, completedWindows, lumberjackClient, lumberjackProtocolClient, stopLumberjackClient, stopLumberjackProtocolClient, tapAcks } from '../fixtures/netinputs/lumberjack.js';
import { buildInput, freePort, runInput, sleep, tcpListening, waitFor } from './inputs-harness.js';

function filebeatEvent(i: number): Record<string, unknown> {
  return {
    '@timestamp': new Date(Date.UTC(2026, 2, 1, 12, 0, 0) + i).toISOString(),
    '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
    message: `GET /item/${i} 200`,
    host: { name: 'web-1' },
    log: { file: { path: '/var/log/nginx/access.log' }, offset: i * 100 },
    agent: { type: 'filebeat' },
    n: i,
  };
}

function window(events: object[]): Buffer {
  const frames = Buffer.concat(events.map((e, i) => encodeJsonFrame(i + 1, e)));
  return Buffer.concat([encodeWindow(2, events.length), encodeCompressed(frames)]);
}

describe('beats input', () => {
  it('takes windows from lumberjack-client with the fields as Beats send them', async () => {
    const port = await freePort();
    const run = await runInput(`input { beats { port => ${port} tags => ["beats"] } }`, () => tcpListening(port));
    const client = lumberjackClient({ host: '127.0.0.1', port }, false);
    const acks = tapAcks(client.socket);
    try {
      await waitFor('the client to connect', () => client.connected === true);
      for (let i = 0; i < 20; i++) client.log(filebeatEvent(i));
      const windows = new Array<number>(20).fill(1);
      await waitFor('every window acknowledged', () => completedWindows(windows, acks.acks) === windows.length);
      const events = run.collector.json();
      assert.equal(events.length, 20);
      const e7 = events.find((e) => e.n === 7)!;
      assert.equal(e7.message, 'GET /item/7 200');
      assert.deepEqual(e7.host, { name: 'web-1' });
      assert.deepEqual(e7.log, { file: { path: '/var/log/nginx/access.log' }, offset: 700 });
      assert.equal(e7.source, undefined, 'no store-side alias of [log][file][path]');
      assert.deepEqual(e7.agent, { type: 'filebeat' });
      assert.equal(e7['@timestamp'], '2026-03-01T12:00:00.007Z');
      assert.equal(e7['@metadata'].beat, 'filebeat');
      assert.equal(e7['@metadata'].version, '8.15.0');
      assert.deepEqual(e7.tags, ['beats_input_codec_plain_applied', 'beats']);
    } finally {
      stopLumberjackClient(client);
      await run.stop();
    }
  });

  it('sends no ACK until the pipeline has the window', async () => {
    const port = await freePort();
    const run = await runInput(`input { beats { port => ${port} } }`, () => tcpListening(port));
    const c = await RawConnection.open(port);
    try {
      run.collector.hold();
      c.write(window([filebeatEvent(1), filebeatEvent(2), filebeatEvent(3)]));
      await waitFor('the window to be emitted', () => run.collector.events.length === 3);
      await sleep(300);
      assert.equal(run.collector.pending, 1);
      assert.equal(c.acks.filter((a) => a.seq > 0).length, 0, `no ACK of the window while emit is held: ${JSON.stringify(c.acks)}`);
      run.collector.release();
      await c.waitForAck(3);
      assert.equal(completedWindows([3], c.acks), 1);
    } finally {
      c.destroy();
      await run.stop();
    }
  });

  it('closes a connection that sends garbage and keeps serving the others', async () => {
    const port = await freePort();
    const run = await runInput(`input { beats { port => ${port} } }`, () => tcpListening(port));
    const good = await RawConnection.open(port);
    const bad = await RawConnection.open(port);
    try {
      good.write(window([filebeatEvent(1)]));
      await good.waitForAck(1);
      bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await bad.waitClosed();
      good.write(window([filebeatEvent(2), filebeatEvent(3)]));
      await good.waitForAck(2);
      assert.deepEqual(run.collector.json().map((e) => e.n), [1, 2, 3]);
      assert.ok(run.logs.some((l) => l.startsWith('warn') || l.startsWith('error')), run.logs.join('\n'));
    } finally {
      good.destroy();
      bad.destroy();
      await run.stop();
    }
  });

  it('keeps an event whose JSON is bad, tagged _jsonparsefailure, and acknowledges its window', async () => {
    const port = await freePort();
    const run = await runInput(`input { beats { port => ${port} } }`, () => tcpListening(port));
    const c = await RawConnection.open(port);
    try {
      const badJson = Buffer.concat([Buffer.from('2J'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 5]), Buffer.from('{"a":')]);
      c.write(Buffer.concat([encodeWindow(2, 3), encodeCompressed(Buffer.concat([encodeJsonFrame(1, filebeatEvent(1)), badJson, encodeJsonFrame(3, filebeatEvent(3))]))]));
      await c.waitForAck(3);
      const events = run.collector.json();
      assert.equal(events.length, 3);
      assert.ok(events[1].tags.includes('_jsonparsefailure'), JSON.stringify(events[1]));
      assert.equal(events[0].n, 1);
      assert.equal(events[2].n, 3);
    } finally {
      c.destroy();
      await run.stop();
    }
  });

  it('serves TLS and with ssl_client_authentication => required refuses a client without a signed certificate', async () => {
    const pki = makePki();
    const port = await freePort();
    const config = `input { beats { port => ${port} ssl_enabled => true ssl_certificate => "${pki.serverCert}" ssl_key => "${pki.serverKey}" ssl_certificate_authorities => "${pki.caCert}" ssl_client_authentication => "required" } }`;
    const run = await runInput(config, () => tcpListening(port));
    const trust = { ca: [fs.readFileSync(pki.serverCert)], servername: 'localhost' };
    try {
      const c = await RawConnection.open(port, { ...trust, cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) });
      c.write(window([filebeatEvent(5)]));
      await c.waitForAck(1);
      c.destroy();
      await assert.rejects(async () => {
        const r = await RawConnection.open(port, { ...trust, cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) });
        r.write(window([filebeatEvent(6)]));
        await r.waitForAck(1);
      });
      assert.deepEqual(run.collector.json().map((e) => e.n), [5]);
    } finally {
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('tags events without a message beats_input_raw_event, and leaves out the codec tag when include_codec_tag is false', async () => {
    const port = await freePort();
    const run = await runInput(`input { beats { port => ${port} include_codec_tag => false } }`, () => tcpListening(port));
    const c = await RawConnection.open(port);
    try {
      const metric = { '@timestamp': '2026-03-01T12:00:00.000Z', '@metadata': { beat: 'metricbeat' }, system: { cpu: { total: { pct: 0.25 } } }, host: { name: 'db-1' } };
      c.write(window([metric, filebeatEvent(9)]));
      await c.waitForAck(2);
      const [m, f] = run.collector.json();
      assert.deepEqual(m.tags, ['beats_input_raw_event']);
      assert.equal(m.system.cpu.total.pct, 0.25);
      assert.equal(f.tags, undefined);
    } finally {
      c.destroy();
      await run.stop();
    }
  });

  it('as lumberjack, takes logstash-forwarder (v1) frames over TLS from lumberjack-protocol, line as message', async () => {
    const pki = makePki();
    const port = await freePort();
    const run = await runInput(`input { lumberjack { port => ${port} ssl => true ssl_certificate => "${pki.serverCert}" ssl_key => "${pki.serverKey}" } }`, () => tcpListening(port));
    const client = lumberjackProtocolClient({ host: '127.0.0.1', port, ca: [fs.readFileSync(pki.serverCert)], servername: 'localhost' }, { windowSize: 10, maxQueueSize: 1000 });
    try {
      await waitFor('the v1 client to connect', () => client.connected);
      for (let i = 1; i <= 25; i++) client.writeDataFrame({ line: `forwarded ${i}`, file: '/var/log/fwd.log', host: 'fwd-1', offset: String(i) });
      await waitFor('the last frame acknowledged', () => client._socket?.lastAck === 25);
      const events = run.collector.json();
      assert.equal(events.length, 25);
      const e = events.find((x) => x.offset === '7')!;
      assert.equal(e.message, 'forwarded 7');
      assert.equal(e.line, undefined, 'line is renamed message, as Logstash does');
      assert.equal(e.file, '/var/log/fwd.log');
      assert.equal(e.source, undefined);
      assert.equal(e.host, 'fwd-1');
    } finally {
      stopLumberjackProtocolClient(client);
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('is also registered as lumberjack, and refuses configuration mistakes', () => {
    assert.deepEqual(buildInput('input { lumberjack { port => 5043 ssl => false } }').listeners, [{ protocol: 'tcp', host: '127.0.0.1', port: 5043 }]);
    // logstash-forwarder speaks only TLS: without ssl => false, a lumberjack input needs its certificate.
    assert.throws(() => buildInput('input { lumberjack { port => 5043 } }'), /"ssl_certificate" is required/);
    assert.throws(() => buildInput('input { beats { } }'), /"port" is required/);
    assert.throws(() => buildInput('input { beats { port => 5044 ssl => true } }'), /"ssl_certificate" is required when ssl is true/);
    assert.throws(() => buildInput('input { beats { port => 5044 ssl_enabled => true ssl_certificate => "c" ssl_key => "k" ssl_verify_mode => "force_peer" } }'), /"ssl_certificate_authorities" is required/);
    assert.throws(() => buildInput('input { beats { port => 5044 ssl_verify_mode => "sometimes" } }'), /must be one of none, peer, force_peer/);
    assert.throws(() => buildInput('input { beats { port => 5044 ssl_verify => true } }'), /unknown setting "ssl_verify"/);
    assert.throws(() => buildInput('input { beats { port => 5044 codec => json } }'), /"codec" can only be plain/);
  });
});
