/**
 * Newline-delimited TCP and UDP, as Logstash's tcp/udp inputs with the
 * json_lines/line codecs: JSON objects become events with their fields, other
 * text becomes `message`. TCP is paced by the store (../paced-writer.ts):
 * one write at a time per connection in batches of thousands of events, the
 * next batch decoded meanwhile; reading pauses when that one is full too, so
 * a slow store slows the sender through TCP's window instead of filling memory.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { isUtf8 } from 'node:buffer';
import { addTag, TAG, type LogEvent } from '../../core/event.js';
import { splitHostPort } from '../../core/config.js';
import { decodeLine, lineEvent } from '../lines.js';
import type { Input, InputContext } from '../input.js';
import { PacedWriter } from '../paced-writer.js';
import { LineSplitter, type OnLine } from './line-splitter.js';

const MAX_CONNECTIONS = 1024;

/**
 * One connection's bytes to events: lines split, decoded and gathered in
 * `events` until taken. UTF-8 is checked once per chunk for the lines that lie
 * wholly within it; only lines that span chunks or are truncated (a cut may
 * split a character) are checked on their own.
 */
export class LinesDecoder {
  events: LogEvent[] = [];
  private readonly splitter: LineSplitter;
  private arrivalMicros = 0;
  private chunk: Buffer | null = null;
  /**
   * The whole lines of `chunk` end at or before utf8To and are valid UTF-8 (-1: not known). Lines with
   * `buf === chunk` all begin after any line carried over from earlier chunks, so only the end needs checking.
   */
  private utf8To = -1;
  private readonly onLine: OnLine = (buf, start, end, truncated) => {
    const event = lineEvent(buf, start, end, this.arrivalMicros, buf === this.chunk && !truncated && end <= this.utf8To);
    if (truncated) addTag(event, TAG.truncated);
    this.events.push(event);
  };

  constructor(maxLineBytes: number) {
    this.splitter = new LineSplitter(maxLineBytes);
  }

  /** Decodes the lines completed by `chunk`; their events get `arrivalMicros` unless they carry their own time. */
  push(chunk: Buffer, arrivalMicros: number = Date.now() * 1000): void {
    this.arrivalMicros = arrivalMicros;
    // The whole lines of the chunk lie between the end of a line begun earlier (if any) and the last LF.
    let from = 0;
    if (this.splitter.inLine) {
      const nl = chunk.indexOf(10);
      from = nl < 0 ? -1 : nl + 1;
    }
    const to = from < 0 ? -1 : chunk.lastIndexOf(10);
    this.utf8To = to >= from && isUtf8(chunk.subarray(from, to)) ? to : -1;
    this.chunk = chunk;
    this.splitter.push(chunk, this.onLine);
    this.chunk = null;
  }

  /** At end of stream: a final line without a newline still counts. */
  end(arrivalMicros: number = Date.now() * 1000): void {
    this.arrivalMicros = arrivalMicros;
    this.chunk = null;
    this.splitter.end(this.onLine);
  }

  /** Takes the events gathered so far. */
  take(): LogEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }
}

export async function startTcpLines(listen: string, ctx: InputContext): Promise<Input> {
  const { host, port } = splitHostPort(listen);
  const labels = { input: 'tcp' };
  const sockets = new Set<net.Socket>();
  const writers = new Set<PacedWriter>();
  const server = net.createServer((socket) => {
    if (sockets.size >= MAX_CONNECTIONS) {
      ctx.metrics.inc('logmill_input_connections_refused_total', 'Connections refused at the connection limit', 1, labels);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    ctx.metrics.inc('logmill_input_connections_total', 'Connections accepted', 1, labels);
    const decoder = new LinesDecoder(ctx.maxLineBytes);
    const writer = new PacedWriter(socket, decoder, {
      write: (events) => ctx.write(events),
      written: (n) => ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', n, labels),
      failed: (err) => ctx.log('error', `tcp ${socket.remoteAddress}: could not store events: ${err.message}`),
    });
    writers.add(writer);
    socket.on('data', (chunk: Buffer) => {
      ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', chunk.length, labels);
      decoder.push(chunk);
      writer.received();
    });
    socket.on('end', () => {
      decoder.end();
      writer.end();
      void writer.done.then(() => {
        if (!socket.destroyed) socket.end();
      });
    });
    socket.on('error', (err) => ctx.log('warn', `tcp ${socket.remoteAddress}: ${err.message}`));
    socket.on('close', () => {
      sockets.delete(socket);
      writer.end(); // what was decoded before a reset or close() is still written
      void writer.done.then(() => writers.delete(writer));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    name: 'tcp',
    address: () => {
      const a = server.address() as net.AddressInfo;
      return `${a.address}:${a.port}`;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.allSettled([...writers].flatMap((w) => w.pending));
    },
  };
}

/** UDP has no backpressure: datagrams that arrive while too many events wait for the store are dropped and counted. */
export async function startUdpLines(listen: string, ctx: InputContext, maxQueuedEvents = 100_000): Promise<Input> {
  const { host, port } = splitHostPort(listen);
  const labels = { input: 'udp' };
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let batch: LogEvent[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    timer = null;
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    void ctx.write(events).then(
      () => {
        queued -= events.length;
        ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', events.length, labels);
      },
      (err: Error) => {
        queued -= events.length;
        ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', events.length, labels);
        ctx.log('error', `udp: could not store ${events.length} events: ${err.message}`);
      },
    );
  };
  socket.on('message', (msg) => {
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', msg.length, labels);
    if (queued >= maxQueuedEvents) {
      ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', 1, labels);
      return;
    }
    const arrivalMicros = Date.now() * 1000;
    let start = 0;
    while (start < msg.length) {
      let nl = msg.indexOf(10, start);
      if (nl < 0) nl = msg.length;
      let end = nl;
      if (end > start && msg[end - 1] === 13) end--;
      if (end > start) {
        const r = decodeLine(msg, start, end, { maxLineBytes: ctx.maxLineBytes, arrivalMicros, mode: 'lines' });
        if (r.ok) {
          batch.push(r.event);
          queued++;
        }
      }
      start = nl + 1;
    }
    if (batch.length >= 1000) flush();
    else if (!timer) timer = setTimeout(flush, 5);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  socket.on('error', (err) => ctx.log('warn', `udp: ${err.message}`));
  return {
    name: 'udp',
    address: () => {
      const a = socket.address();
      return `${a.address}:${a.port}`;
    },
    close: async () => {
      if (timer) clearTimeout(timer);
      flush();
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
}
