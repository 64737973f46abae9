import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { openApiDocument } from '../openapi.js';

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const startedAt = Date.now();
  app.get('/api/v1/health', async () => {
    const stats = await ctx.store.stats();
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), partitions: stats.partitions, bytesOnDisk: stats.bytesOnDisk };
  });

  ctx.metrics.onCollect(async () => {
    const stats = await ctx.store.stats();
    ctx.metrics.set('logmill_storage_bytes', 'Bytes on disk used by stored events', stats.bytesOnDisk);
    ctx.metrics.set('logmill_storage_partitions', 'Daily partitions on disk', stats.partitions);
    const mem = process.memoryUsage();
    ctx.metrics.set('logmill_process_resident_memory_bytes', 'Resident set size of the server', mem.rss);
    ctx.metrics.set('logmill_process_heap_used_bytes', 'JavaScript heap in use', mem.heapUsed);
    ctx.metrics.set('logmill_process_external_bytes', 'Memory held by buffers and native objects known to V8', mem.external + mem.arrayBuffers);
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4').send(await ctx.metrics.render());
  });

  app.get('/api/v1/openapi.json', async () => openApiDocument);

  const counters = {
    connections: 'logmill_input_connections_total',
    events: 'logmill_events_ingested_total',
    bytes: 'logmill_ingest_bytes_total',
    parseFailures: 'logmill_input_parse_failures_total',
    dropped: 'logmill_input_dropped_total',
    tlsHandshakeFailures: 'logmill_input_tls_handshake_failures_total',
  } as const;
  app.get('/api/v1/inputs', async () => ({
    inputs: (ctx.inputs ?? []).map((input) => ({
      name: input.name,
      address: input.address(),
      status: 'listening',
      ...Object.fromEntries(Object.entries(counters).map(([k, metric]) => [k, ctx.metrics.get(metric, { input: input.name })])),
    })),
  }));

  app.post('/api/v1/gelf', async (req, reply) => {
    if (!ctx.gelf) return reply.code(404).send({ error: { type: 'not_found', message: 'GELF over HTTP is not enabled' } });
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const r = await ctx.gelf(body);
    return reply.code(r.status).send(r.body);
  });
}
