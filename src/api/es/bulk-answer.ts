/**
 * What a write answers, in Elasticsearch's shape: the item of each bulk
 * action, and the body of a single-document write.
 *
 * A bulk item carries what Logmill knows of a document: `_index`, `_id`,
 * `_version`, `result`, `_seq_no`, `_primary_term` and `status` (or `status`
 * and `error`). `_seq_no` is the position of the document's row (store.ts
 * rowPosition), what `GET` and `_search` answer and `if_seq_no` compares
 * with. It leaves out `_shards`, which describes Elasticsearch's replication:
 * Logmill has none, and Elasticsearch's own client types mark it optional.
 * Shippers read only `status` and `error`, and ask for only those with
 * `filter_path` (below), which leaves the rest unwritten. Single-document
 * answers keep Elasticsearch's full shape.
 *
 * A `filter_path` of the kind shippers send (Logstash and Filebeat
 * ask for `errors,items.*.error,items.*.status`) is applied as the answer is written:
 * parsing the whole answer to filter it cost the server more than writing it.
 */
import { rowPosition, type RowKeys } from '../../store/store.js';
import type { BulkAction } from './bulk-body.js';
import type { EsErrorCause } from './errors.js';

/** The outcome of one action. */
export interface ItemResult {
  action: BulkAction;
  index: string;
  id: string | null;
  status: number;
  result?: 'created' | 'updated' | 'deleted' | 'not_found' | 'noop';
  version?: number;
  seqNo?: number;
  error?: EsErrorCause;
}

const SHARDS = { total: 2, successful: 1, failed: 0 };
const NOOP_SHARDS = { total: 0, successful: 0, failed: 0 };

/** A single-document write's answer: the index API's full body, without `status` (it is the HTTP status). */
export function writeResponse(r: ItemResult): Record<string, unknown> {
  return {
    _index: r.index,
    _id: r.id,
    _version: r.version,
    result: r.result,
    _shards: r.result === 'noop' ? NOOP_SHARDS : SHARDS,
    _seq_no: r.seqNo,
    _primary_term: 1,
  };
}

/** One item of a bulk answer, as an object. */
function bulkItem(r: ItemResult): Record<string, Record<string, unknown>> {
  const body = r.error
    ? { _index: r.index, _id: r.id, status: r.status, error: r.error }
    : { _index: r.index, _id: r.id, _version: r.version, result: r.result, _seq_no: r.seqNo, _primary_term: r.seqNo === undefined ? undefined : 1, status: r.status };
  return { [r.action]: body };
}

/**
 * The parts of a bulk answer that `?filter_path=` keeps, for the filters the
 * answer is written with directly (see answerFilter): which of its top-level
 * members, and which fields of each item.
 */
export interface AnswerFilter {
  took: boolean;
  errors: boolean;
  items: boolean;
  /** The fields each item keeps, or null for all of them. An item that keeps none is left out, and `items` with it if none is left. */
  itemFields: ReadonlySet<string> | null;
}

/** The whole answer: no `filter_path`, or an empty one. */
export const WHOLE_ANSWER: AnswerFilter = { took: true, errors: true, items: true, itemFields: null };

/**
 * A `filter_path` the answer can be written with directly, or null for one
 * it cannot (exclusions, `**`, wildcards inside names, paths into `error`):
 * those go through the server's generic filter, applied to the answer as an
 * object, with the same result at a higher cost. Shippers send the simple
 * kind: Logstash and Filebeat ask every bulk request for
 * `errors,items.*.error,items.*.status`.
 */
