/**
 * One day of events in a directory of its own. A whole day is the unit of
 * retention (delete the directory, the disk is free) and of pruning (a
 * query opens only the days its range covers).
 *
 * Rows carry `_seq`, a per-day sequence number. Blocks of `blockRows`
 * consecutive numbers are the unit of bloom filters and of the files at
 * rest. An event goes through three forms, each a file:
 *
 *   s<seq>.ndjson         segment: the write-ahead log. An acknowledged write
 *                         is a line here, synced to disk. DuckDB reads it with
 *                         its NDJSON reader while it is young.
 *   m<lo>-<hi>.parquet    mini: segments of the open block turned into zstd
 *                         Parquet once a second old, by DuckDB.
 *   b<block>.parquet      block: the minis and segments of a sealed block in
 *                         one file, beside b<block>.bloom, its bloom filter.
 *
 * Each step writes a new file, syncs it and renames it into place before the
 * files it replaces are deleted, so a crash at any moment leaves each row in
 * at least one complete file, and opening resolves the overlap by the
 * sequence ranges in the names. Replaced files are deleted after a grace
 * period, since a query planned just before may still read them.
 *
 * Nothing here holds rows in memory: the JavaScript thread only encodes lines
 * and appends them, and DuckDB's own threads do the columnar work.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FieldType, LogEvent } from '../../core/event.js';
import { BloomFilter } from '../bloom.js';
import { sharedBloom, type BloomIndexer } from './bloom-indexer.js';
import { writeAll } from './append.js';
import { LineWriter } from './rows.js';

/** Rows per block: DuckDB's row group size. */
export const DEFAULT_BLOCK_ROWS = 122_880;
/** A segment ends once it holds this many rows; a segment of the open block becomes Parquet once its first row is this old. */
const SEGMENT_ROWS = 16_384;
const SEGMENT_AGE_MS = 1_000;
/**
 * Segments of an open block that the current rate of writes will fill within this long are not made
 * minis: they go straight into the block's file when it seals. Under a steady stream a mini was a
 * second Parquet encoding of nearly every row (at 50,000 rows/s, 95% of them), a third of the
 * conversion's work.
 */
const SEALS_SOON_MS = 3_000;
/** Rows per second are measured over windows of this length; a rate older than two windows counts as none. */
const RATE_WINDOW_MS = 1_000;
/** The open block's minis are merged once there are this many. */
const MAX_MINIS = 8;
const GRACE_MS = 10_000;
/**
 * Past this many dynamic columns data is wide: its files get small row groups (the Parquet writer
 * holds one in memory), its segments are converted before a query reads them (DuckDB's NDJSON reader
 * materializes every column), and with this many fields in all, hits are fetched apart from the
 * query that finds them.
 */
export const WIDE_COLUMNS = 64;
/**
 * Parquet's version 2 encodings, four row groups per block: timestamps and
 * sequence numbers delta-encoded (under 1 KB a row group where plain zstd
 * kept 230 KB). Measured over the 82 blocks of 10M events against version 1
 * with row groups of 16,384: reading the time column 2.4× faster, a histogram
 * 1.6×, files 14% smaller. Row groups are a quarter block, not a whole one:
 * the writer holds a row group in memory, and a whole block cost 190 MB more
 * at its peak where a quarter costs 50 MB.
 */
const parquetOptions = (rowGroup: number): string => `PARQUET_VERSION V2, ROW_GROUP_SIZE ${rowGroup}`;

/** The fixed columns of every file, in order, with their SQL types. */
export const BASE_COLUMNS: { name: string; sql: string }[] = [
  { name: '_seq', sql: 'BIGINT' },
  { name: 'ts', sql: 'TIMESTAMP' },
  { name: '_doc_id', sql: 'VARCHAR' },
  { name: '_index', sql: 'VARCHAR' },
  { name: 'message', sql: 'VARCHAR' },
  { name: 'host', sql: 'VARCHAR' },
  { name: 'source', sql: 'VARCHAR' },
  { name: 'level', sql: 'VARCHAR' },
  { name: 'tags', sql: 'VARCHAR[]' },
  { name: '_overflow', sql: 'MAP(VARCHAR, VARCHAR)' },
  // Added after the others: files written before it lack it (see SHAPE_COLUMN).
  { name: '_shape', sql: 'VARCHAR' },
];

/** The column of documents' shapes (core/shape.ts). Parquet files written before it lack it: their parts' `columns` say whether they have it. */
export const SHAPE_COLUMN = '_shape';

/** A Parquet file of a partition: a sealed block, or a mini of a block still filling. */
export interface ParquetPart {
  kind: 'block' | 'mini';
  block: number;
  lo: number;
  hi: number;
  file: string;
  /** Dynamic columns (`f<id>`) in the file, and their types there. */
  columns: Map<string, FieldType>;
}

