/**
 * Queries stop when their requester goes away: a search cancelled in the UI (an aborted fetch)
 * or a client that hung up. The signal reaches the store through `queryAbort`.
 */
import type { FastifyReply } from 'fastify';
import { QueryTimedOut, queryAbort } from '../store/store.js';

/**
 * Runs `fn` with a signal that fires when the client closes the connection before the answer
 * is sent, or once `timeoutMs` (the server's query timeout) has passed.
 */
export function untilClientLeaves<T>(reply: FastifyReply, fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once('close', onClose);
  const timer = timeoutMs && timeoutMs > 0 ? setTimeout(() => controller.abort(new QueryTimedOut(timeoutMs)), timeoutMs) : null;
  return queryAbort.run(controller.signal, fn).finally(() => {
    reply.raw.off('close', onClose);
    if (timer) clearTimeout(timer);
  });
}
