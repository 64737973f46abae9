/**
 * The `dissect` filter: cuts a field into fields at fixed delimiters, without regular expressions, as
 * Logstash's logstash-filter-dissect does. Each `mapping` value is compiled once when the pipeline is built.
 *
 * A pattern is fields `%{…}` with delimiters (any other text) between them:
 * - `%{name}` (or `%{[a][b]}`) captures up to the next delimiter; the last field takes the rest.
 * - `%{}` and `%{?name}` capture and throw away; `%{?key}` with `%{&key}` sets the field named by the
 *   first capture to the second.
 * - `%{+name}` appends to `name` (to the event's value too, if it has one), joined by the delimiter
 *   that comes before the `+` field (a space when none does); `%{+name/2}` orders appends.
 * - `->` after a name (`%{name->}`, `%{->}`) skips repeats of the delimiter after the field (padding).
 *
 * `convert_datatype` turns fields into `int` or `float` after the dissection (Ruby's `to_i`/`to_f`:
 * the leading number, or 0). A delimiter that is missing from the text fails the dissection: the event
 * is tagged `_dissectfailure` (the `tag_on_failure` tags) and none of that mapping's fields is set.
 *
 * Differences from Logstash: two fields with no delimiter between them (`%{a}%{b}`) are refused when
 * the pipeline is built, since there is nothing to cut at; a missing or non-string source field is a failure.
 */
import type { PipelineEvent, PipelineValue } from '../event.js';
import { fieldPathOrNull, parseFieldReference, FieldReferenceError, type FieldPath } from '../field-ref.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';
import type { Settings } from '../settings.js';
import { valueText } from '../sprintf.js';

type Kind = 'normal' | 'skip' | 'append' | 'key' | 'value';

interface Field {
  readonly kind: Kind;
  /** The name as written (for `?`/`&` pairing and for appends). */
  readonly name: string;
  readonly path: FieldPath | null;
  readonly ordinal: number;
  readonly padded: boolean;
  /** The text that ends this field; '' for the last field (it takes the rest). */
  readonly next: string;
  /** The delimiter before this field: what an append joins with. */
  readonly joiner: string;
}

export interface Dissection {
  readonly prefix: string;
  readonly fields: readonly Field[];
}

export class DissectPatternError extends Error {}

/** Compiles one pattern; throws DissectPatternError for one that cannot work. */
export function compileDissection(pattern: string): Dissection {
  const pieces: Array<{ spec: string; after: string }> = [];
  let at = pattern.indexOf('%{');
  if (at < 0) throw new DissectPatternError('has no %{…} field');
  const prefix = pattern.slice(0, at);
  while (at >= 0) {
    const close = pattern.indexOf('}', at + 2);
    if (close < 0) throw new DissectPatternError(`has a "%{" at character ${at + 1} that is never closed`);
    const nextOpen = pattern.indexOf('%{', close + 1);
    pieces.push({ spec: pattern.slice(at + 2, close), after: pattern.slice(close + 1, nextOpen < 0 ? undefined : nextOpen) });
    at = nextOpen;
  }
  const fields: Field[] = [];
  const keys = new Set<string>();
  const values = new Set<string>();
  for (let i = 0; i < pieces.length; i++) {
    const { spec, after } = pieces[i];
    if (after === '' && i < pieces.length - 1) throw new DissectPatternError(`has fields with no delimiter between them ("%{${spec}}" and "%{${pieces[i + 1].spec}}")`);
    const field = readField(spec, after, i === 0 ? prefix : pieces[i - 1].after);
    if (field.kind === 'key') keys.add(field.name);
    if (field.kind === 'value') values.add(field.name);
    fields.push(field);
  }
  for (const name of values) if (!keys.has(name)) throw new DissectPatternError(`has "%{&${name}}" without a "%{?${name}}" to name it`);
  return { prefix, fields };
}

function readField(spec: string, next: string, before: string): Field {
  let body = spec;
  const padded = body.endsWith('->');
  if (padded) body = body.slice(0, -2);
  let kind: Kind = 'normal';
  if (body.startsWith('+')) kind = 'append';
  else if (body.startsWith('?')) kind = 'key';
  else if (body.startsWith('&')) kind = 'value';
  else if (body.startsWith('*')) kind = 'key'; // Logstash's older spelling of `?` for a key
  if (kind !== 'normal') body = body.slice(1);
  let ordinal = 0;
  const ordinalMatch = kind === 'append' ? /\/(\d+)$/.exec(body) : null;
  if (ordinalMatch) {
    ordinal = Number(ordinalMatch[1]);
    body = body.slice(0, ordinalMatch.index);
  }
  if (body === '' && kind === 'normal') kind = 'skip';
  if (body === '' && kind !== 'skip') throw new DissectPatternError(`has a field "%{${spec}}" without a name`);
  let path: FieldPath | null = null;
  if (kind === 'normal' || kind === 'append') {
    try {
      path = parseFieldReference(body);
      if (path.length === 1 && path[0] === '@metadata') throw new DissectPatternError('cannot capture into @metadata itself; name a field inside it, as [@metadata][x]');
    } catch (error) {
      if (error instanceof FieldReferenceError) throw new DissectPatternError(error.message);
      throw error;
    }
  }
  return { kind, name: body, path, ordinal, padded, next, joiner: before === '' ? ' ' : before };
}

