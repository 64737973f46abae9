/**
 * Writing through the Elasticsearch-compatible API: `_bulk` and the
 * single-document endpoints (`_doc`, `_create`, `_update`, DELETE `_doc`).
 *
 * A bulk request is read line by line (bulk-body.ts); every action gets an
 * item in the answer, in Elasticsearch's shape (bulk-answer.ts), and a bad
 * line fails alone: a malformed action line, a document that is not JSON, a
 * missing document line are per-item errors while the rest is stored.
 *
 * Documents without an `_id` (what nearly every shipper sends) take the fast
 * path: each becomes an event as soon as it is read, and the events go to the
 * store in chunks while the rest of the body is read; the request is answered
 * once every chunk is durable, each document with the id the store gave it
 * (`YYYYMMDD-N`, its day and row: random ids cost a third of the disk). Actions naming an `_id` look up
 * the current documents first (one `getByIds` per index), are applied in
 * request order (a later action sees an earlier one), and replaced or
 * deleted documents are removed with `deleteWhere` before the new versions
 * are written. Requests with ids are serialised, so that two requests
 * creating the same id cannot both succeed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldValue, LogEvent, Scalar } from '../../core/event.js';
import { FieldNames, scannedShipperTime, ScannedEvent, type ScannedDocument } from '../../core/json-fields.js';
import { eventFromObject } from '../../core/normalize.js';
import { documentOfShape, shapeOfObject, shapeOfScanned } from '../../core/shape.js';
import { microsToIso, parseEventTime, parseIsoMicros, shipperTime } from '../../core/time.js';
import type { FilterNode } from '../../query/ast.js';
import { HIT_POSITION, HIT_SHAPE, rowPosition, RowKeys, type Hit, type Store } from '../../store/store.js';
import { indexNameProblem, indexUuid, isObject, resolveDateMath, type EsMeta } from './admin.js';
import { closedIndexError } from './indices.js';
import type { DocumentTransform, EsContext } from './context.js';
import { answerFilter, BulkAnswer, WHOLE_ANSWER, writeResponse, type AnswerFilter, type ItemResult } from './bulk-answer.js';
import { bad, BulkReader, checkActionMeta, parseSource, preview, type BulkAction, type BulkOp } from './bulk-body.js';
import { esErrorBody, EsError, itemError, type EsErrorCause } from './errors.js';
import { forgetIndexFields } from './mappings.js';

/** Fields Elasticsearch refuses inside a document's source. */
const METADATA_FIELDS = new Set(['_id', '_index', '_source', '_routing', '_seq_no', '_version', '_primary_term', '_ignored', '_field_names', '_doc_count', '_tier', '_data_stream_timestamp']);

// ------------------------------------------------------------ documents → events

/**
 * Elasticsearch's default date format for `@timestamp` is
 * `strict_date_optional_time||epoch_millis`: ISO-8601 with any precision
 * (`2026`, `2026-11`, `2026-11-21`, `2026-11-21T10`, …, with or without a
 * zone), or epoch milliseconds as a number or a numeric string.
 */
export function esTimestampMicros(value: unknown): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') return null;
  const fast = parseIsoMicros(value);
  if (fast !== null) return fast >= 0 ? fast : null;
  const t = value.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  let m = /^(\d{4})(?:-(\d{2}))?$/.exec(t);
  if (m) return parseIsoMicros(`${m[1]}-${m[2] ?? '01'}-01`);
  m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2})(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(t);
  if (m) return parseIsoMicros(`${m[1]}:00${m[2] ?? ''}`);
  return parseEventTime(t);
}

/** Whether a timestamp parses but falls before 1970 (or is a negative epoch). */
function outOfRange(raw: unknown): boolean {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw < 0;
  if (typeof raw !== 'string') return false;
  const t = raw.trim();
  if (/^-\d+(\.\d+)?$/.test(t)) return true;
  const iso = parseIsoMicros(t);
  return iso !== null && iso < 0;
}

export type Built = { event: LogEvent } | { error: { status: number; cause: EsErrorCause } };

/**
 * A document → an event of `index` with `id` (null: the store's generated id), or the
 * mapper_parsing_exception Elasticsearch would answer.
 */
