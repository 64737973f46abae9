/**
 * Thousands of random and hostile query strings against /api/v1/search and
 * /api/v1/histogram: every answer is 200 or 400, never 500; the data is
 * intact afterwards and nothing but DuckDB's own files appeared on disk.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { apiGet, countAll, fieldsInfo, ingestOk, prng, removeDir, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const FIELDS = ['host', 'status', 'bytes', 'duration', 'path', 'message', 'level', 'tags', 'user', '@timestamp', '_id', '_index', 'ok', 'when', 'http.response.status', 'mixed', 'nosuch', '_exists_', 'select', 'with space', 'ts', '_seq', '_overflow', 'f1', 'ünï'];

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Hand-written hostile queries. `canary` is a path that must never be created. */
function adversarial(canary: string): string[] {
  return [
    `'; DROP TABLE events; --`,
    `"; DROP TABLE events; --`,
    `") OR 1=1 --`,
    `') OR 1=1 --`,
    `host:"x' OR '1'='1"`,
    `host:x' OR '1'='1`,
    `host:"x\\" OR 1=1 --"`,
    `_exists_:";ATTACH '${canary}'"`,
    `_exists_:";ATTACH '${canary}' AS x"`,
    `_exists_:\\;ATTACH\\ \\'${canary}\\'`,
    `host:";COPY (SELECT 1) TO '${canary}'"`,
    `message:"'); COPY (SELECT 1) TO '${canary}'; --"`,
    `* | stats count() by "x; ATTACH '${canary}' AS y"`,
    `* | fields "a\\"); COPY (SELECT 1) TO '${canary}'; --"`,
    `* | sort "1; DROP TABLE events"`,
    `* | top 3 "'; DROP TABLE fields; --"`,
    `* | stats avg("x') FROM events; DROP TABLE events; --") by host`,
    `* | stats p95(bytes) as "c0; DROP TABLE events" by host`,
    `host:* | stats count() as "count(*)" by host`,
    `status:[0 TO 1e308]`,
    `duration:>1e300`,
    `bytes:1e39`,
    `bytes:-1e39`,
    `* | head 1e308`,
    `status:[-1e400 TO 1e400]`,
    `status:>99999999999999999999999999999`,
    `bytes:<-9223372036854775809`,
    `bytes:9223372036854775808`,
    `bytes:NaN`,
    `bytes:>Infinity`,
    `bytes:[Infinity TO -Infinity]`,
    `duration:>0x10`,
    `@timestamp:>now-99999999y`,
    `@timestamp:<now+99999999999999d`,
    `@timestamp:[now-1h TO now-2h]`,
    `@timestamp:[9999-99-99 TO 0000-00-00]`,
    `@timestamp:>"; DROP TABLE events"`,
    `@timestamp:1e400`,
    `@timestamp:-1`,
    `@timestamp:[* TO *]`,
    `when:[now/d TO now/M]`,
    `ok:maybe`,
    `ok:[true TO false]`,
    `status:[a TO z]`,
    `status:{* TO 5]`,
    `host:[a TO z]`,
    `*:*`,
    `*:x`,
    `\\`,
    `\\\\`,
    `a\\`,
    `host:\\*`,
    `host:*\\**`,
    `message:%`,
    `message:_`,
    `host:%25`,
    `host:web_%`,
    `[`,
    `]`,
    `{`,
    `}`,
    `(`,
    `)`,
    `|`,
    `||`,
    `&&`,
    `!`,
    `-`,
    `+`,
    `"`,
    `:`,
    `::`,
    `a::b`,
    `* |`,
    `* | | head`,
    `* | head 1000001`,
    `* | head 99999999999999999999999`,
    `* | top 0 host`,
    `* | stats p0(bytes)`,
    `* | stats p100(bytes)`,
    `* | stats p100.0001(bytes)`,
    `* | stats p99.99999999999999999(bytes) by host`,
    `* | stats count() by nosuch | sort -count`,
    `* | stats count() | fields nosuch`,
    `* | fields host | sort nosuch`,
    `* | stats count() as a, count() as a`,
    `* | stats min(message), max(@timestamp), sum(host), avg(tags) by tags`,
    `* | stats count_distinct(_id) by _id | head 1`,
    `* | top 5 tags, host`,
    `* | top 3 @timestamp`,
    `* | fields _overflow, _seq, ts, f1, _day`,
    `* | stats sum(mixed), avg(mixed), p50(mixed) by mixed`,
    `* | sort -count()`,
    `_exists_:_exists_`,
    `_exists_:*`,
    `NOT NOT NOT NOT x`,
    `${'('.repeat(100)}x${')'.repeat(100)}`,
    `${'('.repeat(101)}x${')'.repeat(101)}`,
    `${'('.repeat(5000)}`,
    `${'NOT '.repeat(200)}x`,
    `${'-'.repeat(500)}x`,
    `${'a OR '.repeat(2000)}a`,
    `${'host:x AND '.repeat(500)}host:y`,
    `x`.repeat(70_000),
    `"${'é'.repeat(30_000)}"`,
    `日本語 OR 😀 OR \u0000 OR \u0007 OR \u202e`,
    `host:\u0000`,
    `message:"\u0000"`,
    `"\\u0027"`,
    `'`,
    `''`,
    `"'"`,
    `host:'`,
    `\\'; SELECT 1; --`,
    `$1`,
    `host:$1`,
    `host:?`,
    `host:??`,
    `message:?`,
    `re*gex[`,
    `message:(a OR (b AND (c OR d)))`,
    `status:(>=500 <600)`,
    `status:(200 OR >=500)`,
    `(>5)`,
    `bytes:>`,
    `bytes:>=*`,
    `bytes:<"10"`,
    `http.response.status:[400 TO 499]`,
    `with\\ space:x`,
    `select:from`,
    `ts:1 _seq:2 _overflow:3 f1:4`,
  ];
}

