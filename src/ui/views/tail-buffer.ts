/**
 * The live tail's bookkeeping, kept out of Preact state so that thousands of events a second
 * cost an array push each, and the page redraws at most once per animation frame.
 *
 * Every event the server sent ends up in exactly one of three counts, so the page can say
 * what it did with all of them: `shown` (entered the visible list; old rows fall off the top
 * but were shown), `skipped` (arrived faster than a frame could take them, or while paused
 * beyond the pause cap) — plus the server's own `dropped` (events it skipped for this client).
 */
import type { Hit } from '../api.js';

/** Rows kept in memory and in the list; older ones fall off the top. */
export const MAX_ROWS = 2000;
/** Events kept while paused, shown on resume; more are only counted. */
export const PAUSE_CAP = 2000;

export interface TailRow {
  /** Arrival order, the row's stable key. */
  seq: number;
  hit: Hit;
}

export class TailBuffer {
  rows: TailRow[] = [];
  /** Arrived since the last frame, not yet in `rows`. */
  private pending: Hit[] = [];
  /** Kept while paused. */
  private held: Hit[] = [];
  private seq = 0;
  paused = false;
  /** Events that entered the list. */
  shown = 0;
  /** Events received but never put in the list. */
  skipped = 0;
  /** Events received while paused (held or not). */
  pausedCount = 0;
  /** Rows that fell off the top in the last `flush` (the list keeps the user's place with it). */
  lastTrimmed = 0;
  /** Events the server reports it dropped for this client, in total. */
  serverDropped = 0;
  received = 0;

  add(hits: Hit[]): void {
    this.received += hits.length;
    if (this.paused) {
      this.pausedCount += hits.length;
      const room = PAUSE_CAP - this.held.length;
      if (hits.length <= room) this.held.push(...hits);
      else {
        // Keep the oldest held ones, so what is shown on resume has no gap in the middle.
        if (room > 0) this.held.push(...hits.slice(0, room));
        this.skipped += hits.length - Math.max(room, 0);
      }
      return;
    }
    for (const h of hits) this.pending.push(h);
    // A frame never takes more than MAX_ROWS, so older pending ones can be let go now.
    if (this.pending.length > MAX_ROWS * 2) this.dropPending();
  }

  private dropPending(): void {
    const extra = this.pending.length - MAX_ROWS;
    if (extra > 0) {
      this.pending.splice(0, extra);
      this.skipped += extra;
    }
  }

  /** Whether a frame has something to draw. */
  get dirty(): boolean {
    return this.pending.length > 0;
  }

  /** Moves what arrived into the list (once per frame): more than fits is counted as skipped. */
  flush(): void {
    this.dropPending();
    for (const hit of this.pending) this.rows.push({ seq: this.seq++, hit });
    this.shown += this.pending.length;
    this.pending = [];
    const over = this.rows.length - MAX_ROWS;
    this.lastTrimmed = over > 0 ? over : 0;
    if (over > 0) this.rows.splice(0, over);
  }

  pause(): void {
    this.paused = true;
    this.pausedCount = 0;
  }

  resume(): void {
    this.paused = false;
    this.pending.push(...this.held);
    this.held = [];
    this.pausedCount = 0;
  }

  /** A new query: start over. */
  clear(): void {
    const paused = this.paused;
    Object.assign(this, new TailBuffer());
    this.paused = paused;
  }
}
