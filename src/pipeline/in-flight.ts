/**
 * Lets an input have several batches on their way at once (so that the pipeline's filter workers all
 * have work) while its acknowledgements stay in order: `push` waits only when `max` batches are out,
 * and then for the oldest, so an input that records offsets after `push` resolves records them in order.
 */
import type { Emit } from './plugin.js';
import type { PipelineEvent } from './event.js';

export class InFlight {
  private readonly pending: Array<Promise<void>> = [];

  constructor(
    private readonly emit: Emit,
    private readonly max: number,
  ) {}

  /** Hands a batch on; resolves when fewer than `max` batches are still on their way. */
  async push(events: PipelineEvent[]): Promise<void> {
    const delivery = this.emit(events);
    // A rejection is seen by whoever awaits this batch; until then it must not count as unhandled.
    delivery.catch(() => {});
    this.pending.push(delivery);
    while (this.pending.length >= this.max) await this.pending.shift();
  }

  /** Resolves when every batch pushed so far has been delivered. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}
