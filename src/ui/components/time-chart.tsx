/**
 * Events over time as bars (uPlot), stacked by the histogram's `by` series when present.
 * Dragging across the chart selects a range; a click on a bar narrows to its bucket. Both call
 * `onSelectRange(fromMs, toMs)`. uPlot's own legend is off: ours is drawn by Preact as text, so
 * a series value (log content) never reaches markup.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistogramAnswer } from '../api.js';
import { formatNumber, formatTime, type Zone } from '../format.js';
import './time-chart.css';

export interface TimeChartProps {
  data: HistogramAnswer;
  zone: Zone;
  height?: number;
  onSelectRange?: (fromMs: number, toMs: number) => void;
}

interface Layer {
  label: string;
  color: string;
  counts: number[];
}

const PALETTE_SIZE = 10;

/** Colours come from the theme's CSS variables (canvas cannot read var() itself). */
function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Level values get the colours people expect; anything else takes the palette in order. */
function levelColor(value: string): string | null {
  const v = value.toLowerCase();
  if (/^(err|error|crit|critical|alert|emerg|fatal|panic)$/.test(v)) return cssVar('--error', '#d33');
  if (/^(warn|warning)$/.test(v)) return cssVar('--warn', '#c80');
  if (/^(notice|info|information)$/.test(v)) return cssVar('--ok', '#393');
  if (/^(debug|trace)$/.test(v)) return cssVar('--muted', '#888');
  return null;
}

export function seriesLabel(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function layersOf(data: HistogramAnswer): Layer[] {
  if (!data.series || data.series.length === 0) return [{ label: 'events', color: cssVar('--accent', '#36c'), counts: data.buckets.map((b) => b.count) }];
  const byLevel = data.by === 'level' || data.by === 'severity';
  const layers: Layer[] = data.series.map((s, i) => {
    const label = seriesLabel(s.value);
    return { label, color: (byLevel && levelColor(label)) || cssVar(`--c${i % PALETTE_SIZE}`, '#36c'), counts: s.counts };
  });
  if (data.other && data.other.some((n) => n > 0)) layers.push({ label: 'other', color: cssVar('--muted', '#888'), counts: data.other });
  return layers;
}

export function TimeChart(props: TimeChartProps): JSX.Element {
  const { data, zone } = props;
  const height = props.height ?? 140;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const onSelect = useRef(props.onSelectRange);
  onSelect.current = props.onSelectRange;
  const [hover, setHover] = useState<number | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const layers = useMemo(() => layersOf(data), [data]);
  const times = useMemo(() => data.buckets.map((b) => Date.parse(b.time) / 1000), [data]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const visible = layers.filter((l) => !hidden.has(l.label));
    // Stacked: series i holds the sum of layers 0..i, drawn from the top down so each covers the next.
    const sums: number[][] = [];
    let acc = times.map(() => 0);
    for (const l of visible) {
      acc = acc.map((v, i) => v + (l.counts[i] ?? 0));
      sums.push(acc);
    }
    const order = visible.map((_, i) => i).reverse();
    const fg = cssVar('--muted', '#888');
    const grid = cssVar('--border', '#ddd');
    const bars = uPlot.paths.bars!({ size: [0.92, 64], align: 1 });
    const step = data.intervalMs / 1000;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false }, y: false },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      tzDate: zone === 'utc' ? (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : (ts) => new Date(ts * 1e3),
      scales: {
        // Room for the last bar, which starts at the last bucket's time.
        x: { time: true, range: (_u, min, max) => [min, max + step] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.08)] },
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' },
        {
          stroke: fg,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          font: '11px system-ui, sans-serif',
          size: 48,
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? compact(v) : '')),
        },
      ],
      series: [{}, ...order.map((i) => ({ label: visible[i].label, fill: visible[i].color, stroke: visible[i].color, width: 0, paths: bars, points: { show: false } }))],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x') * 1000;
            const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onSelect.current?.(Math.round(a), Math.round(b));
          },
        ],
        setCursor: [
          (u) => {
            const left = u.cursor.left ?? -1;
            if (left < 0) return setHover(null);
            // The bucket under the pointer: bars start at their time, so take the last one that started.
            const t = u.posToVal(left, 'x');
            let idx = -1;
            for (let i = 0; i < times.length && times[i] <= t; i++) idx = i;
            setHover(idx >= 0 && t < times[idx] + step ? idx : null);
          },
        ],
      },
    };
    const u = new uPlot(opts, [times, ...order.map((i) => sums[i])], el);
    plot.current = u;
    // A click (no drag) on a bar narrows to its bucket.
    let downX = -1;
    const over = u.over;
    const onDown = (e: MouseEvent) => (downX = e.clientX);
    const onUp = (e: MouseEvent) => {
      if (downX < 0 || Math.abs(e.clientX - downX) > 2) return;
      downX = -1;
      const t = u.posToVal(e.clientX - over.getBoundingClientRect().left, 'x');
      let idx = -1;
      for (let i = 0; i < times.length && times[i] <= t; i++) idx = i;
      if (idx >= 0 && t < times[idx] + step) onSelect.current?.(times[idx] * 1000, times[idx] * 1000 + data.intervalMs);
    };
    over.addEventListener('mousedown', onDown);
    over.addEventListener('mouseup', onUp);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      over.removeEventListener('mousedown', onDown);
      over.removeEventListener('mouseup', onUp);
      u.destroy();
      plot.current = null;
    };
  }, [layers, times, zone, height, hidden, data.intervalMs]);

  const toggle = (label: string) => {
    const next = new Set(hidden);
    if (next.has(label)) next.delete(label);
    else next.add(label);
    setHidden(next);
  };
  const total = (i: number) => layers.reduce((s, l) => s + (hidden.has(l.label) ? 0 : l.counts[i] ?? 0), 0);

  return (
    <div class="time-chart" data-testid="histogram">
      <div class="tc-info">
        {hover !== null && data.buckets[hover] ? (
          <span data-testid="histogram-hover">
            <b>{formatTime(data.buckets[hover].time, zone)}</b> · {formatNumber(total(hover))} events
            {layers.length > 1 &&
              layers
                .filter((l) => !hidden.has(l.label) && (l.counts[hover] ?? 0) > 0)
                .slice(0, 6)
                .map((l) => (
                  <span class="tc-hover-item">
                    <i class="tc-swatch" style={{ background: l.color }} />
                    {l.label} {formatNumber(l.counts[hover] ?? 0)}
                  </span>
                ))}
          </span>
        ) : (
          <span class="tc-hint">per {intervalText(data.intervalMs)} · drag to select a range, click a bar to narrow to it</span>
        )}
      </div>
      <div class="tc-plot" ref={box} />
      {layers.length > 1 && (
        <div class="tc-legend" data-testid="histogram-legend">
          {layers.map((l) => (
            <button type="button" class={`tc-legend-item${hidden.has(l.label) ? ' off' : ''}`} onClick={() => toggle(l.label)} title="Show or hide">
              <i class="tc-swatch" style={{ background: l.color }} />
              {l.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

function compact(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${+(n / 1e3).toFixed(1)}k`;
  return formatNumber(n);
}

/** "1 hour", "30 seconds", "5 minutes": the bucket size in words. */
export function intervalText(ms: number): string {
  const units: [number, string][] = [
    [7 * 86_400_000, 'week'],
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
    [1, 'millisecond'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return n === 1 ? `1 ${name}` : `${formatNumber(n)} ${name}s`;
    }
  }
  return `${formatNumber(ms)} ms`;
}
