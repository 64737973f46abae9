/**
 * The pipelines a server runs (`logmill server -f FILE` or `--pipelines pipelines.yml`): each built
 * and checked before any starts, their listeners checked against each other's and the server's own,
 * then run side by side until the server stops. A pipeline that names no output writes to the store.
 */
import type { LogEvent } from '../core/event.js';
import { LocalPipelineBus } from './bus.js';
import { PipelineEvent, type PipelineObject } from './event.js';
import type { Listener, LocalEs, PipelineHostServices, PipelineLogger, PluginContext } from './plugin.js';
import { UNWATCHED } from './plugin.js';
import { buildPipeline, type Pipeline } from './runtime.js';
import { FilterWorkers } from './workers/pool.js';
import { configText, type PipelineSpec } from './config-files.js';
import { PipelineConfigError } from './settings.js';
import type { ConfigTree, SectionKind, Statement } from './parser/ast.js';

export interface HostOptions {
  writeStore(events: LogEvent[]): Promise<void>;
  localEs: LocalEs | null;
  dataDir: string;
  logger: PipelineLogger;
  /** The server's own listeners, which no pipeline input may take. */
  serverListeners: ReadonlyArray<{ readonly name: string } & Listener>;
}

/** A pipeline that cannot be built or started; its message names the pipeline and the place. */
export class PipelineStartError extends Error {
  override name = 'PipelineStartError';
}

interface Hosted {
  readonly spec: PipelineSpec;
  readonly pipeline: Pipeline;
  /** Its filter workers, when it has filters. */
  workers: FilterWorkers | null;
  running: Promise<void> | null;
}

export interface PipelineDescription {
  id: string;
  workers: number;
  batchSize: number;
  source: string;
  /** The configuration as written (null when its files can no longer be read). */
  config: string | null;
  plugins: { kind: SectionKind; name: string; line: number }[];
  /** Events in, events out to outputs, and events dropped by filters or routed nowhere, since the start. */
  counts: { in: number; out: number; filtered: number };
}

/** Every plugin of a config in the order written, inside conditionals too. */
function pluginsOf(tree: ConfigTree): PipelineDescription['plugins'] {
  const out: PipelineDescription['plugins'] = [];
  const walk = (kind: SectionKind, body: readonly Statement[]): void => {
    for (const s of body) {
      if (s.kind === 'plugin') out.push({ kind, name: s.plugin.name, line: s.plugin.at.line });
      else if (s.kind === 'if') {
        for (const branch of s.branches) walk(kind, branch.body);
        if (s.otherwise) walk(kind, s.otherwise);
      }
    }
  };
  for (const section of tree.sections) walk(section.kind, section.body);
  return out;
}

/** A document in, the documents the pipeline's filters made of it out (none: dropped; more: split or cloned), for `_bulk?pipeline=NAME`. */
export type DocumentTransform = (document: Record<string, unknown>) => Promise<Array<Record<string, unknown>>>;

export class PipelineHost {
  private readonly controller = new AbortController();
  private readonly hosted: Hosted[] = [];

  private constructor(private readonly logger: PipelineLogger) {}

  /** Builds every pipeline (refusing bad configurations and clashing listeners), then starts them. */
  static async start(specs: readonly PipelineSpec[], options: HostOptions): Promise<PipelineHost> {
    const host = await PipelineHost.build(specs, options);
    await host.run();
    return host;
  }

