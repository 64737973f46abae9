/**
 * The store interface: what the rest of Logmill may ask of storage. Backends
 * (./duckdb, later ./clickhouse) own their physical layout and their SQL;
 * nothing outside a backend writes SQL.
 */
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
export type Hit = Record<string, unknown> & { _id: string; '@timestamp': string };

export interface SearchRequest {
  query: Query;
  range: TimeRange;
  limit: number;
  /** Opaque cursor from a previous page's `cursor`. */
  cursor?: string;
  nowMs?: number;
}

export type SearchResult =
  | { kind: 'hits'; total: number; hits: Hit[]; cursor: string | null }
  | { kind: 'table'; columns: string[]; rows: unknown[][] };

export interface HistogramBucket {
  /** Bucket start, ISO-8601. */
  time: string;
  count: number;
}

export interface StoreStats {
  partitions: number;
  bytesOnDisk: number;
}

export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once every event is durable: only then may an input acknowledge it. */
  write(events: LogEvent[]): Promise<void>;
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
