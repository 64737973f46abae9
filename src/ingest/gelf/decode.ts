/**
 * GELF payload decoder: bytes of one (already reassembled) GELF message in,
 * one flat Logmill event out. Pure: no sockets, no clock, no storage.
 *
 * Accepted encodings, detected from the first bytes:
 *   - gzip  (1f 8b)
 *   - zlib  (RFC 1950 header: CM = 8 and (CMF*256 + FLG) % 31 == 0; in
 *            practice 78 01 / 78 5e / 78 9c / 78 da)
 *   - plain JSON (anything else; a UTF-8 BOM, surrounding whitespace and
 *            trailing NUL bytes — the GELF-over-TCP frame delimiter — are tolerated)
 * Inflation is bounded by `maxDecompressedBytes` through zlib's
 * `maxOutputLength`, so a zip bomb stops at the bound instead of allocating.
 * A plain payload larger than the bound is refused too.
 *
 * Mapping (GELF 1.1 → Logmill event):
 *   short_message          → message        (required; falls back to a
 *                                             top-level "message" string, as
 *                                             Graylog does)
 *   full_message           → full_message
 *   host                   → host           (required, non-blank string)
 *   timestamp (s.frac)     → @timestamp     (milliseconds since the epoch,
 *                                             rounded to the microsecond, so
 *                                             it may carry a fraction). Absent
 *                                             timestamp → no @timestamp: the
 *                                             caller stamps the receive time.
 *   level (0..7)           → level (name: emerg alert crit err warning notice
 *                                    info debug) and gelf.level (number).
 *                             Absent level → neither field. (The spec's
 *                             "default 1 (ALERT)" is deliberately not applied:
 *                             Graylog doesn't either, and it would turn every
 *                             level-less message into an alert.)
 *   version                → not emitted; if present it must be "1.0"/"1.1"
 *                             (or the numbers 1, 1.0, 1.1).
 *   _name (additional)     → name (underscore stripped)
 *   other top-level keys   → kept under their own name, same rules as
 *                             additional fields (deprecated GELF 1.0 fields
 *                             facility/file/line land here).
 *
 * Additional-field rules:
 *   - `_id` is reserved by the spec; it is renamed `gelf_id` (kept, not
 *     dropped). Likewise any additional field whose name would collide with
 *     a field this decoder emits (message, full_message, host, level,
 *     @timestamp, id, or anything starting with "gelf.") becomes
 *     `gelf_<name>`, so the standard fields always win.
 *   - field names must match the spec's ^[\w.\-]+$; other characters are
 *     replaced by "_" (never dropped). An empty name after stripping ("_")
 *     is dropped.
 *   - values: string / number / boolean / null are kept as-is; nested
 *     objects are flattened with dots (`_http: {status: 200}` → `http.status`);
 *     arrays are kept as their JSON text (one field, bounded cardinality);
 *     nesting deeper than `maxDepth` is kept as JSON text.
 *   - more than `maxFields` output fields → the message is refused.
 *
 * Errors are strings starting with "GELF: " naming what was wrong.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

export type GelfFieldValue = string | number | boolean | null;
export type GelfEvent = Record<string, GelfFieldValue>;

export type GelfDecodeResult = { ok: true; event: GelfEvent } | { ok: false; error: string };

export interface GelfDecodeOptions {
  /** Largest decompressed (or plain) payload accepted, in bytes. Default 8 MiB. */
  maxDecompressedBytes?: number;
  /** Largest number of fields in the output event. Default 1000. */
  maxFields?: number;
  /** Deepest object nesting flattened into dotted names. Default 16. */
  maxDepth?: number;
}

export const GELF_DEFAULT_MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_FIELDS = 1000;
const DEFAULT_MAX_DEPTH = 16;

/** Syslog severity names, indexed by GELF level number. */
export const GELF_LEVEL_NAMES: readonly string[] = Object.freeze([
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
]);

/** Largest accepted timestamp: 9999-12-31T23:59:59.999Z, in seconds. */
const MAX_TIMESTAMP_S = 253402300799.999;

const FIELD_NAME_OK = /^[\w.\-]+$/;
const FIELD_NAME_BAD_CHARS = /[^\w.\-]/g;

/** Top-level GELF keys handled explicitly (not copied as additional fields). */
const STANDARD_KEYS = new Set(['version', 'host', 'short_message', 'full_message', 'timestamp', 'level']);

