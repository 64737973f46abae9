/**
 * `logmill tail QUERY`: the events matching a filter, printed as they are stored, from the
 * server's live tail (GET /api/v1/tail, server-sent events). Runs until interrupted; says on
 * stderr when the server had to skip events because this terminal read too slowly.
 */
import { CliError, type ClientOptions } from './client.js';

export interface TailOptions extends ClientOptions {
  json?: boolean;
  signal?: AbortSignal;
  /** Where lines go (stdout by default). */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

type Hit = Record<string, unknown>;

/** One hit as a line: time, host, program or source, then the message (or the fields when there is none). */
export function formatTailLine(hit: Hit): string {
  const { _id: _i, '@timestamp': ts, host, program, source, message, ...rest } = hit;
  // Syslog's program is `syslog.appname`; other shippers send `program` or only a source file.
  const who = program ?? rest['syslog.appname'] ?? source;
  const text = message !== undefined ? String(message) : JSON.stringify(rest);
  return [String(ts ?? ''), host === undefined ? '-' : String(host), who === undefined ? '-' : `${String(who)}:`, text.replace(/\r?\n/g, '\\n')].join(' ');
}

/** Calls `onEvent` with each server-sent event's name and data (its `data:` lines joined) until the stream ends. */
export async function readServerSentEvents(body: AsyncIterable<Uint8Array>, onEvent: (event: string, data: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      onEvent(event, data.join('\n'));
    }
  }
}

export async function tailCommand(query: string, opts: TailOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const url = new URL('/api/v1/tail', opts.server.endsWith('/') ? opts.server : opts.server + '/');
  url.searchParams.set('q', query);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) return;
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new CliError(`cannot reach Logmill at ${opts.server} (${cause?.code ?? (e as Error).message}). Is \`logmill server\` running? Point to it with --server URL or LOGMILL_URL.`);
  }
  if (res.status === 401) throw new CliError('the server wants an API token: pass --token or set LOGMILL_TOKEN');
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string; position?: number } } | null;
    const where = body?.error?.position !== undefined ? ` (at position ${body.error.position})` : '';
    throw new CliError(`server answered ${res.status}: ${body?.error?.message ?? res.statusText}${where}`);
  }
  try {
    await readServerSentEvents(res.body as unknown as AsyncIterable<Uint8Array>, (event, data) => {
      if (event !== 'hits' || data === '') return;
      const msg = JSON.parse(data) as { hits: Hit[]; dropped: number };
      if (msg.dropped > 0) err.write(`logmill tail: the server skipped ${msg.dropped} event(s) this terminal did not read fast enough\n`);
      out.write(msg.hits.map((h) => (opts.json ? JSON.stringify(h) : formatTailLine(h))).join('\n') + (msg.hits.length ? '\n' : ''));
    });
  } catch (e) {
    if (opts.signal?.aborted) return;
    throw e;
  }
  if (!opts.signal?.aborted) throw new CliError('the server closed the live tail (it may have stopped); run the command again');
}
