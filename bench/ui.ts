/**
 * npm run bench: the web UI's figures (issue 20), each beside a baseline measured in the same run.
 *
 * - Bundle: the UI's script and stylesheet gzipped, beside the 300 KB budget.
 * - Discover's first paint over the stored events: from navigation to the histogram and the first
 *   100 rows drawn in Debian's Chromium, beside the same two API requests (hits and histogram, in
 *   parallel) fetched by Node: the ratio is what the page adds to the server's answers.
 * - The page's JavaScript heap after scrolling through 10,000 events, beside the same page before
 *   any event is loaded (an empty range).
 *
 * The events are those bench/run.ts left in $BENCH_DIR/logmill-data (10M by default, `npm run bench`
 * runs it first); when that directory is missing, BENCH_UI_EVENTS (default 1,000,000) generated events
 * are loaded first. Not asserted anywhere: the machine is shared and noisy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { generate } from './generate.js';
import { freePort, waitHealthy } from './server.js';

const DIR = process.env.BENCH_DIR ?? '/tmp/logmill-bench';
const OWN_EVENTS = Number(process.env.BENCH_UI_EVENTS ?? 1_000_000);
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (m: string): void => void process.stderr.write(`[bench ui] ${m}\n`);

interface Row {
  what: string;
  logmill: string;
  baseline: string;
  ratio: string;
}
const rows: Row[] = [];

function bundleBytes(): { raw: number; gzip: number } {
  const dir = path.join('dist', 'ui', 'assets');
  let raw = 0;
  let gzip = 0;
  for (const f of fs.readdirSync(dir)) {
    if (!/\.(js|css)$/.test(f)) continue;
    const body = fs.readFileSync(path.join(dir, f));
    raw += body.length;
    gzip += zlib.gzipSync(body, { level: 9 }).length;
  }
  return { raw, gzip };
}

async function loadOwnEvents(url: string): Promise<void> {
  log(`no data from bench/run.ts in ${DIR}: loading ${fmt(OWN_EVENTS)} generated events`);
  const end = Date.now() - 60_000;
  let batch: string[] = [];
  const inFlight: Promise<void>[] = [];
  const send = async (body: string): Promise<void> => {
    const r = await fetch(`${url}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    if (!r.ok) throw new Error(`ingest: ${r.status}`);
    await r.arrayBuffer();
  };
  for (const g of generate(OWN_EVENTS, end - 6 * 3600_000, end)) {
    batch.push(g.json);
    if (batch.length === 5000) {
      inFlight.push(send(batch.join('\n') + '\n'));
      batch = [];
      if (inFlight.length >= 4) await inFlight.shift();
    }
  }
  if (batch.length) inFlight.push(send(batch.join('\n') + '\n'));
  await Promise.all(inFlight);
}

async function edges(url: string): Promise<{ from: string; to: string; total: number }> {
  const all = { from: '2000-01-01T00:00:00Z', to: 'now+1d', limit: '1' };
  const newest = (await (await fetch(`${url}/api/v1/search?${new URLSearchParams(all)}`)).json()) as { total: number; hits: { '@timestamp': string }[] };
  const oldest = (await (await fetch(`${url}/api/v1/search?${new URLSearchParams({ ...all, order: 'asc' })}`)).json()) as { hits: { '@timestamp': string }[] };
  const to = new Date(Date.parse(newest.hits[0]['@timestamp']) + 1000).toISOString();
  return { from: oldest.hits[0]['@timestamp'], to, total: newest.total };
}

/** The median of five runs after one to warm up. */
async function median(fn: () => Promise<number>): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < 5; i++) t.push(await fn());
  t.sort((a, b) => a - b);
  return t[2];
}

async function firstPaint(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="hit-row"]').length >= 100 && document.querySelector('[data-testid="histogram"] canvas') !== null, null, { timeout: 60_000 });
  return page.evaluate(() => performance.now());
}

async function heapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return usedSize / 1e6;
}

/** Private memory (clean + dirty, as Chrome's task manager counts a footprint) of Chromium's renderer processes, from /proc: what the page costs the machine beyond the shared binary. */
function rendererRssMB(): number {
  let kb = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium') || !cmd.includes('--type=renderer')) continue;
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      for (const m of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+)/gm)) kb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

