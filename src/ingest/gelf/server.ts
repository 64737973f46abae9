/**
 * GELF inputs, as Graylog's: UDP (plain, gzip or zlib, chunked or not), TCP
 * (NUL-delimited frames, optionally over TLS) on the same HOST:PORT, and a
 * handler for GELF over HTTP (`POST /api/v1/gelf`, mounted by the API).
 *
 * Mapping: ./decode.ts turns a payload into flat fields; here `@timestamp`
 * (milliseconds, possibly fractional) becomes the event time exactly, to the
 * microsecond, and the rest goes through eventFromObject. An additional
 * field `_timestamp` stays a plain field `timestamp` (it never sets the event
 * time); `__id` and `__index` (decoded as `_id`, `_index`) become `gelf__id`
 * and `gelf__index`, in the decoder's manner for colliding names: they never
 * set the document id or index.
 *
 * Undecodable payloads (bad JSON, missing host or short_message, a bad
 * level…) are counted in logmill_input_parse_failures_total, logged (rate
 * limited), and stored as an event tagged `_jsonparsefailure` whose message is
 * the payload's text (inflated when it was compressed; cut to maxLineBytes
 * and tagged `_truncated` when longer) and whose `error.message` is the
 * decoder's reason. Nothing a sender sent is silently lost, except:
 *   - UDP chunks of messages that never complete (expired after
 *     chunkTimeoutMs, or evicted to stay within the reassembly budget) and
 *     UDP datagrams that arrive while maxQueuedEvents events wait for the
 *     store: counted in logmill_input_dropped_total;
 *   - malformed chunk headers: counted in logmill_input_parse_failures_total;
 *   - TCP frames longer than maxFrameBytes: skipped up to the next NUL,
 *     counted in logmill_input_dropped_total and logged.
 * Over HTTP a bad payload is refused (400, the decoder's error) and not stored:
 * the sender is told.
 *
 * Metrics labels: input="gelf_udp", "gelf_tcp", "gelf_http". The UDP input also
 * sets gauges logmill_gelf_chunks_pending_bytes and
 * logmill_gelf_chunks_pending_messages, and exposes the assembler's counters
 * through chunkStats().
 */
import dgram from 'node:dgram';
import type net from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { addTag, TAG, type FieldValue, type LogEvent } from '../../core/event.js';
import { splitHostPort } from '../../core/config.js';
import { eventFromObject } from '../../core/normalize.js';
import type { Input, InputContext } from '../input.js';
import { createStreamServer, formatAddress, listen, type TlsOptions } from '../tls.js';
import { GelfChunkAssembler, type GelfChunkAssemblerOptions } from './chunks.js';
import {
  GELF_DEFAULT_MAX_DECOMPRESSED_BYTES,
  decodeGelfPayload,
  detectGelfCompression,
  type GelfDecodeOptions,
  type GelfEvent,
} from './decode.js';

export interface GelfInputOptions {
  /** TLS for the TCP listener (UDP stays plain). */
  tls?: TlsOptions;
  /** TCP connections beyond this are refused. Default 1024. */
  maxConnections?: number;
  /** Largest TCP frame (bytes up to the NUL). Default 2 MiB, as Graylog. */
  maxFrameBytes?: number;
  /** Decoder limits (decompressed size, fields, depth). */
  decode?: GelfDecodeOptions;
  /** Chunk reassembly limits (timeout, messages, bytes). */
  chunks?: GelfChunkAssemblerOptions;
  /** How often incomplete chunked messages are expired. Default 1000 ms. */
  expireIntervalMs?: number;
  /** UDP: events waiting for the store beyond which datagrams are dropped. Default 100 000. */
  maxQueuedEvents?: number;
}

export interface GelfChunkStats {
  pendingBytes: number;
  pendingMessages: number;
  completed: number;
  expired: number;
  evicted: number;
  invalid: number;
  duplicates: number;
}

export interface GelfUdpInput extends Input {
  /** The chunk assembler's state and counters. */
  chunkStats(): GelfChunkStats;
}

export const GELF_DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024;
const DEFAULT_MAX_CONNECTIONS = 1024;
const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Events batched per store write on UDP. */
const UDP_BATCH_EVENTS = 1000;
/** Undecodable payloads logged per interval; later ones are only counted. */
const MAX_LOGGED_FAILURES = 10;
const LOG_INTERVAL_MS = 60_000;

/**
 * UDP and TCP on the same HOST:PORT. With port 0, UDP picks a free port and
 * TCP binds the same one (retrying with another if TCP's is taken).
 */
