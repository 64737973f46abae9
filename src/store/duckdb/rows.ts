/**
 * An event as one line of a segment file: JSON whose keys are column names
 * (`_seq`, `ts`, `message`, …, `f<id>` for dynamic fields, `_overflow` for
 * values that fit no column). Built by concatenation, since this runs for
 * every event written; DuckDB's NDJSON reader turns the lines into columns.
 */
import { TAG, type FieldType, type LogEvent } from '../../core/event.js';
import { KIND, type FieldBatch, type ScannedEvent } from '../../core/json-fields.js';
import { FIXED_COLUMNS, type Catalog, type FieldEntry } from './catalog.js';
import { inferType, place } from './values.js';

/** DuckDB reads JSON objects of up to 16 MiB; a line is kept below that, with room to spare. */
export const MAX_LINE_BYTES = 15 * 1024 * 1024;

/**
 * Segment lines written straight into one growing Buffer: no string per
 * line, no join, no second copy to UTF-8. Encoding ran at a third of the
 * ingest thread's time and most of its garbage when lines were strings.
 */
export class LineWriter {
  buf: Buffer;
  pos = 0;
  /** A string of the current line was written with a lone surrogate escaped (DuckDB's reader refuses those). */
  private lone = false;

  /** `alloc` gives a buffer of its own memory of at least the size asked for (a spare one, when it has). */
  constructor(private readonly alloc: (minBytes: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n)) {
    this.buf = alloc(1 << 16);
  }

  /**
   * The bytes written so far, and a fresh buffer for what follows: no copy,
   * and the bytes own their memory (not Node's shared pool), so that they
   * can move to another thread.
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.alloc(Math.max(1 << 16, this.pos));
    this.pos = 0;
    return out;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Text known to be ASCII without characters JSON escapes: keys, numbers. */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  /**
   * A number as JSON. Whole numbers are written digit by digit: the
   * sequence number and time of every row went through string
   * concatenation and number-to-string at three times the cost.
   */
  number(n: number): void {
    if (!Number.isSafeInteger(n)) return this.ascii(String(n));
    this.ensure(17);
    if (n < 0) {
      this.buf[this.pos++] = 0x2d;
      n = -n;
    }
    if (n < 1e8) return this.digits(n);
    // Two halves of up to eight digits each keep the arithmetic in 32-bit integers.
    const high = Math.floor(n / 1e8);
    let low = n - high * 1e8;
    if (high >= 1e8) return this.ascii(String(n));
    this.digits(high);
    const buf = this.buf;
    let p = this.pos + 8;
    this.pos = p;
    for (let k = 0; k < 8; k++) {
      const q = (low / 10) | 0;
      buf[--p] = 48 + low - q * 10;
      low = q;
    }
  }

  /** A whole number below 10^8, at least 0. */
  private digits(x: number): void {
    let count = 1;
    for (let y = x; y >= 10; y = (y / 10) | 0) count++;
    const buf = this.buf;
    let p = this.pos + count;
    this.pos = p;
    do {
      const q = (x / 10) | 0;
      buf[--p] = 48 + x - q * 10;
      x = q;
    } while (x > 0);
  }

