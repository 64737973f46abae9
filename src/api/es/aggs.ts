/**
 * Elasticsearch aggregations over the store's `group` primitive.
 *
 * One level of buckets costs one `group` call, whatever the number of
 * parent buckets: a child level groups by its ancestors' keys plus its own,
 * with `keyValues` restricting ancestor keys to the buckets kept (when a
 * level keeps only some, as terms does). Metric sub-aggregations ride along
 * in the call that makes their buckets. So `date_histogram` → `terms` →
 * `avg` costs two store queries.
 *
 * Response shapes follow Elasticsearch 8: `buckets` arrays (or objects when
 * `keyed`), `key_as_string` for dates, `doc_count_error_upper_bound: 0`
 * and `sum_other_doc_count` for terms, `values` keyed "95.0" for percentiles.
 */
import type { FieldType } from '../../core/event.js';
import type { FilterNode } from '../../query/ast.js';
import { CARDINALITY_PRECISION_DEFAULT, CARDINALITY_PRECISION_MAX, type GroupKey, type GroupRow, type Metric, type Store, type TimeRange } from '../../store/store.js';
import {
  andOf,
  calendarAddMs,
  calendarFloorMs,
  checkTimeZone,
  EsRequestError,
  existsNode,
  formatDate,
  notOf,
  orOf,
  parseDateMath,
  translateQuery,
  unsupported,
  zoneOffsetMs,
  type CalendarUnit,
  type TranslateOptions,
} from './dsl.js';

export interface AggBase {
  /** The search's filter (index pattern and query, without post_filter). */
  filter: FilterNode;
  range?: TimeRange;
  /** The index pattern's filter alone: terms with min_doc_count 0 list every value of the indices. */
  indexFilter?: FilterNode;
}

export interface AggOptions extends TranslateOptions {
  /** Elasticsearch's typed_keys: names in the response prefixed with the aggregation's type (`sterms#hosts`). */
  typedKeys?: boolean;
  /** Most buckets one request may produce (Elasticsearch's search.max_buckets). */
  maxBuckets?: number;
}

/** Runs the `aggs` of a search body and returns the `aggregations` object of the response. */
export async function runAggregations(aggs: unknown, base: AggBase, store: Store, nowMs: number, opts: AggOptions = {}): Promise<Record<string, unknown>> {
  if (aggs === undefined || aggs === null) return {};
  const specs = parseAggs(aggs, 'aggs', { ...opts, nowMs }, nowMs);
  const run = new Run(store, base, nowMs, opts);
  const out: Record<string, unknown> = {};
  await run.level(specs, { keys: [], keyValues: [] }, [{ path: [], out }]);
  return out;
}

// ---------------------------------------------------------------------------
// The parsed tree
// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type MetricType = 'avg' | 'sum' | 'min' | 'max' | 'value_count' | 'cardinality' | 'percentiles' | 'stats';

interface MetricSpec {
  kind: 'metric';
  name: string;
  type: MetricType;
  field: string;
  isDate: boolean;
  percents: number[];
  keyed: boolean;
  /** cardinality: Elasticsearch's precision_threshold, clamped to 0..40,000. */
  precisionThreshold?: number;
  format?: string;
  meta?: unknown;
}

interface OrderKey {
  /** `_count`, `_key`, or a metric sub-aggregation with an optional value (`stats.avg`, `pct.95`). */
  by: string;
  desc: boolean;
}

interface TimeBuckets {
  floor(us: number): number;
  next(us: number): number;
}

interface BucketSpec {
  kind: 'bucket';
  name: string;
  type: 'terms' | 'date_histogram' | 'histogram' | 'range' | 'date_range' | 'filters' | 'filter' | 'missing';
  key: GroupKey;
  children: AggSpec[];
  meta?: unknown;
  // terms
  field?: string;
  fieldType?: FieldType;
  size?: number;
  minDocCount: number;
  order: OrderKey[];
  missing?: string | number | boolean;
  include?: (v: unknown) => boolean;
  showError?: boolean;
  // date_histogram / histogram
  time?: TimeBuckets;
  timeZone?: string;
  format?: string;
  keyed?: boolean;
  interval?: number;
  offset?: number;
  extended?: { min?: number; max?: number };
  hard?: { min?: number; max?: number };
  // range / date_range
  ranges?: { key?: string; from?: number; to?: number }[];
  // filters
  filterNames?: string[] | null;
}

type AggSpec = MetricSpec | BucketSpec;

const METRIC_TYPES = new Set<string>(['avg', 'sum', 'min', 'max', 'value_count', 'cardinality', 'percentiles', 'stats']);
const UNSUPPORTED_AGGS = new Set([
  'top_hits',
  'top_metrics',
  'extended_stats',
  'percentile_ranks',
  'median_absolute_deviation',
  'weighted_avg',
  'boxplot',
  'string_stats',
  'rate',
  't_test',
  'scripted_metric',
  'geo_bounds',
  'geo_centroid',
  'geo_line',
  'matrix_stats',
  'composite',
  'multi_terms',
  'significant_terms',
  'significant_text',
  'rare_terms',
  'auto_date_histogram',
  'variable_width_histogram',
  'ip_range',
  'ip_prefix',
  'geo_distance',
  'geohash_grid',
  'geotile_grid',
  'geohex_grid',
  'global',
  'nested',
  'reverse_nested',
  'children',
  'parent',
  'sampler',
  'diversified_sampler',
  'random_sampler',
  'adjacency_matrix',
  'categorize_text',
  'frequent_item_sets',
  'time_series',
  'avg_bucket',
  'max_bucket',
  'min_bucket',
  'sum_bucket',
  'stats_bucket',
  'extended_stats_bucket',
  'percentiles_bucket',
  'bucket_script',
  'bucket_selector',
  'bucket_sort',
  'bucket_count_ks_test',
  'bucket_correlation',
  'cumulative_sum',
  'cumulative_cardinality',
  'derivative',
  'moving_avg',
  'moving_fn',
  'moving_percentiles',
  'normalize',
  'serial_diff',
  'inference',
  'change_point',
]);

const DEFAULT_PERCENTS = [1, 5, 25, 50, 75, 95, 99];
const LIST_FIELDS = new Set(['tags']);
const DAY_US = 86_400_000_000;

function bad(reason: string): EsRequestError {
  return new EsRequestError('illegal_argument_exception', reason);
}

