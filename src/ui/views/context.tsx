/**
 * Surrounding events (`/app/context?id=ID&by=host,source&n=20`): the N events just before and
 * after one hit among the events with the same values of the `by` fields (by default the same
 * host and source), in storage order, oldest at the top, the hit highlighted — what
 * `grep -B/-A` gives on one file. "Load 20 older/newer" asks again from the edge event's id.
 * Every value shown is a Preact text child; the only URL built is from the ids and field names.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, type ContextAnswer, type Hit } from '../api.js';
import { EventView, valueText } from '../components/event-view.js';
import { formatNumber, formatTime, useZone, zoneLabel } from '../format.js';
import { andQuery, filterClause } from '../query-text.js';
import { href, navigate, type Route } from '../router.js';
import './context.css';

/** Fields offered first as scopes when the anchor has them (the rest of its plain fields follow). */
const PREFERRED_SCOPES = ['host', 'source', 'program', 'syslog.appname', 'syslog.procid', 'pid', 'service', 'container', 'container_name', 'app', 'logger'];
/** Fields never offered: they identify one event, or are not values to scope by. */
const NOT_SCOPES = new Set(['_id', '@timestamp', 'message', 'tags', 'event.original']);
const DEFAULT_BY = ['host', 'source'];
/** How many events each "Load older/newer" asks for. */
const MORE = 20;

type State =
  | { state: 'loading' }
  | { state: 'error'; message: string; notFound: boolean }
  | { state: 'ok'; anchor: Hit; by: Record<string, unknown>; rows: Hit[]; olderDone: boolean; newerDone: boolean };

