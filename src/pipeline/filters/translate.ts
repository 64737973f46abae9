/**
 * The `translate` filter: looks a field's value up in a dictionary (inline, or a YAML/JSON/CSV file
 * read again when it changes) and writes the translation, or `fallback`, to `target`.
 *
 * Newer Logstash names (`source`, `target`) and the older ones (`field`, `destination`) are both read;
 * giving both of a pair is a mistake. The target defaults to "translation", Logstash's legacy default.
 */
import { filterDecoration } from '../common.js';
import type { PipelineEvent, PipelineValue } from '../event.js';
import { isObject } from '../event.js';
import type { FieldPath } from '../field-ref.js';
import type { FilterFactory, PipelineLogger, Watchdog } from '../plugin.js';
import type { Settings } from '../settings.js';
import { Template } from '../sprintf.js';
import { LruCache } from './lru.js';
import { formatOfPath, makeLookup, parseDictionary, type Dictionary, type Lookup } from './translate-dictionary.js';
import { boundedWarn } from './warn-limit.js';
import { WatchedFile } from './watched-file.js';

/** How long one regex lookup may run before the pipeline's watchdog may stop it. */
const REGEX_STEP_MS = 1000;
const REGEX_CACHE_SIZE = 10_000;

export const translateFilter: FilterFactory = (settings, context) => {
  const label = `filter translate (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const source = settings.fieldPath(pickName(settings, 'source', 'field'), eitherOf(settings, 'source', 'field', true) as string);
  const target = settings.fieldPath(pickName(settings, 'target', 'destination'), eitherOf(settings, 'target', 'destination', false) ?? 'translation');
  const exact = settings.boolean('exact', true);
  const regex = settings.boolean('regex', false);
  const override = settings.boolean('override', false);
  const fallbackText = settings.string('fallback');
  const fallback = fallbackText === undefined ? undefined : new Template(fallbackText);
  const iterateOnText = settings.string('iterate_on');
  const iterateOn = iterateOnText === undefined ? undefined : settings.fieldPath('iterate_on', iterateOnText);
  const dictionaries = dictionarySource(settings, context.logger, label, exact, regex);
  settings.accept('yaml_dictionary_code_point_limit', 'yaml_load_strategy');
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);
  const translateText = guardedLookup(dictionaries, regex, context.watchdog, warn);

  /** The translation of one value, or the fallback; undefined when neither applies. */
  const translate = (value: PipelineValue | undefined, event: PipelineEvent): PipelineValue | undefined => {
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) return undefined;
    const found = first === null || typeof first === 'object' ? undefined : translateText(String(first));
    if (found !== undefined) return found;
    return fallback?.render(event);
  };

  const one = (event: PipelineEvent): boolean => {
    if (!override && event.has(target)) return false;
    const value = event.get(source);
    if (value === undefined) return false;
    const result = translate(value, event);
    if (result === undefined) return false;
    event.set(target, result);
    return true;
  };

  /** iterate_on: the field holds a list; each item is translated (a list of values) or enriched (a list of hashes). */
  const each = (event: PipelineEvent, path: FieldPath): boolean => {
    const list = event.get(path);
    if (!Array.isArray(list)) return false;
    if (samePath(path, source)) {
      if (!override && event.has(target)) return false;
      const results = list.map((item) => translate(item, event));
      if (results.every((r) => r === undefined)) return false;
      event.set(target, results.map((r, i) => (r === undefined ? list[i] : r)));
      return true;
    }
    let translatedSome = false;
    for (const item of list) {
      if (!isObject(item)) continue;
      if (!override && getIn(item, target) !== undefined) continue;
      const result = translate(getIn(item, source), event);
      if (result === undefined) continue;
      setIn(item, target, result);
      translatedSome = true;
    }
    return translatedSome;
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        const done = iterateOn ? each(event, iterateOn) : one(event);
        if (done) decorate(event);
      }
      return events;
    },
  };
};

/** The name used of a new/old pair, for messages. */
function pickName(settings: Settings, current: string, legacy: string): string {
  return settings.has(legacy) && !settings.has(current) ? legacy : current;
}

function eitherOf(settings: Settings, current: string, legacy: string, required: boolean): string | undefined {
  const now = settings.string(current);
  const old = settings.string(legacy);
  if (now !== undefined && old !== undefined) throw settings.error(legacy, `is the older name of "${current}": give only one of them`);
  const value = now ?? old;
  if (value === undefined && required) throw settings.error(current, `is required: the field whose value is looked up (older name: "${legacy}")`);
  return value;
}

interface DictionarySource {
  current(): Lookup;
}

function dictionarySource(settings: Settings, logger: PipelineLogger, label: string, exact: boolean, regex: boolean): DictionarySource {
  const inline = settings.pairs('dictionary');
  const path = settings.string('dictionary_path');
  const refreshSeconds = settings.number('refresh_interval', 300, { min: 0 });
  const behaviour = settings.choice('refresh_behaviour', ['merge', 'replace'] as const, 'merge');
  if (path !== undefined && inline.length > 0) throw settings.error('dictionary_path', 'and "dictionary" cannot both be given: choose one');
  if (path === undefined) {
    if (!settings.has('dictionary')) throw settings.error('dictionary', 'or "dictionary_path" is required');
    try {
      const lookup = makeLookup(new Map(inline), exact, regex);
      return { current: () => lookup };
    } catch (error) {
      throw settings.error('dictionary', (error as Error).message);
    }
  }
  const format = formatOfPath(path);
  if (!format) throw settings.error('dictionary_path', `must end in .yml, .yaml, .json or .csv, not "${path}"`);
  // Merge (Logstash's default) keeps keys a reload no longer lists; replace drops them.
  let merged: Dictionary = new Map();
  const load = (text: string): Lookup => {
    const fresh = parseDictionary(text, format);
    const next = behaviour === 'merge' ? new Map([...merged, ...fresh]) : fresh;
    const lookup = makeLookup(next, exact, regex);
    merged = next;
    return lookup;
  };
  try {
    const file = new WatchedFile(path, refreshSeconds * 1000, load, logger);
    return { current: () => file.current() };
  } catch (error) {
    throw settings.error('dictionary_path', `cannot be read: ${(error as Error).message}`);
  }
}

/** Regex lookups are cached (the same values recur) and run under the watchdog (a key may backtrack). */
function guardedLookup(dictionaries: DictionarySource, regex: boolean, watchdog: Watchdog, warn: (message: string) => void): (text: string) => PipelineValue | undefined {
  if (!regex) return (text) => dictionaries.current()(text);
  const cache = new LruCache<string, { lookup: Lookup; result: PipelineValue | undefined }>(REGEX_CACHE_SIZE);
  return (text) => {
    const lookup = dictionaries.current();
    const cached = cache.get(text);
    // A cached answer holds only for the dictionary it came from: a reload makes a new lookup.
    if (cached && cached.lookup === lookup) return cached.result;
    if (!watchdog.arm(REGEX_STEP_MS)) {
      warn(`a regex lookup of "${text.slice(0, 80)}" ran too long before; it is skipped`);
      return undefined;
    }
    try {
      const result = lookup(text);
      cache.set(text, { lookup, result });
      return result;
    } finally {
      watchdog.disarm();
    }
  };
}

function samePath(a: FieldPath, b: FieldPath): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

function getIn(object: Record<string, PipelineValue>, path: FieldPath): PipelineValue | undefined {
  let node: PipelineValue | undefined = object;
  for (const part of path) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

function setIn(object: Record<string, PipelineValue>, path: FieldPath, value: PipelineValue): void {
  let node = object;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = isObject(next) ? next : (node[part] = {});
  }
  node[path[path.length - 1]] = value;
}

