/**
 * One day of events in its own DuckDB file, attached to the store's
 * instance. A whole day is the unit of retention (delete the file, the disk
 * is free) and of pruning (a query opens only the days its range covers).
 *
 * Rows carry `_seq`, a per-partition sequence number: rows are appended in
 * `_seq` order, so blocks of BLOCK_ROWS consecutive `_seq` values line up
 * with DuckDB's row groups, and a filter on `_seq` lets DuckDB skip row
 * groups by their min/max. Each sealed block has a bloom filter of the
 * words of its messages; the open block has none and is always scanned.
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
} from '@duckdb/node-api';
import type { FieldType } from '../../core/event.js';
import { hashWords } from '../../core/tokens.js';
import { BloomFilter } from '../bloom.js';
import { SQL_TYPE } from './catalog.js';

/** DuckDB's row group size, so that a block is one row group. */
export const BLOCK_ROWS = 122_880;

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

  constructor(
    readonly day: number,
    readonly file: string,
    private readonly conn: DuckDBConnection,
    private readonly bloomBits: number,
  ) {
    this.alias = `p${day}`;
  }

  async open(): Promise<void> {
    // STORAGE_VERSION latest: zstd for text needs it, and it roughly halves what the default layout keeps on disk.
    await this.conn.run(`ATTACH IF NOT EXISTS '${this.file.replace(/'/g, "''")}' AS ${this.alias} (STORAGE_VERSION 'latest')`);
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
    const max = (await this.conn.runAndReadAll(`SELECT max(_seq) FROM ${this.alias}.events`)).getRows()[0][0];
    this.nextSeq = max === null ? 0 : Number(max) + 1;
    await this.rebuildBlooms();
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
    const lastBlock = Math.floor((this.nextSeq - 1) / BLOCK_ROWS);
    for (let block = 0; block <= lastBlock; block++) {
      const isOpen = block === lastBlock && this.nextSeq % BLOCK_ROWS !== 0;
      if (have.has(block) && !isOpen) continue;
      const bloom = new BloomFilter(this.bloomBits);
      const reader = await this.conn.runAndReadAll(
        `SELECT message FROM ${this.alias}.events WHERE _seq >= ? AND _seq < ? AND message IS NOT NULL`,
        [BigInt(block * BLOCK_ROWS), BigInt((block + 1) * BLOCK_ROWS)],
      );
      const add = (h1: number, h2: number): void => bloom.add(h1, h2);
      for (const [message] of reader.getRows()) hashWords(String(message), add);
      if (isOpen) {
        this.openBlock = block;
        this.openBloom = bloom;
      } else {
        this.sealed.push({ block, bloom });
      }
    }
    await this.persistSealed();
  }

  /** Adds a column for a field this partition has not seen. The appender must be reopened. */
  async addColumn(column: string, type: FieldType): Promise<void> {
    this.closeAppender();
    await this.conn.run(`ALTER TABLE ${this.alias}.events ADD COLUMN IF NOT EXISTS ${column} ${SQL_TYPE[type]}`);
    this.dynamicColumns.set(column, type);
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
    const block = Math.floor(seq / BLOCK_ROWS);
    if (block !== this.openBlock) {
      if (this.openBloom) this.sealed.push({ block: this.openBlock, bloom: this.openBloom });
      this.openBlock = block;
      this.openBloom = new BloomFilter(this.bloomBits);
    }
    if (message !== null) {
      const bloom = this.openBloom as BloomFilter;
      hashWords(message, (h1, h2) => bloom.add(h1, h2));
    }
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
    return Math.floor(this.nextSeq / BLOCK_ROWS) - 1;
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
    this.closeAppender();
    await this.conn.run(`DETACH ${this.alias}`);
  }

  sizeOnDisk(): number {
    let total = 0;
    for (const f of [this.file, `${this.file}.wal`]) {
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


function fieldTypeOfSql(sql: string): FieldType {
  if (sql === 'BIGINT') return 'integer';
  if (sql === 'DOUBLE') return 'float';
  if (sql === 'BOOLEAN') return 'boolean';
  if (sql.startsWith('TIMESTAMP')) return 'timestamp';
  return 'string';
}
