/**
 * SQL for the store's `group` primitive: bucket keys and metrics over the
 * events relation. Keys that put one event in several buckets (list fields,
 * overlapping ranges, filters) unnest, each in its own layer so that two of
 * them multiply instead of zipping.
 */
import type { ColumnRef, DialectContext } from '../../query/dialects/dialect.js';
import { compileFilter, valueExpr } from '../../query/dialects/duckdb.js';
import { QueryError, type GroupKey, type Metric } from '../store.js';

export interface KeySql {
  /** Expression over the events relation. */
  expr: string;
  /** The expression yields a list whose elements are the keys. */
  unnest: boolean;
}

function numeric(ref: ColumnRef, ctx: DialectContext): string {
  const v = valueExpr(ref, ctx);
  return ref.type === 'timestamp' ? `epoch_us(${v})` : `TRY_CAST(${v} AS DOUBLE)`;
}

function timeExpr(field: string, ctx: DialectContext): string {
  if (field === '@timestamp') return 'ts';
  const ref = ctx.resolve(field);
  if (!ref) return 'NULL::TIMESTAMP';
  if (ref.type !== 'timestamp') throw new QueryError(`field "${field}" is ${ref.type}, not a date: it cannot be bucketed by time`);
  return valueExpr(ref, ctx);
}

export function keySql(key: GroupKey, ctx: DialectContext): KeySql {
  switch (key.kind) {
    case 'terms': {
      const ref = ctx.resolve(key.field);
      if (!ref) return { expr: 'NULL', unnest: false };
      if (ref.list) return { expr: ref.column ?? '[]', unnest: true };
      return { expr: valueExpr(ref, ctx), unnest: false };
    }
    case 'time': {
      const i = Math.max(1, Math.round(key.intervalMicros));
      const off = Math.round(key.offsetMicros ?? 0);
      return { expr: `((epoch_us(${timeExpr(key.field, ctx)}) - ${off}) // ${i}) * ${i} + ${off}`, unnest: false };
    }
    case 'calendar': {
      const col = timeExpr(key.field, ctx);
      const tz = ctx.param(key.timeZone ?? 'UTC');
      // Truncate in the zone's wall-clock time, then turn the local start back into an instant.
      return { expr: `epoch_us(timezone(${tz}, date_trunc('${key.unit}', timezone(${tz}, ${col}::TIMESTAMPTZ))))`, unnest: false };
    }
    case 'histogram': {
      const ref = ctx.resolve(key.field);
      if (!ref) return { expr: 'NULL', unnest: false };
      if (!(key.interval > 0)) throw new QueryError('histogram interval must be greater than 0');
      const off = Number(key.offset ?? 0);
      return { expr: `floor((${numeric(ref, ctx)} - ${off}) / ${Number(key.interval)}) * ${Number(key.interval)} + ${off}`, unnest: false };
    }
    case 'range': {
      const ref = ctx.resolve(key.field);
      if (!ref) return { expr: '[]::INTEGER[]', unnest: true };
      const x = numeric(ref, ctx);
      const cases = key.ranges.map((r, i) => {
        const conds = [r.from === undefined ? null : `${x} >= ${ctx.param(r.from)}::DOUBLE`, r.to === undefined ? null : `${x} < ${ctx.param(r.to)}::DOUBLE`].filter(
          (c): c is string => c !== null,
        );
        return `CASE WHEN ${conds.length ? conds.join(' AND ') : `${x} IS NOT NULL`} THEN ${i} END`;
      });
      return { expr: `list_filter([${cases.join(', ')}]::INTEGER[], k -> k IS NOT NULL)`, unnest: true };
    }
    case 'filters': {
      const cases = key.filters.map((f, i) => `CASE WHEN ${compileFilter(f, ctx)} THEN ${i} END`);
      return { expr: `list_filter([${cases.join(', ')}]::INTEGER[], k -> k IS NOT NULL)`, unnest: true };
    }
  }
}

/**
 * One metric's aggregate over its argument column. `list`: the argument is a list field's whole list (see
 * metricArg), whose elements are the values, as in Elasticsearch's multi-valued fields.
 */
export function metricSql(m: Metric, arg: (field: string) => string | null, list = false): string {
  if (m.fn === 'count') return 'count(*)';
  if (m.field === undefined) throw new QueryError(`${m.fn} needs a field`);
  const x = arg(m.field);
  if (x === null) return m.fn === 'value_count' || m.fn === 'cardinality' ? '0' : 'NULL';
  switch (m.fn) {
    case 'value_count':
      // Elasticsearch counts values, not documents: a list counts each of its elements.
      return list ? `coalesce(sum(len(${x})), 0)` : `count(${x})`;
    case 'cardinality':
      // Exact at any size. Elasticsearch is exact up to precision_threshold and within a few per cent beyond;
      // DuckDB's approx_count_distinct is off by 10 to 40 % (measured: 13 hosts as 12, 350,722 ids as 483,484),
      // outside that error, and no SQL aggregate can stop counting exactly at a cap, so the threshold
      // (checked and clamped by the caller) cannot buy speed here: see docs/elasticsearch.md for the cost.
      // Distinct lists first: a list field has few distinct lists, so flattening them is small.
      return list ? `coalesce(len(list_distinct(flatten(list(DISTINCT ${x})))), 0)` : `count(DISTINCT ${x})`;
    case 'sum':
      return `sum(TRY_CAST(${x} AS DOUBLE))`;
    case 'avg':
      return `avg(TRY_CAST(${x} AS DOUBLE))`;
    case 'min':
      return `min(TRY_CAST(${x} AS DOUBLE))`;
    case 'max':
      return `max(TRY_CAST(${x} AS DOUBLE))`;
    case 'percentile': {
      const p = Number(m.percentile ?? 50);
      if (!(p >= 0 && p <= 100)) throw new QueryError(`percentile ${m.percentile} must be between 0 and 100`);
      return `quantile_cont(TRY_CAST(${x} AS DOUBLE), ${p / 100})`;
    }
  }
  throw new QueryError(`unknown metric ${String(m.fn)}`);
}

/** A metric's argument per row: numbers for numeric metrics (timestamps as epoch milliseconds, as Elasticsearch reports them). */
export function metricArg(ref: ColumnRef | undefined, ctx: DialectContext, fn: Metric['fn']): string | null {
  if (!ref) return null;
  if (fn === 'value_count' || fn === 'cardinality') return ref.list ? (ref.column ?? 'NULL') : valueExpr(ref, ctx);
  if (ref.type === 'timestamp') return `(epoch_us(${valueExpr(ref, ctx)}) / 1000.0)`;
  return valueExpr(ref, ctx);
}

