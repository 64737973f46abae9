/**
 * `logmill pipeline -f FILE` / `-e CONFIG`: runs a Logstash configuration file, as `logstash -f` does.
 * `-t` (`--config-test`) checks it and exits. Log lines go to stderr so that stdout stays the
 * output's (a `stdout {}` output writes there).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigSyntaxError, type ConfigTree } from '../pipeline/parser/ast.js';
import { parseConfig } from '../pipeline/parser/parse.js';
import { buildPipeline } from '../pipeline/runtime.js';
import { PipelineConfigError } from '../pipeline/settings.js';
import { UNWATCHED, type PipelineLogger } from '../pipeline/plugin.js';
import { CliError } from './client.js';

export interface PipelineOptions {
  file?: string;
  config?: string;
  configTest?: boolean;
  logLevel: string;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export async function runPipelineCommand(options: PipelineOptions): Promise<void> {
  const level = LEVELS.indexOf(options.logLevel as (typeof LEVELS)[number]);
  if (level < 0) throw new CliError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const logger = stderrLogger(level);
  const tree = readConfig(options);
  const controller = new AbortController();
  const context = { logger, signal: controller.signal, stdin: process.stdin, stdout: process.stdout, watchdog: UNWATCHED, dataDir: path.resolve(process.env.LOGMILL_DATA ?? 'data') };
  let pipeline;
  try {
    pipeline = buildPipeline(tree, context);
  } catch (error) {
    if (error instanceof PipelineConfigError) throw new CliError(`${options.file ?? 'config'}:${error.message}`);
    throw error;
  }
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
  logger.info(`pipeline started: ${pipeline.inputs.length} input(s), ${pipeline.outputList.length} output(s)`);
  const counts = await pipeline.run();
  logger.info(`pipeline finished: ${counts.in} event(s) in, ${counts.out} out, ${counts.filtered} dropped by filters or sent nowhere`);
}

/** `-e` text, or `-f` a file or a directory of `*.conf` files read in name order and joined, as Logstash does. */
function readConfig(options: PipelineOptions): ConfigTree {
  if ((options.file === undefined) === (options.config === undefined)) throw new CliError('give the configuration with -f FILE or -e TEXT (one of them)');
  if (options.config !== undefined) return parse(options.config, '-e');
  const file = options.file as string;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new CliError(`no such file or directory: ${file}`);
  }
  const files = stat.isDirectory()
    ? fs
        .readdirSync(file)
        .filter((name) => name.endsWith('.conf'))
        .sort()
        .map((name) => path.join(file, name))
    : [file];
  if (files.length === 0) throw new CliError(`${file} holds no .conf file`);
  const trees = files.map((f) => parse(fs.readFileSync(f, 'utf8'), f));
  return { sections: trees.flatMap((t) => t.sections) };
}

function parse(text: string, source: string): ConfigTree {
  try {
    return parseConfig(text, source);
  } catch (error) {
    if (error instanceof ConfigSyntaxError) throw new CliError(error.message);
    throw error;
  }
}

function stderrLogger(level: number): PipelineLogger {
  const write = (at: number, name: string) => (message: string) => {
    if (at >= level) process.stderr.write(`[${new Date().toISOString()}] ${name.padEnd(5)} ${message}\n`);
  };
  return { debug: write(0, 'DEBUG'), info: write(1, 'INFO'), warn: write(2, 'WARN'), error: write(3, 'ERROR') };
}
