/**
 * The `http` input: events POSTed (or PUT) over HTTP or HTTPS, as Logstash's http input.
 *
 * A JSON body (Content-Type application/json or application/x-ndjson) gives an event per object: one
 * object, an array of objects, or one object per line. Any other body is one event whose `message`
 * is the body's text. `host` is the client's address and [headers] the request's headers in
 * Logstash's legacy names (`content_type`, `http_user_agent`, `request_method`, `request_path`…).
 *
 * The answer is sent once the pipeline's outputs have the events (200, or `response_code`); a body
 * that is too large is refused with 413, one that cannot be decoded (bad JSON, a bad gzip) with 400
 * and none of its events are kept, so the sender knows to fix and resend it — Logstash answers 200
 * and tags such an event `_jsonparsefailure` instead. TLS and the Content-Encoding (gzip, deflate)
 * decoding are the ingest layer's (`src/ingest/tls.ts`, `src/ingest/http/body.ts`).
 */
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { BadEncoding, decodeContentEncoding, PayloadTooLarge } from '../../ingest/http/body.js';
import { formatAddress, tlsServerOptions } from '../../ingest/tls.js';
import { inputDecoration, type Decorate } from '../common.js';
import { isObject, PipelineEvent, type PipelineObject, type PipelineValue } from '../event.js';
import { BATCH_SIZE } from '../batch.js';
import type { Emit, Input, InputFactory } from '../plugin.js';
import { boundedWarn, joinHostPort, listenAddress, plainAddress, runListeners, tlsFromSettings } from './ingest-bridge.js';

const DEFAULT_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;
const MAX_CONNECTIONS = 1024;
/** A client that has not sent its whole request by then is dropped (slow-loris). */
const REQUEST_TIMEOUT_MS = 60_000;

