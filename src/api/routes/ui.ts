/**
 * The web UI, served from dist/ui (built by `npm run build`): index.html for `/` and every
 * `/app/…` path (the UI routes on the path), hashed assets under `/assets/`. The pages load
 * without the token, so that the UI can ask for it; every API call still needs it.
 *
 * The Content-Security-Policy allows only the server's own scripts, styles and connections:
 * no inline scripts, no eval, no framing, so that log content that slips into markup still
 * cannot run.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** dist/src/api/routes/ui.js → dist/ui */
const UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

/** Paths the UI answers without a token: the page and its assets, never the API. */
export function isUiPath(url: string): boolean {
  const path = url.split('?', 1)[0];
  return path === '/' || path === '/app' || path.startsWith('/app/') || path.startsWith('/assets/');
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export function uiRoutes(app: FastifyInstance): void {
  const page = async (_req: unknown, reply: FastifyReply) => {
    let html: Buffer;
    try {
      html = await readFile(join(UI_DIR, 'index.html'));
    } catch {
      return secure(reply)
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web UI is not built: run "npm run build" (npm install runs it too), then reload this page.\n');
    }
    return secure(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };
  app.get('/', page);
  app.get('/app', page);
  app.get('/app/*', page);

  app.get('/assets/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const rel = normalize(name);
    const type = TYPES[extname(rel)];
    if (rel.startsWith('..') || rel.includes('/') || rel.includes('\\') || !type) {
      return reply.code(404).send({ error: { type: 'not_found', message: `no asset "${name}"` } });
    }
    let body: Buffer;
    try {
      body = await readFile(join(UI_DIR, 'assets', rel));
    } catch {
      return reply.code(404).send({ error: { type: 'not_found', message: `no asset "${name}"; rebuild the UI with "npm run build"` } });
    }
    // Asset names carry a content hash, so a browser may keep them for good.
    return secure(reply).type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });
}
