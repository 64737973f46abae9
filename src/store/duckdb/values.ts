/**
 * How a field value lands in storage: its type on first sight, and, once the
 * field has a type, whether a value fits the column, must be coerced, or
 * overflows as a conflict.
 */
import type { FieldType, FieldValue, Scalar } from '../../core/event.js';
import { parseIsoMicros } from '../../core/time.js';

/** Like Elasticsearch's date_detection: text that is a full ISO-8601 date-time makes a timestamp field. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

export function inferType(value: Scalar | Scalar[]): FieldType {
  if (Array.isArray(value)) return 'string';
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'float';
    case 'boolean':
      return 'boolean';
    default:
      return value.length <= 40 && DATE_TIME.test(value) && parseIsoMicros(value) !== null ? 'timestamp' : 'string';
  }
}

/** A stored value: text, a finite number (timestamps as epoch microseconds) or a boolean: all of them JSON. */
export type StoredValue = string | number | boolean;

export type Placement = { ok: true; value: StoredValue } | { ok: false; conflict: FieldType; text: string };

/** Fits a non-null value into a column of `type`, coercing where Elasticsearch would. */
export function place(type: FieldType, value: Exclude<FieldValue, null>): Placement {
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return type === 'string' ? { ok: true, value: text } : { ok: false, conflict: 'string', text };
  }
  switch (type) {
    case 'string':
      return { ok: true, value: typeof value === 'string' ? value : String(value) };
    case 'integer':
    case 'float': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) n = Number(value);
      else return { ok: false, conflict: inferType(value), text: String(value) };
      // JSON has no NaN or Infinity: such a value is kept as text.
      if (!Number.isFinite(n)) return { ok: false, conflict: inferType(value), text: String(value) };
      if (type === 'float') return { ok: true, value: n };
      if (!Number.isSafeInteger(n)) return { ok: false, conflict: 'float', text: String(value) };
      return { ok: true, value: n };
    }
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
      return { ok: false, conflict: inferType(value), text: String(value) };
    case 'timestamp': {
      const micros = typeof value === 'string' ? parseIsoMicros(value) : null;
      if (micros === null) return { ok: false, conflict: inferType(value), text: String(value) };
      return { ok: true, value: micros };
    }
  }
}