/**
 * `precision_threshold` as Elasticsearch reads it: a whole number (numeric strings too), default 3,000;
 * negative is its illegal_argument_exception, above 40,000 acts as 40,000 (its documented clamp).
 */
function parsePrecisionThreshold(v: unknown, name: string): number {
  if (v === undefined || v === null) return CARDINALITY_PRECISION_DEFAULT;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new EsRequestError('x_content_parse_exception', `[cardinality] failed to parse field [precision_threshold]: ${JSON.stringify(v)} is not a number in [${name}]`);
  const whole = Math.trunc(n);
  if (whole < 0) throw bad(`[precisionThreshold] must be greater than or equal to 0. Found [${whole}] in [${name}]`);
  return Math.min(whole, CARDINALITY_PRECISION_MAX);
}

function parseAggs(aggs: unknown, where: string, opts: TranslateOptions, nowMs: number): AggSpec[] {
  if (!isObj(aggs)) throw new EsRequestError('parsing_exception', `[${where}] must be an object of named aggregations`);
  return Object.entries(aggs).map(([name, def]) => parseAgg(name, def, opts, nowMs));
}

function parseAgg(name: string, def: unknown, opts: TranslateOptions, nowMs: number): AggSpec {
  if (!isObj(def)) throw new EsRequestError('parsing_exception', `Expected [START_OBJECT] under [${name}], but got ${JSON.stringify(def)}`);
  const types = Object.keys(def).filter((k) => k !== 'aggs' && k !== 'aggregations' && k !== 'meta');
  if (types.length === 0) throw new EsRequestError('parsing_exception', `Missing definition for aggregation [${name}]`);
  if (types.length > 1) throw new EsRequestError('parsing_exception', `Found two aggregation type definitions in [${name}]: [${types[0]}] and [${types[1]}]`);
  const type = types[0];
  const body = def[type];
  const sub = def.aggs ?? def.aggregations;
  if (UNSUPPORTED_AGGS.has(type)) throw unsupported(`[${type}] aggregation`, `in [${name}]`);
  if (!isObj(body)) throw new EsRequestError('parsing_exception', `[${type}] aggregation [${name}] must be an object`);
  if (body.script !== undefined) throw unsupported(`[script] in [${type}] aggregation`, `in [${name}]`);
  const field = (): string => {
    const f = body.field;
    if (typeof f !== 'string' || f === '') throw bad(`Required one of fields [field, script], but none were specified in [${name}]`);
    return opts.resolveField ? opts.resolveField(f) : f;
  };
  const typeOf = (f: string): FieldType | undefined => (f === '@timestamp' ? 'timestamp' : opts.fieldType?.(f));
  if (METRIC_TYPES.has(type)) {
    if (sub !== undefined) throw new EsRequestError('aggregation_initialization_exception', `Aggregator [${name}] of type [${type}] cannot accept sub-aggregations`);
    if (body.missing !== undefined) throw unsupported(`[missing] in [${type}] aggregation`, `in [${name}]`);
    const f = field();
    let percents = DEFAULT_PERCENTS;
    if (type === 'percentiles' && body.percents !== undefined) {
      if (!Array.isArray(body.percents) || body.percents.some((p) => typeof p !== 'number' || p < 0 || p > 100)) {
        throw bad(`[percents] must be numbers from 0 to 100 in [${name}]`);
      }
      percents = body.percents as number[];
    }
    const precisionThreshold = type === 'cardinality' ? parsePrecisionThreshold(body.precision_threshold, name) : undefined;
    return {
      kind: 'metric',
      name,
      type: type as MetricType,
      field: f,
      isDate: typeOf(f) === 'timestamp',
      percents,
      keyed: body.keyed !== false,
      ...(precisionThreshold === undefined ? {} : { precisionThreshold }),
      format: typeof body.format === 'string' ? body.format : undefined,
      meta: def.meta,
    };
  }
  const children = sub === undefined ? [] : parseAggs(sub, `${name}.aggs`, opts, nowMs);
  const common = { kind: 'bucket' as const, name, children, meta: def.meta, minDocCount: 1, order: [] as OrderKey[] };
  switch (type) {
    case 'terms':
      return parseTerms(name, body, field(), typeOf, common);
    case 'date_histogram':
      return parseDateHistogram(name, body, field(), opts, nowMs, common);
    case 'histogram': {
      const f = field();
      if (typeOf(f) === 'timestamp') throw unsupported(`[histogram] aggregation on the date field [${f}]`, 'use date_histogram');
      const interval = num(body.interval, 'interval', name);
      if (!(interval > 0)) throw bad(`[interval] must be >0 for histogram aggregation [${name}]`);
      const offset = body.offset === undefined ? 0 : num(body.offset, 'offset', name);
      if (body.missing !== undefined) throw unsupported('[missing] in [histogram] aggregation', `in [${name}]`);
      const bounds = (v: unknown, what: string): { min?: number; max?: number } | undefined => {
        if (v === undefined) return undefined;
        if (!isObj(v)) throw bad(`[${what}] must be an object in [${name}]`);
        return { min: v.min === undefined || v.min === null ? undefined : num(v.min, `${what}.min`, name), max: v.max === undefined || v.max === null ? undefined : num(v.max, `${what}.max`, name) };
      };
      return {
        ...common,
        type: 'histogram',
        field: f,
        key: { kind: 'histogram', field: f, interval, offset },
        interval,
        offset,
        minDocCount: body.min_doc_count === undefined ? 0 : int(body.min_doc_count, 'min_doc_count', name),
        extended: bounds(body.extended_bounds, 'extended_bounds'),
        hard: bounds(body.hard_bounds, 'hard_bounds'),
        keyed: body.keyed === true,
        order: parseOrder(body.order, name, [{ by: '_key', desc: false }]),
      };
    }
    case 'range':
    case 'date_range': {
      const f = field();
      if (!Array.isArray(body.ranges) || body.ranges.length === 0) throw bad(`No [ranges] specified for the [${name}] aggregation`);
      const isDate = type === 'date_range' || typeOf(f) === 'timestamp';
      if (type === 'range' && isDate) throw unsupported(`[range] aggregation on the date field [${f}]`, 'use date_range');
      const tz = typeof body.time_zone === 'string' ? checkTimeZone(body.time_zone) : undefined;
      const format = typeof body.format === 'string' ? body.format : undefined;
      const formats = format ? [...format.split('||'), 'strict_date_optional_time', 'epoch_millis'] : undefined;
      const bound = (v: unknown, what: string): number | undefined => {
        if (v === undefined || v === null) return undefined;
        if (!isDate) return num(v, what, name);
        if (typeof v !== 'string' && typeof v !== 'number') throw bad(`[${what}] must be a date in [${name}]`);
        return parseDateMath(v, { nowMs, timeZone: tz, formats });
      };
      const ranges = body.ranges.map((r: unknown, i: number) => {
        if (!isObj(r)) throw bad(`[ranges][${i}] must be an object in [${name}]`);
        return { key: typeof r.key === 'string' ? r.key : undefined, from: bound(r.from, 'from'), to: bound(r.to, 'to') };
      });
      ranges.sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity) || (a.to ?? Infinity) - (b.to ?? Infinity));
      return {
        ...common,
        type: isDate ? 'date_range' : 'range',
        field: f,
        key: { kind: 'range', field: f, ranges: ranges.map((r) => ({ from: r.from, to: r.to })) },
        ranges,
        keyed: body.keyed === true,
        timeZone: tz,
        format,
      };
    }
    case 'filters': {
      const filters = body.filters;
      const other = body.other_bucket === true || typeof body.other_bucket_key === 'string';
      const otherKey = typeof body.other_bucket_key === 'string' ? body.other_bucket_key : '_other_';
      let names: string[] | null;
      let nodes: FilterNode[];
      if (Array.isArray(filters)) {
        names = null;
        nodes = filters.map((q) => translateQuery(q, opts));
      } else if (isObj(filters)) {
        names = Object.keys(filters).sort();
        nodes = names.map((n) => translateQuery(filters[n], opts));
      } else {
        throw bad(`[filters] must be an object or an array in [${name}]`);
      }
      if (other) {
        nodes = [...nodes, notOf(orOf(nodes))];
        if (names) names = [...names, otherKey];
      }
      return { ...common, type: 'filters', key: { kind: 'filters', filters: nodes }, filterNames: names, keyed: names !== null && body.keyed !== false };
    }
    case 'filter':
      return { ...common, type: 'filter', key: { kind: 'filters', filters: [translateQuery(body, opts)] } };
    case 'missing': {
      const f = field();
      return { ...common, type: 'missing', key: { kind: 'filters', filters: [notOf(existsNode(f))] } };
    }
    default:
      throw new EsRequestError('parsing_exception', `Unknown aggregation type [${type}] did you mean [terms]?`);
  }
}

