/**
 * The tcp and udp inputs over real sockets: codecs, peer fields, pacing by the pipeline, TLS with
 * client certificates, oversized and garbage input, winston-logstash as a real client, and a fuzz
 * run of random bytes over a connection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Gen } from '../helpers/prng.js';
import { makePki } from '../fixtures/netinputs/harness.js';
import { buildInput, freePort, runInput, sendTcp, sendUdp, sleep, tcpListening, udpTaken, waitFor } from './inputs-harness.js';

const require = createRequire(import.meta.url);

describe('tcp input', () => {
  it('reads lines with the line codec, with the peer in host and port and the common settings applied', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} type => "app" tags => ["net"] add_field => { "env" => "test" } } }`, () => tcpListening(port));
    try {
      await sendTcp(port, 'one\ntwo\r\n{"not":"parsed"}\nlast without newline');
      const events = await run.collector.waitForEvents(4);
      assert.deepEqual(events.map((e) => e.message), ['one', 'two', '{"not":"parsed"}', 'last without newline']);
      for (const e of events) {
        assert.equal(e.host, '127.0.0.1');
        assert.equal(typeof e.port, 'number');
        assert.notEqual(e.port, port, 'port is the peer port');
        assert.equal(e.type, 'app');
        assert.deepEqual(e.tags, ['net']);
        assert.equal(e.env, 'test');
        assert.equal(e['@metadata'].ip_address, '127.0.0.1');
      }
    } finally {
      await run.stop();
    }
  });

  it('decodes json_lines, keeps a host the event brings, and tags a bad line without losing the good ones', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} codec => json_lines } }`, () => tcpListening(port));
    try {
      await sendTcp(port, '{"message":"a","n":1,"host":"web-1"}\n{broken\n{"message":"c","nested":{"x":true}}\n');
      const events = await run.collector.waitForEvents(3);
      assert.equal(events[0].message, 'a');
      assert.equal(events[0].n, 1);
      assert.equal(events[0].host, 'web-1');
      assert.ok(events[1].tags.includes('_jsonparsefailure'));
      assert.equal(events[1].message, '{broken');
      assert.deepEqual(events[2].nested, { x: true });
      assert.equal(events[2].host, '127.0.0.1');
    } finally {
      await run.stop();
    }
  });

  it('takes events from winston-logstash, a real Logstash tcp client', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} codec => json_lines } }`, () => tcpListening(port));
    const winston = require('winston') as { createLogger(o: object): { info(m: string, meta?: object): void; close(): void; on(e: string, cb: () => void): void } };
    const Transport = require('winston-logstash/lib/winston-logstash-latest') as new (o: object) => object;
    const logger = winston.createLogger({ transports: [new Transport({ port, host: '127.0.0.1', node_name: 'node-a', max_connect_retries: 1 })] });
    try {
      logger.info('hello from winston', { user: 'ann' });
      const [event] = await run.collector.waitForEvents(1);
      assert.equal(event.message, 'hello from winston');
      assert.equal(event.level, 'info');
      assert.equal(event.user, 'ann');
    } finally {
      logger.close();
      await run.stop();
    }
  });

  it('cuts an oversized line into bounded pieces and keeps the lines around it', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} } }`, () => tcpListening(port));
    try {
      const huge = 'x'.repeat(2_500_000);
      await sendTcp(port, `before\n${huge}\nafter\n`);
      await waitFor('the line after the huge one', () => run.collector.events.some((e) => e.fields.message === 'after'));
      const messages = run.collector.events.map((e) => String(e.fields.message));
      assert.equal(messages[0], 'before');
      assert.equal(messages.at(-1), 'after');
      const pieces = messages.slice(1, -1);
      assert.ok(pieces.length >= 3, `pieces: ${pieces.length}`);
      for (const p of pieces) assert.ok(p.length <= 1024 * 1024, `a piece of ${p.length} characters`);
      assert.equal(pieces.join('').length, huge.length);
    } finally {
      await run.stop();
    }
  });

  it('stops reading a connection while the pipeline has not taken its last batch', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} } }`, () => tcpListening(port));
    try {
      run.collector.hold();
      const socket = net.connect({ host: '127.0.0.1', port });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write('first\n');
      await waitFor('the first batch', () => run.collector.batches === 1);
      for (let i = 0; i < 50; i++) socket.write(`line ${i}\n`);
      await sleep(300);
      assert.equal(run.collector.batches, 1, 'no second batch while the first is held');
      assert.equal(run.collector.events.length, 1);
      run.collector.release();
      await run.collector.waitForEvents(51);
      socket.end();
    } finally {
      await run.stop();
    }
  });

  it('serves TLS and, with ssl_certificate_authorities, requires a client certificate signed by it', async () => {
    const pki = makePki();
    const port = await freePort();
    const config = `input { tcp { port => ${port} ssl_enabled => true ssl_certificate => "${pki.serverCert}" ssl_key => "${pki.serverKey}" ssl_certificate_authorities => ["${pki.caCert}"] } }`;
    const run = await runInput(config, () => tcpListening(port));
    const ca = fs.readFileSync(pki.serverCert);
    const send = (options: tls.ConnectionOptions, text: string): Promise<string> =>
      new Promise((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () => s.end(text));
        s.on('data', () => undefined);
        s.once('error', (e) => resolve(`error: ${e.message}`));
        s.once('close', () => resolve('closed'));
      });
    try {
      await send({ cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) }, 'signed client\n');
      await run.collector.waitForEvents(1);
      await send({}, 'no certificate\n');
      await send({ cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) }, 'rogue client\n');
      await sleep(200);
      assert.deepEqual(run.collector.events.map((e) => e.fields.message), ['signed client']);
    } finally {
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it("takes Logstash's older tcp names: ssl_enable, ssl_cert, ssl_key, ssl_verify", async () => {
    const pki = makePki();
    const port = await freePort();
    const config = `input { tcp { port => ${port} ssl_enable => true ssl_cert => "${pki.serverCert}" ssl_key => "${pki.serverKey}" ssl_verify => false } }`;
    const run = await runInput(config, () => tcpListening(port));
    try {
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(pki.serverCert), servername: 'localhost' }, () => s.end('over old names\n'));
        s.on('data', () => undefined);
        s.once('error', reject);
        s.once('close', () => resolve());
      });
      await run.collector.waitForEvents(1);
      assert.equal(run.collector.events[0].fields.message, 'over old names');
      assert.throws(() => buildInput(`input { tcp { port => 5000 ssl_enable => true ssl_cert => "a" ssl_certificate => "b" ssl_key => "c" } }`), /older name of "ssl_certificate"/);
    } finally {
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('survives random bytes in random chunks and still reads a good line after them (fuzz)', async () => {
    const port = await freePort();
    const run = await runInput(`input { tcp { port => ${port} codec => json_lines } }`, () => tcpListening(port));
    try {
      const gen = new Gen(7);
      for (let round = 0; round < 20; round++) {
        const socket = net.connect({ host: '127.0.0.1', port });
        await new Promise<void>((r) => socket.once('connect', () => r()));
        for (let c = 0; c < 20; c++) {
          const bytes = Buffer.alloc(gen.int(2000));
          for (let i = 0; i < bytes.length; i++) bytes[i] = gen.chance(0.05) ? 10 : gen.pick([0x7b, 0x7d, 0x22, 0x3a, 0xff, 0xc3, 0x00, 0x41, 0x20]);
          socket.write(bytes);
        }
        socket.end(`\n{"message":"good ${round}"}\n`);
        await new Promise<void>((r) => socket.once('close', () => r()));
      }
      await waitFor('every good line', () => run.collector.events.filter((e) => String(e.fields.message).startsWith('good ')).length === 20);
      for (const e of run.collector.events) {
        assert.equal(typeof e.fields.message === 'string' || e.fields.message === undefined, true);
        assert.doesNotThrow(() => JSON.stringify(e.toJSON()));
      }
    } finally {
      await run.stop();
    }
  });

  it('refuses configuration mistakes, naming the setting', () => {
    assert.throws(() => buildInput('input { tcp { } }'), /setting "port" is required/);
    assert.throws(() => buildInput('input { tcp { port => 5000 mode => "client" } }'), /"mode" client is not supported/);
    assert.throws(() => buildInput('input { tcp { port => 5000 prot => 1 } }'), /unknown setting "prot"/);
    assert.throws(() => buildInput('input { tcp { port => 5000 ssl_enabled => true } }'), /"ssl_certificate" is required/);
    assert.throws(() => buildInput('input { tcp { port => 5000 codec => nope } }'), /unknown codec "nope"/);
    assert.throws(() => buildInput('input { tcp { port => 5000 ssl_enabled => true ssl_certificate => "/nonexistent/cert.pem" ssl_key => "/nonexistent/key.pem" } }'), /"ssl_certificate" cannot be used: .*\/nonexistent\/cert.pem/);
    assert.throws(() => buildInput('input { tcp { port => 5000 ssl_enabled => true ssl_enable => true ssl_certificate => "a" ssl_key => "b" } }'), /give only one/);
  });

  it('declares its listener, on loopback unless told', () => {
    assert.deepEqual(buildInput('input { tcp { port => 5000 } }').listeners, [{ protocol: 'tcp', host: '127.0.0.1', port: 5000 }]);
    assert.deepEqual(buildInput('input { tcp { port => 5000 host => "0.0.0.0" } }').listeners, [{ protocol: 'tcp', host: '0.0.0.0', port: 5000 }]);
  });
});

describe('udp input', () => {
  it('makes an event per datagram with the sender in host, cut at buffer_size', async () => {
    const port = await freePort();
    const run = await runInput(`input { udp { port => ${port} buffer_size => 10 } }`, async () => udpTaken(port));
    try {
      await sendUdp(port, 'hello');
      await sendUdp(port, 'a longer datagram than ten bytes');
      const events = await run.collector.waitForEvents(2);
      assert.deepEqual(events.map((e) => e.message).sort(), ['a longer d', 'hello']);
      for (const e of events) assert.equal(e.host, '127.0.0.1');
    } finally {
      await run.stop();
    }
  });

  it('decodes json datagrams with json_lines and tags the bad one', async () => {
    const port = await freePort();
    const run = await runInput(`input { udp { port => ${port} codec => json_lines } }`, async () => udpTaken(port));
    try {
      await sendUdp(port, '{"message":"ok","n":2}\n');
      await sendUdp(port, Buffer.from([0x7b, 0xff, 0x00, 0x0a]));
      await sendUdp(port, '{"message":"ok again"}');
      const events = await run.collector.waitForEvents(3);
      const byMessage = new Map(events.map((e) => [e.message, e]));
      assert.equal(byMessage.get('ok')?.n, 2);
      assert.ok(byMessage.has('ok again'));
      assert.equal(events.filter((e) => (e.tags ?? []).includes('_jsonparsefailure')).length, 1);
    } finally {
      await run.stop();
    }
  });

  it('drops datagrams beyond queue_size while the pipeline is held, and delivers the rest', async () => {
    const port = await freePort();
    const run = await runInput(`input { udp { port => ${port} queue_size => 5 } }`, async () => udpTaken(port));
    try {
      run.collector.hold();
      await sendUdp(port, 'first');
      await waitFor('the first batch', () => run.collector.batches === 1);
      for (let i = 0; i < 30; i++) await sendUdp(port, `d${i}`);
      await waitFor('a warning about the full queue', () => run.logs.some((l) => l.includes('queue of 5 events is full')));
      run.collector.release();
      await run.collector.waitForEvents(6);
      await sleep(100);
      assert.equal(run.collector.events.length, 6, 'the first and the five queued');
    } finally {
      await run.stop();
    }
  });

  it('refuses a missing port and unknown settings', () => {
    assert.throws(() => buildInput('input { udp { } }'), /"port" is required/);
    assert.throws(() => buildInput('input { udp { port => 1 buffer => 2 } }'), /unknown setting "buffer"/);
    assert.deepEqual(buildInput('input { udp { port => 5001 } }').listeners, [{ protocol: 'udp', host: '127.0.0.1', port: 5001 }]);
  });
});
