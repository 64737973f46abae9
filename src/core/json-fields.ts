/**
 * The flattened fields of a JSON document read straight from its bytes,
 * without building the document as objects: a name, a kind and a byte range
 * per field. A store can then copy each value's bytes into its own rows, and
 * nothing is parsed twice or allocated per field.
 *
 * The body must be valid UTF-8 (the caller checks it once, natively). Only
 * documents whose meaning is plain from their bytes are taken: keys without
 * escapes, no key twice, no key of digits only (JavaScript
 * orders those first), no name that normalize would repair, a `message` that
 * is text and no `tags`. Objects are flattened to dotted names, as normalize.ts
 * flattens them; strings, numbers, booleans, nulls and arrays are kept as
 * ranges (arrays checked to be JSON, and rebuilt by the JSON path's own rules
 * when asked for). For anything else the scan says no and the caller parses
 * the document as JSON: the two ways must give the same event, which
 * `ScannedEvent.fields` rebuilds on demand.
 */
import type { FieldValue, LogEvent } from './event.js';
import { cleanFieldName, newFields, toFieldValue } from './normalize.js';
import { shipperTime } from './time.js';

/** What a field's bytes are. */
export const KIND = {
  /** A JSON string without escapes (the range includes the quotes). */
  string: 0,
  /** A JSON string with escapes of quotes, backslashes or control characters, each as JSON.stringify writes it. */
  escaped: 1,
  /** A whole number of up to 15 digits, written as JavaScript writes it (no leading zero, no `-0`). */
  integer: 2,
  true: 3,
  false: 4,
  null: 5,
  /** Any other JSON number: a fraction, an exponent, more digits, `-0`. */
  float: 6,
  /** A JSON array (its values anything JSON). */
  array: 7,
} as const;

/** A key seen under a parent: its flattened name and what the scan may do with it. */
export interface FieldName {
  readonly id: number;
  /** Flattened, dotted name (as normalize.ts builds it). */
  readonly name: string;
  readonly parent: number;
  readonly bytes: Uint8Array;
  /** Whether a value may be stored under this name as it is: normalize would not repair it, and it is not `tags`. */
  readonly leafOk: boolean;
  /** Whether the key is digits only: JavaScript would order it before the others. */
  readonly digits: boolean;
  /** The scan that last saw this key (a key twice in one object makes the document not plain). */
  seen: number;
  /** Shared by every key with the same flattened name: the scan that last stored a value under it. */
  readonly slot: { stored: number };
  /** What the top-level reading rules may make of this key, when it is a top-level one (see ROLE). */
  readonly role: number;
  /**
   * The key that came after this one the last time, and the first key of this
   * key's object: documents of a stream repeat their keys in the same order,
   * so a key is usually found by comparing its bytes with the one expected.
   */
  next: FieldName | null;
  firstChild: FieldName | null;
}

/** Roles of top-level keys (FieldName.role). */
const ROLE = { none: 0, atTimestamp: 1, timestamp: 2, id: 3, index: 4, time: 5, ts: 6 } as const;

/** Names kept before the table starts again: keys are written by strangers, and a flood of distinct ones must not grow memory. */
const MAX_NAMES = 4096;
const ROOT = -1;
/** Slots looked at for a key before giving up on it (see find). */
const MAX_PROBES = 64;
/** Objects nested deeper than this are left to the JSON parser (normalize stops flattening at 32). */
const MAX_DEPTH = 16;
/** Documents longer than this are left to the JSON parser: a row must stay well within a store's line limit. */
const MAX_DOCUMENT_BYTES = 1 << 20;
/** Longer keys are left to the JSON parser (normalize cuts names at 256 bytes). */
const MAX_KEY_BYTES = 256;

/** The names of the keys the scanner has met, found again by their bytes without making a string. */
export class FieldNames {
  /** Names by id. Replaced, never emptied, when the table starts again: batches keep the array they were filled from. */
  entries: FieldName[] = [];
  private buckets = new Int32Array(MAX_NAMES * 2).fill(-1);
  private slots = new Map<string, { stored: number }>();
  /** Numbers scans, for the marks names keep of the scan that last saw them: shared by every scanner of these names. */
  serial = 0;
  /** The first key of the last document (see FieldName.next). */
  rootFirst: FieldName | null = null;

