/**
 * The store interface: what the rest of Logmill may ask of storage. Backends
 * (./duckdb, later ./clickhouse) own their physical layout and their SQL;
 * nothing outside a backend writes SQL.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FieldType, LogEvent } from '../core/event.js';
import type { FilterNode, Query } from '../query/ast.js';

/** A half-open time range [from, to) in microseconds since the epoch. */
export interface TimeRange {
  fromMicros: number;
  toMicros: number;
}

export interface FieldInfo {
  name: string;
  type: FieldType;
  /** Other types seen for this field; their values are kept apart and still searchable. */
  conflicts: FieldType[];
  /** `column` for a typed column, `overflow` when the column limit was reached. */
  storage: 'column' | 'overflow';
}

/** An event as the API returns it: `_id`, `@timestamp` (ISO-8601), then its fields. */
/**
 * Where a hit carries the shape its document was sent with (core/shape.ts),
 * when it has one: a symbol, so that it never shows among the fields nor in
 * the JSON of an answer.
 */
export const HIT_SHAPE: unique symbol = Symbol('logmill.shape');

/**
 * Where a hit's row is stored, as one number (rowPosition): set by the store on every hit it reads,
 * not enumerable (no copy of the hit carries it). Elasticsearch's API answers it as `_seq_no` and as
 * the `_doc`/`_shard_doc` sort value.
 */
export const HIT_POSITION: unique symbol = Symbol('logmill.position');

export type Hit = Record<string, unknown> & { _id: string; '@timestamp': string; [HIT_SHAPE]?: string; [HIT_POSITION]?: number };

const DAY_MS = 86_400_000;
/** Sequence numbers of a day stay below this (4.3 billion rows a day), so that a position is a safe integer up to the year 7700. */
const SEQS_PER_DAY = 2 ** 32;

/**
 * A row's place in storage order as one safe integer: days since 1970 × 2^32 + the row's per-day
 * sequence number. Positions order as (day, seq) do, and no two rows share one: a row is never
 * rewritten in place, and sequence numbers are never reused.
 */
export function rowPosition(day: number, seq: number): number {
  const days = Math.round(Date.UTC(Math.floor(day / 10000), (Math.floor(day / 100) % 100) - 1, day % 100) / DAY_MS);
  return days * SEQS_PER_DAY + seq;
}

/** The day (YYYYMMDD) and sequence number of a position; null for a number that is not one. */
export function positionRow(position: number): { day: number; seq: number } | null {
  if (!Number.isSafeInteger(position) || position < 0) return null;
  const seq = position % SEQS_PER_DAY;
  const date = new Date(((position - seq) / SEQS_PER_DAY) * DAY_MS);
  if (date.getUTCFullYear() > 9999) return null;
  return { day: date.getUTCFullYear() * 10000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate(), seq };
}

export interface SearchRequest {
  query: Query;
  range: TimeRange;
  limit: number;
  /** Opaque cursor from a previous page's `cursor`. */
  cursor?: string;
  nowMs?: number;
  /**
   * How far the total is counted exactly: true for every match, a number for up to that many
   * (beyond it the total is that number, marked `gte`); default 10,000, as Elasticsearch.
   */
  trackTotalHits?: boolean | number;
}

/** The total a search counts exactly by default; beyond it, a lower bound. */
export const TOTAL_HITS_CAP = 10_000;

export type SearchResult =
  /** `totalRelation` is `gte` when the total was cut at the cap (`trackTotalHits`), a lower bound. */
  | { kind: 'hits'; total: number; totalRelation?: 'eq' | 'gte'; hits: Hit[]; cursor: string | null }
  /** `truncated` when the result had more rows than the limit. */
  | { kind: 'table'; columns: string[]; rows: unknown[][]; truncated?: boolean };

export interface HistogramBucket {
  /** Bucket start, ISO-8601. */
  time: string;
  count: number;
}

/** A sort key of `find`: any field, `@timestamp`, or `_id`. `missing` places events without the field. */
export interface SortKey {
  field: string;
  desc: boolean;
  missing?: 'first' | 'last';
}

