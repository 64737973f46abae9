/** The `null` output: takes every event and ships it nowhere (to measure a pipeline without an output's cost). */
import type { Output, OutputFactory } from '../plugin.js';

export const nullOutput: OutputFactory = (settings) => {
  settings.accept('id', 'enable_metric', 'workers', 'codec');
  settings.done();
  const output: Output = {
    label: 'output null',
    async start() {},
    async write() {},
    async close() {},
  };
  return output;
};