export function answerFilter(expr: string): AnswerFilter | null {
  const filter = { took: false, errors: false, items: false, itemFields: new Set<string>() as Set<string> | null };
  let paths = 0;
  for (const raw of expr.split(',')) {
    const path = raw.trim();
    if (path === '') continue;
    paths++;
    if (path.startsWith('-') || path.includes('**')) return null;
    const segs = path.split('.');
    const top = segs[0];
    if (top.includes('*')) return null;
    if (top === 'took' || top === 'errors') {
      if (segs.length > 1) return null;
      filter[top] = true;
    } else if (top === 'items') {
      // `*` stands for the item's action (`index`, `create`…); naming one instead is left to the generic filter.
      if (segs.length > 1 && segs[1] !== '*') return null;
      filter.items = true;
      if (segs.length <= 2 || (segs.length === 3 && segs[2] === '*')) filter.itemFields = null;
      else if (segs.length === 3 && !segs[2].includes('*')) filter.itemFields?.add(segs[2]);
      else return null;
    }
    // Any other name is no member of the answer: it keeps nothing.
  }
  return paths === 0 ? WHOLE_ANSWER : filter;
}

/** An item's JSON as the filter keeps it, or null when it keeps none of its fields. */
function itemJson(r: ItemResult, fields: ReadonlySet<string> | null): string | null {
  const item = bulkItem(r);
  if (fields === null) return JSON.stringify(item);
  const body = item[r.action];
  const kept: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(body)) {
    if (fields.has(key) && body[key] !== undefined) {
      kept[key] = body[key];
      any = true;
    }
  }
  return any ? JSON.stringify({ [r.action]: kept }) : null;
}

/** The numbers of a created item, written into its bytes once the write is durable. */
type Hole = 'id' | 'seqNo';

/**
 * The bytes of a created item: `pieces` of fixed text around its `holes`
 * (its id, its `_seq_no`), one fewer hole than pieces. Without holes among
 * the fields kept, every created item of an action and index is the same
 * bytes (`pieces[0]`).
 */
interface CreatedShape {
  pieces: Buffer[];
  holes: Hole[];
}

/** How created items of an action and index are written under a filter; null when they keep no field. */
function createdShape(action: BulkAction, index: string, fields: ReadonlySet<string> | null): CreatedShape | null {
  const keep = (name: string): boolean => fields === null || fields.has(name);
  const fieldsInOrder: [string, string | Hole][] = [
    ['_index', JSON.stringify(index)],
    ['_id', 'id'],
    ['_version', '1'],
    ['result', '"created"'],
    ['_seq_no', 'seqNo'],
    ['_primary_term', '1'],
    ['status', '201'],
  ];
  const kept = fieldsInOrder.filter(([name]) => keep(name));
  if (kept.length === 0) return null;
  const pieces: string[] = [`{"${action}":{`];
  const holes: Hole[] = [];
  kept.forEach(([name, value], i) => {
    pieces[pieces.length - 1] += `${i > 0 ? ',' : ''}"${name}":`;
    if (value === 'id') {
      // An id is a string: its quotes are fixed text.
      pieces[pieces.length - 1] += '"';
      holes.push('id');
      pieces.push('"');
    } else if (value === 'seqNo') {
      holes.push('seqNo');
      pieces.push('');
    } else pieces[pieces.length - 1] += value;
  });
  pieces[pieces.length - 1] += '}}';
  return { pieces: pieces.map((p) => Buffer.from(p)), holes };
}

const COMMA = Buffer.from(',');

/** Bytes of items are written into buffers of this size, one after another. */
const PART_BYTES = 1 << 18;

/**
 * Created items of consecutive documents of one store write, with the same
 * action and index: their ids (the store's) are known only once the write is
 * durable, so their bytes are written at the end.
 */
interface CreatedRun {
  shape: CreatedShape;
  keys: RowKeys;
  from: number;
  count: number;
}

/** A generated id's most bytes: an eight-digit day, a dash, a sequence number of up to sixteen digits. */
const MAX_ID_BYTES = 25;
/** A `_seq_no`'s most bytes: a safe integer has up to sixteen digits. */
const MAX_SEQ_NO_BYTES = 16;

/**
 * The answer of a bulk request, written as each item is decided: bytes in a
 * few large buffers rather than an object (or a string) per item kept until
 * the end. Items decided later (actions naming an id) hold a slot, filled by
 * `fill`. Every item is written with a comma before it; the answer's first
 * item sheds it at the end, since items a filter leaves out are known only
 * once written.
 */
