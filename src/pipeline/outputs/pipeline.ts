/** The `pipeline` output: events to the pipelines of this server listening at `send_to`'s addresses. */
import type { OutputFactory } from '../plugin.js';
import { PipelineConfigError } from '../settings.js';

export const pipelineOutput: OutputFactory = (settings, context) => {
  const addresses = settings.strings('send_to');
  if (addresses.length === 0) throw settings.error('send_to', 'is required: the addresses of the pipelines to send to, as in send_to => ["parsed"]');
  settings.accept('id', 'enable_metric', 'ensure_delivery', 'workers', 'codec');
  settings.done();
  const bus = context.host?.bus;
  if (!bus) throw new PipelineConfigError('output pipeline sends to other pipelines of the same server: run the configuration with logmill server --pipelines FILE', settings.plugin.at);
  return {
    label: `output pipeline → ${addresses.join(', ')} (${settings.plugin.at.line}:${settings.plugin.at.column})`,
    async start() {},
    async write(events) {
      await Promise.all(addresses.map((address) => bus.send(address, events)));
    },
    async close() {},
  };
};
