/**
 * What a SQL dialect needs to know about fields, supplied by the store that
 * owns the columns. Dialects never see column names chosen by users: field
 * names map to identifiers the store generated.
 */
import type { FieldType } from '../../core/event.js';

export interface ColumnRef {
  /** The field's name, as users write it; the overflow map is keyed by it. */
  name: string;
  type: FieldType;
  /** SQL expression for the field's typed column, or null when its values live only in the overflow map. */
  column: string | null;
  /** True when some of the field's values are kept in the overflow map (type conflicts, or past the column limit). */
  overflow: boolean;
  /** Full-text field (`message`): terms match whole words, not the whole value. */
  fullText: boolean;
  /** A list column (`tags`): terms match any element. */
  list?: boolean;
  /**
   * A string field searched by its words, as Elasticsearch's `text` (with a `keyword` sub-field):
   * `f:word` and `f:"a phrase"` match words in a row; wildcards still match the whole value.
   * False for ids, index names and lists, whose values are matched whole.
   */
  words?: boolean;
  /** `f.keyword`: the whole value of `f`, case-sensitively, as Elasticsearch's `keyword` sub-field. */
  keyword?: boolean;
}

export interface DialectContext {
  resolve(field: string): ColumnRef | undefined;
  /** Registers a parameter and returns its placeholder. Every user value goes through here. */
  param(value: string | number | boolean): string;
  nowMs: number;
  /**
   * The string fields other than `message` in which a bare word (`bad3e66365154cd4`, no field)
   * may be found, as the store's index says; none when absent (message only).
   */
  bareColumns?(value: string): ColumnRef[];
}

/** What names a string field's whole value (`host.keyword`), as Elasticsearch's dynamic mapping does. */
export const KEYWORD_SUFFIX = '.keyword';

/**
 * How a term on a non-message field compares: `null` by its words (a string field, as Elasticsearch's
 * `text`), `exact` the whole value case-sensitively (`f.keyword`), `value` the whole value
 * case-insensitively (ids, index names, lists, Elasticsearch's `term`), or by value for numbers and times.
 */
export function wholeValueMatch(ref: ColumnRef, exact: boolean): 'exact' | 'value' | null {
  if (ref.keyword) return 'exact';
  return ref.words && !exact ? null : 'value';
}
