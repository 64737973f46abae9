/**
 * The Elasticsearch-compatible API on its own port (9200 by default): a
 * separate Fastify instance so that shippers and clients written for
 * Elasticsearch can talk to Logmill unchanged.
 *
 * Every answer carries `X-Elastic-Product: Elasticsearch` (the official
 * clients refuse servers without it); every error has Elasticsearch's shape;
 * bodies stay raw bytes (NDJSON for _bulk, JSON elsewhere, gzip or deflate
 * undone first); the API token is required as on the main API, as Bearer,
 * as the password of HTTP basic auth, or as an ApiKey.
 */
import path from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { splitHostPort } from '../../core/config.js';
import { BadEncoding, decodeContentEncoding, PayloadTooLarge } from '../../ingest/http/body.js';
import { QuerySyntaxError } from '../../query/ast.js';
import { QueryError } from '../../store/store.js';
import { checkAuthorization } from '../auth.js';
import { repeatedParam } from '../params.js';
import { EsMeta, registerEsAdminRoutes } from './admin.js';
import type { EsContext } from './context.js';
import { contentTooLong, EsError, illegalArgument, noHandler, parsingException, securityException } from './errors.js';
import { existsNode, indexFilter, notOf, orOf } from './dsl.js';
import { indexMatcher, registerEsSearchRoutes, UNINDEXED } from './search.js';
import { registerEsWriteRoutes } from './write.js';
import { closedIndices, closedIndexError, closedNamed, registerEsIndexRoutes } from './indices.js';

export type { EsContext } from './context.js';

export interface RunningEsServer {
  /** The bound address as a URL: `http://127.0.0.1:9200`. */
  address(): string;
  /** A request answered in-process, as if it had come over HTTP with the server's token (for pipelines inside the server). */
  request(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; body: string }>;
  /** TCP connections accepted so far (what shows that in-process requests took no socket). */
  connectionsAccepted(): number;
  close(): Promise<void>;
}

