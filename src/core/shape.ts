/**
 * A document's shape: what it takes, beside its flattened fields, to give an
 * Elasticsearch client back the JSON object it sent (issue 24: "documents as
 * indexed"). Events keep their fields flat (`http.response.status`), typed by
 * their column, and always have a time; a client that sent
 * `{"http":{"response":{"status":"200"}},"tags":null}` without `@timestamp`
 * must still read back exactly that.
 *
 * The shape is a template: the document's keys, in its order and nesting,
 * with each leaf replaced by how to rebuild it from the stored field of the
 * same dotted name:
 *   0 text, 1 number, 2 boolean, 3 array (of scalars): the stored value, as that type;
 *   4 the event's time as ISO-8601 with milliseconds (what the store answers),
 *   5 the event's time as epoch milliseconds, 6 as ISO-8601 in whole seconds;
 *   null, and {} for an empty object: themselves;
 *   [v]: the literal value v, kept whole because storage would not give it back
 *        (a date text in another format than the store's, `"0200"` stored in a
 *        number column, a list of objects, a name Logmill had to repair…).
 * Documents of one stream share their shape, so that the column holding it
 * is dictionary-encoded down to almost nothing; literals are the rare
 * exception that costs bytes.
 *
 * What is not kept (and documented in docs/elasticsearch.md): the spelling of
 * numbers (`1.0` comes back `1`, as JSON.parse gives it anyway), integers past
 * 2^53, the order of keys made only of digits (JavaScript orders those first
 * in every object), and values Logmill cut to its size limits.
 */
import { KIND, type FieldBatch, type FieldName, type ScannedDocument } from './json-fields.js';
import { cleanFieldName } from './normalize.js';
import { microsToIso, parseIsoMicros } from './time.js';

export const LEAF = { text: 0, number: 1, boolean: 2, array: 3, timeIso: 4, timeEpochMs: 5, timeIsoSeconds: 6 } as const;

/** Objects this deep are stored as JSON text by normalize.ts (its MAX_DEPTH), so kept as literals here. */
const MAX_DEPTH = 32;

/**
 * Whether a text value could come back from storage as something else: a
 * number column stores `"0200"` as 200, a date column stores
 * `"2026-01-01 10:00"` as its instant, and text in brackets reads back as a
 * list. Only texts whose first character could start a number, a date or a
 * list (ASCII below `A`, `[`, `\`, non-ASCII spaces) need the full look.
 */
export function textMayChange(s: string): boolean {
  if (s.length === 0) return false;
  const c = s.charCodeAt(0);
  if (c >= 0x41 && c !== 0x5b && c !== 0x5c && c < 0x80) return false;
  if (c === 0x5b) return s.charCodeAt(s.length - 1) === 0x5d;
  if (s.trim() !== '' && Number.isFinite(Number(s))) return String(Number(s)) !== s;
  const micros = s.length <= 40 ? parseIsoMicros(s) : null;
  return micros !== null && microsToIso(micros) !== s;
}

/** `[first, …]` kept as a list of scalars by storage and read back the same (see FieldValue). */
function arrayKept(a: unknown[]): boolean {
  if (a.length === 0) return false;
  for (const v of a) {
    const t = typeof v;
    if (t === 'string' || t === 'boolean') continue;
    if (t === 'number' && Number.isFinite(v)) continue;
    return false;
  }
  return true;
}

/** The template of a time value the event's time `ts` (microseconds) was read from. */
export function timeTemplate(raw: unknown, ts: number): string {
  if (raw === null) return 'null';
  if (typeof raw === 'string') {
    // The common case without formatting the time again: text that parsed (to `ts`) and is spelled as the store answers.
    if (raw.length === 24 && raw.charCodeAt(19) === 0x2e && isoSpelled(raw)) return String(LEAF.timeIso);
    if (raw.length === 20 && isoSpelled(raw)) return String(LEAF.timeIsoSeconds);
    const iso = microsToIso(ts);
    if (raw === iso) return String(LEAF.timeIso);
    if (ts % 1_000_000 === 0 && raw === iso.slice(0, 19) + 'Z') return String(LEAF.timeIsoSeconds);
  } else if (typeof raw === 'number' && raw * 1000 === ts) return String(LEAF.timeEpochMs);
  return literal(raw);
}

/**
 * Whether `s`, known to parse as a time, is spelled `YYYY-MM-DDThh:mm:ss` then `.fff` (if any) and `Z`, with an hour below 24 and seconds below 60 (which parse too, but are spelled otherwise
 * once read): microsToIso's spelling of the instant it parses to.
 */
