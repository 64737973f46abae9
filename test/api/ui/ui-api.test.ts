/**
 * The HTTP API the web UI is built on, against a real server: the UI's pages and their
 * security headers, oldest-first paging, stacked histograms, field shares, surrounding events,
 * live tail (fed by util-linux `logger` over syslog and by the ingest API, read as server-sent
 * events and by `logmill tail`), saved objects that survive a restart and refuse cross-site
 * writes, config validation, the DLQ's "not available" answer and query cancellation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ingestOk, removeDir, run, spawnServer, startTestServer, stopChild, tempDir, type TestServer } from '../../helpers/server.js';
import { portOf, waitFor } from '../../helpers/inputs.js';
import { QueryCancelled, queryAbort } from '../../../src/store/store.js';
import { parseQuery } from '../../../src/query/parse.js';
import { readServerSentEvents } from '../../../src/cli/tail.js';

const ALL = { from: '2000-01-01T00:00:00Z', to: 'now+1d' };

async function getJson(base: string, p: string, params: Record<string, string | number> = {}, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${base}${p}${q.size ? `?${q}` : ''}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, body };
}

/** Reads a live tail's server-sent events into `hits` until `stop` is called. */
function openTail(base: string, q: string): { hits: Record<string, unknown>[]; stats: { rate: number }[]; stop: () => void; ready: Promise<void> } {
  const controller = new AbortController();
  const hits: Record<string, unknown>[] = [];
  const stats: { rate: number }[] = [];
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  void (async () => {
    const res = await fetch(`${base}/api/v1/tail?q=${encodeURIComponent(q)}`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    resolveReady();
    await readServerSentEvents(res.body as unknown as AsyncIterable<Uint8Array>, (event, data) => {
      if (event === 'hits') hits.push(...(JSON.parse(data) as { hits: Record<string, unknown>[] }).hits);
      if (event === 'stats') stats.push(JSON.parse(data) as { rate: number });
    });
  })().catch((e: Error) => {
    if (e.name !== 'AbortError') throw e;
  });
  return { hits, stats, stop: () => controller.abort(), ready };
}

describe('the API of the web UI', () => {
  let server: TestServer;
  let base: string;
  let syslogPort: number;
  before(async () => {
    server = await startTestServer({ syslog: '127.0.0.1:0' });
    base = server.url;
    const tcp = server.inputs.find((i) => i.name === 'syslog_tcp');
    assert.ok(tcp, 'the syslog TCP listener runs');
    syslogPort = portOf(tcp);
  });
  after(async () => {
    await server.close();
    removeDir(server.dir);
  });

  it('serves the UI page at / and /app/… with a strict Content-Security-Policy, and its hashed assets', async () => {
    for (const p of ['/', '/app/discover', '/app/dashboards/x']) {
      const res = await fetch(base + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      const html = await res.text();
      const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, `the page names its script: ${html}`);
      assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script');
      const js = await fetch(base + script);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    }
    const missing = await fetch(`${base}/assets/..%2f..%2fpackage.json`);
    assert.equal(missing.status, 404);
  });

  it('pages oldest first with a cursor, the same events as newest first in the opposite order', async () => {
    const t0 = Date.parse('2026-01-10T10:00:00Z');
    const events = Array.from({ length: 25 }, (_, i) => ({ '@timestamp': new Date(t0 + Math.floor(i / 3) * 1000).toISOString(), message: `order-check ${i}`, host: 'order' }));
    await ingestOk(base, events);
    const range = { from: '2026-01-10T00:00:00Z', to: '2026-01-11T00:00:00Z' };
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await getJson(base, '/api/v1/search', { q: 'host:order', ...range, order: 'asc', limit: 7, ...(cursor ? { cursor } : {}) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.total, 25);
      seen.push(...r.body.hits.map((h: { message: string }) => h.message));
      cursor = r.body.cursor;
    } while (cursor);
    // Events of one second come in the order they were sent: storage order breaks the tie.
    assert.deepEqual(seen, events.map((e) => e.message));
    const desc = await getJson(base, '/api/v1/search', { q: 'host:order', ...range, limit: 100 });
    assert.deepEqual(desc.body.hits.map((h: { message: string }) => h.message), [...seen].reverse());
    const bad = await getJson(base, '/api/v1/search', { q: 'host:order', order: 'sideways' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /"order"/);
  });

  it('stacks the histogram by a field: one series per top value, the rest as other, adding up to the totals', async () => {
    const t0 = Date.parse('2026-02-01T00:00:00Z');
    const hosts = ['h1', 'h1', 'h1', 'h2', 'h2', 'h3', 'h4'];
    const events = Array.from({ length: 140 }, (_, i) => ({ '@timestamp': new Date(t0 + i * 60_000).toISOString(), message: `stack ${i}`, host: hosts[i % hosts.length], kind: 'stack' }));
    await ingestOk(base, events);
    const range = { from: '2026-02-01T00:00:00Z', to: '2026-02-01T02:20:00Z' };
    const r = await getJson(base, '/api/v1/histogram', { q: 'kind:stack', ...range, by: 'host', size: 2, interval: '10m' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.by, 'host');
    assert.deepEqual(r.body.series.map((s: { value: string }) => s.value), ['h1', 'h2']);
    assert.equal(r.body.series[0].counts.reduce((a: number, b: number) => a + b, 0), 60);
    assert.equal(r.body.series[1].counts.reduce((a: number, b: number) => a + b, 0), 40);
    assert.equal(r.body.other.reduce((a: number, b: number) => a + b, 0), 40);
    r.body.buckets.forEach((b: { count: number }, i: number) => {
      const stacked = r.body.series.reduce((a: number, s: { counts: number[] }) => a + s.counts[i], 0) + r.body.other[i];
      assert.equal(stacked, b.count, `bucket ${i} adds up`);
    });
    const plain = await getJson(base, '/api/v1/histogram', { q: 'kind:stack', ...range, interval: '10m' });
    assert.equal(plain.body.series, undefined);
  });

  it('gives a field its share of the query: events having it, and all events of the query', async () => {
    await ingestOk(base, [
      { message: 'share a', kind: 'share', status: 200 },
      { message: 'share b', kind: 'share', status: 500 },
      { message: 'share c', kind: 'share' },
    ]);
    const r = await getJson(base, '/api/v1/fields', { q: 'kind:share', field: 'status', size: 5, ...ALL });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.count, 2);
    assert.equal(r.body.total, 3);
    assert.equal(r.body.values.length, 2);
  });

  it('finds surrounding events from the same host and source, in storage order, and pages further', async () => {
    // Two hosts writing the same file name in the same seconds: only the anchor's host counts.
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      events.push({ '@timestamp': new Date(t0 + Math.floor(i / 4) * 1000).toISOString(), message: `ctx line ${i}`, host: i % 2 ? 'ctx-b' : 'ctx-a', source: '/var/log/app.log' });
    }
    events.push({ '@timestamp': new Date(t0 + 5000).toISOString(), message: 'ctx other file', host: 'ctx-a', source: '/var/log/other.log' });
    await ingestOk(base, events);
    const a = (await getJson(base, '/api/v1/search', { q: 'host:ctx-a AND source:"/var/log/app.log"', from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', order: 'asc', limit: 100 })).body.hits as { _id: string; message: string }[];
    assert.equal(a.length, 20);
    const anchor = a[10];
    const r = await getJson(base, '/api/v1/context', { id: anchor._id, before: 4, after: 3 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.anchor.message, anchor.message);
    assert.deepEqual(r.body.by, { host: 'ctx-a', source: '/var/log/app.log' });
    assert.deepEqual(r.body.before.map((h: { message: string }) => h.message), a.slice(6, 10).map((h) => h.message));
    assert.deepEqual(r.body.after.map((h: { message: string }) => h.message), a.slice(11, 14).map((h) => h.message));
    // Older again, from the first event shown: grep -B on the same file, further up.
    const more = await getJson(base, '/api/v1/context', { id: r.body.before[0]._id, before: 10, after: 0 });
    assert.deepEqual(more.body.before.map((h: { message: string }) => h.message), a.slice(0, 6).map((h) => h.message));
    assert.equal(more.body.after.length, 0);
    // Scoped by host only, the other file's line of that host joins.
    const byHost = await getJson(base, '/api/v1/context', { id: anchor._id, before: 40, after: 40, by: 'host' });
    assert.ok([...byHost.body.before, ...byHost.body.after].some((h: { message: string }) => h.message === 'ctx other file'));
    assert.ok([...byHost.body.before, ...byHost.body.after].every((h: { host: string }) => h.host === 'ctx-a'));
    const missing = await getJson(base, '/api/v1/context', { id: 'no-such-id' });
    assert.equal(missing.status, 404);
    const noId = await getJson(base, '/api/v1/context', {});
    assert.equal(noId.status, 400);
  });

  it('streams live tail: syslog lines from logger and API events matching the query, as they are stored, and not the others', async () => {
    const tail = openTail(base, 'syslog.appname:tailcheck OR tailapi');
    await tail.ready;
    // A failing check must still close the stream, or the server's close waits for it.
    try {
      await checkTail(tail);
    } finally {
      tail.stop();
    }
  });

  async function checkTail(tail: ReturnType<typeof openTail>): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const r = await run('logger', ['--tcp', '--server', '127.0.0.1', '--port', String(syslogPort), '-t', 'tailcheck', `tail line ${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    await run('logger', ['--tcp', '--server', '127.0.0.1', '--port', String(syslogPort), '-t', 'othertag', 'not for this tail']);
    await ingestOk(base, [{ message: 'from tailapi here' }, { message: 'something else' }]);
    await waitFor('6 tailed events', () => tail.hits.length >= 6, 20_000);
    await waitFor('a stats message', () => tail.stats.length > 0, 5_000);
    const messages = tail.hits.map((h) => h.message);
    assert.deepEqual(messages.slice(0, 5), [0, 1, 2, 3, 4].map((i) => `tail line ${i}`));
    assert.ok(messages.includes('from tailapi here'));
    assert.ok(!messages.includes('not for this tail') && !messages.includes('something else'));
    // A tailed hit is what a search returns for it: same id, same fields.
    const hit = tail.hits[0];
    const found = await getJson(base, '/api/v1/search', { q: `_id:"${String(hit._id)}"`, ...ALL });
    assert.equal(found.body.total, 1);
    assert.equal(found.body.hits[0].message, hit.message);
    assert.equal(found.body.hits[0]['syslog.appname'], 'tailcheck');
    const piped = await getJson(base, '/api/v1/tail', { q: '* | stats count()' });
    assert.equal(piped.status, 400);
  }

  it('logmill tail prints the matching events as lines', async () => {
    const child = spawn(BIN, ['tail', 'syslog.appname:clitail', '--server', base], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // Keep sending until the tail, once connected, has printed one.
      await waitFor('logmill tail to print a line', async () => {
        await run('logger', ['--tcp', '--server', '127.0.0.1', '--port', String(syslogPort), '-t', 'clitail', 'seen by the cli']);
        return out.includes('clitail: seen by the cli');
      }, 20_000);
    } finally {
      child.kill('SIGINT');
    }
    assert.match(out, /^\S+Z \S+ clitail: seen by the cli$/m);
  });

  it('keeps saved objects: create, list, update, delete; refuses bad ones and cross-site writes', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      getJson(base, '/api/v1/saved-objects', {}, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const created = await post({ type: 'dashboard', title: 'Web', attributes: { panels: [{ q: 'host:web' }] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const list = await getJson(base, '/api/v1/saved-objects', { type: 'dashboard' });
    assert.deepEqual(list.body.objects.map((o: { id: string }) => o.id), [id]);
    const put = await getJson(base, `/api/v1/saved-objects/${id}`, {}, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Web servers' }) });
    assert.equal(put.body.title, 'Web servers');
    assert.deepEqual(put.body.attributes, { panels: [{ q: 'host:web' }] });
    for (const [body, headers, status, pattern] of [
      [{ type: 'chart', title: 'x' }, {}, 400, /"type"/],
      [{ type: 'search', title: '' }, {}, 400, /"title"/],
      [{ type: 'search', title: 'x'.repeat(300) }, {}, 400, /title/],
      [{ type: 'search', title: 'x', attributes: [1] }, {}, 400, /attributes/],
      [{ type: 'search', title: 'x' }, { 'sec-fetch-site': 'cross-site' }, 403, /cross-site/],
      [{ type: 'search', title: 'x' }, { origin: 'http://evil.example' }, 403, /evil/],
    ] as const) {
      const r = await post(body, headers as Record<string, string>);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.error.message, pattern);
    }
    const form = await getJson(base, '/api/v1/saved-objects', {}, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"type":"search","title":"x"}' });
    assert.equal(form.status, 400);
    const del = await fetch(`${base}/api/v1/saved-objects/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await getJson(base, `/api/v1/saved-objects/${id}`)).status, 404);
  });

  it('validates a pipeline config with errors at their line and column, lists no pipelines, and says the DLQ is not available', async () => {
    const check = (text: string) => getJson(base, '/api/v1/pipelines/validate', {}, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
    const ok = await check('filter {\n  mutate { add_field => { "a" => "b" } }\n}\n');
    assert.deepEqual(ok.body, { ok: true, errors: [] });
    const syntax = await check('filter {\n  mutate {\n    add_field =>\n');
    assert.equal(syntax.body.ok, false);
    assert.equal(syntax.body.errors[0].line, 4);
    const pattern = await check('filter {\n  grok { match => { "message" => "%{NOPE:x}" } }\n}\n');
    assert.equal(pattern.body.ok, false);
    assert.equal(pattern.body.errors[0].line, 2);
    assert.match(pattern.body.errors[0].message, /NOPE/);
    const plugin = await check('filter {\n\n  nosuchfilter { }\n}\n');
    assert.equal(plugin.body.errors[0].line, 3);
    assert.deepEqual((await getJson(base, '/api/v1/pipelines')).body, { pipelines: [] });
    const dlq = await getJson(base, '/api/v1/dlq');
    assert.equal(dlq.status, 404);
    assert.equal(dlq.body.error.type, 'not_available');
  });

  it('stops a query whose requester went away', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      queryAbort.run(controller.signal, () => server.store.search({ query: parseQuery('*'), range: { fromMicros: 0, toMicros: Date.now() * 1000 }, limit: 10 })),
      QueryCancelled,
    );
    // And the same store answers the next query as usual.
    const r = await server.store.search({ query: parseQuery('*'), range: { fromMicros: 0, toMicros: Date.now() * 2000 }, limit: 1 });
    assert.equal(r.kind, 'hits');
  });
});

describe('saved objects across a restart, and the UI behind a token', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
  });
  after(() => removeDir(dir));

  it('keeps saved objects after the server restarts, and serves the page without the token but not the API', async () => {
    let child = await spawnServer(dir, ['--token', 's3cret'], 30_000, 's3cret');
    const auth = { authorization: 'Bearer s3cret', 'content-type': 'application/json' };
    try {
      const page = await fetch(`${child.url}/app/discover`);
      assert.equal(page.status, 200, 'the page loads without the token so that it can ask for it');
      assert.equal((await fetch(`${child.url}/api/v1/health`)).status, 401);
      assert.equal((await fetch(`${child.url}/api/v1/saved-objects`)).status, 401);
      const res = await fetch(`${child.url}/api/v1/saved-objects`, { method: 'POST', headers: auth, body: JSON.stringify({ type: 'search', title: 'errors', attributes: { q: 'level:error' } }) });
      assert.equal(res.status, 201);
    } finally {
      await stopChild(child, 'SIGKILL');
    }
    assert.ok(fs.existsSync(path.join(dir, 'saved-objects.json')));
    child = await spawnServer(dir, ['--token', 's3cret'], 30_000, 's3cret');
    try {
      const list = (await (await fetch(`${child.url}/api/v1/saved-objects?type=search`, { headers: auth })).json()) as { objects: { title: string; attributes: unknown }[] };
      assert.deepEqual(list.objects.map((o) => [o.title, o.attributes]), [['errors', { q: 'level:error' }]]);
    } finally {
      await stopChild(child);
    }
  });
});
