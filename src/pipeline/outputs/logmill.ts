/**
 * The `logmill` output: events into the Logmill store of the server the pipeline runs in, with no
 * network between. It is the default output of a pipeline that names none. `write` resolves once the
 * store has the batch durably, so the input acknowledges its source only then.
 */
import type { OutputFactory } from '../plugin.js';
import { PipelineConfigError } from '../settings.js';
import { logEventFromPipelineEvent } from '../log-event.js';

export const logmillOutput: OutputFactory = (settings, context) => {
  const index = settings.template('index');
  settings.accept('id', 'enable_metric', 'workers', 'codec');
  settings.done();
  const label = `output logmill (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const host = context.host;
  if (!host) throw new PipelineConfigError('output logmill writes to the store of the server it runs in: run the configuration with logmill server -f FILE, or use an elasticsearch output here', settings.plugin.at);
  let stored = 0;
  return {
    label,
    async start() {},
    async write(events) {
      const arrival = Date.now() * 1000;
      const rows = events.map((event) => {
        const row = logEventFromPipelineEvent(event, arrival);
        if (index) row.index = index.render(event);
        return row;
      });
      await host.writeStore(rows);
      stored += rows.length;
    },
    async close() {
      context.logger.info(`${label}: ${stored} event(s) stored`);
    },
  };
};
