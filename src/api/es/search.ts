/**
 * Elasticsearch's read API: `_search`, `_count`, `_msearch`, `_doc` GET,
 * `_source` GET and `_mget`, over the store's `find`, `group` and
 * `getByIds`.
 *
 * Decisions where Logmill differs from Elasticsearch (see also dsl.ts):
 *  - No scoring. Without a sort, hits come newest first (`@timestamp` desc)
 *    and score 1.0; `_score` in a sort is a constant (it orders nothing) and
 *    reads back as 1.0 in `sort`; with a field sort `_score` is null.
 *  - `sort` of a hit holds one value per sort key, as in Elasticsearch. With
 *    a point in time, a `_shard_doc` key (ascending) is added when the sort
 *    has none, and a PIT search without a sort is sorted by `_shard_doc`
 *    alone (Elasticsearch's `_score` then `_shard_doc`, with every score
 *    equal). A `_doc` or `_shard_doc` value is the row's position
 *    (store.ts rowPosition: days since 1970 × 2^32 + the row's per-day
 *    sequence number), unique per document, so `search_after` with a hit's
 *    values pages without gaps or repeats however many hits tie on the other
 *    keys. Without one, tied hits after the last one are skipped, as in
 *    Elasticsearch.
 *  - `@timestamp` sort values are epoch milliseconds, fractional when the
 *    event has microseconds; with a sort `format` they are formatted strings.
 *  - `_seq_no` is the row's position too (write.ts), `_primary_term` 1.
 *  - `track_total_hits` defaults to 10,000 as in Elasticsearch.
 *  - `_source` of a document sent through this API is the document as sent,
 *    rebuilt from its stored fields and its shape (core/shape.ts): no
 *    `@timestamp` unless it had one. Events of other inputs have no shape:
 *    theirs is rebuilt from the stored flat fields, re-nested on dots
 *    (`http.response.status` → `{"http": {"response": {"status": …}}}`), with `@timestamp`.
 *  - Events stored without an index (the native API's) show `_index: "logmill"`,
 *    and index expressions that match `logmill` select them.
 *  - Unknown index names match nothing (an empty answer, not a 404); aliases are
 *    resolved only when the caller passes `indexFilter` (EsSearchOptions).
 *  - Sorting on a field no event has is Elasticsearch's "No mapping found"
 *    error, unless the sort gives `unmapped_type` (then it orders nothing).
 *  - `highlight`, `explain`, `profile`, `indices_boost`, `stats`, `timeout`
 *    are accepted and ignored; what would change the answer and is not
 *    supported (`collapse`, `rescore`, `suggest`, `script_fields`, runtime
 *    fields…) is refused with a reason naming it. `scroll` and `pit` are
 *    scroll.ts's.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FieldType } from '../../core/event.js';
import { parseIsoMicros } from '../../core/time.js';
import type { FilterNode } from '../../query/ast.js';
import { QuerySyntaxError } from '../../query/ast.js';
import { documentOfShape } from '../../core/shape.js';
import { HIT_POSITION, HIT_SHAPE, positionRow, QueryError, rowPosition, type FieldInfo, type Hit, type SortKey, type Store, type TimeRange } from '../../store/store.js';
import { runAggregations } from './aggs.js';
import type { EsContext } from './context.js';
import { andOf, EsRequestError, existsNode, formatDate, indexFilter, notOf, orOf, splitTimeRange, translateQuery, translateQueryString, unsupported, type TranslateOptions } from './dsl.js';
import { bodyText, readJsonBody } from './body.js';
import { EsError, esErrorBody, type EsErrorBody } from './errors.js';
import { Paginator, registerEsScrollRoutes, type Paging } from './scroll.js';

/** The `_index` of events stored without one (through Logmill's own API). */
export const UNINDEXED = 'logmill';

/** Largest from + size, as Elasticsearch's index.max_result_window. */
export const MAX_RESULT_WINDOW = 10_000;

export interface EsSearchOptions {
  /** Resolves an index expression (aliases…) to a filter on `_index`; default: the pattern itself (dsl.ts indexFilter). */
  indexFilter?: (expr: string) => FilterNode | Promise<FilterNode>;
}

type Obj = Record<string, unknown>;
type Params = Record<string, string | undefined>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