  /** The name of the key `b[start, end)` under `parent`, made on first sight; null when the table is full or the key's slots are crowded. */
  find(parent: number, b: Uint8Array, start: number, end: number, hash: number): FieldName | null {
    const mask = this.buckets.length - 1;
    const len = end - start;
    let at = (hash ^ Math.imul(parent + 2, 0x9e3779b1)) & mask;
    for (let probe = 0; ; probe++, at = (at + 1) & mask) {
      // Keys made to collide (the hash is no secret) cost a bounded search, then the JSON parser's way.
      if (probe === MAX_PROBES) return null;
      const id = this.buckets[at];
      if (id < 0) {
        if (this.entries.length >= MAX_NAMES) return null;
        // A copy: the body the key was read from is not kept.
        const entry = this.make(parent, new Uint8Array(b.subarray(start, end)));
        this.buckets[at] = entry.id;
        return entry;
      }
      const e = this.entries[id];
      if (e.parent !== parent || e.bytes.length !== len) continue;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (e.bytes[i] !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return e;
    }
  }

  /** Whether fewer than `room` names are left before the table is full. */
  nearlyFull(room: number): boolean {
    return this.entries.length + room > MAX_NAMES;
  }

  /** Starts again with no names (batches filled before keep theirs). */
  reset(): void {
    this.entries = [];
    this.buckets = new Int32Array(MAX_NAMES * 2).fill(-1);
    this.slots = new Map();
    this.rootFirst = null;
  }

  private make(parent: number, bytes: Uint8Array): FieldName {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    const up = parent === ROOT ? null : this.entries[parent];
    // As normalize.ts's put: a key under an object named '' keeps its own name.
    const name = up === null || up.name === '' ? key : `${up.name}.${key}`;
    let slot = this.slots.get(name);
    if (slot === undefined) this.slots.set(name, (slot = { stored: -1 }));
    let digits = bytes.length > 0;
    for (const c of bytes) if (c < 0x30 || c > 0x39) digits = false;
    const entry: FieldName = {
      id: this.entries.length,
      name,
      parent,
      bytes,
      leafOk: name !== 'tags' && cleanFieldName(name) === name,
      digits,
      seen: -1,
      slot,
      role: parent !== ROOT ? ROLE.none : key === '@timestamp' ? ROLE.atTimestamp : key === 'timestamp' ? ROLE.timestamp : key === '_id' ? ROLE.id : key === '_index' ? ROLE.index : key === 'time' ? ROLE.time : key === 'ts' ? ROLE.ts : ROLE.none,
      next: null,
      firstChild: null,
    };
    this.entries.push(entry);
    return entry;
  }
}

/**
 * Scanned fields of a run of documents of one body: per field, the index of
 * its name, its kind and its bytes in `body`. A batch holds a fixed number of
 * fields; the reader starts another when it is full.
 */
export class FieldBatch {
  readonly ids: Int32Array;
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  count = 0;

