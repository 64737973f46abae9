/** The `rubydebug` codec: an event printed for people, one field per line, `@metadata` on request. */
import type { Encoder } from '../plugin.js';
import type { Settings } from '../settings.js';
import type { PipelineObject, PipelineValue } from '../event.js';

export function rubydebugEncoder(settings: Settings): Encoder {
  const metadata = settings.boolean('metadata', false);
  settings.done();
  return {
    encode: (event) => `${show(metadata && Object.keys(event.metadata).length > 0 ? { ...event.fields, '@metadata': event.metadata } : event.fields, '')}\n`,
  };
}

function show(value: PipelineValue, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '    ';
    return `[\n${value.map((v, i) => `${inner}[${i}] ${show(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) return showObject(value, indent);
  return JSON.stringify(value) ?? 'nil';
}

function showObject(object: PipelineObject, indent: string): string {
  const keys = Object.keys(object).sort();
  if (keys.length === 0) return '{}';
  const width = Math.max(...keys.map((k) => JSON.stringify(k).length));
  const inner = indent + '    ';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k).padStart(width)} => ${show(object[k], inner)}`).join(',\n')}\n${indent}}`;
}