const PIECES = ['AND', 'OR', 'NOT', '&&', '||', '!', '-', '+', '(', ')', '[', ']', '{', '}', 'TO', '*', '?', ':', '|', ',', '"', "'", '\\', ';', '--', '/*', '*/', '%', '_', '$1', '=', '>', '<', '>=', '<=', '\u0000', '\n', '\t', '😀', 'é', '\u202e', '\ud800', 'now-1h', '1e308', '-0', 'NaN'];
const FUNCS = ['count', 'count_distinct', 'dc', 'sum', 'avg', 'min', 'max', 'median', 'p50', 'p95', 'p99.9', 'p0', 'p101', 'bogus', 'COUNT'];
const VALUES = ['web-1', 'web-*', '*', '?', '200', '-5', '1.5', '1e400', '99999999999999999999', 'true', 'false', 'now-15m', 'now/d', '2026-01-01', '2026-13-45T99:99:99Z', 'abc', '""', '"x y"', '"\\""', "x'y", '\\:', 'ünï', '%', '_', 'NULL', 'null', ''];

function pick<T>(rand: () => number, xs: T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

/** A random query from a loose grammar: mostly valid shapes with hostile leaves. */
function grammarQuery(rand: () => number, depth = 0): string {
  const field = (): string => {
    const f = pick(rand, FIELDS);
    return rand() < 0.8 ? f.replace(/[^\p{L}\p{N}_.@-]/gu, (c) => '\\' + c) : f;
  };
  const leaf = (): string => {
    switch (Math.floor(rand() * 9)) {
      case 0:
        return pick(rand, VALUES);
      case 1:
        return `${field()}:${pick(rand, VALUES)}`;
      case 2:
        return `${field()}:${pick(rand, ['>', '>=', '<', '<='])}${pick(rand, VALUES)}`;
      case 3:
        return `${field()}:${pick(rand, ['[', '{'])}${pick(rand, VALUES)} TO ${pick(rand, VALUES)}${pick(rand, [']', '}'])}`;
      case 4:
        return `_exists_:${field()}`;
      case 5:
        return `"${pick(rand, VALUES)} ${pick(rand, VALUES)}"`;
      case 6:
        return `${field()}:(${grammarQuery(rand, depth + 1)})`;
      case 7:
        return pick(rand, PIECES);
      default:
        return `${pick(rand, ['conn', 'ref', 'web', 'err', 'x'])}${pick(rand, ['*', '?', '', 'used', '*d'])}`;
    }
  };
  if (depth > 4 || rand() < 0.35) return leaf();
  switch (Math.floor(rand() * 5)) {
    case 0:
      return `${grammarQuery(rand, depth + 1)} ${pick(rand, ['AND', 'OR', '&&', '||', ''])} ${grammarQuery(rand, depth + 1)}`;
    case 1:
      return `${pick(rand, ['NOT ', '-', '!', '+'])}${grammarQuery(rand, depth + 1)}`;
    case 2:
      return `(${grammarQuery(rand, depth + 1)})`;
    default:
      return `${leaf()} ${leaf()}`;
  }
}

function randomPipe(rand: () => number): string {
  const field = (): string => (rand() < 0.85 ? pick(rand, FIELDS).replace(/[^\p{L}\p{N}_.@-]/gu, (c) => '\\' + c) : `"${pick(rand, FIELDS)}"`);
  const agg = (): string => {
    const fn = pick(rand, FUNCS);
    const arg = rand() < 0.15 ? '' : rand() < 0.1 ? '*' : field();
    return `${fn}(${arg})${rand() < 0.2 ? ` as ${field()}` : ''}`;
  };
  const list = <T>(f: () => T, max: number): T[] => Array.from({ length: 1 + Math.floor(rand() * max) }, f);
  switch (Math.floor(rand() * 6)) {
    case 0:
      return `stats ${list(agg, 3).join(', ')}${rand() < 0.6 ? ` by ${list(field, 2).join(', ')}` : ''}`;
    case 1:
      return `sort ${list(() => `${rand() < 0.5 ? '-' : ''}${rand() < 0.3 ? agg() : field()}${rand() < 0.1 ? ' desc' : ''}`, 2).join(', ')}`;
    case 2:
      return `fields ${list(field, 3).join(', ')}`;
    case 3:
      return `head ${pick(rand, ['', '0', '1', '5', '1000000', '1000001', '-1', 'x', '1e3'])}`;
    case 4:
      return `top ${pick(rand, ['', '1', '3', '0', '1000000'])} ${list(field, 2).join(', ')}`;
    default:
      return pick(rand, ['', 'bogus', 'stats', 'sort', 'limit 3', 'STATS COUNT() BY HOST', 'stats count by host']);
  }
}

function soup(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 20);
  let out = '';
  for (let k = 0; k < n; k++) {
    const r = rand();
    if (r < 0.5) out += pick(rand, PIECES);
    else if (r < 0.7) out += pick(rand, FIELDS);
    else if (r < 0.85) out += pick(rand, VALUES);
    else out += String.fromCodePoint(Math.floor(rand() * 0x3000));
    if (rand() < 0.5) out += ' ';
  }
  return out;
}