export function registerEsSearchRoutes(app: FastifyInstance, ctx: EsContext, opts: EsSearchOptions = {}): void {
  const searcher = new Searcher(ctx.store, opts);
  const paginator = new Paginator(ctx.store, (index, body, params, started, paging) => searcher.search(index, body, params, started, paging));
  registerEsScrollRoutes(app, paginator);

  const search = async (req: FastifyRequest): Promise<Obj> => {
    const started = Date.now();
    const params = req.query as Params;
    const body = readJsonBody(req.body, params);
    ctx.metrics.inc('logmill_es_search_total', 'Elasticsearch-compatible searches', 1, { api: 'elasticsearch' });
    // A pit's index is the PIT's own; scroll and pit together are refused there.
    if (body.pit !== undefined && !isEmpty(body.pit)) return paginator.searchPit(indexParam(req), body, params, started);
    if (params.scroll !== undefined) return paginator.openScroll(indexParam(req), body, params, started);
    return searcher.search(indexParam(req), body, params, started);
  };
  onIndexOrAll(app, '_search', search);

  const count = async (req: FastifyRequest): Promise<Obj> => {
    const params = req.query as Params;
    const body = readJsonBody(req.body, params);
    return searcher.count(indexParam(req), body, params);
  };
  onIndexOrAll(app, '_count', count);

  const msearch = async (req: FastifyRequest): Promise<Obj> => {
    const params = req.query as Params;
    return searcher.msearch(indexParam(req), bodyText(req.body), params);
  };
  onIndexOrAll(app, '_msearch', msearch);

  app.head('/:index/_doc/:id', async (req, reply) => {
    const p = req.params as { index: string; id: string };
    const doc = await searcher.getDoc(p.index, p.id);
    return reply.code(doc ? 200 : 404).send('');
  });
  app.get('/:index/_doc/:id', async (req, reply) => {
    const p = req.params as { index: string; id: string };
    const params = req.query as Params;
    const doc = await searcher.getDoc(p.index, p.id);
    if (!doc) return reply.code(404).send({ _index: p.index, _id: p.id, found: false });
    return reply.send(docFound(doc, sourceFilter(undefined, params)));
  });
  app.head('/:index/_source/:id', async (req, reply) => {
    const p = req.params as { index: string; id: string };
    return reply.code((await searcher.getDoc(p.index, p.id)) ? 200 : 404).send('');
  });
  app.get('/:index/_source/:id', async (req, reply) => {
    const p = req.params as { index: string; id: string };
    const doc = await searcher.getDoc(p.index, p.id);
    if (!doc) throw new EsError(404, 'resource_not_found_exception', `Document not found [${p.index}]/[${p.id}]`);
    return reply.send(buildSource(doc, sourceFilter(undefined, req.query as Params)) ?? {});
  });

  const mget = async (req: FastifyRequest): Promise<Obj> => {
    const params = req.query as Params;
    return searcher.mget(indexParam(req), readJsonBody(req.body, params), params);
  };
  onIndexOrAll(app, '_mget', mget);
}

function indexParam(req: FastifyRequest): string | undefined {
  const index = (req.params as { index?: string }).index;
  if (index === undefined) return undefined;
  try {
    return decodeURIComponent(index);
  } catch {
    return index;
  }
}

