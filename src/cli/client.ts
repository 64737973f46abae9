/** A small client of the HTTP API for the CLI, with errors that say what to do. */

export class CliError extends Error {}

export interface ClientOptions {
  server: string;
  token?: string;
}

export async function apiRequest(opts: ClientOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  const url = new URL(path, opts.server.endsWith('/') ? opts.server : opts.server + '/');
  const headers = new Headers(init.headers);
  if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach Logmill at ${opts.server} (${cause?.code ?? cause?.message ?? (err as Error).message}). ` +
        'Is `logmill server` running? Point to it with --server URL or LOGMILL_URL.',
    );
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  if (res.status === 401) throw new CliError('the server wants an API token: pass --token or set LOGMILL_TOKEN');
  if (!res.ok) {
    const e = (body as { error?: { message?: string; position?: number } }).error;
    const where = e?.position !== undefined ? ` (at position ${e.position})` : '';
    throw new CliError(`server answered ${res.status}: ${e?.message ?? text}${where}`);
  }
  return body;
}
