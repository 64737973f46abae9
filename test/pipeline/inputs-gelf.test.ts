/**
 * The gelf input with gelf-pro (npm) as the sender over UDP (deflated) and TCP, hand-built chunked
 * datagrams, and garbage payloads kept as tagged events beside the good ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { Datagrams, chunksOf, gelfPro, gelfProSend } from '../fixtures/netinputs/gelf.js';
import { buildInput, freePort, runInput, tcpListening, udpTaken } from './inputs-harness.js';

describe('gelf input', () => {
  it('reads gelf-pro over UDP into Logstash\'s fields: full_message as message, level as a number, extras without the underscore', async () => {
    const port = await freePort();
    const run = await runInput(`input { gelf { port => ${port} } }`, () => udpTaken(port));
    const logger = gelfPro('udp', { host: '127.0.0.1', port, protocol: 'udp4' }, { facility: 'checkout' });
    try {
      await gelfProSend(logger, 'payment failed', 3, { host: 'shop-1', order_id: 42, customer: { tier: 'gold' }, full_message: 'trace\nline 2' });
      const [e] = await run.collector.waitForEvents(1);
      // Logstash's remap: the full message is the message, the short one stays beside it.
      assert.equal(e.message, 'trace\nline 2');
      assert.equal(e.short_message, 'payment failed');
      assert.equal(e.full_message, undefined);
      assert.equal(e.host, 'shop-1');
      assert.equal(e.level, 3);
      assert.equal(e.gelf, undefined, 'no store-side [gelf][level]');
      assert.equal(e.order_id, 42);
      assert.equal(e._order_id, undefined);
      assert.equal(e.facility, 'checkout');
      assert.equal(e.customer_tier, 'gold', 'gelf-pro flattens nested extras with underscores');
      assert.ok(!Number.isNaN(Date.parse(e['@timestamp'])));
    } finally {
      await run.stop();
    }
  });

  it('reads gelf-pro over TCP when use_tcp is on, with the GELF timestamp as @timestamp', async () => {
    const port = await freePort();
    const run = await runInput(`input { gelf { port => ${port} use_tcp => true } }`, async () => (await tcpListening(port)) && (await udpTaken(port)));
    const logger = gelfPro('tcp', { host: '127.0.0.1', port });
    try {
      await gelfProSend(logger, 'over tcp', 6, { host: 'api-1', timestamp: 1767225600.25 });
      const [e] = await run.collector.waitForEvents(1);
      assert.equal(e.message, 'over tcp', 'without a full_message, short_message is the message');
      assert.equal(e.short_message, undefined);
      assert.equal(e.level, 6);
      assert.equal(e['@timestamp'], '2026-01-01T00:00:00.250Z');
    } finally {
      await run.stop();
    }
  });

  it('reassembles a chunked gzip message and keeps a garbage payload as a tagged event beside good ones', async () => {
    const port = await freePort();
    const run = await runInput(`input { gelf { port => ${port} type => "gelf" } }`, () => udpTaken(port));
    const out = new Datagrams(port);
    try {
      const big = JSON.stringify({ version: '1.1', host: 'h', short_message: 'chunked', full_message: 'z'.repeat(20_000), _seq: 1, _http: { status: 200 } });
      for (const c of chunksOf(gzipSync(big), 4)) await out.send(c);
      await out.send(Buffer.from('{"version":"1.1","host":"h"'));
      await out.send(Buffer.from(JSON.stringify({ version: '1.1', host: 'h', short_message: 'after' })));
      const events = await run.collector.waitForEvents(3);
      const chunked = events.find((e) => e.short_message === 'chunked');
      assert.equal(chunked?.message.length, 20_000);
      assert.equal(chunked?.seq, 1);
      assert.deepEqual(chunked?.http, { status: 200 }, 'a nested additional field stays nested');
      const bad = events.find((e) => (e.tags ?? []).includes('_jsonparsefailure'));
      assert.ok(bad, JSON.stringify(events.map((e) => e.message)));
      assert.equal(bad.message, '{"version":"1.1","host":"h"');
      assert.equal(typeof bad.error.message, 'string');
      assert.ok(events.some((e) => e.message === 'after'));
      for (const e of events) assert.equal(e.type, 'gelf');
    } finally {
      await out.close();
      await run.stop();
    }
  });

  it('declares what it listens on and refuses what it cannot do', () => {
    assert.deepEqual(buildInput('input { gelf { } }').listeners, [{ protocol: 'udp', host: '127.0.0.1', port: 12201 }]);
    assert.deepEqual(buildInput('input { gelf { use_tcp => true port_tcp => 12202 } }').listeners, [
      { protocol: 'udp', host: '127.0.0.1', port: 12201 },
      { protocol: 'tcp', host: '127.0.0.1', port: 12202 },
    ]);
    assert.throws(() => buildInput('input { gelf { use_udp => false } }'), /listen on nothing/);
    assert.throws(() => buildInput('input { gelf { remap => false } }'), /"remap" can only be true/);
    assert.throws(() => buildInput('input { gelf { use_tpc => true } }'), /did you mean "use_tcp"/);
    assert.throws(() => buildInput('input { gelf { codec => json } }'), /"codec" can only be plain/);
    buildInput('input { gelf { codec => plain port_udp => 12300 remap => true strip_leading_underscore => true } }');
  });
});
