/**
 * Errors in Elasticsearch's shape. Every answer of the Elasticsearch-compatible
 * API that is not a success looks like Elasticsearch's own:
 *
 *   {"error": {"root_cause": [{"type", "reason", ...}], "type", "reason", ...}, "status": 400}
 *
 * Route handlers throw EsError (or answer with esErrorBody); the server's
 * error handler turns anything else into this shape too.
 */

/** The body of an error cause: `type`, `reason`, and extra keys such as `index` or `resource.id`. */
export interface EsErrorCause {
  type: string;
  reason: string;
  [key: string]: unknown;
}

export interface EsErrorBody {
  error: EsErrorCause & { root_cause: EsErrorCause[] };
  status: number;
}

/** An error a route throws to answer with Elasticsearch's error shape. */
export class EsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly reason: string,
    /** Extra keys of the cause (`index`, `resource.id`, `caused_by`…). */
    readonly extra: Record<string, unknown> = {},
    /** Extra response headers (WWW-Authenticate). */
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(reason);
    this.name = 'EsError';
  }

  asCause(): EsErrorCause {
    return { type: this.type, reason: this.reason, ...this.extra };
  }

  body(): EsErrorBody {
    return esErrorBody(this.status, this.type, this.reason, this.extra);
  }
}

/** The body Elasticsearch sends for an error: the cause, repeated as the root cause, and the status. */
export function esErrorBody(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): EsErrorBody {
  const { caused_by: _causedBy, ...rootExtra } = extra;
  const root: EsErrorCause = { type, reason, ...rootExtra };
  return { error: { root_cause: [root], type, reason, ...extra }, status };
}

/** An error cause for one item of a bulk answer (`items[].index.error`). */
export function itemError(type: string, reason: string, extra: Record<string, unknown> = {}): EsErrorCause {
  return { type, reason, ...extra };
}

// ------------------------------------------------------------------ helpers

export function parsingException(reason: string, extra: Record<string, unknown> = {}): EsError {
  return new EsError(400, 'parsing_exception', reason, extra);
}

export function illegalArgument(reason: string, extra: Record<string, unknown> = {}): EsError {
  return new EsError(400, 'illegal_argument_exception', reason, extra);
}

export function xContentParse(reason: string, extra: Record<string, unknown> = {}): EsError {
  return new EsError(400, 'x_content_parse_exception', reason, extra);
}

export function actionValidation(problems: string[]): EsError {
  return new EsError(400, 'action_request_validation_exception', `Validation Failed: ${problems.map((p, i) => `${i + 1}: ${p};`).join('')}`);
}

/** The extra keys Elasticsearch puts on errors about an index. */
export function indexExtra(index: string): Record<string, unknown> {
  return { 'resource.type': 'index_or_alias', 'resource.id': index, index_uuid: '_na_', index };
}

export function indexNotFound(index: string): EsError {
  return new EsError(404, 'index_not_found_exception', `no such index [${index}]`, indexExtra(index));
}

export function resourceNotFound(reason: string, extra: Record<string, unknown> = {}): EsError {
  return new EsError(404, 'resource_not_found_exception', reason, extra);
}

export function invalidIndexName(index: string, why: string): EsError {
  return new EsError(400, 'invalid_index_name_exception', `Invalid index name [${index}], ${why}`, { index_uuid: '_na_', index });
}

export function resourceAlreadyExists(index: string): EsError {
  return new EsError(400, 'resource_already_exists_exception', `index [${index}/_na_] already exists`, { index_uuid: '_na_', index });
}

const AUTH_HEADERS = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'];

/** 401: credentials missing (`missing`) or wrong. */
export function securityException(path: string, missing: boolean): EsError {
  const reason = missing
    ? `missing authentication credentials for REST request [${path}]`
    : `unable to authenticate with provided credentials for REST request [${path}]`;
  return new EsError(401, 'security_exception', reason, { header: { 'WWW-Authenticate': AUTH_HEADERS } }, { 'www-authenticate': AUTH_HEADERS });
}

export function contentTooLong(maxBytes: number): EsError {
  return new EsError(413, 'content_too_long_exception', `request body is larger than the limit of [${maxBytes}] bytes (--max-body-bytes)`);
}

/** 400 for a method/path this server does not know, worded as Elasticsearch words it. */
export function noHandler(method: string, url: string): EsError {
  return illegalArgument(`no handler found for uri [${url}] and method [${method}]; Logmill's Elasticsearch-compatible API does not support this endpoint`);
}
