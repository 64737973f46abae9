/**
 * Live tail (/app/tail?q=): events matching the query as the server stores them, streamed over
 * server-sent events (read with fetch, so the token goes in a header), not polled.
 *
 * Built to stay responsive at thousands of events a second: events go into a TailBuffer (an
 * array push each), the page redraws at most once per animation frame, at most MAX_ROWS rows
 * are kept, and only the rows in view are in the DOM (fixed row height). What was not drawn is
 * counted and said. Every value is a Preact text child: log content is hostile.
 */
import type { JSX } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, streamEvents, type Hit } from '../api.js';
import { QueryBar } from '../components/query-bar.js';
import { EventView } from '../components/event-view.js';
import { formatNumber, formatTime, zoneLabel, useZone } from '../format.js';
import { andQuery, filterClause } from '../query-text.js';
import { href, navigate, type Route } from '../router.js';
import { MAX_ROWS, PAUSE_CAP, TailBuffer } from './tail-buffer.js';
import './tail.css';

/** Must match `.tail-row`'s height in tail.css: the window is computed from it. */
const ROW_HEIGHT = 24;
/** Rows drawn above and below the visible ones, so a quick scroll shows no blank. */
const OVERSCAN = 10;
/** The query bar's autocomplete looks at recent events. */
const SUGGEST_RANGE = { from: 'now-1h', to: 'now' };

type Status = 'connecting' | 'live' | 'reconnecting' | 'error';

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

/** What the "program/source" column shows: the program (with pid), syslog's app name, else the source. */
function origin(hit: Hit): string {
  if (hit.program !== undefined && hit.program !== null) return hit.pid !== undefined && hit.pid !== null ? `${text(hit.program)}[${text(hit.pid)}]` : text(hit.program);
  const app = hit['syslog.appname'];
  if (app !== undefined && app !== null) return text(app);
  return text(hit.source);
}