  /**
   * Builds every pipeline and starts its filter workers, but not its inputs: `transform` answers from
   * here on (so that a pipeline's elasticsearch output aimed at the server may name another one from its
   * first event), and `run` starts the inputs.
   */
  static async build(specs: readonly PipelineSpec[], options: HostOptions): Promise<PipelineHost> {
    const host = new PipelineHost(options.logger);
    // The store commits writes that arrive together as one (its own group commit), so each batch goes straight to it.
    const services: PipelineHostServices = { writeStore: options.writeStore, localEs: options.localEs, bus: new LocalPipelineBus(options.logger) };
    for (const spec of specs) {
      const logger = prefixed(options.logger, `[${spec.id}] `);
      const context: PluginContext = { logger, signal: host.controller.signal, stdin: process.stdin, stdout: process.stdout, watchdog: UNWATCHED, dataDir: options.dataDir, host: services, batchSize: spec.batchSize, inFlight: inFlightBatches(spec.workers) };
      let pipeline: Pipeline;
      try {
        pipeline = buildPipeline(spec.tree, context, { defaultOutput: 'logmill', requireInput: false });
      } catch (error) {
        if (error instanceof PipelineConfigError) throw new PipelineStartError(`pipeline "${spec.id}" (${spec.source}): ${error.message}`);
        throw error;
      }
      host.hosted.push({ spec, pipeline, workers: null, running: null });
    }
    checkListeners(host.hosted, options.serverListeners);
    try {
      for (const h of host.hosted) {
        if (!h.pipeline.hasFilters) continue;
        const workers = new FilterWorkers({ tree: h.spec.tree, workers: h.spec.workers, dataDir: options.dataDir, logger: prefixed(options.logger, `[${h.spec.id}] `) });
        h.workers = workers;
        await workers.ready();
        h.pipeline.runFiltersWith((events) => workers.run(events));
      }
    } catch (error) {
      await host.close();
      throw new PipelineStartError(`a filter worker could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    return host;
  }

  /** The pipelines by id, for `_bulk?pipeline=NAME`: the named pipeline's filters over each document. */
  transform(id: string): DocumentTransform | null {
    const hosted = this.hosted.find((h) => h.spec.id === id);
    if (!hosted) return null;
    return async (document) => {
      const hadVersion = '@version' in document;
      const event = new PipelineEvent(document as PipelineObject);
      // In a worker, under its watchdog: a document is written by a stranger, and so may be a runaway match.
      const kept = hosted.workers !== null ? await hosted.workers.run([event]) : hosted.pipeline.filter([event]);
      return kept.map((e) => {
        const out = e.toJSON() as Record<string, unknown>;
        if (!hadVersion && out['@version'] === '1') delete out['@version'];
        return out;
      });
    };
  }

  get ids(): string[] {
    return this.hosted.map((h) => h.spec.id);
  }

  /** Each pipeline as the API lists it: its settings, where its config came from, its plugins in config order and its counts. */
  describe(): PipelineDescription[] {
    return this.hosted.map((h) => ({
      id: h.spec.id,
      workers: h.spec.workers,
      batchSize: h.spec.batchSize,
      source: h.spec.source,
      config: configText(h.spec),
      plugins: pluginsOf(h.spec.tree),
      counts: { ...h.pipeline.counts },
    }));
  }

  /** Stops the inputs, lets the batches under way reach their outputs, closes the outputs. */
  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled(this.hosted.map((h) => h.running));
    await Promise.allSettled(this.hosted.map((h) => h.workers?.close()));
  }

  /** Starts the inputs; fails (having stopped everything) when one fails at once, such as a port another program holds. */
  async run(): Promise<void> {
    let failed: Error | null = null;
    for (const h of this.hosted) {
      if (h.pipeline.inputs.length === 0) {
        this.logger.info(`[${h.spec.id}] pipeline ready: no inputs; it serves _bulk?pipeline=${h.spec.id}`);
        continue;
      }
      h.running = h.pipeline.run().then(
        (counts) => this.logger.info(`[${h.spec.id}] pipeline finished: ${counts.in} event(s) in, ${counts.out} out, ${counts.filtered} dropped by filters or sent nowhere`),
        (error: Error) => {
          failed ??= new PipelineStartError(`pipeline "${h.spec.id}" (${h.spec.source}) stopped: ${error.message}`);
          this.logger.error(`[${h.spec.id}] pipeline stopped: ${error.message}`);
        },
      );
      this.logger.info(`[${h.spec.id}] pipeline started: ${h.pipeline.inputs.length} input(s), ${h.pipeline.outputList.length} output(s)`);
    }
    // A listener that cannot bind (a port another program holds) fails at once: report it as a failed start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (failed) {
      await this.close();
      throw failed;
    }
  }
}

/**
 * How many batches an input keeps on their way. A batch is acknowledged only once its outputs have it
 * durably, which takes a store commit (milliseconds), so a window of one batch per worker would leave
 * the workers waiting on commits: measured on the access-log bench, 2 batches in flight gave 8,000
 * events/s with both the main thread and the worker mostly idle. Sixteen batches of 125 (2,000 events)
 * keep both busy while bounding what an input holds unacknowledged.
 */
export function inFlightBatches(workers: number): number {
  return Math.max(16, workers * 4);
}

function checkListeners(hosted: readonly Hosted[], server: HostOptions['serverListeners']): void {
  const taken: Array<{ name: string } & Listener> = [...server];
  for (const h of hosted) {
    for (const input of h.pipeline.inputs) {
      for (const l of input.listeners ?? []) {
        const name = `pipeline "${h.spec.id}" ${input.label}`;
        const clash = taken.find((t) => t.protocol === l.protocol && t.port === l.port && l.port !== 0 && overlaps(t.host, l.host));
        if (clash) throw new PipelineStartError(`${l.protocol} port ${l.port} is wanted twice: by ${clash.name} (${clash.host}:${clash.port}) and by ${name} (${l.host}:${l.port}); give one of them another port`);
        taken.push({ name, ...l });
      }
    }
  }
}

function overlaps(a: string, b: string): boolean {
  const any = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '';
  const norm = (h: string): string => (h === 'localhost' ? '127.0.0.1' : h.replace(/^\[|\]$/g, ''));
  return any(a) || any(b) || norm(a) === norm(b);
}

function prefixed(logger: PipelineLogger, prefix: string): PipelineLogger {
  return {
    debug: (m) => logger.debug(prefix + m),
    info: (m) => logger.info(prefix + m),
    warn: (m) => logger.warn(prefix + m),
    error: (m) => logger.error(prefix + m),
  };
}