function num(v: unknown, what: string, name: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw bad(`[${what}] must be a number in [${name}], got ${JSON.stringify(v)}`);
  return n;
}

function int(v: unknown, what: string, name: string): number {
  const n = num(v, what, name);
  if (!Number.isInteger(n) || n < 0) throw bad(`[${what}] must be a whole number >= 0 in [${name}], got ${JSON.stringify(v)}`);
  return n;
}

type Common = Pick<BucketSpec, 'kind' | 'name' | 'children' | 'meta' | 'minDocCount' | 'order'>;

function parseOrder(order: unknown, name: string, def: OrderKey[]): OrderKey[] {
  if (order === undefined) return def;
  const list = Array.isArray(order) ? order : [order];
  return list.map((o) => {
    if (!isObj(o) || Object.keys(o).length !== 1) throw bad(`[order] must be {"key": "asc|desc"} in [${name}]`);
    const [by, dir] = Object.entries(o)[0];
    const d = String(dir).toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw bad(`Unknown order direction [${String(dir)}] in [${name}]`);
    return { by: by === '_term' ? '_key' : by, desc: d === 'desc' };
  });
}

function parseTerms(name: string, body: Obj, field: string, typeOf: (f: string) => FieldType | undefined, common: Common): BucketSpec {
  const size = body.size === undefined ? 10 : int(body.size, 'size', name);
  if (size === 0) throw bad(`[size] must be greater than 0. Found [0] in [${name}]`);
  if (body.include !== undefined && isObj(body.include)) throw unsupported('partitioned [include] in [terms] aggregation', `in [${name}]`);
  const matcher = (v: unknown, what: string): ((s: string) => boolean) | undefined => {
    if (v === undefined) return undefined;
    if (Array.isArray(v)) {
      const set = new Set(v.map(String));
      return (s) => set.has(s);
    }
    if (typeof v === 'string') {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${v})$`, 'u');
      } catch {
        throw bad(`[${what}] is not a valid regular expression in [${name}]: ${v}`);
      }
      return (s) => re.test(s);
    }
    throw bad(`[${what}] must be a regular expression or an array of values in [${name}]`);
  };
  const inc = matcher(body.include, 'include');
  const exc = matcher(body.exclude, 'exclude');
  const missing = body.missing;
  if (missing !== undefined && typeof missing !== 'string' && typeof missing !== 'number' && typeof missing !== 'boolean') {
    throw bad(`[missing] must be a value in [${name}]`);
  }
  const order = parseOrder(body.order, name, [{ by: '_count', desc: true }]);
  if (!order.some((o) => o.by === '_key')) order.push({ by: '_key', desc: false });
  return {
    ...common,
    type: 'terms',
    field,
    fieldType: typeOf(field),
    key: { kind: 'terms', field },
    size,
    minDocCount: body.min_doc_count === undefined ? 1 : int(body.min_doc_count, 'min_doc_count', name),
    order,
    missing,
    include: inc || exc ? (v: unknown) => (inc ? inc(String(v)) : true) && !(exc ? exc(String(v)) : false) : undefined,
    showError: body.show_term_doc_count_error === true,
    format: typeof body.format === 'string' ? body.format : undefined,
  };
}

const FIXED_UNITS_US: Record<string, number> = { ms: 1000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: DAY_US };
type CalUnit = Exclude<CalendarUnit, 'second'>;
const CALENDAR_NAMES: Record<string, CalUnit> = {
  '1m': 'minute',
  minute: 'minute',
  '1h': 'hour',
  hour: 'hour',
  '1d': 'day',
  day: 'day',
  '1w': 'week',
  week: 'week',
  '1M': 'month',
  month: 'month',
  '1q': 'quarter',
  quarter: 'quarter',
  '1y': 'year',
  year: 'year',
};

function parseFixed(v: string, name: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw bad(`failed to parse setting [date_histogram.fixedInterval] with value [${v}] as a time value in [${name}]`);
  return Number(m[1]) * FIXED_UNITS_US[m[2]];
}

function parseDateHistogram(name: string, body: Obj, field: string, opts: TranslateOptions, nowMs: number, common: Common): BucketSpec {
  const given = ['fixed_interval', 'calendar_interval', 'interval'].filter((k) => body[k] !== undefined);
  if (given.length === 0) throw bad(`Invalid interval specified, must be non-null and non-empty in [${name}]`);
  if (given.length > 1) throw bad(`Cannot use [${given[0]}] with [${given[1]}] configuration option in [${name}]`);
  if (body.missing !== undefined) throw unsupported('[missing] in [date_histogram] aggregation', `in [${name}]`);
  let calendar: CalUnit | null = null;
  let fixedUs = 0;
  const raw = body[given[0]];
  if (given[0] === 'calendar_interval') {
    const unit = Object.hasOwn(CALENDAR_NAMES, String(raw)) ? CALENDAR_NAMES[String(raw)] : undefined;
    if (!unit) throw bad(`The supplied interval [${String(raw)}] could not be parsed as a calendar interval in [${name}]`);
    calendar = unit;
  } else if (given[0] === 'fixed_interval') {
    fixedUs = parseFixed(String(raw), name);
  } else if (typeof raw === 'number') {
    if (!(raw > 0)) throw bad(`[interval] must be > 0 in [${name}]`);
    fixedUs = Math.round(raw * 1000);
  } else {
    const unit = Object.hasOwn(CALENDAR_NAMES, String(raw)) ? CALENDAR_NAMES[String(raw)] : undefined;
    if (unit) calendar = unit;
    else fixedUs = parseFixed(String(raw), name);
  }
  const tzRaw = typeof body.time_zone === 'string' ? checkTimeZone(body.time_zone) : undefined;
  const tz = tzRaw === undefined || zoneOffsetConstant(tzRaw) === 0 ? undefined : tzRaw;
  let offsetUs = 0;
  if (body.offset !== undefined) {
    if (typeof body.offset === 'number') offsetUs = Math.round(body.offset * 1000);
    else {
      const m = /^([+-]?)(\d+)(ms|s|m|h|d)$/.exec(String(body.offset).trim());
      if (!m) throw bad(`failed to parse [offset] [${String(body.offset)}] in [${name}]`);
      offsetUs = (m[1] === '-' ? -1 : 1) * Number(m[2]) * FIXED_UNITS_US[m[3]];
    }
  }
  const format = typeof body.format === 'string' ? body.format : undefined;
  const formats = format ? [...format.split('||'), 'strict_date_optional_time', 'epoch_millis'] : undefined;
  const bound = (v: unknown): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw bad(`bounds must be dates in [${name}]`);
    return parseDateMath(v, { nowMs, timeZone: tzRaw, formats });
  };
  const bounds = (v: unknown, what: string): { min?: number; max?: number } | undefined => {
    if (v === undefined) return undefined;
    if (!isObj(v)) throw bad(`[${what}] must be an object in [${name}]`);
    return { min: bound(v.min), max: bound(v.max) };
  };
  const { key, time } = timeKey(field, calendar, fixedUs, offsetUs, tz, name);
  void opts;
  return {
    ...common,
    type: 'date_histogram',
    field,
    key,
    time,
    timeZone: tz,
    format,
    keyed: body.keyed === true,
    minDocCount: body.min_doc_count === undefined ? 0 : int(body.min_doc_count, 'min_doc_count', name),
    extended: bounds(body.extended_bounds, 'extended_bounds'),
    hard: bounds(body.hard_bounds, 'hard_bounds'),
    order: parseOrder(body.order, name, [{ by: '_key', desc: false }]),
  };
}

/** The offset of a zone if it never changes (UTC, `+01:00`), else null. */
function zoneOffsetConstant(tz: string): number | null {
  const jan = zoneOffsetMs(tz, Date.UTC(2025, 0, 1));
  const jul = zoneOffsetMs(tz, Date.UTC(2025, 6, 1));
  if (/^[A-Za-z]/.test(tz) && !/^(UTC|GMT|Z|Etc\/UTC|Etc\/GMT)$/.test(tz)) {
    // a named zone may have changed its rules: constant only if it agrees across decades
    const old = zoneOffsetMs(tz, Date.UTC(1990, 0, 1));
    if (jan !== jul || old !== jan) return null;
  }
  return jan === jul ? jan : null;
}

/** How a date_histogram interval maps to a store key, and how its bucket starts follow one another. */
function timeKey(field: string, calendar: CalUnit | null, fixedUs: number, offsetUs: number, tz: string | undefined, name: string): { key: GroupKey; time: TimeBuckets } {
  const constant = tz === undefined ? 0 : zoneOffsetConstant(tz);
  const fixed = (interval: number, offset: number): { key: GroupKey; time: TimeBuckets } => {
    const off = ((offset % interval) + interval) % interval;
    return {
      key: { kind: 'time', field, intervalMicros: interval, offsetMicros: off },
      time: { floor: (us) => Math.floor((us - off) / interval) * interval + off, next: (us) => us + interval },
    };
  };
  const cal = (unit: CalUnit, zone: string | undefined): { key: GroupKey; time: TimeBuckets } => ({
    key: zone === undefined ? { kind: 'calendar', field, unit } : { kind: 'calendar', field, unit, timeZone: zone },
    time: { floor: (us) => calendarFloorMs(us / 1000, unit, zone) * 1000, next: (us) => calendarAddMs(us / 1000, unit, 1, zone) * 1000 },
  });
  if (calendar !== null) {
    if (offsetUs !== 0) throw unsupported('[offset] with [calendar_interval] in [date_histogram]', `in [${name}]`);
    if (constant !== null) {
      const zoneUs = constant * 1000;
      const width: Partial<Record<CalUnit, number>> = { minute: 60_000_000, hour: 3_600_000_000, day: DAY_US, week: 7 * DAY_US };
      const w = width[calendar];
      // 1970-01-05 was a Monday: weeks start 4 days after the epoch
      if (w !== undefined) return fixed(w, (calendar === 'week' ? 4 * DAY_US : 0) - zoneUs);
      if (constant === 0) return cal(calendar, undefined);
      if (/^[A-Za-z]/.test(tz as string)) return cal(calendar, tz); // a named zone (Asia/Kolkata): the store knows it
      if (constant % 3_600_000 !== 0) throw unsupported(`[calendar_interval] [${calendar}] with the time zone [${tz}]`, 'use the zone\'s name (Asia/Kolkata) or an offset of whole hours');
      const h = constant / 3_600_000;
      return cal(calendar, h === 0 ? undefined : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`);
    }
    return cal(calendar, tz);
  }
  if (constant !== null) return fixed(fixedUs, offsetUs - constant * 1000);
  // A zone with daylight saving: fixed intervals are laid on local time, which one offset can do only if all the zone's offsets agree modulo the interval.
  const zone = tz as string;
  const offsets = new Set<number>();
  const year = new Date().getUTCFullYear();
  for (let y = 1990; y <= year + 1; y++) for (const m of [0, 3, 6, 9]) offsets.add(zoneOffsetMs(zone, Date.UTC(y, m, 1)));
  const mods = new Set([...offsets].map((o) => ((((o * 1000 - offsetUs) % fixedUs) + fixedUs) % fixedUs)));
  if (mods.size === 1) return fixed(fixedUs, offsetUs - [...offsets][0] * 1000);
  if (fixedUs === DAY_US && offsetUs === 0) return cal('day', zone);
  throw unsupported(`[fixed_interval] of ${fixedUs / 1000}ms with the time zone [${zone}]`, `its daylight-saving changes would move the buckets; use calendar_interval or a fixed offset in [${name}]`);
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