/** Elasticsearch's error body for any error a search can throw (for _msearch items). */
export function errorBodyOf(err: unknown): EsErrorBody {
  if (err instanceof EsError) return err.body();
  if (err instanceof EsRequestError) return esErrorBody(err.status, err.type, err.reason);
  if (err instanceof QuerySyntaxError) return esErrorBody(400, 'parsing_exception', `Failed to parse query: ${err.message}`, { position: err.position });
  if (err instanceof QueryError) return esErrorBody(400, 'illegal_argument_exception', err.message);
  return esErrorBody(500, 'exception', `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

// ---------------------------------------------------------------------------
// Searching
// ---------------------------------------------------------------------------

const ALL_TIME: TimeRange = { fromMicros: 0, toMicros: Date.UTC(10000, 0, 1) * 1000 };

const BODY_KEYS = new Set([
  'query',
  'aggs',
  'aggregations',
  'from',
  'size',
  'sort',
  'search_after',
  '_source',
  'track_total_hits',
  'post_filter',
  'fields',
  'docvalue_fields',
  'stored_fields',
  'version',
  'seq_no_primary_term',
  'min_score',
  'runtime_mappings',
  'terminate_after',
  // accepted, without effect on which hits come back
  'highlight',
  'explain',
  'profile',
  'timeout',
  'indices_boost',
  'stats',
  'track_scores',
  'ext',
  '_name',
]);
const BODY_UNSUPPORTED = new Set(['collapse', 'rescore', 'suggest', 'script_fields', 'pit', 'knn', 'rank', 'retriever', 'slice', 'sub_searches']);

/** `unmapped`: a field no event has, sorted with `unmapped_type`: every value is missing, so it orders nothing and reads null. */
type SortItem = { kind: 'score' } | { kind: 'doc'; desc: boolean } | { kind: 'unmapped' } | { kind: 'field'; field: string; desc: boolean; missing?: 'first' | 'last'; format?: string };

interface SourceFilter {
  enabled: boolean;
  includes: RegExp[];
  excludes: RegExp[];
}

interface FieldRequest {
  pattern: RegExp;
  format?: string;
}

interface Fields {
  options: TranslateOptions;
  typeOf(name: string): FieldType | undefined;
}

class Searcher {
  constructor(
    private readonly store: Store,
    private readonly opts: EsSearchOptions,
  ) {}

  /** Field names as stored, for `.keyword` aliases and date handling. */
  private async fields(nowMs: number): Promise<Fields> {
    const list: FieldInfo[] = await this.store.fields(ALL_TIME);
    const types = new Map<string, FieldType>(list.map((f) => [f.name, f.type]));
    types.set('@timestamp', 'timestamp');
    const resolveField = (name: string): string => {
      if (types.has(name)) return name;
      if (name.endsWith('.keyword') && types.has(name.slice(0, -8))) return name.slice(0, -8);
      return name;
    };
    const typeOf = (name: string): FieldType | undefined => types.get(name);
    return { options: { nowMs, resolveField, fieldType: typeOf }, typeOf };
  }

  private async indexFilterOf(expr: string | undefined): Promise<FilterNode> {
    // No index: every index, through opts.indexFilter too (which leaves closed indices out).
    if (this.opts.indexFilter) return this.opts.indexFilter(expr ?? '_all');
    if (expr === undefined) return { kind: 'all' };
    const filter = indexFilter(expr);
    // events stored without an index answer as `logmill`
    if (filter.kind !== 'all' && indexMatcher(expr)(UNINDEXED)) return orOf([filter, notOf(existsNode('_index'))]);
    return filter;
  }

  /** The query of a request: `q=` (which replaces the body's query, as in Elasticsearch) or the body's `query`. */
  private queryFilter(body: Obj, params: Params, options: TranslateOptions): FilterNode {
    if (params.q !== undefined) {
      return translateQueryString(params.q, {
        ...options,
        defaultField: params.df,
        defaultOperator: params.default_operator,
      });
    }
    return translateQuery(body.query, options);
  }

  /** With `paging`, a page of a scroll or PIT: over its snapshot, after its last hit (scroll). */
  async search(indexExpr: string | undefined, body: Obj, params: Params, started: number, paging?: Paging): Promise<Obj> {
    for (const key of Object.keys(body)) {
      // what Kibana and Grafana send empty (`script_fields: {}`) asks for nothing
      if (BODY_UNSUPPORTED.has(key) && !isEmpty(body[key])) throw unsupported(`[${key}] in a search`);
      if (BODY_UNSUPPORTED.has(key)) continue;
      if (!BODY_KEYS.has(key)) throw new EsError(400, 'parsing_exception', `Unknown key for a START_OBJECT in [${key}].`, { line: 1, col: 1 });
    }
    if (isObj(body.runtime_mappings) && Object.keys(body.runtime_mappings).length > 0) throw unsupported('[runtime_mappings] (runtime fields)');
    if (body.terminate_after !== undefined && Number(body.terminate_after) !== 0) throw unsupported('[terminate_after]');
    if (params.terminate_after !== undefined && Number(params.terminate_after) !== 0) throw unsupported('[terminate_after]');
    if (body.min_score !== undefined && Number(body.min_score) > 1) throw unsupported('[min_score] above 1', 'Logmill does not score documents; every hit scores 1.0');
    const nowMs = Date.now();
    const fields = await this.fields(nowMs);
    const [index, query] = [await this.indexFilterOf(indexExpr), this.queryFilter(body, params, fields.options)];
    const { range, filter } = splitTimeRange(andOf([index, query]), nowMs);

    const size = intOf(params.size ?? body.size, 'size', 10);
    const from = intOf(params.from ?? body.from, 'from', 0);
    if (from + size > MAX_RESULT_WINDOW) {
      throw new EsError(
        400,
        'illegal_argument_exception',
        `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}]. See the scroll api for a more efficient way to request large data sets.`,
      );
    }
    const requested = parseSort(params.sort !== undefined ? params.sort : body.sort, fields);
    const scored = !requested.some((s) => s.kind !== 'score') || requested[0]?.kind === 'score';
    // With a PIT, Elasticsearch's implicit tie-breaker: `_shard_doc` ascending, when the sort has no `_doc`.
    const implicitDoc = paging?.pit === true && !requested.some((s) => s.kind === 'doc');
    const sortItems: SortItem[] = implicitDoc ? [...requested, { kind: 'doc', desc: false }] : requested;
    const explicitSort = sortItems.length > 0;
    const fieldItems = sortItems.filter((s): s is Extract<SortItem, { kind: 'field' }> => s.kind === 'field');
    const docItem = sortItems.find((s): s is Extract<SortItem, { kind: 'doc' }> => s.kind === 'doc');
    const onlyDoc = fieldItems.length === 0 && docItem !== undefined;
    const storeSort: SortKey[] = fieldItems.length > 0 ? fieldItems.map((s) => ({ field: s.field, desc: s.desc, missing: s.missing })) : onlyDoc ? [] : [{ field: '@timestamp', desc: true }];

    let searchAfter: unknown[] | undefined;
    let limit = size;
    if (body.search_after !== undefined) {
      if (!Array.isArray(body.search_after)) throw new EsError(400, 'parsing_exception', '[search_after] must be an array');
      if (from > 0) throw new EsError(400, 'illegal_argument_exception', '[from] parameter must be set to 0 when [search_after] is used');
      if (!explicitSort) throw new EsError(400, 'illegal_argument_exception', '[search_after] needs a [sort]');
      searchAfter = searchAfterValues(body.search_after, sortItems, implicitDoc, fields);
      // Sorted by `_score` alone, every hit ties with the last one: none comes after it, as in Elasticsearch.
      if (searchAfter.length === 0) limit = 0;
    }
    // A scroll page resumes after the last hit of the one before, in the store's own terms.
    if (paging?.continuation) searchAfter = paging.after;

    const restInt = boolParam(params.rest_total_hits_as_int);
    const track = trackTotal(params.track_total_hits ?? body.track_total_hits, restInt);
    const post = body.post_filter === undefined ? null : translateQuery(body.post_filter, fields.options);
    const hitsFilter = post ? andOf([filter, post]) : filter;
    const aggsSpec = body.aggs ?? body.aggregations;

    const [found, aggregations] = await Promise.all([
      size > 0 || track !== false
        ? this.store.find({
            filter: hitsFilter,
            range,
            sort: storeSort,
            storageOrder: docItem === undefined ? undefined : docItem.desc ? 'desc' : 'asc',
            offset: paging?.continuation ? 0 : from,
            limit,
            searchAfter,
            trackTotalHits: track,
            snapshot: paging?.snapshot,
            nowMs,
          })
        : Promise.resolve(null),
      aggsSpec === undefined || paging?.continuation
        ? Promise.resolve(undefined)
        : runAggregations(aggsSpec, { filter, range, indexFilter: index }, this.store, nowMs, {
            ...fields.options,
            typedKeys: boolParam(params.typed_keys),
          }),
    ]);

    if (paging && found && found.hits.length > 0) paging.lastSort = found.hits[found.hits.length - 1]._sort;
    const source = sourceFilter(body._source, params, body.stored_fields !== undefined);
    const fieldReqs = fieldRequests(body.fields, body.docvalue_fields);
    const hits = (found?.hits ?? []).map((h) => {
      const out: Obj = { _index: typeof h._index === 'string' ? h._index : UNINDEXED, _id: h._id, _score: scored ? 1.0 : null };
      if (body.version === true || boolParam(params.version)) out._version = 1;
      if (body.seq_no_primary_term === true || boolParam(params.seq_no_primary_term)) {
        out._seq_no = h[HIT_POSITION] ?? 0;
        out._primary_term = 1;
      }
      const src = buildSource(h, source);
      if (src !== undefined) out._source = src;
      if (fieldReqs.length > 0) out.fields = buildFields(h, fieldReqs, fields);
      if (explicitSort) out.sort = sortValues(h._sort, sortItems, fields);
      return out;
    });
    const hitsOut: Obj = {};
    if (found && track !== false) {
      const total = found.total;
      hitsOut.total = restInt ? total.value : { value: total.value, relation: total.exact ? 'eq' : 'gte' };
    } else if (restInt) {
      hitsOut.total = -1;
    }
    hitsOut.max_score = scored && hits.length > 0 ? 1.0 : null;
    hitsOut.hits = hits;
    const response: Obj = {
      took: Date.now() - started,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: hitsOut,
    };
    if (aggregations !== undefined) response.aggregations = aggregations;
    return response;
  }

  async count(indexExpr: string | undefined, body: Obj, params: Params): Promise<Obj> {
    for (const key of Object.keys(body)) {
      if (key !== 'query') throw new EsError(400, 'parsing_exception', `request does not support [${key}]`);
    }
    const nowMs = Date.now();
    const fields = await this.fields(nowMs);
    const { range, filter } = splitTimeRange(andOf([await this.indexFilterOf(indexExpr), this.queryFilter(body, params, fields.options)]), nowMs);
    const rows = await this.store.group({ filter, range, keys: [], metrics: [{ fn: 'count' }], nowMs });
    return { count: rows[0]?.metrics[0] ?? 0, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } };
  }

  async msearch(indexExpr: string | undefined, text: string, params: Params): Promise<Obj> {
    const started = Date.now();
    const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
    while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
    if (lines.length === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    const requests: { index: string | undefined; body: Obj; params: Params }[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const header = lines[i].trim() === '' ? {} : parseLine(lines[i], i + 1);
      if (i + 1 >= lines.length) throw new EsError(400, 'parsing_exception', `[msearch] line ${i + 1}: a header must be followed by a search body`);
      const body = lines[i + 1].trim() === '' ? {} : parseLine(lines[i + 1], i + 2);
      let index = indexExpr;
      if (header.index !== undefined) index = Array.isArray(header.index) ? header.index.map(String).join(',') : String(header.index);
      const own: Params = { ...params };
      for (const k of ['search_type', 'preference', 'routing', 'request_cache', 'ignore_unavailable', 'allow_no_indices', 'expand_wildcards'] as const) {
        if (header[k] !== undefined) own[k] = String(header[k]);
      }
      requests.push({ index, body, params: own });
    }
    const max = Math.max(1, Math.min(8, intOf(params.max_concurrent_searches, 'max_concurrent_searches', 4)));
    const responses: Obj[] = new Array(requests.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const i = next++;
        const r = requests[i];
        const t = Date.now();
        try {
          if (r.params.scroll !== undefined) throw unsupported('[scroll]');
          responses[i] = { ...(await this.search(r.index, r.body, r.params, t)), status: 200 };
        } catch (err) {
          const e = errorBodyOf(err);
          responses[i] = { error: e.error, status: e.status };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(max, requests.length) }, worker));
    return { took: Date.now() - started, responses };
  }

  /** The document `id` in the index `indexExpr` (a name or pattern), or null. */
  async getDoc(indexExpr: string, id: string): Promise<Hit | null> {
    const hits = await this.store.getByIds([id]);
    const matches = indexMatcher(indexExpr);
    return hits.find((h) => matches(typeof h._index === 'string' ? h._index : UNINDEXED)) ?? null;
  }

  async mget(indexExpr: string | undefined, body: Obj, params: Params): Promise<Obj> {
    type Want = { index: string | undefined; id: string; source: SourceFilter };
    const defaults = sourceFilter(undefined, params);
    const wants: Want[] = [];
    const problems: string[] = [];
    if (Array.isArray(body.docs)) {
      body.docs.forEach((d, i) => {
        if (!isObj(d) || (typeof d._id !== 'string' && typeof d._id !== 'number')) {
          problems.push(`id is missing for doc ${i}`);
          return;
        }
        const index = typeof d._index === 'string' ? d._index : indexExpr;
        if (index === undefined) problems.push(`index is missing for doc ${i}`);
        wants.push({ index, id: String(d._id), source: d._source === undefined ? defaults : sourceFilter(d._source, {}) });
      });
    } else if (Array.isArray(body.ids)) {
      body.ids.forEach((id, i) => {
        if (typeof id !== 'string' && typeof id !== 'number') problems.push(`id is missing for doc ${i}`);
        else if (indexExpr === undefined) problems.push(`index is missing for doc ${i}`);
        else wants.push({ index: indexExpr, id: String(id), source: defaults });
      });
    } else {
      throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no documents to get;');
    }
    if (problems.length > 0) {
      throw new EsError(400, 'action_request_validation_exception', `Validation Failed: ${problems.map((p, i) => `${i + 1}: ${p};`).join('')}`);
    }
    const hits = await this.store.getByIds([...new Set(wants.map((w) => w.id))]);
    const docs = wants.map((w) => {
      const matches = indexMatcher(w.index as string);
      const hit = hits.find((h) => h._id === w.id && matches(typeof h._index === 'string' ? h._index : UNINDEXED));
      return hit ? docFound(hit, w.source) : { _index: w.index, _id: w.id, found: false };
    });
    return { docs };
  }
}

function isEmpty(v: unknown): boolean {
  return v === null || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);
}

function parseLine(line: string, n: number): Obj {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new EsError(400, 'x_content_parse_exception', `[msearch] line ${n} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(v)) throw new EsError(400, 'parsing_exception', `[msearch] line ${n} must be a JSON object`);
  return v;
}