export function documentToEvent(source: Record<string, unknown>, index: string, id: string | null, arrivalMicros: number): Built {
  for (const key in source) {
    if (key.charCodeAt(0) === 95 /* _ */ && METADATA_FIELDS.has(key)) {
      return {
        error: bad(400, 'mapper_parsing_exception', `Field [${key}] is a metadata field and cannot be added inside a document. Use the index API request parameters.`),
      };
    }
  }
  let ts = arrivalMicros;
  const raw = source['@timestamp'];
  if (raw === undefined) {
    // The shipper's own time under another name (pino's `time`, …), when plausible; the field stays as sent.
    ts = shipperTime(source.timestamp, source.time, source.ts, arrivalMicros) ?? arrivalMicros;
  } else if (raw !== null) {
    const parsed = esTimestampMicros(raw);
    if (parsed === null) {
      const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
      return {
        error: bad(400, 'mapper_parsing_exception', `failed to parse field [@timestamp] of type [date]${id === null ? '' : ` in document with id '${id}'`}. Preview of field's value: '${preview(shown ?? '', 60)}'`, {
          caused_by: {
            type: 'illegal_argument_exception',
            reason: outOfRange(raw)
              ? `date [${preview(shown ?? '', 60)}] is outside the range Logmill stores (1970-01-01 to 9999-12-31)`
              : `failed to parse date field [${preview(shown ?? '', 60)}] with format [strict_date_optional_time||epoch_millis]`,
          },
        }),
      };
    }
    ts = parsed;
  }
  // Before `@timestamp` is set aside: the shape keeps where it was and how it was written.
  const shape = shapeOfObject(source, ts);
  // `@timestamp` is taken above; a null here also keeps a field named `timestamp` as a field.
  source['@timestamp'] = null;
  const event = eventFromObject(source, ts);
  if (id !== null) event.id = id;
  event.index = index;
  event.shape = shape;
  return { event };
}

/**
 * The event of a scanned document (see BulkOp.scanned): what documentToEvent
 * makes of the same document parsed, which it is left to whenever the
 * timestamp does not parse, so that the error is worded in one place.
 */
function scannedToEvent(op: BulkOp, reader: BulkReader, index: string, arrivalMicros: number): Built {
  const scanned = op.scanned as ScannedDocument;
  const ts = scanned.time === null ? (scannedShipperTime(scanned, arrivalMicros) ?? arrivalMicros) : esTimestampMicros(scanned.time);
  if (ts === null) {
    const parsed = reader.sourceOf(op);
    if ('error' in parsed) return { error: parsed.error as { status: number; cause: EsErrorCause } };
    return documentToEvent(parsed.source, index, null, arrivalMicros);
  }
  const event = new ScannedEvent(ts, scanned.batch, scanned.first, scanned.count);
  event.index = index;
  event.shape = shapeOfScanned(scanned, ts);
  return { event };
}

/** A stored hit back into an event (for updates: the current document to merge into). */
export function hitToEvent(hit: Hit): LogEvent {
  const fields = Object.create(null) as Record<string, FieldValue>; // field names are data, never prototype keys
  for (const [k, v] of Object.entries(hit)) {
    if (k === '_id' || k === '_index' || k === '@timestamp' || k === '_sort') continue;
    const fv = toFieldValue(v);
    if (fv !== undefined) fields[k] = fv;
  }
  const ts = parseIsoMicros(String(hit['@timestamp'])) ?? Date.now() * 1000;
  const event: LogEvent = { ts, fields, id: hit._id };
  if (typeof hit._index === 'string') event.index = hit._index;
  const shape = hit[HIT_SHAPE];
  if (shape !== undefined) event.shape = shape;
  return event;
}

/** The document an event with a shape was sent as (its fields put back in their places); undefined without a shape. */
export function sourceOfEvent(event: LogEvent): Record<string, unknown> | undefined {
  if (event.shape === undefined) return undefined;
  const fields = event.fields;
  return documentOfShape(event.shape, (name) => fields[name], microsToIso(event.ts));
}

