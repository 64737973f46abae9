/** The `stdout` output: each event through a codec (by default `rubydebug`) to standard output. */
import { encoderFrom } from '../codecs/index.js';
import type { Output, OutputFactory } from '../plugin.js';

export const stdoutOutput: OutputFactory = (settings, context) => {
  const encoder = encoderFrom(settings, 'rubydebug');
  settings.accept('id', 'enable_metric', 'workers');
  settings.done();
  const output: Output = {
    label: 'output stdout',
    async start() {},
    async write(events) {
      const text = events.map((e) => encoder.encode(e)).join('');
      if (text === '') return;
      // Waiting for the stream to drain keeps a fast pipeline from queueing unbounded output.
      if (!context.stdout.write(text)) await new Promise<void>((resolve) => context.stdout.once('drain', () => resolve()));
    },
    async close() {},
  };
  return output;
};
