/**
 * `logmill pipeline -f FILE` / `-e CONFIG`: runs a Logstash configuration file, as `logstash -f` does.
 * `-t` (`--config-test`) checks it and exits. Log lines go to stderr so that stdout stays the
 * output's (a `stdout {}` output writes there).
 *
 * `logmill pipeline test -f FILE < sample.log`: the configuration's filters over the lines of standard
 * input, each result printed (rubydebug, or one JSON object a line with --json) with its failure tags,
 * so that writing a configuration takes minutes. No inputs or outputs run and no server is needed.
 */
import path from 'node:path';
import readline from 'node:readline';
import type { ConfigTree } from '../pipeline/parser/ast.js';
import { PipelineLoadError, parseText, readConfigPath } from '../pipeline/config-files.js';
import { PipelineEvent } from '../pipeline/event.js';
import { buildPipeline, type Pipeline } from '../pipeline/runtime.js';
import { FilterWorkers } from '../pipeline/workers/pool.js';
import { inFlightBatches } from '../pipeline/host.js';
import { PipelineConfigError, Settings } from '../pipeline/settings.js';
import { UNWATCHED, type PipelineLogger, type PluginContext } from '../pipeline/plugin.js';
import { rubydebugEncoder } from '../pipeline/codecs/rubydebug.js';
import { CliError } from './client.js';

export interface PipelineOptions {
  file?: string;
  config?: string;
  configTest?: boolean;
  logLevel: string;
  /** `-w`: filter worker threads (1 when absent). */
  workers?: number;
  /** `-b`: the most events an input hands on at once. */
  batchSize?: number;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

function contextFor(options: { logLevel: string; workers?: number; batchSize?: number }, signal: AbortSignal): PluginContext {
  const level = LEVELS.indexOf(options.logLevel as (typeof LEVELS)[number]);
  if (level < 0) throw new CliError(`--log-level must be one of ${LEVELS.join(', ')}`);
  return {
    logger: stderrLogger(level),
    signal,
    stdin: process.stdin,
    stdout: process.stdout,
    watchdog: UNWATCHED,
    dataDir: path.resolve(process.env.LOGMILL_DATA ?? 'data'),
    batchSize: options.batchSize,
    inFlight: inFlightBatches(options.workers ?? 1),
  };
}

/** Filter workers for a pipeline with filters: they run under the watchdog, so a runaway grok is stopped and tagged here too. */
async function startWorkers(pipeline: Pipeline, tree: ConfigTree, context: PluginContext, workers: number): Promise<FilterWorkers | null> {
  if (!pipeline.hasFilters) return null;
  const pool = new FilterWorkers({ tree, workers, dataDir: context.dataDir, logger: context.logger });
  try {
    await pool.ready();
  } catch (error) {
    await pool.close();
    throw new CliError(`a filter worker could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  pipeline.runFiltersWith((events) => pool.run(events));
  return pool;
}

export async function runPipelineCommand(options: PipelineOptions): Promise<void> {
  const controller = new AbortController();
  const context = contextFor(options, controller.signal);
  const logger = context.logger;
  const tree = readConfig(options);
  const pipeline = build(tree, context, options.file);
  if (options.configTest) {
    process.stdout.write('Configuration OK\n');
    return;
  }
  let signals = 0;
  const stop = (signal: string): void => {
    signals++;
    if (signals > 1) {
      logger.error(`${signal} again: stopping now; events not yet acknowledged by an output are not delivered`);
      process.exit(1);
    }
    logger.warn(`${signal}: finishing the events under way (${signal} again to stop at once)`);
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const pool = await startWorkers(pipeline, tree, context, options.workers ?? 1);
  logger.info(`pipeline started: ${pipeline.inputs.length} input(s), ${pipeline.outputList.length} output(s)${pool ? `, ${pool.size} filter worker(s)` : ''}`);
  const counts = await pipeline.run().finally(() => pool?.close());
  logger.info(`pipeline finished: ${counts.in} event(s) in, ${counts.out} out, ${counts.filtered} dropped by filters or sent nowhere`);
}

export interface PipelineTestOptions {
  file?: string;
  config?: string;
  json?: boolean;
  logLevel: string;
}

/** The filters over standard input's lines; exit code 2 when any event carries a failure tag (`_…failure`, `_groktimeout`). */
export async function runPipelineTest(options: PipelineTestOptions): Promise<void> {
  const context = contextFor(options, new AbortController().signal);
  const whole = readConfig(options);
  // Only the filters run: inputs and outputs may need certificates, servers or the store, none of which a test has.
  const tree: ConfigTree = { sections: whole.sections.filter((s) => s.kind === 'filter') };
  const pipeline = build(tree, context, options.file, true);
  const pool = await startWorkers(pipeline, tree, context, 1);
  const encoder = rubydebugEncoder(new Settings({ name: 'rubydebug', attributes: [], at: { line: 1, column: 1 } }, 'codec'));
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let read = 0;
  let made = 0;
  let failed = 0;
  const failures = new Map<string, number>();
  for await (const line of lines) {
    read++;
    const input = [new PipelineEvent({ message: line, event: { original: line } })];
    for (const event of pool ? await pool.run(input) : pipeline.filter(input)) {
      made++;
      const tags = event.tags().filter((t) => t.startsWith('_'));
      if (tags.length > 0) failed++;
      for (const t of tags) failures.set(t, (failures.get(t) ?? 0) + 1);
      process.stdout.write(options.json ? `${JSON.stringify(event.toJSON())}\n` : encoder.encode(event));
    }
  }
  await pool?.close();
  const tagged = [...failures].map(([t, n]) => `${t} ${n}`).join(', ');
  process.stderr.write(`${read} line(s) in, ${made} event(s) out, ${failed} with a failure tag${tagged ? ` (${tagged})` : ''}\n`);
  if (failed > 0) process.exitCode = 2;
}

function build(tree: ConfigTree, context: PluginContext, file: string | undefined, filtersOnly = false) {
  try {
    return buildPipeline(tree, context, filtersOnly ? { requireInput: false, defaultOutput: 'stdout' } : {});
  } catch (error) {
    if (error instanceof PipelineConfigError) throw new CliError(`${file ?? 'config'}:${error.message}`);
    throw error;
  }
}

/** `-e` text, or `-f` a file, a glob, or a directory of `*.conf` files read in name order and joined, as Logstash does. */
function readConfig(options: { file?: string; config?: string }): ConfigTree {
  if ((options.file === undefined) === (options.config === undefined)) throw new CliError('give the configuration with -f FILE or -e TEXT (one of them)');
  try {
    if (options.config !== undefined) return parseText(options.config, '-e');
    return readConfigPath(options.file as string);
  } catch (error) {
    if (error instanceof PipelineLoadError) throw new CliError(error.message);
    throw error;
  }
}

function stderrLogger(level: number): PipelineLogger {
  const write = (at: number, name: string) => (message: string) => {
    if (at >= level) process.stderr.write(`[${new Date().toISOString()}] ${name.padEnd(5)} ${message}\n`);
  };
  return { debug: write(0, 'DEBUG'), info: write(1, 'INFO'), warn: write(2, 'WARN'), error: write(3, 'ERROR') };
}
