/**
 * The `udp` input: each datagram read through a codec (`plain` by default: one datagram, one event),
 * with the sender's address in `host`, as Logstash's udp input.
 *
 * UDP has no backpressure. Datagrams are gathered for a few milliseconds (or up to a batch) and
 * emitted one batch at a time; while a batch is being emitted the next is gathered, and once
 * `queue_size` events wait, further datagrams are dropped, counted and reported (bounded), as a
 * full Logstash queue drops them too.
 */
import dgram from 'node:dgram';
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import { decoderFrom } from '../codecs/index.js';
import { BATCH_SIZE } from '../batch.js';
import type { Input, InputFactory } from '../plugin.js';
import { boundedWarn, joinHostPort, listenAddress, plainAddress, runListeners } from './ingest-bridge.js';

const FLUSH_MS = 5;
/** The largest UDP payload there is. */
const MAX_DATAGRAM_BYTES = 65_535;

export const udpInput: InputFactory = (settings, context) => {
  const address = listenAddress(settings);
  const bufferSize = settings.number('buffer_size', 65_536, { integer: true, min: 1 });
  const queueSize = settings.number('queue_size', 2000, { integer: true, min: 1 });
  const receiveBufferBytes = settings.number('receive_buffer_bytes', 0, { integer: true, min: 0 });
  const sourceField = settings.fieldPath('source_ip_fieldname', settings.string('source_ip_fieldname', 'host'));
  settings.accept('workers');
  const decoder = decoderFrom(settings, 'plain');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input udp (${joinHostPort(address)})`;
  const warn = boundedWarn(context.logger, label);

  const input: Input = {
    label,
    listeners: [{ protocol: 'udp', host: address.host, port: address.port }],
    run: (emit) =>
      runListeners(context.signal, async () => {
        const socket = dgram.createSocket(address.host.includes(':') ? 'udp6' : 'udp4');
        let gathered: PipelineEvent[] = [];
        let emitting: Promise<void> | null = null;
        let timer: NodeJS.Timeout | null = null;
        let dropped = 0;

        const flush = (): void => {
          if (timer) clearTimeout(timer);
          timer = null;
          if (emitting || gathered.length === 0) return;
          const batch = gathered.splice(0, BATCH_SIZE);
          emitting = emit(batch)
            .catch((error: unknown) => warn(`${batch.length} events lost: ${(error as Error).message}`))
            .finally(() => {
              emitting = null;
              if (gathered.length > 0) flush();
            });
        };

        socket.on('message', (message, peer) => {
          if (gathered.length >= queueSize) {
            dropped++;
            if (dropped === 1 || dropped % 10_000 === 0) warn(`queue of ${queueSize} events is full: ${dropped} datagram(s) dropped so far`);
            return;
          }
          // Logstash reads at most buffer_size bytes of a datagram; the rest is lost there too.
          const payload = message.length > bufferSize ? message.subarray(0, bufferSize) : message;
          let objects: ReturnType<typeof decoder.push>;
          try {
            objects = [...decoder.push(payload), ...decoder.end()];
          } catch (error) {
            warn(`codec failed on a datagram from ${peer.address}: ${(error as Error).message}`);
            return;
          }
          for (const fields of objects) {
            const event = new PipelineEvent(fields);
            if (!event.has(sourceField)) event.set(sourceField, plainAddress(peer.address));
            decorate(event);
            gathered.push(event);
          }
          if (gathered.length >= BATCH_SIZE) flush();
          else if (!timer) timer = setTimeout(flush, FLUSH_MS);
        });
        socket.on('error', (error) => warn(error.message));
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(address.port, address.host, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        if (receiveBufferBytes > 0) {
          try {
            socket.setRecvBufferSize(Math.max(receiveBufferBytes, MAX_DATAGRAM_BYTES));
          } catch (error) {
            warn(`receive_buffer_bytes: ${(error as Error).message}`);
          }
        }
        return [
          {
            name: 'udp',
            address: () => `${socket.address().address}:${socket.address().port}`,
            close: async () => {
              await new Promise<void>((r) => socket.close(() => r()));
              // What was gathered before the stop is still emitted.
              while (gathered.length > 0 || emitting) {
                flush();
                await emitting;
              }
              if (timer) clearTimeout(timer);
            },
          },
        ];
      }),
  };
  return input;
};