  /** `s` as a JSON string literal. */
  string(s: string): void {
    const n = s.length;
    this.ensure(3 * n + 2);
    const buf = this.buf;
    const start = this.pos;
    buf[start] = 0x22;
    if (n <= 32) {
      // Short text (hosts, names, numbers as text): checked and copied in one pass.
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        buf[start + 1 + n] = 0x22;
        this.pos = start + n + 2;
        return;
      }
    } else if (!NEEDS_ESCAPE.test(s)) {
      const written = buf.write(s, start + 1);
      buf[start + 1 + written] = 0x22;
      this.pos = start + written + 2;
      return;
    } else if (this.escapedAscii(s, start)) {
      return;
    }
    // Control characters and non-ASCII text: JSON.stringify escapes natively, faster than escaping here.
    this.json(JSON.stringify(s));
  }

  /**
   * ASCII text whose only escapes are quotes and backslashes (access logs: most of them quote their
   * request line and user agent), escaped byte by byte after the opening quote at `start`: a third
   * faster than JSON.stringify and a second copy. False, having written nothing, for any other text.
   */
  private escapedAscii(s: string, start: number): boolean {
    const buf = this.buf;
    let pos = start + 1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c >= 0x80) return false;
      if (c === 0x22 || c === 0x5c) buf[pos++] = 0x5c;
      buf[pos++] = c;
    }
    buf[pos] = 0x22;
    this.pos = pos + 1;
    return true;
  }

  /** `src[start, end)`, ASCII that already is JSON text; `text`, if given, is `src` as latin1 text. */
  raw(src: Buffer, text: string | null, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n < 64) {
      // Short values (hosts, numbers): a loop costs less than the native copy's call.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = start; i < end; i++) buf[pos++] = src[i];
      this.pos = pos;
    } else if (text !== null) {
      // A slice is a view, and writing it copies natively: 40 % faster than Buffer#copy, which makes a view of its own.
      this.pos += this.buf.write(text.slice(start, end), this.pos, 'latin1');
    } else {
      this.pos += src.copy(this.buf, this.pos, start, end);
    }
  }

  /** Text that already is JSON (from JSON.stringify). */
  json(text: string): void {
    if (text.indexOf('\\ud') >= 0) this.lone = true;
    this.ensure(3 * text.length);
    this.pos += this.buf.write(text, this.pos);
  }

  /** Ends the line started at `start`; a line that needs care is written again by finishLine. */
  endLine(start: number): void {
    this.ascii('}\n');
    if (!this.lone && this.pos - start <= MAX_LINE_BYTES) return;
    this.lone = false;
    const line = this.buf.toString('utf8', start, this.pos - 1);
    this.pos = start;
    this.json(finishLine(line));
    this.lone = false;
    this.ascii('\n');
  }
}

/** Characters a JSON string must escape, and surrogates (a lone one must be escaped too; pairs are rare enough to take the slow path). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A row's first keys: its sequence number, time, id and index. */
function writeHead(w: LineWriter, ev: LogEvent, seq: number): void {
  w.ascii('{"_seq":');
  w.number(seq);
  w.ascii(',"ts":');
  w.number(Math.round(ev.ts));
  if (ev.id !== undefined && ev.id !== null) {
    w.ascii(',"_doc_id":');
    w.string(ev.id);
  }
  if (ev.index !== undefined && ev.index !== null) {
    w.ascii(',"_index":');
    w.string(ev.index);
  }
}

/** Writes an event as one segment line (and its newline) into `w`. */
export function encodeRow(w: LineWriter, ev: LogEvent, seq: number, catalog: Catalog, columns: Set<string>, dirty: Set<FieldEntry>): void {
  const f = ev.fields;
  const start = w.pos;
  writeHead(w, ev, seq);
  const message = f.message;
  if (typeof message === 'string') {
    w.ascii(',"message":');
    w.string(message);
  }
  const host = scalarText(f.host);
  if (host !== null) {
    w.ascii(',"host":');
    w.string(host);
  }
  const source = scalarText(f.source);
  if (source !== null) {
    w.ascii(',"source":');
    w.string(source);
  }
  const level = scalarText(f.level);
  if (level !== null) {
    w.ascii(',"level":');
    w.string(level);
  }
  const tags = f.tags;
  if (Array.isArray(tags) && tags.length > 0) {
    w.ascii(',"tags":');
    w.json(JSON.stringify(tags.map(String)));
  }
  let overflow: Record<string, string> | null = null;
  for (const name in f) {
    if (FIXED_COLUMNS[name] !== undefined) continue;
    const value = f[name];
    if (value === null || value === undefined) continue;
    const entry = catalog.get(name) as FieldEntry;
    const placed = place(entry.type, value);
    if (placed.ok && entry.column) {
      const v = placed.value;
      w.ascii((entry.lineKey ??= ',"' + entry.column + '":'));
      if (typeof v === 'string') w.string(v);
      else if (typeof v === 'number') w.number(v);
      else w.ascii(String(v));
      columns.add(entry.column);
      if (entry.type === 'string' && typeof value !== 'string' && !Array.isArray(value)) noteConflict(entry, inferType(value), dirty);
      continue;
    }
    if (!placed.ok) noteConflict(entry, placed.conflict, dirty);
    // A null prototype: a field called `__proto__` is a key like any other.
    (overflow ??= Object.create(null) as Record<string, string>)[name] = placed.ok ? overflowText(value) : placed.text;
  }
  if (overflow) {
    w.ascii(',"_overflow":');
    w.json(JSON.stringify(overflow));
  }
  writeShape(w, ev);
  w.endLine(start);
}

