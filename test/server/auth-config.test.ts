/**
 * Exposure rules and token auth, configuration precedence and errors, and the
 * system endpoints: health, OpenAPI, Prometheus metrics.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig } from '../../src/core/config.js';
import { checkExposure, startServer, StartupError } from '../../src/server.js';
import { apiGet, ingest, ingestOk, removeDir, search, startTestServer, tempDir } from '../helpers/server.js';

describe('exposure beyond loopback', () => {
  it('refuses to listen on 0.0.0.0 without a token, naming --token and LOGMILL_TOKEN', async () => {
    const dir = tempDir();
    try {
      for (const flags of [{ http: '0.0.0.0:0' }, { http: '127.0.0.1:0', tcp: '0.0.0.0:0' }, { http: '127.0.0.1:0', udp: '0.0.0.0:0' }, { http: '[::]:0' }]) {
        const config = loadConfig({ flags: { data: dir, logLevel: 'silent', ...flags } });
        assert.throws(() => checkExposure(config), (err: unknown) => {
          assert.ok(err instanceof StartupError, String(err));
          assert.match(err.message, /--token/);
          assert.match(err.message, /LOGMILL_TOKEN/);
          return true;
        }, JSON.stringify(flags));
        await assert.rejects(startServer(config), (err: unknown) => {
          assert.ok(err instanceof StartupError);
          assert.match((err as Error).message, /--token/);
          assert.match((err as Error).message, /LOGMILL_TOKEN/);
          return true;
        }, JSON.stringify(flags));
      }
      for (const http of ['127.0.0.1:0', 'localhost:0', '[::1]:0', '127.1.2.3:0']) {
        assert.doesNotThrow(() => checkExposure(loadConfig({ flags: { data: dir, http } })), http);
      }
      assert.doesNotThrow(() => checkExposure(loadConfig({ flags: { data: dir, http: '0.0.0.0:0', token: 's3cret' } })));
    } finally {
      removeDir(dir);
    }
  });
});

describe('token auth', () => {
  const TOKEN = 'tok-3f9a1c';
  const paths = ['/api/v1/search?q=*', '/api/v1/histogram', '/api/v1/fields', '/api/v1/health', '/metrics', '/api/v1/openapi.json'];

  for (const http of ['0.0.0.0:0', '127.0.0.1:0']) {
    it(`on ${http} with a token: 401 without it, 200 with Bearer or basic auth`, async () => {
      const s = await startTestServer({ http, token: TOKEN });
      try {
        const port = new URL(s.url).port;
        const base = `http://127.0.0.1:${port}`;
        const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        const refused: Record<string, string>[] = [
          {},
          { authorization: `Bearer wrong` },
          { authorization: `Bearer ${TOKEN}x` },
          { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
          { authorization: `Bearer` },
          { authorization: TOKEN },
          { authorization: basic('user', 'wrong') },
          { authorization: basic(TOKEN, '') },
          { authorization: `Basic !!!notbase64` },
          { authorization: `Token ${TOKEN}` },
          { 'x-api-key': TOKEN },
        ];
        const allowed: Record<string, string>[] = [
          { authorization: `Bearer ${TOKEN}` },
          { authorization: `bearer ${TOKEN}` },
          { authorization: basic('anyone', TOKEN) },
          { authorization: basic('', TOKEN) },
        ];
        for (const p of paths) {
          for (const headers of refused) {
            const res = await fetch(base + p, { headers });
            await res.arrayBuffer();
            assert.equal(res.status, 401, `${p} with ${JSON.stringify(headers)}`);
            assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
          }
          for (const headers of allowed) {
            const res = await fetch(base + p, { headers });
            await res.arrayBuffer();
            assert.equal(res.status, 200, `${p} with ${JSON.stringify(headers)}`);
          }
        }
        // Ingest: refused without the token (nothing stored), accepted with it.
        const denied = await ingest(base, [{ message: 'should not land' }]);
        assert.equal(denied.status, 401);
        const withToken = await ingest(base, [{ message: 'authorised event' }], { authorization: `Bearer ${TOKEN}` });
        assert.equal(withToken.status, 200);
        assert.equal(withToken.body.accepted, 1);
        const viaBasic = await ingest(base, [{ message: 'basic event' }], { authorization: basic('shipper', TOKEN) });
        assert.equal(viaBasic.status, 200);
        const found = await apiGet(base, '/api/v1/search', { q: '*', from: 'now-1h' }, { authorization: `Bearer ${TOKEN}` });
        assert.equal(found.status, 200);
        assert.deepEqual(found.body.hits.map((h: { message: string }) => h.message).sort(), ['authorised event', 'basic event']);
      } finally {
        await s.close();
        removeDir(s.dir);
      }
    });
  }

  it('without a token on loopback, requests need no Authorization', async () => {
    const s = await startTestServer();
    try {
      for (const p of paths) {
        const res = await fetch(s.url + p);
        await res.arrayBuffer();
        assert.equal(res.status, 200, p);
      }
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});

describe('configuration', () => {
  it('takes defaults, then the file, then the environment, then flags', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'logmill.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ data: '/from/file', http: '127.0.0.1:1111', maxColumns: 10, retentionDays: '30d', logLevel: 'debug', memoryLimit: '1GB' }),
      );
      const env = { LOGMILL_HTTP: '127.0.0.1:2222', LOGMILL_MAX_COLUMNS: '20', LOGMILL_RETENTION: '7d', LOGMILL_TOKEN: 'from-env', LOGMILL_IGNORED: 'x' };
      const flags = { http: '127.0.0.1:3333', tcp: '127.0.0.1:4444', logLevel: undefined };

      assert.deepEqual(loadConfig({}), DEFAULTS);
      assert.equal(DEFAULTS.http, '127.0.0.1:5601');
      assert.equal(DEFAULTS.data, './data');

      const fromFile = loadConfig({ file });
      assert.equal(fromFile.data, '/from/file');
      assert.equal(fromFile.http, '127.0.0.1:1111');
      assert.equal(fromFile.maxColumns, 10);
      assert.equal(fromFile.retentionDays, 30);
      assert.equal(fromFile.logLevel, 'debug');
      assert.equal(fromFile.maxLineBytes, DEFAULTS.maxLineBytes);

      const withEnv = loadConfig({ file, env });
      assert.equal(withEnv.http, '127.0.0.1:2222');
      assert.equal(withEnv.maxColumns, 20);
      assert.equal(withEnv.retentionDays, 7);
      assert.equal(withEnv.token, 'from-env');
      assert.equal(withEnv.data, '/from/file');

      const all = loadConfig({ file, env, flags });
      assert.deepEqual(all, {
        ...DEFAULTS,
        data: '/from/file',
        http: '127.0.0.1:3333',
        tcp: '127.0.0.1:4444',
        maxColumns: 20,
        retentionDays: 7,
        token: 'from-env',
        logLevel: 'debug',
        memoryLimit: '1GB',
      });
      // An empty environment variable does not override the file.
      assert.equal(loadConfig({ file, env: { LOGMILL_HTTP: '' } }).http, '127.0.0.1:1111');
      // Flags given as numbers.
      assert.equal(loadConfig({ flags: { maxLineBytes: 2048 } }).maxLineBytes, 2048);
    } finally {
      removeDir(dir);
    }
  });

  it('explains bad values, naming where they came from', () => {
    const dir = tempDir();
    try {
      const bad = (opts: Parameters<typeof loadConfig>[0], ...patterns: RegExp[]): void => {
        assert.throws(() => loadConfig(opts), (err: unknown) => {
          assert.ok(err instanceof ConfigError, `${String(err)} is a ConfigError`);
          for (const p of patterns) assert.match((err as Error).message, p);
          return true;
        });
      };
      bad({ flags: { maxColumns: 'abc' } }, /abc/, /positive whole number/, /flag/);
      bad({ flags: { maxColumns: '0' } }, /positive whole number/);
      bad({ flags: { maxColumns: '-5' } }, /positive whole number/);
      bad({ flags: { maxColumns: '1.5' } }, /positive whole number/);
      bad({ flags: { http: 'nope' } }, /nope/, /HOST:PORT/);
      bad({ flags: { http: '127.0.0.1:99999' } }, /HOST:PORT/);
      bad({ flags: { tcp: ':5000' } }, /HOST:PORT/);
      bad({ flags: { logLevel: 'loud' } }, /loud/, /silent, error, warn, info or debug/);
      bad({ flags: { retentionDays: '3h' } }, /3h/, /whole days/);
      bad({ flags: { retentionDays: 'forever' } }, /forever/);
      bad({ env: { LOGMILL_MAX_LINE_BYTES: 'lots' } }, /LOGMILL_MAX_LINE_BYTES/, /lots/);
      bad({ env: { LOGMILL_HTTP: 'localhost' } }, /LOGMILL_HTTP/);

      const notJson = path.join(dir, 'bad.json');
      fs.writeFileSync(notJson, '{ "http": ');
      bad({ file: notJson }, /bad\.json/);
      const array = path.join(dir, 'array.json');
      fs.writeFileSync(array, '[]');
      bad({ file: array }, /array\.json/, /object/);
      const unknown = path.join(dir, 'unknown.json');
      fs.writeFileSync(unknown, JSON.stringify({ htttp: '127.0.0.1:1' }));
      bad({ file: unknown }, /htttp/, /unknown setting/);
      const badValue = path.join(dir, 'value.json');
      fs.writeFileSync(badValue, JSON.stringify({ maxColumns: 'many' }));
      bad({ file: badValue }, /value\.json/, /many/);
      bad({ file: path.join(dir, 'missing.json') }, /missing\.json/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('system endpoints', () => {
  it('/api/v1/health answers ok with partitions and bytes on disk', async () => {
    const s = await startTestServer();
    try {
      const h0 = await apiGet(s.url, '/api/v1/health');
      assert.equal(h0.status, 200);
      assert.equal(h0.body.status, 'ok');
      assert.equal(typeof h0.body.uptimeSeconds, 'number');
      assert.equal(h0.body.partitions, 0);
      await ingestOk(s.url, [{ message: 'health today' }, { message: 'health old', '@timestamp': new Date(Date.now() - 5 * 86_400_000).toISOString() }]);
      const h1 = await apiGet(s.url, '/api/v1/health');
      assert.equal(h1.body.partitions, 2);
      assert.ok(h1.body.bytesOnDisk > 0);
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });

  it('/api/v1/openapi.json is a valid OpenAPI document whose paths exist', async () => {
    const s = await startTestServer();
    try {
      const res = await fetch(`${s.url}/api/v1/openapi.json`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const doc = JSON.parse(await res.text()) as { openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>> };
      assert.match(doc.openapi, /^3\.\d+\.\d+$/);
      assert.equal(typeof doc.info.title, 'string');
      for (const p of ['/api/v1/ingest', '/api/v1/search', '/api/v1/histogram', '/api/v1/fields', '/api/v1/health']) {
        assert.ok(doc.paths[p], `documents ${p}`);
      }
      assert.ok(doc.paths['/api/v1/ingest'].post);
      assert.ok(doc.paths['/api/v1/search'].get);
      // Every documented operation is served (not 404).
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const method of Object.keys(ops)) {
          const r = await fetch(s.url + p, { method: method.toUpperCase(), body: method === 'post' ? '{"message":"openapi probe"}\n' : undefined });
          await r.arrayBuffer();
          assert.notEqual(r.status, 404, `${method.toUpperCase()} ${p}`);
          assert.ok(r.status < 500, `${method.toUpperCase()} ${p} answered ${r.status}`);
        }
      }
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });

  it('/metrics is Prometheus text whose logmill_events_ingested_total grows with ingest', async () => {
    const s = await startTestServer();
    try {
      const scrape = async (): Promise<string> => {
        const res = await fetch(`${s.url}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
        return res.text();
      };
      const ingested = (text: string): number => {
        let sum = 0;
        for (const line of text.split('\n')) {
          const m = /^logmill_events_ingested_total(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
          if (m) sum += Number(m[2]);
        }
        return sum;
      };
      await ingestOk(s.url, Array.from({ length: 5 }, (_, k) => ({ message: `metric ${k}` })));
      const t1 = await scrape();
      assert.match(t1, /^# TYPE logmill_events_ingested_total counter$/m);
      assert.match(t1, /^# HELP logmill_events_ingested_total .+$/m);
      const v1 = ingested(t1);
      assert.equal(v1, 5);
      await ingestOk(s.url, Array.from({ length: 37 }, (_, k) => ({ message: `metric more ${k}` })));
      await ingest(s.url, '{"message":"one good"}\nnot json\n');
      const t2 = await scrape();
      assert.equal(ingested(t2), v1 + 38);
      // Well-formed exposition: comments, or `name{labels} value`.
      for (const line of t2.split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (NaN|\+Inf|-Inf)$/, line);
      }
      assert.match(t2, /^logmill_events_rejected_total\{input="http"\} 1$/m);
      assert.equal((await search(s.url, 'metric')).total, 42);
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});
