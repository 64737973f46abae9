/**
 * The `http` output: events sent to a URL (which may hold `%{field}` references) as JSON, a JSON array
 * per batch (`json_batch`), a form, or a `message` template, as Logstash's http output does.
 *
 * Retries follow Logstash: a connection failure is tried again `automatic_retries` times at once; with
 * `retry_failed` (the default) a failure or an answer in `retryable_codes` is then tried again with a
 * growing delay until it succeeds or the pipeline stops. Any other answer outside 2xx (and not in
 * `ignorable_codes`) is logged and the event is dropped, as Logstash drops it.
 */
import http from 'node:http';
import https from 'node:https';
import type { PipelineEvent, PipelineValue } from '../event.js';
import type { Output, OutputFactory } from '../plugin.js';
import type { Settings } from '../settings.js';
import type { Template } from '../sprintf.js';
import { sleep } from '../sleep.js';

type Format = 'json' | 'json_batch' | 'ndjson' | 'form' | 'message';
const METHODS = ['post', 'put', 'patch', 'delete', 'get', 'head'] as const;
const CONTENT_TYPES: Record<Format, string> = { json: 'application/json', json_batch: 'application/json', ndjson: 'application/x-ndjson', form: 'application/x-www-form-urlencoded', message: 'text/plain' };
const MAX_BACKOFF_MS = 60_000;
/** An answer's body is read for the log at most this far. */
const MAX_LOGGED_BODY = 512;

