/**
 * An event as one line of a segment file: JSON whose keys are column names
 * (`_seq`, `ts`, `message`, …, `f<id>` for dynamic fields, `_overflow` for
 * values that fit no column). Built by concatenation, since this runs for
 * every event written; DuckDB's NDJSON reader turns the lines into columns.
 */
import { TAG, type FieldType, type LogEvent } from '../../core/event.js';
import { FIXED_COLUMNS, type Catalog, type FieldEntry } from './catalog.js';
import { inferType, place } from './values.js';

/** DuckDB reads JSON objects of up to 16 MiB; a line is kept below that, with room to spare. */
export const MAX_LINE_BYTES = 15 * 1024 * 1024;
/** Lines shorter than this (in UTF-16 units) cannot exceed MAX_LINE_BYTES. */
const SURELY_SHORT = Math.floor(MAX_LINE_BYTES / 3);

export function encodeRow(ev: LogEvent, seq: number, catalog: Catalog, columns: Set<string>, dirty: Set<FieldEntry>): string {
  const f = ev.fields;
  let s = '{"_seq":' + seq + ',"ts":' + Math.round(ev.ts);
  if (ev.id !== undefined && ev.id !== null) s += ',"_doc_id":' + JSON.stringify(ev.id);
  if (ev.index !== undefined && ev.index !== null) s += ',"_index":' + JSON.stringify(ev.index);
  const message = f.message;
  if (typeof message === 'string') s += ',"message":' + JSON.stringify(message);
  const host = scalarText(f.host);
  if (host !== null) s += ',"host":' + JSON.stringify(host);
  const source = scalarText(f.source);
  if (source !== null) s += ',"source":' + JSON.stringify(source);
  const level = scalarText(f.level);
  if (level !== null) s += ',"level":' + JSON.stringify(level);
  const tags = f.tags;
  if (Array.isArray(tags) && tags.length > 0) s += ',"tags":' + JSON.stringify(tags.map(String));
  let overflow: Record<string, string> | null = null;
  for (const name in f) {
    if (FIXED_COLUMNS[name] !== undefined) continue;
    const value = f[name];
    if (value === null || value === undefined) continue;
    const entry = catalog.get(name) as FieldEntry;
    const placed = place(entry.type, value);
    if (placed.ok && entry.column) {
      const v = placed.value;
      s += ',"' + entry.column + '":' + (typeof v === 'string' ? JSON.stringify(v) : String(v));
      columns.add(entry.column);
      if (entry.type === 'string' && typeof value !== 'string' && !Array.isArray(value)) noteConflict(entry, inferType(value), dirty);
      continue;
    }
    if (!placed.ok) noteConflict(entry, placed.conflict, dirty);
    // A null prototype: a field called `__proto__` is a key like any other.
    (overflow ??= Object.create(null) as Record<string, string>)[name] = placed.ok ? overflowText(value) : placed.text;
  }
  if (overflow) s += ',"_overflow":' + JSON.stringify(overflow);
  s += '}';
  // JSON.stringify writes a lone surrogate as an escape, which DuckDB's reader refuses.
  return s.length < SURELY_SHORT && s.indexOf('\\ud') < 0 ? s : finishLine(s);
}

/**
 * The rare line that needs care: lone surrogates become U+FFFD (as invalid
 * UTF-8 does on input), and a line too long for the reader has its longest
 * strings cut and is tagged `_truncated`.
 */
export function finishLine(line: string): string {
  let row = JSON.parse(line) as Record<string, unknown>;
  let out = line;
  if (/\\u[dD][89a-fA-F]/.test(line)) {
    row = wellFormed(row) as Record<string, unknown>;
    out = JSON.stringify(row);
  }
  for (let limit = 1 << 20; Buffer.byteLength(out) > MAX_LINE_BYTES && limit >= 64; limit >>= 1) {
    row = cut(row, limit) as Record<string, unknown>;
    const tags = Array.isArray(row.tags) ? (row.tags as string[]) : [];
    if (!tags.includes(TAG.truncated)) row.tags = [...tags, TAG.truncated];
    out = JSON.stringify(row);
  }
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(LONE_SURROGATE, '\ufffd');
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) out[k.replace(LONE_SURROGATE, '\ufffd')] = wellFormed(x);
    return out;
  }
  return v;
}

function cut(v: unknown, limit: number): unknown {
  if (typeof v === 'string') return v.length > limit ? v.slice(0, limit) : v;
  if (Array.isArray(v)) return v.map((x) => cut(x, limit));
  if (v !== null && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) out[k] = cut(x, limit);
    return out;
  }
  return v;
}

function noteConflict(entry: FieldEntry, type: FieldType, dirty: Set<FieldEntry>): void {
  if (type === entry.type || entry.conflicts.has(type)) return;
  entry.conflicts.add(type);
  dirty.add(entry);
}

function scalarText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

function overflowText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
