/**
 * The query language end to end: a known set of 50 events over the last
 * hour, and exact answers for filters, pipes, paging, time ranges,
 * histograms and field values.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiGet,
  ingestOk,
  removeDir,
  startTestServer,
  type Hits,
  type Table,
  type TestServer,
} from '../helpers/server.js';

interface Ev {
  i: number;
  ts: number; // ms
  host: string;
  status: number;
  bytes: number;
  duration: number;
  path: string;
  method: string;
  level: string;
  message: string;
  user?: string;
}

const N = 50;
const GAP_MS = 72_000;
const HOSTS = ['web-1', 'web-2', 'web-3', 'db-1', 'webcache'];
const STATUSES = [200, 404, 500, 200, 503, 301, 200];
const SPECIAL: Record<number, string> = {
  3: 'upstream connection refused by db-1',
  10: 'Connection REFUSED while proxying',
  17: 'refusedx is not a word we match',
  20: 'connection reset by peer',
  33: 'refused connection attempt',
  41: 'prefix-refused-suffix',
};

/**
 * Event i is (i * 72 s + 36 s) old at `now0`: every multiple of 72 s (12 m, 24 m, 30 m, 60 m…)
 * falls half-way between two events, so relative ranges stay exact even if the test runs slowly.
 */
function dataset(now0: number): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < N; i++) {
    const status = STATUSES[i % STATUSES.length];
    const r = (i * 7) % N;
    const path = r < 22 ? '/api/users' : r < 36 ? '/api/orders' : r < 44 ? '/login' : '/static/app.js';
    const method = i % 3 === 0 ? 'POST' : 'GET';
    const ev: Ev = {
      i,
      ts: now0 - (i * GAP_MS + GAP_MS / 2),
      host: HOSTS[i % HOSTS.length],
      status,
      bytes: ((i * 137) % 2000) + 10,
      duration: (i % 9) * 12.5 + 0.5,
      path,
      method,
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      message: SPECIAL[i] ?? `${method} ${path} status=${status}`,
    };
    if (i % 6 === 0) ev.user = 'alice';
    out.push(ev);
  }
  return out;
}

