/** Request bodies of the Elasticsearch-compatible API's read endpoints (search, scroll, PIT). */
import { EsError } from './errors.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A body as text: raw bytes, text, or (already parsed) its JSON. */
export function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (typeof body === 'string') return body;
  return JSON.stringify(body);
}

/** A JSON request body (raw bytes, text, or already parsed), or the `source` parameter; absent: `{}`. */
export function readJsonBody(body: unknown, params: { source?: string } = {}): Obj {
  if (isObj(body) && !Buffer.isBuffer(body)) return body;
  let text = bodyText(body);
  if (text.trim() === '' && params.source !== undefined) text = params.source;
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EsError(400, 'x_content_parse_exception', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(parsed)) throw new EsError(400, 'parsing_exception', 'request body must be a JSON object');
  return parsed;
}
