/**
 * npm run bench: issue 22's search figures, each beside `grep` over the same raw lines in the same run.
 *
 * - Needles (1 hit): a client address as a phrase, `request_id:<id>` and the same id bare, a rare word.
 * - A common phrase (`"Failed password"`, ~3 % of events): the newest 100 hits with a bounded total, and
 *   its histogram over the whole range; `sshd | stats count() by host`; `Firefox AND host:web-3`.
 * - Everything (`*`): the newest 100, the histogram, `stats count() by host`.
 * - The index's size on disk (`.bloom` and `.idx` files) beside the data directory's.
 *
 * Each query is asked of the native API warm (one warm-up, then the median of 5) and its answer checked;
 * each `LC_ALL=C grep -c` is run 5 times too (median), its output written to a file, since GNU grep stops
 * at the first match when its output is /dev/null. Shapes grep cannot answer (fields that are not in the
 * raw lines, `*`) are put beside the issue's target instead.
 *
 * The events are those bench/run.ts left in $BENCH_DIR/logmill-data, with its raw lines
 * (`raw-$BENCH_EVENTS-v2.log`); when that directory is missing, BENCH_SEARCH_EVENTS (default 1,000,000)
 * generated events, planted the same way, are loaded into $BENCH_DIR/search-data first. Wrong answers are
 * listed after the table and make the process exit with status 1; the timings are not asserted (the
 * machine is shared and noisy).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from './generate.js';
import { dataFiles, NEEDLE, PLANTED_ADDRESS, PLANTED_REQUEST_ID, Planter } from './needles.js';
import { freePort, waitHealthy } from './server.js';

const DIR = process.env.BENCH_DIR ?? '/tmp/logmill-bench';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const OWN_EVENTS = Number(process.env.BENCH_SEARCH_EVENTS ?? 1_000_000);
const RANGE = { from: 'now-2d', to: 'now' };
const PHRASE = 'Failed password';
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (m: string): void => void process.stderr.write(`[bench search] ${m}\n`);

interface Row {
  what: string;
  logmill: string;
  baseline: string;
  ratio: string;
}
const rows: Row[] = [];
/** Wrong answers, one line each: printed after the table. */
const failures: string[] = [];
/** How each search reported its total (a number, or `{value, relation}`). */
const notes: string[] = [];

/** A search's total: `{value, relation}` from the native API's `total` and `total_relation`. */
type Total = number | { value: number; relation: string };
type Hit = Record<string, unknown> & { '@timestamp': string };
interface HitsAnswer {
  total: Total;
  hits: Hit[];
}
interface TableAnswer {
  columns: string[];
  rows: unknown[][];
}
interface HistogramAnswer {
  buckets: { time: string; count: number }[];
}

function totalValue(t: Total): number {
  return typeof t === 'number' ? t : t.value;
}
function totalForm(t: Total): string {
  return typeof t === 'number' ? `a number (${fmt(t)})` : `{value: ${fmt(t.value)}, relation: "${t.relation}"}`;
}

/**
 * Waits (up to two minutes) until the data dir stops changing: a server opening a data dir may still be
 * compacting or building index files, which would both share the cores with the queries and leave the
 * index's size on disk short.
 */
async function settle(url: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 120; i++) {
    const h = (await (await fetch(`${url}/api/v1/health`)).json()) as { bytesOnDisk: number };
    if (h.bytesOnDisk === last) return;
    last = h.bytesOnDisk;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log('the data dir was still changing after two minutes; measuring anyway');
}

