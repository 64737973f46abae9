import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseQuery } from '../../query/parse.js';
import type { FilterNode, Query } from '../../query/ast.js';
import type { Hit, TimeRange } from '../../store/store.js';
import { untilClientLeaves } from '../cancel.js';
import type { ApiContext } from '../context.js';
import { autoIntervalMs, BadRequest, intParam, timeRange, type QueryParams } from '../params.js';
import { parseDurationMs } from '../../core/time.js';

const MAX_LIMIT = 10_000;
/** Series a stacked histogram draws at most; the rest are summed as `other`. */
const MAX_SERIES = 20;

/** `track_total_hits`: true (count every match), false (none: the cap is 0), or a number of matches to count exactly. */
function totalHitsParam(value: string | undefined): boolean | number | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`"track_total_hits" must be true, false or a whole number of hits to count exactly, got "${value}"`);
  return n;
}

export function searchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const timed = async <T>(kind: string, reply: FastifyReply, fn: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await untilClientLeaves(reply, fn, ctx.config.queryTimeout);
    } finally {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      ctx.metrics.inc('logmill_queries_total', 'Queries answered', 1, { kind });
      ctx.metrics.observe('logmill_query_duration_seconds', 'Time spent answering queries', seconds, { kind });
    }
  };

  app.get('/api/v1/search', async (req, reply) => {
    const q = req.query as QueryParams;
    const nowMs = Date.now();
    const query = parseQuery(q.q ?? '*');
    const range = timeRange(q, nowMs);
    const limit = intParam(q, 'limit', 100, 0, MAX_LIMIT);
    const order = q.order ?? 'desc';
    if (order !== 'desc' && order !== 'asc') throw new BadRequest(`"order" must be "desc" (newest first) or "asc" (oldest first), got "${order}"`);
    if (order === 'asc' && query.pipes.length === 0) {
      return timed('search', reply, () => oldestFirst(ctx, query.filter, range, limit, q.cursor, nowMs));
    }
    const trackTotalHits = totalHitsParam(q.track_total_hits);
    const result = await timed('search', reply, () => ctx.store.search({ query, range, limit, cursor: q.cursor, nowMs, trackTotalHits }));
    if (result.kind === 'table') return { columns: result.columns, rows: result.rows, truncated: result.truncated ?? false };
    return { total: result.total, total_relation: result.totalRelation ?? 'eq', hits: result.hits, cursor: result.cursor };
  });

  app.get('/api/v1/histogram', async (req, reply) => {
    const q = req.query as QueryParams;
    const nowMs = Date.now();
    const query = filterOnly(parseQuery(q.q ?? '*'), 'histogram');
    const range = timeRange(q, nowMs);
    let intervalMs = autoIntervalMs(range);
    if (q.interval) {
      const ms = parseDurationMs(q.interval);
      if (ms === null || ms <= 0) throw new BadRequest(`"interval" must be a duration like 1m, 30s or 1h, got "${q.interval}"`);
      intervalMs = ms;
      if ((range.toMicros - range.fromMicros) / 1000 / ms > 10_000) {
        throw new BadRequest(`"interval" ${q.interval} makes more than 10,000 buckets over this range; choose a longer one`);
      }
    }
    const by = q.by || undefined;
    const size = intParam(q, 'size', 10, 1, MAX_SERIES);
    return timed('histogram', reply, async () => {
      const intervalMicros = intervalMs * 1000;
      const [buckets, rows] = await Promise.all([
        ctx.store.histogram(query.filter, range, intervalMicros, nowMs),
        by === undefined
          ? Promise.resolve(null)
          : ctx.store.group({
              filter: query.filter,
              range,
              keys: [
                { kind: 'time', field: '@timestamp', intervalMicros },
                { kind: 'terms', field: by },
              ],
              metrics: [{ fn: 'count' }],
              nowMs,
            }),
      ]);
      if (by === undefined || rows === null) return { interval: `${intervalMs}ms`, intervalMs, buckets };
      return { interval: `${intervalMs}ms`, intervalMs, buckets, by, ...stackSeries(buckets, rows, size) };
    });
  });

  app.get('/api/v1/fields', async (req, reply) => {
    const q = req.query as QueryParams;
    const nowMs = Date.now();
    const query = filterOnly(parseQuery(q.q ?? '*'), 'fields');
    const range = timeRange(q, nowMs);
    const fields = await ctx.store.fields(range);
    if (q.field === undefined) return { fields };
    const info = fields.find((f) => f.name === q.field);
    if (!info) throw new BadRequest(`unknown field "${q.field}"`, { known: fields.map((f) => f.name).slice(0, 50) });
    const limit = intParam(q, 'size', 10, 1, 1000);
    return timed('fields', reply, async () => {
      const having: FilterNode = { kind: 'and', children: [query.filter, { kind: 'exists', field: info.name, span: { start: 0, end: 0 } }] };
      const [values, withField, all] = await Promise.all([
        ctx.store.topValues(query.filter, range, info.name, limit, nowMs),
        ctx.store.find({ filter: having, range, limit: 0, nowMs }),
        ctx.store.find({ filter: query.filter, range, limit: 0, nowMs }),
      ]);
      return { field: info.name, type: info.type, conflicts: info.conflicts, count: withField.total.value, total: all.total.value, values };
    });
  });
}

