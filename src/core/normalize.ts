/**
 * Turns what senders send (parsed JSON objects, plain text lines) into
 * LogEvents: flattens nested objects to dotted names, finds the timestamp,
 * and repairs what would otherwise be lost (bad names, bad timestamps),
 * tagging every repair so that nothing is changed silently.
 */
import { addTag, TAG, type FieldValue, type LogEvent, type Scalar } from './event.js';
import { parseEventTime, shipperTime } from './time.js';

export const MAX_FIELD_NAME_BYTES = 256;
const MAX_DEPTH = 32;

/** Field that keeps an unparseable `@timestamp` as the sender wrote it. */
export const INVALID_TIMESTAMP_FIELD = '_timestamp_invalid';

/**
 * The prototype of every event's fields: empty, frozen and itself without a
 * prototype, so that, as with Object.create(null), a sender's `__proto__`,
 * `constructor` or `toString` is an own field like any other and nothing is
 * inherited. Unlike Object.create(null), which V8 keeps as a hash table
 * (several times the memory and the garbage-collection work per event),
 * objects made by a constructor get fast, shared layouts.
 */
class Fields {}
delete (Fields.prototype as { constructor?: unknown }).constructor;
Object.setPrototypeOf(Fields.prototype, null);
Object.freeze(Fields.prototype);

/** An empty fields object for a new event (see Fields). */
export function newFields(): Record<string, FieldValue> {
  return new Fields() as Record<string, FieldValue>;
}

export function eventFromText(message: string, arrivalMicros: number): LogEvent {
  const fields = newFields();
  fields.message = message;
  return { ts: arrivalMicros, fields };
}

export function eventFromObject(obj: Record<string, unknown>, arrivalMicros: number): LogEvent {
  // No inherited names: a sender's `__proto__` or `constructor` key is just a field name.
  const fields = newFields();
  const event: LogEvent = { ts: arrivalMicros, fields };
  let sanitized = false;
  let rawTime: unknown = undefined;

  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = obj[key];
    if (key === '@timestamp' || (key === 'timestamp' && obj['@timestamp'] === undefined)) {
      rawTime = value;
      continue;
    }
    if (key === '_id' && (typeof value === 'string' || typeof value === 'number')) {
      event.id = String(value);
      continue;
    }
    if (key === '_index' && typeof value === 'string') {
      event.index = value;
      continue;
    }
    if (put(fields, key, value, 0)) sanitized = true;
  }

  if (rawTime === undefined) {
    // No `@timestamp` and no `timestamp` (the native API's alias of it): a plausible `time` or `ts`, which stay fields.
    const own = shipperTime(undefined, obj.time, obj.ts, arrivalMicros);
    if (own !== null) event.ts = own;
  } else if (rawTime !== null) {
    const ts = parseEventTime(rawTime);
    if (ts === null) {
      fields[INVALID_TIMESTAMP_FIELD] = typeof rawTime === 'string' ? rawTime : JSON.stringify(rawTime);
      addTag(event, TAG.timestampParseFailure);
    } else {
      event.ts = ts;
    }
  }
  if (sanitized) addTag(event, TAG.fieldNameSanitized);
  const message = fields.message;
  if (message !== undefined && message !== null && typeof message !== 'string') {
    fields.message = Array.isArray(message) ? message.join('\n') : String(message);
  }
  const tags = fields.tags;
  if (tags !== undefined && tags !== null && !Array.isArray(tags)) fields.tags = [String(tags)];
  else if (Array.isArray(tags)) fields.tags = tags.map(String);
  return event;
}

/** Stores `value` under `name`, nested objects flattened to dotted names. Returns whether a name had to be repaired. */
function put(fields: Record<string, FieldValue>, name: string, value: unknown, depth: number): boolean {
  if (value === undefined) return false;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
    let sanitized = false;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (put(fields, name === '' ? key : `${name}.${key}`, (value as Record<string, unknown>)[key], depth + 1)) sanitized = true;
    }
    return sanitized;
  }
  const clean = cleanFieldName(name);
  fields[clean] = toFieldValue(value);
  return clean !== name;
}

export function toFieldValue(value: unknown): FieldValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
  }
  if (Array.isArray(value)) {
    const out: Scalar[] = [];
    for (const item of value) {
      if (typeof item === 'string' || typeof item === 'boolean' || (typeof item === 'number' && Number.isFinite(item))) {
        out.push(item);
      } else if (item !== null && item !== undefined) {
        out.push(JSON.stringify(item)); // arrays of objects keep their content as JSON text
      }
    }
    return out;
  }
  return JSON.stringify(value);
}

/**
 * Field names are written by strangers. Any printable text is allowed (SQL
 * identifiers are generated by the store, never taken from names), but control
 * characters, empty names and names over 256 bytes are repaired.
 */
export function cleanFieldName(name: string): string {
  const cached = cleanNames.get(name);
  if (cached !== undefined) return cached;
  const clean = repairFieldName(name);
  if (cleanNames.size >= 10_000) cleanNames.clear(); // names repeat; a flood of distinct ones must not grow memory
  cleanNames.set(name, clean);
  return clean;
}

const cleanNames = new Map<string, string>();

function repairFieldName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let clean = name.replace(/[\u0000-\u001f\u007f]/g, '_');
  if (clean === '') clean = '_empty';
  if (Buffer.byteLength(clean) > MAX_FIELD_NAME_BYTES) {
    clean = Buffer.from(clean).subarray(0, MAX_FIELD_NAME_BYTES).toString().replace(/\uFFFD+$/, '');
  }
  return clean;
}
