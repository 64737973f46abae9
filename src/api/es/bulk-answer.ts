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
 * The answer of a bulk request, written as each item is decided: bytes in a
 * few large buffers rather than an object (or a string) per item kept until
 * the end. Items decided later (actions naming an id) hold a slot, filled by
 * `fill`.
 */
export class BulkAnswer {
  /** Items so far, slots included. */
  size = 0;
  errors = false;
  private readonly parts: (Buffer | number)[] = [];
  private buf = Buffer.allocUnsafe(PART_BYTES);
  private pos = 0;
  private slots = 0;
  private filled: ItemResult[] = [];
  private took = 0;
  /** The bytes of a created item up to its id, per action and index: a request names few indices. */
  private readonly heads = new Map<string, Buffer>();
  private lastHead: { action: BulkAction; index: string; bytes: Buffer } | null = null;

  /**
   * The item of a document created with a generated id (ASCII, URL- and
   * JSON-safe, so never quoted), copied byte by byte: a string per item and
   * its UTF-8 write cost a microsecond a document.
   */
  created(action: BulkAction, index: string, id: string): void {
    const head = this.head(action, index);
    this.comma(head.length + id.length + CREATED_TAIL.length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < head.length; i++) buf[pos++] = head[i];
    for (let i = 0; i < id.length; i++) buf[pos++] = id.charCodeAt(i);
    for (let i = 0; i < CREATED_TAIL.length; i++) buf[pos++] = CREATED_TAIL[i];
    this.pos = pos;
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
    if (r.error) this.errors = true;
    this.append(JSON.stringify(bulkItem(r)));
  }

  /** Keeps the place of an item decided later; slots are filled in the order they were taken. */
  slot(): void {
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
    for (const part of this.parts) out.push(typeof part === 'number' ? Buffer.from(JSON.stringify(bulkItem(this.filled[part]))) : part);
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
