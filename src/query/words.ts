/**
 * What a filter tells a token index: the condition a block's bloom filter
 * must meet for the block to possibly hold a match. The filter holds the keys
 * of message words, of word n-grams inside space-free tokens (so that
 * `10.0.0.1`, whose words are everywhere, is still rare as a whole), and of
 * the values of every other field under that field's own seeds
 * (core/tokens.ts). Anything else leaves the block in.
 */
import { queryChunks, textKeys } from '../core/tokens.js';
import type { FilterNode } from './ast.js';
import { wholeValueMatch, type ColumnRef } from './dialects/dialect.js';
import { containsWords } from './match.js';

export interface WordSet {
  mayContain(h1: number, h2: number): boolean;
  /**
   * The block's values of a column, lower-cased, when they are known exactly (the facet
   * counts of host, source and level): tested instead of the filter, which may be wrong.
   */
  valuesOf?(column: string): ReadonlySet<string> | undefined;
}

export type BlockCondition = (set: WordSet) => boolean;

/** What the index needs to know of fields: their columns, and the string fields a bare word also looks in. */
export interface IndexScope {
  resolve(field: string): ColumnRef | undefined;
  bareColumns(value: string): ColumnRef[];
}

/** Whether a field's values are in the index: plain string columns of their own (not lists, ids or overflowed values). */
export function indexedColumn(ref: ColumnRef | undefined): ref is ColumnRef & { column: string } {
  return !!ref && ref.type === 'string' && !ref.fullText && !ref.list && !ref.overflow && ref.column !== null && /^(host|source|level|f\d+)$/.test(ref.column);
}

/**
 * The condition for a block to possibly hold `value` in `column`: as its whole value (`whole`), or as
 * words in a row in it. A value's words and n-grams are keys of the field either way; where the block's
 * values are known exactly (facets), they are tested instead, whole or by their words.
 */
function allKeys(value: string, column: string, whole: boolean): BlockCondition | null {
  const keys = textKeys(value, column);
  if (keys.length === 0) return null;
  if (column === 'message') return (set) => keys.every(([a, b]) => set.mayContain(a, b));
  const lower = value.toLowerCase();
  const chunks = queryChunks(value);
  return (set) => {
    const exact = set.valuesOf?.(column);
    if (!exact) return keys.every(([a, b]) => set.mayContain(a, b));
    if (whole) return exact.has(lower);
    for (const v of exact) if (containsWords(v, chunks)) return true;
    return false;
  };
}

/** Whether a block may hold the words of `value` in a row in `column` (see allKeys). */
export function mayHoldWords(set: WordSet, value: string, column: string): boolean {
  return allKeys(value, column, false)?.(set) ?? true;
}

/** Returns a predicate over a block's key set, or null when the filter cannot prune any block. */
export function bloomCondition(node: FilterNode, scope?: IndexScope): BlockCondition | null {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      if (node.field === null || node.field === 'message') {
        const inMessage = allKeys(node.value, 'message', false);
        if (node.field !== null || !scope || !inMessage) return inMessage;
        const others: BlockCondition[] = [];
        for (const ref of scope.bareColumns(node.value)) {
          // A bare word also matches words of other string fields; one the index cannot see keeps every block.
          const c = indexedColumn(ref) ? allKeys(node.value, ref.column, false) : null;
          if (!c) return null;
          others.push(c);
        }
        return others.length === 0 ? inMessage : (set) => inMessage(set) || others.some((c) => c(set));
      }
      const ref = scope?.resolve(node.field);
      if (!indexedColumn(ref)) return null;
      return allKeys(node.value, ref.column, wholeValueMatch(ref, node.kind === 'term' && node.exact === true) !== null);
    }
    case 'and': {
      const parts = node.children.map((c) => bloomCondition(c, scope)).filter((c): c is BlockCondition => c !== null);
      if (parts.length === 0) return null;
      return (set) => parts.every((p) => p(set));
    }
    case 'or': {
      const parts = node.children.map((c) => bloomCondition(c, scope));
      if (parts.some((p) => p === null)) return null;
      return (set) => parts.some((p) => (p as BlockCondition)(set));
    }
    default:
      return null;
  }
}

/** The values of the bare words and phrases in a filter (those without a field). */
export function bareValues(node: FilterNode): string[] {
  switch (node.kind) {
    case 'term':
    case 'phrase':
      return node.field === null ? [node.value] : [];
    case 'and':
    case 'or':
      return node.children.flatMap(bareValues);
    case 'not':
      return bareValues(node.child);
    default:
      return [];
  }
}
