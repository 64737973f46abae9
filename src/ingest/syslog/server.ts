/**
 * Syslog network inputs: UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425).
 *
 * Every message goes through parseSyslog (RFC 5424, RFC 3164 and device
 * variants) and becomes one event. Nothing is dropped for being malformed:
 * a message the parser cannot read is stored whole, tagged
 * `_syslogparsefailure` by the parser, and counted; a message longer than
 * maxMessageBytes is stored cut to that length and tagged `_truncated`.
 *
 * Pacing, as in ../tcp/lines-input.ts:
 *  - TCP and TLS: by ../paced-writer.ts: one write at a time per
 *    connection, in batches of thousands of events (or what arrived within
 *    50 ms), the next batch decoded meanwhile; reading pauses when that one
 *    is full too, so a slow store slows the sender through TCP's window.
 *  - UDP has no backpressure: messages are batched (up to 1,000, or for a few
 *    milliseconds) and a bounded number may wait for the store; datagrams
 *    that arrive beyond that are dropped and counted in
 *    `logmill_input_dropped_total{input="syslog_udp"}`.
 *
 * Decisions:
 *  - Framing on TCP/TLS is detected per message by SyslogFrameDecoder
 *    (octet counting or LF/NUL-terminated), so RFC 5425 senders and
 *    traditional ones both work on either port.
 *  - A UDP datagram is one message, except that it is split at every LF that
 *    is followed by `<` and a digit (the start of the next PRI): senders that
 *    pack several messages into a datagram are read correctly, while a
 *    multi-line message (a stack trace) stays one event.
 *  - The event time is the message's own time when it has one between
 *    1970-01-01 and 9999-12-31; a message without a time gets the arrival
 *    time. An earlier time keeps the arrival time, is kept as ISO text in
 *    `_timestamp_invalid` and tagged `_timestampparsefailure`, as
 *    eventFromObject does for unusable times (the store files events by
 *    day and does not cope with years before 1000).
 *  - Parser results are turned into events by syslogEvent(), which gives
 *    what eventFromObject() gives for the parser's flat output (including
 *    field-name repair) without its per-field generic work: this is the hot
 *    path, meant for 150,000 messages/s.
 *  - `host` is the message's HOSTNAME, else the sender's address;
 *    `log.source.address` is always the sender's address (IPv4-mapped IPv6
 *    addresses are written as plain IPv4).
 *  - Counters are summed per chunk or batch and added to the registry once
 *    per flush, not per message.
 *  - TLS: a connection must finish its handshake within handshakeTimeoutMs
 *    (default 10 s) or it is dropped and counted in
 *    `logmill_input_tls_handshake_failures_total`, like any other failed
 *    handshake (bad client certificate, not TLS at all). The connection limit
 *    applies to raw connections, handshakes included, so stalled clients
 *    cannot pile up beyond it.
 *  - `cert`, `key` and `ca` are PEM text, or paths of PEM files when they do
 *    not contain `-----BEGIN`.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { splitHostPort } from '../../core/config.js';
import { addTag, TAG, type FieldValue, type LogEvent } from '../../core/event.js';
import { cleanFieldName, INVALID_TIMESTAMP_FIELD, MAX_FIELD_NAME_BYTES, newFields } from '../../core/normalize.js';
import type { Input, InputContext } from '../input.js';
import { PacedWriter } from '../paced-writer.js';
import { SyslogFrameDecoder } from './framing.js';
import { parseSyslog, parseSyslogFields, SYSLOG_PARSE_FAILURE_TAG, type SyslogParseOptions, type SyslogResult } from './parse.js';

/** TLS settings, as src/ingest/tls.ts defines them. */
export interface SyslogTlsOptions {
  cert: string;
  key: string;
  ca?: string;
  requireClientCert?: boolean;
}

