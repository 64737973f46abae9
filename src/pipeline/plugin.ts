/**
 * What every pipeline plugin is: an input produces batches of events, a filter turns a batch into a
 * batch, an output ships a batch and resolves once the batch is safe where it went.
 *
 * An input's `emit` resolves only when every output has taken the batch, so an input that can
 * acknowledge its source (a file offset, a Beats window) does so after the events are delivered.
 */
import type { LogEvent } from '../core/event.js';
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
  /** Guards steps that may run away (a grok match): see `Watchdog`. */
  readonly watchdog: Watchdog;
  /** The directory for state an input keeps between runs (a file input's sincedb), when none is given. */
  readonly dataDir: string;
  /** What the server offers the pipelines it runs; absent when a pipeline runs on its own (`logmill pipeline`). */
  readonly host?: PipelineHostServices;
  /** The pipeline's `pipeline.batch.size`: the most events an input hands on at once (125 when absent). */
  readonly batchSize?: number;
  /** How many batches an input may have on their way at once (see in-flight.ts); 1 when absent. */
  readonly inFlight?: number;
}

/** The server's parts that pipelines inside it use. */
export interface PipelineHostServices {
  /** Writes events to the Logmill store; resolves once they are durable. */
  writeStore(events: LogEvent[]): Promise<void>;
  /** The server's own Elasticsearch-compatible API, reached in-process; null when it is off. */
  readonly localEs: LocalEs | null;
  /** Pipeline-to-pipeline addresses (`pipeline { address => … }` / `pipeline { send_to => … }`). */
  readonly bus: PipelineBus;
}

/** An in-process way to the server's Elasticsearch-compatible API, for `elasticsearch` outputs aimed at it. */
export interface LocalEs {
  /** Whether `url` (from an output's `hosts`) is the server's own Elasticsearch-compatible address. */
  isSelf(url: URL): boolean;
  request(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; body: string }>;
}

/** Where pipelines hand events to each other, by address. */
export interface PipelineBus {
  /** Claims an address for an input; the returned function gives it up. Throws if the address is taken. */
  listen(address: string, receive: Emit): () => void;
  /** Hands events to the pipeline listening at `address`; resolves once that pipeline's outputs have them. */
  send(address: string, events: PipelineEvent[]): Promise<void>;
}

/**
 * A filter calls `arm(timeoutMs)` before a step that may run away (a regular expression that
 * backtracks without end) and `disarm()` after it. Where filters run in worker threads, the pipeline
 * stops a worker whose armed step outlives its time and runs the batch again; on that second run
 * `arm` answers false for the step that ran away, and the filter tags the event instead of running it
 * (grok's `_groktimeout`). Where nothing watches, `arm` always answers true.
 */
export interface Watchdog {
  arm(timeoutMs: number): boolean;
  disarm(): void;
}

export const UNWATCHED: Watchdog = { arm: () => true, disarm: () => {} };

/** An address an input listens on, so that two listeners on one port are refused before either starts. */
export interface Listener {
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
}

export type Emit = (events: PipelineEvent[]) => Promise<void>;

export interface Input {
  readonly label: string;
  /** The addresses it will listen on (known from its settings before it starts). */
  readonly listeners?: readonly Listener[];
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
  /**
   * For a decoder that holds lines back (multiline): the events it holds, handed over now. An input calls
   * it once no bytes have come for `idleFlushMs` (the codec's `auto_flush_interval`).
   */
  flush?(): PipelineObject[];
  readonly idleFlushMs?: number;
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
