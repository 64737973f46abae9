/**
 * The watchdog of a filter worker, in two halves over shared memory. The worker's half notes, at each
 * `arm`, a deadline and the step's number within the batch (steps are counted from 1 per batch, and a
 * batch run again makes the same steps in the same order); the supervisor's half reads them. When a
 * deadline passes, the supervisor stops the worker and runs the batch again in a new one, telling it
 * which step numbers to refuse: `arm` answers false for those, and the filter tags the event instead.
 */
import type { Watchdog } from '../plugin.js';

/** [deadline in ms since the epoch (0: nothing armed), number of the armed step] */
export const WATCH_SLOTS = 2;

export function newWatchSlots(): SharedArrayBuffer {
  return new SharedArrayBuffer(WATCH_SLOTS * Float64Array.BYTES_PER_ELEMENT);
}

const NONE: ReadonlySet<number> = new Set();

export class WorkerWatchdog implements Watchdog {
  private readonly slots: Float64Array;
  private step = 0;
  private refused: ReadonlySet<number> = NONE;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Float64Array(buffer);
  }

  /** A new batch: steps count from 1 again; `refuse` lists those that ran away in earlier runs of it. */
  startBatch(refuse: readonly number[]): void {
    this.step = 0;
    this.refused = refuse.length === 0 ? NONE : new Set(refuse);
    this.slots[0] = 0;
  }

  arm(timeoutMs: number): boolean {
    const step = ++this.step;
    if (this.refused.size > 0 && this.refused.has(step)) return false;
    this.slots[1] = step;
    this.slots[0] = Date.now() + timeoutMs;
    return true;
  }

  disarm(): void {
    this.slots[0] = 0;
  }
}

/** The supervisor's reading of one worker's slots. */
export class WatchReader {
  private readonly slots: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.slots = new Float64Array(buffer);
  }

  /** The number of the step whose deadline passed before `now`, or 0. */
  overdue(now: number): number {
    const deadline = this.slots[0];
    return deadline > 0 && now > deadline ? this.slots[1] : 0;
  }

  clear(): void {
    this.slots[0] = 0;
  }
}
