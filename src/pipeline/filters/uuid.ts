/**
 * The `uuid` filter: sets `target` to a random version-4 UUID (crypto.randomUUID), leaving a field that
 * already has a value alone unless `overwrite` is true.
 */
import { randomUUID } from 'node:crypto';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';

export const uuidFilter: FilterFactory = (settings) => {
  const label = `filter uuid (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const targetText = settings.string('target');
  if (targetText === undefined || targetText === '') throw settings.error('target', 'is required: the field to hold the UUID, as in "uuid"');
  const target = settings.fieldPath('target', targetText);
  const overwrite = settings.boolean('overwrite', false);
  const decorate = filterDecoration(settings);
  settings.done();
  return {
    label,
    process(events) {
      for (const event of events) {
        const current = event.get(target);
        // Logstash fills a field that is absent or null (nil) and keeps any other value.
        if (overwrite || current === undefined || current === null) event.set(target, randomUUID());
        decorate(event);
      }
      return events;
    },
  };
};
