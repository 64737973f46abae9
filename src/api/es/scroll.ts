/**
 * Elasticsearch's scroll and point in time (PIT): paging over a consistent
 * view of the store while ingest goes on.
 *
 * A context is small: the request (scroll) or the index expression (PIT),
 * the store's snapshot (per-day committed row counts) and, for a scroll, the
 * sort values of the last hit returned. Each next page is a `search_after`
 * query over the snapshot, so no result set is held in memory. Contexts
 * expire after their keep-alive (checked lazily, on every access and before
 * opening another), and their number is bounded as Elasticsearch bounds
 * scrolls (`search.max_open_scroll_context`, 500); PITs get the same bound
 * (OpenSearch's `search.max_open_pit_context`), since nothing here may grow
 * without limit.
 *
 * Differences from Elasticsearch: events deleted after a context opened
 * vanish from it (Elasticsearch keeps its segments); ids are random tokens,
 * valid only on the node that made them and lost on restart (ES likewise
 * loses contexts on restart). A PIT's `_shard_doc` value is the row's
 * position (day and per-day sequence number in one integer, store.ts
 * rowPosition); a scroll keeps the store's own sort values of its last hit.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store, StoreSnapshot } from '../../store/store.js';
import { EsError } from './errors.js';
import { readJsonBody } from './body.js';

type Obj = Record<string, unknown>;
type Params = Record<string, string | undefined>;

export const MAX_OPEN_SCROLL_CONTEXT = 500;
export const MAX_OPEN_PIT_CONTEXT = 500;
/** Elasticsearch's `search.max_keep_alive` default. */
export const MAX_KEEP_ALIVE_MS = 24 * 3600_000;

/** What a page of a scroll or PIT search adds to a plain search. */
export interface Paging {
  snapshot: StoreSnapshot;
  /** The store's sort values of the last hit already returned (scroll pages after the first). */
  after?: unknown[];
  /** Scroll pages after the first: no count (the first page's total is repeated) and no aggregations. */
  continuation?: boolean;
  /** A PIT search: `_shard_doc` is the implicit tie-breaker of its sort (search.ts). */
  pit?: boolean;
  /** Set by the search: the store's sort values of the page's last hit. */
  lastSort?: unknown[];
}

/** The search the contexts page through (Searcher.search in search.ts). */
export type PagedSearch = (indexExpr: string | undefined, body: Obj, params: Params, started: number, paging: Paging) => Promise<Obj>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------
// Time values and ids
// ---------------------------------------------------------------------------

const UNITS: [string, number][] = [
  ['nanos', 1e-6],
  ['micros', 1e-3],
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3600_000],
  ['d', 86_400_000],
];

/** An Elasticsearch time value (`1m`, `30s`, `500ms`…) in milliseconds; `setting` names it in the error, as ES does. */
export function parseTimeValue(value: unknown, setting: string): number {
  const s = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)$/.exec(s);
  if (!m) {
    throw new EsError(400, 'parse_exception', `failed to parse setting [${setting}] with value [${s}] as a time value: unit is missing or unrecognized`);
  }
  return Number(m[1]) * (UNITS.find(([u]) => u === m[2]) as [string, number])[1];
}

/** A duration as Elasticsearch's TimeValue prints it: the largest unit it reaches, one decimal at most (`1d`, `1.5h`). */
export function formatTimeValue(ms: number): string {
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [unit, size] = UNITS[i];
    if (ms >= size || i === 0) return `${Math.round((ms / size) * 10) / 10}${unit}`;
  }
  return `${ms}ms`;
}

/** A keep-alive, refused over the maximum with Elasticsearch's message. */
export function keepAliveOf(value: unknown, setting: string): number {
  const ms = parseTimeValue(value, setting);
  if (ms > MAX_KEEP_ALIVE_MS) {
    throw new EsError(
      400,
      'illegal_argument_exception',
      `Keep alive for request (${formatTimeValue(ms)}) is too large. It must be less than (${formatTimeValue(MAX_KEEP_ALIVE_MS)}). This limit can be set by changing the [search.max_keep_alive] cluster level setting.`,
    );
  }
  return ms;
}

const SCROLL_PREFIX = 'lmscroll:';
const PIT_PREFIX = 'lmpit:';