function docFound(hit: Hit, source: SourceFilter): Obj {
  const out: Obj = {
    _index: typeof hit._index === 'string' ? hit._index : UNINDEXED,
    _id: hit._id,
    _version: 1,
    _seq_no: hit[HIT_POSITION] ?? 0,
    _primary_term: 1,
    found: true,
  };
  const src = buildSource(hit, source);
  if (src !== undefined) out._source = src;
  return out;
}

/** Whether an index name is selected by an expression (names, `*` patterns, `-` exclusions, `_all`). */
export function indexMatcher(expr: string): (name: string) => boolean {
  const parts = expr
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const tests = parts.map((p) => {
    const exclude = p.startsWith('-') && p.length > 1;
    const name = exclude ? p.slice(1) : p;
    const re = name === '_all' || name === '*' ? /^/ : globRe(name, false);
    return { exclude, re };
  });
  return (name) => {
    let selected = tests.length === 0;
    for (const t of tests) if (t.re.test(name)) selected = !t.exclude;
    return selected;
  };
}

/** `*` matches any run of characters (dots too); everything else is literal. */
function globRe(pattern: string, prefixObjects: boolean): RegExp {
  const body = pattern
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(prefixObjects ? `^${body}(?:\\..*)?$` : `^${body}$`);
}

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

