/**
 * `logmill import --pipeline my.conf`: the configuration's filter section over the imported events, in
 * the filter worker threads `logmill pipeline` uses (src/pipeline/workers/pool.ts: a runaway grok is
 * stopped there and its event tagged `_groktimeout`). The configuration's inputs and outputs are not run
 * (import reads the files and the server stores what comes out), which stderr says in one line.
 */
import path from 'node:path';
import { PipelineLoadError, readConfigPath } from '../pipeline/config-files.js';
import type { PipelineEvent } from '../pipeline/event.js';
import type { ConfigTree } from '../pipeline/parser/ast.js';
import { UNWATCHED, type PipelineLogger, type PluginContext } from '../pipeline/plugin.js';
import { buildPipeline } from '../pipeline/runtime.js';
import { PipelineConfigError } from '../pipeline/settings.js';
import { FilterWorkers } from '../pipeline/workers/pool.js';
import { CliError } from './client.js';

export interface ImportFilters {
  /** The events the filters kept (dropped ones left out; split or cloned ones added). */
  run(events: PipelineEvent[]): Promise<PipelineEvent[]>;
  close(): Promise<void>;
}

/** Warnings and errors of the filters (a bad dictionary, a regex timeout) on stderr, as `logmill pipeline` writes them. */
const stderrLogger: PipelineLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => process.stderr.write(`logmill import: pipeline: ${m}\n`),
  error: (m) => process.stderr.write(`logmill import: pipeline: ${m}\n`),
};

export async function startImportFilters(configPath: string, workers: number): Promise<ImportFilters> {
  let whole: ConfigTree;
  try {
    whole = readConfigPath(configPath);
  } catch (error) {
    if (error instanceof PipelineLoadError) throw new CliError(`--pipeline: ${error.message}`);
    throw error;
  }
  const ignored = [...new Set(whole.sections.filter((s) => s.kind !== 'filter').map((s) => s.kind))];
  if (ignored.length > 0) {
    process.stderr.write(`logmill import: ${configPath}: its ${ignored.join(' and ')} section(s) are ignored; import reads the files given and sends what the filters make to the server\n`);
  }
  const tree: ConfigTree = { sections: whole.sections.filter((s) => s.kind === 'filter') };
  const context: PluginContext = {
    logger: stderrLogger,
    signal: new AbortController().signal,
    stdin: process.stdin,
    stdout: process.stderr,
    watchdog: UNWATCHED,
    dataDir: path.resolve(process.env.LOGMILL_DATA ?? 'data'),
  };
  let hasFilters: boolean;
  try {
    // Checks every filter, setting and regular expression here, before any file is read.
    hasFilters = buildPipeline(tree, context, { requireInput: false, defaultOutput: 'stdout' }).hasFilters;
  } catch (error) {
    if (error instanceof PipelineConfigError) throw new CliError(`${configPath}:${error.message}`);
    throw error;
  }
  if (!hasFilters) return { run: async (events) => events, close: async () => undefined };
  const pool = new FilterWorkers({ tree, workers, dataDir: context.dataDir, logger: stderrLogger });
  try {
    await pool.ready();
  } catch (error) {
    await pool.close();
    throw new CliError(`a filter worker could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { run: (events) => pool.run(events), close: () => pool.close() };
}
