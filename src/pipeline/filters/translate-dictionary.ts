/**
 * The translate filter's dictionaries: read from a .yml/.yaml, .json or .csv file (the formats
 * Logstash reads), and the four ways of looking a value up (exact or substring, literal or regex).
 */
import { parse as parseYaml } from 'yaml';
import type { PipelineValue } from '../event.js';

export type Dictionary = ReadonlyMap<string, PipelineValue>;

/** More entries than this is refused: the dictionary is held in memory and regex modes scan it. */
export const MAX_DICTIONARY_ENTRIES = 1_000_000;
/** Values longer than this are not looked up in the substring modes, whose work grows with the text. */
export const MAX_SUBSTRING_TEXT = 64 * 1024;

export type DictionaryFormat = 'yaml' | 'json' | 'csv';

export function formatOfPath(path: string): DictionaryFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  return null;
}

/** Parses a dictionary file's text; throws with a reason a person can act on. A key given twice takes its last value, as Ruby's YAML and JSON readers do. */
export function parseDictionary(text: string, format: DictionaryFormat): Map<string, PipelineValue> {
  if (format === 'csv') return parseCsvDictionary(text);
  const data: unknown = format === 'json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100, uniqueKeys: false });
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`a dictionary must be a ${format === 'json' ? 'JSON object' : 'YAML mapping'} of key to value`);
  const out = new Map<string, PipelineValue>();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    add(out, key, toPipelineValue(value));
  }
  return out;
}

function add(map: Map<string, PipelineValue>, key: string, value: PipelineValue): void {
  map.set(key, value);
  if (map.size > MAX_DICTIONARY_ENTRIES) throw new Error(`the dictionary has more than ${MAX_DICTIONARY_ENTRIES} entries`);
}

function toPipelineValue(value: unknown): PipelineValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPipelineValue);
  if (typeof value === 'object') {
    const out: Record<string, PipelineValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toPipelineValue(v);
    return out;
  }
  return String(value);
}

/** Two columns, key and value, with RFC 4180 quoting ("a ""quoted"" value"), as Logstash's CSV dictionaries. */
function parseCsvDictionary(text: string): Map<string, PipelineValue> {
  const out = new Map<string, PipelineValue>();
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  const endRow = (): void => {
    row.push(field);
    field = '';
    if (row.length === 1 && row[0] === '') {
      row = [];
      return;
    }
    if (row.length !== 2) throw new Error(`line ${line} has ${row.length} columns; a CSV dictionary has two, key and value`);
    add(out, row[0], row[1]);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else field += c;
  }
  if (quoted) throw new Error(`a quoted value opened before line ${line} is never closed`);
  if (field !== '' || row.length > 0) endRow();
  return out;
}

/** Looks a value up: the translation, or undefined when nothing matches. */
export type Lookup = (value: string) => PipelineValue | undefined;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a dictionary's keys as regular expressions; throws naming the key that is not one. */
function compileKeys(dictionary: Dictionary): Array<[RegExp, PipelineValue]> {
  const out: Array<[RegExp, PipelineValue]> = [];
  for (const [key, value] of dictionary) {
    try {
      out.push([new RegExp(key), value]);
    } catch (error) {
      throw new Error(`the key "${key}" is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  return out;
}

/**
 * exact + literal: the value is a key. exact + regex: the first key (in dictionary order) that matches
 * somewhere in the value. substring + literal: each key found in the value is replaced by its
 * translation, longest keys first. substring + regex: each match of any key is replaced.
 */
export function makeLookup(dictionary: Dictionary, exact: boolean, regex: boolean): Lookup {
  if (exact && !regex) return (value) => dictionary.get(value);
  if (exact && regex) {
    const keys = compileKeys(dictionary);
    return (value) => {
      for (const [pattern, translation] of keys) if (pattern.test(value)) return translation;
      return undefined;
    };
  }
  if (dictionary.size === 0) return () => undefined;
  if (!regex) {
    const keys = [...dictionary.keys()].filter((k) => k !== '').sort((a, b) => b.length - a.length);
    if (keys.length === 0) return () => undefined;
    const union = new RegExp(keys.map(escapeRegex).join('|'), 'g');
    return (value) => substitute(value, union, (match) => dictionary.get(match));
  }
  const keys = compileKeys(dictionary);
  const union = new RegExp(keys.map(([pattern]) => `(?:${pattern.source})`).join('|'), 'g');
  return (value) =>
    substitute(value, union, (match) => {
      for (const [pattern, translation] of keys) {
        const whole = pattern.exec(match);
        if (whole && whole[0] === match) return translation;
      }
      return undefined;
    });
}

function substitute(value: string, union: RegExp, translate: (match: string) => PipelineValue | undefined): string | undefined {
  if (value.length > MAX_SUBSTRING_TEXT) return undefined;
  let changed = false;
  const result = value.replace(union, (match) => {
    const translation = translate(match);
    if (translation === undefined || match === '') return match;
    changed = true;
    return typeof translation === 'string' ? translation : JSON.stringify(translation);
  });
  return changed ? result : undefined;
}