async function main(): Promise<void> {
  const bundle = bundleBytes();
  rows.push({ what: 'UI bundle (js + css), gzipped KB', logmill: fmt(bundle.gzip / 1024, 1), baseline: '300 (budget)', ratio: (bundle.gzip / 1024 / 300).toFixed(2) });
  rows.push({ what: 'UI bundle, minified KB', logmill: fmt(bundle.raw / 1024, 1), baseline: '', ratio: '' });

  const reuse = path.join(DIR, 'logmill-data');
  const own = !fs.existsSync(reuse);
  const dataDir = own ? path.join(DIR, 'ui-data') : reuse;
  if (own) fs.rmSync(dataDir, { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, LOGMILL_ES: 'off', LOGMILL_SYSLOG: 'off', LOGMILL_SYSLOG_TLS: 'off', LOGMILL_BEATS: 'off', LOGMILL_GELF: 'off', LOGMILL_TCP: 'off' };
  const server: ChildProcess = spawn('./bin/logmill', ['server', '--data', dataDir, '--http', `127.0.0.1:${port}`, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    await waitHealthy(url);
    if (own) await loadOwnEvents(url);
    const range = await edges(url);
    log(`${fmt(range.total)} events from ${range.from} to ${range.to}`);
    const discover = `${url}/app/discover?${new URLSearchParams({ q: '*', from: range.from, to: range.to })}`;

    const api = await median(async () => {
      const t0 = performance.now();
      const q = { q: '*', from: range.from, to: range.to };
      await Promise.all([
        fetch(`${url}/api/v1/search?${new URLSearchParams({ ...q, limit: '100' })}`).then((r) => r.json()),
        fetch(`${url}/api/v1/histogram?${new URLSearchParams(q)}`).then((r) => r.json()),
      ]);
      return performance.now() - t0;
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const paint = await median(() => firstPaint(page, discover));
    rows.push({ what: `Discover first paint over ${fmt(range.total)} events (histogram + 100 rows), ms`, logmill: fmt(paint, 1), baseline: fmt(api, 1) + ' (the two API calls)', ratio: (paint / api).toFixed(2) });
    const word = await median(() => firstPaint(page, `${url}/app/discover?${new URLSearchParams({ q: 'GET', from: range.from, to: range.to })}`));
    rows.push({ what: 'Discover first paint, query "GET", ms', logmill: fmt(word, 1), baseline: '', ratio: '' });

    // Memory: an empty page, then 10,000 events scrolled through.
    await page.goto(`${url}/app/discover?${new URLSearchParams({ q: '*', from: '2001-01-01T00:00:00Z', to: '2001-01-02T00:00:00Z' })}`);
    await page.waitForTimeout(1000);
    const emptyHeap = await heapMB(page);
    const emptyRss = rendererRssMB();
    await firstPaint(page, discover);
    for (let i = 0; i < 2000; i++) {
      // The table is windowed: the rows loaded are on the table, not in the DOM.
      const n = await page.evaluate(() => Number(document.querySelector('[data-testid="hit-table"]')?.getAttribute('data-loaded') ?? 0));
      if (n >= 10_000) break;
      await page.mouse.wheel(0, 20_000);
      await page.evaluate(() => document.querySelector('[data-testid="load-more"]')?.scrollIntoView());
      await page.waitForTimeout(50);
    }
    const scrolled = await page.evaluate(() => Number(document.querySelector('[data-testid="hit-table"]')?.getAttribute('data-loaded') ?? 0));
    const heap = await heapMB(page);
    rows.push({ what: `page JS heap after scrolling ${fmt(scrolled)} events, MB`, logmill: fmt(heap, 1), baseline: fmt(emptyHeap, 1) + ' (empty page)', ratio: (heap / emptyHeap).toFixed(2) });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    await cdp.detach();
    const nodes = metrics.metrics.find((m) => m.name === 'Nodes')?.value ?? 0;
    rows.push({ what: 'DOM nodes after scrolling', logmill: fmt(nodes), baseline: '', ratio: '' });
    rows.push({ what: 'renderer private memory after scrolling, MB', logmill: fmt(rendererRssMB(), 1), baseline: fmt(emptyRss, 1) + ' (empty page)', ratio: (rendererRssMB() / emptyRss).toFixed(2) });
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  const header: Row = { what: 'measure', logmill: 'logmill', baseline: 'baseline', ratio: 'ratio' };
  const all = [header, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  for (const r of all) process.stdout.write(`${r.what.padEnd(w('what'))}  ${r.logmill.padStart(w('logmill'))}  ${r.baseline.padStart(w('baseline'))}  ${r.ratio.padStart(w('ratio'))}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
