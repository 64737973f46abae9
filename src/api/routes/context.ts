/**
 * Surrounding events: the events just before and after one event among those with the same
 * host and source (or the fields asked for), in storage order (time, then arrival), which is
 * what `grep -B/-A` gives on one file. Kibana's context is by time alone, and so mixes hosts.
 */
import type { FastifyInstance } from 'fastify';
import type { FilterNode } from '../../query/ast.js';
import type { Hit } from '../../store/store.js';
import { untilClientLeaves } from '../cancel.js';
import type { ApiContext } from '../context.js';
import { BadRequest, intParam, type QueryParams } from '../params.js';

const NO_SPAN = { start: 0, end: 0 };
const MAX_SCOPE_FIELDS = 8;

export function contextRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/context', async (req, reply) => {
    const q = req.query as QueryParams;
    const id = q.id;
    if (!id) throw new BadRequest('"id" is required: the _id of the event whose surrounding events you want');
    const before = intParam(q, 'before', 20, 0, 500);
    const after = intParam(q, 'after', 20, 0, 500);
    const by = (q.by ?? 'host,source').split(',').map((f) => f.trim()).filter((f) => f !== '');
    if (by.length > MAX_SCOPE_FIELDS) throw new BadRequest(`"by" names ${by.length} fields; give at most ${MAX_SCOPE_FIELDS}`);
    return untilClientLeaves(reply, async () => {
      const idTerm: FilterNode = { kind: 'term', field: '_id', value: id, span: NO_SPAN };
      const found = await ctx.store.find({ filter: idTerm, sort: [{ field: '@timestamp', desc: false }], storageOrder: 'asc', limit: 1, trackTotalHits: false });
      const anchor = found.hits[0];
      if (!anchor) return reply.code(404).send({ error: { type: 'not_found', message: `no event with _id "${id}"` } });
      const scope: Record<string, unknown> = {};
      const clauses: FilterNode[] = [];
      for (const field of by) {
        const value = anchor[field];
        scope[field] = value ?? null;
        if (value === undefined || value === null) {
          clauses.push({ kind: 'not', child: { kind: 'exists', field, span: NO_SPAN } });
        } else if (Array.isArray(value)) {
          throw new BadRequest(`"${field}" holds a list in this event; surrounding events can be scoped only by fields with one value`);
        } else {
          // The same value, whole: `host:web-1` by its words would also take in web-1.example.com.
          clauses.push({ kind: 'term', field, value: String(value), span: NO_SPAN, exact: true });
        }
      }
      const filter: FilterNode = clauses.length === 0 ? { kind: 'all' } : { kind: 'and', children: clauses };
      const [older, newer] = await Promise.all([
        before === 0
          ? Promise.resolve({ hits: [] as (Hit & { _sort: unknown[] })[] })
          : ctx.store.find({ filter, sort: [{ field: '@timestamp', desc: true }], storageOrder: 'desc', searchAfter: anchor._sort, limit: before, trackTotalHits: false }),
        after === 0
          ? Promise.resolve({ hits: [] as (Hit & { _sort: unknown[] })[] })
          : ctx.store.find({ filter, sort: [{ field: '@timestamp', desc: false }], storageOrder: 'asc', searchAfter: anchor._sort, limit: after, trackTotalHits: false }),
      ]);
      const plain = (h: Hit & { _sort: unknown[] }): Hit => {
        const { _sort: _s, ...rest } = h;
        return rest as Hit;
      };
      return { anchor: plain(anchor), by: scope, before: older.hits.map(plain).reverse(), after: newer.hits.map(plain) };
    });
  });
}
