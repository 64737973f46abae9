/**
 * npm run bench: issue 24's export figure. Every stored event read through the Elasticsearch-compatible
 * API's scroll (5,000 a page) and through a point in time + search_after (5,000 a page), each beside the
 * native API's oldest-first cursor over the same events in the same run, as documents/s and a ratio.
 * `from`/`size` paging is measured over what Elasticsearch allows of it (the first 10,000).
 *
 * The events are those bench/run.ts left in $BENCH_DIR/logmill-data (the server is started over that
 * directory, read only in effect); BENCH_EXPORT_MAX (default 200,000; `Infinity` for all) stops each export after that many.
 * An export that returns a document twice, or fewer documents than the count, is listed after the
 * table and makes the process exit with status 1. Timings are not asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitHealthy } from './server.js';

const DIR = process.env.BENCH_DIR ?? '/tmp/logmill-bench';
// Default 200,000: enough pages for a steady rate, in seconds; `Infinity` exports all 10M (minutes).
const MAX = Number(process.env.BENCH_EXPORT_MAX ?? 200_000);
const PAGE = 5_000;
const log = (m: string): void => void process.stderr.write(`[bench export] ${m}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const failures: string[] = [];

type Obj = Record<string, any>;

async function post(base: string, pathname: string, body?: unknown, method = 'POST'): Promise<Obj> {
  const res = await fetch(new URL(pathname, base), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Obj;
}

interface Run {
  docs: number;
  seconds: number;
}

/** Reads pages until `next` gives none or MAX is reached, counting ids (a duplicate is a failure). */
async function exportWith(what: string, first: () => Promise<Obj[]>, next: () => Promise<Obj[]>, expected: number): Promise<Run> {
  const started = process.hrtime.bigint();
  const seen = new Set<string>();
  let duplicates = 0;
  let page = await first();
  while (page.length > 0) {
    for (const h of page) {
      const id = String(h._id);
      if (seen.has(id)) duplicates++;
      else seen.add(id);
    }
    if (seen.size >= MAX) break;
    page = await next();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const want = Math.min(expected, MAX);
  if (duplicates > 0) failures.push(`${what}: ${duplicates} documents returned twice`);
  if (seen.size < want) failures.push(`${what}: ${fmt(seen.size)} documents, expected ${fmt(want)}`);
  log(`${what}: ${fmt(seen.size)} documents in ${seconds.toFixed(1)} s`);
  return { docs: seen.size, seconds };
}

async function main(): Promise<void> {
  const dataDir = path.join(DIR, 'logmill-data');
  if (!fs.existsSync(dataDir)) {
    log(`${dataDir} is missing: run node dist/bench/run.js first (npm run bench does)`);
    process.exit(1);
  }
  const [port, esPort] = [await freePort(), await freePort()];
  const server: ChildProcess = spawn(
    './bin/logmill',
    ['server', '--data', dataDir, '--http', `127.0.0.1:${port}`, '--es', `127.0.0.1:${esPort}`, '--log-level', 'warn'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const base = `http://127.0.0.1:${port}`;
  const es = `http://127.0.0.1:${esPort}`;
  try {
    await waitHealthy(base);
    const count = (await post(es, '/_count', {})).count as number;
    log(`${fmt(count)} stored events`);

    // Native: oldest first with the cursor the API gives.
    let cursor: string | null = null;
    const nativePage = async (): Promise<Obj[]> => {
      const q = new URLSearchParams({ q: '*', from: '1970-01-01T00:00:00Z', to: 'now+1d', order: 'asc', limit: String(PAGE) });
      if (cursor) q.set('cursor', cursor);
      const r = await post(base, `/api/v1/search?${q}`, undefined, 'GET');
      cursor = r.cursor as string | null;
      return r.hits as Obj[];
    };
    // The last page comes without a cursor.
    const native = await exportWith('native cursor', nativePage, async () => (cursor === null ? [] : nativePage()), count);

    let scrollId = '';
    const scroll = await exportWith(
      'scroll',
      async () => {
        const r = await post(es, `/_search?scroll=5m`, { size: PAGE, sort: ['_doc'] });
        scrollId = r._scroll_id as string;
        return r.hits.hits as Obj[];
      },
      async () => {
        const r = await post(es, '/_search/scroll', { scroll: '5m', scroll_id: scrollId });
        return r.hits.hits as Obj[];
      },
      count,
    );
    await post(es, '/_search/scroll', { scroll_id: scrollId }, 'DELETE').catch(() => undefined);

    let pitId = '';
    let after: unknown[] | undefined;
    const pitPage = async (): Promise<Obj[]> => {
      const r = await post(es, '/_search', { size: PAGE, pit: { id: pitId, keep_alive: '5m' }, sort: ['_shard_doc'], track_total_hits: false, ...(after ? { search_after: after } : {}) });
      const hits = r.hits.hits as Obj[];
      if (hits.length > 0) after = hits[hits.length - 1].sort as unknown[];
      return hits;
    };
    const pit = await exportWith(
      'pit + search_after',
      async () => {
        pitId = (await post(es, '/*/_pit?keep_alive=5m')).id as string;
        return pitPage();
      },
      pitPage,
      count,
    );
    await post(es, '/_pit', { id: pitId }, 'DELETE').catch(() => undefined);

    let from = 0;
    const fromSize = await exportWith(
      'from/size (first 10,000)',
      async () => (await post(es, '/_search', { size: PAGE, from: (from = 0), sort: ['_doc'] })).hits.hits as Obj[],
      async () => ((from += PAGE) >= 10_000 ? [] : ((await post(es, '/_search', { size: PAGE, from, sort: ['_doc'] })).hits.hits as Obj[])),
      Math.min(count, 10_000),
    );

    const rate = (r: Run): number => r.docs / r.seconds;
    const rows = [
      ['native cursor (baseline)', rate(native), 1],
      ['scroll, 5,000 a page', rate(scroll), rate(scroll) / rate(native)],
      ['pit + search_after, 5,000 a page', rate(pit), rate(pit) / rate(native)],
      ['from/size, first 10,000', rate(fromSize), rate(fromSize) / rate(native)],
    ] as const;
    console.log(`\nExport of ${fmt(Math.min(count, MAX))} stored events (issue 24 target: ≥ 200,000 documents/s)\n`);
    console.log('| export | documents/s | × native cursor |');
    console.log('|---|---:|---:|');
    for (const [what, r, ratio] of rows) console.log(`| ${what} | ${fmt(r)} | ${ratio.toFixed(2)} |`);
    if (failures.length > 0) {
      console.log('\nWrong answers:');
      for (const f of failures) console.log(`- ${f}`);
      process.exitCode = 1;
    }
  } finally {
    server.kill('SIGTERM');
  }
}

void main();
