/**
 * Compiles the query tree into DuckDB SQL. Every value the user typed becomes
 * a parameter; identifiers come from the store's ColumnRefs; regular
 * expressions are built only from words (letters, digits, `_`) and escaped
 * literals, so no user text reaches SQL or RE2 unescaped.
 */
import { parseTimeExpr } from '../../core/time.js';
import { asciiLower, queryChunks, words } from '../../core/tokens.js';
import type { FilterNode, Pipe } from '../ast.js';
import { QueryError } from '../../store/store.js';
import { wholeValueMatch, type ColumnRef, type DialectContext } from './dialect.js';

/** The overflow map column: field name → value as text. */
export const OVERFLOW_COLUMN = '_overflow';

const WORD_CLASS = '[0-9A-Za-z_\\x{80}-\\x{10FFFF}]';
const NON_WORD = '[^0-9A-Za-z_\\x{80}-\\x{10FFFF}]';
/** A non-word character that is not whitespace (isSpaceCode): what joins the words of one token. */
const PUNCTUATION = '[^0-9A-Za-z_\\x{80}-\\x{10FFFF}\\t\\n\\f\\r ]';

export function compileFilter(node: FilterNode, ctx: DialectContext): string {
  switch (node.kind) {
    case 'all':
      return 'TRUE';
    case 'and': {
      if (node.children.length === 0) return 'TRUE';
      // Field comparisons before text scans: `Firefox AND host:web-3` runs the regular expressions
      // only on the rows of web-3 (AND is commutative; NULLs filter alike in either order).
      const ordered = [...node.children].sort((a, b) => scanCost(a, ctx) - scanCost(b, ctx));
      return `(${ordered.map((c) => compileFilter(c, ctx)).join(' AND ')})`;
    }
    case 'or': {
      if (node.children.length === 0) return 'FALSE';
      // Many terms on one plain text field (`_id:(a OR b OR …)`, Elasticsearch `terms`) become one IN list.
      const lists = new Map<string, string[]>();
      const rest: FilterNode[] = [];
      for (const c of node.children) {
        const ref = c.kind === 'term' && c.field !== null ? ctx.resolve(c.field) : undefined;
        const whole = c.kind === 'term' && ref ? wholeValueMatch(ref, c.exact === true) : null;
        if (c.kind === 'term' && c.field !== null && ref && ref.column && ref.type === 'string' && !ref.fullText && whole && !ref.list && !ref.overflow) {
          const list = lists.get(c.field) ?? [];
          list.push(whole === 'exact' ? c.value : c.value.toLowerCase());
          lists.set(c.field, list);
        } else rest.push(c);
      }
      const parts = rest.map((c) => compileFilter(c, ctx));
      for (const [field, values] of lists) {
        const ref = ctx.resolve(field) as ColumnRef;
        const expr = ref.keyword ? (ref.column as string) : `lower(${ref.column})`;
        parts.push(
          values.length === 1 ? `${expr} = ${ctx.param(values[0])}` : `${expr} IN (${values.map((v) => ctx.param(v)).join(', ')})`,
        );
      }
      return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
    }
    case 'not':
      // A predicate over a missing field is NULL, which filters like FALSE everywhere but under NOT:
      // NOT must see FALSE, so that `NOT host:a` keeps events without a host. (Wrapping every leaf
      // in coalesce() instead kept DuckDB from short-circuiting `contains(…) AND regexp_matches(…)`:
      // phrase scans took 2.8× as long.)
      return `(NOT coalesce(${compileFilter(node.child, ctx)}, FALSE))`;
    case 'exists': {
      const ref = ctx.resolve(node.field);
      if (!ref) return 'FALSE';
      // Overflowed values are tested as text: a value of the wrong type still exists.
      return anyOf(ref, (expr) => `${expr} IS NOT NULL`, ctx, true);
    }
    case 'term':
    case 'phrase': {
      const field = node.field ?? 'message';
      const ref = ctx.resolve(field);
      if (!ref) return 'FALSE';
      // A bare word with inner punctuation (10.0.0.1, /api/v1) is matched as the phrase of its words, as Elasticsearch does.
      if (ref.fullText) {
        const inMessage = fullTextMatch(ref.column ?? 'NULL', node.value, ctx);
        if (node.field !== null) return inMessage;
        // A bare word also finds the events where it is a word of another string field (request_id, service, msg).
        const others = (ctx.bareColumns?.(node.value) ?? []).map((r) => wordsMatch(r, node.value, ctx));
        return others.length === 0 ? inMessage : `(${[inMessage, ...others].join(' OR ')})`;
      }
      const whole = wholeValueMatch(ref, node.kind === 'term' && node.exact === true);
      if (whole === null) return wordsMatch(ref, node.value, ctx);
      return whole === 'exact' ? keywordEquals(ref, node.value, ctx) : valueEquals(ref, node.value, ctx);
    }
    case 'wildcard': {
      const field = node.field ?? 'message';
      const ref = ctx.resolve(field);
      if (!ref) return 'FALSE';
      if (ref.fullText) return fullTextWildcard(ref, node.pattern, ctx);
      const like = wildcardToLike(node.pattern);
      return anyOf(ref, (expr) => `lower(CAST(${expr} AS VARCHAR)) LIKE lower(${ctx.param(like)}) ESCAPE '\\'`, ctx, true);
    }
    case 'range': {
      const ref = ctx.resolve(node.field);
      if (!ref) return 'FALSE';
      return rangeMatch(ref, node, ctx);
    }
  }
}

