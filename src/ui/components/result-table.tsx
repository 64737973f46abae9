/**
 * A piped query's answer (`| stats … by …`, `| top`): its table (numbers right-aligned with
 * thousands separators), with a chart above it — bars for one key and one metric, lines (uPlot)
 * when a key is a time bucket. Cells are text children; uPlot's own legend is off and ours is
 * drawn by Preact, so no value ever reaches markup.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber, formatTime, type Zone } from '../format.js';
import { BarChart } from './bar-chart.js';
import { valueText } from './event-view.js';
import './result-table.css';

export interface ResultTableProps {
  columns: string[];
  rows: unknown[][];
  zone: Zone;
  chart?: boolean;
}

export type ColumnKind = 'number' | 'time' | 'text';

const ISO_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/;
const TIME_NAME = /(^@?timestamp$|time|bucket|date|^_?t$)/i;

/**
 * What a column holds, from its values: numbers (all non-null values are numbers), time
 * buckets (ISO-8601 strings, or epoch-ms numbers in a column named like a time), or text.
 */
export function columnKind(name: string, values: unknown[]): ColumnKind {
  const present = values.filter((v) => v !== null && v !== undefined && v !== '');
  if (present.length === 0) return 'text';
  if (present.every((v) => typeof v === 'string' && ISO_TIME.test(v))) return 'time';
  if (present.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    // Epoch milliseconds between 2001 and 2286, in a column called like a time.
    if (TIME_NAME.test(name) && present.every((v) => (v as number) > 1e12 && (v as number) < 1e13)) return 'time';
    return 'number';
  }
  return 'text';
}

function timeMs(v: unknown): number {
  return typeof v === 'number' ? v : Date.parse(String(v));
}

/** Series drawn at most, one per theme colour (the rest of the split values are left out of the chart, said under it). */
const MAX_SERIES = 5;
/** Bars drawn at most. */
const MAX_BARS = 30;

interface ChartPlan {
  kind: 'bars' | 'lines';
  /** The time or key column. */
  key: number;
  /** The metric column. */
  metric: number;
  /** For lines: the column whose values split the series. */
  split?: number;
}

export function planChart(kinds: ColumnKind[]): ChartPlan | null {
  const metric = kinds.indexOf('number');
  if (metric < 0) return null;
  const time = kinds.indexOf('time');
  const texts = kinds.map((k, i) => (k === 'text' ? i : -1)).filter((i) => i >= 0);
  if (time >= 0) return { kind: 'lines', key: time, metric, split: texts[0] };
  if (texts.length >= 1) return { kind: 'bars', key: texts[0], metric };
  return null;
}