function intOf(v: unknown, name: string, def: number): number {
  if (v === undefined || v === null || v === '') return def;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new EsError(400, 'illegal_argument_exception', `[${name}] must be a whole number, got [${String(v)}]`);
  if (n < 0) throw new EsError(400, 'illegal_argument_exception', `[${name}] parameter cannot be negative, found [${n}]`);
  return n;
}

function boolParam(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

/** track_total_hits: true, false or a number; default 10,000 (true with rest_total_hits_as_int). */
function trackTotal(v: unknown, restInt: boolean): boolean | number {
  if (v === undefined || v === null || v === '') return restInt ? true : 10_000;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1) throw new EsError(400, 'illegal_argument_exception', `[track_total_hits] must be true, false or a whole number, got [${String(v)}]`);
  if (n === -1) return true;
  if (restInt && n !== Number.MAX_SAFE_INTEGER) {
    throw new EsError(400, 'illegal_argument_exception', `[rest_total_hits_as_int] cannot be used if the tracking of total hits is not accurate, got ${n}`);
  }
  return n;
}

/** `sort` as a parameter (`a:asc,b`) or in a body (a string, an object, or an array of them). */
function parseSort(spec: unknown, fields: Fields): SortItem[] {
  if (spec === undefined || spec === null) return [];
  const list: unknown[] = typeof spec === 'string' ? spec.split(',').filter((s) => s.trim() !== '') : Array.isArray(spec) ? spec : [spec];
  return list.map((item) => {
    if (typeof item === 'string') {
      const [name, order] = splitSortString(item.trim());
      return sortItem(name, order === undefined ? {} : { order }, fields);
    }
    if (!isObj(item) || Object.keys(item).length !== 1) throw new EsError(400, 'parsing_exception', `[sort] items must be a field name or {"field": {...}}, got ${JSON.stringify(item)}`);
    const [name, opts] = Object.entries(item)[0];
    if (typeof opts === 'string') return sortItem(name, { order: opts }, fields);
    if (!isObj(opts)) throw new EsError(400, 'parsing_exception', `[sort] options of [${name}] must be an object or "asc"/"desc"`);
    return sortItem(name, opts, fields);
  });
}

