/**
 * The `csv` filter: reads one row of comma-separated values from a field into named fields, with
 * RFC 4180 quoting (a quoted value may hold the separator, newlines and doubled quotes `""`).
 *
 * As in Logstash (which reads the field with Ruby's `CSV.parse_line`): a value is named by `columns`,
 * else `column1`, `column2`, … (`autogenerate_column_names`), else dropped; an empty unquoted value is
 * null and a quoted `""` is ""; a quote inside an unquoted value, text after a closing quote and an
 * unclosed quote are failures, tagged `_csvparsefailure`; only the first row of the text is read.
 * `autodetect_column_names` takes the first row the filter sees as the names (and drops that event);
 * `skip_header` drops a row equal to the names; `skip_empty_rows` drops an event whose field is empty.
 *
 * `convert` turns columns into integer, float, boolean, date or date_time; a value that does not
 * convert stays text. date and date_time become ISO-8601 times (Logstash makes them timestamps).
 * A row of more than MAX_COLUMNS values is a failure, so that a hostile line cannot make a huge event.
 */
import type { PipelineEvent, PipelineValue } from '../event.js';
import { fieldPathOrNull, type FieldPath } from '../field-ref.js';
import { filterDecoration } from '../common.js';
import type { FilterFactory } from '../plugin.js';

export const MAX_COLUMNS = 4096;

export class CsvError extends Error {}

/** One row: its values (null for an empty unquoted one), or a CsvError. An empty text is an empty row. */
export function parseCsvRow(text: string, separator: string, quote: string): Array<string | null> {
  const values: Array<string | null> = [];
  if (text === '' || text === '\n' || text === '\r\n') return values;
  let pos = 0;
  const n = text.length;
  for (;;) {
    if (values.length >= MAX_COLUMNS) throw new CsvError(`the row has more than ${MAX_COLUMNS} values`);
    let value: string | null;
    if (text.startsWith(quote, pos)) {
      let out = '';
      let from = pos + 1;
      for (;;) {
        const close = text.indexOf(quote, from);
        if (close < 0) throw new CsvError(`a quoted value that starts at character ${pos + 1} is never closed`);
        out += text.slice(from, close);
        if (text.startsWith(quote, close + 1)) {
          out += quote;
          from = close + 2;
          continue;
        }
        pos = close + 1;
        break;
      }
      value = out;
    } else {
      let end = pos;
      while (end < n && !text.startsWith(separator, end) && text[end] !== '\n' && text[end] !== '\r') end++;
      const raw = text.slice(pos, end);
      if (raw.includes(quote)) throw new CsvError(`a quote inside an unquoted value at character ${pos + raw.indexOf(quote) + 1}`);
      value = raw === '' ? null : raw;
      pos = end;
    }
    values.push(value);
    if (pos >= n) return values;
    if (text.startsWith(separator, pos)) {
      pos += separator.length;
      if (pos >= n) {
        values.push(null);
        return values;
      }
      continue;
    }
    if (text[pos] === '\n' || text[pos] === '\r') return values; // the end of the first row: the rest is not read
    throw new CsvError(`unexpected text after a quoted value at character ${pos + 1}`);
  }
}

type Conversion = 'integer' | 'float' | 'boolean' | 'date' | 'date_time';
const CONVERSIONS: readonly Conversion[] = ['integer', 'float', 'boolean', 'date', 'date_time'];

export const csvFilter: FilterFactory = (settings, context) => {
  const sourceText = settings.string('source', 'message');
  const source = settings.fieldPath('source', sourceText);
  const targetText = settings.string('target');
  const target = targetText === undefined ? null : settings.fieldPath('target', targetText);
  let columns = settings.strings('columns');
  const separator = settings.string('separator', ',');
  if (separator === '') throw settings.error('separator', 'must not be empty');
  const quote = settings.string('quote_char', '"');
  if ([...quote].length !== 1) throw settings.error('quote_char', 'must be a single character');
  if (separator.includes(quote)) throw settings.error('quote_char', 'must differ from the separator');
  const autodetect = settings.boolean('autodetect_column_names', false);
  const autogenerate = settings.boolean('autogenerate_column_names', true);
  const skipEmptyColumns = settings.boolean('skip_empty_columns', false);
  const skipEmptyRows = settings.boolean('skip_empty_rows', false);
  const skipHeader = settings.boolean('skip_header', false);
  const conversions = new Map<string, Conversion>();
  for (const [column, type] of settings.pairs('convert')) {
    if (!(CONVERSIONS as readonly string[]).includes(type)) throw settings.error('convert', `names an unknown type "${type}" for "${column}"; known: ${CONVERSIONS.join(', ')}`);
    conversions.set(column, type as Conversion);
  }
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_csvparsefailure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const label = `filter csv (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  let failures = 0;
  const fail = (event: PipelineEvent, reason: string): void => {
    for (const tag of tagOnFailure) event.addTag(tag);
    failures++;
    if (failures <= 10 || failures % 1000 === 0) context.logger.warn(`${label}: ${reason}${failures > 1 ? ` (${failures} failures so far)` : ''}`);
  };
  let detected = !autodetect;

  const pathOf = (name: string, configured: boolean): FieldPath | null => {
    // A configured name may be a field reference ([a][b]); a name read from the data is always one field.
    const own = configured && name.startsWith('[') ? fieldPathOrNull(name) : [name];
    if (own === null || name === '') return null;
    if (target !== null) return [...target, ...own];
    return own.length === 1 && own[0] === '@metadata' ? null : own;
  };

  const handle = (event: PipelineEvent): void => {
    const text = event.get(source);
    if (text === undefined || text === null) return;
    if (typeof text !== 'string') return fail(event, `field "${sourceText}" is not text`);
    let values: Array<string | null>;
    try {
      values = parseCsvRow(text, separator, quote);
    } catch (error) {
      if (error instanceof CsvError) return fail(event, error.message);
      throw error;
    }
    if (values.length === 0) {
      if (skipEmptyRows) event.cancelled = true;
      return;
    }
    if (!detected) {
      columns = values.map((v) => v ?? '');
      detected = true;
      event.cancelled = true;
      return;
    }
    if (skipHeader && values.length === columns.length && values.every((v, i) => (v ?? '') === columns[i])) {
      event.cancelled = true;
      return;
    }
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (skipEmptyColumns && (value === null || value === '')) continue;
      const name = i < columns.length ? columns[i] : autogenerate ? `column${i + 1}` : null;
      if (name === null) continue;
      const path = pathOf(name, i < columns.length && !autodetect);
      if (path === null) continue;
      const type = conversions.get(name);
      event.set(path, type === undefined || value === null ? value : convert(value, type));
    }
    decorate(event);
  };

  return {
    label,
    process(events) {
      for (const event of events) handle(event);
      return events.filter((e) => !e.cancelled);
    },
  };
};

function convert(value: string, type: Conversion): PipelineValue {
  const text = value.trim();
  switch (type) {
    case 'integer':
      return /^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : value;
    case 'float':
      return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : value;
    case 'boolean': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : value;
    }
    case 'date':
    case 'date_time': {
      const ms = Date.parse(text);
      if (!Number.isFinite(ms)) return value;
      return type === 'date' ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString();
    }
  }
}