  constructor(
    readonly body: Buffer,
    /** The body as latin1 text when it is ASCII and the caller has it (its slices are views, cheaper than decoding); null otherwise. */
    readonly text: string | null,
    /** The names table's entries when the batch began (see FieldNames.entries). */
    readonly names: FieldName[],
    readonly capacity = 8192,
  ) {
    this.ids = new Int32Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** The body's bytes `[start, end)` as text. */
  slice(start: number, end: number): string {
    return this.text !== null ? this.text.slice(start, end) : this.body.toString('utf8', start, end);
  }

  /** The name of field `i`. */
  name(i: number): string {
    return this.names[this.ids[i]].name;
  }

  /** The value of field `i`, as JSON.parse and normalize.ts make it. */
  value(i: number): FieldValue {
    const s = this.starts[i];
    const e = this.ends[i];
    switch (this.kinds[i]) {
      case KIND.string:
        return this.slice(s + 1, e - 1);
      case KIND.escaped:
        return JSON.parse(this.slice(s, e)) as string;
      case KIND.integer:
        return Number(this.slice(s, e));
      case KIND.float: {
        // As normalize.ts keeps it: JSON's 1e400 parses to Infinity, which becomes text.
        const n = Number(this.slice(s, e));
        return Number.isFinite(n) ? n : String(n);
      }
      case KIND.array:
        return toFieldValue(JSON.parse(this.slice(s, e)));
      case KIND.true:
        return true;
      case KIND.false:
        return false;
      default:
        return null;
    }
  }

  /** Fields `first` to `first + count - 1` as an event's fields object, in the order normalize.ts gives them. */
  fields(first: number, count: number): Record<string, FieldValue> {
    const f = newFields();
    for (let i = first; i < first + count; i++) f[this.name(i)] = this.value(i);
    return f;
  }
}

/** A document the scanner took: its fields in a batch, and what its top-level keys say of the event. */
export interface ScannedDocument {
  batch: FieldBatch;
  first: number;
  count: number;
  /** Its time as sent (a string without escapes, or a number); null when absent or null. */
  time: string | number | null;
  /** How many of the document's fields come before its time key (`@timestamp`), -1 without one: where its shape puts it back. */
  timeAt: number;
  /** `_id` and `_index`, under the `logmill` rules; null when absent (and always under `elasticsearch`). */
  id: string | null;
  index: string | null;
  /**
   * Where the top-level `timestamp`, `time` and `ts` leaves are among the
   * document's fields (-1: none), when they may give the event its time
   * (core/time.ts shipperTime): with no time key under the rules (no
   * `@timestamp`, and under `logmill` no `timestamp` either, which is then the time).
   */
  timestampField: number;
  timeField: number;
  tsField: number;
}

/**
 * The time shipperTime gives a scanned document from its `timestamp`, `time`
 * and `ts` (the values the JSON path would read), or null: then the arrival time.
 */
export function scannedShipperTime(doc: ScannedDocument, arrivalMicros: number): number | null {
  const { timestampField, timeField, tsField } = doc;
  if (timestampField < 0 && timeField < 0 && tsField < 0) return null;
  const value = (at: number): unknown => (at < 0 ? undefined : doc.batch.value(doc.first + at));
  return shipperTime(value(timestampField), value(timeField), value(tsField), arrivalMicros);
}

/**
 * What a document's top-level keys mean, as the JSON path reads them:
 * - `elasticsearch` (documentToEvent): `@timestamp` is the time; keys that
 *   start with `_` make a document not plain (Elasticsearch refuses its
 *   metadata fields, and the JSON path words the refusal); `timestamp` is a
 *   field like any other.
 * - `logmill` (normalize.ts's eventFromObject): `@timestamp` is the time, or
 *   else `timestamp`; `_id` and `_index` are the event's id and index.
 */
export type ScanRules = 'elasticsearch' | 'logmill';

/**
 * Scans the documents of one body into batches (so that a batch, and the
 * body it points into, live no longer than the events made from it), with
 * names shared across bodies. The time must be a string without escapes, a
 * number or null; `_id` and `_index` strings without escapes.
 */
export class FieldScanner {
  private batch: FieldBatch | null = null;
  /** The time's bytes and kind in the document being scanned (kind -1: none). */
  private timeStart = -1;
  private timeEnd = -1;
  private timeKind = -1;
  private timeAt = -1;
  private idStart = -1;
  private idEnd = -1;
  private indexStart = -1;
  private indexEnd = -1;
  /** Where a top-level `timestamp` leaf went in the batch (-1: none), and whether one was an object or a list. */
  private timestampAt = -1;
  private timestampComplex = false;
  /** Where top-level `time` and `ts` leaves went in the batch (-1: none). */
  private timeFieldAt = -1;
  private tsFieldAt = -1;

  constructor(
    readonly names: FieldNames = new FieldNames(),
    readonly rules: ScanRules = 'elasticsearch',
  ) {}