/** A segment file: lines of JSON, one per row, rows `lo` up to `hi` (exclusive) durable. */
export interface Segment {
  block: number;
  lo: number;
  hi: number;
  file: string;
  /** Dynamic columns some line of the segment has. */
  columns: Set<string>;
  handle: fs.promises.FileHandle | null;
  bytes: number;
  openedAt: number;
  /** The directory entry is not yet synced. */
  fresh: boolean;
  /** A failed write could not be undone: the file may end with part of a line. */
  tainted: boolean;
  /** Writes prepared or under way into it: while there are any, it must not be converted. */
  writers: number;
}

/** What a query reads of a partition, taken at one moment. */
/**
 * Events per second of a block file (b<block>.counts.json), written when the
 * block is: a histogram without a filter sums these for the blocks its range
 * covers whole, instead of reading their timestamps.
 */
export interface BlockCounts {
  /** First and last second (epoch seconds) with events. */
  min: number;
  max: number;
  secs: number[];
  counts: number[];
  /** Events per ten seconds and value of the facet fields (absent: not counted, as in files of earlier versions). */
  facets?: Partial<Record<FacetField, FacetCounts>>;
}

/**
 * Fields whose values are counted beside a block's events per second, per
 * ten seconds: the splits of "events over time by host" (Kibana's
 * date_histogram with a terms sub-aggregation), answered from these counts
 * for the blocks a range covers whole.
 */
export const FACET_FIELDS = ['host', 'source', 'level', '_index'] as const;
export type FacetField = (typeof FACET_FIELDS)[number];
/** The span of facet counts, in seconds: time buckets that are multiples of it take them whole. */
export const FACET_SECONDS = 10;
/** A facet with more (span, value) pairs than this in a block is not counted: its values are too many to help. */
const MAX_FACET_ROWS = 20_000;

export interface FacetCounts {
  /** The field's values in the block (null: events without it). */
  values: (string | null)[];
  /** Parallel arrays, one entry per (span, value): the span's start (epoch seconds), the value's index, the events. */
  spans: number[];
  value: number[];
  counts: number[];
}

/** A block spanning more seconds than this (an import of old logs) gets no counts: they would outweigh the scan they save. */
const MAX_COUNT_SECONDS = 20_000;

/** Events encoded for a partition by `prepare`, to be written by `commit`. */
export interface PreparedAppend {
  startSeq: number;
  endSeq: number;
  /** Bumped by a failed commit: writes prepared before it are refused. */
  epoch: number;
  writes: { seg: Segment; bytes: Buffer; hi: number }[];
}

export interface PartitionView {
  parquet: ParquetPart[];
  segments: Segment[];
  /** Rows below this sequence number are durable; a segment may hold more, being written. */
  committed: number;
}

/** How the store turns segment files into a relation: it knows the types of the columns. */
export type SegmentReader = (files: string[], columns: Iterable<string>, lenient: boolean) => { sql: string; types: Map<string, FieldType> };

