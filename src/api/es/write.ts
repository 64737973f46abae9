/**
 * Writing through the Elasticsearch-compatible API: `_bulk` and the
 * single-document endpoints (`_doc`, `_create`, `_update`, DELETE `_doc`).
 *
 * A bulk request is parsed line by line; every action gets an item in the
 * answer, in Elasticsearch's shape, and a bad line fails alone: a malformed
 * action line, a document that is not JSON, a missing document line are
 * per-item errors while the rest is stored.
 *
 * Documents without an `_id` (what nearly every shipper sends) take the fast
 * path: they get a generated id and go to the store in one `write` per
 * request, acknowledged once it resolves. Actions naming an `_id` look up
 * the current documents first (one `getByIds` per index), are applied in
 * request order (a later action sees an earlier one), and replaced or
 * deleted documents are removed with `deleteWhere` before the new versions
 * are written. Requests with ids are serialised, so that two requests
 * creating the same id cannot both succeed.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldValue, LogEvent, Scalar } from '../../core/event.js';
import { eventFromObject } from '../../core/normalize.js';
import { parseEventTime, parseIsoMicros } from '../../core/time.js';
import type { FilterNode } from '../../query/ast.js';
import type { Hit } from '../../store/store.js';
import { indexNameProblem, indexUuid, isObject, resolveDateMath, type EsMeta } from './admin.js';
import type { EsContext } from './context.js';
import { esErrorBody, EsError, itemError, type EsErrorCause } from './errors.js';

export type BulkAction = 'index' | 'create' | 'delete' | 'update';

const ACTIONS = new Set<string>(['index', 'create', 'delete', 'update']);

/** Parameters an action line may carry (Elasticsearch's names). */
const ACTION_PARAMS = new Set([
  '_index',
  // Mapping types are gone since Elasticsearch 7; older shippers still send `_type`, which is ignored (as in compatibility mode).
  '_type',
  '_id',
  'routing',
  '_routing',
  'op_type',
  'version',
  'version_type',
  'if_seq_no',
  'if_primary_term',
  'pipeline',
  'retry_on_conflict',
  '_source',
  'require_alias',
  'require_data_stream',
  'dynamic_templates',
  'list_executed_pipelines',
]);

/** Fields Elasticsearch refuses inside a document's source. */
const METADATA_FIELDS = new Set(['_id', '_index', '_source', '_routing', '_seq_no', '_version', '_primary_term', '_ignored', '_field_names', '_doc_count', '_tier', '_data_stream_timestamp']);

const MAX_ID_BYTES = 512;

/** One action of a bulk request after parsing. */
export interface BulkOp {
  action: BulkAction;
  /** 1-based line number of the action line. */
  line: number;
  index: string | null;
  id: string | null;
  /** The document (index, create) or the update request body (update). */
  source?: Record<string, unknown>;
  /** Set when the action failed while parsing; it is answered with this error and not applied. */
  error?: { status: number; cause: EsErrorCause };
}

interface ParsedAction {
  ok: true;
  action: BulkAction;
  meta: Record<string, unknown>;
}

interface BadAction {
  ok: false;
  reason: string;
  /** Whether the line's document line (if any) should be skipped with it. */
  hasBody: boolean;
  /** The action name, when the line named a known action but its metadata was wrong. */
  action?: BulkAction;
  meta?: Record<string, unknown>;
}

const EXPECTED = 'expected field [create], [delete], [index] or [update]';

/** Parses an action line; `cache` keeps parses of identical lines (shippers repeat `{"index":{}}`). */
function parseActionLine(line: string, lineNo: number, cache: Map<string, ParsedAction | BadAction>): ParsedAction | BadAction {
  const cached = cache.get(line);
  if (cached !== undefined) return cached;
  const result = parseActionUncached(line, lineNo);
  // Errors name their line number, so only successes are shared; lines with ids are unique, so only short ones are kept.
  if (result.ok && line.length < 256 && cache.size < 64) cache.set(line, result);
  return result;
}

