/**
 * The `redis` output: each event, encoded by the codec (json by default), pushed to a list (RPUSH, so
 * the redis input reads them in order) or published on a channel, under a key that may hold
 * `%{field}` references. A write resolves once Redis has answered for every event of the batch.
 *
 * While Redis is unreachable a write waits and tries again (the next of `host` each time, as Logstash
 * fails over); it gives up only when the pipeline stops.
 */
import type { PipelineEvent } from '../event.js';
import { encoderFrom } from '../codecs/index.js';
import type { Output, OutputFactory } from '../plugin.js';
import { backoffMs, newRedisClient, type RedisClient } from '../inputs/redis-client.js';
import { sleep } from '../sleep.js';

interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Values in one RPUSH when `batch` is off is 1; when on, `batch_events`; this caps either. */
const MAX_VALUES_PER_COMMAND = 10_000;

export const redisOutput: OutputFactory = (settings, context) => {
  const defaultPort = settings.number('port', 6379, { integer: true, min: 1 });
  const hostTexts = settings.has('host') ? settings.strings('host') : ['127.0.0.1'];
  const hosts = hostTexts.map((text): HostPort => {
    const match = /^(.*?)(?::(\d+))?$/.exec(text.trim());
    const host = match?.[1] ?? '';
    if (host === '') throw settings.error('host', `has an empty host in "${text}"`);
    return { host, port: match?.[2] ? Number(match[2]) : defaultPort };
  });
  if (hosts.length === 0) throw settings.error('host', 'must name at least one host');
  const shuffle = settings.boolean('shuffle_hosts', true);
  const db = settings.number('db', 0, { integer: true, min: 0 });
  const password = settings.string('password');
  const key = settings.template('key');
  if (key === undefined || key.source === '') throw settings.error('key', 'is required: the list or channel, as in key => "logstash-%{type}"');
  const dataType = settings.choice('data_type', ['list', 'channel'], 'list');
  if (!settings.has('data_type')) throw settings.error('data_type', 'is required (list or channel), as in Logstash');
  const batch = settings.boolean('batch', false);
  const batchEvents = settings.number('batch_events', 50, { integer: true, min: 1 });
  const timeoutSeconds = settings.number('timeout', 5, { min: 0.001 });
  const reconnectSeconds = settings.number('reconnect_interval', 1, { min: 0 });
  settings.accept('id', 'enable_metric', 'workers', 'batch_timeout', 'congestion_interval', 'congestion_threshold', 'ssl');
  const encoder = encoderFrom(settings, 'json');
  settings.done();
  if (shuffle) hosts.sort(() => Math.random() - 0.5);

  const label = `output redis ${dataType} ${key.source}`;
  const perCommand = Math.min(batch ? batchEvents : 1, MAX_VALUES_PER_COMMAND);
  let current = 0;
  let client: RedisClient | null = null;

  const connected = async (): Promise<RedisClient> => {
    if (client?.isReady) return client;
    if (!client) {
      const { host, port } = hosts[current];
      const fresh = newRedisClient({ host, port, password, db, timeoutSeconds }, context.logger, label);
      client = fresh;
      // The client's own retries are not waited for: a failed write moves on to the next host.
      fresh.connect().catch(() => {});
    }
    const pending = client;
    await new Promise<void>((resolve, reject) => {
      if (pending.isReady) return resolve();
      const timer = setTimeout(() => {
        pending.off('ready', ready);
        reject(new Error(`no answer from ${hosts[current].host}:${hosts[current].port} within ${timeoutSeconds}s`));
      }, timeoutSeconds * 1000);
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      pending.once('ready', ready);
    });
    return pending;
  };

  const failOver = (): void => {
    const old = client;
    client = null;
    if (old?.isOpen) old.destroy();
    current = (current + 1) % hosts.length;
  };

  const send = async (redis: RedisClient, events: PipelineEvent[]): Promise<void> => {
    const byKey = new Map<string, string[]>();
    for (const event of events) {
      const name = key.render(event);
      const text = encoder.encode(event).replace(/\n$/, '');
      const list = byKey.get(name);
      if (list) list.push(text);
      else byKey.set(name, [text]);
    }
    const replies: Array<Promise<unknown>> = [];
    for (const [name, values] of byKey) {
      if (dataType === 'channel') for (const value of values) replies.push(redis.publish(name, value));
      else for (let i = 0; i < values.length; i += perCommand) replies.push(redis.rPush(name, values.slice(i, i + perCommand)));
    }
    // Commands issued together go out as one pipelined write; all must be answered.
    await Promise.all(replies);
  };

  const output: Output = {
    label,
    async start() {},
    async write(events) {
      if (events.length === 0) return;
      let attempt = 0;
      for (;;) {
        try {
          await send(await connected(), events);
          return;
        } catch (error) {
          // A batch partly pushed before the failure is pushed whole again: at least once.
          if (context.signal.aborted) throw error;
          if (attempt < 20) context.logger.warn(`${label}: ${(error as Error).message}; trying again`);
          failOver();
          await sleep(Math.max(reconnectSeconds * 1000, backoffMs(attempt++)), context.signal);
        }
      }
    },
    async close() {
      const old = client;
      client = null;
      if (old?.isReady) await old.close().catch(() => {});
      else if (old?.isOpen) old.destroy();
    },
  };
  return output;
};
