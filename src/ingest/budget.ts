/**
 * A bound on the events that stream connections hold at once: decoded and
 * waiting for a batch, or written and not yet durable. Each connection is
 * bounded on its own too, but a flood over many connections must not add up
 * to many times that: a thousand connections share this one budget, and a
 * connection stops reading while the budget is spent (its TCP window then
 * slows the sender) until a write completes and gives room back.
 */
export class IngestBudget {
  private held = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly capacity: number) {}

  /** Events held now, across every connection. */
  get used(): number {
    return this.held;
  }

  get exhausted(): boolean {
    return this.held >= this.capacity;
  }

  add(n: number): void {
    this.held += n;
  }

  release(n: number): void {
    this.held -= n;
    if (this.held < this.capacity && this.waiting.size > 0) {
      // Everyone waiting reads again; whoever finds the budget spent once more waits once more.
      const wake = [...this.waiting];
      this.waiting.clear();
      for (const fn of wake) fn();
    }
  }

  /** Calls `fn` once, when the budget next has room (at once if it has now). */
  whenRoom(fn: () => void): void {
    if (!this.exhausted) fn();
    else this.waiting.add(fn);
  }

  /** Forgets a callback of a connection that went away. */
  cancel(fn: () => void): void {
    this.waiting.delete(fn);
  }
}

/**
 * The budget of all stream inputs of this process, which share one store:
 * four batches of 8,192 events, enough to keep one commit syncing, the next
 * being encoded and the ones after filling, at about 1 KB of heap an event.
 */
export const STREAM_EVENTS_BUDGET = 32_768;
export const sharedStreamBudget = new IngestBudget(STREAM_EVENTS_BUDGET);