describe('queries over a known data set', () => {
  let s: TestServer;
  let now0: number;
  let evs: Ev[];
  const iso = (ms: number) => new Date(ms).toISOString();
  /** Wide default range (the data is within the last hour). */
  const R = { from: 'now-2h', to: 'now' };

  const get = (path: string, params: Record<string, string | number | undefined>) => apiGet(s.url, path, params);
  const hits = async (q: string, params: Record<string, string | number | undefined> = {}): Promise<Hits> => {
    const r = await get('/api/v1/search', { q, ...R, limit: 1000, ...params });
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.ok(Array.isArray(r.body.hits), `${q} answers hits`);
    return r.body as Hits;
  };
  const tbl = async (q: string, params: Record<string, string | number | undefined> = {}): Promise<Table> => {
    const r = await get('/api/v1/search', { q, ...R, ...params });
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.ok(Array.isArray(r.body.columns), `${q} answers a table: ${JSON.stringify(r.body).slice(0, 200)}`);
    return r.body as Table;
  };
  /** The event numbers a query finds, sorted. */
  const found = async (q: string, params: Record<string, string | number | undefined> = {}): Promise<number[]> => {
    const h = await hits(q, params);
    assert.equal(h.total, h.hits.length, `${q}: total matches the hits`);
    return h.hits.map((x) => x.i as number).sort((a, b) => a - b);
  };
  const where = (pred: (e: Ev) => boolean): number[] => evs.filter(pred).map((e) => e.i);
  const check = async (q: string, pred: (e: Ev) => boolean): Promise<void> => {
    const want = where(pred);
    assert.ok(want.length > 0 && want.length < N || q === '*', `the case for ${q} is not trivial`);
    assert.deepEqual(await found(q), want, q);
  };

  before(async () => {
    s = await startTestServer();
    now0 = Date.now();
    evs = dataset(now0);
    // Sent in a shuffled order over several requests: ordering must come from the timestamps.
    const shuffled = [...evs].sort((a, b) => ((a.i * 31) % N) - ((b.i * 31) % N));
    for (let k = 0; k < shuffled.length; k += 13) {
      await ingestOk(
        s.url,
        shuffled.slice(k, k + 13).map(({ ts, ...rest }) => ({ '@timestamp': iso(ts), ...rest })),
      );
    }
    // An event outside every range used below (two days old).
    await ingestOk(s.url, [{ '@timestamp': iso(now0 - 2 * 86_400_000), message: 'ancient connection refused', host: 'web-1', i: -1 }]);
  });
  after(async () => {
    await s.close();
    removeDir(s.dir);
  });

  it('* finds every event in the range, newest first', async () => {
    const h = await hits('*');
    assert.equal(h.total, N);
    assert.deepEqual(
      h.hits.map((x) => x.i),
      evs.map((e) => e.i), // event 0 is the newest
    );
    for (const x of h.hits) {
      const e = evs[x.i as number];
      assert.equal(x['@timestamp'], iso(e.ts));
      assert.equal(x.host, e.host);
      assert.equal(x.status, e.status);
      assert.equal(x.bytes, e.bytes);
      assert.equal(x.duration, e.duration);
      assert.equal(x.message, e.message);
    }
    assert.deepEqual(await found(''), evs.map((e) => e.i).sort((a, b) => a - b), 'an empty query is *');
  });

  it('bare words match whole words, case-insensitively', async () => {
    const words = (e: Ev) => e.message.toLowerCase().split(/[^a-z0-9_]+/);
    await check('refused', (e) => words(e).includes('refused'));
    assert.deepEqual(await found('refused'), [3, 10, 33, 41]);
    assert.deepEqual(await found('REFUSED'), [3, 10, 33, 41]);
    assert.deepEqual(await found('refusedx'), [17]);
    assert.deepEqual(await found('refuse'), []);
    await check('connection', (e) => words(e).includes('connection'));
    assert.deepEqual(await found('connection refused'), [3, 10, 33], 'juxtaposed words: both, anywhere');
    assert.deepEqual(await found('peer'), [20]);
    // A bare word looks in every string field: `users` is a word of the path too.
    assert.deepEqual(await found('users'), where((e) => e.message.includes('/api/users') || e.path === '/api/users'));
    assert.deepEqual(await found('alice'), where((e) => e.user === 'alice'));
  });

  it('quoted phrases match the words in order', async () => {
    assert.deepEqual(await found('"connection refused"'), [3, 10]);
    assert.deepEqual(await found('"CONNECTION refused"'), [3, 10]);
    assert.deepEqual(await found('"refused connection"'), [33]);
    assert.deepEqual(await found('"reset by peer"'), [20]);
    assert.deepEqual(await found('"by peer reset"'), []);
    assert.deepEqual(await found('message:"connection refused"'), [3, 10]);
  });

  it('wildcards in full text and in fields', async () => {
    assert.deepEqual(await found('refuse*'), [3, 10, 17, 33, 41]);
    assert.deepEqual(await found('conn*tion'), [3, 10, 20, 33]);
    await check('host:web-*', (e) => e.host.startsWith('web-'));
    await check('host:web-?', (e) => /^web-.$/.test(e.host));
    await check('host:web*', (e) => e.host.startsWith('web'));
    await check('host:*1', (e) => e.host.endsWith('1'));
    await check('path:/api/*', (e) => e.path.startsWith('/api/'));
    await check('host:WEB-*', (e) => e.host.startsWith('web-'));
  });

  it('field:value matches words of a string field case-insensitively, field.keyword the whole value exactly', async () => {
    await check('host:web-1', (e) => e.host === 'web-1');
    await check('host:WEB-1', (e) => e.host === 'web-1');
    await check('host:"db-1"', (e) => e.host === 'db-1');
    // A word of the value, as in an Elasticsearch text field: web-1, web-2… but not db-1.
    await check('host:web', (e) => e.host.startsWith('web-'));
    await check('path:api', (e) => /(^|[^0-9A-Za-z_])api([^0-9A-Za-z_]|$)/i.test(e.path));
    await check('host.keyword:web-1', (e) => e.host === 'web-1');
    assert.deepEqual(await found('host.keyword:web'), [], 'the keyword is the whole value');
    assert.deepEqual(await found('host.keyword:WEB-1'), [], 'the keyword is case-sensitive');
    await check('status:404', (e) => e.status === 404);
    await check('level:error', (e) => e.level === 'error');
    await check('method:post', (e) => e.method === 'POST');
    await check('path:/login', (e) => e.path === '/login');
    await check('duration:25.5', (e) => e.duration === 25.5);
    assert.deepEqual(await found('status:abc'), []);
    assert.deepEqual(await found('nosuchfield:x'), []);
  });

  it('ranges on numbers and on time', async () => {
    await check('bytes:>1000', (e) => e.bytes > 1000);
    await check('bytes:>=1654', (e) => e.bytes >= 1654);
    await check('bytes:<100', (e) => e.bytes < 100);
    await check('bytes:<=147', (e) => e.bytes <= 147);
    await check('status:[500 TO 599]', (e) => e.status >= 500 && e.status <= 599);
    await check('status:{500 TO 503]', (e) => e.status > 500 && e.status <= 503);
    await check('status:[200 TO 500}', (e) => e.status >= 200 && e.status < 500);
    await check('bytes:[* TO 500]', (e) => e.bytes <= 500);
    await check('bytes:[1500 TO *]', (e) => e.bytes >= 1500);
    await check('duration:[10.5 TO 50.5]', (e) => e.duration >= 10.5 && e.duration <= 50.5);
    await check('@timestamp:>now-30m', (e) => e.ts > now0 - 30 * 60_000);
    await check('@timestamp:<now-30m', (e) => e.ts < now0 - 30 * 60_000);
    await check('@timestamp:[now-36m TO now-12m]', (e) => e.ts >= now0 - 36 * 60_000 && e.ts <= now0 - 12 * 60_000);
    const mid = evs[20].ts;
    await check(`@timestamp:>=${JSON.stringify(iso(mid))}`, (e) => e.ts >= mid);
    await check(`@timestamp:<${iso(mid)}`, (e) => e.ts < mid);
  });

  it('AND, OR, NOT, -, and precedence', async () => {
    await check('host:web-1 AND status:200', (e) => e.host === 'web-1' && e.status === 200);
    await check('host:web-1 && status:200', (e) => e.host === 'web-1' && e.status === 200);
    await check('host:web-1 status:200', (e) => e.host === 'web-1' && e.status === 200);
    await check('host:web-1 OR host:db-1', (e) => e.host === 'web-1' || e.host === 'db-1');
    await check('host:web-1 || host:db-1', (e) => e.host === 'web-1' || e.host === 'db-1');
    await check('NOT host:web-1', (e) => e.host !== 'web-1');
    await check('-host:web-1', (e) => e.host !== 'web-1');
    await check('!host:web-1', (e) => e.host !== 'web-1');
    await check('status:500 -host:db-1', (e) => e.status === 500 && e.host !== 'db-1');
    // AND binds tighter than OR.
    await check('status:500 OR status:503 AND host:db-1', (e) => e.status === 500 || (e.status === 503 && e.host === 'db-1'));
    await check('host:db-1 AND status:503 OR status:500', (e) => (e.status === 503 && e.host === 'db-1') || e.status === 500);
    await check('NOT user:alice', (e) => e.user !== 'alice');
    await check('refused NOT connection', (e) => [41].includes(e.i));
  });

  it('parentheses and field groups', async () => {
    await check('(host:web-1 OR host:db-1) AND status:200', (e) => (e.host === 'web-1' || e.host === 'db-1') && e.status === 200);
    await check('host:(web-1 OR db-1)', (e) => e.host === 'web-1' || e.host === 'db-1');
    await check('NOT (status:200 OR status:404)', (e) => e.status !== 200 && e.status !== 404);
    await check('((((host:web-2))))', (e) => e.host === 'web-2');
    await check('status:(>=500)', (e) => e.status >= 500);
    await check('(refused OR reset) AND -host:web-1', (e) => [3, 10, 20, 33, 41].includes(e.i) && e.host !== 'web-1');
  });

  it('_exists_:field', async () => {
    await check('_exists_:user', (e) => e.user !== undefined);
    await check('NOT _exists_:user', (e) => e.user === undefined);
    await check('user:*', (e) => e.user !== undefined);
    assert.deepEqual(await found('_exists_:nosuchfield'), []);
    assert.equal((await found('_exists_:host')).length, N);
  });

  it('| stats count() by host', async () => {
    const t = await tbl('* | stats count() by host');
    assert.deepEqual(t.columns, ['host', 'count']);
    const want = new Map<string, number>();
    for (const e of evs) want.set(e.host, (want.get(e.host) ?? 0) + 1);
    assert.deepEqual(
      [...t.rows].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [...want].sort((a, b) => a[0].localeCompare(b[0])),
    );
    const filtered = await tbl('status:200 | stats count() by host');
    const want200 = new Map<string, number>();
    for (const e of evs) if (e.status === 200) want200.set(e.host, (want200.get(e.host) ?? 0) + 1);
    assert.deepEqual(
      [...filtered.rows].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [...want200].sort((a, b) => a[0].localeCompare(b[0])),
    );
    const total = await tbl('* | stats count()');
    assert.deepEqual(total, { columns: ['count'], rows: [[N]], truncated: false });
  });

  it('| stats avg(duration), p95(duration) by path', async () => {
    const t = await tbl('* | stats avg(duration), p95(duration) by path');
    assert.deepEqual(t.columns, ['path', 'avg(duration)', 'p95(duration)']);
    const byPath = new Map<string, number[]>();
    for (const e of evs) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e.duration]);
    assert.equal(t.rows.length, byPath.size);
    for (const [path, avg, p95] of t.rows) {
      const xs = (byPath.get(String(path)) ?? []).sort((a, b) => a - b);
      assert.ok(xs.length > 0, `unexpected path ${String(path)}`);
      const wantAvg = xs.reduce((a, b) => a + b, 0) / xs.length;
      const pos = (xs.length - 1) * 0.95;
      const lo = Math.floor(pos);
      const wantP95 = xs[lo] + (xs[Math.min(lo + 1, xs.length - 1)] - xs[lo]) * (pos - lo);
      assert.ok(Math.abs((avg as number) - wantAvg) < 1e-9, `avg for ${String(path)}: ${String(avg)} vs ${wantAvg}`);
      assert.ok(Math.abs((p95 as number) - wantP95) < 1e-9, `p95 for ${String(path)}: ${String(p95)} vs ${wantP95}`);
    }
  });

  it('| stats with several aggregations, names and sort/head', async () => {
    const t = await tbl('* | stats count() as n, sum(bytes), min(bytes), max(bytes), count_distinct(host) by level | sort level');
    assert.deepEqual(t.columns, ['level', 'n', 'sum(bytes)', 'min(bytes)', 'max(bytes)', 'count_distinct(host)']);
    const levels = [...new Set(evs.map((e) => e.level))].sort();
    assert.deepEqual(
      t.rows,
      levels.map((l) => {
        const xs = evs.filter((e) => e.level === l);
        return [
          l,
          xs.length,
          xs.reduce((a, e) => a + e.bytes, 0),
          Math.min(...xs.map((e) => e.bytes)),
          Math.max(...xs.map((e) => e.bytes)),
          new Set(xs.map((e) => e.host)).size,
        ];
      }),
    );
    const top2 = await tbl('* | stats count() by path | sort -count | head 2');
    assert.deepEqual(top2.rows, [
      ['/api/users', 22],
      ['/api/orders', 14],
    ]);
  });

  it('| fields a, b', async () => {
    const t = await tbl('host:web-1 | fields host, bytes');
    assert.deepEqual(t.columns, ['host', 'bytes']);
    assert.deepEqual(
      [...t.rows].sort((a, b) => (a[1] as number) - (b[1] as number)),
      evs.filter((e) => e.host === 'web-1').map((e) => ['web-1', e.bytes]).sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
    const missing = await tbl('host:web-1 | fields host, nosuchfield');
    assert.deepEqual(missing.columns, ['host', 'nosuchfield']);
    assert.ok(missing.rows.every((r) => r[0] === 'web-1' && r[1] === null));
  });

  it('| sort -bytes', async () => {
    const wantDesc = evs.map((e) => e.bytes).sort((a, b) => b - a);
    const t = await tbl('* | fields i, bytes | sort -bytes');
    assert.deepEqual(t.columns, ['i', 'bytes']);
    assert.deepEqual(t.rows.map((r) => r[1]), wantDesc);
    const asc = await tbl('* | fields i, bytes | sort bytes');
    assert.deepEqual(asc.rows.map((r) => r[1]), [...wantDesc].reverse());
    const byTwo = await tbl('* | fields host, bytes | sort host, -bytes');
    const want = evs
      .map((e) => [e.host, e.bytes] as [string, number])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : b[1] - a[1]));
    assert.deepEqual(byTwo.rows, want);
  });

  it('| head N', async () => {
    const t = await tbl('* | fields i | head 7');
    assert.equal(t.rows.length, 7);
    assert.equal(new Set(t.rows.map((r) => r[0])).size, 7);
    const zero = await tbl('* | fields i | head 0');
    assert.deepEqual(zero.rows, []);
    const sorted = await tbl('* | fields i, bytes | sort -bytes | head 3');
    assert.deepEqual(sorted.rows.map((r) => r[1]), evs.map((e) => e.bytes).sort((a, b) => b - a).slice(0, 3));
    const all = await tbl('* | fields i | head 1000');
    assert.equal(all.rows.length, N);
  });

  it('| sort and | head straight after the filter, on the events themselves', async () => {
    /** The values of `field` in a table or hits answer, in order. */
    const column = (body: any, field: string): unknown[] =>
      body.columns ? body.rows.map((r: unknown[]) => r[body.columns.indexOf(field)]) : body.hits.map((h: Record<string, unknown>) => h[field]);
    const sorted = await get('/api/v1/search', { q: '* | sort -bytes', ...R });
    assert.equal(sorted.status, 200, `* | sort -bytes: ${JSON.stringify(sorted.body).slice(0, 300)}`);
    assert.deepEqual(column(sorted.body, 'bytes'), evs.map((e) => e.bytes).sort((a, b) => b - a));
    const head = await get('/api/v1/search', { q: 'host:web-2 | head 3', ...R });
    assert.equal(head.status, 200, `host:web-2 | head 3: ${JSON.stringify(head.body).slice(0, 300)}`);
    const hosts = column(head.body, 'host');
    assert.deepEqual(hosts, ['web-2', 'web-2', 'web-2']);
  });

  it('| top 3 path', async () => {
    const t = await tbl('* | top 3 path');
    assert.deepEqual(t, {
      columns: ['path', 'count'],
      rows: [
        ['/api/users', 22],
        ['/api/orders', 14],
        ['/login', 8],
      ],
      truncated: false,
    });
    const deflt = await tbl('* | top path');
    assert.equal(deflt.rows.length, 4);
    const filtered = await tbl('method:GET | top 1 path');
    const counts = new Map<string, number>();
    for (const e of evs) if (e.method === 'GET') counts.set(e.path, (counts.get(e.path) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1])[0];
    assert.deepEqual(filtered.rows, [best]);
  });

  it('pages through all hits with cursor, newest first, with no duplicates or gaps', async () => {
    for (const limit of [7, 10, 50, 1]) {
      const ids: string[] = [];
      const order: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const h = await hits('*', { limit, cursor });
        assert.equal(h.total, N, 'total stays the whole count on every page');
        assert.ok(h.hits.length <= limit);
        for (const x of h.hits) {
          ids.push(x._id);
          order.push(x.i as number);
        }
        pages++;
        assert.ok(pages <= N + 2, 'paging ends');
        if (!h.cursor) break;
        cursor = h.cursor;
      }
      assert.equal(new Set(ids).size, ids.length, `limit ${limit}: no duplicates`);
      assert.deepEqual(order, evs.map((e) => e.i), `limit ${limit}: every event once, newest first`);
    }
    // With a filter.
    const want = where((e) => e.status === 200);
    const got: number[] = [];
    let cursor: string | undefined;
    do {
      const h = await hits('status:200', { limit: 4, cursor });
      got.push(...h.hits.map((x) => x.i as number));
      cursor = h.cursor ?? undefined;
    } while (cursor);
    assert.deepEqual(got, want);
  });

  it('refuses a forged cursor with 400', async () => {
    for (const cursor of ['garbage', Buffer.from('[1,2]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      const r = await get('/api/v1/search', { q: '*', ...R, cursor });
      assert.equal(r.status, 400, `cursor ${cursor}`);
    }
  });

  it('from/to as ISO-8601, epoch milliseconds and relative times', async () => {
    // Inclusive at both ends when they hit an event exactly.
    const from = evs[20].ts;
    const to = evs[10].ts;
    const want = where((e) => e.ts >= from && e.ts <= to);
    assert.equal(want.length, 11);
    assert.deepEqual(await found('*', { from: iso(from), to: iso(to) }), want);
    assert.deepEqual(await found('*', { from: String(from), to: String(to) }), want);
    // Relative: every multiple of 72 s is half-way between events.
    assert.deepEqual(
      await found('*', { from: 'now-24m', to: 'now-12m' }),
      where((e) => e.ts > now0 - 24 * 60_000 && e.ts < now0 - 12 * 60_000),
    );
    assert.deepEqual(await found('*', { from: 'now-30m', to: 'now' }), where((e) => e.ts > now0 - 30 * 60_000));
    assert.deepEqual(await found('refused', { from: 'now-3d', to: 'now' }), [-1, 3, 10, 33, 41], 'a wider range reaches the old event');
    // The default range is the last 15 minutes.
    const dflt = await apiGet(s.url, '/api/v1/search', { q: '*' });
    assert.equal(dflt.status, 200);
    assert.deepEqual(
      (dflt.body as Hits).hits.map((x) => x.i).sort((a, b) => (a as number) - (b as number)),
      where((e) => now0 - e.ts < 15 * 60_000),
    );
  });

  it('answers 400 for a bad from/to', async () => {
    for (const params of [{ from: 'yesterday' }, { to: 'later' }, { from: 'now', to: 'now-1h' }, { from: 'now-1x' }]) {
      const r = await get('/api/v1/search', { q: '*', ...params });
      assert.equal(r.status, 400, JSON.stringify(params));
      assert.equal(typeof r.body.error.message, 'string');
    }
  });

  it('answers 400 naming a parameter given twice, on every route', async () => {
    for (const pathname of ['/api/v1/search?q=a&q=b', '/api/v1/histogram?from=now-1h&from=now-2h']) {
      const r = await fetch(new URL(pathname, s.url));
      const body = (await r.json()) as { error: { message: string } };
      assert.equal(r.status, 400, pathname);
      assert.match(body.error.message, /given more than once/, pathname);
    }
  });

  const histogram = async (params: Record<string, string | number | undefined>) => {
    const r = await get('/api/v1/histogram', params);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    return r.body as { interval: string; intervalMs: number; buckets: { time: string; count: number }[] };
  };

  it('histogram: 50–100 buckets by default over 15m, 1h and 24h, counts summing to the total', async () => {
    for (const [span, q] of [
      [15 * 60_000, '*'],
      [60 * 60_000, '*'],
      [24 * 3_600_000, '*'],
      [60 * 60_000, 'refused OR status:500'],
      [24 * 3_600_000, 'host:web-*'],
    ] as [number, string][]) {
      const from = now0 - span;
      const to = now0;
      const h = await histogram({ q, from: iso(from), to: iso(to) });
      assert.ok(h.buckets.length >= 50 && h.buckets.length <= 100, `${span / 60_000} min: ${h.buckets.length} buckets`);
      const total = (await hits(q, { from: iso(from), to: iso(to) })).total;
      assert.ok(total > 0);
      assert.equal(
        h.buckets.reduce((a, b) => a + b.count, 0),
        total,
        `${q} over ${span / 60_000} min: buckets sum to the total`,
      );
      // Buckets are in order, evenly spaced, and each holds exactly the events of its interval.
      const starts = h.buckets.map((b) => Date.parse(b.time));
      for (let k = 1; k < starts.length; k++) assert.equal(starts[k] - starts[k - 1], h.intervalMs);
      assert.ok(starts[0] <= from && starts[0] + h.intervalMs > from, 'the first bucket holds from');
      const matching = new Set((await hits(q, { from: iso(from), to: iso(to) })).hits.map((x) => x._id));
      const allHits = (await hits(q, { from: iso(from), to: iso(to) })).hits.filter((x) => matching.has(x._id));
      for (const [k, b] of h.buckets.entries()) {
        const want = allHits.filter((x) => {
          const t = Date.parse(x['@timestamp']);
          return t >= starts[k] && t < starts[k] + h.intervalMs;
        }).length;
        assert.equal(b.count, want, `bucket ${b.time}`);
      }
    }
    const relative = await histogram({ from: 'now-1h' });
    assert.ok(relative.buckets.length >= 50 && relative.buckets.length <= 100);
    assert.equal(relative.buckets.reduce((a, b) => a + b.count, 0), N);
  });

  it('histogram with an explicit interval, and its errors', async () => {
    const h = await histogram({ from: iso(now0 - 3_600_000), to: iso(now0), interval: '10m' });
    assert.equal(h.intervalMs, 600_000);
    assert.ok(h.buckets.length === 6 || h.buckets.length === 7);
    assert.equal(h.buckets.reduce((a, b) => a + b.count, 0), N);
    for (const params of [{ interval: 'soon' }, { interval: '0s' }, { q: '* | stats count()' }, { q: 'a:(' }, { interval: '1ms', from: 'now-24h' }]) {
      const r = await get('/api/v1/histogram', params);
      assert.equal(r.status, 400, JSON.stringify(params));
    }
  });

  it('fields endpoint: the field list and top values with counts', async () => {
    const r = await get('/api/v1/fields', R);
    assert.equal(r.status, 200);
    const list = r.body.fields as { name: string; type: string }[];
    const typeOf = (n: string) => list.find((f) => f.name === n)?.type;
    assert.equal(typeOf('host'), 'string');
    assert.equal(typeOf('status'), 'integer');
    assert.equal(typeOf('bytes'), 'integer');
    assert.equal(typeOf('duration'), 'float');
    assert.equal(typeOf('path'), 'string');
    assert.equal(typeOf('user'), 'string');
    assert.equal(typeOf('@timestamp'), 'timestamp');

    const top = await get('/api/v1/fields', { ...R, field: 'path' });
    assert.equal(top.status, 200);
    assert.equal(top.body.field, 'path');
    assert.equal(top.body.type, 'string');
    assert.deepEqual(top.body.values, [
      { value: '/api/users', count: 22 },
      { value: '/api/orders', count: 14 },
      { value: '/login', count: 8 },
      { value: '/static/app.js', count: 6 },
    ]);
    const two = await get('/api/v1/fields', { ...R, field: 'path', size: 2 });
    assert.deepEqual(two.body.values.map((v: { value: string }) => v.value), ['/api/users', '/api/orders']);

    const status = await get('/api/v1/fields', { ...R, field: 'status', q: 'host:web-1' });
    const want = new Map<number, number>();
    for (const e of evs) if (e.host === 'web-1') want.set(e.status, (want.get(e.status) ?? 0) + 1);
    assert.deepEqual(
      [...status.body.values].sort((a: { value: number }, b: { value: number }) => a.value - b.value),
      [...want].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count })),
    );
    const sum = (status.body.values as { count: number }[]).reduce((a, b) => a + b.count, 0);
    assert.equal(sum, where((e) => e.host === 'web-1').length);

    const unknown = await get('/api/v1/fields', { ...R, field: 'nosuchfield' });
    assert.equal(unknown.status, 400);
  });

  it('a syntax error answers 400 with error.position and error.expected', async () => {
    const cases: [string, number][] = [
      ['host:web-1 AND', 14],
      ['(host:web-1 OR host:db-1', 24],
      ['status:[500 TO', 14],
      ['* | bogus', 4],
      ['host:web-1)', 10],
      ['status:', 7],
      ['"unterminated', 0],
      ['* | stats avg() by host', 14],
      ['* | head -1', 9],
    ];
    for (const [q, position] of cases) {
      const r = await get('/api/v1/search', { q, ...R });
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.type, 'query_syntax', q);
      assert.equal(r.body.error.position, position, `${q}: ${r.body.error.message}`);
      assert.ok(Array.isArray(r.body.error.expected) && r.body.error.expected.length > 0, `${q}: expected ${JSON.stringify(r.body.error.expected)}`);
      assert.match(r.body.error.message, new RegExp(`position ${position}`), q);
    }
  });
});