function splitSortString(s: string): [string, string | undefined] {
  const m = /^(.*):(asc|desc)$/i.exec(s);
  return m ? [m[1], m[2]] : [s, undefined];
}

function sortItem(name: string, o: Obj, fields: Fields): SortItem {
  if (name === '_geo_distance' || name === '_script') throw unsupported(`[${name}] sort`);
  const order = o.order === undefined ? undefined : String(o.order).toLowerCase();
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw new EsError(400, 'illegal_argument_exception', `Unknown sort order [${String(o.order)}] for [${name}]`);
  if (name === '_score') return { kind: 'score' };
  if (name === '_doc' || name === '_shard_doc') return { kind: 'doc', desc: order === 'desc' };
  if (o.nested !== undefined || o.nested_path !== undefined) throw unsupported('[nested] sort');
  let missing: 'first' | 'last' | undefined;
  if (o.missing !== undefined) {
    if (o.missing === '_last') missing = 'last';
    else if (o.missing === '_first') missing = 'first';
    else throw unsupported(`a [missing] sort value other than _first or _last ([${String(o.missing)}])`);
  }
  const field = fields.options.resolveField ? fields.options.resolveField(name) : name;
  if (field !== '_id' && field !== '_index' && fields.typeOf(field) === undefined) {
    if (o.unmapped_type !== undefined) return { kind: 'unmapped' };
    throw new EsError(400, 'query_shard_exception', `No mapping found for [${name}] in order to sort on`);
  }
  return { kind: 'field', field, desc: order === 'desc', missing, format: typeof o.format === 'string' ? o.format : undefined };
}