/** Elasticsearch's partial-document merge: objects merge key by key, anything else replaces. */
function mergeInto(target: Record<string, unknown>, doc: Record<string, unknown>): void {
  for (const key of Object.keys(doc)) {
    const v = doc[key];
    const t = target[key];
    if (isObject(v) && isObject(t)) mergeInto(t, v);
    // Defined, not assigned: a sender's `__proto__` key is a key, not the object's prototype.
    else Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

function toFieldValue(v: unknown): FieldValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.filter((x): x is Scalar => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
  return JSON.stringify(v);
}

// ------------------------------------------------------------ applying actions

interface DocState {
  exists: boolean;
  event: LogEvent | null;
  /** The document existed in the store when the request began (so it must be deleted there if changed). */
  stored: boolean;
  dirty: boolean;
  version: number;
  /** The stored row's `_seq_no` (its position, store.ts rowPosition) when the request began; null without one. */
  seqNo: number | null;
  /** The results of this request's actions on the document, in order, whose `_seq_no` is known once it is written. */
  results: { result: ItemResult; changed: boolean }[];
  /** Where its new version is among the events written (its keys); -1 when none is written. */
  writeAt: number;
}

function newState(): DocState {
  return { exists: false, event: null, stored: false, dirty: false, version: 0, seqNo: null, results: [], writeAt: -1 };
}

/**
 * The `_seq_no` of each action on one document, once its new row (if any) is written at
 * `written`. The last change is the row's position, as `GET` reads it; earlier changes in the
 * same request (never stored) take the numbers just below it, or, when the document ends
 * deleted, those just above the stored row's. A noop or a not-found delete answers the number
 * current at its turn.
 */
function assignSeqNos(state: DocState, written: number | null): void {
  const changes = state.results.filter((r) => r.changed).length;
  let current = state.seqNo ?? 0;
  let k = 0;
  for (const r of state.results) {
    if (r.changed) {
      k++;
      current = written !== null ? written - (changes - k) : (state.seqNo ?? 0) + k;
    }
    r.result.seqNo = current;
  }
}

/**
 * Elasticsearch's answer to an `if_seq_no` that does not hold, or null when it holds (or is not
 * asked). An update of a missing document is left to the update's own error.
 */
function seqNoConflict(op: BulkOp, state: DocState, id: string): string | null {
  if (op.ifSeqNo === undefined) return null;
  const required = `[${id}]: version conflict, required seqNo [${op.ifSeqNo}], primary term [${op.ifPrimaryTerm ?? 0}]`;
  if (!state.exists) return op.action === 'update' ? null : `${required} but no document was found`;
  // Changed by an earlier action of this request: its number is known only once written, and no client can have it.
  if (state.dirty) return `${required}. current document was changed by an earlier action of this request`;
  if (state.seqNo === op.ifSeqNo && op.ifPrimaryTerm === 1) return null;
  return `${required}. current document has seqNo [${state.seqNo ?? 0}] and primary term [1]`;
}

const SPAN = { start: 0, end: 0 };

function term(field: string, value: string): FilterNode {
  return { kind: 'term', field, value, span: SPAN };
}

/** The indices a request writes to: each name resolved once (date math, write aliases), or the item error of a bad name. */
class WriteTargets {
  private readonly known = new Map<string, string | EsErrorCause>();

  constructor(private readonly meta: EsMeta) {}

  /** Per resolved name, once per request: the check walks the templates. */
  private readonly streams = new Map<string, boolean>();

  private isDataStream(name: string): boolean {
    let yes = this.streams.get(name);
    if (yes === undefined) this.streams.set(name, (yes = this.meta.isDataStreamName(name)));
    return yes;
  }

  resolve(name: string | null, action: BulkAction = 'create'): string | EsErrorCause {
    if (name === null) return itemError('action_request_validation_exception', 'Validation Failed: 1: index is missing;');
    let t = this.known.get(name);
    if (t === undefined) {
      const resolved = this.meta.writeTarget(resolveDateMath(name));
      const problem = indexNameProblem(resolved);
      t = problem ? itemError('invalid_index_name_exception', `Invalid index name [${resolved}], ${problem}`, { index_uuid: '_na_', index: resolved }) : resolved;
      // A closed index (indices.ts) refuses each item written to it.
      if (typeof t === 'string' && this.meta.indices.get(t)?.closed) t = closedIndexError(this.meta, t).asCause();
      this.known.set(name, t);
    }
    // A data stream takes only `create` (appends), as in Elasticsearch.
    if (action !== 'create' && typeof t === 'string' && this.isDataStream(t)) {
      return itemError('illegal_argument_exception', 'only write ops with an op_type of create are allowed in data streams');
    }
    return t;
  }
}

/**
 * Events of a bulk request go to the store in chunks of this many, as they
 * are parsed. Each chunk is a store write, a buffer to sync and a bloom job:
 * with 512, the server spent about 8 % more CPU per document than with 1,024
 * (alternating runs of 300,000); 128 cost more still, and 2,048 no less.
 */
const BULK_CHUNK = 1024;

/**
 * A bulk request's events handed to the store in chunks while the rest of the
 * body is still being read: each event is encoded soon after it was parsed and
 * dies young, instead of a whole request of them outliving garbage collections.
 */
class ChunkedWrite {
  private chunk: LogEvent[] = [];
  /** Where the store puts the current chunk's events: their generated ids, known once the chunk is durable. */
  keys = new RowKeys(BULK_CHUNK);
  private readonly writes: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;
  count = 0;

  constructor(private readonly store: Store) {}

  /** The place in `keys` of the next event added. */
  get position(): number {
    return this.chunk.length;
  }

  /** Adds an event; true when a chunk was just handed over (the caller should let the event loop run). */
  add(event: LogEvent): boolean {
    this.chunk.push(event);
    if (this.chunk.length < BULK_CHUNK) return false;
    this.flush();
    return true;
  }

  /** Resolves once every event added is durable; rejects with the first failed write's error. */
  async done(): Promise<void> {
    this.flush();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure.error;
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    const events = this.chunk;
    const keys = this.keys;
    this.chunk = [];
    this.keys = new RowKeys(BULK_CHUNK);
    this.count += events.length;
    // Caught at once: the request goes on reading while earlier chunks are written.
    this.writes.push(this.store.write(events, keys).catch((error: unknown) => void (this.failure ??= { error })));
  }
}

/** A document of an index or create action through an ingest transform (`?pipeline=`). */
async function transformed(op: BulkOp, reader: BulkReader, transform: DocumentTransform): Promise<{ documents: Array<Record<string, unknown>> } | { error: { status: number; cause: EsErrorCause } }> {
  let source = op.source;
  if (source === undefined && op.scanned !== undefined) {
    const parsed = reader.sourceOf(op);
    if ('error' in parsed) return { error: parsed.error as { status: number; cause: EsErrorCause } };
    source = parsed.source;
  }
  if (source === undefined) return { documents: [] };
  return { documents: await transform(source) };
}

/** The transform for an action's own `pipeline` (undefined: the request's); throws EsError for a name no pipeline has. */
export type TransformChoice = (itemPipeline: string | undefined) => DocumentTransform | null;
const NO_TRANSFORM: TransformChoice = () => null;

/**
 * The transform `?pipeline=NAME` asks for, or Elasticsearch's error for a name no pipeline has. A server
 * that runs no pipelines stores documents as sent whatever `pipeline` says: shippers such as Filebeat's
 * modules name ingest pipelines of their own, and refusing their every bulk would lose their logs.
 */
export function pipelineTransform(ctx: EsContext, name: string | undefined): DocumentTransform | null {
  if (name === undefined || name === '' || name === '_none' || !ctx.ingestPipelines?.running) return null;
  const transform = ctx.ingestPipelines?.transform(name) ?? null;
  if (transform === null) throw new EsError(400, 'illegal_argument_exception', `pipeline with id [${name}] does not exist; the server runs the pipelines given with -f (as "main") or --pipelines`);
  return transform;
}

/** One holder at a time, in order of asking. */
class Turns {
  private last: Promise<void> = Promise.resolve();

  /** Resolves, once every turn taken before has ended, to the function that ends this one. */
  async take(): Promise<() => void> {
    const before = this.last;
    let end!: () => void;
    this.last = new Promise<void>((resolve) => (end = resolve));
    await before;
    return end;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The writer shared by the bulk and single-document routes of one server. */
export class EsWriter {
  /** The field names of documents scanned rather than parsed (see FieldScanner), kept from one request to the next. */
  private readonly fieldNames = new FieldNames();
  /**
   * Bodies are read one at a time, in order of arrival. Read side by side (a
   * chunk of each in turn), the requests a client keeps in flight all finished
   * at the same moment, and the client, answered all at once, sent nothing
   * while it built its next bodies; so the server idled, then the client. In
   * turn, the first is answered while the others are read.
   */
  private readonly reading = new Turns();
  /** Requests that name ids, one at a time: their look-ups and writes must not interleave. */
  private readonly keyedWrites = new Turns();

  constructor(
    private readonly ctx: EsContext,
    private readonly meta: EsMeta,
  ) {}

  /**
   * A whole `_bulk` body. Documents without an id (what shippers send) are
   * turned into events as they are read and written in chunks; their items
   * are written into the answer at once. Actions naming an id wait for the
   * end of the body and are applied together, in order (`apply`). Bodies
   * are read one at a time, in order of arrival (`reading`). Resolves
   * once everything is durable.
   */
  async bulk(body: Buffer, defaultIndex: string | null, started: number, filter: AnswerFilter = WHOLE_ANSWER, transforms: TransformChoice = NO_TRANSFORM): Promise<BulkAnswer> {
    const arrival = Date.now() * 1000;
    const reader = new BulkReader(body, defaultIndex, this.fieldNames);
    const targets = new WriteTargets(this.meta);
    const answer = new BulkAnswer(filter);
    const writes = new ChunkedWrite(this.ctx.store);
    const keyed: BulkOp[] = [];
    let refused = 0;
    const endTurn = await this.reading.take();
    try {
      for (let op = reader.next(); op !== null; op = reader.next()) {
        if (op.error) {
          answer.item({ action: op.action, index: op.index ?? '', id: op.id, status: op.error.status, error: op.error.cause });
          refused++;
          continue;
        }
        // `?pipeline=NAME`: the pipeline's filters see each document first; what they make of it is stored.
        let extra: Array<Record<string, unknown>> = [];
        let transform: DocumentTransform | null = null;
        if (op.action === 'index' || op.action === 'create') {
          try {
            transform = transforms(op.pipeline);
          } catch (error) {
            if (!(error instanceof EsError)) throw error;
            answer.item({ action: op.action, index: op.index ?? '', id: op.id, status: error.status, error: { type: error.type, reason: error.reason } });
            refused++;
            continue;
          }
        }
        if (transform !== null) {
          const made = await transformed(op, reader, transform);
          if ('error' in made) {
            answer.item({ action: op.action, index: op.index ?? '', id: op.id, status: made.error.status, error: made.error.cause });
            refused++;
            continue;
          }
          if (made.documents.length === 0) {
            answer.item({ action: op.action, index: op.index ?? '', id: op.id, status: 200, result: 'noop' });
            continue;
          }
          [op.source, ...extra] = made.documents;
          op.scanned = undefined;
        }
        if (op.id !== null) {
          keyed.push(op);
          answer.slot();
          continue;
        }
        // index or create without an id (delete and update without one fail while parsing).
        const index = targets.resolve(op.index, op.action);
        if (typeof index !== 'string') {
          answer.item({ action: op.action, index: op.index ?? '', id: null, status: 400, error: index });
          refused++;
          continue;
        }
        const built = op.scanned !== undefined ? scannedToEvent(op, reader, index, arrival) : documentToEvent(op.source as Record<string, unknown>, index, null, arrival);
        if ('error' in built) {
          answer.item({ action: op.action, index, id: null, status: built.error.status, error: built.error.cause });
          refused++;
          continue;
        }
        // Its id is the store's: known once its chunk is durable, and written into the answer then.
        answer.created(op.action, index, writes.keys, writes.position);
        // The store encodes the chunk just handed over while the event loop runs.
        if (writes.add(built.event)) await nextTurn();
        // Events a split or clone made beside the document: stored with it, answered by its item.
        for (const document of extra) {
          const more = documentToEvent(document, index, null, arrival);
          if ('event' in more && writes.add(more.event)) await nextTurn();
        }
      }
    } finally {
      endTurn();
    }
    if (answer.size === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    const keyedResults = keyed.length > 0 ? await this.apply(keyed) : [];
    await writes.done();
    this.ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', writes.count, { input: 'elasticsearch' });
    if (refused > 0) this.ctx.metrics.inc('logmill_events_rejected_total', 'Events refused by inputs', refused, { input: 'elasticsearch' });
    answer.fill(keyedResults, Date.now() - started);
    return answer;
  }

  /** Applies parsed actions and returns one result per action, in order, once everything is durable. */
  async apply(ops: BulkOp[]): Promise<ItemResult[]> {
    const needsLookup = ops.some((op) => !op.error && op.id !== null);
    if (!needsLookup) return this.applyNow(ops);
    const endTurn = await this.keyedWrites.take();
    try {
      return await this.applyNow(ops);
    } finally {
      endTurn();
    }
  }

  private async applyNow(ops: BulkOp[]): Promise<ItemResult[]> {
    const arrival = Date.now() * 1000;
    const results: ItemResult[] = new Array(ops.length);
    const targets = new WriteTargets(this.meta);
    const target = (name: string | null, action: BulkAction): string | EsErrorCause => targets.resolve(name, action);

    // Resolve targets and find which (index, id) pairs must be looked up.
    const resolvedIndex: (string | null)[] = new Array(ops.length).fill(null);
    const lookups = new Map<string, Set<string>>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op.error) continue;
      const t = target(op.index, op.action);
      if (typeof t !== 'string') {
        op.error = { status: 400, cause: t };
        continue;
      }
      resolvedIndex[i] = t;
      if (op.id !== null) {
        let set = lookups.get(t);
        if (!set) lookups.set(t, (set = new Set()));
        set.add(op.id);
      }
    }

    const states = new Map<string, DocState>();
    const key = (index: string, id: string): string => `${index}\u0000${id}`;
    for (const [index, idSet] of lookups) {
      const all = [...idSet];
      for (let i = 0; i < all.length; i += 1000) {
        const hits = await this.ctx.store.getByIds(all.slice(i, i + 1000), index);
        for (const hit of hits) {
          const k = key(index, hit._id);
          if (!states.has(k)) states.set(k, { ...newState(), exists: true, event: hitToEvent(hit), stored: true, version: 1, seqNo: hit[HIT_POSITION] ?? null });
        }
      }
    }
    const stateOf = (index: string, id: string): DocState => {
      const k = key(index, id);
      let s = states.get(k);
      if (!s) states.set(k, (s = newState()));
      return s;
    };

    const fresh: LogEvent[] = [];
    /** The results of the fresh events, whose ids the store gives. */
    const freshResults: ItemResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const index = resolvedIndex[i];
      if (op.error || index === null) {
        const err = op.error ?? bad(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
        results[i] = { action: op.action, index: index ?? op.index ?? '', id: op.id, status: err.status, error: err.cause };
        continue;
      }
      if (op.id === null) {
        // index or create without an id: the fast path.
        const built = documentToEvent(op.source as Record<string, unknown>, index, null, arrival);
        if ('error' in built) {
          results[i] = { action: op.action, index, id: null, status: built.error.status, error: built.error.cause };
          continue;
        }
        fresh.push(built.event);
        // Its _seq_no is its row's, known once written.
        results[i] = { action: op.action, index, id: null, status: 201, result: 'created', version: 1 };
        freshResults.push(results[i]);
        continue;
      }

      const fail = (status: number, cause: EsErrorCause): void => {
        results[i] = { action: op.action, index, id: op.id, status, error: cause };
      };
      const id = op.id;
      const state = stateOf(index, id);
      const ok = (status: number, result: NonNullable<ItemResult['result']>, id: string, version: number): void => {
        results[i] = { action: op.action, index, id, status, result, version };
        state.results.push({ result: results[i], changed: result !== 'noop' && result !== 'not_found' });
      };
      const conflictExtra = (): Record<string, unknown> => ({ index_uuid: indexUuid(this.meta, index), shard: '0', index });

      const conflict = seqNoConflict(op, state, id);
      if (conflict !== null) {
        fail(409, itemError('version_conflict_engine_exception', conflict, conflictExtra()));
        continue;
      }
      switch (op.action) {
        case 'index':
        case 'create': {
          if (op.action === 'create' && state.exists) {
            fail(409, itemError('version_conflict_engine_exception', `[${id}]: version conflict, document already exists (current version [${state.version}])`, conflictExtra()));
            break;
          }
          const built = documentToEvent(op.source as Record<string, unknown>, index, id, arrival);
          if ('error' in built) {
            fail(built.error.status, built.error.cause);
            break;
          }
          const existed = state.exists;
          state.exists = true;
          state.event = built.event;
          state.dirty = true;
          state.version = existed ? state.version + 1 : 1;
          ok(existed ? 200 : 201, existed ? 'updated' : 'created', id, state.version);
          break;
        }
        case 'delete': {
          if (!state.exists) {
            ok(404, 'not_found', id, Math.max(1, state.version));
            break;
          }
          state.exists = false;
          state.event = null;
          state.dirty = true;
          state.version += 1;
          ok(200, 'deleted', id, state.version);
          break;
        }
        case 'update': {
          const body = op.source as Record<string, unknown>;
          const problem = updateProblem(body);
          if (problem) {
            fail(400, problem);
            break;
          }
          const doc = isObject(body.doc) ? body.doc : undefined;
          if (op.ifSeqNo !== undefined && (body.upsert !== undefined || body.doc_as_upsert === true)) {
            const what = body.upsert !== undefined ? "upsert requests don't" : 'doc_as_upsert does not';
            fail(400, itemError('action_request_validation_exception', `Validation Failed: 1: ${what} support \`if_seq_no\` and \`if_primary_term\`;`));
            break;
          }
          if (state.exists && state.event) {
            if (!doc) {
              ok(200, 'noop', id, state.version);
              break;
            }
            const merged = mergeDoc(state.event, doc, index, id);
            if ('error' in merged) {
              fail(merged.error.status, merged.error.cause);
              break;
            }
            if (body.detect_noop !== false && sameEvent(state.event, merged.event)) {
              ok(200, 'noop', id, state.version);
              break;
            }
            state.event = merged.event;
            state.dirty = true;
            state.version += 1;
            ok(200, 'updated', id, state.version);
            break;
          }
          const upsertDoc = body.doc_as_upsert === true && doc ? doc : isObject(body.upsert) ? body.upsert : undefined;
          if (!upsertDoc) {
            fail(404, itemError('document_missing_exception', `[${id}]: document missing`, conflictExtra()));
            break;
          }
          const built = documentToEvent({ ...upsertDoc }, index, id, arrival);
          if ('error' in built) {
            fail(built.error.status, built.error.cause);
            break;
          }
          state.exists = true;
          state.event = built.event;
          state.dirty = true;
          state.version = 1;
          ok(201, 'created', id, 1);
          break;
        }
      }
    }

    // Remove the stored versions of changed documents, then write everything new in one write.
    const removals = new Map<string, string[]>();
    for (const [k, s] of states) {
      if (!s.stored || !s.dirty) continue;
      const [index, id] = k.split('\u0000');
      let list = removals.get(index);
      if (!list) removals.set(index, (list = []));
      list.push(id);
    }
    for (const [index, list] of removals) {
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500);
        const idFilter: FilterNode = part.length === 1 ? term('_id', part[0]) : { kind: 'or', children: part.map((id) => term('_id', id)) };
        await this.ctx.store.deleteWhere({ kind: 'and', children: [term('_index', index), idFilter] });
      }
      forgetIndexFields(this.ctx.store, [index]);
    }
    const events = fresh;
    for (const s of states.values()) {
      if (!s.dirty || !s.exists || !s.event) continue;
      s.writeAt = events.length;
      events.push(s.event);
    }
    // The fresh events come first: their keys are the first ones.
    const keys = new RowKeys(events.length);
    if (events.length > 0) await this.ctx.store.write(events, keys);
    const positionOf = (k: number): number => rowPosition(keys.days[k], keys.seqs[k]);
    for (let k = 0; k < freshResults.length; k++) {
      freshResults[k].id = keys.id(k);
      freshResults[k].seqNo = positionOf(k);
    }
    for (const s of states.values()) assignSeqNos(s, s.writeAt >= 0 ? positionOf(s.writeAt) : null);
    this.ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', events.length, { input: 'elasticsearch' });
    const failed = results.reduce((n, r) => n + (r.error ? 1 : 0), 0);
    if (failed > 0) this.ctx.metrics.inc('logmill_events_rejected_total', 'Events refused by inputs', failed, { input: 'elasticsearch' });
    return results;
  }
}

function updateProblem(body: Record<string, unknown>): EsErrorCause | null {
  if (body.script !== undefined) {
    return itemError('illegal_argument_exception', 'Logmill does not run scripts: [script] updates are not supported; send a partial document in [doc] (with [doc_as_upsert] or [upsert])');
  }
  for (const key of Object.keys(body)) {
    if (!['doc', 'doc_as_upsert', 'upsert', 'detect_noop', '_source', 'scripted_upsert'].includes(key)) {
      return itemError('x_content_parse_exception', `[1:2] [UpdateRequest] unknown field [${key}]`);
    }
  }
  if (body.doc !== undefined && !isObject(body.doc)) return itemError('x_content_parse_exception', '[UpdateRequest] [doc] must be an object');
  if (body.upsert !== undefined && !isObject(body.upsert)) return itemError('x_content_parse_exception', '[UpdateRequest] [upsert] must be an object');
  if (body.doc === undefined && body.upsert === undefined) return itemError('action_request_validation_exception', 'Validation Failed: 1: script or doc is missing;');
  return null;
}

/** A partial document merged into an event: nested objects merge field by field (they are flattened), `@timestamp` replaces. */
export function mergeDoc(current: LogEvent, doc: Record<string, unknown>, index: string, id: string): Built {
  const source = sourceOfEvent(current);
  if (source !== undefined) {
    // A document kept as sent is merged as Elasticsearch merges it, and stays as sent.
    mergeInto(source, structuredClone(doc));
    return documentToEvent(source, index, id, current.ts);
  }
  const built = documentToEvent({ ...doc }, index, id, current.ts);
  if ('error' in built) return built;
  const fields: Record<string, FieldValue> = { ...current.fields };
  const names = Object.keys(fields);
  for (const [k, v] of Object.entries(built.event.fields)) {
    // A value for `a` replaces an object `a` (its `a.*` leaves); a value for `a.b` replaces a leaf `a`.
    if (!(k in fields)) {
      const prefix = `${k}.`;
      for (const name of names) if (name.startsWith(prefix)) delete fields[name];
      const parts = k.split('.');
      for (let i = 1; i < parts.length; i++) delete fields[parts.slice(0, i).join('.')];
    }
    fields[k] = v;
  }
  const ts = doc['@timestamp'] !== undefined && doc['@timestamp'] !== null ? built.event.ts : current.ts;
  return { event: { ts, fields, id, index } };
}

export function sameEvent(a: LogEvent, b: LogEvent): boolean {
  if (a.ts !== b.ts || a.shape !== b.shape) return false;
  const ka = Object.keys(a.fields).filter((k) => a.fields[k] !== null);
  const kb = Object.keys(b.fields).filter((k) => b.fields[k] !== null);
  if (ka.length !== kb.length) return false;
  for (const k of kb) if (JSON.stringify(a.fields[k]) !== JSON.stringify(b.fields[k])) return false;
  return true;
}

// ------------------------------------------------------------ routes

/** The request's body bytes (the server keeps every body as bytes, gzip undone). */
function bodyBytes(req: FastifyRequest): Buffer {
  const raw = req.body;
  if (Buffer.isBuffer(raw)) return raw;
  return Buffer.from(typeof raw === 'string' ? raw : '');
}

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;

function decodeName(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A single-document body: a JSON object, or the error Elasticsearch answers. */
function singleDocument(req: FastifyRequest): Record<string, unknown> {
  const text = bodyBytes(req).toString('utf8');
  if (text.trim() === '') throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: source is missing;');
  const parsed = parseSource(text, 1);
  if ('error' in parsed) {
    const e = parsed.error as { status: number; cause: EsErrorCause };
    const { type, reason, ...extra } = e.cause;
    throw new EsError(e.status, type, reason, extra);
  }
  return parsed.source;
}

/** The answer of a single-document request: the item's body without `status`, or the item's error as a request error. */
function singleAnswer(reply: FastifyReply, r: ItemResult): unknown {
  if (r.error) {
    const { type, reason, ...extra } = r.error;
    return reply.code(r.status).send(esErrorBody(r.status, type, reason, extra));
  }
  const item = writeResponse(r);
  if (r.status === 201) reply.header('location', `/${encodeURIComponent(r.index)}/_doc/${encodeURIComponent(r.id ?? '')}`);
  return reply.code(r.status).send(item);
}

export function registerEsWriteRoutes(app: FastifyInstance, ctx: EsContext, meta: EsMeta): EsWriter {
  const writer = new EsWriter(ctx, meta);

  const bulk = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const started = Date.now();
    const params = req.params as Params;
    const body = bodyBytes(req);
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', body.length, { input: 'elasticsearch' });
    const defaultIndex = params.index !== undefined ? decodeName(params.index) : null;
    const q = req.query as Query;
    const pretty = q.pretty !== undefined && q.pretty !== 'false';
    // A filter_path shippers send is written into the answer as it is built; any other (or ?pretty) goes through the
    // server's generic handling of answers as objects.
    const filter = q.filter_path === undefined ? WHOLE_ANSWER : answerFilter(q.filter_path);
    const requested = pipelineTransform(ctx, q.pipeline);
    const transforms: TransformChoice = (item) => (item === undefined ? requested : pipelineTransform(ctx, item));
    const answer = await writer.bulk(body, defaultIndex, started, pretty || filter === null ? WHOLE_ANSWER : filter, transforms);
    if (pretty || filter === null) return reply.send(JSON.parse(answer.bytes().toString('utf8')));
    return reply.type('application/json; charset=UTF-8').send(answer.bytes());
  };
  app.post('/_bulk', bulk);
  app.put('/_bulk', bulk);
  app.post('/:index/_bulk', bulk);
  app.put('/:index/_bulk', bulk);

  const one = async (reply: FastifyReply, op: BulkOp, pipeline?: string): Promise<unknown> => {
    const transform = op.action === 'update' ? null : pipelineTransform(ctx, pipeline);
    if (transform !== null && op.source !== undefined && !op.error) {
      const [document] = await transform(op.source);
      if (document === undefined) return reply.code(200).send(writeResponse({ action: op.action, index: op.index ?? '', id: op.id, status: 200, result: 'noop' }));
      op.source = document;
    }
    const [r] = await writer.apply([op]);
    return singleAnswer(reply, r);
  };

  // POST /{index}/_doc: a new document with a generated id.
  app.post('/:index/_doc', async (req, reply) => {
    const index = decodeName((req.params as Params).index);
    return one(reply, { action: 'create', line: 1, index, id: null, source: singleDocument(req) }, (req.query as Query).pipeline);
  });

  // PUT|POST /{index}/_doc/{id}: create or replace (op_type=create: create only).
  const indexWithId = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const p = req.params as Params;
    const q = req.query as Query;
    const action: BulkAction = q.op_type === 'create' ? 'create' : 'index';
    return one(reply, idOp(action, p, q, singleDocument(req)), q.pipeline);
  };
  app.put('/:index/_doc/:id', indexWithId);
  app.post('/:index/_doc/:id', indexWithId);

  const create = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const p = req.params as Params;
    return one(reply, idOp('create', p, req.query as Query, singleDocument(req)), (req.query as Query).pipeline);
  };
  app.put('/:index/_create/:id', create);
  app.post('/:index/_create/:id', create);

  app.post('/:index/_update/:id', async (req, reply) => {
    const p = req.params as Params;
    return one(reply, idOp('update', p, req.query as Query, singleDocument(req)));
  });

  app.delete('/:index/_doc/:id', async (req, reply) => {
    const p = req.params as Params;
    const op = idOp('delete', p, req.query as Query, undefined);
    const [r] = await writer.apply([op]);
    if (r.error) return singleAnswer(reply, r);
    return reply.code(r.status).send(writeResponse(r));
  });

  return writer;
}

function idOp(action: BulkAction, p: Params, q: Query, source: Record<string, unknown> | undefined): BulkOp {
  const op: BulkOp = { action, line: 1, index: decodeName(p.index), id: decodeName(p.id), source };
  const problem = checkActionMeta(op, { version: q.version, if_seq_no: q.if_seq_no, if_primary_term: q.if_primary_term }, op.id);
  if (problem) op.error = problem;
  return op;
}