export interface FindRequest {
  filter: FilterNode;
  /** Absent: every partition. */
  range?: TimeRange;
  /** Default: @timestamp descending. Ties are broken by storage order, so paging is stable. */
  sort?: SortKey[];
  offset?: number;
  limit: number;
  /** Direction of the storage-order tiebreak after the sort keys (default descending): ascending reads events of one instant in arrival order. */
  storageOrder?: 'asc' | 'desc';
  /** Values of the sort keys of the last hit of the previous page (Elasticsearch's search_after), in `sort` order. */
  searchAfter?: unknown[];
  /** Count every match (true), or stop counting at this number (Elasticsearch's track_total_hits). */
  trackTotalHits?: boolean | number;
  /** Only events stored before this snapshot was taken (hits and total): Elasticsearch's scroll and point in time. */
  snapshot?: StoreSnapshot;
  nowMs?: number;
}

/**
 * What was stored at one moment, for paging over a consistent view while
 * ingest goes on. Opaque outside the backend that made it, and small: the
 * DuckDB store keeps each day's committed row count (rows carry per-day
 * sequence numbers, so rows at or past it came later). Events deleted after
 * it was taken are gone from it too.
 */
export interface StoreSnapshot {
  readonly takenAtMs: number;
  /** Per day (YYYYMMDD): rows below this per-day sequence number were committed. */
  readonly marks: ReadonlyMap<number, number>;
}

export interface FindResult {
  /** Matches counted; `exact` is false when counting stopped at trackTotalHits. */
  total: { value: number; exact: boolean };
  /** Each hit with `sort`: its values of the sort keys, for search_after. */
  hits: (Hit & { _sort: unknown[] })[];
}