function isDateField(field: string, fields: Fields): boolean {
  return field === '@timestamp' || fields.typeOf(field) === 'timestamp';
}

/** A store sort value as the client sees it: date values formatted when the sort asks for a format. */
function formatSortValue(v: unknown, item: Extract<SortItem, { kind: 'field' }>, fields: Fields): unknown {
  if (v === null || v === undefined || item.format === undefined || !isDateField(item.field, fields) || typeof v !== 'number') return v ?? null;
  const micros = Math.round(v * 1000);
  const iso = /^(strict_)?date_optional_time(_nanos)?$|^iso8601$/.test(item.format);
  // sub-millisecond times keep their microseconds, so that search_after resumes exactly
  return formatDate(micros, iso && micros % 1000 !== 0 ? 'strict_date_optional_time_nanos' : item.format);
}

/**
 * A hit's `sort`, one value per sort item: the store's values of the field keys, 1.0 for `_score`,
 * null for an unmapped field, and the row's position for `_doc`/`_shard_doc`. The store's values
 * end with the row's day and sequence number (its storage-order tie-breakers).
 */
function sortValues(storeValues: unknown[], items: SortItem[], fields: Fields): unknown[] {
  const n = storeValues.length;
  const position = (): number => rowPosition(Number(storeValues[n - 2]), Number(storeValues[n - 1]));
  const out: unknown[] = [];
  let i = 0;
  for (const item of items) {
    if (item.kind === 'score') out.push(1.0);
    else if (item.kind === 'unmapped') out.push(null);
    else if (item.kind === 'doc') out.push(position());
    else out.push(formatSortValue(storeValues[i++], item, fields));
  }
  return out;
}

/**
 * search_after as the client sent it (a hit's `sort`) → the store's values: the field keys (dates
 * in epoch ms), then the day and sequence number a `_doc` value stands for. Empty when nothing in
 * it orders hits (a sort by `_score` alone). The implicit tie-breaker of a PIT may be left out:
 * hits that tie with the last one on every key are then skipped, as without a PIT.
 */
function searchAfterValues(values: unknown[], items: SortItem[], implicitDoc: boolean, fields: Fields): unknown[] {
  if (values.length !== items.length && !(implicitDoc && values.length === items.length - 1)) {
    throw new EsError(400, 'illegal_argument_exception', `search_after has ${values.length} value(s) but sort has ${items.length}.`);
  }
  const keys: unknown[] = [];
  let row: { day: number; seq: number } | null = null;
  for (let i = 0; i < values.length; i++) {
    const item = items[i];
    if (item.kind === 'field') keys.push(afterValue(values[i], item.field, fields));
    else if (item.kind === 'doc') row = docValue(values[i]);
  }
  return row === null ? keys : [...keys, row.day, row.seq];
}

/** A `_doc`/`_shard_doc` value of search_after: a row's position, as a hit's `sort` gave it. */
function docValue(v: unknown): { day: number; seq: number } {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  const row = typeof n === 'number' ? positionRow(n) : null;
  if (row === null) throw new EsError(400, 'illegal_argument_exception', `[search_after] value [${String(v)}] of [_shard_doc] must be the whole number a hit's sort gave`);
  return row;
}

/** A search_after value back into the store's terms: dates as epoch milliseconds. */
function afterValue(v: unknown, field: string, fields: Fields): unknown {
  if (typeof v === 'string' && isDateField(field, fields)) {
    if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    const micros = parseIsoMicros(v);
    if (micros === null) throw new EsError(400, 'parse_exception', `failed to parse date [${v}] in [search_after]`);
    return micros / 1000;
  }
  return v;
}

// ---------------------------------------------------------------------------
// _source and fields
// ---------------------------------------------------------------------------

function patternList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v)) return v.map(String);
  throw new EsError(400, 'parsing_exception', `[_source] patterns must be strings, got ${JSON.stringify(v)}`);
}

/**
 * `_source` filtering from the body (`true`, `false`, a pattern, patterns,
 * `{includes, excludes}`) and the parameters `_source`, `_source_includes`,
 * `_source_excludes`. With `stored_fields` and no `_source`, no source.
 */
