/**
 * The event model shared by every part of Logmill: inputs produce events, the
 * pipeline transforms them, stores write them.
 *
 * Fields are flat: nested objects arrive flattened to dotted names
 * (`http.response.status`). `@timestamp` is not a field here but `ts`, kept
 * in microseconds so that sub-millisecond precision survives.
 */

export type Scalar = string | number | boolean;
export type FieldValue = Scalar | Scalar[] | null;

export interface LogEvent {
  /** Event time in microseconds since the Unix epoch, UTC. */
  ts: number;
  /** Flattened fields, including `message`, `host`, `source`, `level`, `tags`. */
  fields: Record<string, FieldValue>;
  /** A document id given by the sender (Elasticsearch `_id`); stores generate one otherwise. */
  id?: string;
  /** The Elasticsearch index or data stream the event was written to, if any. */
  index?: string;
  /**
   * For a document sent through the Elasticsearch-compatible API: what it
   * takes to give back the JSON object as sent (core/shape.ts). Absent for
   * events of other inputs, whose source is rebuilt from their fields.
   */
  shape?: string;
}

/** The types a field can have in storage. */
export type FieldType = 'string' | 'integer' | 'float' | 'boolean' | 'timestamp';

/** Fields every event may have, stored in fixed columns. */
export const CORE_FIELDS = ['message', 'host', 'source', 'level', 'tags'] as const;

/** Tags added when Logmill had to change or guess something about an event. */
export const TAG = {
  timestampParseFailure: '_timestampparsefailure',
  truncated: '_truncated',
  fieldNameSanitized: '_fieldnamesanitized',
  jsonParseFailure: '_jsonparsefailure',
} as const;

export function addTag(event: LogEvent, tag: string): void {
  addFieldsTag(event.fields, tag);
}

/** addTag on a fields object that is not (yet) an event's, e.g. a parsed line's. */
export function addFieldsTag(fields: Record<string, unknown>, tag: string): void {
  const tags = fields.tags;
  if (Array.isArray(tags)) {
    if (!tags.includes(tag)) tags.push(tag);
  } else if (tags == null) {
    fields.tags = [tag];
  } else {
    fields.tags = [String(tags), tag];
  }
}