export function TailPage(props: { route: Route }): JSX.Element {
  const q = props.route.params.get('q') ?? '';
  const [zone] = useZone();
  const bufRef = useRef<TailBuffer | null>(null);
  if (bufRef.current === null) bufRef.current = new TailBuffer();
  const buf = bufRef.current;

  const [, setFrame] = useState(0);
  const [status, setStatus] = useState<Status>('connecting');
  const [problem, setProblem] = useState<string | null>(null);
  const [queryError, setQueryError] = useState<{ message: string; position?: number } | null>(null);
  const [rate, setRate] = useState<number | null>(null);
  const [restart, setRestart] = useState(0);
  const [selected, setSelected] = useState<{ seq: number; hit: Hit } | null>(null);

  // ---- batching: one redraw per animation frame, however many messages arrived ----
  const frameRef = useRef(0);
  const schedule = useCallback(() => {
    if (frameRef.current !== 0) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      buf.flush();
      setFrame((n) => n + 1);
    });
  }, [buf]);
  useEffect(() => () => cancelAnimationFrame(frameRef.current), []);

  // ---- the stream: restarted by a new query (or the same one submitted again) ----
  useEffect(() => {
    const ctl = new AbortController();
    buf.clear();
    setSelected(null);
    setRate(null);
    setQueryError(null);
    setProblem(null);
    setStatus('connecting');
    schedule();
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const onEvent = (event: string, data: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return; // a broken message is skipped; the next one carries on
      }
      if (event === 'hits') {
        const m = parsed as { hits?: Hit[]; dropped?: number };
        if (Array.isArray(m.hits)) buf.add(m.hits);
        if (typeof m.dropped === 'number') buf.serverDropped += m.dropped;
        schedule();
      } else if (event === 'stats') {
        const m = parsed as { rate?: number; dropped?: number };
        attempt = 0;
        setStatus('live');
        setProblem(null);
        if (typeof m.rate === 'number') setRate(m.rate);
        // The total is authoritative if the server dropped some after its last hits message.
        if (typeof m.dropped === 'number' && m.dropped > buf.serverDropped) {
          buf.serverDropped = m.dropped;
          schedule();
        }
      }
    };
    const connect = () => {
      streamEvents('/api/v1/tail', { q }, onEvent, ctl.signal).then(
        () => {
          if (ctl.signal.aborted) return;
          // The server closed the stream (restart, shutdown): connect again.
          setStatus('reconnecting');
          retry = setTimeout(connect, 1000);
        },
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          if (err instanceof ApiError && err.status === 400) {
            const position = typeof err.details.position === 'number' ? err.details.position : undefined;
            setQueryError({ message: err.message, position });
            setProblem(`The query does not parse: ${err.message}`);
            setStatus('error');
            return; // retrying the same query cannot help
          }
          if (err instanceof ApiError && err.status === 401) {
            setProblem('The server needs a token.');
            setStatus('error');
            return;
          }
          attempt++;
          setProblem(`The stream stopped: ${err instanceof Error ? err.message : String(err)}. Retrying…`);
          setStatus('reconnecting');
          retry = setTimeout(connect, Math.min(1000 * 2 ** attempt, 15_000));
        },
      );
    };
    connect();
    return () => {
      ctl.abort();
      clearTimeout(retry);
    };
  }, [q, restart, buf, schedule]);

  const submit = (next: string) => {
    if (next === q) setRestart((n) => n + 1);
    else navigate(href('/app/tail', { q: next }));
  };

  const togglePause = () => {
    if (buf.paused) buf.resume();
    else buf.pause();
    setFrame((n) => n + 1);
    schedule();
  };

  const onFilter = (field: string, value: unknown, negate: boolean) => {
    navigate(href('/app/tail', { q: andQuery(q, filterClause(field, value, negate)) }));
  };

  const notShown = buf.skipped + buf.serverDropped;

  return (
    <section class="page tail-page" data-testid="tail-page">
      <div class="tail-query">
        <QueryBar value={q} onSubmit={submit} error={queryError} range={SUGGEST_RANGE} placeholder="Tail events matching… (empty: all)" testId="tail-query" />
      </div>
      <div class="tail-toolbar">
        <button type="button" class={`tail-pause${buf.paused ? ' paused' : ''}`} data-testid="tail-pause" aria-pressed={buf.paused} onClick={togglePause}>
          {buf.paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
        <span class={`tail-status tail-status-${buf.paused ? 'paused' : status}`} data-testid="tail-status" data-status={buf.paused ? 'paused' : status}>
          {buf.paused ? 'Paused' : status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : status === 'reconnecting' ? 'Reconnecting…' : 'Stopped'}
        </span>
        <span class="tail-stat" data-testid="tail-rate" data-rate={rate ?? ''} title="Events matching the query per second, as the server counts them">
          <b>{rate === null ? '–' : formatNumber(Math.round(rate))}</b> events/s
        </span>
        <span class="tail-stat" data-testid="tail-shown" data-count={buf.shown} title={`Events drawn in the list (the newest ${formatNumber(MAX_ROWS)} are kept)`}>
          <b>{formatNumber(buf.shown)}</b> shown
        </span>
        {buf.paused && (
          <span class="tail-stat tail-held" data-testid="tail-paused-count" data-count={buf.pausedCount} title={`Up to ${formatNumber(PAUSE_CAP)} are kept and shown on resume`}>
            <b>{formatNumber(buf.pausedCount)}</b> new events while paused
          </span>
        )}
        <span
          class={`tail-stat${notShown > 0 ? ' tail-warn' : ' tail-quiet'}`}
          data-testid="tail-skipped"
          data-count={notShown}
          data-skipped={buf.skipped}
          data-dropped={buf.serverDropped}
          title="Events that arrived faster than the page could draw them (or while paused, beyond what is kept), plus those the server skipped for this page"
        >
          <b>{formatNumber(notShown)}</b> events not shown
          {buf.serverDropped > 0 && <span class="tail-sub"> ({formatNumber(buf.serverDropped)} dropped by the server)</span>}
        </span>
      </div>
      {problem && (
        <div class="tail-problem" role="alert" data-testid="tail-problem">
          {problem}
        </div>
      )}
      <TailList buf={buf} zone={zone} q={q} selectedSeq={selected?.seq ?? null} onSelect={(row) => setSelected(selected?.seq === row.seq ? null : row)} />
      {selected && (
        <div class="tail-detail" data-testid="tail-detail">
          <EventView hit={selected.hit} zone={zone} onFilter={onFilter} onClose={() => setSelected(null)} />
        </div>
      )}
    </section>
  );
}

/**
 * The windowed list: a scroll box as tall as all rows, with only the visible ones (plus
 * OVERSCAN) drawn. Newest at the bottom; it follows the bottom while the user is there and
 * stays put (even as old rows fall off the top) once they scroll up.
 */