function parseBy(params: URLSearchParams): string[] {
  const raw = params.get('by');
  if (raw === null) return DEFAULT_BY;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseN(params: URLSearchParams): number {
  const n = Number(params.get('n') ?? '20');
  return Number.isInteger(n) && n >= 1 && n <= 500 ? n : 20;
}

/**
 * The `by` parameter for the API. No scope must still be sent (a missing `by` means host and
 * source), and api.ts leaves empty parameters out, so "none" is sent as ",": no field names.
 */
function byParam(by: string[]): string {
  return by.length > 0 ? by.join(',') : ',';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The URL of this page for another anchor or scope (its other parameters kept). */
function contextUrl(id: string, by: string[], n: number): string {
  return `/app/context?id=${encodeURIComponent(id)}&by=${by.map(encodeURIComponent).join(',')}${n !== 20 ? `&n=${n}` : ''}`;
}

export function ContextPage(props: { route: Route }): JSX.Element {
  const { params } = props.route;
  const id = params.get('id') ?? '';
  const byText = params.get('by');
  const by = useMemo(() => parseBy(params), [byText]);
  const n = parseN(params);
  const [zone] = useZone();
  const [state, setState] = useState<State>({ state: 'loading' });
  const [more, setMore] = useState<null | 'older' | 'newer'>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string | null>(null);
  const anchorRow = useRef<HTMLTableRowElement>(null);
  const scrolledFor = useRef<string | null>(null);

  useEffect(() => {
    if (!id) {
      setState({ state: 'error', message: 'No event given: open surrounding events from an event in Discover.', notFound: false });
      return;
    }
    const ctl = new AbortController();
    setState({ state: 'loading' });
    setMoreError(null);
    getJson<ContextAnswer>('/api/v1/context', { id, before: n, after: n, by: byParam(by) }, ctl.signal)
      .then((a) =>
        setState({
          state: 'ok',
          anchor: a.anchor,
          by: a.by,
          rows: [...a.before, a.anchor, ...a.after],
          olderDone: a.before.length < n,
          newerDone: a.after.length < n,
        }),
      )
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setState({ state: 'error', message: errorText(e), notFound: e instanceof ApiError && e.status === 404 });
      });
    return () => ctl.abort();
  }, [id, by, n]);

  // Bring the anchor into view once per anchor (not again after loading more).
  useEffect(() => {
    if (state.state === 'ok' && scrolledFor.current !== state.anchor._id && anchorRow.current) {
      scrolledFor.current = state.anchor._id;
      anchorRow.current.scrollIntoView({ block: 'nearest' });
    }
  }, [state]);

  const loadMore = async (dir: 'older' | 'newer') => {
    if (state.state !== 'ok' || more) return;
    const edge = dir === 'older' ? state.rows[0] : state.rows[state.rows.length - 1];
    setMore(dir);
    setMoreError(null);
    try {
      const a = await getJson<ContextAnswer>('/api/v1/context', {
        id: edge._id,
        before: dir === 'older' ? MORE : 0,
        after: dir === 'newer' ? MORE : 0,
        by: byParam(by),
      });
      setState((s) => {
        if (s.state !== 'ok') return s;
        // Ids already shown are skipped, so a repeated click never duplicates a row.
        const seen = new Set(s.rows.map((h) => h._id));
        if (dir === 'older') {
          const add = a.before.filter((h) => !seen.has(h._id));
          return { ...s, rows: [...add, ...s.rows], olderDone: a.before.length < MORE };
        }
        const add = a.after.filter((h) => !seen.has(h._id));
        return { ...s, rows: [...s.rows, ...add], newerDone: a.after.length < MORE };
      });
    } catch (e) {
      setMoreError(errorText(e));
    } finally {
      setMore(null);
    }
  };

  const setScope = (next: string[]) => navigate(contextUrl(id, next, n));

  if (state.state === 'loading') {
    return (
      <section class="context-page" data-testid="context-page">
        <h2>Surrounding events</h2>
        <p class="ctx-note">Loading…</p>
      </section>
    );
  }
  if (state.state === 'error') {
    return (
      <section class="context-page" data-testid="context-page">
        <h2>Surrounding events</h2>
        <p class="ctx-error" role="alert" data-testid="context-error">
          {state.notFound ? `No event with id "${id}" (it may have been deleted by retention). ` : ''}
          {state.message}
        </p>
        <a href="/app/discover" onClick={linkClick('/app/discover')}>
          Back to Discover
        </a>
      </section>
    );
  }

  const { anchor, rows } = state;
  const scopes = scopeChoices(anchor, by);
  const discoverUrl = discoverLink(anchor, by, rows);
  const extra = by.filter((f) => f !== 'host' && f !== 'source');
  const anchorIndex = rows.findIndex((h) => h._id === anchor._id);

  return (
    <section class="context-page" data-testid="context-page">
      <header class="ctx-header">
        <h2>Surrounding events</h2>
        <a class="ctx-back" data-testid="context-discover" href={discoverUrl} onClick={linkClick(discoverUrl)}>
          ← Open in Discover
        </a>
      </header>
      <div class="ctx-scope" data-testid="context-scope">
        <span class="ctx-scope-label">Same</span>
        {scopes.map((f) => (
          <label key={f} class={`ctx-check${by.includes(f) ? ' on' : ''}`} title={by.includes(f) ? `${f}: ${valueText(anchor[f])}` : `Only events with ${f} = ${valueText(anchor[f])}`}>
            <input
              type="checkbox"
              data-testid={`scope-${f}`}
              checked={by.includes(f)}
              onChange={(e) => {
                const on = (e.target as HTMLInputElement).checked;
                setScope(on ? [...by, f] : by.filter((x) => x !== f));
              }}
            />
            <span class="ctx-check-name">{f}</span>
            <span class="ctx-check-value">{valueText(anchor[f])}</span>
          </label>
        ))}
        {by.length === 0 && <span class="ctx-note">all events, whatever their host or source</span>}
        <span class="ctx-count">
          {formatNumber(anchorIndex)} before · {formatNumber(rows.length - anchorIndex - 1)} after
        </span>
      </div>
      <div class="ctx-more">
        <button type="button" data-testid="context-older" disabled={state.olderDone || more !== null} onClick={() => void loadMore('older')}>
          {more === 'older' ? 'Loading…' : state.olderDone ? 'No older events' : `Load ${MORE} older`}
        </button>
      </div>
      <table class="ctx-table" data-testid="context-table">
        <thead>
          <tr>
            <th class="ctx-time">Time ({zoneLabel(zone)})</th>
            <th>host</th>
            <th>source</th>
            {extra.map((f) => (
              <th key={f}>{f}</th>
            ))}
            <th>message</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => {
            const isAnchor = h._id === anchor._id;
            const open = expanded === h._id;
            return [
              <tr
                key={h._id}
                ref={isAnchor ? anchorRow : undefined}
                class={`ctx-row${isAnchor ? ' anchor' : ''}${open ? ' open' : ''}`}
                data-testid={isAnchor ? 'context-anchor' : 'context-row'}
                data-id={h._id}
                onClick={() => setExpanded(open ? null : h._id)}
              >
                <td class="ctx-time">{formatTime(h['@timestamp'], zone)}</td>
                <td class="ctx-host" title={valueText(h.host)}>
                  {valueText(h.host)}
                </td>
                <td class="ctx-source" title={valueText(h.source)}>
                  {valueText(h.source)}
                </td>
                {extra.map((f) => (
                  <td key={f}>{valueText(h[f])}</td>
                ))}
                <td class="ctx-message">{valueText(h.message)}</td>
              </tr>,
              open && (
                <tr key={`${h._id}-detail`} class="ctx-detail">
                  <td colSpan={4 + extra.length}>
                    <EventView
                      hit={h}
                      zone={zone}
                      onFilter={(field, value, negate) => navigate(discoverWith(h, field, value, negate))}
                      onClose={() => setExpanded(null)}
                    />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
      <div class="ctx-more">
        <button type="button" data-testid="context-newer" disabled={state.newerDone || more !== null} onClick={() => void loadMore('newer')}>
          {more === 'newer' ? 'Loading…' : state.newerDone ? 'No newer events' : `Load ${MORE} newer`}
        </button>
        {state.newerDone && <span class="ctx-note">Newer events that arrive later show after a reload.</span>}
      </div>
      {moreError && (
        <p class="ctx-error" role="alert">
          Could not load more: {moreError}
        </p>
      )}
    </section>
  );
}

/** An in-app link: a plain click navigates without a reload; modifiers open a tab as usual. */
function linkClick(url: string) {
  return (e: MouseEvent) => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(url);
  };
}

/** The scoping checkboxes: the anchor's preferred fields first, then its other plain (scalar) fields. */
function scopeChoices(anchor: Hit, by: string[]): string[] {
  const plain = (k: string) => {
    const v = anchor[k];
    return v !== undefined && v !== null && typeof v !== 'object' && !NOT_SCOPES.has(k);
  };
  const preferred = PREFERRED_SCOPES.filter(plain);
  // The current scope is always shown, even for fields not in the preferred list.
  const chosen = by.filter((f) => !preferred.includes(f));
  return [...preferred, ...chosen];
}

/** Discover around these rows: the scope as filters, the range from the first to the last row. */
function discoverLink(anchor: Hit, by: string[], rows: Hit[]): string {
  let q = '';
  for (const f of by) if (anchor[f] !== undefined) q = andQuery(q, filterClause(f, anchor[f], false));
  const first = Date.parse(rows[0]['@timestamp']);
  const last = Date.parse(rows[rows.length - 1]['@timestamp']);
  return href('/app/discover', {
    q: q || undefined,
    from: Number.isFinite(first) ? new Date(first).toISOString() : undefined,
    to: Number.isFinite(last) ? new Date(last + 1).toISOString() : undefined,
  });
}

/** Discover filtered on one value of an event shown here (from its expanded view). */
function discoverWith(hit: Hit, field: string, value: unknown, negate: boolean): string {
  const t = Date.parse(hit['@timestamp']);
  return href('/app/discover', {
    q: filterClause(field, value, negate),
    from: Number.isFinite(t) ? new Date(t - 3_600_000).toISOString() : undefined,
    to: Number.isFinite(t) ? new Date(t + 3_600_000).toISOString() : undefined,
  });
}