/** How one level of a grouping splits events into buckets. */
export type GroupKey =
  /** The field's value; list fields (tags) put an event in one bucket per element. */
  | { kind: 'terms'; field: string }
  /** Fixed-width time buckets; `offsetMicros` shifts bucket starts (time zones, offsets). Key: bucket start in µs. */
  | { kind: 'time'; field: string; intervalMicros: number; offsetMicros?: number }
  /** Calendar buckets in a time zone: minute … year. Key: bucket start in µs. */
  | { kind: 'calendar'; field: string; unit: 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'; timeZone?: string }
  /** Numeric buckets of width `interval` (Elasticsearch histogram). Key: bucket start. */
  | { kind: 'histogram'; field: string; interval: number; offset?: number }
  /** Key: the index of the first range containing the value (events in none are left out); from inclusive, to exclusive. */
  | { kind: 'range'; field: string; ranges: { from?: number; to?: number }[] }
  /** Key: the index of each filter an event matches (an event may count in several). */
  | { kind: 'filters'; filters: FilterNode[] };

export type MetricFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'value_count' | 'cardinality' | 'percentile';

export interface Metric {
  fn: MetricFn;
  /** Absent only for count (events in the bucket). */
  field?: string;
  /** For percentile: 0..100. */
  percentile?: number;
  /**
   * For cardinality: counted exactly up to this many distinct values; beyond it a backend may estimate
   * within Elasticsearch's error (a few per cent) or stay exact, as the DuckDB store does. Elasticsearch's
   * `precision_threshold`: default CARDINALITY_PRECISION_DEFAULT, at most CARDINALITY_PRECISION_MAX.
   */
  precisionThreshold?: number;
}

/** Elasticsearch's default `precision_threshold` of `cardinality`. */
export const CARDINALITY_PRECISION_DEFAULT = 3000;
/** Elasticsearch's largest `precision_threshold`: larger values are clamped to it. */
export const CARDINALITY_PRECISION_MAX = 40_000;

export interface GroupRequest {
  filter: FilterNode;
  range?: TimeRange;
  /** Zero keys: one row over all matching events. */
  keys: GroupKey[];
  metrics: Metric[];
  /**
   * Optional restriction of key values, one entry per key (null: any): used to
   * compute a child level only for the parent buckets kept.
   */
  keyValues?: (unknown[] | null)[];
  /** Only events stored after this snapshot was taken (its complement in FindRequest.snapshot): incremental caches such as the ES mapping cache. */
  since?: StoreSnapshot;
  nowMs?: number;
}

/** One row per combination of key values that has events: `keys` in request order, `metrics` in request order. */
export interface GroupRow {
  keys: unknown[];
  metrics: (number | null)[];
}

export interface StoreStats {
  partitions: number;
  bytesOnDisk: number;
}

/**
 * Where a write put its events, filled in by the store: event `i` became row
 * `seqs[i]` of day `days[i]` (YYYYMMDD). An event without an id of its own
 * is found by the generated id `day-seq` (generatedId); such ids cost no
 * space, unlike random ones, which no compression shrinks.
 */
export class RowKeys {
  readonly days: Uint32Array;
  readonly seqs: Float64Array;

  constructor(readonly length: number) {
    this.days = new Uint32Array(length);
    this.seqs = new Float64Array(length);
  }

  /** The generated id of event `i`. */
  id(i: number): string {
    return generatedId(this.days[i], this.seqs[i]);
  }
}

/** The id of the row `seq` of day `day` (YYYYMMDD), for events stored without an id of their own. */
export function generatedId(day: number, seq: number): string {
  return `${day}-${seq}`;
}

export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Resolves once every event is durable: only then may an input acknowledge
   * it. With `keys` (at least as long as `events`), each event's day and
   * sequence number are in it once this resolves.
   */
  write(events: LogEvent[], keys?: RowKeys): Promise<void>;
  search(req: SearchRequest): Promise<SearchResult>;
  histogram(filter: FilterNode, range: TimeRange, intervalMicros: number, nowMs?: number): Promise<HistogramBucket[]>;
  fields(range: TimeRange): Promise<FieldInfo[]>;
  topValues(
    filter: FilterNode,
    range: TimeRange,
    field: string,
    limit: number,
    nowMs?: number,
  ): Promise<{ value: unknown; count: number }[]>;
  stats(): Promise<StoreStats>;
  /** General search: any sort, offset, search_after; Elasticsearch's _search uses it. */
  find(req: FindRequest): Promise<FindResult>;
  /** What is stored now, for `find` requests that must not see later writes (FindRequest.snapshot). */
  snapshot(): Promise<StoreSnapshot>;
  /** Counts and metrics per bucket: the building block of stats pipes and Elasticsearch aggregations. */
  group(req: GroupRequest): Promise<GroupRow[]>;
  /** Events by `_id`, optionally only within one index; absent ids are left out. */
  getByIds(ids: string[], index?: string): Promise<Hit[]>;
  /** Deletes every event matching the filter (in any partition) and returns how many; durable when it resolves. */
  deleteWhere(filter: FilterNode): Promise<number>;
  /** Names of indices (`_index` values) with their event counts. */
  indices(): Promise<{ index: string; count: number }[]>;
  /** Deletes whole partitions older than the retention period; returns how many. */
  applyRetention(nowMicros: number): Promise<number>;
}

/** A query the store refuses for a reason the user can fix (unknown field in a pipe, bad range bound). Answered as HTTP 400. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A query stopped because its requester went away (a closed HTTP request, a cancelled search in the UI). */
export class QueryCancelled extends Error {
  constructor() {
    super('the query was cancelled');
    this.name = 'QueryCancelled';
  }
}

/** A query stopped because it ran longer than the server's query timeout (`--query-timeout`). */
export class QueryTimedOut extends Error {
  constructor(readonly limitMs: number) {
    super(
      `the query ran longer than the query timeout of ${limitMs / 1000} s (--query-timeout) and was stopped; narrow the time range or the query, or raise --query-timeout`,
    );
    this.name = 'QueryTimedOut';
  }
}

/** The error a query stopped by `signal` throws: its timeout, or a cancellation. */
export function stoppedBy(signal: AbortSignal): Error {
  return signal.reason instanceof QueryTimedOut ? signal.reason : new QueryCancelled();
}

/**
 * The signal that cancels the queries run inside `queryAbort.run(signal, …)`: backends check it
 * between statements and interrupt the statement running when it fires, then throw QueryCancelled.
 */
export const queryAbort = new AsyncLocalStorage<AbortSignal>();