export function ResultTable(props: ResultTableProps): JSX.Element {
  const { columns, rows, zone } = props;
  const kinds = useMemo(() => columns.map((c, i) => columnKind(c, rows.map((r) => r[i]))), [columns, rows]);
  const plan = props.chart === false ? null : planChart(kinds);

  return (
    <div class="result-table-box" data-testid="result">
      {plan && rows.length > 0 && (
        <div class="result-chart" data-testid="result-chart">
          {plan.kind === 'bars' ? <ResultBars columns={columns} rows={rows} plan={plan} kinds={kinds} /> : <ResultLines columns={columns} rows={rows} plan={plan} zone={zone} />}
        </div>
      )}
      <div class="result-scroll">
        <table class="result-table" data-testid="result-table">
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={i} class={kinds[i] === 'number' ? 'num' : ''}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr key={r} data-testid="result-row">
                {columns.map((_, i) => (
                  <td key={i} class={kinds[i] === 'number' ? 'num' : kinds[i] === 'time' ? 'time' : ''}>
                    <Cell value={row[i]} kind={kinds[i]} zone={zone} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p class="result-empty">The query matched no events in this time range.</p>}
      </div>
    </div>
  );
}

function Cell(props: { value: unknown; kind: ColumnKind; zone: Zone }): JSX.Element {
  const { value, kind, zone } = props;
  if (value === null || value === undefined) return <span class="null">—</span>;
  if (kind === 'number' && typeof value === 'number') return <>{formatNumber(value)}</>;
  if (kind === 'time') return <span title={valueText(value)}>{formatTime(typeof value === 'number' ? value : String(value), zone)}</span>;
  return <>{valueText(value)}</>;
}

function ResultBars(props: { columns: string[]; rows: unknown[][]; plan: ChartPlan; kinds: ColumnKind[] }): JSX.Element {
  const { rows, plan, kinds } = props;
  // With several text keys, a bar is their combination ("web-1 / 500").
  const textKeys = kinds.map((k, i) => (k === 'text' ? i : -1)).filter((i) => i >= 0);
  const shown = rows.slice(0, MAX_BARS);
  const labels = shown.map((r) => textKeys.map((i) => (r[i] === null || r[i] === undefined ? '(none)' : valueText(r[i]))).join(' / '));
  const values = shown.map((r) => Number(r[plan.metric]) || 0);
  const horizontal = labels.some((l) => l.length > 14) || labels.length > 12;
  return (
    <>
      <div class="chart-title">
        {props.columns[plan.metric]} by {textKeys.map((i) => props.columns[i]).join(', ')}
      </div>
      <BarChart labels={labels} values={values} horizontal={horizontal} height={220} />
      {rows.length > MAX_BARS && <div class="chart-note">The first {MAX_BARS} of {formatNumber(rows.length)} rows are drawn.</div>}
    </>
  );
}

/** A theme colour by its variable name, for the canvas (which cannot read CSS variables itself). */
function themeColour(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const SERIES_VARS = ['--accent', '--ok', '--warn', '--error', '--muted'];

function ResultLines(props: { columns: string[]; rows: unknown[][]; plan: ChartPlan; zone: Zone }): JSX.Element {
  const { columns, rows, plan, zone } = props;
  const box = useRef<HTMLDivElement>(null);

  // x: the sorted distinct times; one series per split value (the largest first), or one.
  const data = useMemo(() => {
    const times = [...new Set(rows.map((r) => timeMs(r[plan.key])).filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    const groups = new Map<string, (number | null)[]>();
    const totals = new Map<string, number>();
    for (const r of rows) {
      const name = plan.split === undefined ? columns[plan.metric] : r[plan.split] === null || r[plan.split] === undefined ? '(none)' : valueText(r[plan.split]);
      const i = at.get(timeMs(r[plan.key]));
      if (i === undefined) continue;
      let g = groups.get(name);
      if (!g) groups.set(name, (g = times.map(() => null)));
      const v = Number(r[plan.metric]);
      g[i] = (g[i] ?? 0) + (Number.isFinite(v) ? v : 0);
      totals.set(name, (totals.get(name) ?? 0) + (Number.isFinite(v) ? v : 0));
    }
    const names = [...groups.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
    const drawn = names.slice(0, MAX_SERIES);
    return { times, names: drawn, hidden: names.length - drawn.length, series: drawn.map((n) => groups.get(n)!) };
  }, [columns, rows, plan]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const colours = SERIES_VARS.map((v) => themeColour(v, '#3b82f6'));
    const axis = { stroke: themeColour('--muted', '#888'), grid: { stroke: themeColour('--border', '#ddd'), width: 1 }, ticks: { stroke: themeColour('--border', '#ddd'), width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      ms: 1,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      tzDate: zone === 'utc' ? (ts: number) => uPlot.tzDate(new Date(ts), 'Etc/UTC') : (ts: number) => new Date(ts),
      scales: { x: { time: true } },
      axes: [
        { ...axis },
        { ...axis, size: 60, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatNumber(t)) },
      ],
      series: [{}, ...data.names.map((name, i) => ({ label: name, stroke: colours[i % colours.length], width: 2, points: { show: data.times.length < 150, size: 4 }, spanGaps: true }))],
    };
    const chart = new uPlot(opts, [data.times, ...data.series] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [data, zone]);

  return (
    <>
      <div class="chart-title">
        {columns[plan.metric]} over {columns[plan.key]}
        {plan.split !== undefined ? ` by ${columns[plan.split]}` : ''}
      </div>
      <div class="result-lines" ref={box} data-testid="line-chart" />
      <ul class="result-legend">
        {data.names.map((name, i) => (
          <li key={name}>
            <span class={`swatch slice-${i % SERIES_VARS.length}`} />
            {name}
          </li>
        ))}
        {data.hidden > 0 && <li class="muted">and {formatNumber(data.hidden)} more not drawn</li>}
      </ul>
    </>
  );
}
