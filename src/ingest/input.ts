/** What every input gets from the server: where to send events and where to count. */
import type { LogEvent } from '../core/event.js';
import type { Metrics } from '../core/metrics.js';

export interface InputContext {
  /** Resolves once the events are durable. */
  write(events: LogEvent[]): Promise<void>;
  metrics: Metrics;
  maxLineBytes: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface Input {
  readonly name: string;
  /** The address actually bound (a port of 0 picks a free one). */
  address(): string;
  close(): Promise<void>;
}
