/**
 * The `kv` filter: reads `key=value` pairs out of text (`a=1 b="two words" c=[x y]`), as Logstash's
 * logstash-filter-kv does.
 *
 * `field_split` and `value_split` are sets of characters, placed inside a regular-expression class as
 * Logstash does (so `field_split => "&?"` splits at either, and `"\t"` means a tab); with those, a
 * hand-written scanner reads the text in one pass, giving what Logstash's scan expression gives. With
 * `field_split_pattern` or `value_split_pattern`, Logstash's own expression is built and run, under
 * the pipeline's watchdog (`timeout_millis`, tagged `tag_on_timeout` when it ran away before).
 *
 * A value may be quoted ("…" or '…') or, with `include_brackets`, wrapped in (), [] or <>; the
 * wrapping is removed. Empty values are dropped. In `whitespace => lenient` (the default) spaces around
 * the value splitter are allowed. A key seen twice becomes an array of its values.
 *
 * Limits and differences: at most MAX_KV_PAIRS pairs are read from one event (the rest are dropped and
 * the event is also tagged `_kv_filter_error`); `recursive` goes at most MAX_KV_DEPTH levels deep; with a
 * *_pattern, text longer than MAX_PATTERN_TEXT is not parsed (tagged `_kv_filter_error`); a backslash
 * escapes the next character of a key or unquoted value without Logstash's backtracking over it; keys
 * `@metadata`, `@timestamp` and `__proto__` are not set at the top of the event; a source field that is
 * neither text nor a list of texts is tagged `_kv_filter_error` (Logstash only logs it).
 */
import type { PipelineEvent, PipelineObject, PipelineValue } from '../event.js';
import type { FieldPath } from '../field-ref.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory, PipelineLogger, Watchdog } from '../plugin.js';
import type { Settings } from '../settings.js';
import { Template } from '../sprintf.js';

export const MAX_KV_PAIRS = 1000;
export const MAX_KV_DEPTH = 8;
export const MAX_PATTERN_TEXT = 256 * 1024;

/** Reads raw key/value pairs out of one text, in order; empty values are already left out. */
export interface KvScanner {
  scan(text: string, limit: number): Array<[string, string]>;
}

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const CLOSERS: Readonly<Record<string, string>> = { '"': '"', "'": "'" };
const BRACKETS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '<': '>' };

/** Characters given as the inside of a regular-expression class, as Logstash reads them. */
export function characterClass(chars: string): string {
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length) {
      out += c + chars[++i];
      continue;
    }
    out += c === ']' || c === '[' || (c === '^' && i === 0) || c === '/' ? '\\' + c : c;
  }
  return out;
}

/** The one-pass scanner for character-set splitters (the common case). */
export class CharScanner implements KvScanner {
  /** Per UTF-16 code unit: 1 = field splitter, 2 = value splitter. */
  private readonly table = new Uint8Array(65536);
  private readonly closers: Readonly<Record<string, string>>;

  constructor(fieldClass: RegExp, valueClass: RegExp, private readonly lenient: boolean, brackets: boolean) {
    for (let c = 0; c < 65536; c++) {
      const ch = String.fromCharCode(c);
      if (fieldClass.test(ch)) this.table[c] |= 1;
      if (valueClass.test(ch)) this.table[c] |= 2;
    }
    this.closers = brackets ? { ...CLOSERS, ...BRACKETS } : CLOSERS;
  }