function isoSpelled(s: string): boolean {
  // Years before 1000 are spelled by Date.UTC as 19xx; before 1970 they do not parse here at all.
  if (s.charCodeAt(s.length - 1) !== 0x5a || s.charCodeAt(10) !== 0x54 || s.charCodeAt(0) < 0x31) return false;
  for (let i = 0; i < 19; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7) {
      if (c !== 0x2d) return false;
    } else if (i === 13 || i === 16) {
      if (c !== 0x3a) return false;
    } else if (i !== 10 && (c < 0x30 || c > 0x39)) return false;
  }
  for (let i = 20; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return s.charCodeAt(11) < 0x32 || (s.charCodeAt(11) === 0x32 && s.charCodeAt(12) < 0x34) ? s.charCodeAt(17) < 0x36 : false;
}

function literal(v: unknown): string {
  return '[' + (JSON.stringify(v) ?? 'null') + ']';
}

/** Top-level names with a fixed column (core/event.ts CORE_FIELDS) that keep only text. */
const FIXED_TEXT = new Set(['message', 'host', 'source', 'level']);

/**
 * The shape of a parsed document, as documentToEvent / normalize.ts store it:
 * `timeKey` is the key its time was read from (`@timestamp`), `ts` that time.
 */
export function shapeOfObject(doc: Record<string, unknown>, ts: number, timeKey = '@timestamp'): string {
  const seen = new Set<string>();
  let clash = false;
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): string => {
    let out = '{';
    let first = true;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      if (value === undefined) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      let t: string;
      if (depth === 0 && key === timeKey) t = timeTemplate(value, ts);
      else if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
        t = Object.keys(value).length === 0 ? '{}' : walk(value as Record<string, unknown>, path, depth + 1);
      } else {
        if (seen.has(path)) clash = true;
        seen.add(path);
        t = leafTemplate(value, path, depth === 0 ? key : null);
      }
      out += (first ? '' : ',') + JSON.stringify(key) + ':' + t;
      first = false;
    }
    return out + '}';
  };
  const shape = walk(doc, '', 0);
  // Two keys flattened to one name (`{"a.b":1,"a":{"b":2}}`) share one stored value: only the whole document gives both back.
  return clash ? literal(doc) : shape;
}

function leafTemplate(value: unknown, path: string, topKey: string | null): string {
  if (value === null) return 'null';
  if (cleanFieldName(path) !== path) return literal(value);
  if (topKey === 'tags') return literal(value); // Logmill adds its own tags to this list
  // normalize.ts turns a `message` that is not text into text.
  if (topKey === 'message' && typeof value !== 'string') return literal(value);
  switch (typeof value) {
    case 'string':
      return textMayChange(value) ? literal(value) : String(LEAF.text);
    case 'number':
      return Number.isFinite(value) ? String(LEAF.number) : literal(value);
    case 'boolean':
      return String(LEAF.boolean);
  }
  if (Array.isArray(value) && topKey !== null && FIXED_TEXT.has(topKey)) return literal(value);
  return Array.isArray(value) && arrayKept(value) ? String(LEAF.array) : literal(value);
}

// ------------------------------------------------------------ scanned documents

/**
 * Shapes of scanned documents by the sequence of their fields' names and
 * leaf kinds: documents of a stream repeat theirs, so most documents cost a
 * hash over a few integers and one comparison, and no string.
 */
interface Known {
  names: FieldName[];
  ids: Int32Array;
  codes: Uint8Array;
  timeAt: number;
  timeCode: string;
  shape: string;
}
const known = new Map<number, Known>();
/** Codes of the document being shaped, reused: most documents need no copy of them. */
let scratch = new Uint8Array(64);
const MAX_KNOWN = 4096;
/** A leaf kept as a literal: such shapes are one-offs, never cached. */
const LITERAL_CODE = 255;
const NULL_CODE = 254;

/** Bytes that may be part of a number's text, leading and trailing spaces included (Number() of anything else is NaN). */
const NUMBERISH = new Uint8Array(256);
for (const c of '0123456789+-.eExXoObBaAcCdDfF \t\n\r') NUMBERISH[c.charCodeAt(0)] = 1;

/**
 * textMayChange's answer for the JSON string content `b[start, end)`, looked at from its bytes where
 * that settles it (no text made): false for text whose first byte cannot start a number, a date or a
 * list, and for text too long to be a date (40) that has a byte no number has (a log line that starts
 * with an address). True means: look at the text.
 */
