/**
 * Beats input: a Lumberjack v2 (and v1) server, as Logstash's beats input,
 * for Filebeat, Winlogbeat, Metricbeat… and logstash-forwarder-style v1
 * senders. Optionally over TLS (../tls.ts).
 *
 * Acknowledgement is the protocol's durability contract: an ACK for seq N
 * tells the sender it may forget every event of the window up to N. So an
 * ACK is written only after `ctx.write` resolved for those events, and the
 * connection is paused while a write is under way (backpressure: a slow store
 * slows the senders through TCP's window instead of filling memory).
 *
 * Per connection:
 *   - A window ('W' n) is complete after n data frames; its final ACK carries
 *     the seq of its last frame (go-lumber sends seq 1..n and waits for n).
 *   - Every complete window that is decoded when the input runs dry is written
 *     in one store write, then the ACKs of all of them are sent, in order
 *     (senders that pipeline windows get one durable write per burst, not one
 *     per window).
 *   - A window still open with `maxPendingEvents` events held is written
 *     and partially acknowledged (ACK of its last seq so far; go-lumber's
 *     clients read ACKs until the window's count is reached, as Logstash's
 *     own Java client does).
 *   - While a write is under way, a keepalive ACK is sent every `keepaliveMs`
 *     (default 5 s): the seq already acknowledged in the oldest window still
 *     waiting, i.e. 0 unless it was partially acknowledged — Logstash sends 0
 *     and go-lumber's server sends 0 for the same purpose. It only resets the
 *     sender's read timeout (Filebeat's `timeout`, 30 s by default) and never
 *     acknowledges anything new.
 *   - Data frames outside any window (v1 senders that announce one window and
 *     then stream with increasing seqs, or frames after a window completed)
 *     are written when the input runs dry and acknowledged with the last seq.
 *   - A window of 0 is acknowledged with seq 0 at once (as Logstash does).
 *   - A new window announced before the previous one completed closes the
 *     previous one: its events are written and acknowledged as they are.
 *   - A non-fatal decode error (one data frame whose JSON is invalid or not an
 *     object) is counted in logmill_input_parse_failures_total, logged (the
 *     first 10 per connection), and stored as an event tagged
 *     `_jsonparsefailure` whose message is the decoder's error (the decoder
 *     does not hand back the frame's bytes); its seq is acknowledged like any
 *     other, so the window completes.
 *   - A fatal error (bytes that cannot be framed: bad version, unknown type,
 *     a length or window over the limits, a compressed frame that does not
 *     inflate) is logged with the peer's address, counted in
 *     logmill_input_protocol_errors_total, and closes this connection only.
 *     Windows already complete are written and acknowledged first; the events
 *     of the window in progress are dropped unacknowledged: the sender resends
 *     them, and a window that always fails does not pile up duplicates.
 *   - The sender's FIN (half-close): everything held is written, acknowledged
 *     (partially, for an unfinished window), and the connection is ended.
 *   - A connection that closes abruptly loses only unacknowledged events,
 *     which the sender still holds.
 */
import type net from 'node:net';
import { TAG, type LogEvent } from '../../core/event.js';
import { splitHostPort } from '../../core/config.js';
import { eventFromObject } from '../../core/normalize.js';
import type { Input, InputContext } from '../input.js';
import { createStreamServer, listen, type TlsOptions } from '../tls.js';
import {
  LumberjackDecoder,
  beatsEventToFields,
  encodeAck,
  type LumberjackDecoderOptions,
  type LumberjackFrame,
  type LumberjackVersion,
} from './protocol.js';

export interface BeatsInputOptions {
  tls?: TlsOptions;
  /** Open connections (handshaking ones included) beyond this are refused. Default 1024. */
  maxConnections?: number;
  /** Interval of keepalive ACKs while a write is under way. Default 5000 ms. */
  keepaliveMs?: number;
  /** Events held for one connection before they are written and partially acknowledged. Default 4096. */
  maxPendingEvents?: number;
  /** Limits of the frame decoder (frame size, window size, inflated size). */
  decoder?: LumberjackDecoderOptions;
}

export interface BeatsInput extends Input {
  /** Connections currently open (TLS ones once their handshake succeeded). */
  connections(): number;
}

export const BEATS_DEFAULT_MAX_CONNECTIONS = 1024;
export const BEATS_DEFAULT_KEEPALIVE_MS = 5000;
export const BEATS_DEFAULT_MAX_PENDING_EVENTS = 4096;
/** Non-fatal decode errors logged per connection; later ones are only counted. */
const MAX_LOGGED_PARSE_FAILURES = 10;