/** A rough cost order of predicates: 0 for field comparisons, 1 for anything that scans text. */
function scanCost(node: FilterNode, ctx: DialectContext): number {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      if (node.field === null) return 1;
      const ref = ctx.resolve(node.field);
      return ref && (ref.fullText || wholeValueMatch(ref, node.kind === 'term' && node.exact === true) === null) ? 1 : 0;
    }
    case 'wildcard':
      return 1;
    case 'and':
    case 'or':
      return Math.max(0, ...node.children.map((c) => scanCost(c, ctx)));
    case 'not':
      return scanCost(node.child, ctx);
    default:
      return 0;
  }
}

/** The words of `value` in a row in a string field's value (and in its overflowed values, as text). */
function wordsMatch(ref: ColumnRef, value: string, ctx: DialectContext): string {
  const parts: string[] = [];
  if (ref.column) parts.push(fullTextMatch(ref.column, value, ctx));
  if (ref.overflow) parts.push(fullTextMatch(overflowExpr(ref.name, ctx, null), value, ctx));
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** The whole value, case-sensitively: Elasticsearch's `keyword` sub-field. */
function keywordEquals(ref: ColumnRef, value: string, ctx: DialectContext): string {
  const parts: string[] = [];
  if (ref.column) parts.push(ref.list ? `list_contains(${ref.column}, ${ctx.param(value)})` : `${ref.column} = ${ctx.param(value)}`);
  if (ref.overflow) parts.push(`${overflowExpr(ref.name, ctx, null)} = ${ctx.param(value)}`);
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** Applies a predicate to the field's column and, where values overflowed, to its overflow entry as text. */
function anyOf(ref: ColumnRef, pred: (expr: string) => string, ctx: DialectContext, overflowAsText: boolean): string {
  const parts: string[] = [];
  if (ref.column) parts.push(pred(ref.column));
  if (ref.overflow) parts.push(pred(overflowExpr(ref.name, ctx, overflowAsText ? null : ref)));
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

export function overflowExpr(field: string, ctx: DialectContext, typed: ColumnRef | null): string {
  const text = `${OVERFLOW_COLUMN}[${ctx.param(field)}]`;
  if (!typed) return text;
  return castText(text, typed.type);
}

function castText(text: string, type: ColumnRef['type']): string {
  switch (type) {
    case 'integer':
      return `TRY_CAST(${text} AS BIGINT)`;
    case 'float':
      return `TRY_CAST(${text} AS DOUBLE)`;
    case 'boolean':
      return `TRY_CAST(${text} AS BOOLEAN)`;
    case 'timestamp':
      return `TRY_CAST(${text} AS TIMESTAMP)`;
    default:
      return text;
  }
}

/**
 * Words in a row, case-insensitively. The words of one space-free chunk of the query
 * (`10.0.0.1`, `/api/v1/orders`) must be joined by punctuation only in the text, inside one
 * space-free token, which is what the index keeps n-grams of; chunks by any non-word run.
 */
function fullTextMatch(column: string, text: string, ctx: DialectContext): string {
  const chunks = queryChunks(text);
  const ws = chunks.flat();
  if (ws.length === 0) {
    // Only punctuation: match it literally, case-insensitively.
    return `contains(lower(${column}), ${ctx.param(text.toLowerCase())})`;
  }
  const body = chunks.map((c) => c.map(escapeRe).join(`${PUNCTUATION}+`)).join(`${NON_WORD}+`);
  const pattern = `(?i)(?:^|${NON_WORD})${body}(?:$|${NON_WORD})`;
  const longest = ws.reduce((a, b) => (b.length > a.length ? b : a));
  return `(${literalTest(column, longest, ctx)} AND regexp_matches(${column}, ${ctx.param(pattern)}))`;
}

/**
 * A cheap test that a column holds `word` (lower-cased) in any case, before the whole pattern:
 * - digits and `_` only: a plain substring test (1.1 s over 10M messages);
 * - a long word, or one starting with an uncommon letter: RE2's case-insensitive literal, which
 *   skips ahead on its first byte (1.35 s for `password`, 0.02 s a block for an id);
 * - a short word starting with a frequent letter (`sshd`): lower() and a substring test (2.2 s,
 *   where RE2 took 3.5 s, stopping at every `s`).
 */
function literalTest(column: string, word: string, ctx: DialectContext): string {
  if (/^[0-9_]+$/.test(word)) return `contains(${column}, ${ctx.param(word)})`;
  if (word.length >= 8 || !/^[etaoinshrdlcu]/.test(word)) return `regexp_matches(${column}, ${ctx.param(`(?i)${escapeRe(word)}`)})`;
  return `contains(lower(${column}), ${ctx.param(word)})`;
}

function fullTextWildcard(ref: ColumnRef, pattern: string, ctx: DialectContext): string {
  const column = ref.column ?? 'NULL';
  let re = '';
  for (const piece of wildcardPieces(pattern)) {
    if (piece === WILD_MANY) re += `${WORD_CLASS}*`;
    else if (piece === WILD_ONE) re += WORD_CLASS;
    else re += escapeRe(asciiLower(piece as string));
  }
  return `regexp_matches(${column}, ${ctx.param(`(?i)(?:^|${NON_WORD})${re}(?:$|${NON_WORD})`)})`;
}

const WILD_MANY = Symbol('*');
const WILD_ONE = Symbol('?');

/** Splits a parsed wildcard pattern into literal characters and wildcards; `\*`, `\?` and `\\` are literals. */
function wildcardPieces(pattern: string): (string | symbol)[] {
  const out: (string | symbol)[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) out.push(pattern[++i]);
    else if (ch === '*') out.push(WILD_MANY);
    else if (ch === '?') out.push(WILD_ONE);
    else out.push(ch);
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** Lucene wildcards to SQL LIKE: `*` → `%`, `?` → `_`; literal `%`, `_` and `\\` escaped with `\\`. */
export function wildcardToLike(pattern: string): string {
  let out = '';
  for (const piece of wildcardPieces(pattern)) {
    if (piece === WILD_MANY) out += '%';
    else if (piece === WILD_ONE) out += '_';
    else if (piece === '%' || piece === '_' || piece === '\\') out += '\\' + (piece as string);
    else out += piece as string;
  }
  return out;
}

function valueEquals(ref: ColumnRef, value: string, ctx: DialectContext): string {
  const parts: string[] = [];
  if (ref.column) {
    // typedValue registers a parameter: call it only where its placeholder is used.
    const typed = ref.list ? null : typedValue(ref, value, ctx);
    if (ref.list) parts.push(`list_contains(list_transform(${ref.column}, x -> lower(x)), lower(${ctx.param(value)}))`);
    else if (typed === null) parts.push('FALSE');
    else if (ref.type === 'string') parts.push(`lower(${ref.column}) = lower(${typed})`);
    else parts.push(`${ref.column} = ${typed}`);
  }
  if (ref.overflow) parts.push(`lower(${OVERFLOW_COLUMN}[${ctx.param(ref.name)}]) = lower(${ctx.param(value)})`);
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** A user value as a parameter of the field's type, or null when it cannot be one (`status:abc`). */
function typedValue(ref: ColumnRef, value: string, ctx: DialectContext, roundUp = false, strict = false): string | null {
  switch (ref.type) {
    case 'integer':
    case 'float': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) return null;
      return `${ctx.param(n)}::DOUBLE`;
    }
    case 'boolean': {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false') return null;
      return ctx.param(v === 'true');
    }
    case 'timestamp': {
      const micros = parseTimeExpr(value, ctx.nowMs, roundUp);
      if (micros === null && !strict) return null; // `when:soon` can still match a conflicting text value
      if (micros === null) throw new QueryError(`"${value}" is not a time: use ISO-8601 (2026-11-21T10:00:00Z), an epoch number or date math (now-1h)`);
      return `make_timestamp(${ctx.param(micros)}::BIGINT)`;
    }
    default:
      return ctx.param(value);
  }
}

function rangeMatch(ref: ColumnRef, node: Extract<FilterNode, { kind: 'range' }>, ctx: DialectContext): string {
  const bounds: [string | undefined, string, boolean][] = [
    [node.gt, '>', true],
    [node.gte, '>=', false],
    [node.lt, '<', false],
    [node.lte, '<=', true],
  ];
  const build = (expr: string, type: ColumnRef['type']): string => {
    const conds: string[] = [];
    for (const [bound, op, roundUp] of bounds) {
      if (bound === undefined) continue;
      const v = typedValue({ ...ref, type }, bound, ctx, roundUp, true);
      if (v === null) throw new QueryError(`"${bound}" is not a valid bound for ${type} field`);
      conds.push(`${expr} ${op} ${v}`);
    }
    return conds.length === 0 ? `${expr} IS NOT NULL` : conds.join(' AND ');
  };
  const parts: string[] = [];
  if (ref.column) parts.push(`(${build(ref.column, ref.type)})`);
  if (ref.overflow) {
    const key = ctx.param(ref.name);
    parts.push(`(${build(castText(`${OVERFLOW_COLUMN}[${key}]`, ref.type === 'string' ? 'float' : ref.type), ref.type === 'string' ? 'float' : ref.type)})`);
  }
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

/** A SQL value expression for a field in a select list or GROUP BY: the column, falling back to overflowed values. */
export function valueExpr(ref: ColumnRef, ctx: DialectContext, asText = false): string {
  const key = (): string => ctx.param(ref.name);
  if (!ref.column) return asText ? `${OVERFLOW_COLUMN}[${key()}]` : castText(`${OVERFLOW_COLUMN}[${key()}]`, ref.type);
  if (!ref.overflow) return ref.column;
  if (asText || ref.type === 'string') return `coalesce(CAST(${ref.column} AS VARCHAR), ${OVERFLOW_COLUMN}[${key()}])`;
  return ref.column;
}

export interface CompiledPipes {
  sql: string;
  columns: string[];
  /** Whether the last rows are cut by `defaultLimit` (true) or by the query's own `head`/`top` (false). */
  defaultLimited: boolean;
}

/**
 * Compiles pipes over a relation `source` (a subquery already filtered).
 * Internal aliases are positional (c0, c1, …) because DuckDB identifiers are
 * case-insensitive and user field names are not; the result carries the
 * names.
 */
export function compilePipes(pipes: Pipe[], source: string, ctx: DialectContext, defaultLimit: number): CompiledPipes {
  // The scope maps names visible to the next pipe to SQL expressions over the current relation.
  let scope: Map<string, string> | null = null; // null: raw events, resolved through ctx
  let relation = source;
  let columns: string[] | null = null;
  let stage = 0;
  let order = '';
  let limit: number | null = null;

  const lookup = (name: string, asText = false): string => {
    if (scope) {
      const expr = scope.get(name);
      if (expr === undefined) throw new QueryError(`unknown field "${name}" after the previous pipe; available: ${[...scope.keys()].join(', ')}`);
      return expr;
    }
    const ref = ctx.resolve(name);
    if (!ref) return 'NULL';
    return valueExpr(ref, ctx, asText);
  };
  const wrap = (select: string[], names: string[], groupBy: string[] = []): void => {
    const aliases = names.map((_, i) => `c${i}`);
    const body = `SELECT ${select.map((s, i) => `${s} AS ${aliases[i]}`).join(', ')} FROM ${relation}${
      groupBy.length ? ` GROUP BY ${groupBy.join(', ')}` : ''
    }${order}${limit !== null ? ` LIMIT ${limit}` : ''}`;
    relation = `(${body}) AS s${stage++}`;
    scope = new Map(names.map((n, i) => [n, aliases[i]]));
    columns = names;
    order = '';
    limit = null;
  };
  const flush = (): void => {
    if (order || limit !== null) {
      const names: string[] = columns ?? [];
      if (!scope) throw new QueryError('sort and head need fields: add `| fields …` or `| stats …` first');
      const currentScope: Map<string, string> = scope;
      wrap(names.map((n) => currentScope.get(n) as string), names);
    }
  };

  for (const pipe of pipes) {
    switch (pipe.kind) {
      case 'stats': {
        flush();
        const select: string[] = [];
        const names: string[] = [];
        for (const by of pipe.by) {
          select.push(lookup(by));
          names.push(by);
        }
        for (const agg of pipe.aggs) {
          select.push(aggregate(agg.fn, agg.field === undefined ? undefined : lookup(agg.field), agg.percentile, ctx));
          names.push(agg.name);
        }
        wrap(select, names, pipe.by.map((_, i) => String(i + 1)));
        break;
      }
      case 'top': {
        flush();
        const select = pipe.fields.map((f) => lookup(f));
        const names = [...pipe.fields, 'count'];
        const keys = pipe.fields.map((_, i) => `k${i}`);
        const inner = `SELECT ${select.map((s, i) => `${s} AS ${keys[i]}`).join(', ')} FROM ${relation}`;
        const aliases = names.map((_, i) => `c${i}`);
        relation = `(SELECT ${[...keys, 'count(*)'].map((s, i) => `${s} AS ${aliases[i]}`).join(', ')} FROM (${inner}) WHERE ${keys
          .map((k) => `${k} IS NOT NULL`)
          .join(' AND ')} GROUP BY ALL ORDER BY ${aliases[aliases.length - 1]} DESC, ${aliases[0]} LIMIT ${pipe.n}) AS s${stage++}`;
        scope = new Map(names.map((n, i) => [n, aliases[i]]));
        columns = names;
        break;
      }
      case 'fields': {
        flush();
        wrap(
          pipe.fields.map((f) => lookup(f)),
          pipe.fields,
        );
        break;
      }
      case 'sort': {
        if (!scope) throw new QueryError('sort needs fields to sort rows of: use `| fields …` or `| stats …` before `| sort`');
        if (limit !== null) flush();
        order = ` ORDER BY ${pipe.keys.map((k) => `${lookup(k.field)} ${k.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ')}`;
        break;
      }
      case 'head': {
        if (!scope) throw new QueryError('head needs fields: use `| fields …` or `| stats …` before `| head`');
        limit = limit === null ? pipe.n : Math.min(limit, pipe.n);
        break;
      }
    }
  }
  if (!scope || !columns) throw new QueryError('no pipes to compile');
  const finalScope: Map<string, string> = scope;
  const names: string[] = columns;
  const sql = `SELECT ${names.map((n) => finalScope.get(n) as string).join(', ')} FROM ${relation}${order}${` LIMIT ${limit ?? defaultLimit}`}`;
  return { sql, columns: names, defaultLimited: limit === null };
}

function aggregate(fn: string, expr: string | undefined, percentile: number | undefined, ctx: DialectContext): string {
  if (fn === 'count') return expr === undefined ? 'count(*)' : `count(${expr})`;
  if (expr === undefined) throw new QueryError(`${fn}() needs a field`);
  switch (fn) {
    case 'count_distinct':
      return `count(DISTINCT ${expr})`;
    case 'sum':
      return `sum(TRY_CAST(${expr} AS DOUBLE))`;
    case 'avg':
      return `avg(TRY_CAST(${expr} AS DOUBLE))`;
    case 'min':
      return `min(${expr})`;
    case 'max':
      return `max(${expr})`;
    case 'percentile':
      // A literal, not a parameter: DuckDB needs the quantile constant at bind time, and it is a number we parsed.
      return `quantile_cont(TRY_CAST(${expr} AS DOUBLE), ${Number((percentile ?? 50) / 100)})`;
  }
  throw new QueryError(`unknown aggregation ${fn}`);
}