interface Parent {
  /** Values of the ancestor keys. */
  path: unknown[];
  out: Record<string, unknown>;
}

interface Scope {
  keys: GroupKey[];
  keyValues: (unknown[] | null)[];
}

interface Fetched {
  rows: GroupRow[];
  /** terms with min_doc_count 0: every value of the indices. */
  universe: GroupRow[] | null;
  /** terms with `missing` on a list field: events without it, per parent. */
  missingRows: GroupRow[] | null;
}

interface Bucket {
  value: unknown;
  count: number;
  metrics: (number | null)[] | null;
  out: Record<string, unknown>;
}

/** One parent's rendered bucket aggregation: its response object and the buckets kept for child levels. */
type Rendered = { result: Record<string, unknown>; buckets: Bucket[]; prunedSome: boolean };

/** Store metrics a metric aggregation needs. */
function metricsOf(m: MetricSpec): Metric[] {
  switch (m.type) {
    case 'percentiles':
      return m.percents.map((p) => ({ fn: 'percentile', field: m.field, percentile: p }));
    case 'stats':
      return (['value_count', 'min', 'max', 'avg', 'sum'] as const).map((fn) => ({ fn, field: m.field }));
    case 'cardinality':
      return [{ fn: 'cardinality', field: m.field, precisionThreshold: m.precisionThreshold ?? CARDINALITY_PRECISION_DEFAULT }];
    default:
      return [{ fn: m.type, field: m.field }];
  }
}

