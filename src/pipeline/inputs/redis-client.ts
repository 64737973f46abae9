/**
 * Connecting to Redis for the redis input and output (the `redis` npm package, v5): reconnects with a
 * growing delay when the server goes away, and keeps the client's error events out of the process's
 * way (an unheard 'error' event would end it), logging a bounded number of them.
 */
import { createClient } from 'redis';
import type { PipelineLogger } from '../plugin.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly db: number;
  /** Seconds to wait for a connection (Logstash's `timeout`). */
  readonly timeoutSeconds: number;
}

const MAX_LOGGED_ERRORS = 20;
/** Reconnect delays grow from 100 ms to this. */
const MAX_BACKOFF_MS = 5_000;

export function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt, 16), MAX_BACKOFF_MS);
}

export function newRedisClient(address: RedisAddress, logger: PipelineLogger, label: string): RedisClient {
  const client = createClient({
    socket: { host: address.host, port: address.port, connectTimeout: address.timeoutSeconds * 1000, reconnectStrategy: (retries: number) => backoffMs(retries) },
    password: address.password,
    database: address.db,
  });
  let logged = 0;
  client.on('error', (error: Error) => {
    if (logged++ < MAX_LOGGED_ERRORS) logger.warn(`${label}: redis ${address.host}:${address.port}: ${error.message}`);
  });
  client.on('ready', () => {
    if (logged > 0) logger.info(`${label}: redis ${address.host}:${address.port} is reachable again`);
    logged = 0;
  });
  return client;
}

/** Text replies of a command that answers a list (EVAL of a script returning items). */
export function textList(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((item) => (Buffer.isBuffer(item) ? item.toString('utf8') : String(item)));
}

