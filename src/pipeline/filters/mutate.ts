/**
 * The `mutate` filter: rename, replace, convert and reshape fields. Operations run in Logstash's order
 * (coerce, rename, update, replace, convert, gsub, uppercase, capitalize, lowercase, strip, split, join,
 * merge, copy) whatever their order in the block, so a config behaves here as it does there.
 */
import type { PipelineEvent, PipelineValue } from '../event.js';
import { fieldPathOrNull, type FieldPath } from '../field-ref.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';
import type { Settings } from '../settings.js';
import { Template, valueText } from '../sprintf.js';

type Operation = (event: PipelineEvent) => void;
type Conversion = 'integer' | 'integer_eu' | 'float' | 'float_eu' | 'string' | 'boolean';
const CONVERSIONS: readonly Conversion[] = ['integer', 'integer_eu', 'float', 'float_eu', 'string', 'boolean'];

export const mutateFilter: FilterFactory = (settings) => {
  const operations: Operation[] = [];
  const fieldPairs = (name: string): Array<[FieldPath, string]> => settings.pairs(name).map(([field, value]) => [settings.fieldPath(name, field), value]);
  const fieldList = (name: string): FieldPath[] => settings.strings(name).map((f) => settings.fieldPath(name, f));

  for (const [path, value] of fieldPairs('coerce')) {
    const template = new Template(value);
    operations.push((e) => {
      if (e.get(path) === null) e.set(path, template.render(e));
    });
  }
  for (const [from, to] of fieldPairs('rename')) {
    const target = new Template(to);
    operations.push((e) => {
      if (!e.has(from)) return;
      const to = fieldPathOrNull(target.render(e));
      if (to === null) return;
      const value = e.remove(from);
      if (value !== undefined) e.set(to, value);
    });
  }
  for (const [path, value] of fieldPairs('update')) {
    const template = new Template(value);
    operations.push((e) => {
      if (e.has(path)) e.set(path, template.render(e));
    });
  }
  for (const [path, value] of fieldPairs('replace')) {
    const template = new Template(value);
    operations.push((e) => e.set(path, template.render(e)));
  }
  for (const [path, type] of fieldPairs('convert')) {
    if (!(CONVERSIONS as readonly string[]).includes(type)) throw settings.error('convert', `names an unknown type "${type}"; known: ${CONVERSIONS.join(', ')}`);
    operations.push(mapValues(path, (v) => convert(v, type as Conversion)));
  }
  operations.push(...gsubOperations(settings));
  for (const path of fieldList('uppercase')) operations.push(mapStrings(path, (s) => s.toUpperCase()));
  for (const path of fieldList('capitalize')) operations.push(mapStrings(path, (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()));
  for (const path of fieldList('lowercase')) operations.push(mapStrings(path, (s) => s.toLowerCase()));
  for (const path of fieldList('strip')) operations.push(mapStrings(path, (s) => s.trim()));
  for (const [path, separator] of fieldPairs('split')) {
    operations.push((e) => {
      const value = e.get(path);
      if (typeof value === 'string') e.set(path, value.split(separator));
    });
  }
  for (const [path, separator] of fieldPairs('join')) {
    operations.push((e) => {
      const value = e.get(path);
      if (Array.isArray(value)) e.set(path, value.map(valueText).join(separator));
    });
  }
  for (const [path, other] of fieldPairs('merge')) {
    const source = settings.fieldPath('merge', other);
    operations.push((e) => {
      const add = e.get(source);
      if (add === undefined) return;
      const into = e.get(path);
      const list = into === undefined ? [] : Array.isArray(into) ? into : [into];
      e.set(path, [...list, ...(Array.isArray(add) ? add : [add])]);
    });
  }
  for (const [path, to] of fieldPairs('copy')) {
    const target = settings.fieldPath('copy', to);
    operations.push((e) => {
      const value = e.get(path);
      if (value !== undefined) e.set(target, structuredClone(value));
    });
  }
  settings.accept('tag_on_failure');
  const decorate = filterDecoration(settings);
  settings.done();
  return {
    label: `filter mutate (${settings.plugin.at.line}:${settings.plugin.at.column})`,
    process(events) {
      for (const event of events) {
        for (const operation of operations) operation(event);
        decorate(event);
      }
      return events;
    },
  };
};

function gsubOperations(settings: Settings): Operation[] {
  const items = settings.strings('gsub');
  if (items.length % 3 !== 0) throw settings.error('gsub', 'must hold triples: field, pattern, replacement');
  const operations: Operation[] = [];
  for (let i = 0; i < items.length; i += 3) {
    const path = settings.fieldPath('gsub', items[i]);
    let pattern: RegExp;
    try {
      pattern = new RegExp(items[i + 1], 'g');
    } catch (error) {
      throw settings.error('gsub', `has a pattern that is not a valid regular expression: ${(error as Error).message}`);
    }
    const replacement = new Template(items[i + 2]);
    operations.push(mapStrings(path, (s, e) => s.replace(pattern, replacement.render(e).replaceAll('$', '$$'))));
  }
  return operations;
}

function mapStrings(path: FieldPath, change: (text: string, event: PipelineEvent) => string): Operation {
  return mapValues(path, (v, e) => (typeof v === 'string' ? change(v, e) : v));
}

/** Applies a change to a field's value, or to each item when it is a list. */
function mapValues(path: FieldPath, change: (value: PipelineValue, event: PipelineEvent) => PipelineValue): Operation {
  return (event) => {
    const value = event.get(path);
    if (value === undefined) return;
    event.set(path, Array.isArray(value) ? value.map((v) => change(v, event)) : change(value, event));
  };
}

function convert(value: PipelineValue, type: Conversion): PipelineValue {
  switch (type) {
    case 'string':
      return value === null ? value : valueText(value);
    case 'integer':
    case 'integer_eu': {
      if (typeof value === 'boolean') return value ? 1 : 0;
      const n = parseFloat(normalNumber(value, type === 'integer_eu'));
      return Number.isFinite(n) ? Math.trunc(n) : value;
    }
    case 'float':
    case 'float_eu': {
      if (typeof value === 'boolean') return value ? 1 : 0;
      const n = parseFloat(normalNumber(value, type === 'float_eu'));
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean': {
      const text = String(value).toLowerCase();
      if (['true', 't', 'yes', 'y', '1', '1.0'].includes(text)) return true;
      if (['false', 'f', 'no', 'n', '0', '0.0'].includes(text)) return false;
      return value;
    }
  }
}

/** Numbers as text: `1,234.5` (or `1.234,5` in the _eu forms) read as 1234.5. */
function normalNumber(value: PipelineValue, european: boolean): string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return european ? text.replaceAll('.', '').replace(',', '.') : text.replaceAll(',', '');
}
