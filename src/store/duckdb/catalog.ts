/**
 * The field registry: every field ever seen, its type, where its values
 * live (a typed column, or the overflow map) and which other types arrived
 * for it. Like Elasticsearch's dynamic mapping, a field's type is set on
 * first sight; unlike it, a value of another type is never refused: it goes
 * to the overflow map, stays searchable, and the conflict is listed.
 *
 * Column identifiers are generated (`f<id>`): DuckDB identifiers are
 * case-insensitive and field names are written by strangers.
 */
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import type { FieldType } from '../../core/event.js';

export interface FieldEntry {
  id: number;
  name: string;
  type: FieldType;
  /** Column identifier in partition tables, or null when the field lives in the overflow map. */
  column: string | null;
  conflicts: Set<FieldType>;
  /** `,"<column>":`, as segment lines spell the column's key; derived, kept so that encoding does not build it per event. */
  lineKey?: string;
}

/** Core fields with fixed columns. `tags` is a list of strings. */
// A null prototype: field names such as `toString` or `constructor` must not find inherited members.
type FixedColumn = { column: string; type: FieldType; list?: boolean };
export const FIXED_COLUMNS: Record<string, FixedColumn | undefined> = Object.assign(Object.create(null) as Record<string, FixedColumn | undefined>, {
  '@timestamp': { column: 'ts', type: 'timestamp' },
  message: { column: 'message', type: 'string' },
  host: { column: 'host', type: 'string' },
  source: { column: 'source', type: 'string' },
  level: { column: 'level', type: 'string' },
  tags: { column: 'tags', type: 'string', list: true },
  _index: { column: '_index', type: 'string' },
} satisfies Record<string, FixedColumn>);

export const SQL_TYPE: Record<FieldType, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  float: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

export class Catalog {
  private readonly byName = new Map<string, FieldEntry>();
  private readonly byColumn = new Map<string, FieldEntry>();
  private nextId = 1;
  /** Grows whenever a field is added: a query that read rows under an older version may miss new columns. */
  version = 0;
  private columnCount = 0;
  /** Statements on the catalog's connection, one at a time: updateAll's transaction must not take in another write's insert. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly maxColumns: number,
  ) {}

  async load(): Promise<void> {
    await this.conn.run(
      'CREATE TABLE IF NOT EXISTS fields (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, type VARCHAR NOT NULL, col VARCHAR, conflicts VARCHAR NOT NULL)',
    );
    const rows = (await this.conn.runAndReadAll('SELECT id, name, type, col, conflicts FROM fields ORDER BY id')).getRows();
    for (const [id, name, type, col, conflicts] of rows) {
      const entry: FieldEntry = {
        id: Number(id),
        name: String(name),
        type: String(type) as FieldType,
        column: col === null ? null : String(col),
        conflicts: new Set(String(conflicts).split(',').filter(Boolean) as FieldType[]),
      };
      this.byName.set(entry.name, entry);
      this.nextId = Math.max(this.nextId, entry.id + 1);
      if (entry.column) {
        this.columnCount++;
        this.byColumn.set(entry.column, entry);
      }
    }
  }

  get(name: string): FieldEntry | undefined {
    return this.byName.get(name);
  }

  /** The field stored in column `column` (an `f<id>` identifier). */
  ofColumn(column: string): FieldEntry | undefined {
    return this.byColumn.get(column);
  }

  all(): FieldEntry[] {
    return [...this.byName.values()];
  }

  /** Registers fields on first sight, durably, before any partition gets their columns; in one statement, as an event may bring thousands. */
  async addAll(fields: Map<string, FieldType>): Promise<void> {
    const added: FieldEntry[] = [];
    for (const [name, type] of fields) {
      if (this.byName.has(name)) continue;
      const id = this.nextId++;
      const column = this.columnCount < this.maxColumns ? `f${id}` : null;
      if (column) this.columnCount++;
      const entry: FieldEntry = { id, name, type, column, conflicts: new Set() };
      this.byName.set(name, entry);
      if (column) this.byColumn.set(column, entry);
      added.push(entry);
    }
    if (added.length === 0) return;
    this.version++;
    // One statement for all of them: thousands of single-row statements in a transaction
    // cost DuckDB a storage block each and exhausted its memory.
    try {
      await this.exclusive(() => this.conn.run(
        'INSERT INTO fields SELECT unnest($1::INTEGER[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::VARCHAR[]), unnest($5::VARCHAR[])',
        [
          listValue(added.map((e) => e.id)),
          listValue(added.map((e) => e.name)),
          listValue(added.map((e) => e.type)),
          listValue(added.map((e) => e.column)),
          listValue(added.map(() => '')),
        ],
      ));
    } catch (err) {
      for (const e of added) {
        this.byName.delete(e.name);
        if (e.column) this.byColumn.delete(e.column);
      }
      throw err;
    }
  }

  /** Saves changed entries (types, conflicts) with two statements, however many there are. */
  async updateAll(entries: FieldEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.exclusive(() => this.updateNow(entries));
  }

  private async updateNow(entries: FieldEntry[]): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      await this.conn.run('DELETE FROM fields WHERE id IN (SELECT unnest($1::INTEGER[]))', [listValue(entries.map((e) => e.id))]);
      await this.conn.run(
        'INSERT INTO fields SELECT unnest($1::INTEGER[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::VARCHAR[]), unnest($5::VARCHAR[])',
        [
          listValue(entries.map((e) => e.id)),
          listValue(entries.map((e) => e.name)),
          listValue(entries.map((e) => e.type)),
          listValue(entries.map((e) => e.column)),
          listValue(entries.map((e) => [...e.conflicts].join(','))),
        ],
      );
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async update(entry: FieldEntry): Promise<void> {
    await this.persist(entry);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async persist(e: FieldEntry): Promise<void> {
    await this.exclusive(() => this.conn.run('INSERT OR REPLACE INTO fields VALUES (?, ?, ?, ?, ?)', [
      e.id,
      e.name,
      e.type,
      e.column,
      [...e.conflicts].join(','),
    ]));
  }
}