function bytesMayChange(b: Uint8Array, start: number, end: number): boolean {
  if (start >= end) return false;
  const c = b[start];
  if (c >= 0x41 && c !== 0x5b && c !== 0x5c && c < 0x80) return false;
  if (c === 0x5c || c >= 0x80 || end - start <= 40) return true;
  if (c === 0x5b) return b[end - 1] === 0x5d;
  for (let i = start; i < end; i++) if (NUMBERISH[b[i]] === 0) return false;
  return true;
}

/** The template code of field `i` of a scanned batch (LITERAL_CODE: the value must be kept whole). */
function scannedCode(batch: FieldBatch, i: number): number {
  const kind = batch.kinds[i];
  switch (kind) {
    case KIND.string:
    case KIND.escaped: {
      if (!bytesMayChange(batch.body, batch.starts[i] + 1, batch.ends[i] - 1)) return LEAF.text;
      const v = batch.value(i);
      return typeof v === 'string' && !textMayChange(v) ? LEAF.text : LITERAL_CODE;
    }
    case KIND.integer:
    case KIND.float:
      return typeof batch.value(i) === 'number' ? LEAF.number : LITERAL_CODE;
    case KIND.true:
    case KIND.false:
      return LEAF.boolean;
    case KIND.null:
      return NULL_CODE;
    case KIND.array: {
      // A list where a fixed text column is (`host`, `message`…) is not stored at all (rows.ts scalarText).
      if (FIXED_TEXT.has(batch.name(i))) return LITERAL_CODE;
      let a: unknown;
      try {
        a = JSON.parse(batch.slice(batch.starts[i], batch.ends[i]));
      } catch {
        return LITERAL_CODE;
      }
      return Array.isArray(a) && arrayKept(a) ? LEAF.array : LITERAL_CODE;
    }
  }
  return LITERAL_CODE;
}