class Run {
  private buckets = 0;
  private readonly maxBuckets: number;

  constructor(
    private readonly store: Store,
    private readonly base: AggBase,
    private readonly nowMs: number,
    private readonly opts: AggOptions,
  ) {
    this.maxBuckets = opts.maxBuckets ?? 65_536;
  }

  private name(spec: AggSpec, keyType?: string): string {
    if (!this.opts.typedKeys) return spec.name;
    let prefix: string = spec.type;
    if (spec.type === 'percentiles') prefix = 'tdigest_percentiles';
    if (spec.type === 'terms') prefix = keyType ?? 'sterms';
    return `${prefix}#${spec.name}`;
  }

  private group(keys: GroupKey[], keyValues: (unknown[] | null)[], metrics: Metric[], filter = this.base.filter): Promise<GroupRow[]> {
    return this.store.group({ filter, range: this.base.range, keys, keyValues, metrics, nowMs: this.nowMs });
  }

  /** Computes `specs` for every parent bucket: metrics at the top level here, buckets one group call per aggregation. */
  async level(specs: AggSpec[], scope: Scope, parents: Parent[], prefetched?: Map<BucketSpec, Promise<Fetched>>): Promise<void> {
    const metrics = specs.filter((s): s is MetricSpec => s.kind === 'metric');
    const top = async (): Promise<void> => {
      if (metrics.length === 0 || scope.keys.length > 0) return;
      const rows = await this.group([], [], metrics.flatMap(metricsOf));
      const values = rows[0]?.metrics ?? null;
      for (const p of parents) this.renderMetrics(metrics, values, 0, p.out);
    };
    await Promise.all([
      top(),
      ...specs.filter((s): s is BucketSpec => s.kind === 'bucket').map((b) => this.bucketLevel(b, scope, parents, prefetched?.get(b) ?? this.fetch(b, scope))),
    ]);
    // results in the order the request named them
    for (const p of parents) {
      for (const spec of specs) {
        const key = Object.keys(p.out).find((k) => k === spec.name || k.endsWith(`#${spec.name}`));
        if (key === undefined) continue;
        const v = p.out[key];
        delete p.out[key];
        p.out[key] = v;
      }
    }
  }

  /** Writes metric results from a row's metric values starting at `at`; null values: an empty bucket. */
  private renderMetrics(metrics: MetricSpec[], values: (number | null)[] | null, at: number, out: Record<string, unknown>): number {
    for (const m of metrics) {
      const n = metricsOf(m).length;
      const v = (i: number): number | null => (values === null ? null : values[at + i] ?? null);
      out[this.name(m)] = this.metricResult(m, v);
      at += n;
    }
    return at;
  }

