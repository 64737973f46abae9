/**
 * The `truncate` filter: cuts strings longer than `length_bytes` bytes of UTF-8 down to that size, never in
 * the middle of a character (the cut backs up to the last whole character). Lists have each string item
 * cut; hashes have their string values cut, at any depth. Without `fields`, every field of the event is.
 */
import { filterDecoration } from '../common.js';
import { isObject, TIMESTAMP, type PipelineValue } from '../event.js';
import type { FieldPath } from '../field-ref.js';
import type { FilterFactory } from '../plugin.js';

/** Hashes nested deeper than this are left as they are (a guard against pathological input). */
const MAX_DEPTH = 64;

export const truncateFilter: FilterFactory = (settings) => {
  const label = `filter truncate (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  if (!settings.has('length_bytes')) throw settings.error('length_bytes', 'is required: the most bytes a string may keep');
  const limit = settings.number('length_bytes', 0, { integer: true, min: 0 });
  const fields: FieldPath[] = settings.strings('fields').map((f) => settings.fieldPath('fields', f));
  const decorate = filterDecoration(settings);
  settings.done();
  return {
    label,
    process(events) {
      for (const event of events) {
        if (fields.length > 0) {
          for (const path of fields) {
            const value = event.get(path);
            if (value === undefined) continue;
            const cut = truncateValue(value, limit, 0);
            if (cut !== value) event.set(path, cut);
          }
        } else {
          const all = event.fields;
          for (const key of Object.keys(all)) {
            // @timestamp is a time, not text, in Logstash: it is never cut.
            if (key === TIMESTAMP) continue;
            all[key] = truncateValue(all[key], limit, 0);
          }
        }
        decorate(event);
      }
      return events;
    },
  };
};

/** The value with its strings cut; the same value when nothing needed cutting. */
function truncateValue(value: PipelineValue, limit: number, depth: number): PipelineValue {
  if (typeof value === 'string') return truncateUtf8(value, limit);
  if (Array.isArray(value)) {
    // Only strings directly in a list are cut, as in Logstash.
    let changed = false;
    const out = value.map((item) => {
      if (typeof item !== 'string') return item;
      const cut = truncateUtf8(item, limit);
      if (cut !== item) changed = true;
      return cut;
    });
    return changed ? out : value;
  }
  if (isObject(value) && depth < MAX_DEPTH) {
    for (const key of Object.keys(value)) value[key] = truncateValue(value[key], limit, depth + 1);
  }
  return value;
}

/** The longest start of `text` whose UTF-8 encoding takes at most `limit` bytes. */
export function truncateUtf8(text: string, limit: number): string {
  // Each UTF-16 unit takes at most 3 bytes: short strings need no counting.
  if (text.length * 3 <= limit) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let size: number;
    let units = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size = 4;
      units = 2;
    } else size = 3; // a lone surrogate is written as U+FFFD, three bytes
    if (bytes + size > limit) return text.slice(0, i);
    bytes += size;
    i += units - 1;
  }
  return text;
}
