/** Saved searches and dashboards for the web UI (store/saved-objects.ts), as a small REST resource. */
import type { FastifyInstance } from 'fastify';
import { SAVED_OBJECT_TYPES, SavedObjectError, SavedObjects, type SavedObjectType } from '../../store/saved-objects.js';
import type { ApiContext } from '../context.js';
import { jsonBody, refuseCrossSite } from '../csrf.js';
import { BadRequest, type QueryParams } from '../params.js';

export function savedObjectRoutes(app: FastifyInstance, ctx: ApiContext): void {
  if (!ctx.dataDir) return;
  const saved = new SavedObjects(ctx.dataDir);
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SavedObjectError) throw new BadRequest(e.message);
      throw e;
    }
  };
  const notFound = (id: string) => ({ error: { type: 'not_found', message: `no saved object with id "${id}"` } });

  app.get('/api/v1/saved-objects', async (req) => {
    const type = (req.query as QueryParams).type;
    if (type !== undefined && !(SAVED_OBJECT_TYPES as readonly string[]).includes(type)) {
      throw new BadRequest(`"type" must be one of ${SAVED_OBJECT_TYPES.join(', ')}, got "${type}"`);
    }
    return { objects: await saved.list(type as SavedObjectType | undefined) };
  });
  app.get('/api/v1/saved-objects/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const o = await saved.get(id);
    return o ?? reply.code(404).send(notFound(id));
  });
  app.post('/api/v1/saved-objects', async (req, reply) => {
    refuseCrossSite(req);
    const body = jsonBody(req);
    const o = await guard(() => saved.create({ type: body.type, title: body.title, attributes: body.attributes }));
    return reply.code(201).send(o);
  });
  app.put('/api/v1/saved-objects/:id', async (req, reply) => {
    refuseCrossSite(req);
    const { id } = req.params as { id: string };
    const body = jsonBody(req);
    const o = await guard(() => saved.update(id, { title: body.title, attributes: body.attributes }));
    return o ?? reply.code(404).send(notFound(id));
  });
  app.delete('/api/v1/saved-objects/:id', async (req, reply) => {
    refuseCrossSite(req);
    const { id } = req.params as { id: string };
    return (await saved.remove(id)) ? reply.code(204).send() : reply.code(404).send(notFound(id));
  });
}