export async function startGelfInputs(listen_: string, ctx: InputContext, opts: GelfInputOptions = {}): Promise<[GelfUdpInput, Input]> {
  const { host, port } = splitHostPort(listen_);
  const tries = port === 0 ? 10 : 1;
  for (let i = 1; ; i++) {
    const udp = await startGelfUdp(joinHostPort(host, port), ctx, opts);
    const udpPort = splitHostPort(udp.address()).port;
    try {
      const tcp = await startGelfTcp(joinHostPort(host, udpPort), ctx, opts);
      return [udp, tcp];
    } catch (err) {
      await udp.close();
      if (i >= tries || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---------------------------------------------------------------- mapping

/** A decoded GELF message as a LogEvent (see the header for the fields kept apart). */
export function gelfToEvent(gelf: GelfEvent, arrivalMicros: number): LogEvent {
  const rest: Record<string, unknown> = {};
  const plain: [string, FieldValue][] = [];
  let ts = arrivalMicros;
  for (const key of Object.keys(gelf)) {
    const value = gelf[key]!;
    if (key === '@timestamp') {
      if (typeof value === 'number') ts = Math.round(value * 1000);
    } else if (key === 'timestamp') {
      plain.push([key, value]);
    } else if (key === '_id' || key === '_index') {
      rest[`gelf_${key}`] = value;
    } else {
      rest[key] = value;
    }
  }
  const event = eventFromObject(rest, ts);
  for (const [k, v] of plain) event.fields[k] = v;
  return event;
}

/** The stored form of a payload the decoder refused: its text, tagged. */
function failureEvent(payload: Buffer, error: string, ctx: InputContext, maxInflated: number, arrivalMicros: number): LogEvent {
  let text: Buffer | null = payload;
  const compression = detectGelfCompression(payload);
  if (compression !== 'none') {
    try {
      text = compression === 'gzip' ? gunzipSync(payload, { maxOutputLength: maxInflated }) : inflateSync(payload, { maxOutputLength: maxInflated });
    } catch {
      text = null;
    }
  }
  let truncated = false;
  let message: string;
  if (text === null) {
    message = `[undecodable ${compression} GELF payload of ${payload.length} bytes]`;
  } else {
    let end = text.length;
    while (end > 0 && text[end - 1] === 0) end--;
    if (end > ctx.maxLineBytes) {
      end = ctx.maxLineBytes;
      truncated = true;
    }
    message = text.toString('utf8', 0, end);
    if (truncated) message = message.replace(/\uFFFD+$/, '');
  }
  const event: LogEvent = { ts: arrivalMicros, fields: { message, 'error.message': error, tags: [TAG.jsonParseFailure] } };
  if (truncated) addTag(event, TAG.truncated);
  return event;
}

/** Decodes one payload: the event, stored either way; `error` set when the decoder refused it. */
function decodeToEvent(
  payload: Buffer,
  ctx: InputContext,
  opts: GelfInputOptions,
): { event: LogEvent; error: string | null } {
  const arrival = Date.now() * 1000;
  const r = decodeGelfPayload(payload, opts.decode);
  if (r.ok) return { event: gelfToEvent(r.event, arrival), error: null };
  const max = opts.decode?.maxDecompressedBytes ?? GELF_DEFAULT_MAX_DECOMPRESSED_BYTES;
  return { event: failureEvent(payload, r.error, ctx, max, arrival), error: r.error };
}

/** Logs at most MAX_LOGGED_FAILURES messages a minute per input. */
function failureLogger(ctx: InputContext, input: string): (peer: string, error: string) => void {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (peer, error) => {
    const now = Date.now();
    if (now - windowStart > LOG_INTERVAL_MS) {
      if (suppressed > 0) ctx.log('warn', `${input}: ${suppressed} more undecodable payloads in the last minute (not logged)`);
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged < MAX_LOGGED_FAILURES) {
      logged++;
      ctx.log('warn', `${input} ${peer}: ${error}; stored tagged ${TAG.jsonParseFailure}`);
    } else {
      suppressed++;
    }
  };
}

// ---------------------------------------------------------------- UDP

export async function startGelfUdp(listen_: string, ctx: InputContext, opts: GelfInputOptions = {}): Promise<GelfUdpInput> {
  const { host, port } = splitHostPort(listen_);
  const labels = { input: 'gelf_udp' };
  const maxQueued = opts.maxQueuedEvents ?? 100_000;
  const assembler = new GelfChunkAssembler(opts.chunks);
  const logFailure = failureLogger(ctx, 'gelf_udp');
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const writes = new Set<Promise<void>>();
  let batch: LogEvent[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | null = null;
  let lost = 0; // expired + evicted already counted

  const syncChunkMetrics = (): void => {
    const dropped = assembler.expired + assembler.evicted;
    if (dropped > lost) {
      ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', dropped - lost, labels);
      lost = dropped;
    }
    ctx.metrics.set('logmill_gelf_chunks_pending_bytes', 'Bytes held for incomplete chunked GELF messages', assembler.pendingBytes, labels);
    ctx.metrics.set('logmill_gelf_chunks_pending_messages', 'Incomplete chunked GELF messages held', assembler.pendingMessages, labels);
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    const p = ctx.write(events).then(
      () => {
        ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', events.length, labels);
      },
      (err: Error) => {
        ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', events.length, labels);
        ctx.log('error', `gelf_udp: could not store ${events.length} events: ${err.message}`);
      },
    );
    const tracked = p.finally(() => {
      queued -= events.length;
      writes.delete(tracked);
    });
    writes.add(tracked);
  };

  socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', msg.length, labels);
    const isChunk = msg.length >= 2 && msg[0] === 0x1e && msg[1] === 0x0f;
    const r = assembler.push(msg, Date.now());
    if (isChunk) syncChunkMetrics();
    if (r === null) return;
    if (!Buffer.isBuffer(r)) {
      ctx.metrics.inc('logmill_input_parse_failures_total', 'Messages or frames inputs could not decode', 1, labels);
      logFailure(`${rinfo.address}:${rinfo.port}`, r.error);
      return;
    }
    if (queued >= maxQueued) {
      ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', 1, labels);
      return;
    }
    const { event, error } = decodeToEvent(r, ctx, opts);
    if (error !== null) {
      ctx.metrics.inc('logmill_input_parse_failures_total', 'Messages or frames inputs could not decode', 1, labels);
      logFailure(`${rinfo.address}:${rinfo.port}`, error);
    }
    batch.push(event);
    queued++;
    if (batch.length >= UDP_BATCH_EVENTS) flush();
    else if (!timer) timer = setTimeout(flush, 5);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => ctx.log('warn', `gelf_udp: ${err.message}`));
  try {
    // Room for bursts of chunks; the kernel caps it at net.core.rmem_max.
    if (socket.getRecvBufferSize() < UDP_RECV_BUFFER_BYTES) socket.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
  } catch {
    // keep the system's default
  }
  const expiry = setInterval(() => {
    if (assembler.pendingMessages === 0) return;
    assembler.expire(Date.now());
    syncChunkMetrics();
  }, opts.expireIntervalMs ?? 1000);
  expiry.unref();

  return {
    name: 'gelf_udp',
    address: () => formatAddress(socket.address()),
    chunkStats: () => ({
      pendingBytes: assembler.pendingBytes,
      pendingMessages: assembler.pendingMessages,
      completed: assembler.completed,
      expired: assembler.expired,
      evicted: assembler.evicted,
      invalid: assembler.invalid,
      duplicates: assembler.duplicates,
    }),
    close: async () => {
      clearInterval(expiry);
      await new Promise<void>((r) => socket.close(() => r()));
      flush();
      await Promise.allSettled([...writes]);
      assembler.clear();
    },
  };
}

// ---------------------------------------------------------------- TCP

export async function startGelfTcp(listen_: string, ctx: InputContext, opts: GelfInputOptions = {}): Promise<Input> {
  const { host, port } = splitHostPort(listen_);
  const labels = { input: 'gelf_tcp' };
  const maxFrame = opts.maxFrameBytes ?? GELF_DEFAULT_MAX_FRAME_BYTES;
  const logFailure = failureLogger(ctx, 'gelf_tcp');
  const running = new Set<Promise<void>>();
  const stream = createStreamServer(
    { input: 'gelf_tcp', tls: opts.tls, maxConnections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS },
    ctx,
    (socket) => handleGelfConnection(socket, ctx, opts, labels, maxFrame, logFailure, running),
  );
  await listen(stream.server, host, port);
  return {
    name: 'gelf_tcp',
    address: () => stream.address(),
    close: async () => {
      await stream.close();
      await Promise.allSettled([...running]);
    },
  };
}

function handleGelfConnection(
  socket: net.Socket,
  ctx: InputContext,
  opts: GelfInputOptions,
  labels: Record<string, string>,
  maxFrame: number,
  logFailure: (peer: string, error: string) => void,
  running: Set<Promise<void>>,
): void {
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const splitter = new NulSplitter(maxFrame);
  let batch: LogEvent[] = [];
  let writing = false;
  let ended = false;

  const onFrame = (frame: Buffer): void => {
    const { event, error } = decodeToEvent(frame, ctx, opts);
    if (error !== null) {
      ctx.metrics.inc('logmill_input_parse_failures_total', 'Messages or frames inputs could not decode', 1, labels);
      logFailure(peer, error);
    }
    batch.push(event);
  };
  const onOversize = (bytes: number): void => {
    ctx.metrics.inc('logmill_input_dropped_total', 'Messages dropped by inputs', 1, labels);
    ctx.log('warn', `gelf_tcp ${peer}: dropped a frame of more than ${maxFrame} bytes (${bytes} bytes before its NUL)`);
  };

  const drain = async (): Promise<void> => {
    writing = true;
    try {
      while (batch.length > 0) {
        const events = batch;
        batch = [];
        socket.pause();
        try {
          await ctx.write(events);
        } catch (err) {
          ctx.log('error', `gelf_tcp ${peer}: could not store ${events.length} events, closing the connection: ${(err as Error).message}`);
          socket.destroy();
          return;
        }
        ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', events.length, labels);
      }
      if (ended) socket.end();
      else if (!socket.destroyed) socket.resume();
    } finally {
      writing = false;
    }
  };
  const kick = (): void => {
    if (writing || (batch.length === 0 && !ended)) return;
    const p = drain();
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  socket.on('data', (chunk: Buffer) => {
    ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', chunk.length, labels);
    splitter.push(chunk, onFrame, onOversize);
    kick();
  });
  socket.on('end', () => {
    // A last frame without its NUL still counts.
    splitter.end(onFrame, onOversize);
    ended = true;
    kick();
  });
  socket.on('error', (err) => ctx.log('warn', `gelf_tcp ${peer}: ${err.message}`));
}

/**
 * Cuts a byte stream at NUL bytes. A frame longer than `max` is not held: it
 * is skipped up to its NUL and reported with its size.
 */
export class NulSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes of an oversize frame skipped so far, or -1 when not skipping. */
  private skipped = -1;

  constructor(private readonly max: number) {}

  push(chunk: Buffer, onFrame: (frame: Buffer) => void, onOversize: (bytes: number) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const nul = chunk.indexOf(0, start);
      const end = nul < 0 ? chunk.length : nul;
      if (this.skipped >= 0) {
        this.skipped += end - start;
      } else if (this.held + (end - start) > this.max) {
        this.skipped = this.held + (end - start);
        this.parts = [];
        this.held = 0;
      } else if (end > start) {
        this.parts.push(chunk.subarray(start, end));
        this.held += end - start;
      }
      if (nul < 0) break;
      this.emit(onFrame, onOversize);
      start = nul + 1;
    }
  }

  end(onFrame: (frame: Buffer) => void, onOversize: (bytes: number) => void): void {
    if (this.held > 0 || this.skipped >= 0) this.emit(onFrame, onOversize);
  }

  private emit(onFrame: (frame: Buffer) => void, onOversize: (bytes: number) => void): void {
    if (this.skipped >= 0) {
      onOversize(this.skipped);
    } else if (this.held > 0) {
      const frame = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.held);
      if (!isBlank(frame)) onFrame(frame);
    }
    this.parts = [];
    this.held = 0;
    this.skipped = -1;
  }
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

// ---------------------------------------------------------------- HTTP

export type GelfHttpResult =
  | { status: 202; body: { accepted: 1 } }
  | { status: 400 | 500; body: { error: { type: 'bad_request' | 'store_error'; message: string } } };

/**
 * GELF over HTTP: one message per request body, plain JSON or gzip/zlib
 * (recognized from its first bytes, so a body sent with
 * `Content-Encoding: gzip` may be passed still encoded). Resolves once the
 * event is durable: 202, as Graylog answers. A payload the decoder refuses is
 * 400 with its error, and not stored.
 */
export async function gelfHttpHandler(body: Buffer, ctx: InputContext, opts: { decode?: GelfDecodeOptions } = {}): Promise<GelfHttpResult> {
  const labels = { input: 'gelf_http' };
  ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', body.length, labels);
  const r = decodeGelfPayload(body, opts.decode);
  if (!r.ok) {
    ctx.metrics.inc('logmill_input_parse_failures_total', 'Messages or frames inputs could not decode', 1, labels);
    return { status: 400, body: { error: { type: 'bad_request', message: r.error } } };
  }
  try {
    await ctx.write([gelfToEvent(r.event, Date.now() * 1000)]);
  } catch (err) {
    ctx.log('error', `gelf_http: could not store an event: ${(err as Error).message}`);
    return { status: 500, body: { error: { type: 'store_error', message: (err as Error).message } } };
  }
  ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', 1, labels);
  return { status: 202, body: { accepted: 1 } };
}