function newId(prefix: string): string {
  return Buffer.from(prefix + randomBytes(18).toString('hex')).toString('base64url');
}

/** The token inside an id of ours, or null when the text is not one (garbage, another server's id). */
function tokenOf(id: string, prefix: string): string | null {
  if (!/^[A-Za-z0-9_=+/-]+$/.test(id)) return null;
  const text = Buffer.from(id, 'base64url').toString('latin1');
  if (!text.startsWith(prefix)) return null;
  const token = text.slice(prefix.length);
  return /^[0-9a-f]{36}$/.test(token) ? token : null;
}

function missing(id: string): EsError {
  return new EsError(404, 'search_context_missing_exception', `No search context found for id [${id}]`);
}

// ---------------------------------------------------------------------------
// Contexts
// ---------------------------------------------------------------------------

/** Live contexts by token, each with its expiry; bounded, expired ones dropped lazily. */
export class ContextRegistry<T> {
  private readonly live = new Map<string, { state: T; keepAliveMs: number; expiresAt: number }>();

  constructor(
    private readonly max: number,
    private readonly tooMany: () => EsError,
  ) {}

  private sweep(now: number): void {
    for (const [token, c] of this.live) if (c.expiresAt <= now) this.live.delete(token);
  }

  /** Refuses when full (after dropping expired contexts). */
  reserve(now = Date.now()): void {
    if (this.live.size >= this.max) this.sweep(now);
    if (this.live.size >= this.max) throw this.tooMany();
  }

  open(token: string, state: T, keepAliveMs: number, now = Date.now()): void {
    this.reserve(now);
    this.live.set(token, { state, keepAliveMs, expiresAt: now + keepAliveMs });
  }

  /** The context's state, its expiry pushed back (by `keepAliveMs`, or its own keep-alive); undefined when gone. */
  use(token: string, keepAliveMs?: number, now = Date.now()): T | undefined {
    const c = this.live.get(token);
    if (!c) return undefined;
    if (c.expiresAt <= now) {
      this.live.delete(token);
      return undefined;
    }
    if (keepAliveMs !== undefined) c.keepAliveMs = keepAliveMs;
    c.expiresAt = now + c.keepAliveMs;
    return c.state;
  }

  free(token: string, now = Date.now()): boolean {
    const c = this.live.get(token);
    if (!c) return false;
    this.live.delete(token);
    return c.expiresAt > now;
  }

  freeAll(now = Date.now()): number {
    this.sweep(now);
    const n = this.live.size;
    this.live.clear();
    return n;
  }

  get size(): number {
    return this.live.size;
  }
}

interface ScrollState {
  index: string | undefined;
  body: Obj;
  params: Params;
  snapshot: StoreSnapshot;
  lastSort?: unknown[];
  /** The first page's `hits.total` as an object (a later page repeats it). */
  total?: { value: number; relation: string };
}

interface PitState {
  index: string;
  snapshot: StoreSnapshot;
}

// ---------------------------------------------------------------------------
// Scroll and PIT
// ---------------------------------------------------------------------------

export class Paginator {
  readonly scrolls = new ContextRegistry<ScrollState>(
    MAX_OPEN_SCROLL_CONTEXT,
    () =>
      new EsError(
        429,
        'too_many_scroll_contexts_exception',
        `Trying to create too many scroll contexts. Must be less than or equal to: [${MAX_OPEN_SCROLL_CONTEXT}]. This limit can be set by changing the [search.max_open_scroll_context] setting.`,
      ),
  );
  readonly pits = new ContextRegistry<PitState>(
    MAX_OPEN_PIT_CONTEXT,
    () =>
      new EsError(
        429,
        'too_many_pit_contexts_exception',
        `Trying to create too many Point In Time contexts. Must be less than or equal to: [${MAX_OPEN_PIT_CONTEXT}]. This limit can be set by changing the [search.max_open_pit_context] setting.`,
      ),
  );

  constructor(
    private readonly store: Store,
    private readonly search: PagedSearch,
  ) {}

