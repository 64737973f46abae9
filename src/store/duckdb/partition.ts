/**
 * One day of events in its own DuckDB file, attached to the store's
 * instance. A whole day is the unit of retention (delete the file, the disk
 * is free) and of pruning (a query opens only the days its range covers).
 *
 * Rows carry `_seq`, a per-partition sequence number: rows are appended in
 * `_seq` order, so blocks of `blockRows` consecutive `_seq` values line up
 * with DuckDB's row groups. Each sealed block has a bloom filter of the
 * words of its messages; the open block has none and is always scanned.
 *
 * The DuckDB file is the hot, durable part: appends commit through its WAL.
 * Once a block is sealed it is compacted into its own Parquet file
 * (zstd: ~0.16 bytes per raw byte where DuckDB's own layout keeps ~0.37)
 * and its rows leave the hot table. A full-text query then reads only the
 * Parquet files whose bloom filter may match.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BIGINT,

  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  LIST,
  MAP,
  TIMESTAMP,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { FieldType } from '../../core/event.js';
import { BloomFilter } from '../bloom.js';
import { SQL_TYPE } from './catalog.js';

/** DuckDB's row group size, so that a block of the hot table is one row group. */
export const DEFAULT_BLOCK_ROWS = 122_880;

const DELETE_GRACE_MS = 10_000;
/** Row groups within a block file: several per file let both cores decompress one block. */
const PARQUET_ROW_GROUP = 16_384;

export const DUCK_TYPE: Record<FieldType, DuckDBType> = {
  string: VARCHAR,
  integer: BIGINT,
  float: DOUBLE,
  boolean: BOOLEAN,
  timestamp: TIMESTAMP,
};

/** The fixed columns every partition has, in table order. */
export const BASE_COLUMNS: { name: string; type: DuckDBType; sql: string }[] = [
  { name: '_seq', type: BIGINT, sql: 'BIGINT NOT NULL' },
  { name: 'ts', type: TIMESTAMP, sql: 'TIMESTAMP NOT NULL' },
  { name: '_doc_id', type: VARCHAR, sql: 'VARCHAR' },
  { name: '_index', type: VARCHAR, sql: 'VARCHAR' },
  { name: 'message', type: VARCHAR, sql: 'VARCHAR' },
  { name: 'host', type: VARCHAR, sql: 'VARCHAR' },
  { name: 'source', type: VARCHAR, sql: 'VARCHAR' },
  { name: 'level', type: VARCHAR, sql: 'VARCHAR' },
  { name: 'tags', type: LIST(VARCHAR), sql: 'VARCHAR[]' },
  { name: '_overflow', type: MAP(VARCHAR, VARCHAR), sql: 'MAP(VARCHAR, VARCHAR)' },
];

