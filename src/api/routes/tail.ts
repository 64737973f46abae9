/**
 * Live tail over server-sent events: `GET /api/v1/tail?q=QUERY` streams the events matching a
 * filter as they are stored (store/tail.ts), batched a few times a second:
 *
 *   event: hits   data: {"hits":[…oldest first…],"dropped":N}
 *   event: stats  data: {"rate":R,"dropped":TOTAL}        (every second)
 *
 * A client that reads slower than events arrive does not hold the server's memory: each tail
 * queues at most MAX_QUEUED hits, and what does not fit is dropped and counted in `dropped`, so
 * the client can say what it did not show.
 */
import type { FastifyInstance } from 'fastify';
import { parseQuery } from '../../query/parse.js';
import type { Hit } from '../../store/store.js';
import type { ApiContext } from '../context.js';
import { BadRequest, type QueryParams } from '../params.js';

const FLUSH_MS = 250;
const STATS_MS = 1000;
const HEARTBEAT_MS = 15_000;
const MAX_QUEUED = 10_000;
/** Hits per message: a burst is sent as several messages rather than one huge one. */
const MAX_PER_MESSAGE = 2_000;
export const MAX_TAILS = 32;

export function tailRoutes(app: FastifyInstance, ctx: ApiContext): void {
  let open = 0;
  app.get('/api/v1/tail', async (req, reply) => {
    const hub = ctx.tail;
    if (!hub) return reply.code(404).send({ error: { type: 'not_available', message: 'live tail is not enabled in this server' } });
    const q = req.query as QueryParams;
    const query = parseQuery(q.q ?? '*');
    if (query.pipes.length > 0) throw new BadRequest('tail takes a filter without pipes: remove the part from the first "|"');
    if (open >= MAX_TAILS) {
      return reply.code(429).send({ error: { type: 'too_many_tails', message: `${MAX_TAILS} live tails are open already; close one and try again` } });
    }
    open++;
    ctx.metrics.inc('logmill_tail_sessions_total', 'Live tails opened');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': logmill live tail\n\n');

    let queue: Hit[] = [];
    let dropped = 0;
    let droppedTotal = 0;
    let matchedSinceStats = 0;
    let lastStats = Date.now();
    let blocked = false;
    const subscription = hub.subscribe(query.filter, (hits) => {
      matchedSinceStats += hits.length;
      const room = MAX_QUEUED - queue.length;
      if (room <= 0) {
        dropped += hits.length;
        return;
      }
      if (hits.length > room) {
        dropped += hits.length - room;
        hits = hits.slice(0, room);
      }
      queue = queue.length === 0 ? hits : queue.concat(hits);
    });
    const send = (event: string, data: unknown): boolean => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const flush = (): void => {
      if (blocked || (queue.length === 0 && dropped === 0)) return;
      while (queue.length > 0 || dropped > 0) {
        const batch = queue.length > MAX_PER_MESSAGE ? queue.slice(0, MAX_PER_MESSAGE) : queue;
        queue = queue.length > MAX_PER_MESSAGE ? queue.slice(MAX_PER_MESSAGE) : [];
        droppedTotal += dropped;
        const ok = send('hits', { hits: batch, dropped });
        dropped = 0;
        if (!ok) {
          // The socket's buffer is full: wait for it to drain, queueing (and beyond the cap, dropping) meanwhile.
          blocked = true;
          res.once('drain', () => {
            blocked = false;
          });
          return;
        }
      }
    };
    const flushTimer = setInterval(flush, FLUSH_MS);
    const statsTimer = setInterval(() => {
      const now = Date.now();
      const rate = (matchedSinceStats * 1000) / Math.max(1, now - lastStats);
      matchedSinceStats = 0;
      lastStats = now;
      if (!blocked) send('stats', { rate: Math.round(rate * 10) / 10, dropped: droppedTotal + dropped });
    }, STATS_MS);
    const heartbeat = setInterval(() => {
      if (!blocked) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    const stop = (): void => {
      clearInterval(flushTimer);
      clearInterval(statsTimer);
      clearInterval(heartbeat);
      subscription.close();
      open--;
    };
    res.once('close', stop);
  });
}
