/**
 * What a write answers, in Elasticsearch's shape: the item of each bulk
 * action, and the body of a single-document write.
 *
 * A bulk item carries what Logmill knows of a document: `_index`, `_id`,
 * `_version`, `result` and `status` (or `status` and `error`). It leaves out
 * `_shards`, `_seq_no` and `_primary_term`, which describe Elasticsearch's
 * replication and optimistic concurrency: Logmill has neither (it refuses
 * `if_seq_no`), Elasticsearch's own client types mark them optional, and
 * shippers read only `status` and `error`. They were 40 % of every item, and
 * a shipper parses one item per document it sends. Single-document answers,
 * which cost nothing per document, keep Elasticsearch's full shape.
 */
import type { RowKeys } from '../../store/store.js';
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

/** One item of a bulk answer. */
function bulkItem(r: ItemResult): Record<string, unknown> {
  const body = r.error
    ? { _index: r.index, _id: r.id, status: r.status, error: r.error }
    : { _index: r.index, _id: r.id, _version: r.version, result: r.result, status: r.status };
  return { [r.action]: body };
}

/** What follows the id in a created item. */
const CREATED_TAIL = Buffer.from('","_version":1,"result":"created","status":201}}');

/** Bytes of items are written into buffers of this size, one after another. */
const PART_BYTES = 1 << 18;

/**
 * Created items of consecutive documents of one store write, with the same
 * action and index: their ids (the store's) are known only once the write is
 * durable, so their bytes are written at the end.
 */
interface CreatedRun {
  head: Buffer;
  keys: RowKeys;
  from: number;
  count: number;
  /** Whether an item comes before the run's first (which then takes a comma). */
  afterItem: boolean;
}

/** A generated id's most bytes: an eight-digit day, a dash, a sequence number of up to sixteen digits. */
const MAX_ID_BYTES = 25;

/**
 * The answer of a bulk request, written as each item is decided: bytes in a
 * few large buffers rather than an object (or a string) per item kept until
 * the end. Items decided later (actions naming an id) hold a slot, filled by
 * `fill`.
 */
export class BulkAnswer {
  /** Items so far, slots included. */
  size = 0;
  errors = false;
  private readonly parts: (Buffer | number | CreatedRun)[] = [];
  private run: CreatedRun | null = null;
  private buf = Buffer.allocUnsafe(PART_BYTES);
  private pos = 0;
  private slots = 0;
  private filled: ItemResult[] = [];
  private took = 0;
  /** The bytes of a created item up to its id, per action and index: a request names few indices. */
  private readonly heads = new Map<string, Buffer>();
  private lastHead: { action: BulkAction; index: string; bytes: Buffer } | null = null;

  /**
   * The item of a document created with the id the store generates, the
   * event at `at` of the write whose keys are `keys`. Kept as a run of such
   * items, written out by `bytes` once the write is durable.
   */
  created(action: BulkAction, index: string, keys: RowKeys, at: number): void {
    const head = this.head(action, index);
    const run = this.run;
    if (run !== null && run.head === head && run.keys === keys && run.from + run.count === at) {
      run.count++;
      this.size++;
      return;
    }
    this.cut();
    this.run = { head, keys, from: at, count: 1, afterItem: this.size > 0 };
    this.parts.push(this.run);
    this.size++;
  }

  private head(action: BulkAction, index: string): Buffer {
    const last = this.lastHead;
    if (last !== null && last.action === action && last.index === index) return last.bytes;
    const key = `${action}\n${index}`;
    let bytes = this.heads.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(`{"${action}":{"_index":${JSON.stringify(index)},"_id":"`);
      if (this.heads.size < 100) this.heads.set(key, bytes);
    }
    this.lastHead = { action, index, bytes };
    return bytes;
  }

  item(r: ItemResult): void {
    this.run = null;
    if (r.error) this.errors = true;
    this.append(JSON.stringify(bulkItem(r)));
  }

  /** Keeps the place of an item decided later; slots are filled in the order they were taken. */
  slot(): void {
    this.run = null;
    this.comma();
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
    const out: Buffer[] = [Buffer.from(`{"took":${this.took},"errors":${this.errors},"items":[`)];
    for (const part of this.parts) {
      if (typeof part === 'number') out.push(Buffer.from(JSON.stringify(bulkItem(this.filled[part]))));
      else if (Buffer.isBuffer(part)) out.push(part);
      else out.push(createdItems(part));
    }
    out.push(Buffer.from(']}'));
    return Buffer.concat(out);
  }

  private append(text: string): void {
    this.comma(text.length * 3);
    this.pos += this.buf.write(text, this.pos);
  }

  /** Counts an item and writes the comma before it (unless it is the first), with room for `room` more bytes. */
  private comma(room = 0): void {
    if (this.pos + room + 1 > this.buf.length) {
      this.cut();
      this.buf = Buffer.allocUnsafe(Math.max(PART_BYTES, room + 1));
    }
    if (this.size++ > 0) this.buf[this.pos++] = 44;
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
 * A run's items. Consecutive items of one day whose sequence numbers have as
 * many digits have the same length and differ only in those digits: they are
 * laid down with one native fill of a template, and then each gets its
 * digits (copying prefix and tail per item cost most of the answer's time).
 * The first item of the answer takes no comma.
 */
function createdItems(run: CreatedRun): Buffer {
  const { head, keys, from, count } = run;
  const itemMax = 1 + head.length + MAX_ID_BYTES + CREATED_TAIL.length;
  const out = Buffer.allocUnsafe(count * itemMax);
  const template = Buffer.allocUnsafe(itemMax);
  template[0] = 44;
  head.copy(template, 1);
  let pos = 0;
  let k = from;
  const end = from + count;
  if (!run.afterItem) {
    pos = createdItem(out, pos, head, keys.days[k], keys.seqs[k]);
    k++;
  }
  while (k < end) {
    const day = keys.days[k];
    const digits = digitCount(keys.seqs[k]);
    const low = digits === 1 ? 0 : 10 ** (digits - 1);
    const high = 10 ** digits;
    let last = k + 1;
    while (last < end && keys.days[last] === day && keys.seqs[last] >= low && keys.seqs[last] < high) last++;
    // The template: a comma, the head, the day and a dash, room for the digits, the tail.
    const seqAt = writeDigits(template, 1 + head.length, day) + 1;
    template[seqAt - 1] = 45;
    const length = seqAt + digits + CREATED_TAIL.length;
    CREATED_TAIL.copy(template, seqAt + digits);
    const n = last - k;
    out.fill(template.subarray(0, length), pos, pos + n * length);
    for (let at = pos + seqAt; k < last; k++, at += length) writeDigits(out, at, keys.seqs[k]);
    pos += n * length;
  }
  return out.subarray(0, pos);
}

/** One created item without the comma before it; returns the position after it. */
function createdItem(out: Buffer, pos: number, head: Buffer, day: number, seq: number): number {
  pos += head.copy(out, pos);
  pos = writeDigits(out, pos, day);
  out[pos++] = 45;
  pos = writeDigits(out, pos, seq);
  return pos + CREATED_TAIL.copy(out, pos);
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
    const text = String(n);
    for (let i = 0; i < text.length; i++) out[pos + i] = text.charCodeAt(i);
    return pos + text.length;
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