/** Builds the Elasticsearch-compatible app (not listening); `startEsServer` listens. */
export function buildEsApp(ctx: EsContext): FastifyInstance {
  const app = Fastify({
    logger: ctx.config.logLevel === 'silent' ? false : { level: ctx.config.logLevel },
    bodyLimit: ctx.config.maxBodyBytes,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    rewriteUrl: (req) => untypedDocPath(req.method ?? '', req.url ?? '/'),
  });

  // Elasticsearch takes bodies on GET (`GET /_search {"query": …}`), as Kibana, Grafana and curl users send them.
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });

  // Bodies stay bytes, whatever the content type: _bulk splits NDJSON itself, so one bad line cannot spoil the rest.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, decodeContentEncoding(body as Buffer, req.headers['content-encoding'], ctx.config.maxBodyBytes));
    } catch (err) {
      if (err instanceof PayloadTooLarge) done(contentTooLong(ctx.config.maxBodyBytes), undefined);
      else if (err instanceof BadEncoding) done(illegalArgument(err.message), undefined);
      else done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-elastic-product', 'Elasticsearch');
  });

  const token = ctx.config.token;
  if (token) {
    app.addHook('onRequest', async (req) => {
      const header = req.headers.authorization;
      if (checkAuthorization(header, token) || apiKeyPair(header, token)) return;
      ctx.metrics.inc('logmill_http_unauthorized_total', 'HTTP requests refused for a missing or wrong token', 1, { api: 'elasticsearch' });
      throw securityException(req.url.split('?')[0], !header);
    });
  }

  // Routes read each parameter as one string: `?q=a&q=b` is refused, not half read.
  app.addHook('preValidation', async (req) => {
    const repeated = repeatedParam(req.query);
    if (repeated !== null) throw illegalArgument(`request [${req.url.split('?')[0]}] has the parameter [${repeated}] more than once; give each parameter once`);
  });

  // `?filter_path=` (what Logstash, Beats and Kibana send to trim answers) applies to every JSON answer.
  app.addHook('preSerialization', async (req, _reply, payload) => {
    const fp: unknown = (req.query as Record<string, unknown>).filter_path;
    // Not a string: given twice, which the request is refused for (with an answer that is not filtered).
    if (typeof fp !== 'string' || fp === '' || payload === null || typeof payload !== 'object') return payload;
    return filterPath(payload, fp);
  });

  // `?pretty`: indented JSON, for people with curl.
  app.addHook('onSend', async (req, reply, payload) => {
    const pretty = (req.query as Record<string, string | undefined>).pretty;
    if (pretty === undefined || pretty === 'false' || typeof payload !== 'string' || payload === '') return payload;
    if (!/json/.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    try {
      return JSON.stringify(JSON.parse(payload), null, 2) + '\n';
    } catch {
      return payload;
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const es = toEsError(err as FastifyError);
    if (es.status >= 500) req.log.error(err);
    for (const [k, v] of Object.entries(es.headers)) reply.header(k, v);
    reply.header('x-elastic-product', 'Elasticsearch');
    if (req.method === 'HEAD') return reply.code(es.status).send('');
    return reply.code(es.status).send(es.body());
  });

  app.setNotFoundHandler((req, reply) => {
    reply.header('x-elastic-product', 'Elasticsearch');
    if (req.method === 'HEAD') return reply.code(404).send('');
    const e = noHandler(req.method, req.url.split('?')[0]);
    return reply.code(e.status).send(e.body());
  });

  const meta = EsMeta.open(path.join(ctx.config.data, 'es'));
  // First: its hook (closed indices) must see the routes registered after it.
  registerEsIndexRoutes(app, ctx, meta);
  registerEsAdminRoutes(app, ctx, meta);
  registerEsWriteRoutes(app, ctx, meta);
  // Searches resolve aliases and date math in index expressions through the metadata kept here.
  registerEsSearchRoutes(app, ctx, {
    indexFilter: (expr) => {
      // A closed index named refuses the search; wildcards leave closed indices out (expand_wildcards=open).
      const closedNames = closedNamed(meta, expr);
      if (closedNames.length > 0) throw closedIndexError(meta, closedNames[0]);
      const closed = closedIndices(meta);
      const expanded = meta.expandAliases(expr) + (closed.length > 0 ? closed.map((n) => `,-${n}`).join('') : '');
      const filter = indexFilter(expanded);
      // Events stored without an index answer as `logmill` (as search.ts does by default).
      if (filter.kind !== 'all' && indexMatcher(expanded)(UNINDEXED)) return orOf([filter, notOf(existsNode('_index'))]);
      return filter;
    },
  });
  return app;
}

export async function startEsServer(listen: string, ctx: EsContext): Promise<RunningEsServer> {
  const app = buildEsApp(ctx);
  const { host, port } = splitHostPort(listen);
  await app.listen({ host, port });
  const addr = app.server.address();
  const url =
    typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : `http://${listen}`;
  const authorization = ctx.config.token ? `Bearer ${ctx.config.token}` : undefined;
  let connections = 0;
  app.server.on('connection', () => connections++);
  return {
    address: () => url,
    connectionsAccepted: () => connections,
    request: async (method, path, body, contentType = 'application/json') => {
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = contentType;
      const answer = await app.inject({ method: method as 'GET', url: path, headers, payload: body });
      return { status: answer.statusCode, body: answer.body };
    },
    close: async () => {
      // Requests under way finish (a bulk is answered once durable), but a connection that a client keeps
      // open (keep-alive) once its request is done must not hold the shutdown for the keep-alive timeout.
      const idle = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(idle);
      }
    },
  };
}

/**
 * Elasticsearch 6's typed document paths, `POST /{index}/{type}` and `PUT|POST /{index}/{type}/{id}`,
 * as `/{index}/_doc[/{id}]` (the type is dropped, as `_type` is in `_bulk`). rsyslog's omelasticsearch
 * sends `POST /{index}/events` in its default single-document mode unless `esVersion.major="8"` is set.
 * Paths whose index or second part starts with `_` are endpoints (`/_cat/indices`, `/i/_search`) and
 * stay as they are.
 */
