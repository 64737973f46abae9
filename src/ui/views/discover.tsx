/**
 * Discover: the query bar and time picker, the histogram of matching events (stacked by a chosen
 * field), the hit count, the event table (columns, sort, cut or whole messages, infinite scroll
 * through the cursor API, rows expanding to the event view), the field sidebar, and the table of
 * a piped query. All state lives in the URL:
 *   /app/discover?q=&from=&to=&cols=&sort=&refresh=&ev=&by=&wrap=
 * Histogram, hits and fields are requested in parallel; a new search aborts the previous one
 * (the server stops its query), and a slow one shows progress with a Cancel button.
 * Log content is rendered only as Preact text children.
 */
import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, type FieldInfo, type Hit, type HistogramAnswer, type SearchAnswer, type SearchHits, type SearchTable } from '../api.js';
import { EventView, valueText } from '../components/event-view.js';
import { FieldSidebar } from '../components/field-sidebar.js';
import { LinkedEvent } from '../components/linked-event.js';
import { QueryBar } from '../components/query-bar.js';
import { ResultTable } from '../components/result-table.js';
import { SaveSearch } from '../components/save-search.js';
import { TimeChart } from '../components/time-chart.js';
import { TimePicker, type TimeRangeValue } from '../components/time-picker.js';
import { formatNumber, formatTime, useZone, zoneLabel, type Zone } from '../format.js';
import { andQuery, filterClause, isPiped, splitPipes } from '../query-text.js';
import { href, navigate, type Route } from '../router.js';
import './discover.css';

const PAGE_SIZE = 100;
/**
 * The hit table is windowed: only the rows near the viewport are in the DOM (10,000 rendered rows
 * cost ~80,000 nodes and ~250 MB). OVERSCAN rows are kept each side of the visible ones, and the
 * window never holds fewer than WINDOW_MIN rows, so the first pages render whole and a short scroll
 * does not re-render at all.
 */
const OVERSCAN = 100;
const WINDOW_MIN = 400;
/** A row's height before any row was measured (one cut line); then the mean of the measured ones. */
const ROW_GUESS = 21;
const DEFAULT_FROM = 'now-15m';
const DEFAULT_TO = 'now';
/** Requests slower than this show the "Searching…" indicator (quicker ones would only flicker). */
const PROGRESS_AFTER_MS = 300;
/** Fields offered first in the "stack by" select, when the data has them. */
const PREFERRED_BY = ['level', 'host', 'program', 'syslog.appname', 'source', 'response', 'status', 'verb', 'method'];

export interface DiscoverState {
  q: string;
  from: string;
  to: string;
  cols: string[];
  sort: 'desc' | 'asc';
  refresh: number;
  ev: string | null;
  by: string;
  wrap: boolean;
}