function TailList(props: { buf: TailBuffer; zone: ReturnType<typeof useZone>[0]; q: string; selectedSeq: number | null; onSelect: (row: { seq: number; hit: Hit }) => void }): JSX.Element {
  const { buf, zone, selectedSeq, onSelect } = props;
  const rows = buf.rows;
  const boxRef = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const [viewTop, setViewTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);
  const [following, setFollowing] = useState(true);

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const ro = new ResizeObserver(() => setViewHeight(box.clientHeight));
    ro.observe(box);
    setViewHeight(box.clientHeight);
    return () => ro.disconnect();
  }, []);

  // After each draw: stick to the bottom, or keep the user's rows in place as the top is trimmed.
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    if (follow.current) box.scrollTop = box.scrollHeight;
    else if (buf.lastTrimmed > 0) box.scrollTop = Math.max(0, box.scrollTop - buf.lastTrimmed * ROW_HEIGHT);
    buf.lastTrimmed = 0;
    if (!follow.current) setViewTop(box.scrollTop);
  });

  const onScroll = () => {
    const box = boxRef.current;
    if (!box) return;
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW_HEIGHT / 2;
    follow.current = atBottom;
    if (atBottom !== following) setFollowing(atBottom);
    setViewTop(box.scrollTop);
  };

  const jumpToNewest = () => {
    follow.current = true;
    setFollowing(true);
    const box = boxRef.current;
    if (box) box.scrollTop = box.scrollHeight;
  };

  const visible = Math.ceil(viewHeight / ROW_HEIGHT);
  // Following: the last rows, whatever the scroll position was before this draw.
  const top = follow.current ? Math.max(0, rows.length - visible) : Math.floor(viewTop / ROW_HEIGHT);
  const start = Math.max(0, top - OVERSCAN);
  const end = Math.min(rows.length, top + visible + OVERSCAN);
  const drawn = rows.slice(start, end);

  return (
    <div class="tail-list-wrap">
      <div class="tail-row tail-head" role="row" aria-hidden="true">
        <span>Time</span>
        <span>Host</span>
        <span>Program / source</span>
        <span>Message</span>
      </div>
      <div class="tail-list" ref={boxRef} onScroll={onScroll} data-testid="tail-list" data-rows={rows.length} role="table" aria-label="Live events">
        {rows.length === 0 ? (
          <TailEmpty q={props.q} />
        ) : (
          <div class="tail-rows" style={{ height: `${rows.length * ROW_HEIGHT}px` }}>
            <div style={{ height: `${start * ROW_HEIGHT}px` }} />
            {drawn.map((row) => (
              <div
                key={row.seq}
                class={`tail-row${row.seq === selectedSeq ? ' selected' : ''}`}
                role="row"
                tabIndex={0}
                data-testid="tail-row"
                data-seq={row.seq}
                onClick={() => onSelect(row)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onSelect(row);
                  }
                }}
              >
                <span class="tail-time" role="cell" title={text(row.hit['@timestamp'])}>
                  {formatTime(row.hit['@timestamp'], zone)}
                </span>
                <span class="tail-host" role="cell">{text(row.hit.host)}</span>
                <span class="tail-origin" role="cell">{origin(row.hit)}</span>
                <span class="tail-message" role="cell" data-testid="tail-message">{text(row.hit.message)}</span>
              </div>
            ))}
          </div>
        )}
      </div>
      {!following && rows.length > 0 && (
        <button type="button" class="tail-jump" data-testid="tail-jump" onClick={jumpToNewest}>
          ↓ Newest
        </button>
      )}
      <div class="tail-foot">
        Times in {zoneLabel(zone)} · newest at the bottom · the last {formatNumber(MAX_ROWS)} events are kept
      </div>
    </div>
  );
}

/** No event yet: say what is being waited for and how to send one. */
function TailEmpty(props: { q: string }): JSX.Element {
  const origin = location.origin;
  return (
    <div class="tail-empty" data-testid="tail-empty">
      <p>
        Waiting for new events{props.q ? ' matching ' : ''}
        {props.q && <code>{props.q}</code>}… They appear here as the server stores them.
      </p>
      <p class="tail-muted">Send one, for example:</p>
      <pre>{`logger --tcp --server 127.0.0.1 --port 5514 -t myapp "hello from logger"\ncurl -H 'content-type: application/x-ndjson' --data-binary '{"message":"hello","host":"web-1"}' ${origin}/api/v1/ingest`}</pre>
    </div>
  );
}
