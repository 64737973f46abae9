/**
 * The body of a `_bulk` request: NDJSON of action lines (`{"index":{…}}`,
 * `create`, `delete`, `update`), each but `delete` followed by its document
 * line. Read one action at a time; a malformed action line, a document that
 * is not JSON or a missing document line becomes the error of that one
 * action, in Elasticsearch's words, and the actions around it are read on.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { FieldScanner, type FieldNames, type ScannedDocument } from '../../core/json-fields.js';
import { isObject } from './admin.js';
import { itemError, type EsErrorCause } from './errors.js';

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

const MAX_ID_BYTES = 512;

/** Bodies decoded whole at most this large (V8's strings stop at about 512 MiB; the default body limit is 64 MiB). */
const MAX_WHOLE_BYTES = 256 << 20;

/** One action of a bulk request after parsing. */
export interface BulkOp {
  action: BulkAction;
  /** 1-based line number of the action line. */
  line: number;
  index: string | null;
  id: string | null;
  /** The document (index, create) or the update request body (update). */
  source?: Record<string, unknown>;
  /**
   * A document of an index or create action without an id, scanned rather
   * than parsed (then `source` is unset): see FieldScanner. `sourceOf` parses
   * it, should the writer need it as an object after all.
   */
  scanned?: ScannedDocument;
  /** Where a scanned document is in the body. */
  document?: Line;
  /** Set when the action failed while parsing; it is answered with this error and not applied. */
  error?: { status: number; cause: EsErrorCause };
  /** The action's own `pipeline` (it overrides the request's `?pipeline=`). */
  pipeline?: string;
  /** `if_seq_no` and `if_primary_term`: applied only if the document's current `_seq_no` and term are these (write.ts). */
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
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
export function isActionLine(line: string, cache: Map<string, ParsedAction | BadAction>): boolean {
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

export function preview(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export function bad(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): { status: number; cause: EsErrorCause } {
  return { status, cause: itemError(type, reason, extra) };
}

/** A line of a bulk body: its bytes (without the newline and a trailing CR) and its 1-based number. */
export interface Line {
  start: number;
  end: number;
  no: number;
  /** Offset of the byte after the line's newline. */
  next: number;
  /** Its text, once decoded (see BulkReader.text). */
  text?: string;
}

/**
 * Reads a bulk body one action at a time, straight from its bytes: each line
 * is decoded only when it is reached, so no text of the whole body and no
 * array of its lines is ever built, and a document can be turned into an
 * event (and dropped) before the next one is parsed. `defaultIndex` is the
 * index of the URL (`/{index}/_bulk`). Never throws for bad input: each
 * problem becomes the error of one action.
 */
export class BulkReader {
  private pos = 0;
  private lineNo = 0;
  private peeked: Line | null = null;
  /** Parses of identical action lines (shippers repeat `{"index":{}}` on every other line). */
  private readonly cache = new Map<string, ParsedAction | BadAction>();
  /** The last well-formed action line's bytes and parse: the next line with the same bytes is not decoded. */
  private lastAction: { start: number; end: number; parsed: ParsedAction } | null = null;
  /**
   * An ASCII body (what nearly every shipper sends) decoded whole, in one
   * native call: its characters are its bytes, and each line is a slice of it
   * (a small view, not a copy). A copy of each line's text was a third of
   * the memory allocated per document, and so of the garbage collector's work.
   */
  private readonly whole: string | null;

  /** Scans the documents of index and create actions without an id (see BulkOp.scanned); only in bodies of valid UTF-8. */
  private readonly scanner: FieldScanner | null;

  /** `names`, when given, are the field names scanned documents share (see FieldScanner); without, every document is parsed. */
  constructor(
    private readonly body: Buffer,
    private readonly defaultIndex: string | null,
    names: FieldNames | null = null,
  ) {
    this.whole = body.length <= MAX_WHOLE_BYTES && isAscii(body) ? body.toString('latin1') : null;
    this.scanner = names !== null && (this.whole !== null || isUtf8(body)) ? new FieldScanner(names) : null;
  }

  /** The next action, or null at the end of the body. */
  next(): BulkOp | null {
    const line = this.take();
    if (line === null) return null;
    const lineNo = line.no;
    const a = this.action(line);
    if (!a.ok) {
      const meta = a.meta ?? {};
      // Skip the document line that belongs to the bad action line, unless the next line is itself an action.
      if (a.hasBody) {
        const following = this.peek();
        if (following !== null && !isActionLine(this.text(following), this.cache)) this.take();
      }
      return {
        action: a.action ?? 'index',
        line: lineNo,
        index: typeof meta._index === 'string' ? meta._index : this.defaultIndex,
        id: typeof meta._id === 'string' ? meta._id : null,
        error: bad(400, 'illegal_argument_exception', a.reason),
      };
    }
    const meta = a.meta;
    let action = a.action;
    if (action === 'index' && meta.op_type === 'create') action = 'create';
    const rawIndex = typeof meta._index === 'string' ? meta._index : this.defaultIndex;
    const rawId = meta._id;
    const id = typeof rawId === 'string' ? rawId : typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : null;
    // Every member set from the start: members added later would each grow the object.
    const op: BulkOp = { action, line: lineNo, index: rawIndex, id, source: undefined, scanned: undefined, document: undefined, error: undefined, pipeline: typeof meta.pipeline === 'string' ? meta.pipeline : undefined };
    const problem = checkActionMeta(op, meta, rawId);
    if (action === 'delete') {
      if (problem) op.error = problem;
      return op;
    }
    // index, create and update are followed by a document line (blank lines before it are skipped).
    const doc = this.peek();
    if (doc === null) {
      op.error = bad(400, 'action_request_validation_exception', `Validation Failed: 1: source is missing (the [${action}] action on line [${lineNo}] has no document line);`);
      return op;
    }
    if (mayBeActionLine(this.body, doc.start, doc.end) && isActionLine(this.text(doc), this.cache)) {
      op.error = bad(400, 'action_request_validation_exception', `Validation Failed: 1: source is missing (line [${doc.no}] after the [${action}] action on line [${lineNo}] is another action line);`);
      return op;
    }
    this.take();
    if (problem) {
      op.error = problem;
      return op;
    }
    if (this.scanner !== null && op.id === null && action !== 'update') {
      const scanned = this.scanner.scan(this.body, this.whole, doc.start, doc.end);
      if (scanned !== null) {
        op.scanned = scanned;
        op.document = doc;
        return op;
      }
    }
    const parsed = parseSource(this.text(doc), doc.no);
    if ('error' in parsed) op.error = parsed.error;
    else op.source = parsed.source;
    return op;
  }

  /** The document of a scanned action, parsed: what `source` would have been. */
  sourceOf(op: BulkOp): ReturnType<typeof parseSource> {
    const line = op.document;
    if (line === undefined) throw new Error('sourceOf: the action was not scanned');
    return parseSource(this.text(line), line.no);
  }

  /** An action line's parse; a line with the same bytes as the last well-formed one is not decoded again. */
  private action(line: Line): ParsedAction | BadAction {
    const last = this.lastAction;
    if (last !== null && sameBytes(this.body, last.start, last.end, line.start, line.end)) return last.parsed;
    const a = parseActionLine(this.text(line), line.no, this.cache);
    if (a.ok) this.lastAction = { start: line.start, end: line.end, parsed: a };
    return a;
  }

  private text(line: Line): string {
    return (line.text ??= this.whole !== null ? this.whole.slice(line.start, line.end) : this.body.toString('utf8', line.start, line.end));
  }

  /** The next line that is not blank, consumed. */
  private take(): Line | null {
    const line = this.peek();
    if (line !== null) {
      this.pos = line.next;
      this.lineNo = line.no;
      this.peeked = null;
    }
    return line;
  }

  /** The next line that is not blank, left unread. */
  private peek(): Line | null {
    if (this.peeked !== null) return this.peeked;
    const body = this.body;
    let pos = this.pos;
    let no = this.lineNo;
    while (pos < body.length) {
      const nl = body.indexOf(10, pos);
      const end = nl < 0 ? body.length : nl;
      no++;
      let last = end;
      if (last > pos && body[last - 1] === 13) last--;
      if (!isBlank(body, pos, last)) {
        this.peeked = { start: pos, end: last, no, next: nl < 0 ? body.length : nl + 1 };
        return this.peeked;
      }
      pos = nl < 0 ? body.length : nl + 1;
    }
    // Only blank lines are left: they are read.
    this.pos = pos;
    this.lineNo = no;
    return null;
  }
}

/** Whether two ranges of `b` hold the same bytes; compared here, since Buffer#compare costs more than this for an action line. */
function sameBytes(b: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const n = aEnd - aStart;
  if (n !== bEnd - bStart) return false;
  if (n > 256) return b.compare(b, aStart, aEnd, bStart, bEnd) === 0;
  for (let i = 0; i < n; i++) if (b[aStart + i] !== b[bStart + i]) return false;
  return true;
}

const ACTION_NAMES = ['index', 'create', 'delete', 'update'].map((name) => Buffer.from(`"${name}"`));

/**
 * Whether a line may be an action line (`{ "index"`, …): only such a line is
 * decoded to be checked (see isActionLine). Non-ASCII bytes where spaces may
 * be (Unicode spaces, which isActionLine skips too) leave the question to it.
 */
export function mayBeActionLine(body: Buffer, start: number, end: number): boolean {
  let p = start;
  while (p < end && body[p] <= 0x20) p++;
  if (body[p] >= 0x80) return true;
  if (body[p++] !== 0x7b) return false;
  while (p < end && body[p] <= 0x20) p++;
  if (body[p] >= 0x80) return true;
  // A document's first key rarely starts as an action's name does: most lines are told apart by a byte.
  const first = body[p + 1];
  if (body[p] !== 0x22 || (first !== 0x69 && first !== 0x63 && first !== 0x64 && first !== 0x75)) return false;
  return ACTION_NAMES.some((name) => p + name.length <= end && body.compare(name, 0, name.length, p, p + name.length) === 0);
}

function isBlank(body: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = body[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

export function checkActionMeta(op: BulkOp, meta: Record<string, unknown>, rawId: unknown): BulkOp['error'] | undefined {
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
  if (meta.version !== undefined) {
    return bad(400, 'illegal_argument_exception', `[version] is not supported by Logmill's Elasticsearch-compatible API (documents carry no versions); use [if_seq_no] and [if_primary_term]`);
  }
  return compareAndSet(op, meta.if_seq_no, meta.if_primary_term);
}

/** `if_seq_no` and `if_primary_term` into the op, checked as Elasticsearch checks them. */
function compareAndSet(op: BulkOp, rawSeqNo: unknown, rawTerm: unknown): BulkOp['error'] | undefined {
  const seqNo = longParam('if_seq_no', rawSeqNo);
  const term = longParam('if_primary_term', rawTerm);
  if (typeof seqNo !== 'number' && seqNo !== undefined) return seqNo;
  if (typeof term !== 'number' && term !== undefined) return term;
  if (seqNo !== undefined && seqNo < 0) return bad(400, 'illegal_argument_exception', `sequence numbers must be non negative. got [${seqNo}].`);
  if (term !== undefined && term < 0) return bad(400, 'illegal_argument_exception', `primary term must be non negative. got [${term}].`);
  if (seqNo !== undefined && !term) return bad(400, 'action_request_validation_exception', 'Validation Failed: 1: ifSeqNo is set, but primary term is [0];');
  if (seqNo === undefined && term) return bad(400, 'action_request_validation_exception', `Validation Failed: 1: ifSeqNo is unassigned, but primary term is [${term}];`);
  if (seqNo !== undefined && op.action === 'create') {
    return bad(400, 'action_request_validation_exception', 'Validation Failed: 1: create operations do not support compare and set. use index instead;');
  }
  if (seqNo !== undefined) {
    op.ifSeqNo = seqNo;
    op.ifPrimaryTerm = term;
  }
  return undefined;
}

/** A whole-number parameter (a number, or its text in a query string); undefined when absent. */
function longParam(name: string, v: unknown): number | BulkOp['error'] {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) return bad(400, 'illegal_argument_exception', `Failed to parse long parameter [${name}] with value [${String(v)}]`);
  return n;
}

export function parseSource(line: string, lineNo: number): { source: Record<string, unknown> } | { error: BulkOp['error'] } {
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