export class BulkAnswer {
  /** Actions so far, slots included (whether or not the filter keeps their items). */
  size = 0;
  errors = false;
  private readonly parts: (Buffer | number | CreatedRun)[] = [];
  private run: CreatedRun | null = null;
  private buf = Buffer.allocUnsafe(PART_BYTES);
  private pos = 0;
  private slots = 0;
  private filled: ItemResult[] = [];
  private took = 0;
  /** How created items are written, per action and index: a request names few indices. */
  private readonly shapes = new Map<string, CreatedShape | null>();
  private lastShape: { action: BulkAction; index: string; shape: CreatedShape | null } | null = null;

  constructor(private readonly filter: AnswerFilter = WHOLE_ANSWER) {}

  /**
   * The item of a document created with the id the store generates, the
   * event at `at` of the write whose keys are `keys`. Kept as a run of such
   * items, written out by `bytes` once the write is durable.
   */
  created(action: BulkAction, index: string, keys: RowKeys, at: number): void {
    this.size++;
    const shape = this.shape(action, index);
    if (shape === null) return;
    const run = this.run;
    if (run !== null && run.shape === shape && run.keys === keys && run.from + run.count === at) {
      run.count++;
      return;
    }
    this.cut();
    this.run = { shape, keys, from: at, count: 1 };
    this.parts.push(this.run);
  }

  private shape(action: BulkAction, index: string): CreatedShape | null {
    const last = this.lastShape;
    if (last !== null && last.action === action && last.index === index) return last.shape;
    const key = `${action}\n${index}`;
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      shape = this.filter.items ? createdShape(action, index, this.filter.itemFields) : null;
      if (this.shapes.size < 100) this.shapes.set(key, shape);
    }
    this.lastShape = { action, index, shape };
    return shape;
  }

  item(r: ItemResult): void {
    this.size++;
    this.run = null;
    if (r.error) this.errors = true;
    const json = this.filter.items ? itemJson(r, this.filter.itemFields) : null;
    if (json !== null) this.append(json);
  }

  /** Keeps the place of an item decided later; slots are filled in the order they were taken. */
  slot(): void {
    this.size++;
    this.run = null;
    this.cut();
    this.parts.push(this.slots++);
  }

  /** Fills the slots with their items, in order, and notes how long the request took. */
  fill(results: ItemResult[], took: number): void {
    if (results.length !== this.slots) throw new Error(`bulk answer: ${this.slots} slots but ${results.length} results`);
    this.filled = results;
    for (const r of results) if (r.error) this.errors = true;
    this.took = took;
  }

  /** The answer's JSON text. */
  bytes(): Buffer {
    this.cut();
    const items: Buffer[] = [];
    for (const part of this.parts) {
      if (typeof part === 'number') {
        const json = this.filter.items ? itemJson(this.filled[part], this.filter.itemFields) : null;
        if (json !== null) items.push(Buffer.from(`,${json}`));
      } else if (Buffer.isBuffer(part)) items.push(part);
      else items.push(createdItems(part));
    }
    // The first item's comma goes.
    const first = items.findIndex((b) => b.length > 0);
    if (first >= 0) items[first] = items[first].subarray(1);
    const f = this.filter;
    const members: string[] = [];
    if (f.took) members.push(`"took":${this.took}`);
    if (f.errors) members.push(`"errors":${this.errors}`);
    // Filtered, an answer without items leaves out `items` (as the generic filter leaves out what keeps nothing).
    if (!f.items || (first < 0 && f !== WHOLE_ANSWER)) return Buffer.from(`{${members.join(',')}}`);
    members.push('"items":[');
    return Buffer.concat([Buffer.from(`{${members.join(',')}`), ...items, Buffer.from(']}')]);
  }

  /** Writes an item with the comma before it. */
  private append(text: string): void {
    const room = text.length * 3 + 1;
    if (this.pos + room > this.buf.length) {
      this.cut();
      this.buf = Buffer.allocUnsafe(Math.max(PART_BYTES, room));
    }
    this.buf[this.pos++] = 44;
    this.pos += this.buf.write(text, this.pos);
  }

  /** Ends the current buffer's part (what follows is written after it). */
  private cut(): void {
    if (this.pos === 0) return;
    this.parts.push(this.buf.subarray(0, this.pos));
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
  }
}

