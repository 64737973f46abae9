/**
 * What a SQL dialect needs to know about fields, supplied by the store that
 * owns the columns. Dialects never see column names chosen by users: field
 * names map to identifiers the store generated.
 */
import type { FieldType } from '../../core/event.js';

export interface ColumnRef {
  /** The field's name, as users write it; the overflow map is keyed by it. */
  name: string;
  type: FieldType;
  /** SQL expression for the field's typed column, or null when its values live only in the overflow map. */
  column: string | null;
  /** True when some of the field's values are kept in the overflow map (type conflicts, or past the column limit). */
  overflow: boolean;
  /** Full-text field (`message`): terms match whole words, not the whole value. */
  fullText: boolean;
  /** A list column (`tags`): terms match any element. */
  list?: boolean;
}

export interface DialectContext {
  resolve(field: string): ColumnRef | undefined;
  /** Registers a parameter and returns its placeholder. Every user value goes through here. */
  param(value: string | number | boolean): string;
  nowMs: number;
  /**
   * The string fields other than `message` in which a bare word (`bad3e66365154cd4`, no field)
   * may be the whole value, as the store's index says; none when absent (message only).
   */
  bareColumns?(value: string): ColumnRef[];
}
