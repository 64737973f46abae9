/**
 * The `tcp` input: a TCP (or TLS) server whose connections are read through a codec (`line` by
 * default, `json_lines` for loggers such as winston-logstash), as Logstash's tcp input in server mode.
 *
 * The listening socket, its TLS, connection limit and handshake accounting are the ingest layer's
 * (`src/ingest/tls.ts`); the framing is the codec's, as in Logstash, so that `codec => line {
 * delimiter => "|" }` means what it means there. Each connection is paced by the pipeline: reading
 * pauses while its last batch is being emitted, so a slow output slows the sender through TCP's
 * window instead of filling memory. Events get the peer's address in `host` (unless the event
 * brought one) and its port in `port`, as Logstash's legacy (non-ECS) mode does.
 */
import type net from 'node:net';
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import { decoderFrom } from '../codecs/index.js';
import { BATCH_SIZE } from '../batch.js';
import { createStreamServer, listen } from '../../ingest/tls.js';
import type { Decoder, Input, InputFactory } from '../plugin.js';
import { InFlight } from '../in-flight.js';
import { boundedWarn, joinHostPort, listenerContext, listenAddress, plainAddress, runListeners, tlsFromSettings } from './ingest-bridge.js';

const MAX_CONNECTIONS = 1024;

export const tcpInput: InputFactory = (settings, context) => {
  const mode = settings.choice('mode', ['server', 'client'] as const, 'server');
  if (mode === 'client') throw settings.error('mode', 'client is not supported: Logmill\'s tcp input only listens (mode => "server")');
  const address = listenAddress(settings);
  const tls = tlsFromSettings(settings, { enabled: ['ssl_enabled', 'ssl_enable'], defaultClientAuthentication: 'required', sslVerify: true, certificateAliases: ['ssl_cert'] });
  const keepAlive = settings.boolean('tcp_keep_alive', false);
  if (settings.boolean('proxy_protocol', false)) throw settings.error('proxy_protocol', 'is not supported');
  settings.accept('dns_reverse_lookup_enabled');
  const newDecoder = (): Decoder => decoderFrom(settings, 'line');
  newDecoder(); // a wrong codec is a configuration error now, not at the first connection
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input tcp (${joinHostPort(address)})`;

  const input: Input = {
    label,
    listeners: [{ protocol: 'tcp', host: address.host, port: address.port }],
    run: (emit) =>
      runListeners(context.signal, async () => {
        const ctx = listenerContext(context, label);
        const pending = new Set<Promise<void>>();
        const warn = boundedWarn(context.logger, label);
        const stream = createStreamServer({ input: 'pipeline_tcp', tls, maxConnections: MAX_CONNECTIONS }, ctx, (socket) => {
          if (keepAlive) socket.setKeepAlive(true, 60_000);
          serveConnection(socket, newDecoder(), new InFlight(emit, context.inFlight ?? 1), context.batchSize ?? BATCH_SIZE, decorate, warn, pending);
        });
        await listen(stream.server, address.host, address.port);
        return [
          {
            name: 'tcp',
            address: () => stream.address(),
            close: async () => {
              await stream.close();
              await Promise.allSettled([...pending]);
            },
          },
        ];
      }),
  };
  return input;
};

/**
 * Reads one connection through its decoder into batches. Up to the pipeline's in-flight count of batches
 * are on their way at once (so that every filter worker has work from one busy sender); reading pauses
 * while the window is full, so a slow output slows the sender through TCP's window instead of filling
 * memory. A decoder that holds lines back (multiline) is flushed once the connection has been quiet
 * for its `auto_flush_interval`.
 */
function serveConnection(
  socket: net.Socket,
  decoder: Decoder,
  window: InFlight,
  batchSize: number,
  decorate: (event: PipelineEvent) => void,
  warn: (message: string) => void,
  pending: Set<Promise<void>>,
): void {
  const peerHost = plainAddress(socket.remoteAddress);
  const peerPort = socket.remotePort ?? 0;
  let chain: Promise<void> = Promise.resolve();
  let broken = false;
  let idle: NodeJS.Timeout | null = null;
  const toEvent = (fields: ReturnType<Decoder['push']>[number]): PipelineEvent => {
    const event = new PipelineEvent(fields);
    if (!event.has(['host'])) event.set(['host'], peerHost);
    if (!event.has(['port'])) event.set(['port'], peerPort);
    event.metadata.ip_address = peerHost;
    decorate(event);
    return event;
  };
  const track = (p: Promise<void>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const fail = (error: unknown): void => {
    // The pipeline could not take a batch: the connection is closed so the sender knows.
    if (broken) return;
    broken = true;
    warn(`${peerHost}:${peerPort}: ${(error as Error).message}; connection closed`);
    socket.destroy();
  };
  const ship = (objects: ReturnType<Decoder['push']>, last = false): Promise<void> => {
    if ((objects.length === 0 && !last) || broken) return chain;
    socket.pause();
    const run = chain.then(async () => {
      for (let i = 0; i < objects.length; i += batchSize) await window.push(objects.slice(i, i + batchSize).map(toEvent));
      if (last) await window.drain();
    });
    chain = run.then(() => {
      if (!broken && !socket.destroyed) socket.resume();
    }, fail);
    track(chain);
    return chain;
  };
  const armIdleFlush = (): void => {
    if (decoder.idleFlushMs === undefined || decoder.flush === undefined) return;
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => void ship(safely(() => decoder.flush?.() ?? [], warn)), decoder.idleFlushMs);
    idle.unref();
  };
  socket.on('data', (chunk: Buffer) => {
    void ship(safely(() => decoder.push(chunk), warn));
    armIdleFlush();
  });
  socket.on('end', () => {
    if (idle) clearTimeout(idle);
    void ship(safely(() => decoder.end(), warn), true).then(() => {
      if (!socket.destroyed) socket.end();
    });
  });
  socket.on('close', () => {
    if (idle) clearTimeout(idle);
    // Batches still on their way are awaited by the input's close (pending); a rejection there is this connection's.
    track(window.drain().catch(fail));
  });
  socket.on('error', (error) => warn(`${peerHost}:${peerPort}: ${error.message}`));
}

/** A codec that throws on odd bytes must not take the connection's other events down. */
function safely(decode: () => ReturnType<Decoder['push']>, warn: (message: string) => void): ReturnType<Decoder['push']> {
  try {
    return decode();
  } catch (error) {
    warn(`codec failed: ${(error as Error).message}`);
    return [];
  }
}