function parseActionUncached(line: string, lineNo: number): ParsedAction | BadAction {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return {
      ok: false,
      reason: `Malformed action/metadata line [${lineNo}], expected a JSON object such as {"index":{}} but the line is not JSON (${(err as Error).message}): ${preview(line)}`,
      hasBody: true,
    };
  }
  if (!isObject(parsed)) {
    return { ok: false, reason: `Malformed action/metadata line [${lineNo}], expected START_OBJECT but found [${jsonKind(parsed)}]`, hasBody: true };
  }
  const keys = Object.keys(parsed);
  if (keys.length === 0) {
    return { ok: false, reason: `Malformed action/metadata line [${lineNo}], ${EXPECTED} but found an empty object`, hasBody: false };
  }
  // The action is the first key. Keys after it are ignored, as Elasticsearch 8 does: some clients
  // (winston-elasticsearch) send `{"index":{…},"attempts":0}`.
  const name = keys[0];
  const value = parsed[name];
  if (!ACTIONS.has(name)) {
    // `{"upsert":{…}}` looks like an action line with its own document; `{"message":"x"}` is a document without an action.
    const looksLikeAction = keys.length === 1 && isObject(value);
    return {
      ok: false,
      reason: `Malformed action/metadata line [${lineNo}], ${EXPECTED} but found [${name}]${looksLikeAction ? '' : ' (a document without its action line?)'}`,
      hasBody: looksLikeAction,
    };
  }
  const action = name as BulkAction;
  if (!isObject(value)) {
    return { ok: false, reason: `Malformed action/metadata line [${lineNo}], expected START_OBJECT but found [${jsonKind(value)}]`, hasBody: action !== 'delete', action };
  }
  for (const key of Object.keys(value)) {
    if (!ACTION_PARAMS.has(key)) {
      return { ok: false, reason: `Action/metadata line [${lineNo}] contains an unknown parameter [${key}]`, hasBody: action !== 'delete', action, meta: value };
    }
  }
  return { ok: true, action, meta: value };
}