  private metricResult(m: MetricSpec, v: (i: number) => number | null): Record<string, unknown> {
    const withMeta = (o: Record<string, unknown>): Record<string, unknown> => (m.meta === undefined ? o : { meta: m.meta, ...o });
    const asString = (x: number | null): string | undefined => {
      if (x === null) return undefined;
      if (m.isDate) return formatDate(Math.round(x * 1000), m.format);
      return undefined;
    };
    const single = (x: number | null): Record<string, unknown> => {
      const s = asString(x);
      return withMeta(s === undefined ? { value: x } : { value: x, value_as_string: s });
    };
    switch (m.type) {
      case 'sum':
        return withMeta({ value: v(0) ?? 0 });
      case 'value_count':
      case 'cardinality':
        return withMeta({ value: v(0) ?? 0 });
      case 'avg':
      case 'min':
      case 'max':
        return single(v(0));
      case 'stats': {
        const o: Record<string, unknown> = { count: v(0) ?? 0, min: v(1), max: v(2), avg: v(3), sum: v(4) ?? 0 };
        if (m.isDate && v(0)) {
          o.min_as_string = asString(v(1));
          o.max_as_string = asString(v(2));
          o.avg_as_string = asString(v(3));
          o.sum_as_string = asString(v(4));
        }
        return withMeta(o);
      }
      case 'percentiles': {
        if (m.keyed) {
          const values: Record<string, unknown> = {};
          m.percents.forEach((p, i) => {
            values[javaDouble(p)] = v(i);
            const s = asString(v(i));
            if (s !== undefined) values[`${javaDouble(p)}_as_string`] = s;
          });
          return withMeta({ values });
        }
        return withMeta({
          values: m.percents.map((p, i) => {
            const s = asString(v(i));
            return s === undefined ? { key: p, value: v(i) } : { key: p, value: v(i), value_as_string: s };
          }),
        });
      }
    }
  }

  /** The store calls one bucket aggregation needs, for every parent bucket of a scope at once. */
  private async fetch(b: BucketSpec, scope: Scope): Promise<Fetched> {
    const metricKids = b.children.filter((s): s is MetricSpec => s.kind === 'metric');
    const metrics: Metric[] = [{ fn: 'count' }, ...metricKids.flatMap(metricsOf)];
    const listMissing = b.type === 'terms' && b.missing !== undefined && LIST_FIELDS.has(b.field as string);
    if (listMissing && b.children.some((c) => c.kind === 'bucket')) {
      throw unsupported(`[missing] with sub-aggregations in [terms] on the list field [${b.field}]`, `in [${b.name}]`);
    }
    const [rows, universe, missingRows] = await Promise.all([
      this.group([...scope.keys, b.key], [...scope.keyValues, null], metrics),
      b.type === 'terms' && b.minDocCount === 0 ? this.group([b.key], [], [{ fn: 'count' }], this.base.indexFilter ?? { kind: 'all' }) : Promise.resolve(null),
      listMissing ? this.group(scope.keys, scope.keyValues, metrics, andOf([this.base.filter, notOf(existsNode(b.field as string))])) : Promise.resolve(null),
    ]);
    return { rows, universe, missingRows };
  }

  private async bucketLevel(b: BucketSpec, scope: Scope, parents: Parent[], fetched: Promise<Fetched>): Promise<void> {
    const metricKids = b.children.filter((s): s is MetricSpec => s.kind === 'metric');
    const bucketKids = b.children.filter((s): s is BucketSpec => s.kind === 'bucket');
    const depth = scope.keys.length;
    const keys = [...scope.keys, b.key];
    // Only terms keeps some of its buckets; below any other level the children need no restriction,
    // so their store calls start now, beside this level's.
    const early = b.type === 'terms' ? undefined : new Map(bucketKids.map((k) => [k, this.fetch(k, { keys, keyValues: [...scope.keyValues, null] })] as const));
    early?.forEach((p) => p.catch(() => undefined)); // awaited below; an early failure must not go unhandled meanwhile
    const { rows, universe, missingRows } = await fetched;
    const byParent = new Map<string, GroupRow[]>();
    for (const r of rows) {
      const k = JSON.stringify(r.keys.slice(0, depth));
      let list = byParent.get(k);
      if (!list) byParent.set(k, (list = []));
      list.push(r);
    }
    const missingByParent = new Map<string, GroupRow>();
    for (const r of missingRows ?? []) missingByParent.set(JSON.stringify(r.keys.slice(0, depth)), r);
    const universeValues = universe ? universe.map((r) => r.keys[0]).filter((v) => v !== null) : null;

    const children: Parent[] = [];
    let pruned = false;
    const kept = new Set<string>();
    const keptValues: unknown[] = [];
    let keptNull = false;
    for (const parent of parents) {
      const pk = JSON.stringify(parent.path);
      const mine = byParent.get(pk) ?? [];
      const { result, buckets, prunedSome } = this.render(b, mine, missingByParent.get(pk), universeValues, metricKids);
      pruned ||= prunedSome;
      parent.out[this.name(b, termsType(b, mine))] = b.meta === undefined ? result : { meta: b.meta, ...result };
      for (const bucket of buckets) {
        this.renderMetrics(metricKids, bucket.metrics, 1, bucket.out);
        if (bucketKids.length > 0) children.push({ path: [...parent.path, bucket.value], out: bucket.out });
        if (bucket.count > 0) {
          if (bucket.value === null) keptNull = true;
          else {
            const k = JSON.stringify(bucket.value);
            if (!kept.has(k)) {
              kept.add(k);
              keptValues.push(bucket.value);
            }
          }
        }
      }
    }
    if (bucketKids.length === 0) return;
    // Children of kept buckets only, in one call per child aggregation.
    const restrict = pruned && !keptNull ? keptValues : null;
    await this.level(bucketKids, { keys, keyValues: [...scope.keyValues, restrict] }, children, early);
  }

  private countBuckets(n: number): void {
    this.buckets += n;
    if (this.buckets > this.maxBuckets) {
      throw new EsRequestError(
        'too_many_buckets_exception',
        `Trying to create too many buckets. Must be less than or equal to: [${this.maxBuckets}] but this number of buckets was exceeded. This limit can be set by changing the [search.max_buckets] cluster level setting.`,
      );
    }
  }

