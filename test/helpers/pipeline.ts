/**
 * What the filter tests share: a plugin context whose logger records into an array, a filter built
 * through the registry as the runtime builds it, and whole pipelines run over standard input into
 * JSON lines on standard output.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { PipelineEvent, type PipelineObject } from '../../src/pipeline/event.js';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { UNWATCHED, type Filter, type PipelineLogger, type PluginContext } from '../../src/pipeline/plugin.js';
import { filters } from '../../src/pipeline/plugins.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';

/** A logger that keeps each line as "level message" in `logs`. */
export function recordingLogger(logs: string[]): PipelineLogger {
  const keep = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export function testContext(logs: string[] = [], stdin = new PassThrough(), stdout = new PassThrough()): PluginContext {
  return { logger: recordingLogger(logs), signal: new AbortController().signal, stdin, stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() };
}

/** The filter a `filter { … }` block names, built through the registry as the runtime builds it. */
export function filterOf(block: string, logs: string[] = []): Filter {
  const statement = parseConfig(`filter { ${block} }`).sections[0].body[0];
  if (statement.kind !== 'plugin') throw new Error('not a plugin');
  const factory = filters[statement.plugin.name];
  assert.ok(factory, `${statement.plugin.name} is registered`);
  return factory(new Settings(statement.plugin, 'filter'), testContext(logs));
}

/** One event (timed 2000-01-01) through the filter a block names. */
export function runOne(block: string, fields: PipelineObject, logs: string[] = []): Record<string, any> {
  const [event] = filterOf(block, logs).process([new PipelineEvent(fields, new Date('2000-01-01T00:00:00Z'))]);
  return event.toJSON();
}

/** Runs `input { stdin { codec } } filter { … } output { stdout json_lines }` over `text` and returns the events. */
async function runOverStdin(codec: string, filter: string, text: string, logs: string[]): Promise<Array<Record<string, any>>> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const pipeline = buildPipeline(parseConfig(`input { stdin { codec => ${codec} } } filter { ${filter} } output { stdout { codec => json_lines } }`), testContext(logs, stdin, stdout));
  stdin.end(text);
  await pipeline.run();
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The filter over lines of text on stdin (line codec), one event a line. */
export function runLines(filter: string, lines: string[], logs: string[] = []): Promise<Array<Record<string, any>>> {
  return runOverStdin('line', filter, lines.join('\n') + '\n', logs);
}

/** The filter over events given as JSON lines on stdin. */
export function runEvents(filter: string, events: readonly object[], logs: string[] = []): Promise<Array<Record<string, any>>> {
  return runOverStdin('json_lines', filter, events.map((e) => JSON.stringify(e)).join('\n') + '\n', logs);
}

/** Asserts that building the filter fails with a configuration error matching `message`. */
export function refuses(block: string, message: RegExp): void {
  assert.throws(() => filterOf(block), (error: Error) => error instanceof PipelineConfigError && message.test(error.message), block);
}

/** Builds a stdin → filter → stdout pipeline, for configuration errors. */
export function buildWithFilter(filter: string): void {
  buildPipeline(parseConfig(`input { stdin {} } filter { ${filter} } output { stdout {} }`), testContext());
}