/**
 * Writes a scanned event's line from its document's bytes, as encodeRow would
 * write it from the event's fields: the same keys in the same order, and each
 * value's JSON as it came (the scanner takes only strings whose bytes are what
 * encodeRow writes for them); only fractions and lists are rebuilt. False,
 * having written nothing, when a value would not go into its column as it is
 * (a field without a column, a value of another type than its column's, a
 * number in a text column): encodeRow then writes the row from the fields.
 */
export function encodeScannedRow(w: LineWriter, ev: ScannedEvent, seq: number, catalog: Catalog, columns: Set<string>): boolean {
  const { batch, first, count } = ev;
  const { kinds, starts, ends } = batch;
  let message = -1;
  let host = -1;
  let source = -1;
  let level = -1;
  for (let i = first; i < first + count; i++) {
    const kind = kinds[i];
    if (kind === KIND.null) continue;
    const name = batch.name(i);
    if (FIXED_COLUMNS[name] !== undefined) {
      if (kind > KIND.escaped) return false;
      if (name === 'message') message = i;
      else if (name === 'host') host = i;
      else if (name === 'source') source = i;
      else if (name === 'level') level = i;
      else return false;
      continue;
    }
    const entry = catalog.get(name);
    if (entry === undefined || entry.column === null) return false;
    if (kind === KIND.float) {
      // Written as a number, as `place` writes it, when its column takes it as it is.
      const n = batch.value(i);
      if (typeof n !== 'number' || !(entry.type === 'float' || (entry.type === 'integer' && Number.isSafeInteger(n)))) return false;
    } else if (!fitsAsIs(entry.type, kind)) return false;
  }
  const start = w.pos;
  writeHead(w, ev, seq);
  scannedText(w, ',"message":', batch, message);
  scannedText(w, ',"host":', batch, host);
  scannedText(w, ',"source":', batch, source);
  scannedText(w, ',"level":', batch, level);
  for (let i = first; i < first + count; i++) {
    const kind = kinds[i];
    if (kind === KIND.null) continue;
    const name = batch.name(i);
    if (FIXED_COLUMNS[name] !== undefined) continue;
    const entry = catalog.get(name) as FieldEntry;
    w.ascii((entry.lineKey ??= ',"' + entry.column + '":'));
    if (kind === KIND.true) w.ascii('true');
    else if (kind === KIND.false) w.ascii('false');
    else if (kind === KIND.float) w.number(batch.value(i) as number);
    // A list in a text column is its JSON text, as `place` makes it: only this value is rebuilt.
    else if (kind === KIND.array) w.string(JSON.stringify(batch.value(i)));
    else w.raw(batch.body, batch.text, starts[i], ends[i]);
    columns.add(entry.column as string);
  }
  writeShape(w, ev);
  w.endLine(start);
  return true;
}

/** A row's last key: the shape of the document it was sent as, if it has one (core/shape.ts). */
function writeShape(w: LineWriter, ev: LogEvent): void {
  const shape = ev.shape;
  if (shape === undefined) return;
  if (shape !== lastShape) {
    lastShape = shape;
    const json = JSON.stringify(shape);
    // Not when it escapes a lone surrogate: w.string marks those, for finishLine to repair.
    lastShapeKey = /^[\x20-\x7e]*$/.test(json) && !json.includes('\\ud') ? ',"_shape":' + json : null;
  }
  if (lastShapeKey !== null) return w.ascii(lastShapeKey);
  w.ascii(',"_shape":');
  w.string(shape);
}

/** The last shape written and its key and JSON, when ASCII: documents of a stream share one (scanned shapes are the same string). */
let lastShape: string | undefined;
let lastShapeKey: string | null = null;

/** Field `i` of a scanned batch under `key`, if it has one (`i` ≥ 0). */
function scannedText(w: LineWriter, key: string, batch: FieldBatch, i: number): void {
  if (i < 0) return;
  w.ascii(key);
  w.raw(batch.body, batch.text, batch.starts[i], batch.ends[i]);
}

/** Whether a value of `kind` goes into a column of `type` as `place` puts it there without a conflict (a list into text, as its JSON). */
function fitsAsIs(type: FieldType, kind: number): boolean {
  switch (kind) {
    case KIND.string:
    case KIND.escaped:
      return type === 'string';
    case KIND.integer:
      return type === 'integer' || type === 'float';
    case KIND.true:
    case KIND.false:
      return type === 'boolean';
    case KIND.array:
      return type === 'string';
    default:
      return false;
  }
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
    // A document cut to fit is no longer as it was sent: its source is rebuilt from what was kept.
    delete row._shape;
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