export function dayOfMicros(micros: number): number {
  const d = new Date(Math.floor(micros / 1000));
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export function dayStartMicros(day: number): number {
  return Date.UTC(Math.floor(day / 10000), (Math.floor(day / 100) % 100) - 1, day % 100) * 1000;
}

export class Partition {
  nextSeq = 0;
  /** Rows below this sequence number are durable. */
  committed = 0;
  private epoch = 0;
  /** Per-second counts of block files, as read or written; null: the block has none. */
  private readonly counts = new Map<number, BlockCounts | null>();
  /** Block files whose counts are yet to be written (found without them on opening, or rewritten by a delete). */
  private readonly uncounted = new Set<number>();
  private readonly lineWriter: LineWriter;
  /** Compacted blocks. */
  readonly blocks = new Map<number, ParquetPart>();
  private minis: ParquetPart[] = [];
  private segments: Segment[] = [];
  private current: Segment | null = null;
  /** The rate of writes: rows per second over the last window, and where the current window began. */
  private rowsPerSecond = 0;
  private rateAt = 0;
  private rateSeq = 0;
  /** Bloom filters of blocks not yet compacted (their files hold theirs). */
  private readonly blooms = new Map<number, BloomFilter>();
  /** Per open block, the bloom worker's answer for the latest lines sent (it answers in order). */
  private readonly bloomsDone = new Map<number, Promise<boolean>>();
  /** Open blocks whose filter may lack words (the worker failed): they get theirs from the data when compacted. */
  private readonly bloomsIncomplete = new Set<number>();
  private readonly retired: { file: string; at: number }[] = [];
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    readonly day: number,
    readonly dir: string,
    private readonly readSegments: SegmentReader,
    private readonly bloomBits: number,
    private readonly indexer: BloomIndexer,
    readonly blockRows: number = DEFAULT_BLOCK_ROWS,
    private readonly compressionLevel = 3,
  ) {
    this.lineWriter = new LineWriter((n) => indexer.buffer(n));
  }

  static dirFor(root: string, day: number): string {
    return path.join(root, String(day));
  }

  blockFile(block: number): string {
    return path.join(this.dir, `${blockName(block)}.parquet`);
  }

  countsFile(block: number): string {
    return path.join(this.dir, `${blockName(block)}.counts.json`);
  }

  /** The per-second counts of a block file, if it has them. */
  async blockCounts(block: number): Promise<BlockCounts | null> {
    const known = this.counts.get(block);
    if (known !== undefined) return known;
    if (this.uncounted.has(block) || !this.blocks.has(block)) return null;
    let counts: BlockCounts | null = null;
    try {
      counts = JSON.parse(await fs.promises.readFile(this.countsFile(block), 'utf8')) as BlockCounts;
    } catch {
      // Unreadable counts are as good as none: the block is read instead, and counted again.
      this.uncounted.add(block);
    }
    if (this.blocks.has(block)) this.counts.set(block, counts);
    // Counts of an earlier version, without facets: used as they are, and written again in the background.
    if (counts !== null && counts.facets === undefined) this.uncounted.add(block);
    return counts;
  }

  /** Writes the per-second counts of a block file (none for blocks spanning too many seconds). */
  private async writeCounts(conn: DuckDBConnection, block: number): Promise<void> {
    const part = this.blocks.get(block);
    if (!part) return;
    const rows = (
      await conn.runAndReadAll(`SELECT epoch_us(ts) // 1000000 AS s, count(*) AS n FROM read_parquet(${quote(part.file)}) GROUP BY s ORDER BY s`)
    ).getRows();
    this.uncounted.delete(block);
    if (rows.length === 0 || rows.length > MAX_COUNT_SECONDS) {
      this.counts.set(block, null);
      return;
    }
    const counts: BlockCounts = {
      min: Number(rows[0][0]),
      max: Number(rows[rows.length - 1][0]),
      secs: rows.map((r) => Number(r[0])),
      counts: rows.map((r) => Number(r[1])),
      facets: {},
    };
    for (const field of FACET_FIELDS) {
      const facetRows = (
        await conn.runAndReadAll(
          `SELECT epoch_us(ts) // ${FACET_SECONDS * 1_000_000} * ${FACET_SECONDS} AS s, ${field} AS v, count(*) AS n FROM read_parquet(${quote(part.file)}) GROUP BY s, v ORDER BY s, v LIMIT ${MAX_FACET_ROWS + 1}`,
        )
      ).getRows();
      if (facetRows.length > MAX_FACET_ROWS) continue;
      const index = new Map<string | null, number>();
      const facet: FacetCounts = { values: [], spans: [], value: [], counts: [] };
      for (const [span, v, n] of facetRows) {
        const value = v === null ? null : String(v);
        let i = index.get(value);
        if (i === undefined) {
          index.set(value, (i = facet.values.length));
          facet.values.push(value);
        }
        facet.spans.push(Number(span));
        facet.value.push(i);
        facet.counts.push(Number(n));
      }
      (counts.facets as Partial<Record<FacetField, FacetCounts>>)[field] = facet;
    }
    await writeDurably(this.countsFile(block), Buffer.from(JSON.stringify(counts)));
    this.counts.set(block, counts);
  }

  /** Removes a block's counts, durably, before its file changes. */
  private async dropCounts(block: number): Promise<void> {
    this.counts.delete(block);
    this.uncounted.add(block);
    await fs.promises.rm(this.countsFile(block), { force: true });
    await syncDir(this.dir);
  }

  /**
   * A block's filter. `.keys.bloom`: filters that hold n-grams and the values of every field
   * (format 2); an earlier build's `.bloom` holds message words only, and a query that asks
   * for an n-gram would wrongly skip its block, so such a filter is rebuilt on open.
   */
  bloomFile(block: number): string {
    return path.join(this.dir, `${blockName(block)}.keys.bloom`);
  }

  /** Runs `fn` alone among this partition's file changes (conversion, compaction, deletes, drop). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------ opening

  /**
   * Reads the directory back: files being written when the process died
   * (`.tmp`) are removed, files whose rows a later file holds completely are
   * removed, and segments are cut after their last complete line.
   */
  async open(conn: DuckDBConnection): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const names = fs.readdirSync(this.dir).sort();
    const minis: ParquetPart[] = [];
    const segments: string[] = [];
    for (const name of names) {
      const full = path.join(this.dir, name);
      if (name.endsWith('.tmp')) {
        fs.rmSync(full, { force: true });
        continue;
      }
      let m = /^b(\d+)\.parquet$/.exec(name);
      if (m) {
        const block = Number(m[1]);
        this.blocks.set(block, {
          kind: 'block',
          block,
          lo: block * this.blockRows,
          hi: (block + 1) * this.blockRows,
          file: full,
          columns: await parquetColumns(conn, full),
        });
        continue;
      }
      m = /^m(\d+)-(\d+)\.parquet$/.exec(name);
      if (m) {
        const lo = Number(m[1]);
        minis.push({ kind: 'mini', block: Math.floor(lo / this.blockRows), lo, hi: Number(m[2]), file: full, columns: new Map() });
        continue;
      }
      m = /^s(\d+)\.ndjson$/.exec(name);
      if (m) segments.push(full);
    }
    // Counts are written after their block file: counts without one are from a crash in between.
    for (const name of names) {
      const m = /^b(\d+)\.counts\.json$/.exec(name);
      if (m && !this.blocks.has(Number(m[1]))) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    for (const block of this.blocks.keys()) if (!names.includes(`${blockName(block)}.counts.json`)) this.uncounted.add(block);
    // A mini whose rows a block file or a larger mini holds is left from a merge.
    for (const mini of minis) {
      const covered =
        this.blocks.has(mini.block) || minis.some((o) => o !== mini && o.lo <= mini.lo && o.hi >= mini.hi && o.hi - o.lo > mini.hi - mini.lo);
      if (covered) fs.rmSync(mini.file, { force: true });
      else {
        mini.columns = await parquetColumns(conn, mini.file);
        this.minis.push(mini);
      }
    }
    this.minis.sort((a, b) => a.lo - b.lo);
    for (const file of segments) {
      const lo = Number(/s(\d+)\.ndjson$/.exec(file)?.[1]);
      const block = Math.floor(lo / this.blockRows);
      if (this.blocks.has(block) || this.minis.some((m) => m.lo <= lo && lo < m.hi)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const seg = recoverSegment(file, lo, block);
      if (seg.hi > seg.lo) this.segments.push(seg);
      else fs.rmSync(file, { force: true });
    }
    let next = 0;
    for (const b of this.blocks.values()) next = Math.max(next, b.hi);
    for (const m of this.minis) next = Math.max(next, m.hi);
    for (const s of this.segments) next = Math.max(next, s.hi);
    this.nextSeq = this.committed = next;
    await this.rebuildBlooms(conn);
  }

  /** Blooms of blocks without a file of their own, and of block files whose bloom file is missing, from their messages. */
  private async rebuildBlooms(conn: DuckDBConnection): Promise<void> {
    const hot = new Set<number>([...this.minis.map((m) => m.block), ...this.segments.map((s) => s.block)]);
    for (const block of hot) {
      const parts: string[] = [];
      const minis = this.minis.filter((m) => m.block === block).map((m) => quote(m.file));
      if (minis.length) parts.push(`SELECT * FROM read_parquet([${minis.join(', ')}], union_by_name = true)`);
      const segs = this.segments.filter((s) => s.block === block);
      if (segs.length) {
        const columns = new Set(segs.flatMap((s) => [...s.columns]));
        parts.push(`SELECT * FROM (${this.readSegments(segs.map((s) => s.file), columns, true).sql})`);
      }
      // Shared: the bloom worker adds the words of the block's next rows to it.
      this.blooms.set(block, await bloomOf(conn, parts.map((x) => `(${x})`).join(' UNION ALL BY NAME '), sharedBloom(this.bloomBits)));
    }
    for (const [block, part] of this.blocks) {
      fs.rmSync(path.join(this.dir, `${blockName(block)}.bloom`), { force: true });
      if (fs.existsSync(this.bloomFile(block))) continue;
      const bloom = await bloomOf(conn, `SELECT * FROM read_parquet(${quote(part.file)})`, new BloomFilter(this.bloomBits));
      await writeDurably(this.bloomFile(block), bloom.toBytes());
    }
  }

  // ------------------------------------------------------------ writing

  /**
   * Encodes events as lines of the segments of their blocks, taking their
   * sequence numbers; nothing is written or visible until `commit`. The
   * store prepares the next write while the previous one is being synced,
   * so that the event loop encodes while the disk works. Commits must come
   * in the order of preparation, one at a time.
   */
  prepare(events: LogEvent[], encode: (w: LineWriter, ev: LogEvent, seq: number, columns: Set<string>) => void): PreparedAppend {
    const startSeq = this.nextSeq;
    const now = Date.now();
    if (now - this.rateAt >= RATE_WINDOW_MS) {
      this.rowsPerSecond = now - this.rateAt < 2 * RATE_WINDOW_MS ? ((startSeq - this.rateSeq) * 1000) / (now - this.rateAt) : 0;
      this.rateAt = now;
      this.rateSeq = startSeq;
    }
    const writes: PreparedAppend['writes'] = [];
    const w = this.lineWriter;
    let seg: Segment | null = null;
    const finish = (): void => {
      if (!seg) return;
      const bytes = w.take();
      writes.push({ seg, bytes, hi: this.nextSeq });
    };
    for (const ev of events) {
      const seq = this.nextSeq;
      const block = Math.floor(seq / this.blockRows);
      if (seg === null || seg.block !== block) {
        finish();
        seg = this.segmentFor(block, seq);
        seg.writers++;
      }
      encode(w, ev, seq, seg.columns);
      this.nextSeq++;
    }
    finish();
    return { startSeq, endSeq: this.nextSeq, epoch: this.epoch, writes };
  }

  /**
   * Writes and syncs what `prepare` encoded, for any number of prepared
   * appends in the order they were prepared: each segment gets their lines in
   * one write and one sync. The rows are durable and visible once this resolves.
   */
  async commit(list: PreparedAppend[]): Promise<void> {
    // The lines of each segment, in order (an append that crossed a block boundary wrote to two).
    const bySegment = new Map<Segment, { lines: Buffer[]; hi: number }>();
    for (const prepared of list) {
      for (const x of prepared.writes) {
        const entry = bySegment.get(x.seg);
        if (entry) {
          entry.lines.push(x.bytes);
          entry.hi = x.hi;
        } else bySegment.set(x.seg, { lines: [x.bytes], hi: x.hi });
      }
    }
    const first = list[0];
    const last = list[list.length - 1];
    try {
      if (list.some((prepared) => prepared.epoch !== this.epoch)) throw new Error('an earlier write to this partition failed; this one was not written');
      const segments = [...bySegment];
      const before = segments.map(([seg]) => seg.bytes);
      try {
        await Promise.all(segments.map(([seg, { lines }]) => this.writeSegment(seg, lines)));
      } catch (err) {
        // Writes prepared after these hold sequence numbers past them: they must not be written now.
        this.epoch++;
        await this.undo(
          segments.map(([seg], i) => ({ seg, bytesBefore: before[i] })),
          { startSeq: first.startSeq, endSeq: last.endSeq },
        );
        throw err;
      }
      for (const [seg, { lines, hi }] of segments) {
        // Before the rows become visible, so that a query waiting for the filter sees their words.
        for (const bytes of lines) this.indexWords(seg.block, bytes);
        seg.hi = hi;
      }
      this.committed = last.endSeq;
    } finally {
      for (const prepared of list) {
        for (const x of prepared.writes) {
          x.seg.writers--;
          // A write that crossed into a new block ended its first segment before writing to it.
          if (x.seg !== this.current && x.seg.writers === 0) closeHandle(x.seg);
        }
      }
    }
  }

  private segmentFor(block: number, seq: number): Segment {
    const cur = this.current;
    // By `seq`, not `hi`: rows prepared and not yet committed count too.
    if (cur && cur.block === block && seq - cur.lo < SEGMENT_ROWS) return cur;
    this.rotate();
    const seg: Segment = {
      block,
      lo: seq,
      hi: seq,
      file: path.join(this.dir, `s${seq}.ndjson`),
      columns: new Set(),
      handle: null,
      bytes: 0,
      openedAt: Date.now(),
      fresh: true,
      tainted: false,
      writers: 0,
    };
    this.segments.push(seg);
    this.current = seg;
    return seg;
  }

  private async writeSegment(seg: Segment, lines: Buffer[]): Promise<void> {
    seg.handle ??= await fs.promises.open(seg.file, 'a');
    const written = await writeAll(seg.handle, lines);
    await seg.handle.datasync();
    if (seg.fresh) {
      await syncDir(this.dir);
      seg.fresh = false;
    }
    seg.bytes += written;
  }

  /** A write failed: its segments are cut back to what was durable before it, and the next write starts a new segment. */
  private async undo(writes: { seg: Segment; bytesBefore: number }[], failed: { startSeq: number; endSeq: number }): Promise<void> {
    let clean = true;
    for (const { seg, bytesBefore } of writes) {
      try {
        await fs.promises.truncate(seg.file, bytesBefore);
        seg.bytes = bytesBefore;
      } catch {
        seg.tainted = true;
        clean = false;
      }
    }
    // Sequence numbers are reused only if no line of the failed write can remain and none was
    // taken since (by a write prepared meanwhile, which its epoch now keeps from being written).
    if (clean && this.nextSeq === failed.endSeq) this.nextSeq = failed.startSeq;
    this.rotate();
  }

  /** Ends the current segment: the next write opens a new one. */
  private rotate(): void {
    const seg = this.current;
    if (!seg) return;
    this.current = null;
    if (seg.writers === 0) closeHandle(seg);
  }

  /** Sends the lines to the bloom worker, for the filter of their block; `lines` is theirs from then on. */
  private indexWords(block: number, lines: Buffer): void {
    if (this.bloomsIncomplete.has(block)) return;
    let bloom = this.blooms.get(block);
    if (!bloom) this.blooms.set(block, (bloom = sharedBloom(this.bloomBits)));
    const done = this.indexer.add(bloom, lines).then((ok) => {
      if (!ok) this.bloomsIncomplete.add(block);
      return ok;
    });
    this.bloomsDone.set(block, done);
  }

  // ------------------------------------------------------------ reading

  view(): PartitionView {
    return {
      parquet: [...this.blocks.values(), ...this.minis],
      segments: this.segments.filter((s) => s.hi > s.lo),
      committed: this.committed,
    };
  }

  /**
   * The bloom filter of a block not yet compacted (compacted blocks have
   * theirs in `bloomFile`), once it holds the words of every row written so
   * far; undefined if it never will.
   */
  async memoryBloom(block: number): Promise<BloomFilter | undefined> {
    await this.bloomsDone.get(block);
    return this.bloomsIncomplete.has(block) ? undefined : this.blooms.get(block);
  }

  // ------------------------------------------------------------ background work

  /**
   * Turns old enough segments into Parquet, merges minis, compacts sealed
   * blocks and deletes replaced files. With `force`, every segment is
   * converted and every replaced file deleted (closing, or before deletes).
   * Callers hold `exclusive`.
   */
  async maintain(conn: DuckDBConnection, force: boolean): Promise<void> {
    const cur = this.current;
    if (cur && cur.writers === 0 && cur.hi > cur.lo && (force || Date.now() - cur.openedAt >= SEGMENT_AGE_MS)) this.rotate();
    // Every list is taken afresh after each await: writes go on meanwhile, and a segment that was
    // being written a moment ago may be idle now. (A stale list once let a block be compacted
    // without a late segment, and then again from that segment alone, over its first file.)
    const idle = (): Segment[] => this.segments.filter((s) => s !== this.current && s.writers === 0);
    const busy = (block: number): boolean => this.segments.some((s) => s.block === block && (s === this.current || s.writers > 0));
    const openBlock = (): number => Math.floor(this.nextSeq / this.blockRows);
    // Sealed blocks (no row can be added to them any more): minis and segments into the block's file
    // at once, so that under a steady stream most rows go from their segment to their block directly.
    for (;;) {
      const block = [...this.minis.map((m) => m.block), ...idle().map((s) => s.block)].find((b) => b < openBlock() && !busy(b));
      if (block === undefined) break;
      await this.compactBlock(conn, block, this.minis.filter((m) => m.block === block), idle().filter((s) => s.block === block));
    }
    // Blocks found without counts (written by an earlier version, or rewritten by a delete).
    for (const block of [...this.uncounted]) {
      try {
        await this.writeCounts(conn, block);
      } catch (err) {
        // Reported once: the block is read instead, until the next start tries again.
        this.uncounted.delete(block);
        this.counts.set(block, null);
        throw err;
      }
    }
    // The open block: segments a second old become a mini, so that queries read little NDJSON.
    await this.convertIdle(conn, force);
    for (const block of new Set(this.minis.map((m) => m.block))) {
      const minis = this.minis.filter((m) => m.block === block);
      if (block >= openBlock() && minis.length > MAX_MINIS) await this.mergeMinis(conn, minis);
    }
    this.deleteRetired(force);
  }

  private miniFile(lo: number, hi: number): string {
    return path.join(this.dir, `m${lo}-${hi}.parquet`);
  }

  /** Segments of one block into one mini. */
  private async convert(conn: DuckDBConnection, segs: Segment[]): Promise<void> {
    const live = segs.filter((s) => s.hi > s.lo);
    if (live.length > 0) {
      const lo = live[0].lo;
      const hi = Math.max(...live.map((s) => s.hi));
      const columns = new Set<string>();
      for (const s of live) for (const c of s.columns) columns.add(c);
      const lenient = live.some((s) => s.tainted);
      const { sql, types } = this.readSegments(live.map((s) => s.file), columns, lenient);
      const file = this.miniFile(lo, hi);
      await this.copyToParquet(conn, `SELECT * FROM (${sql}) WHERE _seq IS NOT NULL AND _seq < ${hi}`, [], file, types.size);
      this.minis.push({ kind: 'mini', block: live[0].block, lo, hi, file, columns: types });
      this.minis.sort((a, b) => a.lo - b.lo);
    }
    this.segments = this.segments.filter((s) => !segs.includes(s));
    for (const s of segs) this.retire(s.file);
  }

  /** The open block's minis into one larger mini. */
  private async mergeMinis(conn: DuckDBConnection, minis: ParquetPart[]): Promise<void> {
    const list = minis.map((m) => quote(m.file)).join(', ');
    const file = this.miniFile(minis[0].lo, minis[minis.length - 1].hi);
    // No ORDER BY: the files are read in sequence order and DuckDB keeps insertion order.
    const columns = new Map<string, FieldType>();
    for (const m of minis) for (const [c, t] of m.columns) if (!columns.has(c) || t === 'float') columns.set(c, t);
    await this.copyToParquet(conn, `SELECT * FROM read_parquet([${list}], union_by_name = true)`, [], file, columns.size);
    this.minis = this.minis.filter((m) => !minis.includes(m));
    this.minis.push({ kind: 'mini', block: minis[0].block, lo: minis[0].lo, hi: minis[minis.length - 1].hi, file, columns });
    this.minis.sort((a, b) => a.lo - b.lo);
    for (const m of minis) this.retire(m.file);
  }

  /** A sealed block's minis and segments into its file; its bloom filter is written first, so a block file always has one. */
  private async compactBlock(conn: DuckDBConnection, block: number, minis: ParquetPart[], segs: Segment[]): Promise<void> {
    const live = segs.filter((x) => x.hi > x.lo);
    if (minis.length === 0 && live.length === 0) {
      for (const x of segs) this.retire(x.file);
      this.segments = this.segments.filter((x) => !segs.includes(x));
      return;
    }
    // A block file is written once: replacing it would drop its rows. Should rows for a compacted block
    // ever turn up, they stay where they are (still read by queries) and the error is reported.
    if (this.blocks.has(block)) throw new Error(`${this.blockFile(block)} exists, yet rows of its block are still to be compacted`);
    const sources: string[] = [];
    const columns = new Map<string, FieldType>();
    if (minis.length > 0) {
      sources.push(`SELECT * FROM read_parquet([${minis.map((m) => quote(m.file)).join(', ')}], union_by_name = true)`);
      for (const m of minis) for (const [c, t] of m.columns) if (!columns.has(c) || t === 'float') columns.set(c, t);
    }
    if (live.length > 0) {
      const cols = new Set<string>();
      for (const x of live) for (const c of x.columns) cols.add(c);
      const seg = this.readSegments(live.map((x) => x.file), cols, live.some((x) => x.tainted));
      const hi = Math.max(...live.map((x) => x.hi));
      sources.push(`SELECT * FROM (${seg.sql}) WHERE _seq IS NOT NULL AND _seq < ${hi}`);
      for (const [c, t] of seg.types) if (!columns.has(c) || t === 'float') columns.set(c, t);
    }
    const relation = sources.length === 1 ? sources[0] : sources.map((x) => `(${x})`).join(' UNION ALL BY NAME ');
    const bloom = (await this.memoryBloom(block)) ?? (await bloomOf(conn, relation, new BloomFilter(this.bloomBits)));
    // A copy: the bits of an open block's filter are in shared memory.
    await writeDurably(this.bloomFile(block), Buffer.from(bloom.toBytes()));
    const file = this.blockFile(block);
    if (minis.length === 1 && live.length === 0) {
      // One mini already is the block: linked, not rewritten. The mini's name goes after the grace
      // period, so that a query planned to read it under that name still finds it.
      fs.linkSync(minis[0].file, file);
      await syncDir(this.dir);
    } else {
      await this.copyToParquet(conn, relation, [], file, columns.size);
    }
    this.blocks.set(block, { kind: 'block', block, lo: block * this.blockRows, hi: (block + 1) * this.blockRows, file, columns });
    this.blooms.delete(block);
    this.bloomsDone.delete(block);
    this.bloomsIncomplete.delete(block);
    this.minis = this.minis.filter((m) => !minis.includes(m));
    this.segments = this.segments.filter((x) => !segs.includes(x));
    for (const m of minis) this.retire(m.file);
    for (const x of segs) this.retire(x.file);
    // Should counting fail, the next pass tries once more (see maintain).
    this.uncounted.add(block);
    await this.writeCounts(conn, block);
  }

  /** Rewrites a Parquet file without the rows `matchSql` selects (by `_seq`), atomically by rename. */
  async rewrite(conn: DuckDBConnection, part: ParquetPart, matchSql: string, params: import('@duckdb/node-api').DuckDBValue[]): Promise<void> {
    if (part.kind === 'block') await this.dropCounts(part.block);
    await this.copyToParquet(conn, `SELECT * FROM read_parquet(${quote(part.file)}) WHERE _seq NOT IN (${matchSql})`, params, part.file, part.columns.size);
    if (part.kind === 'block') await this.writeCounts(conn, part.block);
  }

  /**
   * Every segment into Parquet, now, but those being written (there are none
   * when the store's write queue calls this). Callers hold `exclusive`.
   */
  async flushSegments(conn: DuckDBConnection): Promise<void> {
    this.rotate();
    await this.convertIdle(conn, true);
  }

  /** Segments not being written, one mini per block: those a second old, or all of them. */
  private async convertIdle(conn: DuckDBConnection, all: boolean): Promise<void> {
    if (!all && this.sealsSoon()) return;
    const idle = (): Segment[] => this.segments.filter((s) => s !== this.current && s.writers === 0);
    for (const block of new Set(idle().map((s) => s.block))) {
      const segs = idle().filter((s) => s.block === block);
      if (segs.length > 0 && (all || Date.now() - segs[0].openedAt >= SEGMENT_AGE_MS)) await this.convert(conn, segs);
    }
  }

  /** Whether the open block will be full within SEALS_SOON_MS at the current rate of writes. */
  private sealsSoon(): boolean {
    const rate = Date.now() - this.rateAt < 2 * RATE_WINDOW_MS ? this.rowsPerSecond : 0;
    if (rate <= 0) return false;
    const left = (Math.floor(this.nextSeq / this.blockRows) + 1) * this.blockRows - this.nextSeq;
    return (left / rate) * 1000 < SEALS_SOON_MS;
  }

  /** `columns`: how many dynamic columns the file gets; wide files get small row groups, which the writer holds in memory. */
  private async copyToParquet(conn: DuckDBConnection, select: string, params: import('@duckdb/node-api').DuckDBValue[], file: string, columns: number): Promise<void> {
    const rowGroup = columns > WIDE_COLUMNS ? 2048 : Math.max(2048, Math.ceil(this.blockRows / 4));
    const tmp = `${file}.tmp`;
    await conn.run(
      `COPY (${select}) TO ${quote(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${this.compressionLevel}, ${parquetOptions(rowGroup)})`,
      params,
    );
    await syncPath(tmp);
    await fs.promises.rename(tmp, file);
    await syncDir(this.dir);
  }

  private retire(file: string): void {
    this.retired.push({ file, at: Date.now() + GRACE_MS });
  }

  private deleteRetired(all: boolean): void {
    const now = Date.now();
    while (this.retired.length > 0 && (all || this.retired[0].at <= now)) {
      fs.rmSync((this.retired.shift() as { file: string }).file, { force: true });
    }
  }

  /** Rows still in segment files, waiting to become Parquet. */
  segmentRows(): number {
    let rows = 0;
    for (const s of this.segments) rows += s.hi - s.lo;
    return rows;
  }

  get pendingWork(): boolean {
    return (
      this.segments.length > 0 ||
      this.retired.length > 0 ||
      this.uncounted.size > 0 ||
      this.minis.some((m) => m.block < Math.floor(this.nextSeq / this.blockRows))
    );
  }

  /** Converts what is left and closes the segment file. Callers hold `exclusive`. */
  async close(conn: DuckDBConnection): Promise<void> {
    await this.maintain(conn, true);
    this.rotate();
  }

  /** Deletes every file of this day. Callers hold `exclusive`. */
  drop(): void {
    this.rotate();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  sizeOnDisk(): number {
    let total = 0;
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      try {
        total += fs.statSync(path.join(this.dir, name)).size;
      } catch {
        // deleted meanwhile
      }
    }
    return total;
  }
}

function blockName(block: number): string {
  return `b${String(block).padStart(6, '0')}`;
}

function closeHandle(seg: Segment): void {
  const handle = seg.handle;
  seg.handle = null;
  void handle?.close().catch(() => undefined);
}

/**
 * A segment after a crash: lines up to the first one that is not a complete
 * row in sequence are kept, the rest cut off (it was never acknowledged).
 */
function recoverSegment(file: string, lo: number, block: number): Segment {
  const data = fs.readFileSync(file);
  const columns = new Set<string>();
  let expected = lo;
  let good = 0;
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(10, start);
    if (nl < 0) break;
    let row: unknown;
    try {
      row = JSON.parse(data.toString('utf8', start, nl));
    } catch {
      break;
    }
    if (typeof row !== 'object' || row === null || (row as { _seq?: unknown })._seq !== expected) break;
    for (const key of Object.keys(row)) if (/^f\d+$/.test(key)) columns.add(key);
    expected++;
    good = nl + 1;
    start = nl + 1;
  }
  if (good < data.length) {
    fs.truncateSync(file, good);
    const fd = fs.openSync(file, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  return { block, lo, hi: expected, file, columns, handle: null, bytes: good, openedAt: Date.now(), fresh: false, tainted: false, writers: 0 };
}

async function parquetColumns(conn: DuckDBConnection, file: string): Promise<Map<string, FieldType>> {
  const cols = new Map<string, FieldType>();
  const schema = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quote(file)})`)).getRows();
  for (const [n, t] of schema) {
    const col = String(n);
    if (/^f\d+$/.test(col)) cols.set(col, fieldTypeOfSql(String(t)));
    else if (col === SHAPE_COLUMN) cols.set(col, 'string');
  }
  return cols;
}

/** Columns whose values are not indexed: the row's keys and time, the list of tags, the overflow map. */
const UNINDEXED = new Set(['_seq', 'ts', '_doc_id', '_index', 'tags', '_overflow', '_shape', '_day']);

/**
 * A block's filter from its rows: the keys of each message and of every
 * other column's values, as the bloom worker adds them from segment lines
 * (numbers and booleans by their text).
 */
async function bloomOf(conn: DuckDBConnection, rowsSql: string, bloom: BloomFilter): Promise<BloomFilter> {
  const reader = await conn.stream(`SELECT * FROM (${rowsSql})`);
  const names = reader.columnNames();
  const indexed = names.map((n, i) => [n, i] as const).filter(([n]) => !UNINDEXED.has(n));
  for (;;) {
    const chunk = await reader.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunk.getRows()) {
      for (const [name, i] of indexed) {
        const v = row[i];
        if (v === null || v === undefined) continue;
        bloom.addWords(typeof v === 'string' ? v : String(v), name);
      }
    }
  }
  return bloom;
}

export function quote(file: string): string {
  return `'${file.replace(/'/g, "''")}'`;
}

async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.promises.writeFile(tmp, bytes);
  await syncPath(tmp);
  await fs.promises.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** fsync of a file or a directory (for a directory: the names created or renamed in it). */
async function syncPath(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const syncDir = syncPath;

function fieldTypeOfSql(sql: string): FieldType {
  if (sql === 'BIGINT') return 'integer';
  if (sql === 'DOUBLE') return 'float';
  if (sql === 'BOOLEAN') return 'boolean';
  if (sql.startsWith('TIMESTAMP')) return 'timestamp';
  return 'string';
}
