/**
 * Requests that change state through the UI's resources must come from the UI itself, not from
 * another site the browser has open: the token travels in a header (never a cookie), and when the
 * server runs without a token these checks are what stops a page elsewhere from writing here.
 * Browsers say where a request comes from (Sec-Fetch-Site, Origin); other clients send neither.
 */
import type { FastifyRequest } from 'fastify';
import { BadRequest } from './params.js';

export class CrossSiteRefused extends Error {
  override name = 'CrossSiteRefused';
}

export function refuseCrossSite(req: FastifyRequest): void {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new CrossSiteRefused(`refused a ${site} request: change saved objects from Logmill's own pages`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new CrossSiteRefused(`refused a request from origin "${origin}"`);
    }
    if (host !== req.headers.host) throw new CrossSiteRefused(`refused a request from ${origin}: change saved objects from Logmill's own pages`);
  } else if (origin === 'null') {
    throw new CrossSiteRefused('refused a request from an opaque origin');
  }
}

/** A JSON body, required as application/json: a form on another site cannot send that without the browser asking first. */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new BadRequest(`send the body as JSON with "content-type: application/json" (got "${type || 'none'}")`);
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw new BadRequest(`the body is not JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('the body must be a JSON object');
  return value as Record<string, unknown>;
}