/** Oldest first: the store's general search, ascending in time and then in storage order; the cursor is the last hit's sort values. */
async function oldestFirst(ctx: ApiContext, filter: FilterNode, range: TimeRange, limit: number, cursor: string | undefined, nowMs: number) {
  let searchAfter: unknown[] | undefined;
  if (cursor) {
    try {
      searchAfter = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    } catch {
      searchAfter = undefined;
    }
    if (!Array.isArray(searchAfter) || searchAfter.length !== 3 || !searchAfter.every((v) => typeof v === 'number')) {
      throw new BadRequest('"cursor" is not one this server gave for an oldest-first search; start again without it');
    }
  }
  const found = await ctx.store.find({ filter, range, sort: [{ field: '@timestamp', desc: false }], storageOrder: 'asc', limit, searchAfter, nowMs });
  const hits: Hit[] = found.hits.map(({ _sort: _s, ...hit }) => hit as Hit);
  const last = found.hits[found.hits.length - 1];
  const next = found.hits.length === limit && last ? Buffer.from(JSON.stringify(last._sort)).toString('base64url') : null;
  return { total: found.total.value, hits, cursor: next };
}

/** Counts per (bucket, value) as one series per value: the `size` values with most events, the rest summed as `other`. */
function stackSeries(buckets: { time: string }[], rows: { keys: unknown[]; metrics: (number | null)[] }[], size: number) {
  const index = new Map<number, number>();
  buckets.forEach((b, i) => index.set(Date.parse(b.time) * 1000, i));
  const totals = new Map<string, { value: unknown; total: number }>();
  const keyOf = (v: unknown): string => JSON.stringify(v ?? null);
  for (const r of rows) {
    const k = keyOf(r.keys[1]);
    const entry = totals.get(k) ?? { value: r.keys[1] ?? null, total: 0 };
    entry.total += Number(r.metrics[0] ?? 0);
    totals.set(k, entry);
  }
  const top = [...totals.entries()].sort((a, b) => b[1].total - a[1].total).slice(0, size);
  const chosen = new Map(top.map(([k], i) => [k, i]));
  const series = top.map(([, e]) => ({ value: e.value, counts: new Array<number>(buckets.length).fill(0) }));
  const other = new Array<number>(buckets.length).fill(0);
  let others = false;
  for (const r of rows) {
    const at = index.get(Number(r.keys[0]));
    if (at === undefined) continue;
    const n = Number(r.metrics[0] ?? 0);
    const s = chosen.get(keyOf(r.keys[1]));
    if (s === undefined) {
      other[at] += n;
      others = true;
    } else series[s].counts[at] += n;
  }
  return others ? { series, other } : { series };
}

function filterOnly(query: Query, what: string): Query {
  if (query.pipes.length > 0) throw new BadRequest(`${what} takes a filter without pipes: remove the part from the first "|"`);
  return query;
}
