/** The `drop` filter: the events that reach it go no further (put it inside a conditional). */
import type { FilterFactory } from '../plugin.js';

export const dropFilter: FilterFactory = (settings) => {
  const percentage = settings.number('percentage', 100, { min: 0 });
  settings.accept('id', 'enable_metric', 'periodic_flush', 'add_field', 'add_tag', 'remove_field', 'remove_tag');
  settings.done();
  return {
    label: `filter drop (${settings.plugin.at.line}:${settings.plugin.at.column})`,
    process(events) {
      for (const event of events) if (percentage >= 100 || Math.random() * 100 < percentage) event.cancelled = true;
      return events.filter((e) => !e.cancelled);
    },
  };
};
