/**
 * The `json` filter: parses JSON text in `source` into the event, at the top (an object's keys become
 * fields) or under `target` (any JSON value).
 *
 * As in Logstash: text that is not JSON is tagged `_jsonparsefailure` (nothing, with
 * `skip_on_invalid_json`); a JSON value that is not an object, without `target`, is a failure too; an
 * `@timestamp` key at the top is read as the event's time, and one that is not an ISO-8601 time is kept
 * in `_@timestamp` with the tag `_timestampparsefailure`; `tags` that are not texts are kept in `_tags`
 * with the tag `_tagsparsefailure` (Logstash 8). A missing `source` field leaves the event alone.
 *
 * Limits (what Logstash has not): text longer than MAX_JSON_CHARS or nested deeper than MAX_JSON_DEPTH
 * is a parse failure, so one hostile event cannot take the memory or the stack of the pipeline.
 */
import { METADATA, TIMESTAMP, isObject, type PipelineEvent, type PipelineObject, type PipelineValue } from '../event.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';
import { microsToIso, parseIsoMicros } from '../../core/time.js';

export const MAX_JSON_CHARS = 8 * 1024 * 1024;
export const MAX_JSON_DEPTH = 256;

export const jsonFilter: FilterFactory = (settings, context) => {
  if (!settings.has('source')) throw settings.error('source', 'is required (the field that holds the JSON text)');
  const sourceText = settings.string('source', 'message');
  const source = settings.fieldPath('source', sourceText);
  const targetText = settings.string('target');
  const target = targetText === undefined ? null : settings.fieldPath('target', targetText);
  const skipInvalid = settings.boolean('skip_on_invalid_json', false);
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_jsonparsefailure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const label = `filter json (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  let failures = 0;
  const fail = (event: PipelineEvent, reason: string): void => {
    for (const tag of tagOnFailure) event.addTag(tag);
    failures++;
    if (failures <= 10 || failures % 1000 === 0) context.logger.warn(`${label}: ${reason}${failures > 1 ? ` (${failures} failures so far)` : ''}`);
  };

  const handle = (event: PipelineEvent): void => {
    const text = event.get(source);
    if (text === undefined) return;
    const parsed = typeof text === 'string' ? parseBounded(text) : { error: `field "${sourceText}" holds a ${Array.isArray(text) ? 'list' : typeof text}, not JSON text` };
    if ('error' in parsed) {
      if (!skipInvalid) fail(event, parsed.error);
      return;
    }
    if (target !== null) {
      if (isMetadataItself(target) && !isObject(parsed.value)) {
        fail(event, `only a JSON object can be the target "${targetText}"`);
        return;
      }
      event.set(target, parsed.value);
    } else if (isObject(parsed.value)) {
      mergeTop(event, parsed.value);
    } else {
      fail(event, `the JSON in "${sourceText}" is not an object, so it needs a target`);
      return;
    }
    decorate(event);
  };

  return {
    label,
    process(events) {
      for (const event of events) handle(event);
      return events;
    },
  };
};

function isMetadataItself(path: readonly string[]): boolean {
  return path.length === 1 && path[0] === METADATA;
}

function parseBounded(text: string): { value: PipelineValue } | { error: string } {
  if (text.length > MAX_JSON_CHARS) return { error: `JSON text of ${text.length} characters is longer than the limit of ${MAX_JSON_CHARS}` };
  if (!nestingWithin(text, MAX_JSON_DEPTH)) return { error: `JSON nested deeper than the limit of ${MAX_JSON_DEPTH} levels` };
  try {
    return { value: JSON.parse(text) as PipelineValue };
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
}

/** Whether brackets nest no deeper than `max`, counting only those outside strings (a cheap scan before parsing). */
function nestingWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}

/** An object's keys as top-level fields; `@timestamp` read as a time, `@metadata` into the event's metadata. */
function mergeTop(event: PipelineEvent, object: PipelineObject): void {
  // Tags first, so that a failure tag added for another key is not overwritten by the JSON's own tags.
  if (Object.hasOwn(object, 'tags')) setTags(event, object.tags);
  for (const [key, value] of Object.entries(object)) {
    if (key === 'tags') continue;
    if (key === TIMESTAMP) setTimestamp(event, value);
    else if (key === METADATA) {
      if (isObject(value)) Object.assign(event.metadata, value);
      else event.fields['_@metadata'] = value;
    } else {
      // As its own property: a plain assignment of "__proto__" would change the event's prototype instead.
      Object.defineProperty(event.fields, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }
}

function setTimestamp(event: PipelineEvent, value: PipelineValue): void {
  const micros = typeof value === 'string' ? parseIsoMicros(value.trim()) : null;
  if (micros !== null && micros >= 0 && micros < Date.UTC(10000, 0, 1) * 1000) {
    event.fields[TIMESTAMP] = microsToIso(micros);
    return;
  }
  event.addTag('_timestampparsefailure');
  event.fields['_@timestamp'] = value;
}

/** As Logstash 8: tags must be text or a list of texts; anything else is kept in `_tags`, tagged `_tagsparsefailure`. */
function setTags(event: PipelineEvent, value: PipelineValue): void {
  if (typeof value === 'string' || (Array.isArray(value) && value.every((t) => typeof t === 'string'))) {
    event.fields.tags = value;
    return;
  }
  event.fields._tags = value;
  event.addTag('_tagsparsefailure');
}