function sourceFilter(bodySource: unknown, params: Params, storedFields = false): SourceFilter {
  let enabled = !storedFields || bodySource !== undefined;
  let includes: string[] = [];
  let excludes: string[] = [];
  if (bodySource === false) enabled = false;
  else if (bodySource === true || bodySource === undefined) {
    // everything
  } else if (typeof bodySource === 'string' || Array.isArray(bodySource)) {
    includes = patternList(bodySource);
  } else if (isObj(bodySource)) {
    includes = patternList(bodySource.includes ?? bodySource.include);
    excludes = patternList(bodySource.excludes ?? bodySource.exclude);
  } else {
    throw new EsError(400, 'parsing_exception', `[_source] must be a boolean, a pattern, patterns or {includes, excludes}`);
  }
  const p = params._source;
  if (p !== undefined) {
    if (p === 'false') enabled = false;
    else if (p === 'true' || p === '') enabled = true;
    else {
      enabled = true;
      includes = patternList(p);
    }
  }
  const inc = params._source_includes ?? params._source_include;
  const exc = params._source_excludes ?? params._source_exclude;
  if (inc !== undefined) {
    enabled = true;
    includes = patternList(inc);
  }
  if (exc !== undefined) {
    enabled = true;
    excludes = patternList(exc);
  }
  return { enabled, includes: includes.map((x) => globRe(x, true)), excludes: excludes.map((x) => globRe(x, true)) };
}

const NOT_SOURCE = new Set(['_id', '_index', '_sort']);

/**
 * A hit's `_source`: its fields (filtered) re-nested on dots; undefined when
 * disabled. A field whose name extends another field's (`a` and `a.b`) keeps
 * its dotted name as a key, as it must have been sent.
 */
function buildSource(hit: Hit, f: SourceFilter): Obj | undefined {
  if (!f.enabled) return undefined;
  const shape = hit[HIT_SHAPE];
  if (shape !== undefined) {
    const keep =
      f.includes.length === 0 && f.excludes.length === 0
        ? undefined
        : (path: string): boolean => (f.includes.length === 0 || f.includes.some((re) => re.test(path))) && !f.excludes.some((re) => re.test(path));
    const doc = documentOfShape(shape, (name) => hit[name], hit['@timestamp'], keep);
    if (doc !== undefined) return doc;
  }
  const names = Object.keys(hit).filter((name) => {
    if (NOT_SOURCE.has(name) || hit[name] === undefined) return false;
    if (f.includes.length > 0 && !f.includes.some((re) => re.test(name))) return false;
    return !f.excludes.some((re) => re.test(name));
  });
  const all = new Set(Object.keys(hit));
  const root: Obj = {};
  for (const name of names) {
    const parts = name.split('.');
    let literal = parts.some((p) => p === '');
    for (let i = 1; i < parts.length && !literal; i++) if (all.has(parts.slice(0, i).join('.'))) literal = true;
    if (literal) {
      root[name] = hit[name];
      continue;
    }
    let level = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = level[parts[i]];
      if (isObj(next)) level = next;
      else level = level[parts[i]] = {};
    }
    level[parts[parts.length - 1]] = hit[name];
  }
  return root;
}

/** `fields` and `docvalue_fields` requests: patterns, or `{field, format}`. */
function fieldRequests(...specs: unknown[]): FieldRequest[] {
  const out: FieldRequest[] = [];
  for (const spec of specs) {
    if (spec === undefined || spec === null) continue;
    if (!Array.isArray(spec)) throw new EsError(400, 'parsing_exception', '[fields] must be an array');
    for (const item of spec) {
      if (typeof item === 'string') out.push({ pattern: globRe(item, false) });
      else if (isObj(item) && typeof item.field === 'string') {
        out.push({ pattern: globRe(item.field, false), format: typeof item.format === 'string' ? item.format : undefined });
      } else throw new EsError(400, 'parsing_exception', `[fields] items must be field names or {"field": …}, got ${JSON.stringify(item)}`);
    }
  }
  return out;
}

/** A hit's `fields`: every requested leaf field as an array of values, dates formatted when asked. */
function buildFields(hit: Hit, reqs: FieldRequest[], fields: Fields): Obj {
  const out: Obj = {};
  for (const [name, value] of Object.entries(hit)) {
    if (NOT_SOURCE.has(name) || value === undefined || value === null) continue;
    const req = reqs.find((r) => r.pattern.test(name));
    if (!req) continue;
    const values = Array.isArray(value) ? value : [value];
    if (req.format && isDateField(name, fields)) {
      out[name] = values.map((v) => {
        const micros = typeof v === 'string' ? parseIsoMicros(v) : null;
        return micros === null ? v : formatDate(micros, req.format);
      });
    } else out[name] = values;
  }
  return out;
}

/** Elasticsearch serves these over GET and POST, on every index (`/_search`) or some (`/{index}/_search`). */
function onIndexOrAll(app: FastifyInstance, endpoint: string, handler: (req: FastifyRequest) => Promise<Obj>): void {
  for (const path of [`/${endpoint}`, `/:index/${endpoint}`]) {
    app.get(path, handler);
    app.post(path, handler);
  }
}
