/**
 * The tree a query string parses into. The parser knows nothing of SQL or of
 * storage; dialects (./dialects) turn this tree into SQL with parameters.
 *
 * A query is a filter optionally followed by pipes:
 *   status:500 AND host:web-* | stats count() by host | sort -count | head 10
 */

/** Position of a node in the query text, as a 0-based character offset. */
export interface Span {
  start: number;
  end: number;
}

/**
 * `field` is null for bare words and quoted phrases without a field, which search the words of
 * every string field (`message` and the others, as Elasticsearch's `text` fields).
 * A field named `f.keyword` (when no field has that very name) is `f`'s whole value, exactly.
 */
export type FilterNode =
  | { kind: 'all' }
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] }
  | { kind: 'not'; child: FilterNode }
  /**
   * A bare word or `field:value`: the words of the value in a row in a string field, case-insensitively;
   * a number, boolean or time by value. `exact` (Elasticsearch's `term` and `terms`) compares a string
   * field's whole value instead, still case-insensitively.
   */
  | { kind: 'term'; field: string | null; value: string; span: Span; exact?: boolean }
  /** A quoted phrase: `"connection refused"` or `field:"a phrase"`. */
  | { kind: 'phrase'; field: string | null; value: string; span: Span }
  /** A word containing `*` or `?` (unescaped): `host:web-*`, `err*`. `pattern` keeps the wildcards as written, escapes resolved. */
  | { kind: 'wildcard'; field: string | null; pattern: string; span: Span }
  /**
   * A range. Bounds are kept as written (`1000`, `now-1h`, `2026-11-01`, `*` becomes undefined);
   * the dialect types them by the field's type.
   * `bytes:>1000` → { gt: '1000' }; `status:[500 TO 599]` → { gte: '500', lte: '599' };
   * `status:{500 TO 599}` exclusive; mixed brackets `[a TO b}` allowed.
   */
  | { kind: 'range'; field: string; gt?: string; gte?: string; lt?: string; lte?: string; span: Span }
  /** `_exists_:field` */
  | { kind: 'exists'; field: string; span: Span };

export type AggFunction =
  | 'count'
  | 'count_distinct'
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  /** percentile: `p50(x)`, `p95(x)`, `p99.9(x)`; `percentile` is 0..100 */
  | 'percentile';

export interface Aggregation {
  fn: AggFunction;
  /** Absent only for `count()`. */
  field?: string;
  percentile?: number;
  /** The output column name: given with `as name`, else derived (`count`, `avg(duration)`, `p95(duration)`). */
  name: string;
}

export type Pipe =
  /** `| stats count(), avg(duration) as d by host, path` */
  | { kind: 'stats'; aggs: Aggregation[]; by: string[]; span: Span }
  /** `| sort -bytes, host` (a leading `-` means descending) */
  | { kind: 'sort'; keys: { field: string; desc: boolean }[]; span: Span }
  /** `| fields a, b` */
  | { kind: 'fields'; fields: string[]; span: Span }
  /** `| head 100` */
  | { kind: 'head'; n: number; span: Span }
  /** `| top 10 path` or `| top path` (n defaults to 10); several fields count their combinations */
  | { kind: 'top'; n: number; fields: string[]; span: Span };

export interface Query {
  filter: FilterNode;
  pipes: Pipe[];
}

/** A query that does not parse. `position` is a 0-based offset into the text. */
export class QuerySyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly expected: string[],
  ) {
    super(message);
    this.name = 'QuerySyntaxError';
  }
}
