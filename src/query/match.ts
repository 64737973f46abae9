/**
 * A filter evaluated on one event in memory, for live tail: events are matched as they are
 * stored, without a query to the store. It follows the store's SQL dialect (./dialects/duckdb.ts)
 * rule for rule, so that a tail shows what a search for the same query would find:
 * - `message` and bare words (in any string field) match whole words, a phrase its words in a row, case-insensitively;
 * - other string fields match by their words too (`f.keyword` the whole value, exactly; `_id`, `_index`
 *   and list elements their whole value); numbers and booleans by value; a list when one element matches;
 * - wildcards match the whole value (or one word of the message);
 * - ranges compare numbers, and times for `@timestamp` and ISO-8601 values.
 */
import { parseTimeExpr } from '../core/time.js';
import { asciiLower, queryChunks, words, wordsWithJoins } from '../core/tokens.js';
import type { FilterNode } from './ast.js';
import { KEYWORD_SUFFIX } from './dialects/dialect.js';

/** An event as matched: its time in microseconds and its fields by name (`_id`, `_index` included). */
export interface MatchableEvent {
  ts: number;
  fields: Record<string, unknown>;
}

export type Matcher = (event: MatchableEvent) => boolean;

/** Compiles a filter once into a function; `nowMs` fixes `now` in date math, as a query does when it starts. */
export function compileMatcher(node: FilterNode, nowMs = Date.now()): Matcher {
  switch (node.kind) {
    case 'all':
      return () => true;
    case 'and': {
      const parts = node.children.map((c) => compileMatcher(c, nowMs));
      return (e) => parts.every((p) => p(e));
    }
    case 'or': {
      const parts = node.children.map((c) => compileMatcher(c, nowMs));
      return (e) => parts.some((p) => p(e));
    }
    case 'not': {
      const child = compileMatcher(node.child, nowMs);
      return (e) => !child(e);
    }
    case 'exists':
      return (e) => valueOf(e, node.field) != null;
    case 'term':
    case 'phrase': {
      const field = node.field ?? 'message';
      if (field === 'message') {
        const inMessage = textMatcher('message', node.value);
        if (node.field !== null) return inMessage;
        // A bare word: words of the message or of any other string field.
        const test = wordsTest(node.value);
        return (e) => {
          if (inMessage(e)) return true;
          for (const name in e.fields) {
            if (BARE_EXCLUDED.has(name)) continue;
            const v = e.fields[name];
            if (typeof v === 'string' && test(v)) return true;
          }
          return false;
        };
      }
      if (field.endsWith(KEYWORD_SUFFIX)) {
        // `f.keyword`, when no field has that name: f's whole value, case-sensitively.
        const base = field.slice(0, -KEYWORD_SUFFIX.length);
        return (e) => {
          const own = e.fields[field];
          return own !== undefined ? anyValue(own, (v) => String(v) === node.value) : anyValue(valueOf(e, base), (v) => typeof v === 'string' && v === node.value);
        };
      }
      const lower = node.value.toLowerCase();
      const n = Number(node.value);
      const numeric = node.value.trim() !== '' && Number.isFinite(n);
      const byWords = !(node.kind === 'term' && node.exact === true) && !WHOLE_VALUE_FIELDS.has(field);
      const test = wordsTest(node.value);
      return (e) =>
        anyValue(valueOf(e, field), (v) => {
          if (typeof v === 'number') return numeric && v === n;
          if (typeof v === 'boolean') return String(v) === lower;
          // Lists (tags) match an element whole, as the store's list columns do.
          if (byWords && !Array.isArray(e.fields[field])) return test(String(v));
          return String(v).toLowerCase() === lower;
        });
    }
    case 'wildcard': {
      const field = node.field ?? 'message';
      const re = wildcardRegExp(node.pattern, field === 'message');
      if (field === 'message') return (e) => anyValue(valueOf(e, field), (v) => words(String(v)).some((w) => re.test(w)));
      return (e) => anyValue(valueOf(e, field), (v) => re.test(String(v)));
    }
    case 'range': {
      const isTime = node.field === '@timestamp';
      const bound = (text: string | undefined, roundUp: boolean): number | undefined => {
        if (text === undefined) return undefined;
        const n = Number(text);
        if (!isTime && text.trim() !== '' && Number.isFinite(n)) return n;
        const micros = parseTimeExpr(text, nowMs, roundUp);
        return micros === null ? Number.NaN : micros;
      };
      const gt = bound(node.gt, true);
      const gte = bound(node.gte, false);
      const lt = bound(node.lt, false);
      const lte = bound(node.lte, true);
      const timeBounds = [node.gt, node.gte, node.lt, node.lte].some((b) => b !== undefined && !Number.isFinite(Number(b)));
      return (e) =>
        anyValue(valueOf(e, node.field), (v) => {
          let x: number;
          if (isTime) x = e.ts;
          else if (typeof v === 'number') x = v;
          else if (typeof v === 'string' && timeBounds) x = Date.parse(v) * 1000;
          else if (typeof v === 'string' && v.trim() !== '') x = Number(v);
          else return false;
          if (!Number.isFinite(x)) return false;
          return (gt === undefined || x > gt) && (gte === undefined || x >= gte) && (lt === undefined || x < lt) && (lte === undefined || x <= lte);
        });
    }
  }
}