/** The shape of a document the scanner took (see json-fields.ts), whose time `ts` was read from `doc.time`. */
export function shapeOfScanned(doc: ScannedDocument, ts: number): string {
  const { batch, first, count, timeAt } = doc;
  const timeCode = timeAt < 0 ? '' : timeTemplate(doc.time, ts);
  if (scratch.length < count) scratch = new Uint8Array(Math.max(count, scratch.length * 2));
  const codes = scratch;
  let hash = 0x811c9dc5 ^ (timeAt + 1);
  let literal = false;
  for (let i = 0; i < count; i++) {
    const code = scannedCode(batch, first + i);
    if (code === LITERAL_CODE) literal = true;
    codes[i] = code;
    hash = Math.imul(hash ^ batch.ids[first + i], 0x01000193);
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  hash = Math.imul(hash ^ timeCode.length, 0x01000193);
  if (!literal) {
    const k = known.get(hash);
    if (k !== undefined && k.names === batch.names && k.timeAt === timeAt && k.timeCode === timeCode && k.ids.length === count) {
      let same = true;
      for (let i = 0; i < count && same; i++) same = k.ids[i] === batch.ids[first + i] && k.codes[i] === codes[i];
      if (same) return k.shape;
    }
  }
  const shape = buildScannedShape(batch, first, count, codes, timeAt, timeCode);
  if (!literal) {
    if (known.size >= MAX_KNOWN) known.clear();
    known.set(hash, { names: batch.names, ids: batch.ids.slice(first, first + count), codes: codes.slice(0, count), timeAt, timeCode, shape });
  }
  return shape;
}

/** A scanned value as JSON.parse gives it (lists whole: the stored field keeps only their scalars). */
function literalValue(batch: FieldBatch, i: number): unknown {
  return batch.kinds[i] === KIND.array ? (JSON.parse(batch.slice(batch.starts[i], batch.ends[i])) as unknown) : batch.value(i);
}

function keyJson(name: FieldName): string {
  // Scanned keys have no escapes and no control characters: their bytes are their JSON.
  return '"' + Buffer.from(name.bytes).toString('utf8') + '"';
}

function buildScannedShape(batch: FieldBatch, first: number, count: number, codes: Uint8Array, timeAt: number, timeCode: string): string {
  const names = batch.names;
  let out = '{';
  /** The objects open around the current leaf, outermost first, and whether each has a member yet. */
  const open: number[] = [];
  const filled: boolean[] = [false];
  const member = (text: string): void => {
    const at = filled.length - 1;
    out += (filled[at] ? ',' : '') + text;
    filled[at] = true;
  };
  const closeTo = (depth: number): void => {
    while (open.length > depth) {
      out += '}';
      open.pop();
      filled.pop();
    }
  };
  const chain: number[] = [];
  for (let i = 0; i <= count; i++) {
    if (i === timeAt) {
      closeTo(0);
      member('"@timestamp":' + timeCode);
    }
    if (i === count) break;
    const id = batch.ids[first + i];
    chain.length = 0;
    for (let p = names[id].parent; p >= 0; p = names[p].parent) chain.push(p);
    chain.reverse();
    let common = 0;
    while (common < open.length && common < chain.length && open[common] === chain[common]) common++;
    closeTo(common);
    for (let j = common; j < chain.length; j++) {
      member(keyJson(names[chain[j]]) + ':{');
      open.push(chain[j]);
      filled.push(false);
    }
    const code = codes[i];
    const t = code === NULL_CODE ? 'null' : code === LITERAL_CODE ? literal(literalValue(batch, first + i)) : String(code);
    member(keyJson(names[id]) + ':' + t);
  }
  closeTo(0);
  return out + '}';
}

// ------------------------------------------------------------------ reading

type Template = number | null | Template[] | { [key: string]: Template };

/** Parsed templates by their text: a store answers many hits of few shapes. */
const parsed = new Map<string, Template>();
const MAX_PARSED = 2048;

/** The parsed template, or null for text that is not JSON (never written so: a damaged row). */
function templateOf(shape: string): Template {
  let t = parsed.get(shape);
  if (t === undefined) {
    try {
      t = JSON.parse(shape) as Template;
    } catch {
      return null;
    }
    if (parsed.size >= MAX_PARSED) parsed.clear(); // shapes with literals are one-offs: they must not grow memory
    parsed.set(shape, t);
  }
  return t;
}

/**
 * The document a shape and its stored fields give back. `value(name)` is the
 * stored value of a flattened field; `timeIso` the event's time as the store
 * answers it; `keep(path)`, when given, filters leaves by dotted path
 * (`_source_includes`/`_excludes`), dropping objects it empties. Undefined
 * when the shape cannot be read: the caller then has only the fields.
 */
export function documentOfShape(
  shape: string,
  value: (name: string) => unknown,
  timeIso: string,
  keep?: (path: string) => boolean,
): Record<string, unknown> | undefined {
  const t = templateOf(shape);
  if (Array.isArray(t)) {
    const doc = t[0];
    return (doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? structuredClone(doc) : {}) as Record<string, unknown>;
  }
  if (t === null || typeof t !== 'object') return undefined;
  return rebuild(t, '', value, timeIso, keep) ?? {};
}

function rebuild(
  t: { [key: string]: Template },
  prefix: string,
  value: (name: string) => unknown,
  timeIso: string,
  keep: ((path: string) => boolean) | undefined,
): Record<string, unknown> | undefined {
  // A null prototype: a sender's `__proto__` key is a key like any other.
  const out = Object.create(null) as Record<string, unknown>;
  let any = false;
  for (const key of Object.keys(t)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const leaf = t[key];
    if (leaf !== null && typeof leaf === 'object' && !Array.isArray(leaf)) {
      if (Object.keys(leaf).length === 0) {
        if (keep && !keep(path)) continue;
        out[key] = Object.create(null);
        any = true;
        continue;
      }
      const child = rebuild(leaf, path, value, timeIso, keep);
      if (child !== undefined) {
        out[key] = child;
        any = true;
      }
      continue;
    }
    if (keep && !keep(path)) continue;
    const v = leafValue(leaf, path, value, timeIso);
    if (v === undefined) continue;
    out[key] = v;
    any = true;
  }
  return any || !keep ? out : undefined;
}

function leafValue(leaf: Template, path: string, value: (name: string) => unknown, timeIso: string): unknown {
  if (leaf === null) return null;
  if (Array.isArray(leaf)) return structuredClone(leaf[0]);
  switch (leaf) {
    case LEAF.timeIso:
      return timeIso;
    case LEAF.timeIsoSeconds:
      return timeIso.slice(0, 19) + 'Z';
    case LEAF.timeEpochMs: {
      const micros = parseIsoMicros(timeIso);
      return micros === null ? timeIso : micros / 1000;
    }
  }
  const v = value(path);
  if (v === undefined || v === null) return undefined;
  switch (leaf) {
    case LEAF.text:
      return typeof v === 'string' ? v : Array.isArray(v) ? JSON.stringify(v) : String(v);
    case LEAF.number:
      return typeof v === 'number' ? v : Number(v);
    case LEAF.boolean:
      return typeof v === 'boolean' ? v : v === 'true';
    case LEAF.array:
      if (Array.isArray(v)) return v;
      if (typeof v === 'string' && v.startsWith('[')) {
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return [v];
        }
      }
      return [v];
  }
  return v;
}
