/** The `stdin` input: standard input through a codec (by default one event per line). */
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import { decoderFrom } from '../codecs/index.js';
import { BATCH_SIZE } from '../batch.js';
import type { Input, InputFactory } from '../plugin.js';
import { InFlight } from '../in-flight.js';

export const stdinInput: InputFactory = (settings, context) => {
  const decoder = decoderFrom(settings, 'line');
  const decorate = inputDecoration(settings);
  settings.done();
  const host = hostname();
  const input: Input = {
    label: 'input stdin',
    async run(emit) {
      const stream = context.stdin;
      // Several batches on their way at once, so that every filter worker has work; acknowledged in order.
      const out = new InFlight(emit, context.inFlight ?? 1);
      const batchSize = context.batchSize ?? BATCH_SIZE;
      const ship = async (objects: ReturnType<typeof decoder.push>): Promise<void> => {
        for (let i = 0; i < objects.length; i += batchSize) {
          const batch = objects.slice(i, i + batchSize).map((fields) => {
            const event = new PipelineEvent(fields);
            if (!event.has(['host'])) event.set(['host'], { hostname: host });
            decorate(event);
            return event;
          });
          await out.push(batch);
        }
      };
      // Told to stop, the input stops reading; what it has read is still shipped.
      const stop = (): void => void (stream as Readable).destroy();
      context.signal.addEventListener('abort', stop, { once: true });
      try {
        // Reading chunk by chunk and awaiting each batch keeps a fast producer from filling memory.
        for await (const chunk of stream) {
          await ship(decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)));
          if (context.signal.aborted) break;
        }
      } catch (error) {
        if (!context.signal.aborted) throw error;
      } finally {
        context.signal.removeEventListener('abort', stop);
      }
      await ship(decoder.end());
      await out.drain();
    },
  };
  return input;
};
