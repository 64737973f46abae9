/**
 * The `generator` input: the same message (or each of `lines` in turn) `count` times, or forever when
 * count is 0, with a sequence number. Used to try a pipeline and to load-test one.
 */
import { hostname } from 'node:os';
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import { BATCH_SIZE } from '../batch.js';
import type { Input, InputFactory } from '../plugin.js';
import { InFlight } from '../in-flight.js';

export const generatorInput: InputFactory = (settings, context) => {
  const message = settings.string('message', 'Hello world!');
  const lines = settings.strings('lines');
  const count = settings.number('count', 0, { integer: true, min: 0 });
  settings.accept('threads');
  settings.raw('codec');
  const decorate = inputDecoration(settings);
  settings.done();
  const texts = lines.length > 0 ? lines : [message];
  const host = hostname();
  const input: Input = {
    label: `input generator (${settings.plugin.at.line}:${settings.plugin.at.column})`,
    async run(emit) {
      const batchSize = context.batchSize ?? BATCH_SIZE;
      const out = new InFlight(emit, context.inFlight ?? 1);
      let sequence = 0;
      while (!context.signal.aborted && (count === 0 || sequence < count)) {
        const batch: PipelineEvent[] = [];
        while (batch.length < batchSize && (count === 0 || sequence < count)) {
          for (const text of texts) {
            const event = new PipelineEvent({ message: text, host: { name: host }, event: { original: text, sequence } });
            decorate(event);
            batch.push(event);
          }
          sequence++;
        }
        await out.push(batch);
      }
      await out.drain();
    },
  };
  return input;
};