/**
 * A run's items, each with a comma before it. Consecutive items of one day
 * whose sequence numbers (and `_seq_no`s) have as many digits have the same
 * length and differ only in those digits: they are laid down with one native
 * fill of a template, and then each gets its digits (copying prefix and tail
 * per item cost most of the answer's time). Items without holes are all alike.
 */
function createdItems(run: CreatedRun): Buffer {
  const { shape, keys, from, count } = run;
  const { pieces, holes } = shape;
  if (holes.length === 0) {
    const item = Buffer.concat([COMMA, pieces[0]]);
    return Buffer.allocUnsafe(count * item.length).fill(item);
  }
  let fixed = 1;
  for (const p of pieces) fixed += p.length;
  const itemMax = fixed + holes.reduce((n, h) => n + (h === 'id' ? MAX_ID_BYTES : MAX_SEQ_NO_BYTES), 0);
  const out = Buffer.allocUnsafe(count * itemMax);
  const template = Buffer.allocUnsafe(itemMax);
  template[0] = 44;
  const at: number[] = new Array(holes.length);
  let pos = 0;
  let k = from;
  const end = from + count;
  while (k < end) {
    const day = keys.days[k];
    const base = rowPosition(day, 0);
    const digits = digitCount(keys.seqs[k]);
    const seqNoDigits = digitCount(base + keys.seqs[k]);
    let last = k + 1;
    while (last < end && keys.days[last] === day && digitCount(keys.seqs[last]) === digits && digitCount(base + keys.seqs[last]) === seqNoDigits) last++;
    // The template: a comma, then the pieces, the day and a dash before an id's digits, room for the digits of each hole.
    let length = 1;
    for (let h = 0; h <= holes.length; h++) {
      pieces[h].copy(template, length);
      length += pieces[h].length;
      if (h === holes.length) break;
      if (holes[h] === 'id') {
        length = writeDigits(template, length, day) + 1;
        template[length - 1] = 45;
        at[h] = length;
        length += digits;
      } else {
        at[h] = length;
        length += seqNoDigits;
      }
    }
    const n = last - k;
    out.fill(template.subarray(0, length), pos, pos + n * length);
    for (let item = pos; k < last; k++, item += length) {
      for (let h = 0; h < holes.length; h++) writeDigits(out, item + at[h], holes[h] === 'id' ? keys.seqs[k] : base + keys.seqs[k]);
    }
    pos += n * length;
  }
  return out.subarray(0, pos);
}

/** The number of decimal digits of a whole number, at least 0. */
function digitCount(n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  return digits;
}

/** A whole number of up to sixteen digits, at least 0, in ASCII at `pos`; returns the position after it. */
function writeDigits(out: Buffer, pos: number, n: number): number {
  if (n >= 0x7fffffff) {
    // A `_seq_no` (above 2^46 for any day since 1970): its high digits, then its low eight, each in integer arithmetic.
    const high = Math.floor(n / 1e8);
    const low = n - high * 1e8;
    const at = writeDigits(out, pos, high);
    let p = at + 8;
    for (let x = low, i = 0; i < 8; i++) {
      const q = (x / 10) | 0;
      out[--p] = 48 + x - q * 10;
      x = q;
    }
    return at + 8;
  }
  // Below 2^31: integer arithmetic.
  const digits = digitCount(n);
  let p = pos + digits;
  do {
    const q = (n / 10) | 0;
    out[--p] = 48 + n - q * 10;
    n = q;
  } while (n > 0);
  return pos + digits;
}