  /**
   * The fields of the JSON object in `body[start, end)` of a body of valid
   * UTF-8 (`text`, if given, is the body as latin1 text: an ASCII body's
   * characters are its bytes), or null when the document is
   * not plain (see above) or not JSON: the caller then parses it.
   */
  scan(body: Buffer, text: string | null, start: number, end: number): ScannedDocument | null {
    const open = skipSpace(body, start, end);
    if (end - start > MAX_DOCUMENT_BYTES || body[open] !== 0x7b) return null;
    if (this.names.nearlyFull(256)) {
      this.names.reset();
      this.batch = null;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      let batch = this.batch;
      if (batch === null || batch.body !== body || batch.names !== this.names.entries || attempt > 0) {
        // Sized to the body (a field of a log line takes some 60 bytes); a document that does not fit starts another.
        batch = this.batch = new FieldBatch(body, text, this.names.entries, Math.min(8192, Math.max(256, body.length >> 6)));
      }
      const first = batch.count;
      const serial = ++this.names.serial;
      this.timeKind = this.timeAt = this.idStart = this.indexStart = this.timestampAt = this.timeFieldAt = this.tsFieldAt = -1;
      this.timestampComplex = false;
      let p = this.object(body, open + 1, end, ROOT, 0, batch, serial);
      if (p === FULL) {
        batch.count = first;
        // A fresh batch holds more fields than a document of MAX_DOCUMENT_BYTES can have; only a full one is retried.
        if (first === 0) return null;
        continue;
      }
      if (p < 0 || skipSpace(body, p, end) !== end || !this.takeTimestamp(batch)) {
        batch.count = first;
        return null;
      }
      return {
        batch,
        first,
        count: batch.count - first,
        timeAt: this.timeAt < 0 ? -1 : this.timeAt - first,
        time: this.timeKind < 0 || this.timeKind === KIND.null ? null : this.timeKind === KIND.string ? batch.slice(this.timeStart + 1, this.timeEnd - 1) : Number(batch.slice(this.timeStart, this.timeEnd)),
        id: this.idStart < 0 ? null : batch.slice(this.idStart + 1, this.idEnd - 1),
        index: this.indexStart < 0 ? null : batch.slice(this.indexStart + 1, this.indexEnd - 1),
        // A time key of the rules' own decides alone (positions are relative to the document's first field).
        timestampField: this.timeKind >= 0 || this.timestampAt < 0 ? -1 : this.timestampAt - first,
        timeField: this.timeKind >= 0 || this.timeFieldAt < 0 ? -1 : this.timeFieldAt - first,
        tsField: this.timeKind >= 0 || this.tsFieldAt < 0 ? -1 : this.tsFieldAt - first,
      };
    }
    return null;
  }

  /**
   * Under the `logmill` rules, a top-level `timestamp` is the time when there
   * is no `@timestamp`, and then not a field: it leaves the batch. False when
   * it cannot be a time (an object, a list, a boolean, escaped text).
   */
  private takeTimestamp(batch: FieldBatch): boolean {
    if (this.rules !== 'logmill' || this.timeKind >= 0) return true;
    if (this.timestampComplex) return false;
    const at = this.timestampAt;
    if (at < 0) return true;
    const kind = batch.kinds[at];
    if (kind !== KIND.string && kind !== KIND.integer && kind !== KIND.float && kind !== KIND.null) return false;
    this.timeKind = kind;
    this.timeStart = batch.starts[at];
    this.timeEnd = batch.ends[at];
    for (let i = at + 1; i < batch.count; i++) {
      batch.ids[i - 1] = batch.ids[i];
      batch.kinds[i - 1] = batch.kinds[i];
      batch.starts[i - 1] = batch.starts[i];
      batch.ends[i - 1] = batch.ends[i];
    }
    batch.count--;
    return true;
  }

  /** Notes where a top-level `timestamp`, `time` or `ts` leaf went in the batch. */
  private leafAt(role: number, at: number): void {
    if (role === ROLE.timestamp) this.timestampAt = at;
    else if (role === ROLE.time) this.timeFieldAt = at;
    else if (role === ROLE.ts) this.tsFieldAt = at;
  }