export async function startBeatsInput(listen_: string, ctx: InputContext, opts: BeatsInputOptions = {}): Promise<BeatsInput> {
  const { host, port } = splitHostPort(listen_);
  const labels = { input: 'beats' };
  const settings: ConnectionSettings = {
    keepaliveMs: opts.keepaliveMs ?? BEATS_DEFAULT_KEEPALIVE_MS,
    maxPendingEvents: Math.max(1, opts.maxPendingEvents ?? BEATS_DEFAULT_MAX_PENDING_EVENTS),
    decoder: opts.decoder ?? {},
  };
  const connections = new Set<BeatsConnection>();
  const running = new Set<Promise<void>>();
  const stream = createStreamServer(
    { input: 'beats', tls: opts.tls, maxConnections: opts.maxConnections ?? BEATS_DEFAULT_MAX_CONNECTIONS },
    ctx,
    (socket) => {
      const conn = new BeatsConnection(socket, ctx, settings, labels, (p) => {
        running.add(p);
        void p.finally(() => running.delete(p));
      });
      connections.add(conn);
      socket.once('close', () => connections.delete(conn));
    },
  );
  await listen(stream.server, host, port);
  return {
    name: 'beats',
    address: () => stream.address(),
    connections: () => connections.size,
    close: async () => {
      await stream.close();
      // Writes already handed to the store finish (their events are stored; the ACKs can no longer be sent).
      await Promise.allSettled([...running]);
    },
  };
}

interface ConnectionSettings {
  keepaliveMs: number;
  maxPendingEvents: number;
  decoder: LumberjackDecoderOptions;
}

/** The window being received. `size` null: frames outside any window. */
interface Window {
  version: LumberjackVersion;
  size: number | null;
  count: number;
  lastSeq: number;
  /** Highest seq of this window already acknowledged. */
  ackedSeq: number;
  /** Events of this window held in `pending` (always its tail), not yet written. */
  unwritten: number;
}

interface AckToSend {
  version: LumberjackVersion;
  seq: number;
  /** What the window had been acknowledged up to before this ACK (for keepalives). */
  before: number;
}

