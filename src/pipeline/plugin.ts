/**
 * What every pipeline plugin is: an input produces batches of events, a filter turns a batch into a
 * batch, an output ships a batch and resolves once the batch is safe where it went.
 *
 * An input's `emit` resolves only when every output has taken the batch, so an input that can
 * acknowledge its source (a file offset, a Beats window) does so after the events are delivered.
 */
import type { PipelineEvent, PipelineObject } from './event.js';
import type { Settings } from './settings.js';

export interface PipelineLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface PluginContext {
  readonly logger: PipelineLogger;
  /** Aborted when the pipeline is told to stop. */
  readonly signal: AbortSignal;
  /** Where inputs such as stdin read from and outputs such as stdout write to (a test may give its own). */
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
}

export type Emit = (events: PipelineEvent[]) => Promise<void>;

export interface Input {
  readonly label: string;
  /** Runs until the input has nothing more (a generator's count, the end of stdin) or the signal aborts. */
  run(emit: Emit): Promise<void>;
}

export interface Filter {
  readonly label: string;
  /** Returns the batch to go on with: the same events changed, fewer, or more (a split). */
  process(events: PipelineEvent[]): PipelineEvent[];
}

export interface Output {
  readonly label: string;
  /** Checks the destination before the first event flows (reachability, templates). */
  start(): Promise<void>;
  write(events: PipelineEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Turns bytes into events' fields. */
export interface Decoder {
  push(chunk: Buffer): PipelineObject[];
  /** What is left when the stream ends (a last line without a newline). */
  end(): PipelineObject[];
}

/** Turns an event into the bytes an output writes. */
export interface Encoder {
  encode(event: PipelineEvent): string;
}

export type InputFactory = (settings: Settings, context: PluginContext) => Input;
export type FilterFactory = (settings: Settings, context: PluginContext) => Filter;
export type OutputFactory = (settings: Settings, context: PluginContext) => Output;
export type DecoderFactory = (settings: Settings) => Decoder;
export type EncoderFactory = (settings: Settings) => Encoder;