export interface SyslogInputsOptions {
  /** HOST:PORT for RFC 5426 syslog over UDP. */
  udp?: string;
  /** HOST:PORT for RFC 6587 syslog over TCP. */
  tcp?: string;
  /** RFC 5425 syslog over TLS. */
  tls?: { listen: string } & SyslogTlsOptions;
  /** IANA zone for RFC 3164 dates without an offset (default UTC). */
  timeZone?: string;
  /** Longest message stored whole; longer ones are truncated and tagged. Default ctx.maxLineBytes. */
  maxMessageBytes?: number;
  /** Open connections per TCP/TLS listener (default 1024); more are refused and counted. */
  maxConnections?: number;
  /** A TLS client must finish its handshake within this time (default 10,000 ms). */
  handshakeTimeoutMs?: number;
  /** UDP: events that may wait for the store before datagrams are dropped (default 100,000). */
  maxQueuedEvents?: number;
}

export type SyslogInputName = 'syslog_udp' | 'syslog_tcp' | 'syslog_tls';

const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUED_EVENTS = 100_000;
const UDP_BATCH_EVENTS = 1000;
const UDP_FLUSH_MS = 5;
const UDP_RECV_BUFFER_BYTES = 8 * 1024 * 1024;

/** 9999-12-31T23:59:59.999Z: the last instant a 4-digit year can name. */
const MAX_EVENT_MS = 253402300799999;

const H_CONNECTIONS = 'Connections accepted';
const H_REFUSED = 'Connections refused at the connection limit';
const H_EVENTS = 'Events stored durably';
const H_BYTES = 'Bytes received by inputs';
const H_FAILURES = 'Messages that could not be parsed and were stored whole';
const H_TRUNCATED = 'Messages longer than the limit, stored truncated';
const H_DROPPED = 'Messages dropped by inputs';
const H_HANDSHAKE = 'TLS handshakes that failed or timed out';

/**
 * Starts the configured syslog listeners. If one cannot bind, those already
 * started are closed and the error is thrown.
 */
export async function startSyslogInputs(opts: SyslogInputsOptions, ctx: InputContext): Promise<Input[]> {
  const common = commonSettings(opts, ctx);
  const inputs: Input[] = [];
  try {
    if (opts.udp) inputs.push(await startSyslogUdp(opts.udp, common, ctx));
    if (opts.tcp) inputs.push(await startSyslogStream('syslog_tcp', opts.tcp, null, common, ctx));
    if (opts.tls) inputs.push(await startSyslogStream('syslog_tls', opts.tls.listen, opts.tls, common, ctx));
  } catch (err) {
    await Promise.all(inputs.map((i) => i.close().catch(() => undefined)));
    throw err;
  }
  return inputs;
}

interface CommonSettings {
  timeZone: string | undefined;
  maxMessageBytes: number;
  maxConnections: number;
  handshakeTimeoutMs: number;
  maxQueuedEvents: number;
}

