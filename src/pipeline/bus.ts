/**
 * Pipeline-to-pipeline addresses inside one process, as Logstash's `pipeline` input and output: an
 * input claims an address, outputs send to it. A send resolves once the receiving pipeline's outputs
 * have the events, so acknowledgement runs end to end from the first input to the last output.
 *
 * Each receiver gets its own copy of the events (a `send_to` naming two addresses forks the stream),
 * and a send to an address nobody listens on waits for a listener, as Logstash's `ensure_delivery`.
 */
import type { Emit, PipelineBus, PipelineLogger } from './plugin.js';
import { PipelineEvent, type PipelineObject } from './event.js';

export class LocalPipelineBus implements PipelineBus {
  private readonly receivers = new Map<string, Emit>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly logger: PipelineLogger) {}

  listen(address: string, receive: Emit): () => void {
    if (this.receivers.has(address)) throw new Error(`pipeline address "${address}" is claimed by two pipeline inputs; give each its own address`);
    this.receivers.set(address, receive);
    for (const wake of this.waiting.get(address) ?? []) wake();
    this.waiting.delete(address);
    return () => {
      if (this.receivers.get(address) === receive) this.receivers.delete(address);
    };
  }

  async send(address: string, events: PipelineEvent[]): Promise<void> {
    let receive = this.receivers.get(address);
    if (!receive) {
      this.logger.warn(`pipeline address "${address}" has no pipeline listening; holding ${events.length} event(s) until one does`);
      while (!receive) {
        await new Promise<void>((wake) => {
          const list = this.waiting.get(address) ?? [];
          list.push(wake);
          this.waiting.set(address, list);
        });
        receive = this.receivers.get(address);
      }
    }
    await receive(events.map(copyOf));
  }
}

/** A deep copy: the receiving pipeline's filters must not change what another receiver sees. */
export function copyOf(event: PipelineEvent): PipelineEvent {
  const copy = new PipelineEvent(structuredClone(event.fields) as PipelineObject);
  Object.assign(copy.metadata, structuredClone(event.metadata));
  return copy;
}
