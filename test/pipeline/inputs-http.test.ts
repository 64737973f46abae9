/**
 * The http input with fetch (and node:https for TLS): JSON, arrays, NDJSON and text bodies, the
 * answer only after delivery, bad bodies refused with 4xx while good requests go on, size limits,
 * basic auth, gzip, and a fuzz run of the body decoder.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { Gen } from '../helpers/prng.js';
import { makePki } from '../fixtures/netinputs/harness.js';
import { BadRequest, eventsOfBody } from '../../src/pipeline/inputs/http.js';
import { buildInput, freePort, runInput, sleep, tcpListening, waitFor } from './inputs-harness.js';

const json = { 'content-type': 'application/json' };

describe('http input', () => {
  it('makes an event per JSON object, per array item and per NDJSON line, and one of a text body', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} tags => ["web"] } }`, () => tcpListening(port));
    const url = `http://127.0.0.1:${port}/ingest?x=1`;
    try {
      assert.equal((await fetch(url, { method: 'POST', headers: json, body: '{"message":"one","n":1}' })).status, 200);
      assert.equal((await fetch(url, { method: 'POST', headers: json, body: '[{"message":"two"},{"message":"three"}]' })).status, 200);
      assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"message":"four"}\n\n{"message":"five"}\n' })).status, 200);
      const text = await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/plain', 'user-agent': 'probe/1' }, body: 'plain text\nsecond line' });
      assert.equal(text.status, 200);
      assert.equal(await text.text(), 'ok');
      const events = run.collector.json();
      assert.deepEqual(events.map((e) => e.message), ['one', 'two', 'three', 'four', 'five', 'plain text\nsecond line']);
      assert.equal(events[0].n, 1);
      const last = events[5];
      assert.equal(last.host, '127.0.0.1');
      assert.equal(last.headers.request_method, 'PUT');
      assert.equal(last.headers.request_path, '/ingest?x=1');
      assert.equal(last.headers.content_type, 'text/plain');
      assert.equal(last.headers.http_user_agent, 'probe/1');
      assert.equal(last.headers.http_version, 'HTTP/1.1');
      assert.deepEqual(last.tags, ['web']);
    } finally {
      await run.stop();
    }
  });

  it('answers only once the pipeline has the events', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} } }`, () => tcpListening(port));
    try {
      run.collector.hold();
      let answered = false;
      const response = fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'held' }).then((r) => {
        answered = true;
        return r;
      });
      await sleep(300);
      assert.equal(run.collector.events.length, 1);
      assert.equal(answered, false, 'no answer while emit is held');
      run.collector.release();
      assert.equal((await response).status, 200);
    } finally {
      await run.stop();
    }
  });

  it('answers 429 beyond max_pending_requests while the pipeline is held, and takes requests again once it is not', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} max_pending_requests => 2 } }`, () => tcpListening(port));
    const url = `http://127.0.0.1:${port}/`;
    try {
      run.collector.hold();
      const held = [fetch(url, { method: 'POST', body: 'h1' }), fetch(url, { method: 'POST', body: 'h2' })];
      await waitFor('two requests held', () => run.collector.pending === 2);
      const refused = await fetch(url, { method: 'POST', body: 'h3' });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      run.collector.release();
      assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200]);
      assert.equal((await fetch(url, { method: 'POST', body: 'h4' })).status, 200);
      assert.deepEqual(run.collector.json().map((e) => e.message).sort(), ['h1', 'h2', 'h4']);
    } finally {
      await run.stop();
    }
  });

  it('refuses bad JSON and bad gzip with 400 without keeping any of their events, and takes the next good request', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} } }`, () => tcpListening(port));
    const url = `http://127.0.0.1:${port}/`;
    try {
      const bad = await fetch(url, { method: 'POST', headers: json, body: '{"message":"ok"}\n{"message": nope}' });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /line 2: invalid JSON/);
      assert.equal((await fetch(url, { method: 'POST', headers: json, body: '[1, 2]' })).status, 400);
      assert.equal((await fetch(url, { method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: 'not gzip' })).status, 400);
      assert.equal(run.collector.events.length, 0);
      const gz = await fetch(url, { method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync('{"message":"zipped"}') });
      assert.equal(gz.status, 200);
      assert.deepEqual(run.collector.json().map((e) => e.message), ['zipped']);
    } finally {
      await run.stop();
    }
  });

  it('refuses a body over max_content_length with 413, declared or streamed', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} max_content_length => 1000 } }`, () => tcpListening(port));
    try {
      const declared = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x'.repeat(5000) }).catch((e: Error) => e);
      assert.ok(declared instanceof Error || declared.status === 413, String(declared));
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 10; i++) req.write('y'.repeat(500));
        req.end();
      });
      assert.equal(streamed, 413);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'small' })).status, 200);
      assert.deepEqual(run.collector.json().map((e) => e.message), ['small']);
    } finally {
      await run.stop();
    }
  });

  it('asks for basic auth when user and password are set, and keeps the Authorization header out of the event', async () => {
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} user => "ann" password => "s3cret" } }`, () => tcpListening(port));
    const url = `http://127.0.0.1:${port}/`;
    try {
      const none = await fetch(url, { method: 'POST', body: 'a' });
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
      const wrong = await fetch(url, { method: 'POST', body: 'b', headers: { authorization: `Basic ${Buffer.from('ann:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      const right = await fetch(url, { method: 'POST', body: 'c', headers: { authorization: `Basic ${Buffer.from('ann:s3cret').toString('base64')}` } });
      assert.equal(right.status, 200);
      const events = run.collector.json();
      assert.deepEqual(events.map((e) => e.message), ['c']);
      assert.equal(events[0].headers.http_authorization, undefined);
    } finally {
      await run.stop();
    }
  });

  it('serves HTTPS with ssl_enabled', async () => {
    const pki = makePki();
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} ssl_enabled => true ssl_certificate => "${pki.serverCert}" ssl_key => "${pki.serverKey}" response_headers => { "x-served-by" => "logmill" } } }`, () => tcpListening(port));
    try {
      const { status, servedBy } = await new Promise<{ status: number; servedBy: string | string[] | undefined }>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/', ca: fs.readFileSync(pki.serverCert), servername: 'localhost', headers: json }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, servedBy: res.headers['x-served-by'] });
        });
        req.on('error', reject);
        req.end('{"message":"secure"}');
      });
      assert.equal(status, 200);
      assert.equal(servedBy, 'logmill');
      assert.deepEqual(run.collector.json().map((e) => e.message), ['secure']);
    } finally {
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('with ssl_client_authentication => optional takes clients without a certificate and refuses a rogue one', async () => {
    const pki = makePki();
    const port = await freePort();
    const run = await runInput(`input { http { port => ${port} ssl_enabled => true ssl_certificate => "${pki.serverCert}" ssl_key => "${pki.serverKey}" ssl_certificate_authorities => "${pki.caCert}" ssl_client_authentication => "optional" } }`, () => tcpListening(port));
    const post = (body: string, client: { cert?: Buffer; key?: Buffer }): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/', ca: fs.readFileSync(pki.serverCert), servername: 'localhost', agent: false, ...client }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      assert.equal(await post('signed', { cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) }), 200);
      assert.equal(await post('anonymous', {}), 200);
      assert.equal(await post('rogue', { cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) }), 403);
      assert.deepEqual(run.collector.json().map((e) => e.message), ['signed', 'anonymous']);
    } finally {
      await run.stop();
      fs.rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  it('decodes random and mutated bodies to objects or refuses them with BadRequest (fuzz)', () => {
    const gen = new Gen(8080);
    const seeds = ['{"message":"a","n":[1,2,{"x":null}]}', '[{"a":1},{"b":"c"}]', '{"a":1}\n{"b":2}\n', '{"deep":{"er":{"est":true}}}'];
    const alphabet = ['{', '}', '[', ']', '"', ':', ',', '\n', ' ', '1', 'a', '\\', 'u', 'null', 'true', '\u00e9', '\uFFFD'];
    for (let i = 0; i < 5000; i++) {
      let body: string;
      if (gen.chance(0.6)) {
        const chars = [...gen.pick(seeds)];
        for (let m = gen.int(4); m > 0; m--) chars.splice(gen.int(chars.length + 1), gen.int(3), ...gen.text(alphabet, 2));
        body = chars.join('');
      } else {
        body = gen.text(alphabet, 60);
      }
      const type = gen.pick(['application/json', 'application/x-ndjson; charset=utf-8', 'text/plain', '']);
      try {
        const objects = eventsOfBody(Buffer.from(body), type);
        for (const o of objects) assert.ok(o !== null && typeof o === 'object' && !Array.isArray(o), JSON.stringify(o));
        if (!type.startsWith('application/')) assert.deepEqual(objects, [{ message: body }]);
      } catch (error) {
        assert.ok(error instanceof BadRequest, `${String(error)} for ${JSON.stringify(body)}`);
      }
    }
  });

  it('declares its listener and refuses configuration mistakes', () => {
    assert.deepEqual(buildInput('input { http { } }').listeners, [{ protocol: 'tcp', host: '127.0.0.1', port: 8080 }]);
    assert.throws(() => buildInput('input { http { user => "a" } }'), /"password" is required when user is set/);
    assert.throws(() => buildInput('input { http { response_code => 404 } }'), /"response_code" must be a 2xx code/);
    assert.throws(() => buildInput('input { http { ssl_enabled => true ssl_certificate => "c" } }'), /"ssl_key" is required/);
    assert.throws(() => buildInput('input { http { max_content_lenght => 5 } }'), /did you mean "max_content_length"/);
  });
});
