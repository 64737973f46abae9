import type { FastifyInstance } from 'fastify';
import { parseQuery } from '../../query/parse.js';
import type { Query } from '../../query/ast.js';
import type { ApiContext } from '../context.js';
import { autoIntervalMs, BadRequest, intParam, timeRange, type QueryParams } from '../params.js';
import { parseDurationMs } from '../../core/time.js';

const MAX_LIMIT = 10_000;

export function searchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const timed = async <T>(kind: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      ctx.metrics.inc('logmill_queries_total', 'Queries answered', 1, { kind });
      ctx.metrics.observe('logmill_query_duration_seconds', 'Time spent answering queries', seconds, { kind });
    }
  };

  app.get('/api/v1/search', async (req) => {
    const q = req.query as QueryParams;
    const nowMs = Date.now();
    const query = parseQuery(q.q ?? '*');
    const range = timeRange(q, nowMs);
    const limit = intParam(q, 'limit', 100, 0, MAX_LIMIT);
    const result = await timed('search', () => ctx.store.search({ query, range, limit, cursor: q.cursor, nowMs }));
    if (result.kind === 'table') return { columns: result.columns, rows: result.rows };
    return { total: result.total, hits: result.hits, cursor: result.cursor };
  });

  app.get('/api/v1/histogram', async (req) => {
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
    const buckets = await timed('histogram', () => ctx.store.histogram(query.filter, range, intervalMs * 1000, nowMs));
    return { interval: `${intervalMs}ms`, intervalMs, buckets };
  });

  app.get('/api/v1/fields', async (req) => {
    const q = req.query as QueryParams;
    const nowMs = Date.now();
    const query = filterOnly(parseQuery(q.q ?? '*'), 'fields');
    const range = timeRange(q, nowMs);
    const fields = await ctx.store.fields(range);
    if (q.field === undefined) return { fields };
    const info = fields.find((f) => f.name === q.field);
    if (!info) throw new BadRequest(`unknown field "${q.field}"`, { known: fields.map((f) => f.name).slice(0, 50) });
    const limit = intParam(q, 'size', 10, 1, 1000);
    const values = await timed('fields', () => ctx.store.topValues(query.filter, range, info.name, limit, nowMs));
    return { field: info.name, type: info.type, conflicts: info.conflicts, values };
  });
}

function filterOnly(query: Query, what: string): Query {
  if (query.pipes.length > 0) throw new BadRequest(`${what} takes a filter without pipes: remove the part from the first "|"`);
  return query;
}