  /** `_search?scroll=…`: the first page, and a context for the rest. */
  async openScroll(index: string | undefined, body: Obj, params: Params, started: number): Promise<Obj> {
    const keepAlive = keepAliveOf(params.scroll, 'scroll');
    const problems: string[] = [];
    if (body.pit !== undefined) problems.push('using [point in time] is not allowed in a scroll context');
    if (body.search_after !== undefined) problems.push('[search_after] cannot be used in a scroll context');
    if (Number(params.from ?? body.from ?? 0) > 0) problems.push('using [from] is not allowed in a scroll context');
    if (Number(params.size ?? body.size ?? 10) === 0) problems.push('[size] cannot be [0] in a scroll context');
    const track = params.track_total_hits ?? body.track_total_hits;
    if (track === false || track === 'false') problems.push('disabling [track_total_hits] is not allowed in a scroll context');
    if (problems.length > 0) throw validation(problems);
    this.scrolls.reserve();
    const snapshot = await this.store.snapshot();
    const { scroll: _scroll, ...rest } = params;
    // Elasticsearch counts a scroll's total exactly (its default, unlike a search's 10,000): exporters
    // such as elasticdump stop when they have read `hits.total` documents.
    if (track === undefined) rest.track_total_hits = 'true';
    const paging: Paging = { snapshot };
    const response = await this.search(index, body, rest, started, paging);
    const token = newId(SCROLL_PREFIX);
    const total = totalOf(response);
    this.scrolls.open(tokenOf(token, SCROLL_PREFIX) as string, { index, body, params: rest, snapshot, lastSort: paging.lastSort, total }, keepAlive);
    return { _scroll_id: token, ...response };
  }

  /** `_search/scroll`: the next page of a scroll. */
  async nextScroll(id: string, scroll: unknown, params: Params, started: number): Promise<Obj> {
    const keepAlive = scroll === undefined ? undefined : keepAliveOf(scroll, 'scroll');
    const token = tokenOf(id, SCROLL_PREFIX);
    if (token === null) throw new EsError(400, 'illegal_argument_exception', 'Cannot parse scroll id');
    const state = this.scrolls.use(token, keepAlive);
    if (!state) throw missing(id);
    const own: Params = { ...state.params, track_total_hits: 'false' };
    delete own.rest_total_hits_as_int;
    const paging: Paging = { snapshot: state.snapshot, after: state.lastSort, continuation: true };
    const response = await this.search(state.index, state.body, own, started, paging);
    if (paging.lastSort) state.lastSort = paging.lastSort;
    const hits = isObj(response.hits) ? response.hits : {};
    const restInt = boolParam(params.rest_total_hits_as_int) || boolParam(state.params.rest_total_hits_as_int);
    const totalOut = state.total === undefined ? (restInt ? -1 : undefined) : restInt ? state.total.value : state.total;
    const { total: _t, ...hitsRest } = hits;
    return { _scroll_id: id, ...response, hits: totalOut === undefined ? hitsRest : { total: totalOut, ...hitsRest } };
  }

  /** DELETE `_search/scroll`: frees the ids given (or `_all`). */
  clearScroll(ids: string[]): { freed: number } {
    if (ids.length === 0) throw validation(['no scroll ids specified']);
    if (ids.includes('_all')) return { freed: this.scrolls.freeAll() };
    const tokens = ids.map((id) => tokenOf(id, SCROLL_PREFIX));
    if (tokens.some((t) => t === null)) throw new EsError(400, 'illegal_argument_exception', 'Cannot parse scroll id');
    let freed = 0;
    for (const t of tokens) if (this.scrolls.free(t as string)) freed++;
    return { freed };
  }

  async openPit(index: string, keepAlive: unknown): Promise<string> {
    if (keepAlive === undefined) throw validation(['[keep_alive] is not specified']);
    const ms = keepAliveOf(keepAlive, 'keep_alive');
    this.pits.reserve();
    const id = newId(PIT_PREFIX);
    this.pits.open(tokenOf(id, PIT_PREFIX) as string, { index, snapshot: await this.store.snapshot() }, ms);
    return id;
  }

  closePit(id: string): boolean {
    const token = tokenOf(id, PIT_PREFIX);
    if (token === null) throw new EsError(400, 'illegal_argument_exception', `invalid id: [${id}]`);
    return this.pits.free(token);
  }

