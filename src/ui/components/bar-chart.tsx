/**
 * Small charts drawn as SVG elements by Preact, so that every label (a field value written by
 * a stranger) is a text node and never markup: bars (vertical or horizontal) and pies.
 * Colours come from the theme's variables through CSS classes (bar-chart.css).
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatNumber } from '../format.js';
import './bar-chart.css';

export interface BarChartProps {
  labels: string[];
  values: number[];
  height?: number;
  horizontal?: boolean;
  onClick?: (index: number) => void;
}

/** Labels longer than this are cut in the chart (the full text is in the bar's tooltip). */
const LABEL_CHARS = 28;

function cut(label: string, n = LABEL_CHARS): string {
  return label.length > n ? `${label.slice(0, n - 1)}…` : label;
}

/** A rounded maximum for the value axis, so its ticks are readable numbers. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * mag >= max) return m * mag;
  return 10 * mag;
}

/** The width of an element, followed as it resizes (so the SVG is drawn at its real size and its text is not stretched). */
function useWidth(initial: number): [(el: Element | null) => void, number] {
  const [width, setWidth] = useState(initial);
  const observer = useRef<ResizeObserver | null>(null);
  useEffect(() => () => observer.current?.disconnect(), []);
  const ref = (el: Element | null) => {
    observer.current?.disconnect();
    if (!el) return;
    observer.current = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.current.observe(el);
  };
  return [ref, width];
}