  /** A top-level key the rules give a meaning of its own (its ROLE): its value is read here. The offset after it, or NOT_PLAIN. */
  private special(b: Buffer, p: number, end: number, role: number): number {
    const c = b[p];
    const s = p;
    if (role === ROLE.atTimestamp) {
      let kind: number;
      if (c === 0x6e) {
        kind = KIND.null;
        p = literal(b, p, end, NULL_BYTES);
      } else if (c === 0x22) {
        kind = KIND.string;
        p = stringEnd(b, p, end);
        if (stringHadEscapes) return NOT_PLAIN;
      } else {
        p = numberEnd(b, p, end);
        kind = numberWasInteger ? KIND.integer : KIND.float;
      }
      if (p < 0) return NOT_PLAIN;
      this.timeKind = kind;
      this.timeStart = s;
      this.timeEnd = p;
      this.timeAt = this.batch?.count ?? -1;
      return p;
    }
    // `_id` or `_index`, under the logmill rules: text, or the JSON path decides.
    if (c !== 0x22) return NOT_PLAIN;
    p = stringEnd(b, p, end);
    if (p < 0 || stringHadEscapes) return NOT_PLAIN;
    if (role === ROLE.id) {
      this.idStart = s;
      this.idEnd = p;
    } else {
      this.indexStart = s;
      this.indexEnd = p;
    }
    return p;
  }

  /** Scans an object's members from just after its `{`; the offset after its `}`, NOT_PLAIN or FULL. */
  private object(b: Buffer, p: number, end: number, parent: number, depth: number, batch: FieldBatch, serial: number): number {
    p = skipSpace(b, p, end);
    // An empty object leaves no field: under the elasticsearch rules the document's shape must keep it, which the JSON path does.
    if (b[p] === 0x7d) return parent !== ROOT && this.rules === 'elasticsearch' ? NOT_PLAIN : p + 1;
    const names = this.names;
    const top = parent === ROOT;
    const up = top ? null : names.entries[parent];
    let expected = top ? names.rootFirst : (up as FieldName).firstChild;
    let previous: FieldName | null = null;
    for (;;) {
      if (b[p] !== 0x22) return NOT_PLAIN;
      const keyStart = p + 1;
      let key: FieldName | null = null;
      let keyEnd = -1;
      if (expected !== null) {
        // The key that came here last time: its bytes (known to be plain) and then the closing quote.
        const kb = expected.bytes;
        const n = kb.length;
        if (keyStart + n < end && b[keyStart + n] === 0x22) {
          let i = 0;
          while (i < n && b[keyStart + i] === kb[i]) i++;
          if (i === n) {
            key = expected;
            keyEnd = keyStart + n;
          }
        }
      }
      if (key === null) {
        let hash = 0x811c9dc5;
        let q = keyStart;
        for (; q < end; q++) {
          const c = b[q];
          if (c === 0x22) break;
          if (c === 0x5c || c < 0x20) return NOT_PLAIN;
          hash = Math.imul(hash ^ c, 0x01000193);
        }
        if (q >= end || q - keyStart > MAX_KEY_BYTES) return NOT_PLAIN;
        keyEnd = q;
        key = names.find(parent, b, keyStart, keyEnd, hash);
        if (key === null) return NOT_PLAIN;
      }
      p = skipSpace(b, keyEnd + 1, end);
      if (b[p] !== 0x3a) return NOT_PLAIN;
      p = skipSpace(b, p + 1, end);
      if (top && b[keyStart] === 0x5f && this.rules === 'elasticsearch') return NOT_PLAIN;
      if (key.digits || key.seen === serial) return NOT_PLAIN;
      key.seen = serial;
      if (previous === null) {
        if (top) names.rootFirst = key;
        else (up as FieldName).firstChild = key;
      } else previous.next = key;
      previous = key;
      expected = key.next;
      const c = b[p];
      const role = key.role;
      // A top-level `timestamp` object or list cannot be a time (see takeTimestamp).
      if (role === ROLE.timestamp && (c === 0x7b || c === 0x5b)) this.timestampComplex = true;
      if (role === ROLE.atTimestamp || (this.rules === 'logmill' && (role === ROLE.id || role === ROLE.index))) {
        p = this.special(b, p, end, role);
        if (p < 0) return NOT_PLAIN;
      } else if (c === 0x7b) {
        if (depth >= MAX_DEPTH) return NOT_PLAIN;
        p = this.object(b, p + 1, end, key.id, depth + 1, batch, serial);
        if (p < 0) return p;
      } else {
        if (!key.leafOk || key.slot.stored === serial) return NOT_PLAIN;
        key.slot.stored = serial;
        const s = p;
        let kind: number;
        if (c === 0x22) {
          p = stringEnd(b, p, end);
          kind = stringHadEscapes ? KIND.escaped : KIND.string;
        } else if (c === 0x74) {
          kind = KIND.true;
          p = literal(b, p, end, TRUE_BYTES);
        } else if (c === 0x66) {
          kind = KIND.false;
          p = literal(b, p, end, FALSE_BYTES);
        } else if (c === 0x6e) {
          kind = KIND.null;
          p = literal(b, p, end, NULL_BYTES);
        } else if (c === 0x5b) {
          kind = KIND.array;
          p = valueEnd(b, p, end, depth + 1);
        } else {
          p = numberEnd(b, p, end);
          kind = numberWasInteger ? KIND.integer : KIND.float;
        }
        if (p < 0) return NOT_PLAIN;
        // normalize.ts turns a `message` that is not text into text: only the JSON path does that.
        if (kind !== KIND.string && kind !== KIND.escaped && kind !== KIND.null && key.name === 'message') return NOT_PLAIN;
        const at = batch.count;
        if (at >= batch.capacity) return FULL;
        if (role !== ROLE.none) this.leafAt(role, at);
        batch.ids[at] = key.id;
        batch.kinds[at] = kind;
        batch.starts[at] = s;
        batch.ends[at] = p;
        batch.count = at + 1;
      }
      p = skipSpace(b, p, end);
      if (b[p] === 0x2c) {
        p = skipSpace(b, p + 1, end);
        continue;
      }
      if (b[p] === 0x7d) return p + 1;
      return NOT_PLAIN;
    }
  }
}

/**
 * An event of a scanned document: its fields are rebuilt only if something
 * asks for them. `fields` is an accessor, not an own property: code that
 * copies an event (a spread, JSON.stringify) must name it.
 */
export class ScannedEvent implements LogEvent {
  id?: string;
  index?: string;
  shape?: string;
  private own: Record<string, FieldValue> | undefined = undefined;