class BeatsConnection {
  private readonly decoder: LumberjackDecoder;
  private readonly peer: string;
  private queue: LumberjackFrame[] = [];
  private head = 0;
  /** Decoded events not yet written: those of complete windows, then those of `win`. */
  private pending: LogEvent[] = [];
  /** Final ACKs of complete windows whose events are in `pending` (or were written already). */
  private ready: AckToSend[] = [];
  private win: Window | null = null;
  /** Seq of the last ACK sent or queued: where frames outside any window continue from. */
  private lastAckSeq = 0;
  private running = false;
  private ended = false;
  private dead = false;
  private parseFailures = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly ctx: InputContext,
    private readonly settings: ConnectionSettings,
    private readonly labels: Record<string, string>,
    private readonly track: (p: Promise<void>) => void,
  ) {
    this.decoder = new LumberjackDecoder(settings.decoder);
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.kick();
    });
    socket.on('error', (err) => ctx.log('warn', `beats ${this.peer}: ${err.message}`));
    socket.on('close', () => {
      this.dead = true;
    });
  }

  private onData(chunk: Buffer): void {
    this.ctx.metrics.inc('logmill_ingest_bytes_total', 'Bytes received by inputs', chunk.length, this.labels);
    if (this.dead) return;
    const frames = this.decoder.push(chunk);
    for (let i = 0; i < frames.length; i++) this.queue.push(frames[i]!);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.dead) return;
    this.track(this.run());
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        while (this.head < this.queue.length) {
          const frame = this.queue[this.head++]!;
          if (frame.type === 'error' && frame.fatal) {
            await this.fatal(frame.message);
            return;
          }
          this.handle(frame);
          if (this.pending.length >= this.settings.maxPendingEvents && !(await this.flush())) return;
        }
        this.queue = [];
        this.head = 0;
        if (this.ended) {
          for (const f of this.decoder.end()) {
            if (f.type === 'error') this.ctx.log('warn', `beats ${this.peer}: ${f.message}`);
          }
          if (!(await this.flush())) return;
          this.socket.end();
          return;
        }
        const implicit = this.win !== null && this.win.size === null && this.win.unwritten > 0;
        if (this.ready.length > 0 || implicit) {
          if (!(await this.flush())) return;
          if (this.head < this.queue.length || this.ended) continue; // more arrived meanwhile
        }
        return;
      }
    } catch (err) {
      this.ctx.log('error', `beats ${this.peer}: ${(err as Error).message}`);
      this.socket.destroy();
    } finally {
      this.running = false;
    }
  }

  private handle(frame: LumberjackFrame): void {
    switch (frame.type) {
      case 'window': {
        const w = this.win;
        if (w !== null && w.unwritten > 0) {
          // The previous window (or frames outside any) ends here, short of its announced size.
          this.queueAck(w);
        }
        this.win = null;
        if (frame.size === 0) {
          this.ready.push({ version: frame.version, seq: 0, before: 0 });
          this.lastAckSeq = 0;
        } else {
          this.win = { version: frame.version, size: frame.size, count: 0, lastSeq: 0, ackedSeq: 0, unwritten: 0 };
        }
        return;
      }
      case 'data':
        this.add(frame.version, frame.seq, eventFromObject(beatsEventToFields(frame.event), Date.now() * 1000));
        return;
      case 'error': {
        if (frame.fatal) return; // handled by run()
        this.ctx.metrics.inc('logmill_input_parse_failures_total', 'Messages or frames inputs could not decode', 1, this.labels);
        this.parseFailures++;
        if (this.parseFailures <= MAX_LOGGED_PARSE_FAILURES) {
          const more = this.parseFailures === MAX_LOGGED_PARSE_FAILURES ? ' (further ones on this connection are only counted)' : '';
          this.ctx.log('warn', `beats ${this.peer}: ${frame.message}; stored tagged ${TAG.jsonParseFailure}${more}`);
        }
        this.add(frame.version, frame.seq, {
          ts: Date.now() * 1000,
          fields: { message: frame.message, tags: [TAG.jsonParseFailure] },
        });
        return;
      }
      case 'ack':
        return; // only decoded with allowAck; a server has nothing to do with it
    }
  }

  private add(version: LumberjackVersion, seq: number, event: LogEvent): void {
    let w = this.win;
    if (w === null) {
      w = this.win = { version, size: null, count: 0, lastSeq: this.lastAckSeq, ackedSeq: this.lastAckSeq, unwritten: 0 };
    }
    this.pending.push(event);
    w.count++;
    w.lastSeq = seq;
    w.unwritten++;
    if (w.size !== null && w.count >= w.size) {
      this.queueAck(w);
      this.win = null;
    }
  }

  /** The final ACK of a window whose events are all held or written. */
  private queueAck(w: Window): void {
    this.ready.push({ version: w.version, seq: w.lastSeq, before: w.ackedSeq });
    this.lastAckSeq = w.lastSeq;
    w.unwritten = 0;
  }

  /**
   * Writes every held event, then sends the ACKs of complete windows and a
   * partial ACK for the window in progress. False if the connection is gone.
   */
  private async flush(): Promise<boolean> {
    const events = this.pending;
    const acks = this.ready;
    this.pending = [];
    this.ready = [];
    const w = this.win;
    if (w !== null && w.unwritten > 0) {
      acks.push({ version: w.version, seq: w.lastSeq, before: w.ackedSeq });
      this.lastAckSeq = w.lastSeq;
    }
    if (events.length > 0) {
      const oldest = acks[0];
      this.socket.pause();
      const keepalive =
        oldest === undefined
          ? null
          : setInterval(() => {
              if (!this.dead && this.socket.writable) this.socket.write(encodeAck(oldest.version, oldest.before));
            }, this.settings.keepaliveMs);
      try {
        await this.ctx.write(events);
      } catch (err) {
        this.ctx.log('error', `beats ${this.peer}: could not store ${events.length} events, closing the connection unacknowledged: ${(err as Error).message}`);
        this.socket.destroy();
        return false;
      } finally {
        if (keepalive) clearInterval(keepalive);
      }
      this.ctx.metrics.inc('logmill_events_ingested_total', 'Events stored durably', events.length, this.labels);
    }
    if (w !== null) {
      w.ackedSeq = w.lastSeq;
      w.unwritten = 0;
    }
    if (this.dead) return false;
    if (acks.length > 0) {
      this.socket.write(acks.length === 1 ? encodeAck(acks[0]!.version, acks[0]!.seq) : Buffer.concat(acks.map((a) => encodeAck(a.version, a.seq))));
    }
    this.socket.resume();
    return true;
  }

  private async fatal(message: string): Promise<void> {
    this.ctx.metrics.inc('logmill_input_protocol_errors_total', 'Connections closed on a protocol error', 1, this.labels);
    this.ctx.log('error', `beats ${this.peer}: ${message}; closing the connection`);
    const w = this.win;
    if (w !== null && w.unwritten > 0) {
      if (w.size === null) {
        // Frames outside any window are complete in themselves: keep them.
        this.queueAck(w);
      } else {
        this.pending.length -= w.unwritten; // unacknowledged: the sender resends them
      }
    }
    this.win = null;
    if (this.pending.length > 0 || this.ready.length > 0) await this.flush();
    this.socket.destroy();
  }
}