export function readState(params: URLSearchParams): DiscoverState {
  const refresh = Number(params.get('refresh') ?? 0);
  return {
    q: params.get('q') ?? '',
    from: params.get('from') || DEFAULT_FROM,
    to: params.get('to') || DEFAULT_TO,
    cols: (params.get('cols') ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
    sort: params.get('sort') === 'asc' ? 'asc' : 'desc',
    refresh: Number.isFinite(refresh) && refresh > 0 ? Math.floor(refresh) : 0,
    ev: params.get('ev') || null,
    by: params.get('by') ?? '',
    wrap: params.get('wrap') === '1',
  };
}

export function stateUrl(s: DiscoverState): string {
  return href('/app/discover', {
    q: s.q,
    from: s.from === DEFAULT_FROM ? null : s.from,
    to: s.to === DEFAULT_TO ? null : s.to,
    cols: s.cols.join(','),
    sort: s.sort === 'asc' ? 'asc' : null,
    refresh: s.refresh > 0 ? String(s.refresh) : null,
    ev: s.ev,
    by: s.by,
    wrap: s.wrap ? '1' : null,
  });
}

type Result =
  | { kind: 'idle' }
  | { kind: 'hits'; total: number; atLeast: boolean; hits: Hit[]; cursor: string | null }
  | { kind: 'table'; table: SearchTable }
  | { kind: 'error'; message: string; syntax: { message: string; position?: number } | null }
  | { kind: 'cancelled' };

/** Why there are no hits: nothing stored at all, nothing matching at any time, or matches outside the range. */
type Emptiness = { kind: 'unknown' } | { kind: 'empty-store' } | { kind: 'no-match-ever' } | { kind: 'has-data'; newest: string | null };

function isTable(a: SearchAnswer): a is SearchTable {
  return Array.isArray((a as SearchTable).columns);
}

function describeError(e: unknown): { message: string; syntax: { message: string; position?: number } | null } {
  if (e instanceof ApiError) {
    if (e.type === 'query_syntax') {
      const pos = typeof e.details.position === 'number' ? e.details.position : undefined;
      return { message: e.message, syntax: { message: e.message, position: pos } };
    }
    return { message: e.message, syntax: null };
  }
  return { message: e instanceof Error ? e.message : String(e), syntax: null };
}

const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';

/** A one-line summary of an event without a message: its fields as `name: value`. */
function summary(hit: Hit): string {
  return Object.keys(hit)
    .filter((k) => k !== '_id' && k !== '@timestamp')
    .map((k) => `${k}: ${valueText(hit[k])}`)
    .join('  ');
}

export function DiscoverPage(props: { route: Route }): JSX.Element {
  const state = useMemo(() => readState(props.route.params), [props.route.params.toString()]);
  const [zone] = useZone();
  const range: TimeRangeValue = useMemo(() => ({ from: state.from, to: state.to }), [state.from, state.to]);
  const piped = isPiped(state.q);

  const [result, setResult] = useState<Result>({ kind: 'idle' });
  const [histogram, setHistogram] = useState<HistogramAnswer | null>(null);
  const [histError, setHistError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [showProgress, setShowProgress] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [emptiness, setEmptiness] = useState<Emptiness>({ kind: 'unknown' });
  const [fields, setFields] = useState<FieldInfo[]>([]);
  const [tick, setTick] = useState(0);
  const search = useRef<AbortController | null>(null);
  const more = useRef<AbortController | null>(null);
  const lastKey = useRef('');

  const go = (changes: Partial<DiscoverState>, opts: { replace?: boolean } = {}) => navigate(stateUrl({ ...state, ...changes }), opts);
  const addFilter = (field: string, value: unknown, negate: boolean) => go({ q: andQuery(state.q, filterClause(field, value, negate)), ev: null });
  const toggleColumn = (field: string) => go({ cols: state.cols.includes(field) ? state.cols.filter((c) => c !== field) : [...state.cols, field] });

  // The search: hits (or a piped query's table) and the histogram, in parallel.
  useEffect(() => {
    search.current?.abort();
    more.current?.abort();
    const ctl = new AbortController();
    search.current = ctl;
    // A refresh of the same search keeps what is shown until the new answer arrives.
    const key = JSON.stringify([state.q, state.from, state.to, state.sort, state.by]);
    const background = lastKey.current === key;
    lastKey.current = key;
    setBusy(true);
    setShowProgress(false);
    setLoadingMore(false);
    if (!background) setEmptiness({ kind: 'unknown' });
    const progress = setTimeout(() => setShowProgress(true), PROGRESS_AFTER_MS);
    const params = { q: state.q, from: state.from, to: state.to };
    const hitsP = getJson<SearchAnswer>('/api/v1/search', { ...params, limit: PAGE_SIZE, order: state.sort }, ctl.signal).then(
      (a) => {
        if (ctl.signal.aborted) return;
        if (isTable(a)) setResult({ kind: 'table', table: a });
        else setResult({ kind: 'hits', total: a.total, atLeast: a.total_relation === 'gte', hits: a.hits, cursor: a.cursor });
      },
      (e) => {
        if (isAbort(e) || ctl.signal.aborted) return;
        setResult({ kind: 'error', ...describeError(e) });
      },
    );
    const histP = piped
      ? Promise.resolve(setHistogram(null))
      : getJson<HistogramAnswer>('/api/v1/histogram', { ...params, by: state.by, size: 10 }, ctl.signal).then(
          (h) => {
            if (ctl.signal.aborted) return;
            setHistogram(h);
            setHistError(null);
          },
          (e) => {
            if (isAbort(e) || ctl.signal.aborted) return;
            setHistogram(null);
            // A syntax error is already shown by the search; say other failures here.
            setHistError(e instanceof ApiError && e.type === 'query_syntax' ? null : describeError(e).message);
          },
        );
    void Promise.all([hitsP, histP]).finally(() => {
      clearTimeout(progress);
      if (search.current === ctl) {
        setBusy(false);
        setShowProgress(false);
      }
    });
    return () => {
      clearTimeout(progress);
      ctl.abort();
    };
  }, [state.q, state.from, state.to, state.sort, state.by, tick]);

  // Refresh every N seconds: a new search over the same (relative) range.
  useEffect(() => {
    if (state.refresh <= 0) return;
    const timer = setInterval(() => setTick((t) => t + 1), state.refresh * 1000);
    return () => clearInterval(timer);
  }, [state.refresh]);

  // Field names for the "stack by" select (the sidebar loads its own, with counts).
  useEffect(() => {
    const ctl = new AbortController();
    getJson<{ fields: FieldInfo[] }>('/api/v1/fields', { from: state.from, to: state.to }, ctl.signal).then(
      (a) => setFields(a.fields),
      () => undefined,
    );
    return () => ctl.abort();
  }, [state.from, state.to]);

  // No hits: is the store empty (say how to send logs) or is the range too narrow?
  useEffect(() => {
    if (result.kind !== 'hits' || result.total > 0 || emptiness.kind !== 'unknown') return;
    const ctl = new AbortController();
    const allTime = (q: string) => getJson<SearchHits>('/api/v1/search', { q, from: '0', to: 'now+100y', limit: 1, order: 'desc' }, ctl.signal);
    void (async () => {
      try {
        const matching = await allTime(state.q);
        if (matching.total > 0) return setEmptiness({ kind: 'has-data', newest: matching.hits[0]?.['@timestamp'] ?? null });
        const any = state.q.trim() === '' ? matching : await allTime('');
        setEmptiness(any.total === 0 ? { kind: 'empty-store' } : { kind: 'no-match-ever' });
      } catch {
        /* aborted, or the server is gone: the plain "no hits" stays */
      }
    })();
    return () => ctl.abort();
  }, [result, emptiness.kind]);

  // Escape closes the expanded event.
  useEffect(() => {
    if (!state.ev) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      const t = e.target as HTMLElement | null;
      if (t?.closest?.('[data-query-bar]')) return;
      go({ ev: null });
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [state]);

  const cancel = () => {
    search.current?.abort();
    more.current?.abort();
    setBusy(false);
    setShowProgress(false);
    setResult({ kind: 'cancelled' });
  };

  const loadMore = () => {
    if (result.kind !== 'hits' || !result.cursor || loadingMore || busy) return;
    const ctl = new AbortController();
    more.current = ctl;
    setLoadingMore(true);
    const cursor = result.cursor;
    getJson<SearchAnswer>('/api/v1/search', { q: state.q, from: state.from, to: state.to, limit: PAGE_SIZE, order: state.sort, cursor }, ctl.signal).then(
      (a) => {
        if (ctl.signal.aborted || isTable(a)) return;
        setResult((r) => (r.kind === 'hits' && r.cursor === cursor ? { ...r, hits: [...r.hits, ...a.hits], cursor: a.cursor } : r));
        setLoadingMore(false);
      },
      (e) => {
        if (isAbort(e) || ctl.signal.aborted) return;
        setLoadingMore(false);
        setResult({ kind: 'error', ...describeError(e) });
      },
    );
  };

  const syntax = result.kind === 'error' ? result.syntax : null;
  const byChoices = useMemo(() => {
    const names = fields.filter((f) => f.type === 'string' || f.type === 'integer' || f.type === 'boolean').map((f) => f.name).filter((n) => n !== 'message' && n !== '@timestamp');
    const preferred = PREFERRED_BY.filter((n) => names.includes(n));
    const rest = names.filter((n) => !preferred.includes(n)).sort((a, b) => a.localeCompare(b));
    const all = [...preferred, ...rest];
    if (state.by && !all.includes(state.by)) all.unshift(state.by);
    return all;
  }, [fields, state.by]);

  return (
    <div class="discover">
      <div class="discover-bar">
        <QueryBar value={state.q} onSubmit={(q) => go({ q, ev: null })} error={syntax} range={range} />
        <TimePicker
          value={range}
          onChange={(v) => go({ from: v.from, to: v.to, ev: null })}
          refreshSeconds={state.refresh}
          onRefreshChange={(refresh) => go({ refresh }, { replace: true })}
        />
        <button type="button" class="primary" data-testid="search-button" onClick={() => (result.kind === 'cancelled' || !busy ? setTick((t) => t + 1) : undefined)}>
          {busy ? 'Searching' : 'Refresh'}
        </button>
      </div>
      <div class="discover-body">
        <aside class="discover-side">
          <FieldSidebar q={splitPipes(state.q).filter.trim()} range={range} columns={state.cols} onFilter={addFilter} onToggleColumn={toggleColumn} />
        </aside>
        <main class="discover-main">
          <div class="discover-status">
            {result.kind === 'hits' && (
              <span class="hit-count" data-testid="hit-count">
                {/* Past 10,000 the search stops counting; the histogram, which counts every match, gives the number. */}
                <b>{result.atLeast ? (histogram ? formatNumber(histogram.buckets.reduce((n, b) => n + b.count, 0)) : `${formatNumber(result.total)}+`) : formatNumber(result.total)}</b>{' '}
                {result.total === 1 && !result.atLeast ? 'hit' : 'hits'}
              </span>
            )}
            {result.kind === 'table' && (
              <span class="hit-count" data-testid="row-count">
                <b>{formatNumber(result.table.rows.length)}</b> {result.table.rows.length === 1 ? 'row' : 'rows'}
              </span>
            )}
            {showProgress && (
              <span class="searching" data-testid="searching" role="status">
                <span class="spinner" aria-hidden="true" /> Searching…
                <button type="button" class="link" data-testid="cancel-search" onClick={cancel}>
                  Cancel
                </button>
              </span>
            )}
            {!piped && (
              <label class="by-select">
                Stack by
                <select data-testid="by-select" value={state.by} onChange={(e) => go({ by: (e.currentTarget as HTMLSelectElement).value }, { replace: true })}>
                  <option value="">none</option>
                  {byChoices.map((n) => (
                    <option value={n}>{n}</option>
                  ))}
                </select>
              </label>
            )}
            <SaveSearch attributes={{ q: state.q, from: state.from, to: state.to, cols: state.cols.join(','), sort: state.sort }} />
            <span class="zone-note">Times in {zoneLabel(zone)}</span>
          </div>
          {result.kind === 'error' && !result.syntax && (
            <div class="banner-error" data-testid="search-error" role="alert">
              {result.message}
            </div>
          )}
          {result.kind === 'cancelled' && (
            <div class="notice" data-testid="search-cancelled">
              Search cancelled.{' '}
              <button type="button" class="link" onClick={() => setTick((t) => t + 1)}>
                Run it again
              </button>
            </div>
          )}
          {!piped && histogram && result.kind !== 'error' && result.kind !== 'cancelled' && !(result.kind === 'hits' && result.total === 0) && (
            <div class="discover-chart">
              <TimeChart data={histogram} zone={zone} height={130} onSelectRange={(a, b) => go({ from: new Date(a).toISOString(), to: new Date(b).toISOString(), ev: null })} />
            </div>
          )}
          {!piped && histError && <div class="banner-error">Histogram: {histError}</div>}
          {result.kind === 'table' && (
            <div class="discover-result">
              <ResultTable columns={result.table.columns} rows={result.table.rows} zone={zone} />
            </div>
          )}
          {result.kind === 'hits' && result.total === 0 && <EmptyState emptiness={emptiness} q={state.q} onRange={(from, to) => go({ from, to })} zone={zone} />}
          {result.kind === 'hits' && state.ev !== null && !result.hits.some((h) => h._id === state.ev) && (
            <LinkedEvent id={state.ev} from={state.from} to={state.to} zone={zone} onFilter={addFilter} onToggleColumn={toggleColumn} onClose={() => go({ ev: null })} />
          )}
          {result.kind === 'hits' && result.hits.length > 0 && (
            <HitTable
              hits={result.hits}
              total={result.total}
              atLeast={result.atLeast}
              cursor={result.cursor}
              state={state}
              zone={zone}
              loadingMore={loadingMore}
              onLoadMore={loadMore}
              onExpand={(id) => go({ ev: state.ev === id ? null : id })}
              onSort={() => go({ sort: state.sort === 'desc' ? 'asc' : 'desc', ev: null })}
              onWrap={() => go({ wrap: !state.wrap }, { replace: true })}
              onFilter={addFilter}
              onToggleColumn={toggleColumn}
            />
          )}
        </main>
      </div>
    </div>
  );
}

function EmptyState(props: { emptiness: Emptiness; q: string; onRange: (from: string, to: string) => void; zone: Zone }): JSX.Element {
  const e = props.emptiness;
  if (e.kind === 'unknown') return <div class="empty" data-testid="no-hits" />;
  if (e.kind === 'empty-store') {
    return (
      <div class="empty" data-testid="empty-store">
        <h3>No events stored yet</h3>
        <p>Send some, then search again. NDJSON over HTTP (the answer comes once the events are durable):</p>
        <pre class="cmd">{`curl -XPOST ${location.host}/api/v1/ingest --data-binary $'{"message":"GET /cart 500","host":"web-1","status":500}\\n'`}</pre>
        <p>Or syslog, with the server's syslog input listening:</p>
        <pre class="cmd">{`logger -n ${location.hostname} -P 5514 --rfc5424 "hello over syslog"`}</pre>
        <p>
          Files: <code>./bin/logmill import /var/log/syslog access.log.1.gz</code>. See the README for Beats, GELF and the Elasticsearch <code>_bulk</code> API.
        </p>
      </div>
    );
  }
  if (e.kind === 'no-match-ever') {
    return (
      <div class="empty" data-testid="no-hits">
        <h3>No events match this query</h3>
        <p>Not in this range, nor at any other time. Check the field names and values in the sidebar, or loosen the query.</p>
      </div>
    );
  }
  const latest = e.newest ? Date.parse(e.newest) : NaN;
  return (
    <div class="empty" data-testid="no-hits">
      <h3>No events match in this time range</h3>
      <p>{props.q ? 'Widen the time range or loosen the query.' : 'Widen the time range.'}</p>
      <div class="empty-actions">
        <button type="button" onClick={() => props.onRange('now-24h', 'now')}>
          Last 24 hours
        </button>
        <button type="button" onClick={() => props.onRange('now-7d', 'now')}>
          Last 7 days
        </button>
        <button type="button" onClick={() => props.onRange('now-30d', 'now')}>
          Last 30 days
        </button>
        {Number.isFinite(latest) && (
          <button type="button" class="primary" data-testid="jump-latest" onClick={() => props.onRange(new Date(latest - 24 * 3600e3).toISOString(), new Date(latest + 1000).toISOString())}>
            Jump to the newest match ({formatTime(latest, props.zone)})
          </button>
        )}
      </div>
    </div>
  );
}

function HitTable(props: {
  hits: Hit[];
  total: number;
  /** The total is a lower bound (the search stopped counting). */
  atLeast: boolean;
  cursor: string | null;
  state: DiscoverState;
  zone: Zone;
  loadingMore: boolean;
  onLoadMore: () => void;
  onExpand: (id: string) => void;
  onSort: () => void;
  onWrap: () => void;
  onFilter: (field: string, value: unknown, negate: boolean) => void;
  onToggleColumn: (field: string) => void;
}): JSX.Element {
  const { hits, state, zone } = props;
  const sentinel = useRef<HTMLTableRowElement>(null);
  const body = useRef<HTMLTableSectionElement>(null);
  const loadMore = useRef(props.onLoadMore);
  loadMore.current = props.onLoadMore;
  const cols = state.cols;
  const span = 2 + (cols.length === 0 ? 1 : cols.length);

  // Measured heights by event id (a row with its event view when expanded); a change of layout
  // (cut or whole lines, other columns) makes them stale, so they start over.
  const layoutKey = `${state.wrap}|${cols.join(',')}`;
  const heights = useRef({ key: layoutKey, map: new Map<string, number>(), sum: 0 });
  if (heights.current.key !== layoutKey) heights.current = { key: layoutKey, map: new Map(), sum: 0 };
  const h = heights.current;
  const guess = h.map.size > 0 ? h.sum / h.map.size : ROW_GUESS;
  const height = (hit: Hit) => h.map.get(hit._id) ?? guess;

  const [win, setWin] = useState<[number, number]>([0, WINDOW_MIN]);
  const [start, end] = clampWindow(win[0], win[1], hits.length);
  const openAt = state.ev === null ? -1 : hits.findIndex((x) => x._id === state.ev);

  // Infinite scroll: the row after the last one coming into view loads the next page.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !props.cursor) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadMore.current(), { rootMargin: '400px' });
    io.observe(el);
    return () => io.disconnect();
  }, [props.cursor, hits.length]);

  // After each render: measure the rendered rows, so the spacers and the estimate follow reality.
  useLayoutEffect(() => {
    for (const tr of body.current?.querySelectorAll<HTMLTableRowElement>('tr.hit-row') ?? []) {
      const id = tr.dataset.id ?? '';
      const detail = tr.nextElementSibling?.classList.contains('hit-detail') ? tr.nextElementSibling.getBoundingClientRect().height : 0;
      const px = tr.getBoundingClientRect().height + detail;
      h.sum += px - (h.map.get(id) ?? 0);
      h.map.set(id, px);
    }
  });

  // Which rows are near the viewport: walk the (measured or estimated) heights down to the scroll
  // container's edges. Re-render only when the visible rows come within OVERSCAN / 2 of the window's
  // edge (or the data changed), so most scroll events cost nothing.
  const place = useRef<() => void>(() => undefined);
  place.current = () => {
    const tb = body.current;
    const scroller = tb && scrollParent(tb);
    if (!tb || !scroller) return;
    const view = scroller.getBoundingClientRect();
    const top = view.top - tb.getBoundingClientRect().top;
    const bottom = top + view.height;
    let y = 0;
    let first = hits.length;
    let last = hits.length;
    for (let i = 0; i < hits.length; i++) {
      const next = y + height(hits[i]);
      if (first === hits.length && next > top) first = i;
      if (y >= bottom) {
        last = i;
        break;
      }
      y = next;
    }
    const margin = OVERSCAN / 2;
    const fits = (start === 0 || first - start >= margin) && (end === hits.length || end - last >= margin);
    if (!fits) setWin(clampWindow(first - OVERSCAN, last + OVERSCAN, hits.length));
  };
  useLayoutEffect(() => place.current(), [hits, layoutKey, state.ev]);
  useEffect(() => {
    const scroller = body.current && scrollParent(body.current);
    if (!scroller) return;
    let frame = 0;
    const onScroll = () => {
      if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), place.current()));
    };
    scroller.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      cancelAnimationFrame(frame);
      scroller.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
    };
  }, []);

  const hitRows = (hit: Hit) => {
    const open = state.ev === hit._id;
    return [
      <tr key={hit._id} class={`hit-row${open ? ' open' : ''}`} data-testid="hit-row" data-id={hit._id} onClick={() => props.onExpand(hit._id)}>
        <td class="col-toggle" aria-label={open ? 'Collapse' : 'Expand'}>
          {open ? '▾' : '▸'}
        </td>
        <td class="col-time">{formatTime(hit['@timestamp'], zone)}</td>
        {cols.length === 0 ? (
          <td class="col-msg">
            <div class="cell">{typeof hit.message === 'string' ? hit.message : <span class="summary">{summary(hit)}</span>}</div>
          </td>
        ) : (
          cols.map((c) => (
            <td class={c === 'message' ? 'col-msg' : ''}>
              <div class="cell">{hit[c] === undefined ? <span class="missing">—</span> : valueText(hit[c])}</div>
            </td>
          ))
        )}
      </tr>,
      open && (
        <tr key={`${hit._id}-detail`} class="hit-detail">
          <td colSpan={span}>
            <EventView hit={hit} zone={zone} onFilter={props.onFilter} onToggleColumn={props.onToggleColumn} onClose={() => props.onExpand(hit._id)} />
          </td>
        </tr>
      ),
    ];
  };

  // The rows drawn: the window, plus the expanded one wherever it is (its event view keeps its
  // state); each run of rows left out is one spacer row as tall as their heights. No closure may
  // capture `drawn`: V8 would keep it in this render's context, which the listeners of every row
  // (and the scroll handler) retain, chaining each past render's vnodes and detached rows alive.
  const drawn: JSX.Element[] = [];
  let gap = 0;
  for (let i = 0; i <= hits.length; i++) {
    if (i < hits.length && (i < start || i >= end) && i !== openAt) {
      gap += height(hits[i]);
      continue;
    }
    if (gap > 0) drawn.push(<Spacer key={`gap-${i}`} span={span} height={gap} />);
    gap = 0;
    if (i < hits.length) for (const row of hitRows(hits[i])) if (row) drawn.push(row);
  }

  return (
    <div class={`hit-table-box${state.wrap ? ' wrap' : ''}`}>
      <table class={`hit-table${cols.length > 0 ? ' auto' : ''}`} data-testid="hit-table" data-loaded={hits.length}>
        <thead>
          <tr>
            <th class="col-toggle" />
            <th class="col-time">
              <button type="button" class="th-button" data-testid="sort-toggle" onClick={props.onSort} title="Change the order">
                Time {state.sort === 'desc' ? '↓' : '↑'}
                <span class="th-note">{state.sort === 'desc' ? 'newest first' : 'oldest first'}</span>
              </button>
            </th>
            {cols.length === 0 ? (
              <th class="col-msg">
                message
                <button type="button" class="th-button th-wrap" data-testid="wrap-toggle" onClick={props.onWrap} title="Show messages whole or cut to one line">
                  {state.wrap ? '⇤ cut lines' : '↵ whole lines'}
                </button>
              </th>
            ) : (
              cols.map((c, i) => (
                <th>
                  <span class="th-name">{c}</span>
                  <button type="button" class="th-remove" data-testid={`remove-col-${c}`} title="Remove the column" onClick={() => props.onToggleColumn(c)}>
                    ×
                  </button>
                  {i === cols.length - 1 && (
                    <button type="button" class="th-button th-wrap" data-testid="wrap-toggle" onClick={props.onWrap} title="Show values whole or cut to one line">
                      {state.wrap ? '⇤ cut lines' : '↵ whole lines'}
                    </button>
                  )}
                </th>
              ))
            )}
          </tr>
        </thead>
        <tbody ref={body}>
          {drawn}
          <tr ref={sentinel} class="hit-more">
            <td colSpan={span}>
              {props.cursor ? (
                <span data-testid="load-more">
                  {props.loadingMore ? 'Loading more…' : `${formatNumber(hits.length)} of ${formatNumber(props.total)}${props.atLeast ? '+' : ''} shown`}{' '}
                  {!props.loadingMore && (
                    <button type="button" class="link" onClick={props.onLoadMore}>
                      Load more
                    </button>
                  )}
                </span>
              ) : (
                <span data-testid="all-loaded">
                  All {formatNumber(hits.length)} {hits.length === 1 ? 'event' : 'events'} shown
                </span>
              )}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** Stands for a run of rows left out of the DOM, as tall as they are (or are estimated to be). */
function Spacer(props: { span: number; height: number }): JSX.Element {
  return (
    <tr class="hit-spacer" aria-hidden="true">
      <td colSpan={props.span} style={{ height: `${props.height}px` }} />
    </tr>
  );
}

/** [start, end) within the n rows, at least WINDOW_MIN long (grown evenly both ways) where there are that many. */
function clampWindow(start: number, end: number, n: number): [number, number] {
  const grow = Math.max(0, WINDOW_MIN - (end - start));
  let s = start - Math.ceil(grow / 2);
  let e = end + Math.floor(grow / 2);
  if (s < 0) [s, e] = [0, e - s];
  if (e > n) [s, e] = [Math.max(0, s - (e - n)), n];
  return [s, e];
}

/** The nearest ancestor that scrolls (Discover's main column), whose edges bound the visible rows. */
function scrollParent(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const y = getComputedStyle(p).overflowY;
    if (y === 'auto' || y === 'scroll') return p;
  }
  return document.scrollingElement as HTMLElement | null;
}
