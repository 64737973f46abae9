/**
 * One dashboard panel's body: it asks the API for its own query over the dashboard's range
 * and draws the answer (count over time, top values, a single metric, a table of events or
 * of a piped query). A failed request (a bad query, a field that is not there) is shown in
 * the panel only; the rest of the dashboard keeps working. Everything from the events is text.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, type FieldValues, type HistogramAnswer, type SearchAnswer, type SearchHits, type SearchTable } from '../api.js';
import { formatNumber, formatTime, type Zone } from '../format.js';
import { BarChart, PieChart } from './bar-chart.js';
import { valueText } from './event-view.js';
import { metricLabel, metricQuery, type PanelSpec } from './panel-model.js';
import { ResultTable } from './result-table.js';
import { TimeChart } from './time-chart.js';
import type { TimeRangeValue } from './time-picker.js';
import './panel.css';

type Answer =
  | { type: 'histogram'; data: HistogramAnswer }
  | { type: 'top'; data: FieldValues }
  | { type: 'metric'; value: unknown }
  | { type: 'events'; data: SearchHits }
  | { type: 'table'; data: SearchTable };

/** The request a panel makes, as a key: when it changes, the panel asks again. */
function requestKey(p: PanelSpec, range: TimeRangeValue): string {
  return JSON.stringify([p.type, p.q, p.field, p.size, p.metric, p.percentile, range.from, range.to]);
}

async function load(p: PanelSpec, range: TimeRangeValue, signal: AbortSignal): Promise<Answer> {
  const base = { from: range.from, to: range.to };
  switch (p.type) {
    case 'histogram':
      return {
        type: 'histogram',
        data: await getJson<HistogramAnswer>('/api/v1/histogram', { ...base, q: p.q, by: p.field, size: p.field ? (p.size ?? 10) : undefined }, signal),
      };
    case 'top':
      return { type: 'top', data: await getJson<FieldValues>('/api/v1/fields', { ...base, q: p.q, field: p.field, size: p.size ?? 10 }, signal) };
    case 'metric': {
      const a = await getJson<SearchAnswer>('/api/v1/search', { ...base, q: metricQuery(p) }, signal);
      if (!('rows' in a)) throw new Error('the server answered events, not a table, for the metric query');
      return { type: 'metric', value: a.rows[0]?.[0] ?? null };
    }
    case 'events':
    case 'table': {
      const a = await getJson<SearchAnswer>('/api/v1/search', { ...base, q: p.q, limit: p.type === 'events' ? (p.size ?? 50) : undefined }, signal);
      // A "table of events" whose query has pipes answers a table; show what came.
      return 'rows' in a ? { type: 'table', data: a } : { type: 'events', data: a };
    }
  }
}