interface Request {
  readonly url: string;
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

export const httpOutput: OutputFactory = (settings, context) => {
  const url = settings.template('url');
  if (url === undefined || url.source === '') throw settings.error('url', 'is required, as in url => "http://collector:8080/events"');
  const method = settings.choice('http_method', METHODS, 'post');
  if (!settings.has('http_method')) throw settings.error('http_method', `is required (${METHODS.join(', ')}), as in Logstash`);
  const format = settings.choice<Format>('format', ['json', 'json_batch', 'ndjson', 'form', 'message'], 'json');
  const message = settings.template('message');
  if (format === 'message' && message === undefined) throw settings.error('message', 'is required when format => "message"');
  const headers = settings.pairs('headers').map(([name, value]) => [name, value] as const);
  const contentType = settings.string('content_type', CONTENT_TYPES[format]);
  const retryFailed = settings.boolean('retry_failed', true);
  const automaticRetries = settings.number('automatic_retries', 1, { integer: true, min: 0 });
  const retryable = new Set(numbers(settings, 'retryable_codes', [429, 500, 502, 503, 504]));
  const ignorable = new Set(numbers(settings, 'ignorable_codes', []));
  const poolMax = settings.number('pool_max', 50, { integer: true, min: 1 });
  const poolMaxPerRoute = settings.number('pool_max_per_route', 25, { integer: true, min: 1 });
  const requestTimeoutSeconds = settings.number('request_timeout', 60, { min: 0.001 });
  const keepalive = settings.boolean('keepalive', true);
  const user = settings.string('user');
  const password = settings.string('password');
  if (settings.has('mapping')) throw settings.error('mapping', 'is not supported yet: shape the event with mutate before this output');
  settings.accept('id', 'enable_metric', 'workers', 'connect_timeout', 'socket_timeout', 'cookies', 'follow_redirects', 'validate_after_inactivity', 'proxy');
  settings.done();

  const agentOptions = { keepAlive: keepalive, maxSockets: poolMaxPerRoute, maxTotalSockets: poolMax };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const auth = user !== undefined ? `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` : undefined;
  const label = `output http ${method.toUpperCase()} ${url.source}`;
  let logged = 0;
  const warn = (text: string): void => {
    if (logged++ < 20) context.logger.warn(`${label}: ${text}`);
  };

  const send = (request: Request): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const target = new URL(request.url);
      const secure = target.protocol === 'https:';
      const lib = secure ? https : http;
      const body = method === 'get' || method === 'head' ? '' : request.body;
      const outgoing: Record<string, string> = { 'content-type': contentType };
      for (const [name, value] of headers) outgoing[name.toLowerCase()] = value;
      if (auth) outgoing.authorization = auth;
      if (body !== '') outgoing['content-length'] = String(Buffer.byteLength(body));
      const req = lib.request(target, { method: method.toUpperCase(), headers: outgoing, agent: secure ? agents.https : agents.http, timeout: requestTimeoutSeconds * 1000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_LOGGED_BODY) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, MAX_LOGGED_BODY) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${requestTimeoutSeconds}s`)));
      req.on('error', reject);
      req.end(body);
    });

  /** One request until it is answered for good (or the pipeline stops). */
  const deliver = async (request: Request): Promise<void> => {
    if (!URL.canParse(request.url)) {
      warn(`"${request.url}" is not a URL; the event is dropped`);
      return;
    }
    let attempt = 0;
    let quickRetries = automaticRetries;
    for (;;) {
      let reason: string;
      try {
        const answer = await send(request);
        if ((answer.status >= 200 && answer.status < 300) || ignorable.has(answer.status)) return;
        reason = `answered ${answer.status}: ${answer.body}`;
        if (!retryable.has(answer.status)) {
          warn(`${request.url} ${reason}; the event is dropped (the code is not in retryable_codes)`);
          return;
        }
      } catch (error) {
        reason = (error as Error).message;
        if (quickRetries-- > 0) continue;
      }
      if (!retryFailed) {
        warn(`${request.url} ${reason}; the event is dropped (retry_failed is off)`);
        return;
      }
      if (context.signal.aborted) throw new Error(`${label}: ${reason} (stopping)`);
      warn(`${request.url} ${reason}; trying again`);
      await sleep(Math.min(100 * 2 ** Math.min(attempt++, 16), MAX_BACKOFF_MS), context.signal);
    }
  };

  const requestsOf = (events: PipelineEvent[]): Request[] => {
    if (format !== 'json_batch' && format !== 'ndjson') return events.map((event) => ({ url: url.render(event), body: bodyOf(format, event, message) }));
    const byUrl = new Map<string, PipelineEvent[]>();
    for (const event of events) {
      const target = url.render(event);
      const list = byUrl.get(target);
      if (list) list.push(event);
      else byUrl.set(target, [event]);
    }
    // A batch a request: json_batch as one JSON array, ndjson as one object a line (what Logmill's /api/v1/ingest, Loki's
    // and VictoriaLogs' JSON-lines endpoints take).
    const batchBody = (list: PipelineEvent[]): string => (format === 'ndjson' ? list.map((e) => JSON.stringify(e.toJSON()) + '\n').join('') : JSON.stringify(list.map((e) => e.toJSON())));
    return [...byUrl].map(([target, list]) => ({ url: target, body: batchBody(list) }));
  };

  const output: Output = {
    label,
    async start() {},
    async write(events) {
      // As many at once as the pool has sockets; the batch is done when every request is.
      const requests = requestsOf(events);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < requests.length) await deliver(requests[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(poolMax, requests.length) }, worker));
    },
    async close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
  return output;
};

function bodyOf(format: Format, event: PipelineEvent, message: Template | undefined): string {
  switch (format) {
    case 'message':
      return message?.render(event) ?? '';
    case 'form':
      return formBody(event.toJSON());
    default:
      return JSON.stringify(event.toJSON());
  }
}

/** Top-level fields as `a=1&b=x`; a nested value as its JSON text (Logstash's form format is flat too). */
function formBody(fields: Record<string, PipelineValue>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) form.append(name, typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
  return form.toString();
}

function numbers(settings: Settings, name: string, fallback: number[]): number[] {
  if (!settings.has(name)) return fallback;
  return settings.strings(name).map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 100 || n > 599) throw settings.error(name, `must hold HTTP status codes, not "${text}"`);
    return n;
  });
}