async function api<T>(url: string, route: 'search' | 'histogram', params: Record<string, string>): Promise<T> {
  const r = await fetch(`${url}/api/v1/${route}?${new URLSearchParams({ ...params, ...RANGE })}`);
  if (!r.ok) throw new Error(`/api/v1/${route} ${JSON.stringify(params)}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  const body = (await r.json()) as T & { total?: number; total_relation?: string };
  // The native API says a bounded total beside it (`total_relation`); checked here as `{value, relation}`.
  if (typeof body.total === 'number' && body.total_relation !== undefined) {
    (body as { total: Total }).total = { value: body.total, relation: body.total_relation };
  }
  return body;
}

interface Timed<T> {
  ms: number;
  answer: T;
  /** Some answer was wrong (listed in `failures`). */
  wrong: boolean;
}

/**
 * One warm-up, then the median of 5 runs of `fn`; every answer goes through `check`, which returns what
 * is wrong with it (or null). Only the first wrong answer of a shape is kept.
 */
async function timed<T>(what: string, fn: () => Promise<T>, check: (answer: T) => string | null): Promise<Timed<T>> {
  let answer = await fn();
  let wrong = check(answer);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    answer = await fn();
    times.push(performance.now() - t0);
    wrong ??= check(answer);
  }
  if (wrong) failures.push(`${what}: ${wrong}`);
  times.sort((a, b) => a - b);
  return { ms: times[2], answer, wrong: wrong !== null };
}

/** `LC_ALL=C grep -c FLAGS -- pattern raw`, once to warm up and then 5 times: the median and the count. */
function grepCount(raw: string, flags: string[], pattern: string): { ms: number; count: number } {
  const out = path.join(DIR, 'search-grep.out');
  const once = (): { ms: number; count: number } => {
    const fd = fs.openSync(out, 'w');
    const t0 = performance.now();
    const r = spawnSync('grep', ['-c', ...flags, '--', pattern, raw], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const ms = performance.now() - t0;
    fs.closeSync(fd);
    // Status 1 is "no line matched" (count 0), 2 an error.
    if (r.error || (r.status !== 0 && r.status !== 1)) throw new Error(`grep ${flags.join(' ')} ${pattern}: ${r.error?.message ?? r.stderr.toString()}`);
    return { ms, count: Number(fs.readFileSync(out, 'utf8').trim()) };
  };
  once();
  const runs = Array.from({ length: 5 }, once).sort((a, b) => a.ms - b.ms);
  return runs[2];
}

/** A table row; a shape whose answers were wrong says so beside its time. */
function row(what: string, { ms, wrong }: { ms: number; wrong: boolean }, baseline: { ms: number } | { target: number }): void {
  const base = 'ms' in baseline ? baseline.ms : baseline.target;
  rows.push({
    // A query's own `|` would end the markdown cell.
    what: what.replace(/\|/g, '\\|'),
    logmill: `${wrong ? 'WRONG ' : ''}${fmt(ms, 1)}`,
    baseline: 'ms' in baseline ? fmt(baseline.ms, 1) : `target ${fmt(baseline.target)}`,
    ratio: (ms / base).toFixed(2),
  });
}

/** The needle checks: exactly one hit, and it is the planted event (by its address, or its message). */
function onePlanted(expect: (hit: Hit) => string | null): (a: HitsAnswer) => string | null {
  return (a) => {
    if (totalValue(a.total) !== 1) return `total ${JSON.stringify(a.total)}, expected 1`;
    if (a.hits.length !== 1) return `${a.hits.length} hits, expected 1`;
    return expect(a.hits[0]);
  };
}
const isPlantedLine = (hit: Hit): string | null => {
  const message = String(hit.message ?? '');
  if (!message.startsWith(`${PLANTED_ADDRESS} `)) return `the hit is not the planted line: ${message.slice(0, 120)}`;
  if (hit.request_id !== PLANTED_REQUEST_ID) return `the hit's request_id is ${JSON.stringify(hit.request_id)}, expected ${PLANTED_REQUEST_ID}`;
  return null;
};

/** The newest 100 of a query, each hit passing `each`, newest first. */
function hundred(each: (hit: Hit) => boolean, describe: string): (a: HitsAnswer) => string | null {
  return (a) => {
    if (a.hits.length !== 100) return `${a.hits.length} hits, expected 100`;
    const bad = a.hits.find((h) => !each(h));
    if (bad) return `a hit ${describe}: ${JSON.stringify(bad).slice(0, 200)}`;
    for (let i = 1; i < a.hits.length; i++) {
      if (Date.parse(a.hits[i]['@timestamp']) > Date.parse(a.hits[i - 1]['@timestamp'])) return `hits not newest first at ${i}`;
    }
    return null;
  };
}

function bucketSum(a: HistogramAnswer): number {
  return a.buckets.reduce((s, b) => s + b.count, 0);
}

/** The sum of a `stats count() by host` table's counts. */
function tableSum(a: TableAnswer): number {
  const at = a.columns.findIndex((c) => c !== 'host');
  if (at < 0) return NaN;
  return a.rows.reduce((s: number, r) => s + Number(r[at]), 0);
}

function lineCount(file: string): number {
  const r = spawnSync('wc', ['-l', file]);
  if (r.status !== 0) throw new Error(`wc -l ${file}: ${r.stderr.toString()}`);
  return Number(r.stdout.toString().trim().split(/\s+/)[0]);
}

/** Bytes of every file under `dir`, and of those whose name ends in one of `suffixes`. */
function sizes(dir: string, suffixes: string[]): { total: number; matching: number } {
  let total = 0;
  let matching = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const s = sizes(p, suffixes);
      total += s.total;
      matching += s.matching;
    } else if (e.isFile()) {
      const n = fs.statSync(p).size;
      total += n;
      if (suffixes.some((s) => e.name.endsWith(s))) matching += n;
    }
  }
  return { total, matching };
}

