/** The plugins a configuration can name, by section. A new plugin is a file in its folder and a line here. */
import type { FilterFactory, InputFactory, OutputFactory } from './plugin.js';
import { generatorInput } from './inputs/generator.js';
import { stdinInput } from './inputs/stdin.js';
import { pipelineInput } from './inputs/pipeline.js';
import { dropFilter } from './filters/drop.js';
import { mutateFilter } from './filters/mutate.js';
import { elasticsearchOutput } from './outputs/elasticsearch/index.js';
import { stdoutOutput } from './outputs/stdout.js';
import { logmillOutput } from './outputs/logmill.js';
import { pipelineOutput } from './outputs/pipeline.js';

export const inputs: Readonly<Record<string, InputFactory>> = {
  generator: generatorInput,
  stdin: stdinInput,
  pipeline: pipelineInput,
};

export const filters: Readonly<Record<string, FilterFactory>> = {
  drop: dropFilter,
  mutate: mutateFilter,
};

export const outputs: Readonly<Record<string, OutputFactory>> = {
  elasticsearch: elasticsearchOutput,
  stdout: stdoutOutput,
  logmill: logmillOutput,
  pipeline: pipelineOutput,
};