/** The captured text of each field, in pattern order, or null when a delimiter is missing. */
export function dissect(dissection: Dissection, text: string): string[] | null {
  let pos = 0;
  if (dissection.prefix !== '') {
    const found = text.indexOf(dissection.prefix);
    if (found < 0) return null;
    pos = found + dissection.prefix.length;
  }
  const captured: string[] = [];
  for (const field of dissection.fields) {
    if (field.next === '') {
      captured.push(text.slice(pos));
      pos = text.length;
      continue;
    }
    const end = text.indexOf(field.next, pos);
    if (end < 0) return null;
    captured.push(text.slice(pos, end));
    pos = end + field.next.length;
    if (field.padded) while (text.startsWith(field.next, pos)) pos += field.next.length;
  }
  return captured;
}

/** Sets the captures as fields: plain fields first, then appends by ordinal, then `?`/`&` pairs, as Logstash does. */
function apply(event: PipelineEvent, dissection: Dissection, captured: readonly string[]): void {
  const fields = dissection.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i].kind === 'normal') event.set(fields[i].path as FieldPath, captured[i]);
  const appends = fields.map((f, i) => ({ f, i })).filter(({ f }) => f.kind === 'append');
  appends.sort((a, b) => a.f.ordinal - b.f.ordinal);
  for (const { f, i } of appends) {
    const path = f.path as FieldPath;
    const old = event.get(path);
    event.set(path, old === undefined || old === null ? captured[i] : valueText(old) + f.joiner + captured[i]);
  }
  const keyOf = new Map<string, string>();
  for (let i = 0; i < fields.length; i++) if (fields[i].kind === 'key') keyOf.set(fields[i].name, captured[i]);
  for (let i = 0; i < fields.length; i++) {
    if (fields[i].kind !== 'value') continue;
    const key = keyOf.get(fields[i].name);
    const path = key === undefined || key === '' ? null : fieldPathOrNull(key);
    if (path !== null && !(path.length === 1 && path[0] === '@metadata')) event.set(path, captured[i]);
  }
}

type Conversion = 'int' | 'float';

export const dissectFilter: FilterFactory = (settings, context) => {
  const mappings = readMappings(settings);
  const conversions = settings.pairs('convert_datatype').map(([field, type]) => {
    if (type !== 'int' && type !== 'float') throw settings.error('convert_datatype', `names an unknown type "${type}" for "${field}"; known: int, float`);
    return [settings.fieldPath('convert_datatype', field), type as Conversion] as const;
  });
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_dissectfailure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const label = `filter dissect (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  let failures = 0;
  const warn = (message: string): void => {
    failures++;
    if (failures <= 10 || failures % 1000 === 0) context.logger.warn(`${label}: ${message}${failures > 1 ? ` (${failures} failures so far)` : ''}`);
  };

  const handle = (event: PipelineEvent): void => {
    let ok = true;
    for (const { field, path, dissection } of mappings) {
      const text = event.get(path);
      if (typeof text !== 'string') {
        ok = false;
        warn(text === undefined ? `the event has no field "${field}" to dissect` : `field "${field}" is not text`);
        continue;
      }
      const captured = dissect(dissection, text);
      if (captured === null) {
        ok = false;
        warn(`the pattern for "${field}" does not fit the text`);
        continue;
      }
      apply(event, dissection, captured);
    }
    for (const [path, type] of conversions) {
      const value = event.get(path);
      if (value !== undefined) event.set(path, convert(value, type));
    }
    if (ok) decorate(event);
    else for (const tag of tagOnFailure) event.addTag(tag);
  };

  return {
    label,
    process(events) {
      for (const event of events) handle(event);
      return events;
    },
  };
};

function readMappings(settings: Settings): Array<{ field: string; path: FieldPath; dissection: Dissection }> {
  return settings.pairs('mapping').map(([field, pattern]) => {
    try {
      return { field, path: settings.fieldPath('mapping', field), dissection: compileDissection(pattern) };
    } catch (error) {
      if (error instanceof DissectPatternError) throw settings.error('mapping', `for "${field}" ${error.message}`);
      throw error;
    }
  });
}

/** Ruby's to_i / to_f: the leading number of the text, 0 when there is none. */
function convert(value: PipelineValue, type: Conversion): PipelineValue {
  if (typeof value === 'number') return type === 'int' ? Math.trunc(value) : value;
  if (typeof value !== 'string') return value;
  const match = (type === 'int' ? /^\s*[+-]?\d+/ : /^\s*[+-]?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/).exec(value);
  if (!match) return 0;
  const n = Number(match[0].trim());
  return Number.isFinite(n) ? n : 0;
}