  scan(text: string, limit: number): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    const n = text.length;
    const t = this.table;
    let p = 0;
    while (p < n && pairs.length < limit) {
      let e = p;
      while (e < n) {
        const c = text.charCodeAt(e);
        if (c === BACKSLASH && e + 1 < n && text.charCodeAt(e + 1) !== NEWLINE) e += 2;
        else if (t[c] !== 0) break;
        else e++;
      }
      if (e === p) {
        p++;
        continue;
      }
      let q = e;
      if (this.lenient) while (q < n && text.charCodeAt(q) === SPACE) q++;
      if (q >= n || (t[text.charCodeAt(q)] & 2) === 0) {
        p = e + 1;
        continue;
      }
      q++;
      if (this.lenient) while (q < n && text.charCodeAt(q) === SPACE) q++;
      const key = text.slice(p, e);
      const { value, end } = this.value(text, q);
      if (value !== '') pairs.push([key, value]);
      p = end < n && (t[text.charCodeAt(end)] & 1) !== 0 ? end + 1 : end;
    }
    return pairs;
  }

  /** The value starting at `q` and where it ends (the field splitter after it, or the end of the text). */
  private value(text: string, q: number): { value: string; end: number } {
    const n = text.length;
    const closer = this.closers[text[q]];
    if (closer !== undefined) {
      const closeCode = closer.charCodeAt(0);
      let c = q + 1;
      while (c < n) {
        const code = text.charCodeAt(c);
        if (code === BACKSLASH && c + 1 < n && text.charCodeAt(c + 1) !== NEWLINE) c += 2;
        else if (code === closeCode) break;
        else c++;
      }
      // A wrapped value counts only when a field splitter, a line end or the end of the text follows it.
      if (c < n && (c + 1 === n || (this.table[text.charCodeAt(c + 1)] & 1) !== 0 || text.charCodeAt(c + 1) === NEWLINE)) {
        return { value: text.slice(q + 1, c), end: c + 1 };
      }
    }
    let r = q;
    while (r < n) {
      const code = text.charCodeAt(r);
      if (code === BACKSLASH && r + 1 < n && text.charCodeAt(r + 1) !== NEWLINE) r += 2;
      else if ((this.table[code] & 1) !== 0) break;
      else r++;
    }
    return { value: text.slice(q, Math.min(r, n)), end: Math.min(r, n) };
  }
}

/** Logstash's own scan expression, for splitters given as regular expressions. */
export class PatternScanner implements KvScanner {
  private readonly expression: RegExp;

  constructor(fieldPattern: string, valuePattern: string, fieldIsPattern: boolean, fieldClass: string, lenient: boolean, brackets: boolean) {
    const fsp = `(?:${fieldPattern})`;
    const vsp = lenient ? `(?: *(?:${valuePattern}) *)` : `(?:${valuePattern})`;
    const key = `((?:\\\\.|(?!${vsp}|${fsp}).)+)`;
    const wrapped = (open: string, close: string) => `${escape(open)}((?:\\\\.|[^${escape(close)}])+)?${escape(close)}`;
    const values = [wrapped('"', '"'), wrapped("'", "'")];
    if (brackets) values.push(wrapped('(', ')'), wrapped('[', ']'), wrapped('<', '>'));
    values.push(fieldIsPattern ? `((?:\\\\.|(?!${fsp}).)+)` : `((?:\\\\.|[^${fieldClass}])+)`);
    this.expression = new RegExp(`${key}${vsp}(?:${values.join('|')})?(?:${fsp}|$)`, 'gm');
  }

  scan(text: string, limit: number): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    for (const match of text.matchAll(this.expression)) {
      const value = match.slice(2).find((v) => v !== undefined);
      if (value !== undefined && value !== '') pairs.push([match[1], value]);
      if (pairs.length >= limit) break;
    }
    return pairs;
  }
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

type Transform = 'lowercase' | 'uppercase' | 'capitalize';
const TRANSFORMS: readonly Transform[] = ['lowercase', 'uppercase', 'capitalize'];

function transform(text: string, how: Transform | undefined): string {
  switch (how) {
    case undefined:
      return text;
    case 'lowercase':
      return text.toLowerCase();
    case 'uppercase':
      return text.toUpperCase();
    case 'capitalize':
      return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
  }
}

function classRegExp(settings: Settings, name: string, chars: string, flags = ''): RegExp {
  try {
    return new RegExp(`[${characterClass(chars)}]`, flags);
  } catch (error) {
    throw settings.error(name, `is not a usable set of characters: ${(error as Error).message}`);
  }
}

const RESERVED_TOP = new Set(['@metadata', '@timestamp', '__proto__']);