/** Fields a bare word does not look in: the message is matched by word, ids and index names not at all. */
const BARE_EXCLUDED = new Set(['message', '_id', '_index', 'tags', '@timestamp']);

/** String fields matched by their whole value, as the store does (ids, index names, list elements). */
const WHOLE_VALUE_FIELDS = new Set(['_id', '_index', 'tags']);

/** The words of `value` in a row in a field's text (a value without words: its text, case-insensitively). */
function textMatcher(field: string, value: string): Matcher {
  const test = wordsTest(value);
  return (e) => anyValue(valueOf(e, field), (v) => test(String(v)));
}

function wordsTest(value: string): (text: string) => boolean {
  const wanted = queryChunks(value);
  if (wanted.length === 0) {
    const literal = value.toLowerCase();
    return (text) => text.toLowerCase().includes(literal);
  }
  return (text) => containsWords(text, wanted);
}

function valueOf(e: MatchableEvent, field: string): unknown {
  if (field === '@timestamp') return e.ts;
  return e.fields[field];
}

function anyValue(v: unknown, test: (x: string | number | boolean) => boolean): boolean {
  if (v === null || v === undefined) return false;
  if (Array.isArray(v)) return v.some((x) => x !== null && x !== undefined && test(x as string | number | boolean));
  return test(v as string | number | boolean);
}

/**
 * True when the chunks' words occur as consecutive words of `text`, each chunk's inside one
 * space-free token (the dialect's punctuation-only runs between them, NON_WORD+ between chunks).
 */
export function containsWords(text: string, chunks: string[][]): boolean {
  const wanted = chunks.flat();
  const lower = text.toLowerCase();
  // Cheap test first, as the dialect does with contains(): most events do not hold the longest word at all.
  if (!wanted.every((w) => lower.includes(w.toLowerCase()))) return false;
  const mustJoin = chunks.flatMap((ws) => ws.map((_w, i) => i > 0));
  const have = wordsWithJoins(text);
  for (let i = 0; i + wanted.length <= have.words.length; i++) {
    let ok = true;
    for (let j = 0; j < wanted.length && ok; j++) ok = sameWord(have.words[i + j], wanted[j]) && (!mustJoin[j] || have.joined[i + j]);
    if (ok) return true;
  }
  return false;
}

/** Words compare case-insensitively, as the dialect's `(?i)` regular expression does (non-ASCII included). */
function sameWord(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

function wildcardRegExp(pattern: string, oneWord: boolean): RegExp {
  let re = '';
  const any = oneWord ? '[0-9A-Za-z_\\u0080-\\u{10FFFF}]' : '[^]';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (ch === '*') re += `${any}*`;
    else if (ch === '?') re += any;
    else re += escapeRe(oneWord ? asciiLower(ch) : ch);
  }
  return new RegExp(`^${re}$`, 'iu');
}

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