/** Whether a line is a well-formed action line (used to notice a missing document line). */
function isActionLine(line: string, cache: Map<string, ParsedAction | BadAction>): boolean {
  const t = line.trimStart();
  if (!t.startsWith('{')) return false;
  // Cheap check before parsing: an action line starts with one of the action names.
  if (!/^\{\s*"(index|create|delete|update)"\s*:\s*\{/.test(t)) return false;
  return parseActionLine(line, 0, cache).ok;
}

function jsonKind(v: unknown): string {
  if (v === null) return 'VALUE_NULL';
  if (Array.isArray(v)) return 'START_ARRAY';
  switch (typeof v) {
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return 'VALUE_NUMBER';
    case 'boolean':
      return 'VALUE_BOOLEAN';
    default:
      return 'START_OBJECT';
  }
}

function preview(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function bad(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): { status: number; cause: EsErrorCause } {
  return { status, cause: itemError(type, reason, extra) };
}

/**
 * Splits a bulk body into actions. `defaultIndex` is the index of the URL
 * (`/{index}/_bulk`). Never throws for bad input: each problem becomes the
 * error of one action.
 */
export function parseBulk(text: string, defaultIndex: string | null): BulkOp[] {
  const ops: BulkOp[] = [];
  const lines = text.split('\n');
  const cache = new Map<string, ParsedAction | BadAction>();
  const n = lines.length;
  const lineAt = (i: number): string => {
    const l = lines[i];
    return l.length > 0 && l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l;
  };
  const blank = (s: string): boolean => s.length === 0 || s.trim() === '';
  let i = 0;
  while (i < n) {
    const line = lineAt(i);
    const lineNo = i + 1;
    if (blank(line)) {
      i++;
      continue;
    }
    const a = parseActionLine(line, lineNo, cache);
    if (!a.ok) {
      const meta = a.meta ?? {};
      ops.push({
        action: a.action ?? 'index',
        line: lineNo,
        index: typeof meta._index === 'string' ? meta._index : defaultIndex,
        id: typeof meta._id === 'string' ? meta._id : null,
        error: bad(400, 'illegal_argument_exception', a.reason),
      });
      // Skip the document line that belongs to the bad action line, unless the next line is itself an action.
      let j = i + 1;
      while (j < n && blank(lineAt(j))) j++;
      i = a.hasBody && j < n && !isActionLine(lineAt(j), cache) ? j + 1 : i + 1;
      continue;
    }
    const meta = a.meta;
    let action = a.action;
    if (action === 'index' && meta.op_type === 'create') action = 'create';
    const rawIndex = typeof meta._index === 'string' ? meta._index : defaultIndex;
    const rawId = meta._id;
    const id = typeof rawId === 'string' ? rawId : typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : null;
    const op: BulkOp = { action, line: lineNo, index: rawIndex, id };
    const problem = checkActionMeta(op, meta, rawId);
    if (action === 'delete') {
      if (problem) op.error = problem;
      ops.push(op);
      i++;
      continue;
    }
    // index, create and update are followed by a document line (blank lines before it are skipped).
    let j = i + 1;
    while (j < n && blank(lineAt(j))) j++;
    if (j >= n) {
      op.error = bad(400, 'action_request_validation_exception', `Validation Failed: 1: source is missing (the [${action}] action on line [${lineNo}] has no document line);`);
      ops.push(op);
      i = j;
      continue;
    }
    const docLine = lineAt(j);
    if (isActionLine(docLine, cache)) {
      op.error = bad(400, 'action_request_validation_exception', `Validation Failed: 1: source is missing (line [${j + 1}] after the [${action}] action on line [${lineNo}] is another action line);`);
      ops.push(op);
      i = j;
      continue;
    }
    i = j + 1;
    if (problem) {
      op.error = problem;
      ops.push(op);
      continue;
    }
    const parsed = parseSource(docLine, j + 1);
    if ('error' in parsed) op.error = parsed.error;
    else op.source = parsed.source;
    ops.push(op);
  }
  return ops;
}

function checkActionMeta(op: BulkOp, meta: Record<string, unknown>, rawId: unknown): BulkOp['error'] | undefined {
  if (meta._index !== undefined && typeof meta._index !== 'string') {
    return bad(400, 'illegal_argument_exception', `Action/metadata line [${op.line}]: [_index] must be a string`);
  }
  if (rawId !== undefined && rawId !== null && op.id === null) {
    return bad(400, 'illegal_argument_exception', `Action/metadata line [${op.line}]: [_id] must be a string`);
  }
  if (op.id !== null) {
    if (op.id === '') return bad(400, 'action_request_validation_exception', 'Validation Failed: 1: if _id is specified it must not be empty;');
    const bytes = Buffer.byteLength(op.id);
    if (bytes > MAX_ID_BYTES) {
      return bad(400, 'action_request_validation_exception', `Validation Failed: 1: id [${preview(op.id, 40)}] is too long, must be no longer than 512 bytes but was: ${bytes};`);
    }
  }
  if ((op.action === 'delete' || op.action === 'update') && op.id === null) {
    return bad(400, 'action_request_validation_exception', 'Validation Failed: 1: id is missing;');
  }
  for (const p of ['version', 'if_seq_no', 'if_primary_term']) {
    if (meta[p] !== undefined) {
      return bad(400, 'illegal_argument_exception', `[${p}] is not supported by Logmill's Elasticsearch-compatible API (documents carry no versions or sequence numbers); send the action without it`);
    }
  }
  return undefined;
}

function parseSource(line: string, lineNo: number): { source: Record<string, unknown> } | { error: BulkOp['error'] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    const msg = (err as Error).message;
    return {
      error: bad(400, 'mapper_parsing_exception', `failed to parse: the document on line [${lineNo}] is not valid JSON`, {
        caused_by: { type: 'json_parse_exception', reason: `${msg}: ${preview(line)}` },
      }),
    };
  }
  if (!isObject(parsed)) {
    return {
      error: bad(400, 'mapper_parsing_exception', `failed to parse: the document on line [${lineNo}] is not a JSON object`, {
        caused_by: { type: 'not_x_content_exception', reason: `Malformed content, must start with an object, found [${jsonKind(parsed)}]` },
      }),
    };
  }
  return { source: parsed };
}

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

/** A document → an event of `index` with `id`, or the mapper_parsing_exception Elasticsearch would answer. */
export function documentToEvent(source: Record<string, unknown>, index: string, id: string, arrivalMicros: number): Built {
  for (const key in source) {
    if (key.charCodeAt(0) === 95 /* _ */ && METADATA_FIELDS.has(key)) {
      return {
        error: bad(400, 'mapper_parsing_exception', `Field [${key}] is a metadata field and cannot be added inside a document. Use the index API request parameters.`),
      };
    }
  }
  let ts = arrivalMicros;
  const raw = source['@timestamp'];
  if (raw !== undefined && raw !== null) {
    const parsed = esTimestampMicros(raw);
    if (parsed === null) {
      const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
      return {
        error: bad(400, 'mapper_parsing_exception', `failed to parse field [@timestamp] of type [date] in document with id '${id}'. Preview of field's value: '${preview(shown ?? '', 60)}'`, {
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
  // `@timestamp` is taken above; a null here also keeps a field named `timestamp` as a field.
  source['@timestamp'] = null;
  const event = eventFromObject(source, ts);
  event.id = id;
  event.index = index;
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
  return event;
}

function toFieldValue(v: unknown): FieldValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.filter((x): x is Scalar => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
  return JSON.stringify(v);
}

// ------------------------------------------------------------ applying actions

export interface ItemResult {
  action: BulkAction;
  index: string;
  id: string | null;
  status: number;
  result?: 'created' | 'updated' | 'deleted' | 'not_found' | 'noop';
  version?: number;
  seqNo?: number;
  error?: EsErrorCause;
  /** The id was generated here (URL- and JSON-safe: no quoting needed). */
  generatedId?: boolean;
}

interface DocState {
  exists: boolean;
  event: LogEvent | null;
  /** The document existed in the store when the request began (so it must be deleted there if changed). */
  stored: boolean;
  dirty: boolean;
  version: number;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Elasticsearch-like 20-character ids: 15 random bytes in base64url, drawn for a whole request at once. */
class IdSource {
  private buf = Buffer.alloc(0);
  private pos = 0;
  constructor(private readonly expected: number) {}
  next(): string {
    if (this.pos + 15 > this.buf.length) {
      this.buf = randomBytes(15 * Math.max(16, Math.min(this.expected, 65_536)));
      this.pos = 0;
    }
    let out = '';
    for (let i = 0; i < 15; i += 3) {
      const b0 = this.buf[this.pos + i];
      const b1 = this.buf[this.pos + i + 1];
      const b2 = this.buf[this.pos + i + 2];
      out += ID_ALPHABET[b0 >> 2] + ID_ALPHABET[((b0 & 3) << 4) | (b1 >> 4)] + ID_ALPHABET[((b1 & 15) << 2) | (b2 >> 6)] + ID_ALPHABET[b2 & 63];
    }
    this.pos += 15;
    return out;
  }
}

const SPAN = { start: 0, end: 0 };

function term(field: string, value: string): FilterNode {
  return { kind: 'term', field, value, span: SPAN };
}

/** The writer shared by the bulk and single-document routes of one server. */
export class EsWriter {
  private seqNo = 0;
  /** Serialises requests that name ids: their look-ups and writes must not interleave. */
  private lock: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: EsContext,
    private readonly meta: EsMeta,
  ) {}

  /** Applies parsed actions and returns one result per action, in order, once everything is durable. */
  async apply(ops: BulkOp[]): Promise<ItemResult[]> {
    const needsLookup = ops.some((op) => !op.error && op.id !== null);
    if (!needsLookup) return this.applyNow(ops);
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => (release = r));
    await prev;
    try {
      return await this.applyNow(ops);
    } finally {
      release();
    }
  }

  private async applyNow(ops: BulkOp[]): Promise<ItemResult[]> {
    const arrival = Date.now() * 1000;
    const results: ItemResult[] = new Array(ops.length);
    const ids = new IdSource(ops.length);
    const targets = new Map<string, string | EsErrorCause>();
    const target = (name: string | null): string | EsErrorCause => {
      if (name === null) return itemError('action_request_validation_exception', 'Validation Failed: 1: index is missing;');
      let t = targets.get(name);
      if (t === undefined) {
        const resolved = this.meta.writeTarget(resolveDateMath(name));
        const problem = indexNameProblem(resolved);
        t = problem ? itemError('invalid_index_name_exception', `Invalid index name [${resolved}], ${problem}`, { index_uuid: '_na_', index: resolved }) : resolved;
        targets.set(name, t);
      }
      return t;
    };

    // Resolve targets and find which (index, id) pairs must be looked up.
    const resolvedIndex: (string | null)[] = new Array(ops.length).fill(null);
    const lookups = new Map<string, Set<string>>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op.error) continue;
      const t = target(op.index);
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
          if (!states.has(k)) states.set(k, { exists: true, event: hitToEvent(hit), stored: true, dirty: false, version: 1 });
        }
      }
    }
    const stateOf = (index: string, id: string): DocState => {
      const k = key(index, id);
      let s = states.get(k);
      if (!s) states.set(k, (s = { exists: false, event: null, stored: false, dirty: false, version: 0 }));
      return s;
    };

    const fresh: LogEvent[] = [];
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
        const id = ids.next();
        const built = documentToEvent(op.source as Record<string, unknown>, index, id, arrival);
        if ('error' in built) {
          results[i] = { action: op.action, index, id, status: built.error.status, error: built.error.cause };
          continue;
        }
        fresh.push(built.event);
        results[i] = { action: op.action, index, id, status: 201, result: 'created', version: 1, seqNo: this.seqNo++, generatedId: true };
        continue;
      }

      const fail = (status: number, cause: EsErrorCause): void => {
        results[i] = { action: op.action, index, id: op.id, status, error: cause };
      };
      const ok = (status: number, result: NonNullable<ItemResult['result']>, id: string, version: number): void => {
        results[i] = { action: op.action, index, id, status, result, version, seqNo: result === 'noop' ? this.seqNo : this.seqNo++ };
      };
      const conflictExtra = (): Record<string, unknown> => ({ index_uuid: indexUuid(this.meta, index), shard: '0', index });

      const id = op.id;
      const state = stateOf(index, id);
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
    }
    const events = fresh;
    for (const s of states.values()) if (s.dirty && s.exists && s.event) events.push(s.event);
    if (events.length > 0) await this.ctx.store.write(events);
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
function mergeDoc(current: LogEvent, doc: Record<string, unknown>, index: string, id: string): Built {
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

function sameEvent(a: LogEvent, b: LogEvent): boolean {
  if (a.ts !== b.ts) return false;
  const ka = Object.keys(a.fields).filter((k) => a.fields[k] !== null);
  const kb = Object.keys(b.fields).filter((k) => b.fields[k] !== null);
  if (ka.length !== kb.length) return false;
  for (const k of kb) if (JSON.stringify(a.fields[k]) !== JSON.stringify(b.fields[k])) return false;
  return true;
}

// ------------------------------------------------------------ answers

const SHARDS = '{"total":2,"successful":1,"failed":0}';
const SHARDS_OBJ = { total: 2, successful: 1, failed: 0 };
const NOOP_SHARDS = { total: 0, successful: 0, failed: 0 };

/** One item of a bulk answer as an object (when the answer must be filtered or pretty-printed). */
export function itemObject(r: ItemResult): Record<string, unknown> {
  const body: Record<string, unknown> = { _index: r.index, _id: r.id };
  if (r.error) {
    body.status = r.status;
    body.error = r.error;
  } else {
    body._version = r.version;
    body.result = r.result;
    body._shards = r.result === 'noop' ? NOOP_SHARDS : SHARDS_OBJ;
    body._seq_no = r.seqNo;
    body._primary_term = 1;
    body.status = r.status;
  }
  return { [r.action]: body };
}

/** The bulk answer as JSON text, built directly: for 100,000 items this is much cheaper than JSON.stringify of objects. */
function bulkAnswerText(took: number, results: ItemResult[]): string {
  const errors = results.some((r) => r.error !== undefined);
  const parts: string[] = new Array(results.length);
  const quoted = new Map<string, string>();
  const q = (s: string): string => {
    let v = quoted.get(s);
    if (v === undefined) {
      v = JSON.stringify(s);
      if (quoted.size < 1000) quoted.set(s, v);
    }
    return v;
  };
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r.error || r.result === 'noop') {
      parts[i] = JSON.stringify(itemObject(r));
      continue;
    }
    parts[i] = `{"${r.action}":{"_index":${q(r.index)},"_id":${r.generatedId ? `"${r.id}"` : JSON.stringify(r.id)},"_version":${r.version},"result":"${r.result}","_shards":${SHARDS},"_seq_no":${r.seqNo},"_primary_term":1,"status":${r.status}}}`;
  }
  return `{"took":${took},"errors":${errors},"items":[${parts.join(',')}]}`;
}

function bodyText(req: FastifyRequest): string {
  const raw = req.body;
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (typeof raw === 'string') return raw;
  return '';
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
  const text = bodyText(req);
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
  const item = itemObject(r)[r.action] as Record<string, unknown>;
  delete item.status;
  if (r.status === 201) reply.header('location', `/${encodeURIComponent(r.index)}/_doc/${encodeURIComponent(r.id ?? '')}`);
  return reply.code(r.status).send(item);
}

export function registerEsWriteRoutes(app: FastifyInstance, ctx: EsContext, meta: EsMeta): EsWriter {
  const writer = new EsWriter(ctx, meta);

  const bulk = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const started = Date.now();
    const params = req.params as Params;
    const text = bodyText(req);
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', Buffer.isBuffer(req.body) ? req.body.length : text.length, { input: 'elasticsearch' });
    const defaultIndex = params.index !== undefined ? decodeName(params.index) : null;
    const ops = parseBulk(text, defaultIndex);
    if (ops.length === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    const results = await writer.apply(ops);
    const took = Date.now() - started;
    const q = req.query as Query;
    if (q.filter_path !== undefined || (q.pretty !== undefined && q.pretty !== 'false')) {
      // Objects: the server's filter_path and pretty handling apply to them.
      return reply.send({ took, errors: results.some((r) => r.error !== undefined), items: results.map(itemObject) });
    }
    return reply.type('application/json; charset=UTF-8').send(bulkAnswerText(took, results));
  };
  app.post('/_bulk', bulk);
  app.put('/_bulk', bulk);
  app.post('/:index/_bulk', bulk);
  app.put('/:index/_bulk', bulk);

  const one = async (reply: FastifyReply, op: BulkOp): Promise<unknown> => {
    const [r] = await writer.apply([op]);
    return singleAnswer(reply, r);
  };

  // POST /{index}/_doc: a new document with a generated id.
  app.post('/:index/_doc', async (req, reply) => {
    const index = decodeName((req.params as Params).index);
    return one(reply, { action: 'create', line: 1, index, id: null, source: singleDocument(req) });
  });

  // PUT|POST /{index}/_doc/{id}: create or replace (op_type=create: create only).
  const indexWithId = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const p = req.params as Params;
    const q = req.query as Query;
    const action: BulkAction = q.op_type === 'create' ? 'create' : 'index';
    return one(reply, idOp(action, p, q, singleDocument(req)));
  };
  app.put('/:index/_doc/:id', indexWithId);
  app.post('/:index/_doc/:id', indexWithId);

  const create = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const p = req.params as Params;
    return one(reply, idOp('create', p, req.query as Query, singleDocument(req)));
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
    const item = itemObject(r)[r.action] as Record<string, unknown>;
    delete item.status;
    return reply.code(r.status).send(item);
  });

  return writer;
}

function idOp(action: BulkAction, p: Params, q: Query, source: Record<string, unknown> | undefined): BulkOp {
  const op: BulkOp = { action, line: 1, index: decodeName(p.index), id: decodeName(p.id), source };
  const problem = checkActionMeta(op, { version: q.version, if_seq_no: q.if_seq_no, if_primary_term: q.if_primary_term }, op.id);
  if (problem) op.error = problem;
  return op;
}
