/**
 * The pipelines the server runs, for the web UI's pipelines page, and a check of a config
 * as it is typed. Live reload, per-plugin metrics and the dead-letter queue come with the
 * pipelines' delivery guarantees (issue 19); until then `/api/v1/dlq` says it is not available.
 */
import type { FastifyInstance } from 'fastify';
import type { PipelineDescription } from '../../pipeline/host.js';
import { MAX_CONFIG_BYTES, validatePipelineText } from '../../pipeline/validate.js';
import type { ApiContext } from '../context.js';
import { BadRequest } from '../params.js';

export interface PipelinesView {
  describe(): PipelineDescription[];
}

export function pipelineRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/pipelines', async () => ({ pipelines: ctx.pipelines?.()?.describe() ?? [] }));

  app.post('/api/v1/pipelines/validate', async (req) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (body.length > MAX_CONFIG_BYTES) throw new BadRequest(`the configuration is ${body.length} bytes; the most is ${MAX_CONFIG_BYTES}`);
    return validatePipelineText(body.toString('utf8'), ctx.dataDir ?? 'data');
  });

  const unavailable = {
    error: {
      type: 'not_available',
      message: 'the dead-letter queue is not available in this version of Logmill: events refused by an output are logged, not queued',
    },
  };
  app.get('/api/v1/dlq', async (_req, reply) => reply.code(404).send(unavailable));
  app.post('/api/v1/dlq/replay', async (_req, reply) => reply.code(404).send(unavailable));
  app.delete('/api/v1/dlq', async (_req, reply) => reply.code(404).send(unavailable));
}
