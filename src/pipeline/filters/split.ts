/**
 * The `split` filter: one event per piece of a field. A string is cut at `terminator` (empty pieces
 * are left out, as Logstash does); an array gives one event per non-empty element. Each new event is a
 * deep copy of the original with the piece in `target` (or in the field itself), and the new events
 * take the original's place in the batch.
 *
 * Left as it is: an event whose field is missing, empty, or text without the terminator (Logstash
 * leaves those alone too; unlike Logstash, an empty array also leaves the event as is rather than
 * dropping it). Text made of terminators only gives no event at all, as in Logstash.
 * A field that is neither string nor array is tagged `_split_type_failure`. An event that would cut into
 * more than MAX_PIECES pieces is tagged `_split_limit_failure` and left whole, so one bad message
 * cannot blow a batch up without end.
 */
import type { PipelineEvent, PipelineValue } from '../event.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';
import { copyEvent } from './clone.js';

export const MAX_PIECES = 100_000;

export const splitFilter: FilterFactory = (settings, context) => {
  const fieldText = settings.string('field', 'message');
  const field = settings.fieldPath('field', fieldText);
  const terminator = settings.string('terminator', '\n');
  if (terminator === '') throw settings.error('terminator', 'must not be empty');
  const targetText = settings.string('target');
  const target = targetText === undefined ? field : settings.fieldPath('target', targetText);
  // @metadata itself holds only a hash, and a piece is text.
  if (target.length === 1 && target[0] === '@metadata') throw settings.error(targetText === undefined ? 'field' : 'target', 'cannot be @metadata itself; name a field inside it, as [@metadata][piece]');
  const intoItself = target.join('\u0000') === field.join('\u0000');
  const decorate = filterDecoration(settings);
  settings.done();
  const label = `filter split (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const warn = boundedWarn(context.logger.warn.bind(context.logger), label);

  const piecesOf = (event: PipelineEvent): PipelineValue[] | null => {
    const value = event.get(field);
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') {
      // As Logstash: text without the terminator stays as it is; otherwise only the non-empty pieces go on
      // (so "a\n" becomes one event "a", and "\n\n" none at all).
      const pieces = value.split(terminator);
      return pieces.length <= 1 ? null : pieces.filter((p) => p !== '');
    }
    if (Array.isArray(value)) {
      const pieces = value.filter((p) => p !== null && p !== '');
      return pieces.length === 0 ? null : pieces;
    }
    event.addTag('_split_type_failure');
    warn(`field "${fieldText}" holds a ${typeof value}; only strings and arrays can be split`);
    return null;
  };

  return {
    label,
    process(events) {
      const out: PipelineEvent[] = [];
      for (const event of events) {
        const pieces = piecesOf(event);
        if (pieces === null) {
          out.push(event);
          continue;
        }
        if (pieces.length > MAX_PIECES) {
          event.addTag('_split_limit_failure');
          warn(`field "${fieldText}" would split into ${pieces.length} events, more than the limit of ${MAX_PIECES}`);
          out.push(event);
          continue;
        }
        // The original is replaced: when the pieces go back into its field, copying that field into each is waste.
        if (intoItself) event.remove(field);
        for (const piece of pieces) {
          const copy = copyEvent(event);
          copy.set(target, structuredClone(piece));
          decorate(copy);
          out.push(copy);
        }
      }
      return out;
    },
  };
};

/** A warning for the first few failures and then one in a thousand, so a flood of bad input cannot flood the log. */
function boundedWarn(warn: (message: string) => void, label: string): (message: string) => void {
  let count = 0;
  return (message) => {
    count++;
    if (count <= 10 || count % 1000 === 0) warn(`${label}: ${message}${count > 1 ? ` (${count} times so far)` : ''}`);
  };
}