/** Output names owned by the standard mapping; additional fields colliding get `gelf_` prefixed. */
const RESERVED_OUTPUT = new Set(['id', 'message', 'full_message', 'host', 'level', '@timestamp']);

export type GelfCompression = 'gzip' | 'zlib' | 'none';

/** Which encoding `decodeGelfPayload` would apply to these bytes. */
export function detectGelfCompression(buf: Buffer): GelfCompression {
  if (buf.length >= 2) {
    const b0 = buf[0]!;
    const b1 = buf[1]!;
    if (b0 === 0x1f && b1 === 0x8b) return 'gzip';
    // RFC 1950: CM (low nibble) = 8 (deflate), CINFO (high nibble) <= 7,
    // and the 16-bit header is a multiple of 31. No JSON text can start so.
    if ((b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0) return 'zlib';
  }
  return 'none';
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/** Assign without ever touching a prototype (`__proto__` is a legal field name). */
function setField(out: GelfEvent, key: string, value: GelfFieldValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Number, or a string holding a finite decimal number; otherwise undefined. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function safeJsonText(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return typeof s === 'string' ? s : String(v);
  } catch {
    return '[unserializable]';
  }
}

class TooManyFields extends Error {}

/**
 * Flatten `value` into `out` under `name`. Objects recurse with dotted names;
 * arrays and too-deep objects become JSON text.
 */
function addFlattened(
  out: GelfEvent,
  name: string,
  value: unknown,
  depth: number,
  counter: { n: number; max: number; maxDepth: number },
): void {
  if (isPlainObject(value)) {
    if (depth >= counter.maxDepth) {
      addLeaf(out, name, safeJsonText(value), counter);
      return;
    }
    for (const k of Object.keys(value)) {
      const sub = sanitizeName(k);
      if (sub === '') continue;
      addFlattened(out, `${name}.${sub}`, value[k], depth + 1, counter);
    }
    return;
  }
  if (Array.isArray(value)) {
    addLeaf(out, name, safeJsonText(value), counter);
    return;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
    addLeaf(out, name, value, counter);
  }
  // undefined / functions cannot come out of JSON.parse; ignore defensively.
}

function addLeaf(out: GelfEvent, name: string, value: GelfFieldValue, counter: { n: number; max: number }): void {
  if (!Object.prototype.hasOwnProperty.call(out, name)) {
    counter.n++;
    if (counter.n > counter.max) throw new TooManyFields();
  }
  setField(out, name, value);
}

function sanitizeName(name: string): string {
  return FIELD_NAME_OK.test(name) ? name : name.replace(FIELD_NAME_BAD_CHARS, '_');
}

/** Output name of an additional (or unknown top-level) field, or '' to drop it. */
function additionalName(key: string): string {
  const stripped = key.charCodeAt(0) === 0x5f /* _ */ ? key.slice(1) : key;
  const name = sanitizeName(stripped);
  if (name === '') return '';
  if (RESERVED_OUTPUT.has(name) || name.startsWith('gelf.')) return `gelf_${name}`;
  return name;
}

function inflateBounded(buf: Buffer, kind: 'gzip' | 'zlib', max: number): Buffer | string {
  try {
    return kind === 'gzip' ? gunzipSync(buf, { maxOutputLength: max }) : inflateSync(buf, { maxOutputLength: max });
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      return `GELF: ${kind} payload inflates beyond the ${max}-byte limit`;
    }
    const msg = typeof err.message === 'string' ? err.message : String(e);
    return `GELF: invalid ${kind} payload (${msg})`;
  }
}

/**
 * Decode one GELF payload (plain, gzip or zlib JSON) into a Logmill event.
 * Never throws.
 */
export function decodeGelfPayload(buf: Buffer, options: GelfDecodeOptions = {}): GelfDecodeResult {
  const maxBytes = options.maxDecompressedBytes ?? GELF_DEFAULT_MAX_DECOMPRESSED_BYTES;
  const maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;

  if (buf.length === 0) return fail('GELF: empty payload');
  if (buf.length >= 2 && buf[0] === 0x1e && buf[1] === 0x0f) {
    return fail('GELF: payload is a chunk (magic 1e 0f); reassemble it with GelfChunkAssembler first');
  }

  let json: Buffer;
  const compression = detectGelfCompression(buf);
  if (compression === 'none') {
    json = buf;
  } else {
    const r = inflateBounded(buf, compression, maxBytes);
    if (typeof r === 'string') return fail(r);
    json = r;
  }
  if (json.length > maxBytes) return fail(`GELF: payload of ${json.length} bytes exceeds the ${maxBytes}-byte limit`);

  // Trim trailing NULs (GELF TCP delimiter) and a leading UTF-8 BOM.
  let start = 0;
  let end = json.length;
  while (end > 0 && json[end - 1] === 0) end--;
  if (end - start >= 3 && json[0] === 0xef && json[1] === 0xbb && json[2] === 0xbf) start = 3;
  if (end <= start) return fail('GELF: empty payload');

  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8', start, end));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return fail(`GELF: payload is not valid JSON (${msg})`);
  }
  if (!isPlainObject(doc)) return fail(`GELF: payload must be a JSON object, got ${describe(doc)}`);

  return mapGelf(doc, maxFields, maxDepth);
}

