/**
 * The embedded DuckDB store: one DuckDB instance, a small catalog file for
 * the field registry, and one attached file per day of events.
 */
// First: sets the allocator of DuckDB before its library allocates anything.
import './allocator.js';
import fs from 'node:fs';
import path from 'node:path';
import {
  DuckDBInstance,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampValue,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { addTag, TAG, type FieldType, type LogEvent, type Scalar } from '../../core/event.js';
import { KIND, ScannedEvent } from '../../core/json-fields.js';
import { INVALID_TIMESTAMP_FIELD } from '../../core/normalize.js';
import { microsToIso } from '../../core/time.js';
import type { FilterNode } from '../../query/ast.js';
import { bareValues, bloomCondition, indexedColumn, mayHoldWords, type IndexScope, type WordSet } from '../../query/words.js';
import { KEYWORD_SUFFIX, type ColumnRef, type DialectContext } from '../../query/dialects/dialect.js';
import { compileFilter, compilePipes, valueExpr } from '../../query/dialects/duckdb.js';
import { BloomFilter } from '../bloom.js';
import { BloomIndexer } from './bloom-indexer.js';
import {
  HIT_POSITION,
  HIT_SHAPE,
  QueryError,
  queryAbort,
  stoppedBy,
  type FieldInfo,
  type FindRequest,
  type FindResult,
  type GroupRequest,
  type GroupRow,
  type HistogramBucket,
  type Hit,
  type SearchRequest,
  type SearchResult,
  type SortKey,
  type Store,
  type StoreSnapshot,
  type StoreStats,
  type TimeRange,
  generatedId,
  RowKeys,
  rowPosition,
  TOTAL_HITS_CAP,
} from '../store.js';
import { Catalog, FIXED_COLUMNS, SQL_TYPE, type FieldEntry } from './catalog.js';
import {
  BASE_COLUMNS,
  SHAPE_COLUMN,
  DEFAULT_BLOCK_ROWS,
  FACET_FIELDS,
  FACET_SECONDS,
  WIDE_COLUMNS,
  Partition,
  dayOfMicros,
  dayStartMicros,
  quote,
  type BlockCounts,
  type FacetField,
  type ParquetPart,
  type PreparedAppend,
} from './partition.js';
import { encodeRow, encodeScannedRow, type LineWriter } from './rows.js';
import { inferType } from './values.js';
import { keySql, metricArg, metricSql } from './grouping.js';

export interface DuckDBStoreOptions {
  dir: string;
  /** Days to keep; 0 keeps everything. */
  retentionDays?: number;
  /** Dynamic columns before further fields go to the overflow map (Elasticsearch's total_fields.limit is 1000). */
  maxColumns?: number;
  /** DuckDB's memory limit for queries, e.g. '256MB'. */
  memoryLimit?: string;
  /**
   * DuckDB's memory limit for background conversion and compaction. A cap, not a reservation: narrow
   * data converts in about 130 MB, but DuckDB pins a 256 KiB buffer per Parquet column on each side of
   * a merge, and merging files of a thousand columns ran out of 512 MB (it passed at 768 MB).
   */
  converterMemoryLimit?: string;
  threads?: number;
  bloomBits?: number;
  /** Rows per block (bloom filter and compaction unit); the default matches DuckDB's row groups. Small values are for tests. */
  blockRows?: number;
  /** zstd level of compacted blocks (Parquet). */
  compressionLevel?: number;
  /** Called with errors of background work (compaction), which has no caller to reject. */
  onBackgroundError?: (err: Error) => void;
}

const DAY_MICROS = 86_400_000_000;
/** The range of `find`/`group` requests without one: every partition. */
const ALL_TIME: TimeRange = { fromMicros: 0, toMicros: Date.UTC(10000, 0, 1) * 1000 };
/** Generated ids: the partition's day and the event's sequence number in it. */
const GENERATED_ID = /^(\d{8})-(\d{1,15})$/;
/** Rows in segments beyond which writes wait for background conversion: four blocks, about 150 MB of NDJSON. */
const MAX_BACKLOG_ROWS = 4 * DEFAULT_BLOCK_ROWS;
/** Columns read per query when fetching hits: a 256 KiB buffer each in DuckDB's Parquet reader. */
const FETCH_COLUMNS = 200;
/** How often background work (segments to Parquet, compaction) looks for something to do. */
const MAINTAIN_EVERY_MS = 250;

/** A write's lines, encoded for its partitions and waiting for their commit: nothing of its events is kept. */
interface EncodedWrite {
  parts: { p: Partition; prepared: PreparedAppend }[];
  /** Catalog entries whose conflicts the encoding noted: saved before the lines are written. */
  dirty: Set<FieldEntry>;
}

interface RelationOptions {
  /** One file of one partition, and nothing else. */
  only?: { partition: Partition; part: ParquetPart };
  /** Files left out (counted from their statistics instead). */
  skip?: Set<string>;
  bare?: BareColumns;
  /** Which files (and, for null, young rows in segments) of a partition to read: the rest is left out. */
  include?: (p: Partition, part: ParquetPart | null) => boolean;
}

/** ` AND …`: the rows after a page's cursor (older, or older in storage order at the same time), its values bound as parameters. */
function afterCursor(cursor: string, params: DuckDBValue[]): string {
  const c = decodeCursor(cursor);
  params.push(BigInt(c.ts), c.day, BigInt(c.seq));
  const [t, d, q] = [params.length - 2, params.length - 1, params.length];
  return ` AND (ts < make_timestamp($${t}::BIGINT) OR (ts = make_timestamp($${t}::BIGINT) AND (_day < $${d} OR (_day = $${d} AND _seq < $${q}))))`;
}

/** Every field some bare word of the query may be the value of: each is projected as `b_<column>`. */
function bareProjection(bare: BareColumns | undefined): ColumnRef[] {
  const out = new Map<string, ColumnRef>();
  for (const refs of bare?.values() ?? []) for (const ref of refs) if (ref.column) out.set(ref.column, ref);
  return [...out.values()];
}

/** Each block's facet values, lower-cased, by column: built once per counts object. */
const facetValueSets = new WeakMap<BlockCounts, Map<string, ReadonlySet<string>>>();

/** A block's filter, with the exact values of the facet fields its counts hold (host, source, level). */
function withFacetValues(bloom: BloomFilter, counts: BlockCounts | null): WordSet {
  if (!counts?.facets) return bloom;
  let sets = facetValueSets.get(counts);
  if (!sets) {
    sets = new Map();
    for (const field of ['host', 'source', 'level'] as const) {
      const facet = counts.facets[field];
      if (facet) sets.set(field, new Set(facet.values.filter((v): v is string => v !== null).map((v) => v.toLowerCase())));
    }
    facetValueSets.set(counts, sets);
  }
  const known = sets;
  return { mayContain: (a, b) => bloom.mayContain(a, b), valuesOf: (column) => known.get(column) };
}

/** The files a newest-first search reads, in order, and the block files there were when it listed them. */
interface NewestFirstUnits {
  units: { key: string; maxMicros: number }[];
  blocks: Set<string>;
}

/** Names a block file of a partition, or (part null) its young rows (minis and segments), for RelationOptions.include. */
function unitKey(p: Partition, part: ParquetPart | null): string {
  return `${p.day}/${part ? part.file : 'segments'}`;
}

/** Per bare word of a query, the string fields other than the message it may be the value of. */
type BareColumns = Map<string, ColumnRef[]>;

/** A write, or another change (deletes) that must not interleave with writes. */
type PendingWrite =
  /** Encoded on arrival (the usual case). */
  | { encoded: EncodedWrite; events?: undefined; keys?: undefined; task?: undefined; resolve: () => void; reject: (err: unknown) => void }
  /** To be encoded in its turn, after what it needs first: new fields' types, a partition opened, the conversion backlog worked off. */
  | { events: LogEvent[]; keys?: RowKeys; encoded?: undefined; task?: undefined; resolve: () => void; reject: (err: unknown) => void }
  | { task: () => Promise<number>; events?: undefined; keys?: undefined; encoded?: undefined; resolve: (n?: number) => void; reject: (err: unknown) => void };

/**
 * Whether a group can take the counts of blocks: counts only, no filter, and
 * keys that are time buckets of whole seconds, or of whole ten seconds split
 * by a facet field.
 */
function countsPlan(req: GroupRequest): { every: number; offset: number; facet?: FacetField } | null {
  const [time, split] = req.keys;
  if (req.filter.kind !== 'all' || req.since || !req.metrics.every((m) => m.fn === 'count') || req.keyValues?.some((v) => v)) return null;
  if (time?.kind !== 'time' || time.field !== '@timestamp' || req.keys.length > 2) return null;
  const every = Math.max(1, Math.round(time.intervalMicros));
  const offset = Math.round(time.offsetMicros ?? 0);
  const whole = (us: number): boolean => every % us === 0 && offset % us === 0;
  if (split === undefined) return whole(1_000_000) ? { every, offset } : null;
  const facet = split.kind === 'terms' ? FACET_FIELDS.find((f) => f === split.field) : undefined;
  return facet && whole(FACET_SECONDS * 1_000_000) ? { every, offset, facet } : null;
}

/**
 * Calls `visit` with every value of a field that is no fixed column (nulls skipped) while it returns true; false if it
 * stopped. Given `visitName`, a scanned event whose fields were never rebuilt is checked by its fields' names alone.
 */
function everyDynamicValue(events: LogEvent[], visit: (name: string, value: Scalar | Scalar[]) => boolean, visitName?: (name: string) => boolean): boolean {
  for (const ev of events) {
    if (visitName !== undefined && ev instanceof ScannedEvent && ev.pristine) {
      const { batch, first, count } = ev;
      for (let i = first; i < first + count; i++) {
        const kind = batch.kinds[i];
        if (kind === KIND.null) continue;
        const name = batch.name(i);
        if (FIXED_COLUMNS[name] !== undefined) continue;
        if (kind === KIND.float ? !visit(name, batch.value(i) as Scalar) : !visitName(name)) return false;
      }
      continue;
    }
    for (const name in ev.fields) {
      if (FIXED_COLUMNS[name] !== undefined) continue;
      const value = ev.fields[name];
      if (value !== null && !visit(name, value)) return false;
    }
  }
  return true;
}

/** Whether a value makes an integer field float. */
function widens(entry: FieldEntry, value: Scalar | Scalar[]): boolean {
  return entry.type === 'integer' && typeof value === 'number' && !Number.isInteger(value);
}

function compareNullsLast(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return String(a) < String(b) ? -1 : 1;
}

export class DuckDBStore implements Store {
  private instance: DuckDBInstance | null = null;
  private writer!: DuckDBConnection;
  /** Background file work (segments to Parquet, merges, rewrites), on an instance of its own. */
  private converter: DuckDBInstance | null = null;
  private compactor!: DuckDBConnection;
  /** Sets the conversion instance's threads while it runs (a statement may not wait behind a conversion). */
  private converterControl!: DuckDBConnection;
  private converterThreads = 1;
  private readers: DuckDBConnection[] = [];
  private nextReader = 0;
  private catalog!: Catalog;
  private readonly partitions = new Map<number, Partition>();
  private readonly partitionDir: string;
  private pending: PendingWrite[] = [];
  /** Writes queued to be encoded in their turn, and tasks queued: while there are any, later writes wait behind them. */
  private waitingToEncode = 0;
  private tasksQueued = 0;
  /** The drain is encoding writes in their turn (awaiting field types or a partition). */
  private encodingInTurn = false;
  private writing = false;
  private readonly bloomCache = new Map<string, BloomFilter | null>();
  /** Parquet files queries considered, and those their bloom filters let them skip: what tests see of the index at work. */
  readonly indexStats = { files: 0, skipped: 0 };
  /** Open blocks' bloom filters are filled on a worker thread, off the event loop. */
  private readonly indexer = new BloomIndexer();
  private closed = false;
  private maintainTimer: NodeJS.Timeout | null = null;
  private maintaining: Promise<void> | null = null;

  constructor(private readonly opts: DuckDBStoreOptions) {
    this.partitionDir = path.join(opts.dir, 'partitions');
  }

  async open(): Promise<void> {
    fs.mkdirSync(this.partitionDir, { recursive: true });
    this.instance = await DuckDBInstance.create(path.join(this.opts.dir, 'catalog.duckdb'), {
      memory_limit: this.opts.memoryLimit ?? '256MB',
      threads: String(this.opts.threads ?? 2),
      preserve_insertion_order: 'true',
    });
    this.writer = await this.instance.connect();
    // Timestamps are stored as UTC; time zones are applied explicitly where a query asks for one.
    // No Parquet metadata cache: deletes rewrite files under the same name, which a cache must never
    // miss, and queries over the 82 blocks of 10M events measured as fast without it, within noise.
    await this.writer.run("LOAD icu; SET GLOBAL TimeZone = 'UTC'; SET GLOBAL parquet_metadata_cache = false");
    for (let i = 0; i < 2; i++) this.readers.push(await this.instance.connect());
    // One thread: turning segments into Parquet must leave the other core to the event loop, which
    // serves every input; DuckDB's threads setting is per instance, so this work gets one of its own.
    this.converter = await DuckDBInstance.create(':memory:', {
      memory_limit: this.opts.converterMemoryLimit ?? '1GB',
      threads: '1',
      // With one thread rows come out in order anyway; keeping order explicitly made the writer buffer
      // more, and a thousand-column conversion ran out of even 512 MB now and then (the 50,000-field bulk test).
      preserve_insertion_order: 'false',
    });
    this.compactor = await this.converter.connect();
    this.converterControl = await this.converter.connect();
    this.catalog = new Catalog(this.writer, this.opts.maxColumns ?? 1000);
    await this.catalog.load();
    for (const name of fs.readdirSync(this.partitionDir).sort()) {
      if (/^\d{8}\.duckdb$/.test(name)) {
        throw new Error(
          `${path.join(this.partitionDir, name)} is a partition in the storage layout of an earlier development build, which this one cannot read; move it out of ${this.partitionDir} to start`,
        );
      }
      if (/^\d{8}$/.test(name)) await this.partition(Number(name));
    }
    this.maintainTimer = setInterval(() => void this.maintainAll(false), MAINTAIN_EVERY_MS);
    this.maintainTimer.unref();
  }

  /** Background work of every partition, one pass at a time. */
  private maintainAll(force: boolean): Promise<void> {
    if (this.maintaining) return this.maintaining;
    const pass = async (): Promise<void> => {
      for (const p of [...this.partitions.values()]) {
        if (!p.pendingWork && !force) continue;
        try {
          await p.exclusive(() => (force ? p.close(this.compactor) : p.maintain(this.compactor, false)));
        } catch (err) {
          (this.opts.onBackgroundError ?? ((e: Error) => process.emitWarning(`logmill storage: ${e.message}`)))(err as Error);
        }
      }
    };
    // Cleared in a callback, which runs after the assignment even when the pass finishes at once.
    this.maintaining = pass().finally(() => {
      this.maintaining = null;
    });
    return this.maintaining;
  }

  private async partition(day: number): Promise<Partition> {
    let p = this.partitions.get(day);
    if (!p) {
      p = new Partition(
        day,
        Partition.dirFor(this.partitionDir, day),
        (files, columns, lenient) => this.segmentRelation(files, columns, lenient),
        this.opts.bloomBits ?? 22,
        this.indexer,
        this.opts.blockRows ?? DEFAULT_BLOCK_ROWS,
        this.opts.compressionLevel ?? 3,
      );
      await p.open(this.compactor);
      this.partitions.set(day, p);
    }
    return p;
  }

  /**
   * Segment files as a relation with the columns of Parquet files: DuckDB's
   * NDJSON reader, told each column's type, so that it reads only the keys
   * a query needs. Timestamps are written as epoch microseconds.
   */
  private segmentRelation(files: string[], columns: Iterable<string>, lenient: boolean): { sql: string; types: Map<string, FieldType> } {
    const spec = ["_seq: 'BIGINT'", "ts: 'BIGINT'"];
    const select = ['_seq', 'make_timestamp(ts) AS ts'];
    for (const c of BASE_COLUMNS.slice(2)) {
      spec.push(`${c.name}: '${c.sql}'`);
      select.push(c.name);
    }
    // Segments always have the shape column (a line without the key reads NULL); old Parquet files may not (partition.ts).
    const types = new Map<string, FieldType>([[SHAPE_COLUMN, 'string']]);
    for (const col of columns) {
      const entry = this.catalog.ofColumn(col);
      if (!entry) continue;
      types.set(col, entry.type);
      if (entry.type === 'timestamp') {
        spec.push(`${col}: 'BIGINT'`);
        select.push(`make_timestamp(${col}) AS ${col}`);
      } else {
        spec.push(`${col}: '${SQL_TYPE[entry.type]}'`);
        select.push(col);
      }
    }
    const list = files.map(quote).join(', ');
    const options = `format = 'newline_delimited', columns = {${spec.join(', ')}}${lenient ? ', ignore_errors = true' : ''}`;
    return { sql: `SELECT ${select.join(', ')} FROM read_json([${list}], ${options})`, types };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    while (this.writing || this.pending.length) await new Promise((r) => setTimeout(r, 5));
    await this.maintaining;
    await this.maintainAll(true);
    await this.writer.run('CHECKPOINT');
    for (const c of [...this.readers, this.writer, this.compactor, this.converterControl]) c.closeSync();
    this.instance?.closeSync();
    this.instance = null;
    this.converter?.closeSync();
    this.converter = null;
    await this.indexer.close();
  }

  // ---------------------------------------------------------------- writing

  /**
   * Group commit: writes that arrive while a commit is under way go into the
   * next one, so that many small requests cost one sync.
   *
   * A write is encoded the moment it arrives whenever nothing it needs is
   * missing (its fields have their types, its days' partitions are open, the
   * conversion backlog is within bounds) and nothing queued must go first.
   * Its events then die young: they are not kept while earlier commits sync,
   * which made them outlive garbage collections and cost more than encoding.
   */
  write(events: LogEvent[], keys?: RowKeys): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (events.length === 0) return Promise.resolve();
    if (keys !== undefined && keys.length < events.length) return Promise.reject(new Error(`store: room for ${keys.length} keys but ${events.length} events`));
    return new Promise((resolve, reject) => {
      let encoded: EncodedWrite | null = null;
      if (this.mayEncodeOnArrival()) {
        try {
          encoded = this.encode(events, keys);
        } catch (err) {
          reject(err);
          return;
        }
      }
      if (encoded) this.pending.push({ encoded, resolve, reject });
      else {
        this.pending.push({ events, keys, resolve, reject });
        this.waitingToEncode++;
      }
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Whether a write may be encoded now: its sequence numbers must follow those
   * of every write before it in the queue, and no task (a delete) may be
   * queued before it.
   */
  private mayEncodeOnArrival(): boolean {
    return !this.encodingInTurn && this.waitingToEncode === 0 && this.tasksQueued === 0 && this.backlogRows() <= MAX_BACKLOG_ROWS;
  }

  /**
   * One write is synced while the next ones are encoded: the event loop
   * encodes while the disk works. Commits keep the order of the queue; tasks
   * (deletes) run with no write in flight.
   */
  private async drain(): Promise<void> {
    this.writing = true;
    let committing: Promise<void> = Promise.resolve();
    // Writes queued while the last commit finishes are drained too: `write` starts no drain meanwhile.
    do {
      while (this.pending.length > 0) committing = (await this.drainOne(committing)).chain;
      await committing;
    } while (this.pending.length > 0);
    this.writing = false;
  }

  /**
   * Commits the writes at the head of the queue (encoding them first if they
   * were not) or runs the task there, and returns the commit chain (wrapped:
   * an async function would wait for a promise it returns), with at most one
   * commit in flight.
   */
  private async drainOne(committing: Promise<void>): Promise<{ chain: Promise<void> }> {
    const next = this.pending[0];
    if (next.task) {
      await committing;
      this.pending.shift();
      this.tasksQueued--;
      try {
        next.resolve(await next.task());
      } catch (err) {
        next.reject(err);
      }
      return { chain: committing };
    }
    let batch: PendingWrite[];
    let encoded: EncodedWrite[];
    if (next.encoded) {
      // Every write encoded on arrival goes into one commit.
      let end = 0;
      while (end < this.pending.length && this.pending[end].encoded) end++;
      batch = this.pending.splice(0, end);
      encoded = batch.map((b) => b.encoded as EncodedWrite);
      await this.relaxConverter();
    } else {
      await this.awaitConversion();
      // Every write waiting to be encoded, up to the next task, goes into one commit (none behind it was encoded on arrival).
      let end = 0;
      while (end < this.pending.length && this.pending[end].events) end++;
      batch = this.pending.splice(0, end);
      this.waitingToEncode -= batch.length;
      this.encodingInTurn = true;
      try {
        const events = batch.length === 1 ? (batch[0].events as LogEvent[]) : batch.flatMap((b) => b.events as LogEvent[]);
        const keys = batch.length === 1 ? batch[0].keys : batch.some((b) => b.keys) ? new RowKeys(events.length) : undefined;
        encoded = [await this.encodeInTurn(events, keys)];
        if (keys !== undefined && batch.length > 1) {
          // Each write's share of the keys of the one encoding.
          let at = 0;
          for (const b of batch) {
            const n = (b.events as LogEvent[]).length;
            if (b.keys) {
              b.keys.days.set(keys.days.subarray(at, at + n));
              b.keys.seqs.set(keys.seqs.subarray(at, at + n));
            }
            at += n;
          }
        }
      } catch (err) {
        for (const b of batch) b.reject(err);
        return { chain: committing };
      } finally {
        this.encodingInTurn = false;
      }
      for (const b of batch) b.events = [];
    }
    const chained = committing
      .then(() => this.commit(encoded))
      .then(
        () => {
          for (const b of batch) b.resolve();
        },
        (err: unknown) => {
          for (const b of batch) b.reject(err);
        },
      );
    // The previous commit must be done before the next batch is committed.
    await committing;
    return { chain: chained };
  }

  /**
   * Backpressure: while more rows wait in segments than background work can
   * soon turn into Parquet, writes wait (and inputs with them: TCP windows
   * close, Beats ACKs slow down) instead of letting NDJSON pile up on disk and
   * queries read ever more of it.
   */
  private async awaitConversion(): Promise<void> {
    // Bounded: if conversion keeps failing (its errors are reported), writes go on, slowly, rather than stop.
    const until = Date.now() + 5_000;
    if (this.backlogRows() > MAX_BACKLOG_ROWS) {
      // Writes wait, so the event loop has little to do: conversion may take the second core meanwhile.
      await this.setConverterThreads(2);
      while (!this.closed && Date.now() < until && this.backlogRows() > MAX_BACKLOG_ROWS) {
        await Promise.all([this.maintainAll(false), new Promise((r) => setTimeout(r, 20))]);
      }
    } else await this.relaxConverter();
  }

  /** Conversion goes back to one thread once the backlog is below half its bound. */
  private async relaxConverter(): Promise<void> {
    if (this.converterThreads > 1 && this.backlogRows() < MAX_BACKLOG_ROWS / 2) await this.setConverterThreads(1);
  }

  private async setConverterThreads(n: number): Promise<void> {
    if (this.converterThreads === n || this.closed) return;
    this.converterThreads = n;
    await this.converterControl.run(`SET threads = ${n}`);
  }

  private backlogRows(): number {
    let rows = 0;
    for (const p of this.partitions.values()) rows += p.segmentRows();
    return rows;
  }

  /** Encodes events in their turn: first gives them what `encode` needs (field types, partitions). */
  private async encodeInTurn(events: LogEvent[], keys: RowKeys | undefined): Promise<EncodedWrite> {
    await this.typeFields(events);
    for (const day of this.daysOf(events)) await this.partition(day);
    const encoded = this.encode(events, keys);
    if (!encoded) throw new Error('store: events could not be encoded after their fields were typed and their partitions opened');
    return encoded;
  }

  /** Fields seen for the first time get their type; fractional numbers widen integer fields. */
  private async typeFields(events: LogEvent[]): Promise<void> {
    const fresh = new Map<string, FieldType>();
    const widen = new Set<FieldEntry>();
    everyDynamicValue(events, (name, value) => {
      const entry = this.catalog.get(name);
      if (!entry) {
        const type = inferType(value);
        const seen = fresh.get(name);
        // Within one batch, an integer field that also brings fractions starts as float.
        if (seen === undefined || (seen === 'integer' && type === 'float')) fresh.set(name, type);
      } else if (widens(entry, value)) widen.add(entry);
      return true;
    });
    for (const entry of widen) await this.widen(entry);
    await this.catalog.addAll(fresh);
  }

  private daysOf(events: LogEvent[]): Set<number> {
    const days = new Set<number>();
    let dayFrom = 0;
    let dayTo = -1;
    for (const ev of events) {
      if (!(ev.ts >= MIN_TS_MICROS && ev.ts < MAX_TS_MICROS)) repairTimestamp(ev);
      if (ev.ts >= dayFrom && ev.ts < dayTo) continue;
      const day = dayOfMicros(ev.ts);
      dayFrom = dayStartMicros(day);
      dayTo = dayFrom + DAY_MICROS;
      days.add(day);
    }
    return days;
  }

  /**
   * Encodes events as lines of their partitions' segments, taking their
   * sequence numbers (noted in `keys`, when given); or null, before changing
   * anything, when a field has no type yet, an integer field needs widening
   * or a day's partition is not open.
   */
  private encode(events: LogEvent[], keys?: RowKeys): EncodedWrite | null {
    const typed = everyDynamicValue(
      events,
      (name, value) => {
        const entry = this.catalog.get(name);
        return entry !== undefined && !widens(entry, value);
      },
      // A scanned value other than a fraction never widens a field: its field need only be known.
      (name) => this.catalog.get(name) !== undefined,
    );
    if (!typed) return null;
    // Route to daily partitions. The day of the event before, as a range of microseconds: a batch rarely spans two days.
    const byDay = new Map<number, { p: Partition; list: LogEvent[] }>();
    let dayFrom = 0;
    let dayTo = -1;
    let list: LogEvent[] = [];
    for (const ev of events) {
      if (!(ev.ts >= MIN_TS_MICROS && ev.ts < MAX_TS_MICROS)) repairTimestamp(ev);
      if (!(ev.ts >= dayFrom && ev.ts < dayTo)) {
        const day = dayOfMicros(ev.ts);
        dayFrom = dayStartMicros(day);
        dayTo = dayFrom + DAY_MICROS;
        const known = byDay.get(day);
        if (known) list = known.list;
        else {
          const p = this.partitions.get(day);
          if (!p) return null;
          byDay.set(day, { p, list: (list = []) });
        }
      }
      list.push(ev);
    }
    const dirty = new Set<FieldEntry>();
    const encodeOne = (w: LineWriter, ev: LogEvent, seq: number, columns: Set<string>): void => {
      if (ev instanceof ScannedEvent && ev.pristine && encodeScannedRow(w, ev, seq, this.catalog, columns)) return;
      encodeRow(w, ev, seq, this.catalog, columns, dirty);
    };
    const parts = [...byDay.values()].map(({ p, list }) => ({ p, prepared: p.prepare(list, encodeOne) }));
    if (keys !== undefined) noteKeys(events, byDay, parts, keys);
    return { parts, dirty };
  }

  /** Makes encoded writes durable: conflicts noted in the catalog, then every partition's lines (the partitions in parallel). */
  private async commit(writes: EncodedWrite[]): Promise<void> {
    const dirty = new Set<FieldEntry>();
    const byPartition = new Map<Partition, PreparedAppend[]>();
    for (const w of writes) {
      for (const entry of w.dirty) dirty.add(entry);
      for (const { p, prepared } of w.parts) {
        const list = byPartition.get(p);
        if (list) list.push(prepared);
        else byPartition.set(p, [prepared]);
      }
    }
    await this.catalog.updateAll([...dirty]);
    const results = await Promise.allSettled([...byPartition].map(([p, list]) => p.commit(list)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async widen(entry: FieldEntry): Promise<void> {
    entry.type = 'float';
    await this.catalog.update(entry);
  }

  // ---------------------------------------------------------------- reading

  /** Statements running on each reader connection, so that a cancelled query interrupts only its own. */
  private readonly runningOn = new Map<DuckDBConnection, number>();

  private reader(): DuckDBConnection {
    const c = this.readers[this.nextReader];
    this.nextReader = (this.nextReader + 1) % this.readers.length;
    return c;
  }

  private columnRef(name: string): ColumnRef | undefined {
    const ref = this.plainColumnRef(name);
    if (ref || !name.endsWith(KEYWORD_SUFFIX)) return ref;
    // `host.keyword`, as Elasticsearch's dynamic mapping names a text field's whole value; a field
    // that really has that name wins (above).
    const base = this.plainColumnRef(name.slice(0, -KEYWORD_SUFFIX.length));
    // A number or time has no sub-field in Elasticsearch; `status.keyword` is taken as `status`.
    if (!base || base.type !== 'string') return base;
    return { ...base, fullText: false, words: false, keyword: true };
  }

  private plainColumnRef(name: string): ColumnRef | undefined {
    const fixed = FIXED_COLUMNS[name];
    if (fixed) {
      // Index names and tags are matched whole; every other string field also by its words.
      const words = fixed.type === 'string' && !fixed.list && name !== '_index' && name !== 'message';
      return { name, type: fixed.type, column: fixed.column, overflow: false, fullText: name === 'message', list: fixed.list, words };
    }
    if (name === '_id') return { name, type: 'string', column: ID_EXPR, overflow: false, fullText: false };
    const entry = this.catalog.get(name);
    if (!entry) return undefined;
    return {
      name,
      type: entry.type,
      column: entry.column,
      overflow: entry.column === null || entry.conflicts.size > 0,
      fullText: false,
      words: entry.type === 'string',
    };
  }

  private context(params: DuckDBValue[], nowMs: number, bare?: BareColumns): DialectContext {
    return {
      resolve: (field) => this.columnRef(field),
      bareColumns: (value) => (bare?.get(value) ?? []).map((ref) => ({ ...ref, column: `b_${ref.column}`, overflow: false })),
      param: (value) => {
        if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value)) {
          // The binding would read a whole number as BIGINT and fail past 2^63: send its text, cast to DOUBLE.
          params.push(String(value));
          return `CAST($${params.length} AS DOUBLE)`;
        }
        // Whole numbers beyond 32 bits bind as BIGINT, exactly.
        params.push(typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 31 ? BigInt(value) : value);
        return `$${params.length}`;
      },
      nowMs,
    };
  }

  /**
   * The events of a time range as one relation: a UNION ALL over the days it
   * covers, each branch projecting every known column (NULL where the day
   * lacks it) and, for a full-text filter, only the blocks whose bloom
   * filter may match.
   */
  private async relation(
    range: TimeRange,
    filter: FilterNode,
    params: DuckDBValue[],
    entries: FieldEntry[],
    opts: RelationOptions = {},
  ): Promise<string> {
    const { only, skip, bare, include } = opts;
    const days = only
      ? [only.partition]
      : [...this.partitions.values()]
          .filter((p) => overlapsDay(p.day, range))
          .sort((a, b) => b.day - a.day);
    const condition = bloomCondition(filter, this.indexScope(bare));
    const branches: string[] = [];
    // The fields bare words look in, each as `b_<column>`: the column itself in files whose filter
    // may hold one of the words there, NULL elsewhere, so that a bare word reads a field only in
    // the blocks that may have it as a value (see bareColumns).
    const bareRefs = bareProjection(bare);
    const bareValuesOf = [...new Set(bare?.keys() ?? [])];
    const bareIn = (bloom: WordSet | null | undefined): Set<string> => {
      const out = new Set<string>();
      for (const ref of bareRefs) {
        if (!bloom || !indexedColumn(ref) || bareValuesOf.some((v) => mayHoldWords(bloom, v, ref.column))) out.add(ref.column as string);
      }
      return out;
    };
    const project = (day: number, has: (col: string) => FieldType | undefined, bareCols?: Set<string>): string =>
      [
        ...BASE_COLUMNS.map((c) => (c.name === SHAPE_COLUMN && has(c.name) === undefined ? `NULL::VARCHAR AS ${c.name}` : c.name)),
        `${day} AS _day`,
        ...entries.map((e) => {
          const col = e.column as string;
          const type = has(col);
          if (type === undefined) return `NULL::${SQL_TYPE[e.type]} AS ${col}`;
          return type === e.type ? col : `TRY_CAST(${col} AS ${SQL_TYPE[e.type]}) AS ${col}`;
        }),
        ...bareRefs.map((ref) => {
          const col = ref.column as string;
          const fixed = FIXED_COLUMNS[ref.name] !== undefined;
          const type = fixed ? 'string' : has(col);
          if (type === undefined || (bareCols && !bareCols.has(col))) return `NULL::VARCHAR AS b_${col}`;
          return type === 'string' ? `${col} AS b_${col}` : `TRY_CAST(${col} AS VARCHAR) AS b_${col}`;
        }),
      ].join(', ');
    for (const p of days) {
      // DuckDB's vectors for a thousand columns are tens of megabytes each; its NDJSON reader
      // materializes them all, Parquet does not. Wide segments are converted before being read.
      if (!only && p.view().segments.some((seg) => seg.columns.size > WIDE_COLUMNS)) {
        await p.exclusive(() => p.flushSegments(this.compactor));
      }
      const view = p.view();
      // The range's parameters are bound once a branch uses them: DuckDB refuses unused ones.
      let timeWhereSql = '';
      const timeWhere = (): string => {
        if (!timeWhereSql) {
          params.push(BigInt(Math.floor(range.fromMicros)), BigInt(Math.ceil(range.toMicros)));
          timeWhereSql = `ts >= make_timestamp($${params.length - 1}::BIGINT) AND ts < make_timestamp($${params.length}::BIGINT)`;
        }
        return timeWhereSql;
      };
      const blooms = condition || bareRefs.length > 0 ? await this.blockBlooms(p) : null;
      const passes = (block: number): boolean => {
        const bloom = blooms?.get(block);
        return !condition || !bloom || condition(bloom);
      };

      // Parquet files (blocks and minis) whose bloom filter may match, grouped by whether their rows
      // all lie in the range (by the block's per-second counts: those are read without comparing
      // each row's time to it) and by the fields bare words may be the value of in them.
      const groups = new Map<string, { parts: ParquetPart[]; timed: boolean; bareCols: Set<string> }>();
      for (const part of only ? [only.part] : view.parquet) {
        if (skip?.has(part.file) || (include && !include(p, part))) continue;
        this.indexStats.files++;
        if (!passes(part.block)) {
          this.indexStats.skipped++;
          continue;
        }
        const timed = !(part.kind === 'block' && (await this.blockInside(p, part.block, range)));
        const bareCols = bareIn(blooms?.get(part.block));
        const key = `${timed}/${[...bareCols].join(',')}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { parts: [], timed, bareCols }));
        group.parts.push(part);
      }
      for (const { parts, timed, bareCols } of groups.values()) {
        const columns = new Map<string, FieldType>();
        for (const part of parts) for (const [c, t] of part.columns) if (!columns.has(c) || t === 'float') columns.set(c, t);
        const list = parts.map((x) => quote(x.file)).join(', ');
        branches.push(
          `SELECT ${project(p.day, (c) => columns.get(c), bareCols)} FROM read_parquet([${list}], union_by_name = true)${timed ? ` WHERE ${timeWhere()}` : ''}`,
        );
      }

      // Young rows, still in segment files; a segment being written may end with part of a line.
      const segments = only || (include && !include(p, null)) ? [] : view.segments.filter((s) => passes(s.block));
      if (segments.length > 0) {
        const cols = new Set<string>();
        for (const s of segments) for (const c of s.columns) cols.add(c);
        const known = new Set(entries.map((e) => e.column as string));
        for (const ref of bareRefs) if (ref.column && !FIXED_COLUMNS[ref.name]) known.add(ref.column);
        const seg = this.segmentRelation(segments.map((s) => s.file), [...cols].filter((c) => known.has(c)), true);
        const bareCols = new Set<string>();
        for (const s of segments) for (const c of bareIn(blooms?.get(s.block))) bareCols.add(c);
        branches.push(
          `SELECT ${project(p.day, (c) => seg.types.get(c), bareCols)} FROM (${seg.sql}) WHERE _seq < ${view.committed} AND ${timeWhere()}`,
        );
      }
    }
    if (branches.length === 0) {
      const select = [
        ...BASE_COLUMNS.map((c) => `NULL::${c.sql} AS ${c.name}`),
        'NULL::INTEGER AS _day',
        ...entries.map((e) => `NULL::${SQL_TYPE[e.type]} AS ${e.column}`),
        ...bareRefs.map((ref) => `NULL::VARCHAR AS b_${ref.column}`),
      ];
      branches.push(`SELECT ${select.join(', ')} WHERE FALSE`);
    }
    return `(${branches.join(' UNION ALL ')}) AS events`;
  }

  private indexScope(bare: BareColumns | undefined): IndexScope {
    return { resolve: (field) => this.columnRef(field), bareColumns: (value) => bare?.get(value) ?? [] };
  }

  /**
   * For each bare word of a filter, the string fields other than `message` whose value it may
   * be somewhere in the range, by the blocks' filters: a bare word searches every string field
   * (as in Kibana), but reading a column only to find nothing would make every search pay for
   * every field. A block without a filter, or a field the index does not see, keeps the field in.
   */
  private async bareColumns(filter: FilterNode, range: TimeRange): Promise<BareColumns | undefined> {
    const values = [...new Set(bareValues(filter))];
    if (values.length === 0) return undefined;
    const candidates: ColumnRef[] = [];
    for (const name of ['host', 'source', 'level']) candidates.push(this.columnRef(name) as ColumnRef);
    for (const e of this.catalog.all()) {
      if (e.type !== 'string') continue;
      const ref = this.columnRef(e.name);
      // Values kept only in the overflow map (fields past the column limit) are not searched by a bare word.
      if (ref && ref.column !== null) candidates.push(ref);
    }
    const blooms: WordSet[] = [];
    let unindexed = false;
    for (const p of this.partitions.values()) {
      if (!overlapsDay(p.day, range)) continue;
      for (const bloom of (await this.blockBlooms(p)).values()) {
        if (bloom) blooms.push(bloom);
        else unindexed = true;
      }
    }
    const out: BareColumns = new Map();
    for (const value of values) {
      out.set(
        value,
        candidates.filter((ref) => {
          if (unindexed || !indexedColumn(ref)) return true;
          return blooms.some((b) => mayHoldWords(b, value, ref.column));
        }),
      );
    }
    return out;
  }

  /** Whether every row of a block file lies in the range, by the block's per-second counts. */
  private async blockInside(p: Partition, block: number, range: TimeRange): Promise<boolean> {
    const c = await p.blockCounts(block);
    return c !== null && c.min * 1_000_000 >= range.fromMicros && (c.max + 1) * 1_000_000 <= range.toMicros;
  }

  /**
   * Fields with a column, read once per query: a write may add fields while
   * the query is built, and every part of one query must name the same columns.
   */
  private columnEntries(): FieldEntry[] {
    return this.catalog.all().filter((e) => e.column);
  }

  /** Whether a block may hold a match, by its bloom filter (a block without one always may). */
  private async blockFilter(p: Partition, condition: (bloom: WordSet) => boolean): Promise<(block: number) => boolean> {
    const blooms = await this.blockBlooms(p);
    return (block) => {
      const bloom = blooms.get(block);
      return !bloom || condition(bloom);
    };
  }

  /**
   * The index of each of a partition's blocks, compacted or not (null or undefined: the block has
   * none): its bloom filter, and for compacted blocks the exact values of the facet fields.
   */
  private async blockBlooms(p: Partition): Promise<Map<number, WordSet | null | undefined>> {
    const blooms = new Map<number, WordSet | null | undefined>();
    for (const block of p.blocks.keys()) {
      const bloom = await this.blockBloom(p, block);
      blooms.set(block, bloom && withFacetValues(bloom, await p.blockCounts(block)));
    }
    const view = p.view();
    for (const part of view.parquet) if (!blooms.has(part.block)) blooms.set(part.block, await p.memoryBloom(part.block));
    for (const seg of view.segments) if (!blooms.has(seg.block)) blooms.set(seg.block, await p.memoryBloom(seg.block));
    return blooms;
  }

  /** A compacted block's bloom filter, from its file, cached. */
  private async blockBloom(p: Partition, block: number): Promise<BloomFilter | null> {
    const key = `${p.day}/${block}`;
    const cached = this.bloomCache.get(key);
    if (cached !== undefined) return cached;
    let bloom: BloomFilter | null = null;
    try {
      bloom = BloomFilter.fromBytes(await fs.promises.readFile(p.bloomFile(block)));
    } catch {
      // no filter: the block is always read
    }
    this.bloomCache.set(key, bloom);
    this.trimBloomCache();
    return bloom;
  }

  private trimBloomCache(): void {
    // 128 filters of 512 KiB (the default size): 64 MiB, every block of 15M events.
    const max = Math.max(16, Math.floor((64 << 20) / (1 << ((this.opts.bloomBits ?? 22) - 3))));
    while (this.bloomCache.size > max) {
      const oldest = this.bloomCache.keys().next().value as string;
      this.bloomCache.delete(oldest);
    }
  }

  private async read(sql: string, params: DuckDBValue[]): Promise<DuckDBValue[][]> {
    const signal = queryAbort.getStore();
    if (signal?.aborted) throw stoppedBy(signal);
    const connection = this.reader();
    const running = this.runningOn.get(connection) ?? 0;
    this.runningOn.set(connection, running + 1);
    // Reader connections are shared: interrupt only when this statement is the one running on it.
    const onAbort = (): void => {
      if (this.runningOn.get(connection) === 1) connection.interrupt();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const rows = (await connection.runAndReadAll(sql, params)).getRows();
      // Stopped while its rows were being read out (an interrupt no longer reaches it then).
      if (signal?.aborted) throw stoppedBy(signal);
      return rows;
    } catch (err) {
      if (signal?.aborted) throw stoppedBy(signal);
      // Errors from the user's side of a query (a regex the engine refuses, an impossible cast) are 400s, not 500s.
      const message = err instanceof Error ? err.message : String(err);
      if (/Conversion Error|Invalid Input Error|Out of Range Error/.test(message)) throw new QueryError(message.split('\n')[0]);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.runningOn.set(connection, (this.runningOn.get(connection) ?? 1) - 1);
    }
  }

  /**
   * Queries that return events run again if a write added fields while they
   * ran: rows committed after the column snapshot could otherwise come back
   * without their new fields.
   */
  private async consistent<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const version = this.catalog.version;
      const result = await run();
      if (this.catalog.version === version || attempt >= 4) return result;
    }
  }

  search(req: SearchRequest): Promise<SearchResult> {
    return this.consistent(() => this.searchOnce(req));
  }

  find(req: FindRequest): Promise<FindResult> {
    return this.consistent(() => this.findOnce(req));
  }

  getByIds(ids: string[], index?: string): Promise<Hit[]> {
    return this.consistent(() => this.getByIdsOnce(ids, index));
  }

  private async searchOnce(req: SearchRequest): Promise<SearchResult> {
    const nowMs = req.nowMs ?? Date.now();
    // `filter | sort -bytes | head 10` keeps events as events: it is a search with another order.
    if (req.query.pipes.length > 0 && req.query.pipes.every((p) => p.kind === 'sort' || p.kind === 'head')) {
      let limit = req.limit;
      const sort: SortKey[] = [];
      for (const pipe of req.query.pipes) {
        if (pipe.kind === 'head') limit = Math.min(limit, pipe.n);
        else sort.splice(0, sort.length, ...pipe.keys.map((k) => ({ field: k.field, desc: k.desc, missing: 'last' as const })));
      }
      const found = await this.findOnce({ filter: req.query.filter, range: req.range, sort: sort.length ? sort : undefined, limit, nowMs });
      return { kind: 'hits', total: found.total.value, hits: found.hits.map(({ _sort: _s, ...hit }) => hit as Hit), cursor: null };
    }
    const params: DuckDBValue[] = [];
    const bare = await this.bareColumns(req.query.filter, req.range);
    const ctx = this.context(params, nowMs, bare);
    // Everything that names columns is compiled before the first await, against one snapshot of the catalog.
    const where = compileFilter(req.query.filter, ctx);
    const SOURCE = '\u0000source\u0000';
    // One row past the limit tells whether the table was cut.
    const pipes = req.query.pipes.length > 0 ? compilePipes(req.query.pipes, SOURCE, ctx, Math.max(0, Math.floor(req.limit)) + 1) : null;
    // Hits are read by key afterwards (hitsByKey): the scan needs only the columns the filter and pipes name.
    const whereParams = [...params];
    const from = await this.relation(req.range, req.query.filter, params, this.referenced(where, pipes?.sql ?? ''), { bare });

    if (pipes) {
      const sql = pipes.sql.replace(SOURCE, `(SELECT * FROM ${from} WHERE ${where}) AS src`);
      const rows = await this.read(sql, params);
      // The query's own head decides how many rows it wants; the request's limit cuts the rest.
      const max = pipes.defaultLimited ? Math.max(0, Math.floor(req.limit)) : rows.length;
      return { kind: 'table', columns: pipes.columns, rows: rows.slice(0, max).map((r) => r.map(toJs)), truncated: rows.length > max };
    }

    const countParams = [...params];
    const cursorSql = req.cursor ? afterCursor(req.cursor, params) : '';
    const limit = Math.max(0, Math.floor(req.limit));
    const cap = req.trackTotalHits === true ? null : typeof req.trackTotalHits === 'number' ? Math.max(0, Math.floor(req.trackTotalHits)) : TOTAL_HITS_CAP;
    let total: number;
    let totalRelation: 'eq' | 'gte' = 'eq';
    let keys: DuckDBValue[][];
    if (req.query.filter.kind !== 'all' && cap !== null) {
      ({ total, totalRelation, keys } = await this.newestFirst(req, where, whereParams, bare, limit, cap));
    } else if (req.query.filter.kind === 'all' || limit === 0) {
      // Everything matches: the count comes from file statistics, and a top-N sort over the time
      // column is cheaper than the aggregate below. Both queries read the same files and the
      // same committed rows, named in `from`.
      if (req.query.filter.kind === 'all') {
        // Blocks wholly inside the range count from their counts; the rest from file statistics.
        let counted = 0;
        const skip = await this.countFromBlocks(req.range, () => 0, (_b, _v, n) => void (counted += n));
        const restParams: DuckDBValue[] = [];
        const rest = skip.size > 0 ? await this.relation(req.range, req.query.filter, restParams, [], { skip, bare }) : from;
        total = counted + Number((await this.read(`SELECT count(*) FROM ${rest} WHERE TRUE`, skip.size > 0 ? restParams : countParams))[0][0]);
      } else {
        total = Number((await this.read(`SELECT count(*) FROM ${from} WHERE ${where}`, countParams))[0][0]);
      }
      // The page from the newest files only: a top-N over the time column of every file took 230 ms
      // over 10M events, the newest block alone a tenth of it.
      keys = limit === 0 ? [] : (await this.newestFirst(req, where, whereParams, bare, limit, null)).keys;
    } else {
      // A filter: one scan gives the total and the page's keys (the newest N, as a list), and the
      // hits are then read from the files that hold them, by sequence number.
      const top = `max({t: epoch_us(ts), d: _day, s: _seq}, ${limit})${cursorSql ? ` FILTER (WHERE TRUE${cursorSql})` : ''}`;
      const [[count, list]] = await this.read(`SELECT count(*), ${top} FROM ${from} WHERE ${where}`, params);
      total = Number(count);
      keys = (list instanceof DuckDBListValue ? list.items : [])
        .map((item) => Object.values((item as DuckDBStructValue).entries).map((v) => Number(v)))
        .sort((x, y) => y[0] - x[0] || y[1] - x[1] || y[2] - x[2]);
    }
    const found = await this.hitsByKey(keys.map((k) => ({ day: Number(k[1]), seq: Number(k[2]) })));
    const hits: Hit[] = [];
    for (const k of keys) {
      const hit = found.get(`${k[1]}/${k[2]}`);
      if (hit) hits.push(hit);
    }
    const last = keys[keys.length - 1];
    const cursor =
      keys.length === req.limit && last
        ? encodeCursor({ ts: Number(last[0]), day: Number(last[1]), seq: Number(last[2]) })
        : null;
    return { kind: 'hits', total: Number(total), totalRelation, hits, cursor };
  }

  /**
   * A search's newest hits and its total, reading files newest first and stopping once the
   * page can no longer change and the total has passed `cap`: the newest 100 of a phrase in
   * 2.5 % of 10M events are in the last block or two, and counting on to 10,000 reads a few
   * more, where reading everything would take the whole scan.
   */
  private async newestFirst(
    req: SearchRequest,
    where: string,
    whereParams: DuckDBValue[],
    bare: BareColumns | undefined,
    limit: number,
    /** Null: only the page is wanted (the total is known otherwise). */
    cap: number | null,
  ): Promise<{ total: number; totalRelation: 'eq' | 'gte'; keys: number[][] }> {
    const listed = await this.unitsNewestFirst(req.range, req.query.filter, bare);
    const units = listed.units;
    const entries = this.referenced(where);
    let keys: number[][] = [];
    let total = 0;
    let pageFinal = limit === 0;
    for (let taken = 0, batch = 1; taken < units.length; batch *= 2) {
      const chosen = new Set(units.slice(taken, taken + batch).map((u) => u.key));
      taken += batch;
      const restMax = taken < units.length ? Math.max(...units.slice(taken).map((u) => u.maxMicros)) : -Infinity;
      const params = [...whereParams];
      // Files that were not block files when the units were listed (minis, segments, and blocks
      // compacted from them since) are read with the young rows: conversion goes on meanwhile,
      // and a row must be counted once, in whichever file holds it when its unit is read.
      const include = (p: Partition, part: ParquetPart | null): boolean => {
        const key = unitKey(p, part);
        return chosen.has(part && listed.blocks.has(key) ? key : unitKey(p, null));
      };
      const from = await this.relation(req.range, req.query.filter, params, entries, { bare, include });
      if (!pageFinal) {
        const cursorSql = req.cursor ? afterCursor(req.cursor, params) : '';
        const top = `max({t: epoch_us(ts), d: _day, s: _seq}, ${limit})${cursorSql ? ` FILTER (WHERE TRUE${cursorSql})` : ''}`;
        const [[count, list]] = await this.read(`SELECT count(*), ${top} FROM ${from} WHERE ${where}`, params);
        total += Number(count);
        const more = (list instanceof DuckDBListValue ? list.items : []).map((item) => Object.values((item as DuckDBStructValue).entries).map((v) => Number(v)));
        keys = [...keys, ...more].sort((x, y) => y[0] - x[0] || y[1] - x[1] || y[2] - x[2]).slice(0, limit);
        // Every row still unread is older than the page's last hit: the page is what a full scan would give.
        pageFinal = keys.length >= limit && keys[limit - 1][0] > restMax;
        if (pageFinal && cap === null) break;
      } else if (cap !== null) {
        const [[n]] = await this.read(`SELECT count(*) FROM (SELECT 1 FROM ${from} WHERE ${where} LIMIT ${cap + 1 - total})`, params);
        total += Number(n);
      }
      if (pageFinal && cap !== null && total > cap) return { total: cap, totalRelation: 'gte', keys };
    }
    return { total, totalRelation: 'eq', keys };
  }

  /**
   * The files of the range (and each partition's young rows), newest first by the latest
   * time each may hold, without those whose bloom filter rules out a match.
   */
  private async unitsNewestFirst(range: TimeRange, filter: FilterNode, bare: BareColumns | undefined): Promise<NewestFirstUnits> {
    const condition = bloomCondition(filter, this.indexScope(bare));
    const units: { key: string; maxMicros: number; day: number }[] = [];
    const blocks = new Set<string>();
    for (const p of this.partitions.values()) {
      if (!overlapsDay(p.day, range)) continue;
      const passes = condition ? await this.blockFilter(p, condition) : () => true;
      const dayEnd = dayStartMicros(p.day) + DAY_MICROS;
      for (const part of p.view().parquet) {
        if (part.kind !== 'block') continue;
        const key = unitKey(p, part);
        blocks.add(key);
        if (!passes(part.block)) continue;
        const counts = await p.blockCounts(part.block);
        const maxMicros = counts ? (counts.max + 1) * 1_000_000 : dayEnd;
        if (counts && (counts.min * 1_000_000 >= range.toMicros || maxMicros <= range.fromMicros)) continue;
        units.push({ key, maxMicros: Math.min(maxMicros, range.toMicros), day: p.day });
      }
      // The young rows (minis and segments), read first: they may be the newest.
      units.push({ key: unitKey(p, null), maxMicros: Math.min(dayEnd, range.toMicros), day: p.day });
    }
    return { units: units.sort((a, b) => b.maxMicros - a.maxMicros || b.day - a.day), blocks };
  }

  /**
   * Hits by (day, sequence number), with every field: the second step of
   * queries that find, order and cut on a few columns first. Each file is
   * read with its own columns, and only the files whose sequence range holds
   * a wanted row: a relation over every known column would make DuckDB carry
   * vectors for all of them (tens of megabytes for a thousand columns).
   */
  private async hitsByKey(keys: { day: number; seq: number }[]): Promise<Map<string, Hit>> {
    const byDay = new Map<number, number[]>();
    for (const { day, seq } of keys) {
      let seqs = byDay.get(day);
      if (!seqs) byDay.set(day, (seqs = []));
      seqs.push(seq);
    }
    const out = new Map<string, Hit>();
    for (const [day, seqs] of byDay) {
      const p = this.partitions.get(day);
      if (!p) continue;
      const view = p.view();
      const sources: { from: string; columns: string[]; seqs: number[] }[] = [];
      for (const part of view.parquet) {
        const inPart = seqs.filter((q) => q >= part.lo && q < part.hi);
        if (inPart.length > 0) sources.push({ from: `read_parquet(${quote(part.file)})`, columns: [...part.columns.keys()], seqs: inPart });
      }
      for (const seg of view.segments) {
        const inSeg = seqs.filter((q) => q >= seg.lo && q < seg.hi && q < view.committed);
        if (inSeg.length === 0) continue;
        const rel = this.segmentRelation([seg.file], seg.columns, true);
        sources.push({ from: `(${rel.sql})`, columns: [...rel.types.keys()], seqs: inSeg });
      }
      for (const src of sources) {
        const entries = src.columns.map((c) => this.catalog.ofColumn(c)).filter((e): e is FieldEntry => e !== undefined);
        const where = `WHERE _seq IN (${src.seqs.join(', ')})`;
        const rows = new Map<number, DuckDBValue[]>();
        // One query when the fields are few; otherwise a few hundred columns at a time, as DuckDB's
        // Parquet reader pins a buffer per column read.
        const together = entries.length <= FETCH_COLUMNS;
        const first = hitColumns(together ? entries : [], String(day), src.columns.includes(SHAPE_COLUMN) ? SHAPE_COLUMN : 'NULL');
        for (const row of await this.read(`SELECT ${first} FROM ${src.from} ${where}`, [])) rows.set(Number(row[2]), row);
        for (let at = 0; !together && at < entries.length; at += FETCH_COLUMNS) {
          const part = entries.slice(at, at + FETCH_COLUMNS).map((e) => e.column as string);
          for (const row of await this.read(`SELECT _seq, ${part.join(', ')} FROM ${src.from} ${where}`, [])) rows.get(Number(row[0]))?.push(...row.slice(1));
        }
        for (const [seq, row] of rows) out.set(`${day}/${seq}`, this.toHit(row, entries));
      }
    }
    return out;
  }

  /**
   * Every column, when there are few enough for one query to read whole hits
   * as it finds them; null when hits must be fetched in a second step.
   */
  private wholeRows(): FieldEntry[] | null {
    const entries = this.columnEntries();
    return entries.length <= WIDE_COLUMNS ? entries : null;
  }

  /**
   * The fields a piece of compiled SQL reads. Column names are generated
   * (`f<id>`) and user text reaches SQL only as parameters, so the names in
   * the text are exactly the columns used.
   */
  private referenced(...sql: string[]): FieldEntry[] {
    const used = new Set<string>();
    for (const text of sql) for (const m of text.matchAll(/\bf\d+\b/g)) used.add(m[0]);
    const out: FieldEntry[] = [];
    for (const col of used) {
      const entry = this.catalog.ofColumn(col);
      if (entry) out.push(entry);
    }
    return out;
  }

  private toHit(row: DuckDBValue[], entries: FieldEntry[]): Hit {
    const ts = Number(row[0]);
    const hit = Object.create(null) as Hit;
    hit._id = row[3] !== null ? String(row[3]) : generatedId(Number(row[1]), Number(row[2]));
    hit['@timestamp'] = microsToIso(ts);
    if (row[4] !== null) hit._index = row[4];
    const names = ['message', 'host', 'source', 'level', 'tags'];
    for (let i = 0; i < names.length; i++) if (row[5 + i] !== null) hit[names[i]] = toJs(row[5 + i]);
    for (let i = 0; i < entries.length; i++) {
      const v = row[12 + i];
      if (v !== null) hit[entries[i].name] = toJs(v);
    }
    if (typeof row[11] === 'string') hit[HIT_SHAPE] = row[11];
    // Not enumerable: hits of different rows with the same fields stay deep-equal, and copies of a hit leave it out.
    Object.defineProperty(hit, HIT_POSITION, { value: rowPosition(Number(row[1]), Number(row[2])) });
    const overflow = row[10];
    if (overflow instanceof DuckDBMapValue) {
      for (const { key, value } of overflow.entries) {
        const name = String(key);
        const typed = this.overflowValue(name, value === null ? null : String(value));
        if (hit[name] === undefined) hit[name] = typed;
        else if (!Array.isArray(hit[name])) hit[name] = [hit[name], typed];
      }
    }
    return hit;
  }

  /** Overflowed values are kept as text; those that fit the field's type come back typed. */
  private overflowValue(name: string, text: string | null): unknown {
    if (text === null) return null;
    const type = this.catalog.get(name)?.type;
    if ((type === 'integer' || type === 'float') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
    if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
    if (text.startsWith('[') && text.endsWith(']')) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
    return text;
  }

  async histogram(filter: FilterNode, range: TimeRange, intervalMicros: number, nowMs = Date.now()): Promise<HistogramBucket[]> {
    const params: DuckDBValue[] = [];
    const bare = await this.bareColumns(filter, range);
    const where = compileFilter(filter, this.context(params, nowMs, bare));
    const interval = Math.max(1, Math.round(intervalMicros));
    const counts = new Map<number, number>();
    const counted =
      filter.kind === 'all' && interval % 1_000_000 === 0
        ? await this.countFromBlocks(range, (us) => Math.trunc(us / interval) * interval, (b, _value, n) => counts.set(b, (counts.get(b) ?? 0) + n))
        : undefined;
    const from = await this.relation(range, filter, params, this.referenced(where), { skip: counted, bare });
    const rows = await this.read(
      `SELECT (epoch_us(ts) // ${interval}) * ${interval} AS b, count(*) FROM ${from} WHERE ${where} GROUP BY b ORDER BY b`,
      params,
    );
    for (const [b, n] of rows) counts.set(Number(b), (counts.get(Number(b)) ?? 0) + Number(n));
    const buckets: HistogramBucket[] = [];
    const first = Math.floor(range.fromMicros / interval) * interval;
    for (let b = first; b < range.toMicros && buckets.length < 10_000; b += interval) {
      buckets.push({ time: microsToIso(b), count: counts.get(b) ?? 0 });
    }
    return buckets;
  }

  /**
   * Counts over time without a filter, in buckets of whole seconds, from
   * the counts of the block files that lie wholly inside the range: per
   * second, or with `facet` per ten seconds and value of that field (blocks
   * without those are left to the query). Calls `add` with each bucket (as
   * `bucketOf` a span's start), value and count, and returns the files
   * counted, which the query then skips.
   */
  private async countFromBlocks(
    range: TimeRange,
    bucketOf: (micros: number) => number,
    add: (bucket: number, value: string | null | undefined, n: number) => void,
    facet?: FacetField,
    /** Only blocks whose rows all lie below its marks. */
    within?: StoreSnapshot,
  ): Promise<Set<string>> {
    const files = new Set<string>();
    for (const p of this.partitions.values()) {
      if (!overlapsDay(p.day, range)) continue;
      for (const [block, part] of [...p.blocks]) {
        if (within && !(part.hi <= (within.marks.get(p.day) ?? 0))) continue;
        if (!(await this.blockInside(p, block, range))) continue;
        const c = (await p.blockCounts(block)) as BlockCounts;
        if (facet) {
          const f = c.facets?.[facet];
          if (!f) continue;
          for (let i = 0; i < f.spans.length; i++) add(bucketOf(f.spans[i] * 1_000_000), f.values[f.value[i]], f.counts[i]);
        } else {
          // `bucketOf` does what the SQL bucket does: integer division of epoch microseconds.
          for (let i = 0; i < c.secs.length; i++) add(bucketOf(c.secs[i] * 1_000_000), undefined, c.counts[i]);
        }
        files.add(part.file);
      }
    }
    return files;
  }

  async fields(_range: TimeRange): Promise<FieldInfo[]> {
    const out: FieldInfo[] = [{ name: '@timestamp', type: 'timestamp', conflicts: [], storage: 'column' }];
    for (const name of ['message', 'host', 'source', 'level', 'tags', '_index']) {
      out.push({ name, type: 'string', conflicts: [], storage: 'column' });
    }
    for (const e of this.catalog.all()) {
      out.push({ name: e.name, type: e.type, conflicts: [...e.conflicts], storage: e.column ? 'column' : 'overflow' });
    }
    return out;
  }

  async topValues(filter: FilterNode, range: TimeRange, field: string, limit: number, nowMs = Date.now()): Promise<{ value: unknown; count: number }[]> {
    const ref = this.columnRef(field);
    if (!ref) return [];
    const params: DuckDBValue[] = [];
    const bare = await this.bareColumns(filter, range);
    const ctx = this.context(params, nowMs, bare);
    const expr = ref.list ? `unnest(${ref.column})` : valueExpr(ref, ctx);
    const where = compileFilter(filter, ctx);
    const from = await this.relation(range, filter, params, this.referenced(where, expr), { bare });
    const rows = await this.read(
      `SELECT v, count(*) AS c FROM (SELECT ${expr} AS v FROM ${from} WHERE ${where}) WHERE v IS NOT NULL GROUP BY v ORDER BY c DESC, v LIMIT ${Math.max(1, Math.floor(limit))}`,
      params,
    );
    return rows.map((r) => ({ value: toJs(r[0]), count: Number(r[1]) }));
  }

  private async findOnce(req: FindRequest): Promise<FindResult> {
    const nowMs = req.nowMs ?? Date.now();
    const params: DuckDBValue[] = [];
    const bare = await this.bareColumns(req.filter, req.range ?? ALL_TIME);
    const ctx = this.context(params, nowMs, bare);
    const entries = this.columnEntries();
    const filterSql = compileFilter(req.filter, ctx);
    const whereParams = [...params];
    const where = req.snapshot ? `(${filterSql})${snapshotCondition(req.snapshot)}` : filterSql;
    // The sort's columns are projected too; their expressions are compiled after the count, whose parameters come first.
    const sortColumns = (req.sort ?? []).map((k) => this.columnRef(k.field)?.column ?? '').join(' ');
    const whole = this.wholeRows();
    const range = req.range ?? ALL_TIME;
    const from = await this.relation(range, req.filter, params, whole ?? this.referenced(where, sortColumns), { bare });
    let total = { value: 0, exact: false };
    if (req.trackTotalHits !== false) {
      const cap = typeof req.trackTotalHits === 'number' ? Math.max(0, Math.floor(req.trackTotalHits)) : null;
      // Without a filter, the blocks inside the range count from their counts (opening every file's
      // footer to count took 55 ms over 10M events), and only the rest is read, if the cap is not reached.
      let counted = 0;
      // With a snapshot, only blocks wholly below its marks count from their counts; the rest compare each row to it.
      const skip = req.filter.kind === 'all' ? await this.countFromBlocks(range, () => 0, (_b, _v, n) => void (counted += n), undefined, req.snapshot) : undefined;
      if (cap !== null && counted > cap) {
        total = { value: cap, exact: false };
      } else {
        const own = skip !== undefined && skip.size > 0;
        const countParams = own ? [] : [...params];
        const countFrom = own ? await this.relation(range, req.filter, countParams, [], { skip, bare }) : from;
        const rest = cap === null ? null : cap + 1 - counted;
        const countSql =
          rest === null ? `SELECT count(*) FROM ${countFrom} WHERE ${where}` : `SELECT count(*) FROM (SELECT 1 FROM ${countFrom} WHERE ${where} LIMIT ${rest})`;
        const n = counted + Number((await this.read(countSql, countParams))[0][0]);
        total = cap !== null && n > cap ? { value: cap, exact: false } : { value: n, exact: true };
      }
    }
    // Parameters from here on are used only by the hits query (DuckDB refuses unused ones).
    const known = new Set(entries.map((e) => e.column));
    const keys = (req.sort ?? [{ field: '@timestamp', desc: true }]).map((k) => ({ ...k, expr: this.sortExpr(k.field, ctx, known) }));
    // Storage order breaks ties, so that every hit has a distinct position for search_after.
    const storageDesc = req.storageOrder !== 'asc';
    const all = [
      ...keys,
      { field: '_day', desc: storageDesc, missing: 'last' as const, expr: '_day' },
      { field: '_seq', desc: storageDesc, missing: 'last' as const, expr: '_seq' },
    ];
    let after = '';
    if (req.searchAfter && req.searchAfter.length > 0) {
      if (req.searchAfter.length !== keys.length && req.searchAfter.length !== all.length) {
        throw new QueryError(`search_after has ${req.searchAfter.length} values but the sort has ${keys.length}`);
      }
      after = ` AND ${afterCondition(all.slice(0, req.searchAfter.length), req.searchAfter, ctx)}`;
    }
    const limit = Math.max(0, Math.floor(req.limit));
    if (keys.length === 0) {
      const hits = limit === 0 ? [] : await this.inStorageOrder(req, filterSql, whereParams, bare, whole, storageDesc);
      return { total, hits };
    }
    const order = all.map((k) => `${k.expr} ${k.desc ? 'DESC' : 'ASC'} NULLS ${(k.missing ?? 'last').toUpperCase()}`).join(', ');
    const sortCols = keys.map((k, i) => `${k.expr} AS _s${i}`);
    // Rows as [_day, _seq, ...sort values, ...hit columns when read at once].
    // No hits asked (size 0, for a count or aggregations): no query, which would open every file all the same.
    const found =
      limit === 0
        ? []
        : await this.read(
            `SELECT ${['_day', '_seq', ...sortCols, ...(whole ? [hitColumns(whole)] : [])].join(', ')} FROM ${from} WHERE ${where}${after} ORDER BY ${order} LIMIT ${limit} OFFSET ${Math.max(0, Math.floor(req.offset ?? 0))}`,
            params,
          );
    const byKey = whole ? null : await this.hitsByKey(found.map((f) => ({ day: Number(f[0]), seq: Number(f[1]) })));
    const hits: (Hit & { _sort: unknown[] })[] = [];
    for (const f of found) {
      const hit = (whole ? this.toHit(f.slice(2 + sortCols.length), whole) : byKey?.get(`${f[0]}/${f[1]}`)) as (Hit & { _sort: unknown[] }) | undefined;
      if (!hit) continue;
      hit._sort = [...keys.map((k, i) => sortValue(k.field, f[2 + i])), Number(f[0]), Number(f[1])];
      hits.push(hit);
    }
    return { total, hits };
  }

  /**
   * A page in storage order (Elasticsearch's `_doc` and `_shard_doc` sorts, the order exports page
   * in): each day's rows by sequence number, read one window of sequence numbers at a time from the
   * files that hold it. A page then costs what it returns: the sort of every row below the cursor
   * that the general query does took seconds a page over 10M events.
   */
  private async inStorageOrder(
    req: FindRequest,
    filterSql: string,
    whereParams: DuckDBValue[],
    bare: BareColumns | undefined,
    whole: FieldEntry[] | null,
    desc: boolean,
  ): Promise<(Hit & { _sort: unknown[] })[]> {
    const offset = Math.max(0, Math.floor(req.offset ?? 0));
    const want = offset + Math.max(0, Math.floor(req.limit));
    const range = req.range ?? ALL_TIME;
    const cursor = storageCursor(req.searchAfter);
    const entries = whole ?? this.referenced(filterSql);
    const days = [...this.partitions.values()]
      .filter((p) => overlapsDay(p.day, range) && (!req.snapshot || req.snapshot.marks.has(p.day)))
      .filter((p) => !cursor || (desc ? p.day <= cursor.day : p.day >= cursor.day))
      .sort((a, b) => (desc ? b.day - a.day : a.day - b.day));
    const found: DuckDBValue[][] = [];
    for (const p of days) {
      if (found.length >= want) break;
      const view = p.view();
      // The day's sequence numbers this page may read, [lo, hi): below the snapshot's mark, past the cursor.
      let lo = Math.min(view.committed, ...view.parquet.map((x) => x.lo), ...view.segments.map((x) => x.lo));
      let hi = Math.min(view.committed, req.snapshot?.marks.get(p.day) ?? Infinity);
      if (cursor && cursor.day === p.day) {
        if (desc) hi = Math.min(hi, cursor.seq);
        else lo = Math.max(lo, cursor.seq + 1);
      }
      // The first window is the page itself (every row matches when nothing filters); it grows
      // fourfold while a filter leaves it short.
      for (let window = Math.max(want - found.length, 1000); lo < hi && found.length < want; window *= 4) {
        const [from, to] = desc ? [Math.max(lo, hi - window), hi] : [lo, Math.min(hi, lo + window)];
        const params = [...whereParams];
        // Files are chosen by the sequence numbers they hold when the window is read: conversion
        // goes on meanwhile, and each row is in exactly one file of any view.
        const overlaps = (x: { lo: number; hi: number }): boolean => x.lo < to && x.hi > from;
        const include = (q: Partition, part: ParquetPart | null): boolean => q === p && (part ? overlaps(part) : q.view().segments.some(overlaps));
        const relation = await this.relation(range, req.filter, params, entries, { bare, include });
        const columns = ['_day', '_seq', ...(whole ? [hitColumns(whole)] : [])].join(', ');
        const rows = await this.read(
          `SELECT ${columns} FROM ${relation} WHERE (${filterSql}) AND _seq >= ${from} AND _seq < ${to} ORDER BY _seq ${desc ? 'DESC' : 'ASC'} LIMIT ${want - found.length}`,
          params,
        );
        for (const row of rows) found.push(row);
        if (desc) hi = from;
        else lo = to;
      }
    }
    const page = found.slice(offset, want);
    const byKey = whole ? null : await this.hitsByKey(page.map((f) => ({ day: Number(f[0]), seq: Number(f[1]) })));
    const hits: (Hit & { _sort: unknown[] })[] = [];
    for (const f of page) {
      const hit = (whole ? this.toHit(f.slice(2), whole) : byKey?.get(`${f[0]}/${f[1]}`)) as (Hit & { _sort: unknown[] }) | undefined;
      if (!hit) continue;
      hit._sort = [Number(f[0]), Number(f[1])];
      hits.push(hit);
    }
    return hits;
  }

  async snapshot(): Promise<StoreSnapshot> {
    const marks = new Map<number, number>();
    for (const [day, p] of this.partitions) marks.set(day, p.committed);
    return { takenAtMs: Date.now(), marks };
  }

  /** Sort expression for a field: `@timestamp` and `_id` are special; unknown fields sort as missing. */
  private sortExpr(field: string, ctx: DialectContext, known: Set<string | null>): string {
    if (field === '@timestamp') return 'ts';
    if (field === '_id') return ID_EXPR;
    const ref = this.columnRef(field);
    if (!ref || (ref.column !== null && !FIXED_COLUMNS[field] && !known.has(ref.column))) return 'NULL::INTEGER';
    return valueExpr(ref, ctx);
  }

  async group(req: GroupRequest): Promise<GroupRow[]> {
    const nowMs = req.nowMs ?? Date.now();
    const params: DuckDBValue[] = [];
    const bare = await this.bareColumns(req.filter, req.range ?? ALL_TIME);
    const ctx = this.context(params, nowMs, bare);
    const where = req.since ? `(${compileFilter(req.filter, ctx)})${sinceCondition(req.since)}` : compileFilter(req.filter, ctx);
    const keys = req.keys.map((k) => keySql(k, ctx));
    const args: string[] = [];
    const metricExprs = req.metrics.map((m, i) => {
      const arg = m.field === undefined ? null : metricArg(this.columnRef(m.field), ctx, m.fn);
      if (arg !== null) args.push(`${arg} AS m${i}`);
      return metricSql(m, () => (arg === null ? null : `m${i}`), m.field !== undefined && this.columnRef(m.field)?.list === true);
    });
    const range = req.range ?? ALL_TIME;
    // Counts over time without a filter (split by a facet field, or not): blocks wholly inside the range
    // give theirs from their counts, and the query reads only the others.
    const counted = new Map<string, { keys: unknown[]; n: number }>();
    const plan = countsPlan(req);
    const fromCounts = plan
      ? await this.countFromBlocks(
          range,
          (us) => Math.trunc((us - plan.offset) / plan.every) * plan.every + plan.offset,
          (bucket, value, n) => {
            const keys = plan.facet ? [bucket, value] : [bucket];
            const id = JSON.stringify(keys);
            const known = counted.get(id);
            if (known) known.n += n;
            else counted.set(id, { keys, n });
          },
          plan.facet,
        )
      : undefined;
    const from = await this.relation(range, req.filter, params, this.referenced(where, ...keys.map((k) => k.expr), ...args), { skip: fromCounts, bare });
    // Layer 0: keys that do not unnest, and metric arguments; then one layer per unnesting key.
    const plain = keys.map((k, i) => (k.unnest ? `${k.expr} AS l${i}` : `${k.expr} AS k${i}`));
    let rel = `(SELECT ${[...plain, ...args, '1 AS _one'].join(', ')} FROM ${from} WHERE ${where}) AS g0`;
    keys.forEach((k, i) => {
      if (k.unnest) rel = `(SELECT *, unnest(l${i}) AS k${i} FROM ${rel}) AS g${i + 1}`;
    });
    const conds: string[] = [];
    req.keyValues?.forEach((values, i) => {
      if (!values || i >= keys.length) return;
      if (values.length === 0) conds.push('FALSE');
      else conds.push(`k${i} IN (${values.map((v) => ctx.param(keyParam(v))).join(', ')})`);
    });
    const keyCols = keys.map((_, i) => `k${i}`);
    const sql = `SELECT ${[...keyCols, ...metricExprs].join(', ') || 'count(*)'} FROM ${rel}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}${
      keys.length ? ` GROUP BY ${keyCols.join(', ')} ORDER BY ${keyCols.join(', ')}` : ''
    }`;
    const rows = await this.read(sql, params);
    const out = rows.map((r) => ({
      keys: r.slice(0, keys.length).map(toJs),
      metrics: r.slice(keys.length).map((v) => (v === null ? null : Number(toJs(v)))),
    }));
    if (counted.size === 0) return out;
    for (const row of out) {
      const id = JSON.stringify(row.keys);
      const c = counted.get(id);
      if (c === undefined) continue;
      row.metrics = row.metrics.map((m) => (m ?? 0) + c.n);
      counted.delete(id);
    }
    for (const c of counted.values()) out.push({ keys: c.keys, metrics: req.metrics.map(() => c.n) });
    // As the query orders its rows: by bucket, then value, nulls last.
    return out.sort((a, b) => Number(a.keys[0]) - Number(b.keys[0]) || compareNullsLast(a.keys[1], b.keys[1]));
  }

  private async getByIdsOnce(ids: string[], index?: string): Promise<Hit[]> {
    if (ids.length === 0) return [];
    const out: Hit[] = [];
    const wanted = new Set(ids);
    const generated = new Map<number, number[]>();
    for (const id of ids) {
      const m = GENERATED_ID.exec(id);
      if (m) {
        const list = generated.get(Number(m[1])) ?? [];
        list.push(Number(m[2]));
        generated.set(Number(m[1]), list);
      }
    }
    const take = async (range: TimeRange, cond: string, condParams: DuckDBValue[]): Promise<void> => {
      const params: DuckDBValue[] = [...condParams];
      const from = await this.relation(range, { kind: 'all' }, params, []);
      let sql = `SELECT _day, _seq, _doc_id FROM ${from} WHERE ${cond}`;
      if (index !== undefined) {
        params.push(index);
        sql += ` AND _index = $${params.length}`;
      }
      const keys = (await this.read(sql, params))
        .filter(([day, seq, docId]) => wanted.has(docId !== null ? String(docId) : generatedId(Number(day), Number(seq))))
        .map(([day, seq]) => ({ day: Number(day), seq: Number(seq) }));
      out.push(...(await this.hitsByKey(keys)).values());
    };
    // Generated ids name their day and row: one partition, pruned by _seq.
    for (const [day, seqs] of generated) {
      if (!this.partitions.has(day)) continue;
      const start = dayStartMicros(day);
      await take({ fromMicros: start, toMicros: start + DAY_MICROS }, `_doc_id IS NULL AND _seq IN (${seqs.join(', ')})`, []);
    }
    // Any id may also have been given by a sender.
    await take(ALL_TIME, `_doc_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')})`, ids);
    const order = new Map(ids.map((id, i) => [id, i]));
    return out.sort((a, b) => (order.get(a._id) ?? 0) - (order.get(b._id) ?? 0));
  }

  deleteWhere(filter: FilterNode): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ task: () => this.deleteNow(filter), resolve: (n) => resolve(n ?? 0), reject });
      this.tasksQueued++;
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Runs in the write queue: young rows are first turned into Parquet, then
   * every file with matches is rewritten without them.
   */
  private async deleteNow(filter: FilterNode): Promise<number> {
    let deleted = 0;
    for (const p of [...this.partitions.values()]) {
      deleted += await p.exclusive(async () => {
        await p.flushSegments(this.compactor);
        let n = 0;
        const bare = await this.bareColumns(filter, ALL_TIME);
        for (const part of p.view().parquet) {
          const params: DuckDBValue[] = [];
          const where = compileFilter(filter, this.context(params, Date.now(), bare));
          const from = await this.relation(ALL_TIME, filter, params, this.referenced(where), { only: { partition: p, part }, bare });
          const matchSql = `SELECT _seq FROM ${from} WHERE ${where}`;
          const k = Number((await this.read(`SELECT count(*) FROM (${matchSql})`, params))[0][0]);
          if (k === 0) continue;
          await p.rewrite(this.compactor, part, matchSql, params);
          n += k;
        }
        return n;
      });
    }
    return deleted;
  }

  async indices(): Promise<{ index: string; count: number }[]> {
    const rows = await this.group({ filter: { kind: 'exists', field: '_index', span: { start: 0, end: 0 } }, keys: [{ kind: 'terms', field: '_index' }], metrics: [{ fn: 'count' }] });
    return rows.map((r) => ({ index: String(r.keys[0]), count: r.metrics[0] ?? 0 }));
  }

  async stats(): Promise<StoreStats> {
    let bytes = 0;
    for (const p of this.partitions.values()) bytes += p.sizeOnDisk();
    return { partitions: this.partitions.size, bytesOnDisk: bytes };
  }

  async applyRetention(nowMicros: number): Promise<number> {
    const days = this.opts.retentionDays ?? 0;
    if (days <= 0) return 0;
    const oldest = dayOfMicros(nowMicros - days * DAY_MICROS);
    let removed = 0;
    for (const p of [...this.partitions.values()]) {
      if (p.day >= oldest) continue;
      await p.exclusive(async () => p.drop());
      this.partitions.delete(p.day);
      for (const key of [...this.bloomCache.keys()]) if (key.startsWith(`${p.day}/`)) this.bloomCache.delete(key);
      removed++;
    }
    return removed;
  }
}

/**
 * The day and sequence number of each event of a write: a day's events took
 * consecutive sequence numbers from its prepared append's first, in the order
 * of the write.
 */
function noteKeys(events: LogEvent[], byDay: Map<number, { list: LogEvent[] }>, parts: { prepared: PreparedAppend }[], keys: RowKeys): void {
  const days = [...byDay.keys()];
  if (days.length === 1) {
    keys.days.fill(days[0], 0, events.length);
    const first = parts[0].prepared.startSeq;
    for (let i = 0; i < events.length; i++) keys.seqs[i] = first + i;
    return;
  }
  const next = new Map(days.map((day, k) => [day, parts[k].prepared.startSeq]));
  for (let i = 0; i < events.length; i++) {
    const day = dayOfMicros(events[i].ts);
    const seq = next.get(day) as number;
    next.set(day, seq + 1);
    keys.days[i] = day;
    keys.seqs[i] = seq;
  }
}

/** Partitions are named by day, YYYYMMDD: times outside years 1970–9999 cannot have one. */
const MIN_TS_MICROS = 0;
const MAX_TS_MICROS = Date.UTC(10000, 0, 1) * 1000;

function repairTimestamp(ev: LogEvent): void {
  ev.fields[INVALID_TIMESTAMP_FIELD] = Number.isFinite(ev.ts) ? String(ev.ts) : 'NaN';
  ev.ts = Date.now() * 1000;
  addTag(ev, TAG.timestampParseFailure);
}

/** The columns `toHit` reads, in its order; `day` where the relation has no `_day`. */
function hitColumns(entries: FieldEntry[], day = '_day', shape = SHAPE_COLUMN): string {
  return ['epoch_us(ts)', day, '_seq', '_doc_id', '_index', 'message', 'host', 'source', 'level', 'tags', '_overflow', shape, ...entries.map((e) => e.column as string)].join(', ');
}

/** Where a storage-order page resumes: after row `seq` of `day` (findOnce has checked there are two values). */
function storageCursor(values: unknown[] | undefined): { day: number; seq: number } | undefined {
  if (!values || values.length === 0) return undefined;
  const [day, seq] = values;
  if (!Number.isSafeInteger(day) || !Number.isSafeInteger(seq)) {
    throw new QueryError('search_after of a storage-order sort (_doc, _shard_doc) takes the whole numbers of the last hit\'s `sort`, unchanged');
  }
  return { day: day as number, seq: seq as number };
}

/** The rows a snapshot holds: per day, those below its committed sequence number; days made after it, none. */
function snapshotCondition(snapshot: StoreSnapshot | undefined): string {
  if (!snapshot) return '';
  const whens = [...snapshot.marks].map(([day, mark]) => `WHEN ${Math.floor(day)} THEN ${Math.floor(mark)}`);
  return whens.length === 0 ? ' AND FALSE' : ` AND _seq < (CASE _day ${whens.join(' ')} ELSE 0 END)`;
}

/**
 * The rows stored after a snapshot (GroupRequest.since): per day, those at or past its mark; days made after it, all.
 * Plain comparisons per day, so that Parquet row groups below the mark are skipped by their `_seq` statistics.
 */
function sinceCondition(snapshot: StoreSnapshot): string {
  const days = [...snapshot.marks].map(([day, mark]) => `(_day = ${Math.floor(day)} AND _seq >= ${Math.floor(mark)})`);
  if (days.length === 0) return '';
  return ` AND (${days.join(' OR ')} OR _day NOT IN (${[...snapshot.marks.keys()].map((d) => Math.floor(d)).join(', ')}))`;
}

const ID_EXPR = "coalesce(_doc_id, CAST(_day AS VARCHAR) || '-' || CAST(_seq AS VARCHAR))";

/** DuckDB values as plain JSON-able JavaScript. */
export function toJs(v: DuckDBValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBTimestampValue) return microsToIso(Number(v.micros));
  if (v instanceof DuckDBListValue) return v.items.map(toJs);
  if (v instanceof DuckDBMapValue) return Object.fromEntries(v.entries.map((e) => [String(e.key), toJs(e.value)]));
  return String(v);
}

/** Values come back for search_after as the client got them: timestamps as epoch milliseconds. */
function sortValue(field: string, v: DuckDBValue): unknown {
  if (v instanceof DuckDBTimestampValue) return Number(v.micros) / 1000;
  return toJs(v);
}

function keyParam(v: unknown): string | number | boolean {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  return String(v);
}

/**
 * Rows strictly after `values` in the sort order `keys`: the lexicographic
 * comparison spelled out, with NULLs placed where the sort puts them.
 */
function afterCondition(keys: { expr: string; desc: boolean; missing?: 'first' | 'last'; field: string }[], values: unknown[], ctx: DialectContext): string {
  const ors: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const eqs = keys.slice(0, i).map((k, j) => equalTo(k, values[j], ctx));
    ors.push(`(${[...eqs, beyond(keys[i], values[i], ctx)].join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

function literal(k: { field: string; expr: string }, v: unknown, ctx: DialectContext): string {
  if (k.expr === 'ts' || k.field === '@timestamp') return `make_timestamp(${ctx.param(Math.round(Number(v) * 1000))}::BIGINT)`;
  if (typeof v === 'number') return `${ctx.param(v)}::DOUBLE`;
  if (typeof v === 'boolean') return ctx.param(v);
  return ctx.param(String(v));
}

function equalTo(k: { field: string; expr: string }, v: unknown, ctx: DialectContext): string {
  return v === null || v === undefined ? `${k.expr} IS NULL` : `${k.expr} = ${literal(k, v, ctx)}`;
}

function beyond(k: { field: string; expr: string; desc: boolean; missing?: 'first' | 'last' }, v: unknown, ctx: DialectContext): string {
  const nullsLast = (k.missing ?? 'last') === 'last';
  if (v === null || v === undefined) return nullsLast ? 'FALSE' : `${k.expr} IS NOT NULL`;
  const cmp = `${k.expr} ${k.desc ? '<' : '>'} ${literal(k, v, ctx)}`;
  return nullsLast ? `(${cmp} OR ${k.expr} IS NULL)` : cmp;
}

function encodeCursor(c: { ts: number; day: number; seq: number }): string {
  return Buffer.from(JSON.stringify([c.ts, c.day, c.seq])).toString('base64url');
}

function decodeCursor(s: string): { ts: number; day: number; seq: number } {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString());
    if (Array.isArray(v) && v.length === 3 && v.every((x) => Number.isSafeInteger(x))) {
      return { ts: v[0] as number, day: v[1] as number, seq: v[2] as number };
    }
  } catch {
    // fall through
  }
  throw new QueryError('invalid cursor: pass the `cursor` value of the previous page unchanged');
}

/** Whether a day's partition holds times of the range. */
function overlapsDay(day: number, range: TimeRange): boolean {
  return dayStartMicros(day) < range.toMicros && dayStartMicros(day) + DAY_MICROS > range.fromMicros;
}
