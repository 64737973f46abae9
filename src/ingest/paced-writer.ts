/**
 * Hands one stream connection's events to the store in large batches and
 * paces the connection by the store, for the TCP lines and syslog TCP/TLS
 * inputs.
 *
 *  - Up to two writes in flight per connection (the store encodes one while
 *    it syncs the other; it commits them in order), and meanwhile the
 *    connection keeps being read and decoded into the next batch: it never
 *    sits idle waiting for a commit while it has room. At most three batches
 *    are alive per connection: two being written and one being filled.
 *  - Reading pauses (TCP's window then slows the sender) when the batch
 *    being filled reaches `maxPending` events while both writes are in
 *    progress, and resumes as soon as one is done and the batch is taken.
 *  - Every connection draws on one budget of events held (`IngestBudget`):
 *    while it is spent, a connection with a free write slot writes what it
 *    has at once, and one without pauses until a write somewhere completes.
 *  - A batch is written when it holds `batchEvents` events, or when its first
 *    event has waited `lingerMs` (Logstash's pipeline.batch.delay is 50 ms
 *    too), or at the end of the stream: a stream that is flowing makes writes
 *    of thousands of events, a trickle still arrives within `lingerMs`.
 *
 * The writer takes events from `source` (the connection's decoder); call
 * `received()` after each chunk is decoded and `end()` when nothing more
 * will be decoded (end of stream, or the socket closed).
 */
import type net from 'node:net';
import type { LogEvent } from '../core/event.js';
import { type IngestBudget, sharedStreamBudget } from './budget.js';

export interface EventSource {
  /** Events decoded and not yet taken. */
  readonly events: LogEvent[];
  take(): LogEvent[];
}

export interface PacedWriterOptions {
  /** Resolves once the events are durable. */
  write: (events: LogEvent[]) => Promise<void>;
  /** After a successful write. */
  written: (count: number) => void;
  /** A write failed: the connection is destroyed and nothing more is written. */
  failed: (err: Error, count: number) => void;
  /** Write as soon as this many events are waiting (default 8,192). */
  batchEvents?: number;
  /** Write a smaller batch once its first event has waited this long (default 50 ms). */
  lingerMs?: number;
  /** Pause reading while a write is in progress and this many events wait (default 20,000). */
  maxPending?: number;
  /** Shared by the connections of every stream input (default: the process's). */
  budget?: IngestBudget;
}

export const BATCH_EVENTS = 8192;
/** Writes in flight per connection: one being synced, one being encoded. */
export const WRITES_IN_FLIGHT = 2;
export const LINGER_MS = 50;
export const MAX_PENDING_EVENTS = 20_000;

export class PacedWriter {
  private readonly batchEvents: number;
  private readonly lingerMs: number;
  private readonly maxPending: number;
  private readonly budget: IngestBudget;
  /** Decoded events not yet taken that this writer has counted in the budget. */
  private counted = 0;
  /** Writes in flight. */
  private writing = 0;
  private ending = false;
  private broken = false;
  /** When the oldest waiting event was decoded (ms), or -1 when none waits. */
  private pendingSince = -1;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private resolveDone: () => void = () => undefined;
  /** Resolves after end(), once everything decoded has been written (or a write failed). */
  readonly done: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly source: EventSource,
    private readonly opts: PacedWriterOptions,
  ) {
    this.batchEvents = opts.batchEvents ?? BATCH_EVENTS;
    this.lingerMs = opts.lingerMs ?? LINGER_MS;
    this.maxPending = opts.maxPending ?? MAX_PENDING_EVENTS;
    this.budget = opts.budget ?? sharedStreamBudget;
    this.done = new Promise<void>((r) => (this.resolveDone = r));
  }

  /** The write in progress, if any (for an input's close()). */
  get pending(): Promise<void>[] {
    return [...this.inFlight];
  }

  /** Call after each chunk has been decoded into the source. */
  received(): void {
    const n = this.source.events.length;
    if (n === 0 || this.broken) return;
    this.budget.add(n - this.counted);
    this.counted = n;
    if (this.pendingSince < 0) this.pendingSince = Date.now();
    if (this.writing >= WRITES_IN_FLIGHT) {
      if (n >= this.maxPending) this.pause();
      else if (this.budget.exhausted) this.pauseForBudget();
    } else if (n >= this.batchEvents || this.budget.exhausted) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(this.onTimer, this.lingerMs);
    }
  }

  /** Nothing more will be decoded: writes what is left, then resolves `done`. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.writing < WRITES_IN_FLIGHT) this.flush();
  }

  private pause(): void {
    if (!this.socket.isPaused()) this.socket.pause();
  }

  private pauseForBudget(): void {
    if (this.socket.isPaused()) return;
    this.socket.pause();
    this.budget.whenRoom(this.onRoom);
  }

  private readonly onRoom = (): void => {
    // Reading resumes unless this connection's own batch is what is full.
    if (this.socket.isPaused() && !this.ending && !this.socket.destroyed && this.source.events.length < this.maxPending) {
      this.socket.resume();
    }
  };

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.writing < WRITES_IN_FLIGHT) this.flush();
  };

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.broken) return this.resolveDone();
    const events = this.source.take();
    // The taken events stay in the budget until their write is done.
    this.counted = 0;
    this.pendingSince = -1;
    if (events.length === 0) {
      if (this.ending && this.writing === 0) this.resolveDone();
      return;
    }
    this.writing++;
    // The batch is taken: there is room for the next one again, if the budget has some too.
    if (this.socket.isPaused() && !this.ending && !this.socket.destroyed) {
      this.budget.cancel(this.onRoom);
      if (this.budget.exhausted) this.budget.whenRoom(this.onRoom);
      else this.socket.resume();
    }
    // Only the count outlives the call: the store lets go of the events once it has encoded them,
    // before they are durable, and so must this (a batch kept to its commit outlived young-generation GCs).
    const n = events.length;
    const p = this.opts.write(events).then(
      () => {
        this.writing--;
        this.budget.release(n);
        this.opts.written(n);
        this.next();
      },
      (err: unknown) => {
        this.writing--;
        this.budget.release(n);
        if (this.broken) return this.opts.failed(err as Error, n);
        this.broken = true;
        this.budget.cancel(this.onRoom);
        this.source.take();
        this.budget.release(this.counted);
        this.counted = 0;
        this.opts.failed(err as Error, n);
        this.socket.destroy();
        this.resolveDone();
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** After a write: the next batch now if it is due, else when it will be. */
  private next(): void {
    const n = this.source.events.length;
    if (this.ending || n >= this.batchEvents) return this.flush();
    if (n === 0) return;
    const waited = Date.now() - this.pendingSince;
    if (waited >= this.lingerMs) return this.flush();
    if (this.timer === null) this.timer = setTimeout(this.onTimer, this.lingerMs - waited);
  }
}