function errorText(e: unknown): { message: string; position?: number } {
  if (e instanceof ApiError) {
    const position = typeof e.details.position === 'number' ? e.details.position : undefined;
    return { message: e.message, position };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** The height of an element, followed as the panel is resized. */
function useHeight(): [(el: HTMLElement | null) => void, number] {
  const [height, setHeight] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  useEffect(() => () => observer.current?.disconnect(), []);
  const ref = (el: HTMLElement | null) => {
    observer.current?.disconnect();
    if (!el) return;
    observer.current = new ResizeObserver((entries) => setHeight(Math.floor(entries[0]?.contentRect.height ?? 0)));
    observer.current.observe(el);
  };
  return [ref, height];
}

export interface PanelBodyProps {
  panel: PanelSpec;
  range: TimeRangeValue;
  zone: Zone;
  /** Goes up by one at every refresh of the dashboard: the panel asks again. */
  tick: number;
  onSelectRange?: (fromMs: number, toMs: number) => void;
}

export function PanelBody(props: PanelBodyProps): JSX.Element {
  const { panel, range, zone } = props;
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<{ message: string; position?: number } | null>(null);
  // The request whose answer is shown: loading from the very render that asks something new.
  const [done, setDone] = useState<string | null>(null);
  const [boxRef, height] = useHeight();
  const key = requestKey(panel, range);
  const asked = `${key}#${props.tick}`;
  const loading = done !== asked;

  useEffect(() => {
    const ctl = new AbortController();
    load(panel, range, ctl.signal).then(
      (a) => {
        setAnswer(a);
        setError(null);
        setDone(asked);
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        setAnswer(null);
        setError(errorText(e));
        setDone(asked);
      },
    );
    // Leaving, or asking something else, stops the request (the server stops the query).
    return () => ctl.abort();
  }, [asked]);

  return (
    <div class="panel-body" ref={boxRef} data-testid="panel-body" data-loading={loading ? 'true' : 'false'}>
      {loading && <div class="panel-progress" data-testid="panel-loading" aria-label="loading" />}
      {error ? (
        <div class="panel-error" data-testid="panel-error" role="alert">
          <strong>{error.position !== undefined ? `Query error at position ${error.position}` : 'Error'}</strong>
          <span>{error.message}</span>
          {panel.q && error.position !== undefined && (
            <code class="panel-error-query">
              {panel.q.slice(0, error.position)}
              <mark>{panel.q.slice(error.position, error.position + 1) || ' '}</mark>
              {panel.q.slice(error.position + 1)}
            </code>
          )}
        </div>
      ) : answer ? (
        <AnswerView answer={answer} panel={panel} zone={zone} height={height} onSelectRange={props.onSelectRange} />
      ) : null}
    </div>
  );
}

function AnswerView(props: { answer: Answer; panel: PanelSpec; zone: Zone; height: number; onSelectRange?: (a: number, b: number) => void }): JSX.Element {
  const { answer, panel, zone, height } = props;
  switch (answer.type) {
    case 'histogram': {
      const total = answer.data.buckets.reduce((s, b) => s + b.count, 0);
      if (total === 0) return <Empty />;
      // The chart's legend (stacked series) takes a line or two under the plot.
      const legend = answer.data.series && answer.data.series.length > 0 ? 44 : 22;
      return <TimeChart data={answer.data} zone={zone} height={Math.max(80, height - legend)} onSelectRange={props.onSelectRange} />;
    }
    case 'top': {
      const values = answer.data.values;
      if (values.length === 0) return <Empty text={`No event in the range has the field ${panel.field ?? ''}.`} />;
      const labels = values.map((v) => valueText(v.value));
      const counts = values.map((v) => v.count);
      return (
        <div class="panel-top" data-testid="panel-top">
          {panel.chart === 'pie' ? (
            <PieChart labels={labels} values={counts} size={Math.max(100, Math.min(height - 30, 260))} />
          ) : (
            <BarChart labels={labels} values={counts} horizontal />
          )}
          <div class="panel-foot">
            {formatNumber(answer.data.count)} of {formatNumber(answer.data.total)} events have {panel.field}
          </div>
        </div>
      );
    }
    case 'metric': {
      const v = answer.value;
      const text = typeof v === 'number' ? formatNumber(Math.round(v * 1000) / 1000) : v === null || v === undefined ? '—' : valueText(v);
      return (
        <div class="panel-metric">
          <div class="panel-metric-value" data-testid="metric-value" data-value={typeof v === 'number' ? String(v) : ''}>
            {text}
          </div>
          <div class="panel-metric-label">{metricLabel(panel)}</div>
        </div>
      );
    }
    case 'events':
      return <EventsTable hits={answer.data} columns={panel.columns?.length ? panel.columns : ['message']} zone={zone} />;
    case 'table':
      if (answer.data.rows.length === 0) return <Empty />;
      return <ResultTable columns={answer.data.columns} rows={answer.data.rows} zone={zone} chart={height > 260} />;
  }
}

function Empty(props: { text?: string }): JSX.Element {
  return (
    <div class="panel-empty" data-testid="panel-empty">
      {props.text ?? 'No events match in this time range.'}
    </div>
  );
}

function EventsTable(props: { hits: SearchHits; columns: string[]; zone: Zone }): JSX.Element {
  const { hits, columns, zone } = props;
  if (hits.hits.length === 0) return <Empty />;
  return (
    <div class="panel-events">
      <table class="panel-table" data-testid="panel-events">
        <thead>
          <tr>
            <th>Time</th>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {hits.hits.map((h) => (
            <tr key={h._id} data-testid="panel-event">
              <td class="panel-time">{formatTime(h['@timestamp'], zone)}</td>
              {columns.map((c) => (
                <td key={c} class={c === 'message' ? 'panel-message' : ''}>
                  {h[c] === undefined ? '' : valueText(h[c])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {hits.total > hits.hits.length && (
        <div class="panel-foot">
          {formatNumber(hits.hits.length)} of {formatNumber(hits.total)} events
        </div>
      )}
    </div>
  );
}
