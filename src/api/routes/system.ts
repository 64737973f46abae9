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
    ctx.metrics.set('logmill_process_resident_memory_bytes', 'Resident set size of the server', process.memoryUsage.rss());
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4').send(await ctx.metrics.render());
  });

  app.get('/api/v1/openapi.json', async () => openApiDocument);
}