function commonSettings(opts: SyslogInputsOptions, ctx: InputContext): CommonSettings {
  return {
    timeZone: opts.timeZone,
    maxMessageBytes: positive(opts.maxMessageBytes, ctx.maxLineBytes > 0 ? ctx.maxLineBytes : 1024 * 1024),
    maxConnections: positive(opts.maxConnections, DEFAULT_MAX_CONNECTIONS),
    handshakeTimeoutMs: positive(opts.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    maxQueuedEvents: positive(opts.maxQueuedEvents, DEFAULT_MAX_QUEUED_EVENTS),
  };
}

function positive(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}

// ---------------------------------------------------------------------------
// parser result -> event

/**
 * The event for one parsed message: what eventFromObject(r, arrivalMicros)
 * gives, without its generic per-field work. Field names other than SD ones
 * are the parser's fixed, clean names; SD names cannot hold control
 * characters (the parser admits printable ASCII only), so only their length
 * needs checking.
 */
export function syslogEvent(r: SyslogResult, arrivalMicros: number): LogEvent {
  const fields = newFields(); // field names are data, never prototype keys
  const event: LogEvent = { ts: arrivalMicros, fields };
  let sanitized = false;
  let badTime = false;
  for (const key in r) {
    const value = r[key as keyof SyslogResult];
    if (value === undefined) continue;
    if (key === '@timestamp') {
      const ms = value as number;
      if (ms >= 0 && ms <= MAX_EVENT_MS) event.ts = Math.round(ms * 1000);
      else if (ms === ms) {
        badTime = true;
        fields[INVALID_TIMESTAMP_FIELD] = Number.isFinite(ms) && ms > -8.64e15 ? new Date(ms).toISOString() : String(ms);
      }
      continue;
    }
    if (key.length > MAX_FIELD_NAME_BYTES) {
      const clean = cleanFieldName(key);
      if (clean !== key) sanitized = true;
      fields[clean] = value as FieldValue;
      continue;
    }
    fields[key] = value as FieldValue;
  }
  if (badTime) addTag(event, TAG.timestampParseFailure);
  if (sanitized) addTag(event, TAG.fieldNameSanitized);
  return event;
}

/**
 * syslogEvent for parseSyslogFields' output (fields without `@timestamp`,
 * the time beside them, no name to repair): the same event without copying
 * the fields.
 */
export function eventWithTime(fields: Record<string, FieldValue>, ms: number, arrivalMicros: number): LogEvent {
  const event: LogEvent = { ts: arrivalMicros, fields };
  if (ms >= 0 && ms <= MAX_EVENT_MS) event.ts = Math.round(ms * 1000);
  else if (ms === ms) {
    fields[INVALID_TIMESTAMP_FIELD] = Number.isFinite(ms) && ms > -8.64e15 ? new Date(ms).toISOString() : String(ms);
    addTag(event, TAG.timestampParseFailure);
  }
  return event;
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`; other addresses unchanged. */
function plainAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.length > 7 && a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function formatAddress(a: net.AddressInfo | string | null): string {
  if (a === null) return '';
  if (typeof a === 'string') return a;
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** At most one line per interval (a scanner can fail thousands of handshakes); says how many were left out. */
function throttledLog(ctx: InputContext, level: 'warn' | 'error', intervalMs: number): (message: string) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    ctx.log(level, suppressed > 0 ? `${message} (and ${suppressed} more since the last report)` : message);
    suppressed = 0;
  };
}

function readPem(v: string): string {
  return v.includes('-----BEGIN') ? v : fs.readFileSync(v, 'utf8');
}

/** Turns frames into events for one connection or socket: per-message state kept in one place. */
export class MessageSink {
  events: LogEvent[] = [];
  failures = 0;
  truncated = 0;
  arrivalMicros = 0;
  readonly parseOpts: SyslogParseOptions;
  private readonly now = new Date();

  constructor(timeZone: string | undefined, receivedFrom: string) {
    this.parseOpts = { now: this.now, receivedFrom };
    if (timeZone !== undefined) this.parseOpts.timeZone = timeZone;
  }

  /** Call once per chunk or datagram before adding its messages. */
  stamp(): void {
    const ms = Date.now();
    this.now.setTime(ms);
    this.arrivalMicros = ms * 1000;
  }

  add(data: Buffer, truncated: boolean): void {
    this.addRange(data, 0, data.length, truncated);
  }

  /** The message `buf[start, end)`. */
  addRange(buf: Buffer, start: number, end: number, truncated: boolean): void {
    const text = buf.toString('utf8', start, end);
    const p = parseSyslogFields(text, this.parseOpts);
    // Names to repair (rare): the general path, which repairs them as eventFromObject does.
    const ev = p.longName ? syslogEvent(parseSyslog(text, this.parseOpts), this.arrivalMicros) : eventWithTime(p.fields, p.time, this.arrivalMicros);
    const tags = ev.fields.tags as string[] | undefined;
    if (tags !== undefined && tags.includes(SYSLOG_PARSE_FAILURE_TAG)) this.failures++;
    if (truncated) {
      addTag(ev, TAG.truncated);
      this.truncated++;
    }
    this.events.push(ev);
  }

  /** Takes the events gathered so far. */
  take(): LogEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Adds and resets the failure and truncation counts. */
  countInto(ctx: InputContext, labels: Record<string, string>): void {
    if (this.failures > 0) ctx.metrics.inc('logmill_input_parse_failures_total', H_FAILURES, this.failures, labels);
    if (this.truncated > 0) ctx.metrics.inc('logmill_input_truncated_total', H_TRUNCATED, this.truncated, labels);
    this.failures = 0;
    this.truncated = 0;
  }
}

// ---------------------------------------------------------------------------
// TCP and TLS

async function startSyslogStream(
  name: 'syslog_tcp' | 'syslog_tls',
  listen: string,
  tlsOpts: SyslogTlsOptions | null,
  s: CommonSettings,
  ctx: InputContext,
): Promise<Input> {
  const { host, port } = splitHostPort(listen);
  const labels = { input: name };
  /** raw connections (TLS handshakes in progress included) and, for TLS, their secure sockets */
  const sockets = new Set<net.Socket>();
  const writers = new Set<PacedWriter>();

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const onConnection = (socket: net.Socket): void => {
    if (tlsOpts !== null) track(socket);
    ctx.metrics.inc('logmill_input_connections_total', H_CONNECTIONS, 1, labels);
    socket.setKeepAlive(true, 60_000);
    const remote = plainAddress(socket.remoteAddress);
    const sink = new MessageSink(s.timeZone, remote);
    const decoder = new SyslogFrameDecoder({
      maxMessageBytes: s.maxMessageBytes,
      onMessage: (buf, start, end, truncated) => {
        if (end > start) sink.addRange(buf, start, end, truncated);
      },
    });
    const writer = new PacedWriter(socket, sink, {
      write: (events) => ctx.write(events),
      written: (n) => ctx.metrics.inc('logmill_events_ingested_total', H_EVENTS, n, labels),
      failed: (err, n) => ctx.log('error', `${name} ${remote}: could not store ${n} events: ${err.message}`),
    });
    writers.add(writer);

    socket.on('data', (chunk: Buffer) => {
      ctx.metrics.inc('logmill_ingest_bytes_total', H_BYTES, chunk.length, labels);
      sink.stamp();
      decoder.push(chunk);
      sink.countInto(ctx, labels);
      writer.received();
    });
    socket.on('end', () => {
      sink.stamp();
      decoder.end();
      sink.countInto(ctx, labels);
      writer.end();
      void writer.done.then(() => {
        if (!socket.destroyed) socket.end();
      });
    });
    socket.on('close', () => {
      writer.end(); // what was decoded before a reset or close() is still written
      void writer.done.then(() => writers.delete(writer));
    });
    socket.on('error', (err) => ctx.log('warn', `${name} ${remote}: ${err.message}`));
  };

  let server: net.Server;
  if (tlsOpts === null) {
    server = net.createServer(onConnection);
  } else {
    const requireCert = tlsOpts.requireClientCert === true;
    const tlsServer = tls.createServer({
      cert: readPem(tlsOpts.cert),
      key: readPem(tlsOpts.key),
      ...(tlsOpts.ca ? { ca: readPem(tlsOpts.ca) } : {}),
      requestCert: requireCert,
      rejectUnauthorized: requireCert,
      handshakeTimeout: s.handshakeTimeoutMs,
    });
    tlsServer.on('secureConnection', onConnection);
    const warn = throttledLog(ctx, 'warn', 10_000);
    tlsServer.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      ctx.metrics.inc('logmill_input_tls_handshake_failures_total', H_HANDSHAKE, 1, labels);
      warn(`${name} ${plainAddress(socket.remoteAddress)}: TLS handshake failed: ${err.message}`);
      socket.destroy();
    });
    server = tlsServer;
  }
  server.on('connection', track);
  // Counts raw connections, TLS handshakes in progress included.
  server.maxConnections = s.maxConnections;
  server.on('drop', () => ctx.metrics.inc('logmill_input_connections_refused_total', H_REFUSED, 1, labels));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => ctx.log('error', `${name}: ${err.message}`));

  let closing: Promise<void> | null = null;
  return {
    name,
    address: () => formatAddress(server.address()),
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        for (const sock of sockets) sock.destroy();
        await closed;
        await Promise.allSettled([...writers].flatMap((w) => w.pending));
      })()),
  };
}

// ---------------------------------------------------------------------------
// UDP

async function startSyslogUdp(listen: string, s: CommonSettings, ctx: InputContext): Promise<Input> {
  const name = 'syslog_udp';
  const { host, port } = splitHostPort(listen);
  const labels = { input: name };
  const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
  const sink = new MessageSink(s.timeZone, '');
  const max = s.maxMessageBytes;
  const inFlight = new Set<Promise<void>>();
  let queued = 0; // events gathered or waiting for the store
  let bytes = 0;
  let datagrams = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const count = (): void => {
    if (bytes > 0) ctx.metrics.inc('logmill_ingest_bytes_total', H_BYTES, bytes, labels);
    if (datagrams > 0) ctx.metrics.inc('logmill_input_datagrams_total', 'Datagrams received', datagrams, labels);
    if (dropped > 0) ctx.metrics.inc('logmill_input_dropped_total', H_DROPPED, dropped, labels);
    bytes = 0;
    datagrams = 0;
    dropped = 0;
    sink.countInto(ctx, labels);
  };

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    count();
    if (sink.events.length === 0) return;
    const events = sink.take();
    const p = ctx.write(events).then(
      () => {
        queued -= events.length;
        ctx.metrics.inc('logmill_events_ingested_total', H_EVENTS, events.length, labels);
      },
      (err: unknown) => {
        queued -= events.length;
        ctx.metrics.inc('logmill_input_dropped_total', H_DROPPED, events.length, labels);
        ctx.log('error', `${name}: could not store ${events.length} events: ${(err as Error).message}`);
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const onTimer = (): void => {
    timer = null;
    flush();
  };

  socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    if (closed) return;
    bytes += msg.length;
    datagrams++;
    if (queued >= s.maxQueuedEvents) {
      dropped++;
      if (timer === null) timer = setTimeout(onTimer, UDP_FLUSH_MS);
      return;
    }
    sink.parseOpts.receivedFrom = plainAddress(rinfo.address);
    sink.stamp();
    const before = sink.events.length;
    const n = msg.length;
    let start = 0;
    while (start < n) {
      // skip transport trailers and blank lines between messages
      let c = msg[start] as number;
      while (c === 10 || c === 13 || c === 0) {
        if (++start >= n) break;
        c = msg[start] as number;
      }
      if (start >= n) break;
      // the message ends at an LF followed by "<digit", or at the end of the datagram
      let end = n;
      let from = start;
      for (;;) {
        const nl = msg.indexOf(10, from);
        if (nl < 0) break;
        const b1 = msg[nl + 1];
        const b2 = msg[nl + 2];
        if (b1 === 60 && b2 !== undefined && b2 >= 48 && b2 <= 57) {
          end = nl;
          break;
        }
        from = nl + 1;
      }
      const len = end - start;
      if (len > max) sink.add(msg.subarray(start, start + max), true);
      else sink.add(start === 0 && end === n ? msg : msg.subarray(start, end), false);
      start = end + 1;
    }
    queued += sink.events.length - before;
    if (sink.events.length >= UDP_BATCH_EVENTS) flush();
    else if (timer === null) timer = setTimeout(onTimer, UDP_FLUSH_MS);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    // More room in the kernel for bursts (capped by net.core.rmem_max).
    if (socket.getRecvBufferSize() < UDP_RECV_BUFFER_BYTES) socket.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
  } catch {
    // keep the system default
  }
  socket.on('error', (err) => ctx.log('warn', `${name}: ${err.message}`));

  let closing: Promise<void> | null = null;
  return {
    name,
    address: () => formatAddress(socket.address()),
    close: () =>
      (closing ??= (async () => {
        closed = true;
        flush();
        await new Promise<void>((r) => socket.close(() => r()));
        await Promise.allSettled([...inFlight]);
      })()),
  };
}
