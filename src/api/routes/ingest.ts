import type { FastifyInstance } from 'fastify';
import { BadEncoding, decodeContentEncoding, decodeIngestBody, PayloadTooLarge, type DecodedBody } from '../../ingest/http/body.js';
import type { Store } from '../../store/store.js';
import type { ApiContext } from '../context.js';

export function ingestRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/api/v1/ingest', async (req, reply) => {
    const raw = req.body;
    if (!Buffer.isBuffer(raw)) return reply.code(400).send({ error: { type: 'bad_request', message: 'send NDJSON or a JSON array as the body' } });
    let body: Buffer;
    try {
      body = decodeContentEncoding(raw, req.headers['content-encoding'], ctx.config.maxBodyBytes);
    } catch (err) {
      const status = err instanceof PayloadTooLarge ? 413 : err instanceof BadEncoding ? 400 : 500;
      return reply.code(status).send({ error: { type: status === 413 ? 'payload_too_large' : 'bad_request', message: (err as Error).message } });
    }
    const decoded = decodeIngestBody(body, { maxLineBytes: ctx.config.maxLineBytes, arrivalMicros: Date.now() * 1000 });
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', body.length, { input: 'http' });
    if (decoded.rejected.length) {
      ctx.metrics.inc('logmill_events_rejected_total', 'Events refused by inputs', decoded.rejected.length, { input: 'http' });
    }
    const accepted = decoded.events.length;
    await handOver(ctx.store, decoded);
    ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', accepted, { input: 'http' });
    const result: Record<string, unknown> = { accepted, rejected: decoded.rejected };
    if (decoded.warnings.length) result.warnings = decoded.warnings;
    return reply.send(result);
  });
}

/**
 * Writes the decoded events, keeping no reference to them here: the store lets go of them once
 * encoded, before they are durable, so that they die young instead of outliving garbage collections.
 */
function handOver(store: Store, decoded: DecodedBody): Promise<void> {
  const events = decoded.events;
  decoded.events = [];
  return store.write(events);
}
