/**
 * Checks a Logstash configuration without running it, for the pipeline editor of the web UI:
 * it is parsed and its plugins are built (names, settings, patterns), as `logmill pipeline -t`
 * does, but no input opens a listener and no event moves. Errors carry a line and a column.
 */
import { PassThrough } from 'node:stream';
import { LocalPipelineBus } from './bus.js';
import { ConfigSyntaxError } from './parser/ast.js';
import { parseConfig } from './parser/parse.js';
import { UNWATCHED, type PipelineLogger, type PluginContext } from './plugin.js';
import { buildPipeline } from './runtime.js';
import { PipelineConfigError } from './settings.js';

export interface ConfigProblem {
  message: string;
  line: number;
  column: number;
}

export interface ValidationResult {
  ok: boolean;
  errors: ConfigProblem[];
}

/** The most text a validation reads: a config larger than this is refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const quiet: PipelineLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function validatePipelineText(text: string, dataDir: string): ValidationResult {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return { ok: false, errors: [{ message: `the configuration is larger than ${MAX_CONFIG_BYTES} bytes`, line: 1, column: 1 }] };
  }
  const controller = new AbortController();
  controller.abort();
  try {
    const tree = parseConfig(text, 'editor');
    const context: PluginContext = {
      logger: quiet,
      signal: controller.signal,
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      watchdog: UNWATCHED,
      dataDir,
      host: {
        writeStore: () => Promise.reject(new Error('validation only')),
        localEs: null,
        bus: new LocalPipelineBus(quiet),
      },
    };
    buildPipeline(tree, context, { defaultOutput: 'logmill', requireInput: false });
    return { ok: true, errors: [] };
  } catch (error) {
    if (error instanceof ConfigSyntaxError) return { ok: false, errors: [{ message: error.reason, line: error.at.line, column: error.at.column }] };
    if (error instanceof PipelineConfigError) {
      const at = error.at ?? { line: 1, column: 1 };
      const message = error.at ? error.message.replace(/^\d+:\d+: /, '') : error.message;
      return { ok: false, errors: [{ message, line: at.line, column: at.column }] };
    }
    return { ok: false, errors: [{ message: error instanceof Error ? error.message : String(error), line: 1, column: 1 }] };
  }
}