  /** `_search` with `pit`: the PIT's index and snapshot; the answer carries `pit_id`. */
  async searchPit(pathIndex: string | undefined, body: Obj, params: Params, started: number): Promise<Obj> {
    const pit = body.pit;
    if (pathIndex !== undefined) throw validation(['[indices] cannot be used with point in time. Do not specify any index with point in time.']);
    if (params.scroll !== undefined) throw validation(['using [point in time] is not allowed in a scroll context']);
    if (!isObj(pit) || typeof pit.id !== 'string') throw new EsError(400, 'parsing_exception', '[pit] must be an object with a string [id]');
    const keepAlive = pit.keep_alive === undefined ? undefined : keepAliveOf(pit.keep_alive, 'keep_alive');
    const token = tokenOf(pit.id, PIT_PREFIX);
    if (token === null) throw new EsError(400, 'illegal_argument_exception', `invalid id: [${pit.id}]`);
    const state = this.pits.use(token, keepAlive);
    if (!state) throw missing(pit.id);
    const { pit: _pit, ...rest } = body;
    const response = await this.search(state.index, rest, params, started, { snapshot: state.snapshot, pit: true });
    return { pit_id: pit.id, ...response };
  }
}

function validation(problems: string[]): EsError {
  return new EsError(400, 'action_request_validation_exception', `Validation Failed: ${problems.map((p, i) => `${i + 1}: ${p};`).join('')}`);
}

function boolParam(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

function totalOf(response: Obj): { value: number; relation: string } | undefined {
  const t = isObj(response.hits) ? response.hits.total : undefined;
  if (typeof t === 'number') return t < 0 ? undefined : { value: t, relation: 'eq' };
  if (isObj(t) && typeof t.value === 'number') return { value: t.value, relation: String(t.relation ?? 'eq') };
  return undefined;
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

function idList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String).filter((s) => s !== '');
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function pathId(req: FastifyRequest): string | undefined {
  const id = (req.params as { id?: string }).id;
  return id === undefined ? undefined : decodeURIComponent(id);
}

export function registerEsScrollRoutes(app: FastifyInstance, paginator: Paginator): void {
  const next = async (req: FastifyRequest): Promise<Obj> => {
    const started = Date.now();
    const params = req.query as Params;
    const body = readJsonBody(req.body);
    const id = pathId(req) ?? (typeof body.scroll_id === 'string' ? body.scroll_id : params.scroll_id);
    if (id === undefined || id === '') throw validation(['scroll id is missing']);
    return paginator.nextScroll(id, body.scroll ?? params.scroll, params, started);
  };
  for (const path of ['/_search/scroll', '/_search/scroll/:id']) {
    app.get(path, next);
    app.post(path, next);
    app.delete(path, async (req: FastifyRequest, reply: FastifyReply) => {
      const body = readJsonBody(req.body);
      const fromPath = pathId(req);
      const ids = fromPath !== undefined ? idList(fromPath) : idList(body.scroll_id ?? (req.query as Params).scroll_id);
      const { freed } = paginator.clearScroll(ids);
      // As Elasticsearch: 404 when nothing was freed.
      return reply.code(freed === 0 ? 404 : 200).send({ succeeded: true, num_freed: freed });
    });
  }

  // Elasticsearch's PIT API.
  app.post('/:index/_pit', async (req) => {
    const index = decodeURIComponent((req.params as { index: string }).index);
    return { id: await paginator.openPit(index, (req.query as Params).keep_alive), _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } };
  });
  app.delete('/_pit', async (req, reply) => {
    const body = readJsonBody(req.body);
    if (typeof body.id !== 'string') throw validation(['point in time id should not be empty']);
    const freed = paginator.closePit(body.id) ? 1 : 0;
    return reply.code(freed === 0 ? 404 : 200).send({ succeeded: true, num_freed: freed });
  });

  // OpenSearch's (its clients' createPit/deletePit use these paths and shapes).
  app.post('/:index/_search/point_in_time', async (req) => {
    const index = decodeURIComponent((req.params as { index: string }).index);
    const id = await paginator.openPit(index, (req.query as Params).keep_alive);
    return { pit_id: id, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, creation_time: Date.now() };
  });
  app.delete('/_search/point_in_time', async (req) => {
    const ids = idList(readJsonBody(req.body).pit_id);
    if (ids.length === 0) throw validation(['no pit ids specified']);
    return { pits: ids.map((id) => ({ pit_id: id, successful: paginator.closePit(id) })) };
  });
  app.delete('/_search/point_in_time/_all', async () => {
    paginator.pits.freeAll();
    return { pits: [] };
  });
}