export function dayOfMicros(micros: number): number {
  const d = new Date(Math.floor(micros / 1000));
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export function dayStartMicros(day: number): number {
  return Date.UTC(Math.floor(day / 10000), (Math.floor(day / 100) % 100) - 1, day % 100) * 1000;
}

export class Partition {
  readonly alias: string;
  /** Column name → field type of dynamic columns this partition has, in table order. */
  readonly dynamicColumns = new Map<string, FieldType>();
  nextSeq = 0;
  private appender: DuckDBAppender | null = null;
  private openBlock = -1;
  private openBloom: BloomFilter | null = null;
  private readonly sealed: { block: number; bloom: BloomFilter }[] = [];
  /** Compacted blocks: block number → the file's columns (dynamic ones) and their types. */
  readonly blocks = new Map<number, Map<string, FieldType>>();
  /** Blocks sealed and indexed but still in the hot table. */
  private readonly toCompact: number[] = [];
  /** Blocks sealed by rows of the transaction under way: compactable only once it commits. */
  private sealedUncommitted: number[] = [];
  private readonly toDelete: { lo: bigint; hi: bigint; at: number }[] = [];
  private compacting: Promise<void> | null = null;
  readonly blockDir: string;

  constructor(
    readonly day: number,
    readonly file: string,
    private readonly conn: DuckDBConnection,
    private readonly bloomBits: number,
    /** Rows per block: the unit of bloom filters and of compaction. */
    readonly blockRows: number = DEFAULT_BLOCK_ROWS,
  ) {
    this.alias = `p${day}`;
    this.blockDir = file.replace(/\.duckdb$/, '');
  }

  async open(): Promise<void> {
    // STORAGE_VERSION latest: the newer compression methods for the hot rows.
    // Small blocks: DuckDB gives every column being appended a block of its own, and sparse wide
    // tables (hundreds of dynamic fields) exhausted memory with the default 256 KiB blocks.
    // The block size is fixed when a file is created; an existing file keeps its own.
    const options = fs.existsSync(this.file) ? "STORAGE_VERSION 'latest'" : "STORAGE_VERSION 'latest', BLOCK_SIZE 16384";
    await this.conn.run(`ATTACH IF NOT EXISTS '${this.file.replace(/'/g, "''")}' AS ${this.alias} (${options})`);
    await this.conn.run(
      `CREATE TABLE IF NOT EXISTS ${this.alias}.events (${BASE_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(', ')})`,
    );
    await this.conn.run(`CREATE TABLE IF NOT EXISTS ${this.alias}.blooms (block BIGINT PRIMARY KEY, bits BLOB NOT NULL)`);
    const cols = (
      await this.conn.runAndReadAll(
        `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND table_name = 'events' ORDER BY column_index`,
        [this.alias],
      )
    ).getRows();
    for (const [name, type] of cols) {
      const n = String(name);
      if (!n.startsWith('f')) continue;
      this.dynamicColumns.set(n, fieldTypeOfSql(String(type)));
    }
    await this.openBlocks();
    const max = (await this.conn.runAndReadAll(`SELECT max(_seq) FROM ${this.alias}.events`)).getRows()[0][0];
    const afterBlocks = this.blocks.size ? (Math.max(...this.blocks.keys()) + 1) * this.blockRows : 0;
    this.nextSeq = Math.max(max === null ? 0 : Number(max) + 1, afterBlocks);
    await this.rebuildBlooms();
    // Sealed blocks a crash left in the hot table are compacted now.
    const hot = (await this.conn.runAndReadAll(`SELECT DISTINCT _seq // ${this.blockRows} FROM ${this.alias}.events ORDER BY 1`)).getRows();
    for (const [b] of hot) if (Number(b) <= this.lastSealedBlock && !this.blocks.has(Number(b))) this.toCompact.push(Number(b));
  }

  /**
   * Finds compacted blocks. A block file is complete once renamed into
   * place; its rows may still be in the hot table if the process died
   * between the rename and the delete, so they are deleted again here.
   */
  private async openBlocks(): Promise<void> {
    fs.mkdirSync(this.blockDir, { recursive: true });
    for (const name of fs.readdirSync(this.blockDir)) {
      const full = path.join(this.blockDir, name);
      if (name.endsWith('.tmp')) {
        fs.rmSync(full, { force: true });
        continue;
      }
      const m = /^b(\d+)\.parquet$/.exec(name);
      if (!m) continue;
      const block = Number(m[1]);
      const cols = new Map<string, FieldType>();
      const schema = (await this.conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${full.replace(/'/g, "''")}')`)).getRows();
      for (const [n, t] of schema) {
        const col = String(n);
        if (/^f\d+$/.test(col)) cols.set(col, fieldTypeOfSql(String(t)));
      }
      this.blocks.set(block, cols);
      await this.conn.run(`DELETE FROM ${this.alias}.events WHERE _seq >= ? AND _seq < ?`, [
        BigInt(block * this.blockRows),
        BigInt((block + 1) * this.blockRows),
      ]);
    }
  }

  blockFile(block: number): string {
    return path.join(this.blockDir, `b${String(block).padStart(6, '0')}.parquet`);
  }

  /**
   * Moves sealed blocks from the hot table into Parquet files, on its own
   * connection so that appends go on meanwhile. Runs one at a time.
   */
  compact(conn: DuckDBConnection, compressionLevel: number): Promise<void> {
    if (this.compacting || this.toCompact.length === 0) return this.compacting ?? Promise.resolve();
    this.compacting = (async () => {
      try {
        while (this.toCompact.length > 0) {
          const block = this.toCompact[0];
          const file = this.blockFile(block);
          const tmp = `${file}.tmp`;
          const lo = BigInt(block * this.blockRows);
          const hi = BigInt((block + 1) * this.blockRows);
          const columns = new Map(this.dynamicColumns);
          await conn.run(
            // No ORDER BY: rows are appended in _seq order and insertion order is preserved; sorting cost ~40 MB per block.
            `COPY (SELECT * FROM ${this.alias}.events WHERE _seq >= ${lo} AND _seq < ${hi}) TO '${tmp.replace(/'/g, "''")}' ` +
              `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${compressionLevel}, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`,
          );
          const fd = fs.openSync(tmp, 'r');
          fs.fsyncSync(fd);
          fs.closeSync(fd);
          fs.renameSync(tmp, file);
          syncDir(this.blockDir);
          this.blocks.set(block, columns);
          this.toCompact.shift();
          // The rows leave the hot table a little later: a query planned just before this moment
          // may still read them there, while queries planned after read the file (see hotStartSeq).
          this.toDelete.push({ lo, hi, at: Date.now() + DELETE_GRACE_MS });
          await this.deleteCompacted(conn, false);
        }
        await this.deleteCompacted(conn, false);
      } finally {
        this.compacting = null;
      }
    })();
    return this.compacting;
  }

  private async deleteCompacted(conn: DuckDBConnection, all: boolean): Promise<void> {
    while (this.toDelete.length > 0 && (all || this.toDelete[0].at <= Date.now())) {
      const { lo, hi } = this.toDelete[0];
      await conn.run(`DELETE FROM ${this.alias}.events WHERE _seq >= ${lo} AND _seq < ${hi}`);
      this.toDelete.shift();
    }
  }

  /** Hot rows below this sequence number belong to compacted blocks and are read from their files. */
  get hotStartSeq(): number {
    let max = -1;
    for (const b of this.blocks.keys()) if (b > max) max = b;
    return (max + 1) * this.blockRows;
  }

  /** Deletes compacted rows whose grace period is over (all of them when closing). */
  async purge(conn: DuckDBConnection, all: boolean): Promise<void> {
    await this.compacting;
    await this.deleteCompacted(conn, all);
  }

  /** Rewrites a compacted block without the rows `matchSql` selects (by `_seq`), atomically by rename. */
  async rewriteBlock(conn: DuckDBConnection, block: number, matchSql: string, params: DuckDBValue[], compressionLevel: number): Promise<void> {
    await this.compacting;
    const file = this.blockFile(block);
    const tmp = `${file}.tmp`;
    const quoted = (f: string): string => `'${f.replace(/'/g, "''")}'`;
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${quoted(file)}) WHERE _seq NOT IN (${matchSql})) TO ${quoted(tmp)} ` +
        `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${compressionLevel}, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`,
      params,
    );
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    syncDir(this.blockDir);
  }

  /** The write transaction committed: the blocks it sealed hold all their rows and may be compacted. */
  committed(): void {
    this.toCompact.push(...this.sealedUncommitted);
    this.sealedUncommitted = [];
  }

  /**
   * The write transaction rolled back: the sequence number and the open
   * block's bloom filter are read again from the rows that are really there.
   */
  async rolledBack(): Promise<void> {
    this.discardAppender();
    this.sealedUncommitted = [];
    this.sealed.length = 0;
    this.openBlock = -1;
    this.openBloom = null;
    const max = (await this.conn.runAndReadAll(`SELECT max(_seq) FROM ${this.alias}.events`)).getRows()[0][0];
    this.nextSeq = Math.max(max === null ? 0 : Number(max) + 1, this.hotStartSeq);
    await this.rebuildBlooms();
  }

  /** Sealed blocks whose rows are still in the hot table. */
  hotSealedBlocks(): number[] {
    return [...this.toCompact, ...this.sealedUncommitted];
  }

  get pendingCompaction(): number {
    return this.toCompact.length;
  }

  /**
   * After a crash, sealed blocks may lack their bloom filter (it is written
   * after the rows), and the open block's filter was only in memory: both
   * are rebuilt from the rows, which are the truth.
   */
  private async rebuildBlooms(): Promise<void> {
    const have = new Set(
      (await this.conn.runAndReadAll(`SELECT block FROM ${this.alias}.blooms`)).getRows().map((r) => Number(r[0])),
    );
    const lastBlock = Math.floor((this.nextSeq - 1) / this.blockRows);
    for (let block = 0; block <= lastBlock; block++) {
      const isOpen = block === lastBlock && this.nextSeq % this.blockRows !== 0;
      if (have.has(block) && !isOpen) continue;
      const bloom = new BloomFilter(this.bloomBits);
      const reader = await this.conn.runAndReadAll(
        `SELECT message FROM ${this.alias}.events WHERE _seq >= ? AND _seq < ? AND message IS NOT NULL`,
        [BigInt(block * this.blockRows), BigInt((block + 1) * this.blockRows)],
      );
      for (const [message] of reader.getRows()) bloom.addWords(String(message));
      if (isOpen) {
        this.openBlock = block;
        this.openBloom = bloom;
      } else {
        this.sealed.push({ block, bloom });
      }
    }
    await this.persistSealed();
  }

  /** Adds several columns in one transaction. */
  async addColumns(columns: { column: string; type: FieldType }[]): Promise<void> {
    if (columns.length === 0) return;
    this.closeAppender();
    await this.conn.run('BEGIN TRANSACTION');
    try {
      for (const { column, type } of columns) {
        await this.conn.run(`ALTER TABLE ${this.alias}.events ADD COLUMN IF NOT EXISTS ${column} ${SQL_TYPE[type]}`);
      }
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const { column, type } of columns) this.dynamicColumns.set(column, type);
  }

  /** Widens an integer column to float when a fractional number arrives. */
  async widenColumn(column: string): Promise<void> {
    this.closeAppender();
    await this.conn.run(`ALTER TABLE ${this.alias}.events ALTER ${column} TYPE DOUBLE`);
    this.dynamicColumns.set(column, 'float');
  }

  columnTypes(): DuckDBType[] {
    return [...BASE_COLUMNS.map((c) => c.type), ...[...this.dynamicColumns.values()].map((t) => DUCK_TYPE[t])];
  }

  async getAppender(): Promise<DuckDBAppender> {
    if (!this.appender) this.appender = await this.conn.createAppender('events', 'main', this.alias);
    return this.appender;
  }

  /** Records the words of a message appended with sequence number `seq`; seals the block when it fills. */
  indexMessage(seq: number, message: string | null): void {
    const block = Math.floor(seq / this.blockRows);
    if (block !== this.openBlock) {
      if (this.openBloom) {
        this.sealed.push({ block: this.openBlock, bloom: this.openBloom });
        this.sealedUncommitted.push(this.openBlock);
      }
      this.openBlock = block;
      this.openBloom = new BloomFilter(this.bloomBits);
    }
    if (message !== null) (this.openBloom as BloomFilter).addWords(message);
  }

  /** Commits appended rows (DuckDB writes and syncs its WAL), then stores the filters of blocks sealed meanwhile. */
  async flush(): Promise<void> {
    this.appender?.flushSync();
    await this.persistSealed();
  }

  private async persistSealed(): Promise<void> {
    while (this.sealed.length > 0) {
      const { block, bloom } = this.sealed[0];
      await this.conn.run(`INSERT OR REPLACE INTO ${this.alias}.blooms VALUES (?, ?)`, [
        BigInt(block),
        new DuckDBBlobValue(new Uint8Array(bloom.toBytes())),
      ]);
      this.sealed.shift();
    }
  }

  get lastSealedBlock(): number {
    return Math.floor(this.nextSeq / this.blockRows) - 1;
  }

  /** After a failed transaction: drops rows the appender still holds, so they can never be committed later. */
  discardAppender(): void {
    if (!this.appender) return;
    try {
      this.appender.clear();
      this.appender.closeSync();
    } catch {
      // the appender is unusable either way; a new one is made on the next write
    }
    this.appender = null;
  }

  closeAppender(): void {
    if (this.appender) {
      this.appender.flushSync();
      this.appender.closeSync();
      this.appender = null;
    }
  }

  async checkpoint(): Promise<void> {
    this.closeAppender();
    await this.conn.run(`CHECKPOINT ${this.alias}`);
  }

  async detach(): Promise<void> {
    await this.compacting;
    this.closeAppender();
    await this.conn.run(`DETACH ${this.alias}`);
  }

  /** Detaches and deletes every file of this day. */
  async drop(): Promise<void> {
    await this.detach();
    fs.rmSync(this.file, { force: true });
    fs.rmSync(`${this.file}.wal`, { force: true });
    fs.rmSync(this.blockDir, { recursive: true, force: true });
  }

  sizeOnDisk(): number {
    let total = 0;
    for (const f of [this.file, `${this.file}.wal`, ...[...this.blocks.keys()].map((b) => this.blockFile(b))]) {
      try {
        total += fs.statSync(f).size;
      } catch {
        // a WAL exists only between checkpoints
      }
    }
    return total;
  }

  static fileFor(dir: string, day: number): string {
    return path.join(dir, `${day}.duckdb`);
  }
}


function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fieldTypeOfSql(sql: string): FieldType {
  if (sql === 'BIGINT') return 'integer';
  if (sql === 'DOUBLE') return 'float';
  if (sql === 'BOOLEAN') return 'boolean';
  if (sql.startsWith('TIMESTAMP')) return 'timestamp';
  return 'string';
}
