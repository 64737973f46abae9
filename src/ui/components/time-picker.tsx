/**
 * The time range of a view: quick ranges (relative to now), an absolute from/to the user types
 * (ISO-8601, epoch ms or `now-15m`, as the API accepts), and a refresh every N seconds.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { formatTime, useZone, type Zone } from '../format.js';
import './time-picker.css';

export interface TimeRangeValue {
  from: string;
  to: string;
}

export const QUICK_RANGES: { label: string; from: string }[] = [
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 30 days', from: 'now-30d' },
];

const REFRESH_CHOICES = [0, 5, 10, 30, 60, 300];

/** An absolute time shown in the user's zone, to the second; a relative one (now-1h) as typed. */
function endText(t: string, zone: Zone): string {
  const ms = /^\d{4}-\d\d-\d\d/.test(t) ? Date.parse(t) : /^\d{10,}$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(ms)) return t;
  const text = formatTime(ms, zone);
  return text.endsWith('.000') ? text.slice(0, -4) : text;
}

/** A short name for the range: the quick range's label, or "from → to". */
export function rangeLabel(v: TimeRangeValue, zone: Zone = 'utc'): string {
  const quick = QUICK_RANGES.find((r) => r.from === v.from && (v.to === 'now' || v.to === ''));
  if (quick) return quick.label;
  return `${endText(v.from || 'now-15m', zone)} → ${endText(v.to || 'now', zone)}`;
}

function refreshLabel(s: number): string {
  if (s === 0) return 'Off';
  return s < 60 ? `${s} s` : `${s / 60} min`;
}

export function TimePicker(props: {
  value: TimeRangeValue;
  onChange: (v: TimeRangeValue) => void;
  refreshSeconds: number;
  onRefreshChange: (seconds: number) => void;
}): JSX.Element {
  const [zone] = useZone();
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState(props.value.from);
  const [to, setTo] = useState(props.value.to);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setFrom(props.value.from);
    setTo(props.value.to);
  }, [props.value.from, props.value.to]);

  // A click outside closes the popover, as menus do.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const apply = (v: TimeRangeValue) => {
    props.onChange(v);
    setOpen(false);
  };
  const choices = REFRESH_CHOICES.includes(props.refreshSeconds) ? REFRESH_CHOICES : [...REFRESH_CHOICES, props.refreshSeconds].sort((a, b) => a - b);

  return (
    <div class="time-picker" ref={root}>
      <button type="button" class="tp-button" data-testid="time-picker" onClick={() => setOpen(!open)} title="Time range">
        <span class="tp-icon" aria-hidden="true">◷</span>
        {rangeLabel(props.value, zone)}
      </button>
      <label class="tp-refresh" title="Refresh every">
        <span aria-hidden="true">⟳</span>
        <select
          data-testid="refresh-select"
          value={String(props.refreshSeconds)}
          onChange={(e) => props.onRefreshChange(Number((e.currentTarget as HTMLSelectElement).value))}
        >
          {choices.map((s) => (
            <option value={String(s)}>{refreshLabel(s)}</option>
          ))}
        </select>
      </label>
      {open && (
        <div class="tp-popover" data-testid="time-popover">
          <div class="tp-quick">
            <div class="tp-title">Quick ranges</div>
            {QUICK_RANGES.map((r) => (
              <button type="button" class="tp-quick-item" data-testid={`quick-${r.from}`} onClick={() => apply({ from: r.from, to: 'now' })}>
                {r.label}
              </button>
            ))}
          </div>
          <form
            class="tp-absolute"
            onSubmit={(e) => {
              e.preventDefault();
              apply({ from: from.trim() || 'now-15m', to: to.trim() || 'now' });
            }}
          >
            <div class="tp-title">Absolute range</div>
            <label>
              From
              <input data-testid="time-from" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} placeholder="2026-12-01T00:00:00Z or now-1h" />
            </label>
            <label>
              To
              <input data-testid="time-to" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} placeholder="now" />
            </label>
            <div class="tp-hint">ISO-8601, epoch ms, or now-15m / now-7d</div>
            <button type="submit" class="primary" data-testid="time-apply">
              Apply
            </button>
          </form>
        </div>
      )}
    </div>
  );
}