  /** One parent's result for a bucket aggregation, from its rows (ancestor keys, own key, count, metrics). */
  private render(
    b: BucketSpec,
    rows: GroupRow[],
    missingRow: GroupRow | undefined,
    universe: unknown[] | null,
    metricKids: MetricSpec[],
  ): Rendered {
    const own = (r: GroupRow): unknown => r.keys[r.keys.length - 1];
    const count = (r: GroupRow): number => r.metrics[0] ?? 0;
    const mk = (value: unknown, r: GroupRow | undefined, out: Record<string, unknown>): Bucket => ({ value, count: r ? count(r) : 0, metrics: r ? r.metrics : null, out });
    switch (b.type) {
      case 'terms':
        return this.renderTerms(b, rows, missingRow, universe, metricKids);
      case 'filter':
      case 'missing': {
        const r = rows.find((x) => own(x) === 0);
        const out: Record<string, unknown> = { doc_count: r ? count(r) : 0 };
        return { result: out, buckets: [mk(0, r, out)], prunedSome: false };
      }
      case 'filters': {
        const byIndex = new Map(rows.map((r) => [Number(own(r)), r]));
        const n = b.key.kind === 'filters' ? b.key.filters.length : 0;
        const buckets: Bucket[] = [];
        this.countBuckets(n);
        for (let i = 0; i < n; i++) buckets.push(mk(i, byIndex.get(i), { doc_count: byIndex.get(i) ? count(byIndex.get(i) as GroupRow) : 0 }));
        if (b.filterNames && b.keyed) {
          const obj: Record<string, unknown> = {};
          b.filterNames.forEach((name, i) => (obj[name] = buckets[i].out));
          return { result: { buckets: obj }, buckets, prunedSome: false };
        }
        if (b.filterNames) buckets.forEach((bk, i) => (bk.out = { key: (b.filterNames as string[])[i], ...bk.out }));
        return { result: { buckets: buckets.map((x) => x.out) }, buckets, prunedSome: false };
      }
      case 'range':
      case 'date_range': {
        const byIndex = new Map(rows.map((r) => [Number(own(r)), r]));
        const ranges = b.ranges ?? [];
        this.countBuckets(ranges.length);
        const buckets = ranges.map((rg, i) => {
          const r = byIndex.get(i);
          const out: Record<string, unknown> = {};
          if (b.type === 'date_range') {
            const fromS = rg.from === undefined ? undefined : formatDate(rg.from, b.format, b.timeZone);
            const toS = rg.to === undefined ? undefined : formatDate(rg.to, b.format, b.timeZone);
            out.key = rg.key ?? `${fromS ?? '*'}-${toS ?? '*'}`;
            if (rg.from !== undefined) {
              out.from = rg.from / 1000;
              out.from_as_string = fromS;
            }
            if (rg.to !== undefined) {
              out.to = rg.to / 1000;
              out.to_as_string = toS;
            }
          } else {
            out.key = rg.key ?? `${rg.from === undefined ? '*' : javaDouble(rg.from)}-${rg.to === undefined ? '*' : javaDouble(rg.to)}`;
            if (rg.from !== undefined) out.from = rg.from;
            if (rg.to !== undefined) out.to = rg.to;
          }
          out.doc_count = r ? count(r) : 0;
          return mk(i, r, out);
        });
        if (b.keyed) {
          const obj: Record<string, unknown> = {};
          for (const bk of buckets) {
            const { key, ...rest } = bk.out;
            obj[String(key)] = rest;
            bk.out = rest;
          }
          return { result: { buckets: obj }, buckets, prunedSome: false };
        }
        return { result: { buckets: buckets.map((x) => x.out) }, buckets, prunedSome: false };
      }
      case 'date_histogram':
      case 'histogram':
        return this.renderHistogram(b, rows);
    }
  }

  private renderTerms(
    b: BucketSpec,
    rows: GroupRow[],
    missingRow: GroupRow | undefined,
    universe: unknown[] | null,
    metricKids: MetricSpec[],
  ): Rendered {
    type Cand = { value: unknown; key: unknown; count: number; metrics: (number | null)[] | null; metricOut: Record<string, unknown> };
    const cands: Cand[] = [];
    const seen = new Set<string>();
    const isDate = b.fieldType === 'timestamp';
    const keyOf = (v: unknown): unknown => {
      if (v === null) return b.missing;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (isDate && typeof v === 'string') return Date.parse(v);
      return v;
    };
    for (const r of rows) {
      const v = r.keys[r.keys.length - 1];
      if (v === null && (b.missing === undefined || LIST_FIELDS.has(b.field as string))) continue;
      if (v !== null && b.include && !b.include(v)) continue;
      seen.add(JSON.stringify(v));
      cands.push({ value: v, key: keyOf(v), count: r.metrics[0] ?? 0, metrics: r.metrics, metricOut: {} });
    }
    if (missingRow && (missingRow.metrics[0] ?? 0) > 0) {
      cands.push({ value: null, key: b.missing, count: missingRow.metrics[0] ?? 0, metrics: missingRow.metrics, metricOut: {} });
    }
    if (universe) {
      for (const v of universe) {
        if (seen.has(JSON.stringify(v)) || (b.include && !b.include(v))) continue;
        cands.push({ value: v, key: keyOf(v), count: 0, metrics: null, metricOut: {} });
      }
    }
    const metricOrders = b.order.some((o) => o.by !== '_count' && o.by !== '_key');
    if (metricOrders) for (const c of cands) this.renderMetrics(metricKids, c.metrics, 1, c.metricOut);
    const sortValue = (c: Cand, by: string): unknown => {
      if (by === '_count') return c.count;
      if (by === '_key') return c.key;
      return orderMetric(c.metricOut, by, b.name);
    };
    cands.sort((x, y) => {
      for (const o of b.order) {
        const cmp = compareValues(sortValue(x, o.by), sortValue(y, o.by));
        if (cmp !== 0) return o.desc ? -cmp : cmp;
      }
      return 0;
    });
    const eligible = cands.filter((c) => c.count >= b.minDocCount);
    const top = eligible.slice(0, b.size);
    const total = cands.reduce((s, c) => s + c.count, 0);
    const shown = top.reduce((s, c) => s + c.count, 0);
    this.countBuckets(top.length);
    const buckets: Bucket[] = top.map((c) => {
      const out: Record<string, unknown> = { key: c.key };
      if (typeof c.value === 'boolean') out.key_as_string = String(c.value);
      else if (isDate && c.value !== null) out.key_as_string = formatDate((c.key as number) * 1000, b.format);
      out.doc_count = c.count;
      if (b.showError) out.doc_count_error_upper_bound = 0;
      return { value: c.value, count: c.count, metrics: c.metrics, out };
    });
    return {
      result: { doc_count_error_upper_bound: 0, sum_other_doc_count: total - shown, buckets: buckets.map((x) => x.out) },
      buckets,
      prunedSome: top.length < cands.length,
    };
  }