/** The fallback when bench/run.ts left no data: generated events, planted as run.ts plants them, and their raw lines. */
async function loadOwnEvents(url: string, raw: string): Promise<void> {
  log(`no data from bench/run.ts in ${DIR}: loading ${fmt(OWN_EVENTS)} generated events`);
  const end = Date.now() - 60_000;
  const planter = new Planter(OWN_EVENTS);
  const lines = fs.createWriteStream(raw + '.tmp');
  let batch: string[] = [];
  let rawBatch: string[] = [];
  const inFlight: Promise<void>[] = [];
  const send = async (body: string): Promise<void> => {
    const r = await fetch(`${url}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    const text = await r.text();
    if (!r.ok || (JSON.parse(text) as { rejected?: unknown[] }).rejected?.length) throw new Error(`ingest: ${r.status} ${text.slice(0, 200)}`);
  };
  let i = 0;
  for (const g of generate(OWN_EVENTS, end - 6 * 3600_000, end)) {
    const { line, json } = planter.apply(i++, g.line, g.json);
    batch.push(json);
    rawBatch.push(line);
    if (batch.length === 5000) {
      inFlight.push(send(batch.join('\n') + '\n'));
      if (!lines.write(rawBatch.join('\n') + '\n')) await new Promise<void>((r) => lines.once('drain', () => r()));
      batch = [];
      rawBatch = [];
      if (inFlight.length >= 4) await inFlight.shift();
    }
  }
  if (batch.length) {
    inFlight.push(send(batch.join('\n') + '\n'));
    lines.write(rawBatch.join('\n') + '\n');
  }
  await Promise.all([...inFlight, new Promise<void>((r) => lines.end(() => r()))]);
  if (!planter.done) throw new Error('no access line followed the planted line\'s index: nothing planted');
  fs.renameSync(raw + '.tmp', raw);
}

async function main(): Promise<void> {
  const reuse = path.join(DIR, 'logmill-data');
  const own = !fs.existsSync(reuse);
  const dataDir = own ? path.join(DIR, 'search-data') : reuse;
  const raw = own ? path.join(DIR, `search-raw-${OWN_EVENTS}.log`) : dataFiles(DIR, EVENTS).raw;
  if (!own && !fs.existsSync(raw)) {
    throw new Error(`${reuse} is there but its raw lines ${raw} are not: run bench/run.ts with the same BENCH_EVENTS and BENCH_DIR first`);
  }
  if (own) {
    fs.mkdirSync(DIR, { recursive: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, LOGMILL_ES: 'off', LOGMILL_SYSLOG: 'off', LOGMILL_SYSLOG_TLS: 'off', LOGMILL_BEATS: 'off', LOGMILL_GELF: 'off', LOGMILL_TCP: 'off' };
  const server: ChildProcess = spawn('./bin/logmill', ['server', '--data', dataDir, '--http', `127.0.0.1:${port}`, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  let events = 0;
  try {
    await waitHealthy(url);
    if (own) await loadOwnEvents(url, raw);
    await settle(url);
    events = lineCount(raw);
    log(`${fmt(events)} events in ${dataDir}; raw lines ${raw}`);

    // The planted address must be in exactly one raw line, or the 1-hit figures measure something else.
    const address = grepCount(raw, ['-i', '-F'], PLANTED_ADDRESS);
    if (address.count !== 1) throw new Error(`grep -c -F ${PLANTED_ADDRESS} counts ${address.count} raw lines in ${raw}, expected exactly 1: the data was not planted by this bench's run.ts (or the generator made the address)`);

    log('needles');
    const phraseQ = `"${PLANTED_ADDRESS}"`;
    const addr = await timed(`${phraseQ}`, () => api<HitsAnswer>(url, 'search', { q: phraseQ, limit: '10' }), onePlanted(isPlantedLine));
    row(`${phraseQ} (1 hit), ms [target ≤ 50]`, addr, address);

    const idField = await timed(`request_id:${PLANTED_REQUEST_ID}`, () => api<HitsAnswer>(url, 'search', { q: `request_id:${PLANTED_REQUEST_ID}`, limit: '10' }), onePlanted(isPlantedLine));
    row(`request_id:<id> (1 hit), ms`, idField, { target: 50 });
    const idBare = await timed(`${PLANTED_REQUEST_ID} (bare)`, () => api<HitsAnswer>(url, 'search', { q: PLANTED_REQUEST_ID, limit: '10' }), onePlanted(isPlantedLine));
    row(`the same id bare (1 hit), ms`, idBare, { target: 50 });

    const needleGrep = grepCount(raw, ['-i', '-w', '-F'], NEEDLE);
    if (needleGrep.count !== 1) failures.push(`grep -c -i -w -F ${NEEDLE} counts ${needleGrep.count} raw lines, expected 1`);
    const needle = await timed(NEEDLE, () => api<HitsAnswer>(url, 'search', { q: NEEDLE, limit: '10' }), onePlanted((h) => (String(h.message ?? '').includes(NEEDLE) ? null : `the hit does not hold ${NEEDLE}`)));
    row(`rare word ${NEEDLE} (1 hit), ms [target ≤ 50]`, needle, needleGrep);

    log(`"${PHRASE}"`);
    const phraseGrep = grepCount(raw, ['-i', '-F'], PHRASE);
    const lower = PHRASE.toLowerCase();
    const phraseHits = await timed(
      `"${PHRASE}" newest 100`,
      () => api<HitsAnswer>(url, 'search', { q: `"${PHRASE}"`, limit: '100' }),
      (a) => {
        const wrong = hundred((h) => String(h.message ?? '').toLowerCase().includes(lower), `without "${PHRASE}"`)(a);
        if (wrong) return wrong;
        const t = a.total;
        // An exact total must be grep's count; a bounded one ("gte") may stop below it, never above.
        if (typeof t === 'number' || t.relation === 'eq') return totalValue(t) === phraseGrep.count ? null : `total ${JSON.stringify(t)}, grep counts ${phraseGrep.count}`;
        return t.value <= phraseGrep.count && t.value >= 100 ? null : `bounded total ${JSON.stringify(t)} beside grep's ${phraseGrep.count}`;
      },
    );
    notes.push(`"${PHRASE}" total: ${totalForm(phraseHits.answer.total)}; grep counts ${fmt(phraseGrep.count)} lines (${((phraseGrep.count / events) * 100).toFixed(2)} % of events)`);
    row(`"${PHRASE}" newest 100 + total, ms [target ≤ 100]`, phraseHits, phraseGrep);

    const phraseHist = await timed(`histogram "${PHRASE}"`, () => api<HistogramAnswer>(url, 'histogram', { q: `"${PHRASE}"` }), (a) =>
      bucketSum(a) === phraseGrep.count ? null : `buckets sum to ${bucketSum(a)}, grep -c -i -F counts ${phraseGrep.count}`,
    );
    row(`histogram of "${PHRASE}", ms [target ≤ 0.5× grep]`, phraseHist, phraseGrep);

    const sshdGrep = grepCount(raw, ['-i', '-w', '-F'], 'sshd');
    const sshd = await timed('sshd | stats count() by host', () => api<TableAnswer>(url, 'search', { q: 'sshd | stats count() by host' }), (a) =>
      tableSum(a) === sshdGrep.count ? null : `counts sum to ${tableSum(a)}, grep -c -i -w -F sshd counts ${sshdGrep.count}`,
    );
    row('sshd | stats count() by host, ms [target ≤ 0.5× grep]', sshd, sshdGrep);

    const firefox = await timed(
      'Firefox AND host:web-3',
      () => api<HitsAnswer>(url, 'search', { q: 'Firefox AND host:web-3', limit: '100' }),
      hundred((h) => h.host === 'web-3' && /\bfirefox\b/i.test(String(h.message ?? '')), 'not from web-3 or without Firefox'),
    );
    notes.push(`Firefox AND host:web-3 total: ${totalForm(firefox.answer.total)}`);
    row('Firefox AND host:web-3 newest 100, ms', firefox, { target: 100 });

    log('*');
    const all = await timed('* newest 100', () => api<HitsAnswer>(url, 'search', { q: '*', limit: '100' }), (a) => {
      const wrong = hundred(() => true, '')(a);
      if (wrong) return wrong;
      const t = a.total;
      if (typeof t === 'number' || t.relation === 'eq') return totalValue(t) === events ? null : `total ${JSON.stringify(t)}, ${events} events stored`;
      return t.value <= events ? null : `bounded total ${JSON.stringify(t)} above the ${events} events stored`;
    });
    notes.push(`* total: ${totalForm(all.answer.total)}`);
    row('* newest 100, ms', all, { target: 50 });
    const allHist = await timed('histogram *', () => api<HistogramAnswer>(url, 'histogram', { q: '*' }), (a) => (bucketSum(a) === events ? null : `buckets sum to ${bucketSum(a)}, ${events} events stored`));
    row('histogram of *, ms', allHist, { target: 50 });
    const allStats = await timed('* | stats count() by host', () => api<TableAnswer>(url, 'search', { q: '* | stats count() by host' }), (a) =>
      tableSum(a) === events ? null : `counts sum to ${tableSum(a)}, ${events} events stored`,
    );
    row('* | stats count() by host, ms', allStats, { target: 100 });
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }

  // At rest, after the server's clean shutdown.
  const disk = sizes(dataDir, ['.bloom', '.idx']);
  printTable(events);
  for (const n of notes) console.log(n);
  console.log(`index on disk (.bloom + .idx files): ${fmt(disk.matching / 1e6, 2)} MB of the data dir's ${fmt(disk.total / 1e6, 2)} MB (${((disk.matching / disk.total) * 100).toFixed(2)} %)`);
  if (failures.length) {
    console.log(`\nWRONG ANSWERS (${failures.length}):`);
    for (const f of failures) console.log(`- ${f}`);
    process.exitCode = 1;
  }
}

function printTable(events: number): void {
  const header: Row = { what: 'measure', logmill: 'logmill', baseline: 'baseline (grep -c, ms)', ratio: 'ratio' };
  const all = [header, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const line = (r: Row) => `| ${r.what.padEnd(w('what'))} | ${r.logmill.padStart(w('logmill'))} | ${r.baseline.padStart(w('baseline'))} | ${r.ratio.padStart(w('ratio'))} |`;
  const cores = Number(spawnSync('nproc').stdout?.toString().trim() || 0);
  console.log(`\nLogmill search benchmark: ${fmt(events)} events on ${process.platform}, ${cores} cores (warm, median of 5)\n`);
  console.log(line(header));
  console.log(`|${'-'.repeat(w('what') + 2)}|${'-'.repeat(w('logmill') + 2)}|${'-'.repeat(w('baseline') + 2)}|${'-'.repeat(w('ratio') + 2)}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
