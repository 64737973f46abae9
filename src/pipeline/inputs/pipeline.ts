/** The `pipeline` input: events another pipeline of this server sends to `address`. */
import type { InputFactory } from '../plugin.js';
import { PipelineConfigError } from '../settings.js';
import { inputDecoration } from '../common.js';

export const pipelineInput: InputFactory = (settings, context) => {
  const address = settings.string('address');
  if (address === undefined || address === '') throw settings.error('address', 'is required: the name other pipelines send to, as in send_to => ["' + 'name' + '"]');
  const decorate = inputDecoration(settings);
  settings.done();
  const bus = context.host?.bus;
  if (!bus) throw new PipelineConfigError('input pipeline receives from other pipelines of the same server: run the configuration with logmill server --pipelines FILE', settings.plugin.at);
  return {
    label: `input pipeline "${address}" (${settings.plugin.at.line}:${settings.plugin.at.column})`,
    async run(emit) {
      const stop = bus.listen(address, async (events) => {
        for (const event of events) decorate(event);
        await emit(events);
      });
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        else context.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      stop();
    },
  };
};
