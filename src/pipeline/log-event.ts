/**
 * The two event models side by side: the store's `LogEvent` (flat dotted field names, time in
 * microseconds) and the pipeline's `PipelineEvent` (nested hashes, `@timestamp` as text, as in
 * Logstash). Inputs that reuse the protocol code in `src/ingest/` turn what it makes into pipeline
 * events here; the `logmill` output turns pipeline events back into store events here.
 */
import type { LogEvent } from '../core/event.js';
import { microsToIso } from '../core/time.js';
import { eventFromObject } from '../core/normalize.js';
import { isObject, PipelineEvent, type PipelineObject, type PipelineValue } from './event.js';

/** A store event as a pipeline event: dotted names become nested hashes (`log.file.path` → `[log][file][path]`). */
export function pipelineEventFromLogEvent(event: LogEvent): PipelineEvent {
  const fields: PipelineObject = {};
  for (const name of Object.keys(event.fields)) {
    const value = event.fields[name];
    setDotted(fields, name, Array.isArray(value) ? [...value] : value);
  }
  fields['@timestamp'] = microsToIso(event.ts);
  const out = new PipelineEvent(fields);
  if (event.id !== undefined) out.metadata._id = event.id;
  if (event.index !== undefined) out.metadata._index = event.index;
  return out;
}

/** A pipeline event as the store keeps it; `@metadata` is not shipped, `@timestamp` becomes the event's time. */
export function logEventFromPipelineEvent(event: PipelineEvent, arrivalMicros = Date.now() * 1000): LogEvent {
  return eventFromObject(event.toJSON() as Record<string, unknown>, arrivalMicros);
}

/** Sets `a.b.c` as nested hashes; a name whose part already holds a scalar keeps its dotted remainder whole. */
function setDotted(root: PipelineObject, name: string, value: PipelineValue): void {
  if (!name.includes('.')) {
    root[name] = value;
    return;
  }
  const parts = name.split('.');
  let node = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    const next = node[part];
    if (next === undefined) node = node[part] = {};
    else if (isObject(next)) node = next;
    else {
      // `a` is a scalar and `a.b` also exists: keep `a.b` as a name under the deepest hash reached.
      node[parts.slice(i).join('.')] = value;
      return;
    }
  }
  node[parts[parts.length - 1]] = value;
}