export function BarChart(props: BarChartProps): JSX.Element {
  const { labels, values, onClick } = props;
  const [ref, measured] = useWidth(props.horizontal ? 600 : 800);
  const height = props.height ?? 220;
  const n = Math.min(labels.length, values.length);
  const max = niceMax(Math.max(0, ...values.slice(0, n).map((v) => (Number.isFinite(v) ? v : 0))));
  const clickable = onClick ? 'clickable' : '';

  if (props.horizontal) {
    // One row per label: the label at the left, the bar, the number at its end.
    const row = 22;
    const width = Math.max(240, measured);
    const labelW = Math.min(190, Math.round(width * 0.35));
    const barW = width - labelW - 80;
    const h = Math.max(row, n * row) + 4;
    return (
      <div class="bar-chart-box" ref={ref}>
      <svg class="bar-chart horizontal" data-testid="bar-chart" viewBox={`0 0 ${width} ${h}`} width={width} height={h} role="img" aria-label="bar chart">
        {Array.from({ length: n }, (_, i) => {
          const v = Number.isFinite(values[i]) ? values[i] : 0;
          const w = Math.max(1, (v / max) * barW);
          const y = i * row + 2;
          return (
            <g key={i} class={`bar ${clickable}`} onClick={onClick ? () => onClick(i) : undefined} data-testid="bar">
              <title>{`${labels[i]}: ${formatNumber(v)}`}</title>
              <text class="label" x={labelW - 6} y={y + row / 2 + 4} text-anchor="end">
                {cut(labels[i])}
              </text>
              <rect class="fill" x={labelW} y={y + 3} width={w} height={row - 6} rx={2} />
              <text class="value" x={labelW + w + 5} y={y + row / 2 + 4}>
                {formatNumber(v)}
              </text>
            </g>
          );
        })}
      </svg>
      </div>
    );
  }

  // Vertical bars: a value axis at the left, labels under the bars (slanted when many).
  const width = Math.max(200, measured);
  const left = 56;
  const right = 8;
  const top = 8;
  const slanted = n > 8 || labels.slice(0, n).some((l) => l.length > 10);
  const bottom = slanted ? 80 : 24;
  const plotH = height - top - bottom;
  const step = n > 0 ? (width - left - right) / n : 0;
  const barW = Math.max(1, Math.min(60, step * 0.7));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  return (
    <div class="bar-chart-box" ref={ref}>
    <svg class="bar-chart" data-testid="bar-chart" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label="bar chart">
      {ticks.map((t, i) => {
        const y = top + plotH - (t / max) * plotH;
        return (
          <g key={`t${i}`} class="tick">
            <line x1={left} x2={width - right} y1={y} y2={y} />
            <text x={left - 6} y={y + 4} text-anchor="end">
              {formatNumber(Math.round(t * 100) / 100)}
            </text>
          </g>
        );
      })}
      {Array.from({ length: n }, (_, i) => {
        const v = Number.isFinite(values[i]) ? values[i] : 0;
        const h = Math.max(v > 0 ? 1 : 0, (v / max) * plotH);
        const cx = left + step * i + step / 2;
        const ly = top + plotH + 14;
        return (
          <g key={i} class={`bar ${clickable}`} onClick={onClick ? () => onClick(i) : undefined} data-testid="bar">
            <title>{`${labels[i]}: ${formatNumber(v)}`}</title>
            <rect class="hit" x={cx - step / 2} y={top} width={step} height={plotH} />
            <rect class="fill" x={cx - barW / 2} y={top + plotH - h} width={barW} height={h} rx={2} />
            {slanted ? (
              <text class="label" x={cx} y={ly} text-anchor="end" transform={`rotate(-35 ${cx} ${ly})`}>
                {cut(labels[i], 16)}
              </text>
            ) : (
              <text class="label" x={cx} y={ly} text-anchor="middle">
                {cut(labels[i], 14)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
    </div>
  );
}

export interface PieChartProps {
  labels: string[];
  values: number[];
  size?: number;
}

/** Slices past this many are summed into "Other", so the colours stay distinct. */
const PIE_SLICES = 8;

export function PieChart(props: PieChartProps): JSX.Element {
  const size = props.size ?? 200;
  const [hover, setHover] = useState<number | null>(null);
  let items = props.labels.map((label, i) => ({ label, value: Math.max(0, Number.isFinite(props.values[i]) ? props.values[i] : 0) }));
  if (items.length > PIE_SLICES) {
    const rest = items.slice(PIE_SLICES - 1).reduce((s, x) => s + x.value, 0);
    items = [...items.slice(0, PIE_SLICES - 1), { label: 'Other', value: rest }];
  }
  const total = items.reduce((s, x) => s + x.value, 0);
  const r = size / 2 - 2;
  const c = size / 2;
  let angle = -Math.PI / 2;
  const slices = items.map((item, i) => {
    const frac = total > 0 ? item.value / total : 0;
    const a0 = angle;
    const a1 = angle + frac * 2 * Math.PI;
    angle = a1;
    let d: string;
    if (frac >= 0.9999) {
      // A full circle cannot be one arc: two halves.
      d = `M ${c} ${c - r} A ${r} ${r} 0 1 1 ${c} ${c + r} A ${r} ${r} 0 1 1 ${c} ${c - r} Z`;
    } else {
      const large = a1 - a0 > Math.PI ? 1 : 0;
      const x0 = c + r * Math.cos(a0);
      const y0 = c + r * Math.sin(a0);
      const x1 = c + r * Math.cos(a1);
      const y1 = c + r * Math.sin(a1);
      d = `M ${c} ${c} L ${x0} ${y0} A ${r} ${r} 0 ${large} 1 ${x1} ${y1} Z`;
    }
    return { ...item, d, frac, i };
  });
  return (
    <div class="pie-chart" data-testid="pie-chart">
      <svg viewBox={`0 0 ${size} ${size}`} width={size} height={size} role="img" aria-label="pie chart">
        {total === 0 ? (
          <circle class="empty" cx={c} cy={c} r={r} />
        ) : (
          slices
            .filter((s) => s.frac > 0)
            .map((s) => (
              <path
                key={s.i}
                d={s.d}
                class={`slice slice-${s.i}${hover === s.i ? ' hover' : ''}`}
                onMouseEnter={() => setHover(s.i)}
                onMouseLeave={() => setHover(null)}
              >
                <title>{`${s.label}: ${formatNumber(s.value)} (${(s.frac * 100).toFixed(1)}%)`}</title>
              </path>
            ))
        )}
      </svg>
      <ul class="pie-legend">
        {slices.map((s) => (
          <li key={s.i} class={hover === s.i ? 'hover' : ''} onMouseEnter={() => setHover(s.i)} onMouseLeave={() => setHover(null)} data-testid="pie-legend-item">
            <span class={`swatch slice-${s.i}`} />
            <span class="pl-label" title={s.label}>
              {cut(s.label, 32)}
            </span>
            <span class="pl-value">{formatNumber(s.value)}</span>
            <span class="pl-share">{total > 0 ? `${(s.frac * 100).toFixed(1)}%` : ''}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
