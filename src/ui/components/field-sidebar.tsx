/**
 * The field list beside Discover's table: every field of the query's events in the range, with
 * its type (and a warning mark when stored with conflicting types), expandable to the share of
 * events that have it and its top 5 values; a click on a value filters for it, the minus
 * button filters it out, and a button adds or removes the field as a column.
 * Names and values are Preact text children (they come from log content).
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, getJson, type FieldInfo, type FieldType, type FieldValues } from '../api.js';
import { formatNumber } from '../format.js';
import { splitPipes } from '../query-text.js';
import { valueText } from './event-view.js';
import type { TimeRangeValue } from './time-picker.js';
import './field-sidebar.css';

export interface FieldSidebarProps {
  q: string;
  range: TimeRangeValue;
  columns: string[];
  onFilter: (field: string, value: unknown, negate: boolean) => void;
  onToggleColumn: (field: string) => void;
}

/** A one-letter mark per type, as field lists usually show them. */
const TYPE_MARK: Record<FieldType, string> = { string: 't', integer: '#', float: '#', boolean: 'b', timestamp: 'd' };

type Load<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string };

function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function FieldSidebar(props: FieldSidebarProps): JSX.Element {
  const { range, columns, onFilter, onToggleColumn } = props;
  // The fields of the events the filter matches: a piped query's pipes do not apply here.
  const q = splitPipes(props.q).filter.trim() || '*';
  const [fields, setFields] = useState<Load<FieldInfo[]>>({ state: 'loading' });
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState<string | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    // A new search keeps the old list until the new one comes, so the sidebar does not flicker.
    setFields((prev) => (prev.state === 'ok' ? prev : { state: 'loading' }));
    getJson<{ fields: FieldInfo[] }>('/api/v1/fields', { q, from: range.from, to: range.to }, ctl.signal)
      .then((a) => setFields({ state: 'ok', data: a.fields }))
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setFields({ state: 'error', message: errorText(e) });
      });
    return () => ctl.abort();
  }, [q, range.from, range.to]);

  const { selected, available } = useMemo(() => {
    const list = fields.state === 'ok' ? fields.data : [];
    const needle = search.trim().toLowerCase();
    const match = (f: FieldInfo) => !needle || f.name.toLowerCase().includes(needle);
    const byName = (a: FieldInfo, b: FieldInfo) => a.name.localeCompare(b.name);
    return {
      // The columns in their table order, then every other field by name.
      selected: columns.map((c) => list.find((f) => f.name === c) ?? { name: c, type: 'string' as FieldType, conflicts: [], storage: 'column' as const }).filter(match),
      available: list.filter((f) => !columns.includes(f.name) && match(f)).sort(byName),
    };
  }, [fields, columns, search]);

  const row = (f: FieldInfo) => (
    <FieldRow
      key={f.name}
      field={f}
      isColumn={columns.includes(f.name)}
      open={open === f.name}
      onOpen={() => setOpen(open === f.name ? null : f.name)}
      q={q}
      range={range}
      onFilter={onFilter}
      onToggleColumn={onToggleColumn}
    />
  );

  return (
    <aside class="field-sidebar" data-testid="field-sidebar">
      <input
        class="fs-search"
        type="search"
        placeholder="Search field names"
        aria-label="Search field names"
        data-testid="field-search"
        value={search}
        onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
      />
      {fields.state === 'loading' && <div class="fs-note">Loading fields…</div>}
      {fields.state === 'error' && (
        <div class="fs-error" role="alert">
          Could not list fields: {fields.message}
        </div>
      )}
      {selected.length > 0 && (
        <>
          <div class="fs-heading">Selected fields</div>
          <ul class="fs-list">{selected.map(row)}</ul>
        </>
      )}
      {fields.state === 'ok' && (
        <>
          <div class="fs-heading">
            Available fields <span class="fs-count">{formatNumber(available.length)}</span>
          </div>
          <ul class="fs-list">{available.map(row)}</ul>
          {available.length === 0 && <div class="fs-note">{search ? 'No field name matches.' : 'No fields in this time range.'}</div>}
        </>
      )}
    </aside>
  );
}

