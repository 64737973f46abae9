/**
 * The HTTP face of the server: Fastify with raw-body ingest, token auth,
 * one error shape, and the API's routes.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { QuerySyntaxError } from '../query/ast.js';
import { QueryCancelled, QueryError, QueryTimedOut } from '../store/store.js';
import { CrossSiteRefused } from './csrf.js';
import { checkAuthorization } from './auth.js';
import type { ApiContext } from './context.js';
import { BadRequest, repeatedParam } from './params.js';
import { ingestRoutes } from './routes/ingest.js';
import { searchRoutes } from './routes/search.js';
import { systemRoutes } from './routes/system.js';
import { isUiPath, uiRoutes } from './routes/ui.js';
import { contextRoutes } from './routes/context.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { savedObjectRoutes } from './routes/saved-objects.js';
import { tailRoutes } from './routes/tail.js';

export function buildApp(ctx: ApiContext): FastifyInstance {
  const app = Fastify({
    logger: ctx.config.logLevel === 'silent' ? false : { level: ctx.config.logLevel },
    bodyLimit: ctx.config.maxBodyBytes,
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Ingest bodies stay bytes: lines are split and decoded one by one, so one bad line cannot spoil the rest.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const token = ctx.config.token;
  if (token) {
    app.addHook('onRequest', async (req, reply) => {
      // The UI's page and assets load without the token so that the page can ask for it.
      if (req.method === 'GET' && isUiPath(req.url)) return;
      if (!checkAuthorization(req.headers.authorization, token)) {
        ctx.metrics.inc('logmill_http_unauthorized_total', 'HTTP requests refused for a missing or wrong token');
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="logmill"')
          .send({ error: { type: 'unauthorized', message: 'send the API token as "Authorization: Bearer <token>"' } });
      }
    });
  }

  app.addHook('preValidation', async (req) => {
    const repeated = repeatedParam(req.query);
    if (repeated !== null) throw new BadRequest(`"${repeated}" is given more than once in the query string; give each parameter once`);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof QuerySyntaxError) {
      return reply.code(400).send({ error: { type: 'query_syntax', message: err.message, position: err.position, expected: err.expected } });
    }
    if (err instanceof QueryCancelled) {
      ctx.metrics.inc('logmill_queries_cancelled_total', 'Queries stopped because the client went away');
      // 499 (nginx's "client closed request"): nobody reads it, but the access log says what happened.
      return reply.code(499).send({ error: { type: 'cancelled', message: err.message } });
    }
    if (err instanceof QueryTimedOut) {
      ctx.metrics.inc('logmill_queries_timed_out_total', 'Queries stopped by the query timeout');
      return reply.code(503).send({ error: { type: 'timeout', message: err.message, limit_ms: err.limitMs } });
    }
    if (err instanceof CrossSiteRefused) return reply.code(403).send({ error: { type: 'cross_site', message: err.message } });
    if (err instanceof QueryError) return reply.code(400).send({ error: { type: 'query', message: err.message } });
    if (err instanceof BadRequest) return reply.code(400).send({ error: { type: 'bad_request', message: err.message, ...err.details } });
    const e = err as { statusCode?: number; message: string; code?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ error: { type: e.code ?? 'bad_request', message: e.message } });
    }
    req.log.error(err);
    return reply.code(500).send({ error: { type: 'internal', message: 'internal error; see the server log' } });
  });

  ingestRoutes(app, ctx);
  searchRoutes(app, ctx);
  systemRoutes(app, ctx);
  contextRoutes(app, ctx);
  tailRoutes(app, ctx);
  savedObjectRoutes(app, ctx);
  pipelineRoutes(app, ctx);
  uiRoutes(app);
  return app;
}