export function untypedDocPath(method: string, url: string): string {
  if (method !== 'POST' && method !== 'PUT') return url;
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const m = /^\/([^/_][^/]*)\/([^/_][^/]*)(\/[^/]+)?\/?$/.exec(pathname);
  if (m === null || (method === 'PUT' && m[3] === undefined)) return url;
  return `/${m[1]}/_doc${m[3] ?? ''}${q < 0 ? '' : url.slice(q)}`;
}

/** `ApiKey base64(id:key)`, as clients build it from an id and a key: the key part is the token. */
function apiKeyPair(header: string | undefined, token: string): boolean {
  if (!header || !/^apikey\s/i.test(header)) return false;
  const decoded = Buffer.from(header.slice(7).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && checkAuthorization(`Bearer ${decoded.slice(colon + 1)}`, token);
}

/** Any error → Elasticsearch's shape; 500 only for real internal faults. */
function toEsError(err: FastifyError & { status?: unknown; type?: unknown; reason?: unknown }): EsError {
  if (err instanceof EsError) return err;
  if (err instanceof QuerySyntaxError) {
    return parsingException(`Failed to parse query: ${err.message}`, { position: err.position, expected: err.expected });
  }
  if (err instanceof QueryError) return illegalArgument(err.message);
  // Errors shaped like Elasticsearch's by other modules (a status, a type and a reason).
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 600 && typeof err.type === 'string') {
    return new EsError(err.status, err.type, typeof err.reason === 'string' ? err.reason : err.message);
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new EsError(413, 'content_too_long_exception', `request body is larger than the limit (${err.message})`);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return illegalArgument(`unsupported Content-Type: ${err.message}`);
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new EsError(err.statusCode, 'illegal_argument_exception', err.message);
  }
  return new EsError(500, 'exception', `internal error: ${err.message}; see the server log`);
}

// ------------------------------------------------------------ filter_path

type Path = string[];

/**
 * Elasticsearch's response filtering: `a.b`, `items.*.error`, `**.took`,
 * exclusions with a leading `-`. Arrays are transparent.
 */
export function filterPath(value: unknown, expr: string): unknown {
  const includes: Path[] = [];
  const excludes: Path[] = [];
  for (const raw of expr.split(',')) {
    const p = raw.trim();
    if (p === '') continue;
    if (p.startsWith('-')) excludes.push(p.slice(1).split('.'));
    else includes.push(p.split('.'));
  }
  let out = value;
  if (includes.length > 0) out = include(out, includes) ?? {};
  if (excludes.length > 0) out = exclude(out, excludes);
  return out;
}

function segMatch(seg: string, key: string): boolean {
  if (seg === '*' || seg === key) return true;
  if (!seg.includes('*')) return false;
  return new RegExp('^' + seg.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(key);
}

function include(value: unknown, paths: Path[]): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => include(v, paths)).filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    let whole = false;
    const next: Path[] = [];
    const visit = (p: Path): void => {
      if (p.length === 0) return;
      if (p[0] === '**') {
        if (p.length === 1) {
          whole = true;
          return;
        }
        next.push(p); // ** consumes this key
        visit(p.slice(1)); // or matches nothing
        return;
      }
      if (!segMatch(p[0], key)) return;
      if (p.length === 1) whole = true;
      else next.push(p.slice(1));
    };
    for (const p of paths) visit(p);
    if (whole) out[key] = child;
    else if (next.length > 0) {
      const r = include(child, next);
      if (r !== undefined) out[key] = r;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function exclude(value: unknown, paths: Path[]): unknown {
  if (Array.isArray(value)) return value.map((v) => exclude(v, paths));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    let drop = false;
    const next: Path[] = [];
    for (const p of paths) {
      if (p[0] === '**') {
        if (p.length === 1 || segMatch(p[1], key)) {
          if (p.length <= 2) drop = true;
          else next.push(p.slice(2));
        }
        next.push(p);
        continue;
      }
      if (!segMatch(p[0], key)) continue;
      if (p.length === 1) drop = true;
      else next.push(p.slice(1));
    }
    if (drop) continue;
    out[key] = next.length > 0 ? exclude(child, next) : child;
  }
  return out;
}
