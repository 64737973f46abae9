/** The plugins a configuration can name, by section. A new plugin is a file in its folder and a line here. */
import type { FilterFactory, InputFactory, OutputFactory } from './plugin.js';
import { stdinInput } from './inputs/stdin.js';
import { generatorInput } from './inputs/generator.js';
import { pipelineInput } from './inputs/pipeline.js';
import { grokFilter } from './filters/grok.js';
import { mutateFilter } from './filters/mutate.js';
import { dropFilter } from './filters/drop.js';
import { logmillOutput } from './outputs/logmill.js';
import { elasticsearchOutput } from './outputs/elasticsearch/index.js';
import { stdoutOutput } from './outputs/stdout.js';
import { pipelineOutput } from './outputs/pipeline.js';

export const inputs: Readonly<Record<string, InputFactory>> = {
  stdin: stdinInput,
  generator: generatorInput,
  pipeline: pipelineInput,
};

export const filters: Readonly<Record<string, FilterFactory>> = {
  grok: grokFilter,
  mutate: mutateFilter,
  drop: dropFilter,
};

export const outputs: Readonly<Record<string, OutputFactory>> = {
  logmill: logmillOutput,
  elasticsearch: elasticsearchOutput,
  stdout: stdoutOutput,
  pipeline: pipelineOutput,
};