  constructor(
    public ts: number,
    readonly batch: FieldBatch,
    readonly first: number,
    readonly count: number,
  ) {}

  get fields(): Record<string, FieldValue> {
    return (this.own ??= this.batch.fields(this.first, this.count));
  }

  set fields(fields: Record<string, FieldValue>) {
    this.own = fields;
  }

  /** Whether the fields were never rebuilt (nor replaced): the scanned bytes are then the whole event. */
  get pristine(): boolean {
    return this.own === undefined;
  }
}

const NOT_PLAIN = -1;
const FULL = -2;
/** Whether the last string stringEnd read had escapes. */
let stringHadEscapes = false;

const TRUE_BYTES = [0x74, 0x72, 0x75, 0x65];
const FALSE_BYTES = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL_BYTES = [0x6e, 0x75, 0x6c, 0x6c];

/**
 * The offset after the closing quote of the string at `p`, or NOT_PLAIN;
 * stringHadEscapes tells whether it had escapes. Escapes are
 * taken only as JSON.stringify writes them (`\"`, `\\`, `\b`, `\f`, `\n`,
 * `\r`, `\t`), so the bytes are what a writer escaping the decoded text would
 * write; `\u`, `\/` and control characters are not plain. Other bytes of a
 * valid UTF-8 body are what a writer would write for their characters.
 */
function stringEnd(b: Buffer, p: number, end: number): number {
  let escaped = false;
  for (let q = p + 1; q < end; q++) {
    const c = b[q];
    // One look-up per byte for the common case: most bytes of a message are none of the special ones.
    if (SPECIAL_IN_STRING[c] === 0) continue;
    if (c === 0x22) {
      stringHadEscapes = escaped;
      return q + 1;
    }
    if (c !== 0x5c) return NOT_PLAIN;
    const n = b[q + 1];
    if (n !== 0x22 && n !== 0x5c && n !== 0x6e && n !== 0x74 && n !== 0x72 && n !== 0x62 && n !== 0x66) return NOT_PLAIN;
    escaped = true;
    q++;
  }
  return NOT_PLAIN;
}

/** Bytes a plain string's scan must stop at: its end, an escape, control characters. */
const SPECIAL_IN_STRING = new Uint8Array(256);
for (let c = 0; c < 256; c++) SPECIAL_IN_STRING[c] = c < 0x20 || c === 0x22 || c === 0x5c ? 1 : 0;

/** Whether the last number numberEnd read is a whole number of at most 15 digits, written as JavaScript writes it. */
let numberWasInteger = false;

/** The offset after the JSON number at `p`, or NOT_PLAIN; numberWasInteger tells which kind it is. */
function numberEnd(b: Buffer, p: number, end: number): number {
  let q = p;
  if (b[q] === 0x2d) q++;
  const first = q;
  if (b[q] === 0x30) q++;
  else while (q < end && b[q] >= 0x30 && b[q] <= 0x39) q++;
  const digits = q - first;
  if (digits === 0) return NOT_PLAIN;
  numberWasInteger = digits <= 15 && !(first > p && b[first] === 0x30);
  if (b[q] === 0x2e) {
    numberWasInteger = false;
    const f = ++q;
    while (q < end && b[q] >= 0x30 && b[q] <= 0x39) q++;
    if (q === f) return NOT_PLAIN;
  }
  if (b[q] === 0x65 || b[q] === 0x45) {
    numberWasInteger = false;
    q++;
    if (b[q] === 0x2b || b[q] === 0x2d) q++;
    const e = q;
    while (q < end && b[q] >= 0x30 && b[q] <= 0x39) q++;
    if (q === e) return NOT_PLAIN;
  }
  return q;
}

/**
 * The offset after the JSON value at `p` (any JSON: inside arrays, strings may
 * have any escape and objects any keys, since the JSON parser rebuilds them),
 * or NOT_PLAIN if it is not JSON or nests deeper than MAX_DEPTH.
 */
function valueEnd(b: Buffer, p: number, end: number, depth: number): number {
  const c = b[p];
  if (c === 0x22) return anyStringEnd(b, p, end);
  if (c === 0x74) return literal(b, p, end, TRUE_BYTES);
  if (c === 0x66) return literal(b, p, end, FALSE_BYTES);
  if (c === 0x6e) return literal(b, p, end, NULL_BYTES);
  if (c !== 0x5b && c !== 0x7b) return numberEnd(b, p, end);
  if (depth >= MAX_DEPTH) return NOT_PLAIN;
  const object = c === 0x7b;
  const close = object ? 0x7d : 0x5d;
  p = skipSpace(b, p + 1, end);
  if (b[p] === close) return p + 1;
  for (;;) {
    if (object) {
      if (b[p] !== 0x22) return NOT_PLAIN;
      p = anyStringEnd(b, p, end);
      if (p < 0) return NOT_PLAIN;
      p = skipSpace(b, p, end);
      if (b[p] !== 0x3a) return NOT_PLAIN;
      p = skipSpace(b, p + 1, end);
    }
    p = valueEnd(b, p, end, depth + 1);
    if (p < 0) return NOT_PLAIN;
    p = skipSpace(b, p, end);
    if (b[p] === 0x2c) {
      p = skipSpace(b, p + 1, end);
      continue;
    }
    if (b[p] === close) return p + 1;
    return NOT_PLAIN;
  }
}

/** The offset after the JSON string at `p`, any escape allowed; NOT_PLAIN if it is not a JSON string. */
function anyStringEnd(b: Buffer, p: number, end: number): number {
  for (let q = p + 1; q < end; q++) {
    const c = b[q];
    if (c === 0x22) return q + 1;
    if (c === 0x5c) {
      const n = b[q + 1];
      if (n === 0x75) {
        for (let k = q + 2; k < q + 6; k++) if (k >= end || !isHex(b[k])) return NOT_PLAIN;
        q += 5;
      } else if (n === 0x22 || n === 0x5c || n === 0x2f || n === 0x62 || n === 0x66 || n === 0x6e || n === 0x72 || n === 0x74) q++;
      else return NOT_PLAIN;
    } else if (c < 0x20) return NOT_PLAIN;
  }
  return NOT_PLAIN;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function literal(b: Buffer, p: number, end: number, bytes: number[]): number {
  if (p + bytes.length > end) return NOT_PLAIN;
  for (let i = 0; i < bytes.length; i++) if (b[p + i] !== bytes[i]) return NOT_PLAIN;
  return p + bytes.length;
}

function skipSpace(b: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = b[p];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    p++;
  }
  return p;
}
