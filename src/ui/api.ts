/**
 * The UI's only way to the server: its public HTTP API, as any other client uses it.
 * The token (when the server requires one) is kept in sessionStorage and sent in the
 * Authorization header, never in a URL, so it does not end up in logs or history.
 */

const TOKEN_KEY = 'logmill.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An error answer of the API: `type` and `message` as the server sends them, plus what else it said (position, expected…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Listeners told when the server answers 401, so the shell can ask for a token. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export type Params = Record<string, string | number | boolean | undefined | null>;

export function queryString(params: Params): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', ...extra };
  const token = getToken();
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: the status says enough */
  }
  const err = (body as { error?: Record<string, unknown> } | null)?.error;
  if (res.status === 401) for (const fn of unauthorizedListeners) fn();
  if (err && typeof err === 'object') {
    const { type, message, ...rest } = err;
    return new ApiError(res.status, String(type ?? 'error'), String(message ?? res.statusText), rest);
  }
  return new ApiError(res.status, 'http', `${res.status} ${res.statusText}`);
}

/** GET a JSON resource; `signal` cancels it (the server stops the query when the connection closes). */
export async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path + queryString(params), { headers: headers(), signal });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** POST, PUT or DELETE with a JSON body (or none). */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }), signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** POST a text body (a pipeline config to validate). */
export async function sendText<T>(path: string, text: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: headers({ 'content-type': 'text/plain' }), body: text, signal });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/**
 * A server-sent-events stream read with fetch (EventSource cannot send the Authorization
 * header). Calls `onEvent` for each event; resolves when the stream ends or `signal` aborts.
 */
export async function streamEvents(
  path: string,
  params: Params,
  onEvent: (event: string, data: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path + queryString(params), { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) onEvent(event, data.join('\n'));
      }
    }
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
}

// ---- Shapes of the API's answers (docs/api.md) ----

/** An event as the API returns it: `_id`, `@timestamp` (ISO-8601), then its flattened fields. */
export type Hit = Record<string, unknown> & { _id: string; '@timestamp': string };

export interface SearchHits {
  /** Exact up to 10,000; beyond, 10,000 with `total_relation: "gte"` (a lower bound). */
  total: number;
  total_relation?: 'eq' | 'gte';
  hits: Hit[];
  cursor: string | null;
}
export interface SearchTable {
  columns: string[];
  rows: unknown[][];
}
export type SearchAnswer = SearchHits | SearchTable;

export interface HistogramAnswer {
  interval: string;
  intervalMs: number;
  buckets: { time: string; count: number }[];
  /** With `by`: the field, and one series per top value (counts aligned with `buckets`); `other` sums the rest. */
  by?: string;
  series?: { value: unknown; counts: number[] }[];
  other?: number[];
}

export type FieldType = 'string' | 'integer' | 'float' | 'boolean' | 'timestamp';
export interface FieldInfo {
  name: string;
  type: FieldType;
  conflicts: FieldType[];
  storage: 'column' | 'overflow';
}
export interface FieldValues {
  field: string;
  type: FieldType;
  conflicts: FieldType[];
  /** Events of the query (in the range) that have the field, and all events of the query. */
  count: number;
  total: number;
  values: { value: unknown; count: number }[];
}

export interface ContextAnswer {
  anchor: Hit;
  /** The fields the context is scoped to, with the anchor's values. */
  by: Record<string, unknown>;
  /** Oldest first, ending just before the anchor. */
  before: Hit[];
  /** Oldest first, starting just after the anchor. */
  after: Hit[];
}

export interface SavedObject<A = Record<string, unknown>> {
  id: string;
  type: 'dashboard' | 'search';
  title: string;
  attributes: A;
  createdAt: string;
  updatedAt: string;
}

export interface InputInfo {
  name: string;
  address: string | null;
  status: string;
  connections: number;
  events: number;
  bytes: number;
  parseFailures: number;
  dropped: number;
  tlsHandshakeFailures: number;
}

export interface PipelineInfo {
  id: string;
  workers: number;
  batchSize: number;
  /** Where the config came from: a file path, or "config.string". */
  source: string;
  /** The configuration as written (null when the server can no longer read its files). */
  config: string | null;
  /** Plugins in config order (inside conditionals too), with the line they start on. */
  plugins: { kind: 'input' | 'filter' | 'output'; name: string; line: number }[];
  /** Since the start: events in, out to outputs, dropped by filters or routed nowhere. Per-plugin counters come with issue 19. */
  counts: { in: number; out: number; filtered: number };
}

export interface ValidateAnswer {
  ok: boolean;
  errors: { message: string; line: number; column: number }[];
}
