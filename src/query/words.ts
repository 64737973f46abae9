/**
 * What a filter tells a token index: the condition a block's bloom filter
 * must meet for the block to possibly hold a match. Only full-text words can
 * be checked; anything else leaves the block in.
 */
import { hashWord, isAscii, words } from '../core/tokens.js';
import type { FilterNode } from './ast.js';

export interface WordSet {
  mayContain(h1: number, h2: number): boolean;
}

/** Returns a predicate over a block's word set, or null when the filter cannot prune any block. */
export function bloomCondition(node: FilterNode): ((set: WordSet) => boolean) | null {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      if (node.field !== null && node.field !== 'message') return null;
      const hashes = words(node.value)
        .filter(isAscii)
        .map((w) => hashWord(w));
      if (hashes.length === 0) return null;
      return (set) => hashes.every(([a, b]) => set.mayContain(a, b));
    }
    case 'and': {
      const parts = node.children.map(bloomCondition).filter((c): c is (s: WordSet) => boolean => c !== null);
      if (parts.length === 0) return null;
      return (set) => parts.every((p) => p(set));
    }
    case 'or': {
      const parts = node.children.map(bloomCondition);
      if (parts.some((p) => p === null)) return null;
      return (set) => parts.some((p) => (p as (s: WordSet) => boolean)(set));
    }
    default:
      return null;
  }
}