export const httpInput: InputFactory = (settings, context) => {
  const address = listenAddress(settings, 8080);
  const user = settings.string('user');
  const password = settings.string('password');
  if (user !== undefined && password === undefined) throw settings.error('password', 'is required when user is set');
  if (user === undefined && password !== undefined) throw settings.error('user', 'is required when password is set');
  const maxContentLength = settings.number('max_content_length', DEFAULT_MAX_CONTENT_LENGTH, { integer: true, min: 1 });
  const responseCode = settings.number('response_code', 200, { integer: true, min: 200 });
  if (responseCode > 299) throw settings.error('response_code', 'must be a 2xx code');
  const responseHeaders = settings.pairs('response_headers');
  const maxPendingRequests = settings.number('max_pending_requests', 200, { integer: true, min: 1 });
  const hostField = settings.fieldPath('remote_host_target_field', settings.string('remote_host_target_field', 'host'));
  const headersField = settings.fieldPath('request_headers_target_field', settings.string('request_headers_target_field', 'headers'));
  const tls = tlsFromSettings(settings, { enabled: ['ssl_enabled', 'ssl'], defaultClientAuthentication: 'none' });
  settings.accept('threads', 'codec', 'additional_codecs');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input http (${joinHostPort(address)})`;
  const warn = boundedWarn(context.logger, label);
  const expectedAuth = user !== undefined ? Buffer.from(`Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`) : null;

  const input: Input = {
    label,
    listeners: [{ protocol: 'tcp', host: address.host, port: address.port }],
    run: (emit) =>
      runListeners(context.signal, async () => {
        const refuseUnverified = tls?.ca !== undefined && tls.requireClientCert !== true;
        const handler = requestHandler({ emit, decorate, maxContentLength, maxPendingRequests, responseCode, responseHeaders, hostField, headersField, expectedAuth, refuseUnverified, warn });
        const server = tls ? https.createServer(tlsServerOptions(tls), handler) : http.createServer(handler);
        server.maxConnections = MAX_CONNECTIONS;
        server.requestTimeout = REQUEST_TIMEOUT_MS;
        if (tls) server.on('tlsClientError', (error: Error) => warn(`TLS handshake failed: ${error.message}`));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(address.port, address.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (error) => warn(error.message));
        return [
          {
            name: 'http',
            address: () => formatAddress(server.address()),
            close: () =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeIdleConnections();
              }),
          },
        ];
      }),
  };
  return input;
};

interface HandlerOptions {
  readonly emit: Emit;
  readonly decorate: Decorate;
  readonly maxContentLength: number;
  /** Requests being read or delivered at once; more are answered 429, so bodies waiting on a slow pipeline cannot fill memory. */
  readonly maxPendingRequests: number;
  readonly responseCode: number;
  readonly responseHeaders: ReadonlyArray<[string, string]>;
  readonly hostField: readonly string[];
  readonly headersField: readonly string[];
  readonly expectedAuth: Buffer | null;
  /** `optional` client authentication: a client certificate that was sent must verify (TLS lets it through unchecked). */
  readonly refuseUnverified: boolean;
  readonly warn: (message: string) => void;
}

/** A body that cannot be decoded: answered 400 with this message. */
export class BadRequest extends Error {}

function requestHandler(o: HandlerOptions): http.RequestListener {
  let pending = 0;
  return (req, res) => {
    const answer = (status: number, text: string, headers: Record<string, string> = {}): void => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(text);
    };
    if (pending >= o.maxPendingRequests) {
      req.resume();
      answer(429, 'too many requests waiting for the pipeline; retry later\n', { 'retry-after': '1' });
      return;
    }
    pending++;
    res.once('close', () => pending--);
    if (o.refuseUnverified && !(req.socket as TLSSocket).authorized && Object.keys((req.socket as TLSSocket).getPeerCertificate()).length > 0) {
      req.resume();
      answer(403, 'client certificate not signed by ssl_certificate_authorities\n', { connection: 'close' });
      return;
    }
    if (o.expectedAuth !== null && !authorized(req.headers.authorization, o.expectedAuth)) {
      req.resume();
      answer(401, 'unauthorized\n', { 'www-authenticate': 'Basic realm="logmill"' });
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > o.maxContentLength) {
      answer(413, `body larger than max_content_length (${o.maxContentLength} bytes)\n`, { connection: 'close' });
      req.destroy();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > o.maxContentLength) {
        refused = true;
        answer(413, `body larger than max_content_length (${o.maxContentLength} bytes)\n`, { connection: 'close' });
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let events: PipelineEvent[];
      try {
        const body = decodeContentEncoding(Buffer.concat(parts, size), req.headers['content-encoding'], o.maxContentLength);
        events = eventsOfBody(body, req.headers['content-type'] ?? '').map((fields) => {
          const event = new PipelineEvent(fields);
          if (!event.has(o.hostField)) event.set(o.hostField, plainAddress(req.socket.remoteAddress));
          if (!event.has(o.headersField)) event.set(o.headersField, legacyHeaders(req));
          o.decorate(event);
          return event;
        });
      } catch (error) {
        if (error instanceof PayloadTooLarge) return answer(413, `${error.message}\n`);
        if (error instanceof BadRequest || error instanceof BadEncoding) return answer(400, `${error.message}\n`);
        o.warn(`request failed: ${(error as Error).message}`);
        return answer(500, 'internal error\n');
      }
      void emitAll(o.emit, events).then(
        () => {
          if (res.headersSent) return;
          res.writeHead(o.responseCode, { 'content-type': 'text/plain; charset=utf-8', ...Object.fromEntries(o.responseHeaders) });
          res.end('ok');
        },
        (error: unknown) => {
          o.warn(`could not deliver ${events.length} events: ${(error as Error).message}`);
          answer(503, 'the pipeline could not take the events\n');
        },
      );
    });
  };
}

async function emitAll(emit: Emit, events: PipelineEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += BATCH_SIZE) await emit(events.slice(i, i + BATCH_SIZE));
}

/** Compares in constant time, so the password cannot be guessed byte by byte from timings. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The events' fields of a body (see the header): JSON objects for a JSON type, the text otherwise. */
export function eventsOfBody(body: Buffer, contentType: string): PipelineObject[] {
  const type = contentType.split(';')[0].trim().toLowerCase();
  const text = body.toString('utf8');
  if (type !== 'application/json' && type !== 'application/x-ndjson' && type !== 'application/ndjson') return [{ message: text }];
  if (text.trim() === '') return [];
  let whole: PipelineValue | undefined;
  try {
    whole = JSON.parse(text) as PipelineValue;
  } catch {
    whole = undefined;
  }
  if (isObject(whole)) return [whole];
  if (Array.isArray(whole)) {
    return whole.map((item, i) => {
      if (!isObject(item)) throw new BadRequest(`item ${i + 1} of the array is not a JSON object`);
      return item;
    });
  }
  if (whole !== undefined) throw new BadRequest('expected a JSON object, an array of objects, or one object per line');
  // Not one JSON document: one object per line (NDJSON), every line or none.
  const out: PipelineObject[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: PipelineValue;
    try {
      value = JSON.parse(line) as PipelineValue;
    } catch (error) {
      throw new BadRequest(`line ${i + 1}: invalid JSON: ${(error as Error).message}`);
    }
    if (!isObject(value)) throw new BadRequest(`line ${i + 1}: not a JSON object`);
    out.push(value);
  }
  return out;
}

/** Headers as Logstash's legacy http input names them: `HTTP_` + name, lower case, `_` for `-`; content type and length without the prefix. */
function legacyHeaders(req: http.IncomingMessage): PipelineObject {
  const out: PipelineObject = { request_method: req.method ?? '', request_path: req.url ?? '', http_version: `HTTP/${req.httpVersion}` };
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'authorization') continue;
    const key = name.toLowerCase().replace(/-/g, '_');
    out[key === 'content_type' || key === 'content_length' ? key : `http_${key}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