function FieldRow(props: {
  field: FieldInfo;
  isColumn: boolean;
  open: boolean;
  onOpen: () => void;
  q: string;
  range: TimeRangeValue;
  onFilter: FieldSidebarProps['onFilter'];
  onToggleColumn: FieldSidebarProps['onToggleColumn'];
}): JSX.Element {
  const { field, isColumn, open, onOpen, onToggleColumn } = props;
  const conflicts = field.conflicts.filter((t) => t !== field.type);
  return (
    <li class={`fs-field${open ? ' open' : ''}`} data-testid={`field-${field.name}`} data-field={field.name}>
      <div class="fs-row">
        <button type="button" class="fs-name" aria-expanded={open} onClick={onOpen} title={`${field.name} (${field.type}${conflicts.length ? `; also stored as ${conflicts.join(', ')}` : ''})`}>
          <span class={`fs-type t-${field.type}`} aria-label={field.type}>
            {TYPE_MARK[field.type] ?? '?'}
          </span>
          <span class="fs-label">{field.name}</span>
          {conflicts.length > 0 && (
            <span class="fs-conflict" data-testid="field-conflict" title={`Conflicting types: ${[field.type, ...conflicts].join(', ')}`}>
              ⚠
            </span>
          )}
        </button>
        <button
          type="button"
          class="fs-col"
          data-testid="field-toggle-column"
          title={isColumn ? 'Remove column' : 'Add as column'}
          aria-label={isColumn ? `Remove column ${field.name}` : `Add column ${field.name}`}
          onClick={() => onToggleColumn(field.name)}
        >
          {isColumn ? '−' : '+'}
        </button>
      </div>
      {open && <FieldDetails {...props} />}
    </li>
  );
}

function FieldDetails(props: { field: FieldInfo; q: string; range: TimeRangeValue; onFilter: FieldSidebarProps['onFilter'] }): JSX.Element {
  const { field, q, range, onFilter } = props;
  const [values, setValues] = useState<Load<FieldValues>>({ state: 'loading' });
  useEffect(() => {
    const ctl = new AbortController();
    setValues({ state: 'loading' });
    getJson<FieldValues>('/api/v1/fields', { q: q || '*', from: range.from, to: range.to, field: field.name, size: 5 }, ctl.signal)
      .then((data) => setValues({ state: 'ok', data }))
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setValues({ state: 'error', message: errorText(e) });
      });
    return () => ctl.abort();
  }, [field.name, q, range.from, range.to]);

  if (values.state === 'loading') return <div class="fs-details fs-note">Loading top values…</div>;
  if (values.state === 'error') return <div class="fs-details fs-error">{values.message}</div>;
  const v = values.data;
  const share = v.total > 0 ? (v.count / v.total) * 100 : 0;
  return (
    <div class="fs-details" data-testid="field-details">
      <div class="fs-share" data-testid="field-share" title={`${formatNumber(v.count)} of ${formatNumber(v.total)} events have ${field.name}`}>
        <span>
          In {formatNumber(v.count)} of {formatNumber(v.total)} events
        </span>
        <span class="fs-pct">{share >= 10 || share === 0 ? share.toFixed(0) : share.toFixed(1)}%</span>
      </div>
      <div class="fs-bar">
        <PercentBar pct={share} />
      </div>
      {v.values.length === 0 && <div class="fs-note">No values.</div>}
      <ul class="fs-values">
        {v.values.map((x, i) => {
          const pct = v.count > 0 ? (x.count / v.count) * 100 : 0;
          const text = x.value === null ? 'null' : valueText(x.value);
          return (
            <li key={i} class="fs-value" data-testid="field-value" data-value={text}>
              <button type="button" class="fs-value-main" title={`Filter for ${text}`} onClick={() => onFilter(field.name, x.value, false)}>
                <span class="fs-value-text">{text === '' ? '(empty)' : text}</span>
                <span class="fs-value-count">{formatNumber(x.count)}</span>
                <span class="fs-value-bar">
                  <PercentBar pct={pct} />
                </span>
              </button>
              <button type="button" class="fs-minus" data-testid="field-value-out" title={`Filter out ${text}`} aria-label={`Filter out ${text}`} onClick={() => onFilter(field.name, x.value, true)}>
                −
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** A bar filled to `pct`: its width set through the style property (allowed by the CSP, unlike a style attribute in markup). */
function PercentBar(props: { pct: number }): JSX.Element {
  return (
    <span class="pct-bar">
      <span class="pct-fill" style={{ width: `${Math.max(0, Math.min(100, props.pct))}%` }} />
    </span>
  );
}