function mutate(rand: () => number, q: string): string {
  const chars = [...q];
  const edits = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rand() * (chars.length + 1));
    const r = rand();
    if (r < 0.4) chars.splice(at, 0, pick(rand, PIECES));
    else if (r < 0.7) chars.splice(at, 1);
    else chars[at] = pick(rand, PIECES);
  }
  return chars.join('');
}

function generate(seed: number, count: number, canary: string): string[] {
  const rand = prng(seed);
  const fixed = adversarial(canary);
  const out = [...fixed];
  while (out.length < count) {
    const r = rand();
    let q: string;
    if (r < 0.4) q = grammarQuery(rand);
    else if (r < 0.6) q = `${rand() < 0.3 ? '*' : grammarQuery(rand)} | ${Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomPipe(rand)).join(' | ')}`;
    else if (r < 0.75) q = soup(rand);
    else q = mutate(rand, pick(rand, fixed.filter((x) => x.length < 1000)));
    out.push(q);
  }
  return out;
}

describe('query fuzzing', () => {
  let s: TestServer;
  let canaryDir: string;
  let filesBefore: string[];
  let countBefore: number;
  let fieldsBefore: string[];

  before(async () => {
    s = await startTestServer();
    canaryDir = tempDir();
    const now = Date.now();
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      events.push({
        '@timestamp': new Date(now - i * 11_000).toISOString(),
        message: `${['GET', 'POST'][i % 2]} /api/v${i % 3} connection ${i % 7 === 0 ? 'refused' : 'ok'} user's "quoted" \\ path %_ ${i}`,
        host: `web-${i % 4}`,
        status: [200, 404, 500][i % 3],
        bytes: i * 37,
        duration: i / 7,
        path: `/p/${i % 5}`,
        level: ['info', 'warn', 'error'][i % 3],
        tags: i % 2 ? ['a', 'b'] : ['c'],
        user: i % 5 === 0 ? "o'brien" : 'alice',
        ok: i % 2 === 0,
        when: new Date(now - i * 60_000).toISOString(),
        http: { response: { status: 200 + (i % 3) } },
        mixed: i % 4 === 0 ? 'text' : i,
        select: 'from',
        'with space': 'x',
        ts: i,
        _seq: 'seq',
        _overflow: 'o',
        f1: i % 2,
        'ünï': 'ünï',
      });
    }
    await ingestOk(s.url, events);
    countBefore = await countAll(s.url);
    assert.equal(countBefore, 300);
    fieldsBefore = (await fieldsInfo(s.url)).map((f) => `${f.name}:${f.type}`).sort();
    filesBefore = listFiles(s.dir);
  });
  after(async () => {
    await s.close();
    removeDir(s.dir);
    removeDir(canaryDir);
  });

  it('answers ≥3,000 random and hostile queries with 200 or 400, never 500', async () => {
    const canary = path.join(canaryDir, 'pwned.db');
    const queries = generate(20261121, 3200, canary);
    assert.ok(queries.length >= 3000);
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queries.length) {
        const k = next++;
        const q = queries[k];
        // Alternate ranges so that the relation covers one and several days.
        const range = k % 3 === 0 ? { from: 'now-3d', to: 'now' } : { from: 'now-1h', to: 'now' };
        const endpoints = ['/api/v1/search', '/api/v1/histogram'];
        if (k % 7 === 0) endpoints.push('/api/v1/fields');
        for (const ep of endpoints) {
          const params: Record<string, string> = { q, ...range };
          if (ep === '/api/v1/fields') params.field = 'host';
          const r = await apiGet(s.url, ep, params);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          // Node's HTTP parser refuses request heads over 16 KiB with 431 before the API sees them.
          const urlBytes = Buffer.byteLength(new URLSearchParams(params).toString());
          if (r.status === 431 && urlBytes > 16 * 1024) continue;
          if (r.status !== 200 && r.status !== 400) {
            bad.push(`${ep} ${r.status} ${JSON.stringify(q).slice(0, 200)} -> ${JSON.stringify(r.body).slice(0, 200)}`);
          } else if (r.status === 400) {
            assert.equal(typeof r.body?.error?.message, 'string', `400 without a message for ${JSON.stringify(q).slice(0, 100)}`);
          }
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    assert.ok((statuses.get(200) ?? 0) > 500, `enough queries ran: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) > 500, `enough queries were refused: ${JSON.stringify([...statuses])}`);
    assert.deepEqual(bad.slice(0, 30), [], `${bad.length} answers were neither 200 nor 400`);
    assert.ok(!fs.existsSync(canary), 'no query could write a file');
    assert.deepEqual(fs.readdirSync(canaryDir), []);
  });

  it('leaves the data intact and no new files but the store\'s own', async () => {
    assert.equal((await apiGet(s.url, '/api/v1/health')).status, 200);
    assert.equal(await countAll(s.url), countBefore);
    assert.equal(await countAll(s.url, 'refused'), 43);
    assert.deepEqual((await fieldsInfo(s.url)).map((f) => `${f.name}:${f.type}`).sort(), fieldsBefore);
    const after = listFiles(s.dir);
    const added = after.filter((f) => !filesBefore.includes(f));
    assert.deepEqual(
      // The store's own: DuckDB's catalog and WAL, and segments turning into Parquet in the background.
      added.filter((f) => !/\.duckdb$/.test(f) && !/\.wal$/.test(f) && !/partitions\/\d{8}\/([sbm][\d-]+\.(ndjson|parquet|bloom))$/.test(f)),
      [],
      `new files: ${added.join(', ')}`,
    );
    // Writes still work.
    await ingestOk(s.url, [{ message: 'after the storm' }]);
    assert.equal(await countAll(s.url), countBefore + 1);
  });
});