describe('paging through events with equal timestamps', () => {
  it('visits every event exactly once', async () => {
    const s = await startTestServer();
    try {
      const t = new Date(Date.now() - 60_000).toISOString();
      // Two requests, and a second day, so that ties span write batches and partitions.
      await ingestOk(s.url, Array.from({ length: 20 }, (_, k) => ({ '@timestamp': t, message: 'tie', k })));
      await ingestOk(s.url, Array.from({ length: 17 }, (_, k) => ({ '@timestamp': t, message: 'tie', k: 20 + k })));
      const yesterday = new Date(Date.now() - 86_400_000).toISOString();
      await ingestOk(s.url, Array.from({ length: 9 }, (_, k) => ({ '@timestamp': yesterday, message: 'tie', k: 100 + k })));
      for (const limit of [1, 3, 4, 37, 46]) {
        const seen: number[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const r = await apiGet<Hits>(s.url, '/api/v1/search', { q: 'tie', from: 'now-2d', to: 'now', limit, cursor });
          assert.equal(r.status, 200);
          assert.equal(r.body.total, 46);
          seen.push(...r.body.hits.map((h) => h.k as number));
          if (!r.body.cursor) break;
          cursor = r.body.cursor;
        }
        assert.equal(seen.length, 46, `limit ${limit}`);
        assert.equal(new Set(seen).size, 46, `limit ${limit}: no duplicates`);
        assert.deepEqual(seen.slice(37).sort((a, b) => a - b), Array.from({ length: 9 }, (_, k) => 100 + k), 'older day last');
      }
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});
