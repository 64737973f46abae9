/**
 * The `clone` filter: each event goes on followed by one copy per name in `clones`, each copy with
 * `type` set to that name (legacy, non-ECS Logstash). `add_field`, `add_tag`, `remove_field` and
 * `remove_tag` apply to the copies only; the original goes on first and untouched, as in Logstash.
 */
import { PipelineEvent } from '../event.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';

/** A deep copy of an event, fields and `@metadata` both, so that changing one never changes the other. */
export function copyEvent(event: PipelineEvent): PipelineEvent {
  const copy = new PipelineEvent(structuredClone(event.fields));
  Object.assign(copy.metadata, structuredClone(event.metadata));
  return copy;
}

export const cloneFilter: FilterFactory = (settings, context) => {
  const clones = settings.strings('clones');
  const decorate = filterDecoration(settings);
  settings.done();
  const label = `filter clone (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  // Logstash accepts an empty list too, and then does nothing; say so, since it is surely a mistake.
  if (clones.length === 0) context.logger.warn(`${label}: "clones" is empty, so no event is cloned`);
  return {
    label,
    process(events) {
      if (clones.length === 0) return events;
      const out: PipelineEvent[] = [];
      for (const event of events) {
        out.push(event);
        for (const type of clones) {
          const copy = copyEvent(event);
          copy.set(['type'], type);
          decorate(copy);
          out.push(copy);
        }
      }
      return out;
    },
  };
};
