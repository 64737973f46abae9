/**
 * What the pipeline's thread and its filter workers say to each other. Events cross as their two
 * plain objects (fields and @metadata), which structured clone copies without help.
 */
import type { ConfigTree } from '../parser/ast.js';
import type { PipelineObject } from '../event.js';
import { PipelineEvent } from '../event.js';

export type WireEvent = [fields: PipelineObject, metadata: PipelineObject];

export interface WorkerSetup {
  readonly tree: ConfigTree;
  readonly dataDir: string;
  /** The watchdog's slots (see watchdog.ts), shared with the supervisor. */
  readonly watch: SharedArrayBuffer;
}

export type ToWorker = { readonly kind: 'batch'; readonly id: number; readonly events: WireEvent[]; readonly skip: readonly number[] };

export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly id: number; readonly events: WireEvent[] }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string }
  | { readonly kind: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string };

export function toWire(event: PipelineEvent): WireEvent {
  return [event.fields, event.metadata];
}

export function fromWire([fields, metadata]: WireEvent): PipelineEvent {
  const event = new PipelineEvent(fields);
  Object.assign(event.metadata, metadata);
  return event;
}