  private renderHistogram(b: BucketSpec, rows: GroupRow[]): Rendered {
    const isDate = b.type === 'date_histogram';
    const own = (r: GroupRow): number => Number(r.keys[r.keys.length - 1]);
    const present = rows.filter((r) => r.keys[r.keys.length - 1] !== null);
    // Bucket identity: µs keys for dates; for numbers the bucket index, so that float keys compare exactly.
    const interval = b.interval ?? 1;
    const offset = b.offset ?? 0;
    const idOf = (key: number): number => (isDate ? key : Math.round((key - offset) / interval));
    const keyOfId = (id: number): number => (isDate ? id : id * interval + offset);
    const floorId = (x: number): number => (isDate ? (b.time as TimeBuckets).floor(x) : Math.floor((x - offset) / interval));
    const nextId = (id: number): number => (isDate ? (b.time as TimeBuckets).next(id) : id + 1);
    const byId = new Map<number, GroupRow>();
    for (const r of present) byId.set(idOf(own(r)), r);
    let ids = [...byId.keys()].sort((x, y) => x - y);
    if (b.minDocCount === 0) {
      let lo = ids.length > 0 ? ids[0] : undefined;
      let hi = ids.length > 0 ? ids[ids.length - 1] : undefined;
      if (b.extended?.min !== undefined) lo = lo === undefined ? floorId(b.extended.min) : Math.min(lo, floorId(b.extended.min));
      if (b.extended?.max !== undefined) hi = hi === undefined ? floorId(b.extended.max) : Math.max(hi, floorId(b.extended.max));
      if (b.hard?.min !== undefined && lo !== undefined) lo = Math.max(lo, floorId(b.hard.min));
      if (b.hard?.max !== undefined && hi !== undefined) hi = Math.min(hi, floorId(b.hard.max));
      if (lo !== undefined && hi !== undefined) {
        const all = new Set(ids);
        let n = 0;
        for (let id = lo; id <= hi; id = nextId(id)) {
          all.add(id);
          if (++n > this.maxBuckets) this.countBuckets(this.maxBuckets + 1);
        }
        ids = [...all].sort((x, y) => x - y);
      }
    }
    if (b.hard) {
      const min = b.hard.min === undefined ? -Infinity : floorId(b.hard.min);
      const max = b.hard.max === undefined ? Infinity : floorId(b.hard.max);
      ids = ids.filter((id) => id >= min && id <= max);
    }
    ids = ids.filter((id) => (byId.get(id)?.metrics[0] ?? 0) >= b.minDocCount);
    this.countBuckets(ids.length);
    let buckets: Bucket[] = ids.map((id) => {
      const r = byId.get(id);
      const out: Record<string, unknown> = {};
      if (isDate) {
        out.key_as_string = formatDate(id, b.format, b.timeZone);
        out.key = id / 1000;
      } else {
        out.key = r ? own(r) : keyOfId(id);
      }
      out.doc_count = r ? (r.metrics[0] ?? 0) : 0;
      return { value: r ? r.keys[r.keys.length - 1] : keyOfId(id), count: r ? (r.metrics[0] ?? 0) : 0, metrics: r ? r.metrics : null, out };
    });
    const order = b.order[0] ?? { by: '_key', desc: false };
    if (order.by === '_count') buckets = [...buckets].sort((x, y) => (order.desc ? y.count - x.count : x.count - y.count) || compareValues(x.out.key, y.out.key));
    else if (order.by === '_key') {
      if (order.desc) buckets.reverse();
    } else throw unsupported(`[order] by [${order.by}] in [${b.type}] aggregation`, `in [${b.name}]`);
    if (b.keyed) {
      const obj: Record<string, unknown> = {};
      for (const bk of buckets) obj[String(isDate ? bk.out.key_as_string : javaDouble(bk.out.key as number))] = bk.out;
      return { result: { buckets: obj }, buckets, prunedSome: false };
    }
    return { result: { buckets: buckets.map((x) => x.out) }, buckets, prunedSome: false };
  }
}

function termsType(b: BucketSpec, rows: GroupRow[]): string | undefined {
  if (b.type !== 'terms') return undefined;
  if (b.fieldType === 'integer' || b.fieldType === 'boolean' || b.fieldType === 'timestamp') return 'lterms';
  if (b.fieldType === 'float') return 'dterms';
  const v = rows.find((r) => r.keys[r.keys.length - 1] !== null)?.keys.at(-1);
  if (typeof v === 'number') return Number.isInteger(v) ? 'lterms' : 'dterms';
  if (typeof v === 'boolean') return 'lterms';
  return 'sterms';
}

/** A metric sub-aggregation's value for ordering: `avg`, `stats.max`, `pct.95`, `pct[95.0]`. */
function orderMetric(metricOut: Record<string, unknown>, path: string, aggName: string): number | null {
  const m = /^([^.[\]>]+)(?:\.(.+)|\[(.+)\])?$/.exec(path);
  if (!m) throw unsupported(`[order] by the path [${path}]`, `in [${aggName}]`);
  const [, name, dotted, bracket] = m;
  const result = metricOut[name] ?? Object.entries(metricOut).find(([k]) => k.endsWith(`#${name}`))?.[1];
  if (!isObj(result)) throw bad(`Invalid aggregator order path [${path}]. Unknown aggregation [${name}] in [${aggName}]`);
  const prop = dotted ?? bracket;
  if (prop === undefined) {
    if ('value' in result) return result.value as number | null;
    throw bad(`Invalid aggregation order path [${path}]: [${name}] has several values, name one in [${aggName}]`);
  }
  if (isObj(result.values)) {
    const p = Number(prop);
    const v = result.values[javaDouble(p)];
    return typeof v === 'number' ? v : null;
  }
  const v = result[prop];
  if (v === undefined) throw bad(`Invalid aggregation order path [${path}]: unknown value [${prop}] in [${aggName}]`);
  return typeof v === 'number' ? v : null;
}

/** Order of keys and metric values: nulls last, numbers numerically, strings by code point. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A number as Java's Double.toString writes it: `95.0`, `99.9`, `1.0E7`. */
export function javaDouble(n: number): string {
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [mant, exp] = n.toExponential().split('e');
    return `${mant.includes('.') ? mant : mant + '.0'}E${Number(exp)}`;
  }
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