export const kvFilter: FilterFactory = (settings, context) => {
  const sourceText = settings.string('source', 'message');
  const source = settings.fieldPath('source', sourceText);
  const targetText = settings.string('target');
  const target: FieldPath | null = targetText === undefined ? null : settings.fieldPath('target', targetText);
  const fieldSplit = settings.string('field_split', ' ');
  const valueSplit = settings.string('value_split', '=');
  if (valueSplit === '') throw settings.error('value_split', 'must not be empty');
  if (fieldSplit === '') throw settings.error('field_split', 'must not be empty');
  const fieldSplitPattern = settings.string('field_split_pattern');
  const valueSplitPattern = settings.string('value_split_pattern');
  if (fieldSplitPattern === '') throw settings.error('field_split_pattern', 'must not be empty');
  if (valueSplitPattern === '') throw settings.error('value_split_pattern', 'must not be empty');
  const lenient = settings.choice('whitespace', ['lenient', 'strict'] as const, 'lenient') === 'lenient';
  const brackets = settings.boolean('include_brackets', true);
  const recursive = settings.boolean('recursive', false);
  const allowDuplicates = settings.boolean('allow_duplicate_values', true);
  const includeKeys = settings.strings('include_keys').map((k) => new Template(k));
  const excludeKeys = settings.strings('exclude_keys').map((k) => new Template(k));
  const prefix = new Template(settings.string('prefix', ''));
  const trimKey = optionalRegExp(settings, 'trim_key', (c) => `^[${c}]+|[${c}]+$`, 'gm');
  const trimValue = optionalRegExp(settings, 'trim_value', (c) => `^[${c}]+|[${c}]+$`, 'gm');
  const removeKey = optionalRegExp(settings, 'remove_char_key', (c) => `[${c}]`, 'g');
  const removeValue = optionalRegExp(settings, 'remove_char_value', (c) => `[${c}]`, 'g');
  const transformKey = settings.has('transform_key') ? settings.choice('transform_key', TRANSFORMS, 'lowercase') : undefined;
  const transformValue = settings.has('transform_value') ? settings.choice('transform_value', TRANSFORMS, 'lowercase') : undefined;
  const defaults = settings.pairs('default_keys');
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_kv_filter_error'];
  const tagOnTimeout = settings.string('tag_on_timeout', '_kv_filter_timeout');
  const timeoutMs = settings.number('timeout_millis', 30_000, { integer: true, min: 0 });
  const decorate = filterDecoration(settings);
  settings.done();

  const usesPattern = fieldSplitPattern !== undefined || valueSplitPattern !== undefined;
  let scanner: KvScanner;
  try {
    const fieldClass = characterClass(fieldSplit);
    scanner = usesPattern
      ? new PatternScanner(fieldSplitPattern ?? `[${fieldClass}]`, valueSplitPattern ?? `[${characterClass(valueSplit)}]`, fieldSplitPattern !== undefined, fieldClass, lenient, brackets)
      : new CharScanner(classRegExp(settings, 'field_split', fieldSplit), classRegExp(settings, 'value_split', valueSplit), lenient, brackets);
  } catch (error) {
    if (error instanceof SyntaxError) throw settings.error(fieldSplitPattern !== undefined ? 'field_split_pattern' : 'value_split_pattern', `is not a valid regular expression: ${error.message}`);
    throw error;
  }

  const label = `filter kv (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const warn = boundedWarn(context.logger, label);
  const watchdog: Watchdog = context.watchdog;

  /** What went wrong with an event, if anything, beside the pairs read. */
  interface Outcome {
    failed: boolean;
    timedOut: boolean;
  }

  const scanText = (text: string, outcome: Outcome, limit: number): Array<[string, string]> => {
    if (!usesPattern) return scanner.scan(text, limit);
    if (text.length > MAX_PATTERN_TEXT) {
      outcome.failed = true;
      warn(`text of ${text.length} characters is longer than the ${MAX_PATTERN_TEXT} a *_pattern may scan`);
      return [];
    }
    if (!watchdog.arm(timeoutMs)) {
      outcome.timedOut = true;
      return [];
    }
    try {
      return scanner.scan(text, limit);
    } finally {
      watchdog.disarm();
    }
  };

  const parse = (text: string, event: PipelineEvent, into: Map<string, PipelineValue>, depth: number, outcome: Outcome, budget: { left: number }): void => {
    const include = includeKeys.map((k) => k.render(event));
    const exclude = excludeKeys.map((k) => k.render(event));
    const prefixText = prefix.render(event);
    // One pair past the budget shows whether there were more than it allows.
    const pairs = scanText(text, outcome, budget.left + 1);
    if (pairs.length > budget.left) {
      pairs.length = budget.left;
      if (!outcome.failed) warn(`more than ${MAX_KV_PAIRS} pairs in one event; the rest are dropped`);
      outcome.failed = true;
    }
    budget.left -= pairs.length;
    for (const [rawKey, rawValue] of pairs) {
      let key = rawKey;
      if (trimKey) key = key.replace(trimKey, '');
      if (removeKey) key = key.replace(removeKey, '');
      key = transform(key, transformKey);
      if (include.length > 0 && !include.includes(key)) continue;
      if (exclude.includes(key)) continue;
      key = prefixText + key;
      let text = rawValue;
      if (trimValue) text = text.replace(trimValue, '');
      if (removeValue) text = text.replace(removeValue, '');
      text = transform(text, transformValue);
      const existing = into.get(key);
      if (!allowDuplicates && existing !== undefined && (Array.isArray(existing) ? existing.includes(text) : existing === text)) continue;
      let value: PipelineValue = text;
      if (recursive && depth < MAX_KV_DEPTH && budget.left > 0) {
        const inner = new Map<string, PipelineValue>();
        parse(text, event, inner, depth + 1, outcome, budget);
        if (inner.size > 0) value = toObject(inner);
      }
      if (existing === undefined) into.set(key, value);
      else if (Array.isArray(existing)) existing.push(value);
      else into.set(key, [existing, value]);
    }
  };

  const handle = (event: PipelineEvent): void => {
    const value = event.get(source);
    const outcome: Outcome = { failed: false, timedOut: false };
    const found = new Map<string, PipelineValue>();
    const budget = { left: MAX_KV_PAIRS };
    if (typeof value === 'string') parse(value, event, found, 0, outcome, budget);
    else if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'string' && budget.left > 0) parse(item, event, found, 0, outcome, budget);
    } else if (value !== undefined && value !== null) {
      outcome.failed = true;
      warn(`field "${sourceText}" holds a ${typeof value}; only text and lists of text can be read`);
    }
    if (outcome.timedOut) {
      event.addTag(tagOnTimeout);
      return;
    }
    const result = new Map<string, PipelineValue>(defaults);
    for (const [k, v] of found) result.set(k, v);
    if (result.size > 0) {
      if (target !== null) event.set(target, toObject(result));
      else for (const [k, v] of result) if (k !== '' && !RESERVED_TOP.has(k)) event.set([k], v);
    }
    if (outcome.failed) for (const tag of tagOnFailure) event.addTag(tag);
    else if (result.size > 0) decorate(event);
  };

  return {
    label,
    process(events) {
      for (const event of events) handle(event);
      return events;
    },
  };
};

function optionalRegExp(settings: Settings, name: string, build: (chars: string) => string, flags: string): RegExp | null {
  const chars = settings.string(name);
  if (chars === undefined || chars === '') return null;
  try {
    return new RegExp(build(characterClass(chars)), flags);
  } catch (error) {
    throw settings.error(name, `is not a usable set of characters: ${(error as Error).message}`);
  }
}

/** A plain object from pairs, with every key its own property (even `__proto__`). */
function toObject(entries: Map<string, PipelineValue>): PipelineObject {
  const out: PipelineObject = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  return out;
}

function boundedWarn(logger: PipelineLogger, label: string): (message: string) => void {
  let count = 0;
  return (message) => {
    count++;
    if (count <= 10 || count % 1000 === 0) logger.warn(`${label}: ${message}${count > 1 ? ` (${count} times so far)` : ''}`);
  };
}