function mapGelf(doc: Record<string, unknown>, maxFields: number, maxDepth: number): GelfDecodeResult {
  // version: optional, but if present it must be a GELF 1.x version.
  if (Object.prototype.hasOwnProperty.call(doc, 'version')) {
    const v = doc['version'];
    const ok =
      (typeof v === 'string' && (v === '1.0' || v === '1.1' || v === '1')) ||
      (typeof v === 'number' && (v === 1 || v === 1.1));
    if (!ok) return fail(`GELF: unsupported "version" ${safeJsonText(v)} (expected "1.1")`);
  }

  const host = doc['host'];
  if (host === undefined || host === null) return fail('GELF: missing required field "host"');
  if (typeof host !== 'string') return fail(`GELF: field "host" must be a string, got ${describe(host)}`);
  if (host.trim() === '') return fail('GELF: required field "host" is empty');

  let message: string;
  const short = doc['short_message'];
  if (short === undefined || short === null) {
    const fallback = doc['message'];
    if (typeof fallback === 'string' && fallback.trim() !== '') {
      message = fallback;
    } else {
      return fail('GELF: missing required field "short_message"');
    }
  } else if (typeof short !== 'string') {
    return fail(`GELF: field "short_message" must be a string, got ${describe(short)}`);
  } else if (short.trim() === '') {
    return fail('GELF: required field "short_message" is empty');
  } else {
    message = short;
  }

  const full = doc['full_message'];
  if (full !== undefined && full !== null && typeof full !== 'string') {
    return fail(`GELF: field "full_message" must be a string, got ${describe(full)}`);
  }

  let timestampMs: number | undefined;
  const ts = doc['timestamp'];
  if (ts !== undefined && ts !== null) {
    const n = toNumber(ts);
    if (n === undefined) return fail(`GELF: field "timestamp" must be a number of seconds, got ${safeJsonText(ts)}`);
    if (n < 0 || n > MAX_TIMESTAMP_S) return fail(`GELF: field "timestamp" out of range: ${n}`);
    timestampMs = Math.round(n * 1e6) / 1e3;
  }

  let level: number | undefined;
  const lv = doc['level'];
  if (lv !== undefined && lv !== null) {
    const n = toNumber(lv);
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 7) {
      return fail(`GELF: field "level" must be a syslog severity 0..7, got ${safeJsonText(lv)}`);
    }
    level = n;
  }

  const out: GelfEvent = {};
  out['message'] = message;
  if (typeof full === 'string') out['full_message'] = full;
  out['host'] = host;
  if (timestampMs !== undefined) out['@timestamp'] = timestampMs;
  if (level !== undefined) {
    out['level'] = GELF_LEVEL_NAMES[level]!;
    out['gelf.level'] = level;
  }

  const counter = { n: Object.keys(out).length, max: maxFields, maxDepth };
  try {
    for (const key of Object.keys(doc)) {
      if (STANDARD_KEYS.has(key)) continue;
      // The fallback "message" was used as the message itself.
      if (key === 'message' && (short === undefined || short === null)) continue;
      const name = additionalName(key);
      if (name === '') continue;
      addFlattened(out, name, doc[key], 1, counter);
    }
  } catch (e) {
    if (e instanceof TooManyFields) return fail(`GELF: too many fields (limit ${maxFields})`);
    const msg = e instanceof Error ? e.message : String(e);
    return fail(`GELF: could not map fields (${msg})`);
  }
  return { ok: true, event: out };
}
