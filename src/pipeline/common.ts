/**
 * The settings every input and every filter has in Logstash: an input's `type`, `tags` and `add_field`
 * mark each event it makes; a filter's `add_field`, `add_tag`, `remove_field` and `remove_tag` apply to
 * each event the filter handled successfully.
 */
import type { PipelineEvent } from './event.js';
import { fieldPathOrNull, type FieldPath } from './field-ref.js';
import type { Settings } from './settings.js';
import { Template } from './sprintf.js';

export type Decorate = (event: PipelineEvent) => void;

export function inputDecoration(settings: Settings): Decorate {
  const type = settings.string('type');
  const tags = settings.strings('tags');
  const addField = settings.pairs('add_field').map(([name, value]) => [settings.fieldPath('add_field', name), new Template(value)] as const);
  settings.accept('id', 'enable_metric', 'ecs_compatibility');
  return (event) => {
    if (type !== undefined && !event.has(['type'])) event.set(['type'], type);
    for (const tag of tags) event.addTag(tag);
    for (const [path, value] of addField) addValue(event, path, value.render(event));
  };
}

export function filterDecoration(settings: Settings): Decorate {
  const addField = settings.pairs('add_field').map(([name, value]) => [new Template(name), new Template(value)] as const);
  const addTag = settings.strings('add_tag').map((t) => new Template(t));
  const removeField = settings.strings('remove_field').map((f) => new Template(f));
  const removeTag = settings.strings('remove_tag').map((t) => new Template(t));
  settings.accept('id', 'enable_metric', 'periodic_flush', 'ecs_compatibility');
  const nothing = addField.length + addTag.length + removeField.length + removeTag.length === 0;
  if (nothing) return () => {};
  return (event) => {
    for (const [name, value] of addField) {
      const path = fieldPathOrNull(name.render(event));
      if (path) addValue(event, path, value.render(event));
    }
    for (const tag of addTag) event.addTag(tag.render(event));
    for (const field of removeField) {
      const path = fieldPathOrNull(field.render(event));
      if (path) event.remove(path);
    }
    if (removeTag.length > 0) {
      const drop = new Set(removeTag.map((t) => t.render(event)));
      const kept = event.tags().filter((t) => !drop.has(t));
      event.fields.tags = kept;
    }
  };
}

/** Logstash's add_field: a field that already holds a value becomes a list of both. */
export function addValue(event: PipelineEvent, path: FieldPath, value: string): void {
  const existing = event.get(path);
  if (existing === undefined) event.set(path, value);
  else if (Array.isArray(existing)) existing.push(value);
  else event.set(path, [existing, value]);
}
