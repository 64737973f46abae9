/**
 * The `redis` input: events from a Redis list (taken in batches), a channel or a channel pattern, as
 * Logstash's redis input reads them; each item is decoded by the codec (json by default).
 *
 * For a list the delivery is at least once: a batch is moved atomically (one Lua script) from the list
 * into `<key>:processing`, emitted, and removed from there only once `emit` resolved. Whatever a run
 * left in the processing list (it stopped or crashed mid-batch) is emitted again when the next starts.
 * Channels are Redis pub/sub, at most once by nature: what arrives while nobody listens is gone.
 */
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import type { Emit, Input, InputFactory } from '../plugin.js';
import { itemDecoderFrom } from './item-codec.js';
import { backoffMs, newRedisClient, textList, type RedisClient } from './redis-client.js';
import { sleep } from '../sleep.js';

/** Moves up to ARGV[1] items from the head of KEYS[1] to the tail of KEYS[2], atomically, and returns them. */
const TAKE_BATCH = `
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  for i = 1, #items, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
  end
end
return items`;

/** Removes the first occurrence of each delivered item from the processing list. */
const ACK_BATCH = `
for i = 1, #ARGV do redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return #ARGV`;

/** Pub/sub messages held while the pipeline is busy; past this, new ones are dropped (and counted). */
const MAX_QUEUED_MESSAGES = 10_000;
/** How long a blocking wait for a list item lasts, so that a stop is noticed soon. */
const BLOCK_SECONDS = 1;

export const redisInput: InputFactory = (settings, context) => {
  const host = settings.string('host', '127.0.0.1');
  const port = settings.number('port', 6379, { integer: true, min: 1 });
  const password = settings.string('password');
  const db = settings.number('db', 0, { integer: true, min: 0 });
  const key = settings.string('key');
  if (key === undefined || key === '') throw settings.error('key', 'is required: the list or channel to read, as in key => "logstash"');
  const dataType = settings.choice('data_type', ['list', 'channel', 'pattern_channel'], 'list');
  if (!settings.has('data_type')) throw settings.error('data_type', 'is required (list, channel or pattern_channel), as in Logstash');
  const batchCount = settings.number('batch_count', 125, { integer: true, min: 1 });
  const timeoutSeconds = settings.number('timeout', 5, { min: 0.001 });
  settings.accept('threads', 'ssl', 'path', 'command_map');
  const decode = itemDecoderFrom(settings, 'json');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input redis ${host}:${port} ${dataType} ${key}`;

  const toEvents = (items: readonly string[]): PipelineEvent[] =>
    items.flatMap((item) =>
      decode(item).map((fields) => {
        const event = new PipelineEvent(fields);
        decorate(event);
        return event;
      }),
    );

  const input: Input = {
    label,
    async run(emit) {
      const client = newRedisClient({ host, port, password, db, timeoutSeconds }, context.logger, label);
      try {
        await connect(client, context.signal);
        if (dataType === 'list') await readList(client, emit);
        else await readChannel(client, emit);
      } finally {
        if (client.isOpen) client.destroy();
      }
    },
  };

  const connect = async (client: RedisClient, signal: AbortSignal): Promise<void> => {
    // The client retries by itself (with backoff) until the server answers, or the pipeline stops.
    const connecting = client.connect().then(() => undefined);
    // Given up by a stop, the attempt may still fail later: that failure is nobody's to hear.
    connecting.catch(() => {});
    if (signal.aborted) return;
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([connecting, stopped]);
  };

  const readList = async (client: RedisClient, emit: Emit): Promise<void> => {
    const { signal, logger } = context;
    const processing = `${key}:processing`;
    let failures = 0;
    let recovered = false;
    while (!signal.aborted) {
      try {
        if (!recovered) {
          // Batches a previous run took but did not finish: delivered again (at least once).
          for (;;) {
            const left = textList(await client.lRange(processing, 0, batchCount - 1));
            if (left.length === 0 || signal.aborted) break;
            logger.info(`${label}: delivering again ${left.length} item(s) left in ${processing} by an earlier run`);
            await deliver(client, processing, left, emit);
          }
          recovered = true;
        }
        let items = textList(await client.sendCommand(['EVAL', TAKE_BATCH, '2', key, processing, String(batchCount)]));
        if (items.length === 0) {
          // Nothing there: wait for the next item without polling, then take the rest of a batch with it.
          const first = await client.sendCommand(['BLMOVE', key, processing, 'LEFT', 'RIGHT', String(BLOCK_SECONDS)]);
          if (first === null || first === undefined) continue;
          const more = batchCount > 1 ? textList(await client.sendCommand(['EVAL', TAKE_BATCH, '2', key, processing, String(batchCount - 1)])) : [];
          items = [...textList([first]), ...more];
        }
        await deliver(client, processing, items, emit);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (failures++ < 20) logger.warn(`${label}: ${(error as Error).message}; trying again`);
        await sleep(backoffMs(failures), signal);
        // Whatever this batch was, it is in the processing list: recovery delivers it again.
        recovered = false;
      }
    }
  };

  const deliver = async (client: RedisClient, processing: string, items: string[], emit: Emit): Promise<void> => {
    const events = toEvents(items);
    if (events.length > 0) await emit(events);
    await client.sendCommand(['EVAL', ACK_BATCH, '1', processing, ...items]);
  };

  const readChannel = async (client: RedisClient, emit: Emit): Promise<void> => {
    const { signal, logger } = context;
    const queue: string[] = [];
    let dropped = 0;
    let wake: (() => void) | null = null;
    const listener = (message: string): void => {
      if (queue.length >= MAX_QUEUED_MESSAGES) {
        if (dropped++ % 1000 === 0) logger.warn(`${label}: the pipeline is behind; ${dropped} message(s) dropped so far`);
        return;
      }
      queue.push(message);
      wake?.();
    };
    if (dataType === 'channel') await client.subscribe(key, listener);
    else await client.pSubscribe(key, listener);
    signal.addEventListener('abort', () => wake?.(), { once: true });
    while (!signal.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (signal.aborted) resolve();
        });
        wake = null;
        continue;
      }
      await emit(toEvents(queue.splice(0, batchCount)));
    }
    // What arrived and was queued before the stop is still shipped.
    while (queue.length > 0) await emit(toEvents(queue.splice(0, batchCount)));
  };

  return input;
};
