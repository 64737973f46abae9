/**
 * A small HTTP client for the elasticsearch output: keep-alive connections to a list of hosts, tried
 * in turn, TLS with a CA of the user's choosing, basic or API-key credentials, gzip on request.
 */
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';

export interface ClientOptions {
  readonly hosts: readonly URL[];
  readonly authorization: string | null;
  readonly ca: Buffer[] | null;
  readonly verify: boolean;
  readonly compress: boolean;
  readonly timeoutMs: number;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly host: string;
}

/** A request that got no HTTP answer at all (refused, reset, timed out). */
export class ConnectionError extends Error {
  constructor(host: string, cause: Error) {
    super(`${host}: ${cause.message}`);
    this.name = 'ConnectionError';
  }
}

export class EsClient {
  private next = 0;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: ClientOptions) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: options.ca ?? undefined, rejectUnauthorized: options.verify });
  }

  /** Sends to the next host in turn, so that load spreads over a cluster's nodes. */
  request(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Answer> {
    const base = this.options.hosts[this.next++ % this.options.hosts.length];
    const url = new URL(path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
    let payload: Buffer | undefined = body === undefined ? undefined : Buffer.from(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = contentType;
      if (this.options.compress) {
        payload = gzipSync(payload);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(payload.length);
    }
    if (this.options.authorization) headers.authorization = this.options.authorization;
    const secure = url.protocol === 'https:';
    const host = `${url.protocol}//${url.host}`;
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent, timeout: this.options.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), host }));
        response.on('error', (error) => reject(new ConnectionError(host, error)));
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on('error', (error) => reject(new ConnectionError(host, error)));
      request.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
