/**
 * Fuzz test for the query parser: seeded, so every run checks the same inputs and a
 * failure can be reproduced from the printed case. For each input, parseQuery must
 * either return a well-formed Query or throw a QuerySyntaxError with a sane position,
 * and never anything else (no TypeError, no RangeError from a stack overflow, no hang).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuerySyntaxError } from '../../src/query/ast.js';
import type { FilterNode, Query } from '../../src/query/ast.js';
import { MAX_DEPTH, MAX_QUERY_BYTES, MAX_ROW_COUNT, parseQuery } from '../../src/query/parse.js';
import { Gen } from '../helpers/prng.js';


/** Pieces of the grammar, valid and broken, to build token soup from. */
const PIECES = [
  'a', 'error', 'web-01', 'héllo', '日本', '😀', 'AND', 'OR', 'NOT', 'TO', 'and', 'or', 'not', '&&', '||', '&', '!', '-', '+',
  '(', ')', '((', '))', '"', '"x y"', '"a | b"', '""', '\\', '\\"', '\\\\', '\\*', '\\:', ':', '::', 'status', 'status:',
  '@timestamp:', 'http.response.status', 'user-agent', '_exists_', '_exists_:', '*', '?', 'err*', 'h?st', '*:*', '[', ']',
  '{', '}', '[1 TO 5]', '{* TO *}', '[now-1h TO now/d}', '>', '>=', '<', '<=', '>now-1h', '2026-11-01T00:00:00Z', 'now-1h',
  '|', '| ', 'stats', 'STATS', 'count()', 'count(*)', 'count', 'avg(x)', 'p95(d)', 'p99.9(d)', 'p0(d)', 'median(x)',
  'dcount(ip)', 'uniq(', 'sum', 'by', 'as', 'sort', 'sort by', '-bytes', 'desc', 'asc', 'fields', 'head', 'limit', 'top',
  '10', '0', '1000001', '-1', '1.5', ',', ', ', ' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u3000', 'x:(a OR b)',
];

/** Valid queries, mutated by the mutation generator. */
const VALID = [
  'status:500 AND host:web-* | stats count() by host | sort -count | head 10',
  '@timestamp:>now-1h -level:debug',
  'status:[500 TO 599] OR bytes:{* TO 1000]',
  'host:(web-* OR "x y" OR db) NOT _exists_:error',
  'path:\\/api\\/v1 "connection refused" | top 5 host, path',
  'a b OR c && !d || (e AND (f OR g)) | stats count(), avg(duration), p95(duration) as slow by path, host',
  '* | sort by bytes desc, host asc | fields a, b | limit 100',
  'bytes:([1 TO 5] OR >100) | stats dcount(ip) as ips, median(d) | sort -ips',
];

const RANDOM_CHARS = ' ()[]{}"\\:*?|&!-+<>=,.@_/~^aZ09\t\n';

function randomAscii(g: Gen): string {
  let s = '';
  const n = g.int(60);
  for (let i = 0; i < n; i++) s += g.chance(0.6) ? g.pick(RANDOM_CHARS) : String.fromCharCode(32 + g.int(95));
  return s;
}

function randomUnicode(g: Gen): string {
  let s = '';
  const n = g.int(40);
  for (let i = 0; i < n; i++) {
    const kind = g.int(5);
    if (kind === 0) s += String.fromCharCode(g.int(0x20)); // control characters
    else if (kind === 1) s += String.fromCharCode(0xd800 + g.int(0x800)); // lone surrogates
    else if (kind === 2) s += String.fromCodePoint(0x10000 + g.int(0x10ffff - 0x10000)); // astral
    else if (kind === 3) s += String.fromCharCode(g.int(0x10000));
    else s += g.pick(RANDOM_CHARS);
  }
  return s;
}

function tokenSoup(g: Gen): string {
  let s = '';
  const n = 1 + g.int(25);
  for (let i = 0; i < n; i++) s += g.pick(PIECES) + (g.chance(0.5) ? ' ' : '');
  return s;
}

function deepNesting(g: Gen): string {
  const n = g.int(400);
  const m = g.int(400);
  switch (g.int(7)) {
    case 0:
      return '('.repeat(n) + 'a' + ')'.repeat(m);
    case 1:
      return 'NOT '.repeat(n) + 'a';
    case 2:
      return '-'.repeat(n) + g.pick(['a', '', '(b)', ' ']);
    case 3:
      return 'f:('.repeat(n) + 'x' + ')'.repeat(m);
    case 4:
      return '(!'.repeat(n) + 'a' + ')'.repeat(m);
    case 5:
      return '+'.repeat(n) + '!'.repeat(m) + 'a';
    default:
      return '( a OR '.repeat(n) + 'b' + ' )'.repeat(m);
  }
}

function longInput(g: Gen): string {
  switch (g.int(6)) {
    case 0:
      return 'a OR '.repeat(g.int(14000)) + 'b';
    case 1:
      return 'x'.repeat(MAX_QUERY_BYTES - 2 + g.int(5));
    case 2:
      return '"' + 'y'.repeat(g.int(70000));
    case 3:
      return 'f:'.repeat(g.int(30000));
    case 4:
      return '| head 1 '.repeat(g.int(7000));
    default:
      return '\\'.repeat(g.int(70000));
  }
}

function unbalancedQuotes(g: Gen): string {
  let s = '';
  const n = 1 + g.int(12);
  for (let i = 0; i < n; i++) s += g.pick(['"', '\\"', '\\\\"', 'a', ' ', 'f:', '|', '"b c"', '\\']);
  return s;
}

function mutated(g: Gen): string {
  let s = g.pick(VALID);
  const edits = 1 + g.int(4);
  for (let i = 0; i < edits; i++) {
    const at = g.int(s.length + 1);
    const op = g.int(3);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1); // delete
    else if (op === 1) s = s.slice(0, at) + g.pick(RANDOM_CHARS) + s.slice(at); // insert
    else s = s.slice(0, at) + g.pick(PIECES) + s.slice(at + 1); // replace
  }
  return s;
}

/** Checks the invariants of a tree that parsed; returns its depth. */
function checkFilter(node: FilterNode, text: string): number {
  switch (node.kind) {
    case 'all':
      return 1;
    case 'and':
    case 'or': {
      assert.ok(node.children.length >= 2, `${node.kind} with fewer than 2 children`);
      let depth = 0;
      for (const child of node.children) {
        assert.notEqual(child.kind, node.kind, `${node.kind} not flattened`);
        depth = Math.max(depth, checkFilter(child, text));
      }
      return depth + 1;
    }
    case 'not':
      return checkFilter(node.child, text) + 1;
    default: {
      const { start, end } = node.span;
      assert.ok(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= text.length, 'bad span');
      if (node.kind === 'term') assert.ok(node.value.length > 0, 'empty term');
      if (node.kind === 'range') {
        assert.ok(node.gt !== undefined || node.gte !== undefined || node.lt !== undefined || node.lte !== undefined);
        assert.ok(!(node.gt !== undefined && node.gte !== undefined) && !(node.lt !== undefined && node.lte !== undefined));
      }
      return 1;
    }
  }
}

function checkQuery(query: Query, text: string): void {
  const depth = checkFilter(query.filter, text);
  // Parentheses add no node, so the tree is at most NOT-deep plus alternating and/or.
  assert.ok(depth <= 2 * MAX_DEPTH + 2, `tree too deep: ${depth}`);
  for (const pipe of query.pipes) {
    assert.ok(pipe.span.start >= 0 && pipe.span.start < pipe.span.end && pipe.span.end <= text.length, 'bad pipe span');
    switch (pipe.kind) {
      case 'head':
      case 'top':
        assert.ok(Number.isInteger(pipe.n) && pipe.n >= 0 && pipe.n <= MAX_ROW_COUNT, `bad n ${pipe.n}`);
        if (pipe.kind === 'top') assert.ok(pipe.fields.length > 0);
        break;
      case 'stats': {
        assert.ok(pipe.aggs.length > 0);
        const names = [...pipe.aggs.map((a) => a.name), ...pipe.by];
        assert.equal(new Set(names).size, names.length, 'duplicate stats columns');
        for (const agg of pipe.aggs) {
          assert.ok(agg.name.length > 0);
          if (agg.fn === 'percentile') assert.ok(agg.percentile !== undefined && agg.percentile > 0 && agg.percentile <= 100);
          else assert.equal(agg.percentile, undefined);
          if (agg.fn !== 'count') assert.ok(agg.field !== undefined);
        }
        break;
      }
      case 'sort':
        assert.ok(pipe.keys.length > 0);
        break;
      case 'fields':
        assert.ok(pipe.fields.length > 0);
        break;
    }
  }
}

/** Parses `text` and checks that it either parsed well or failed with a proper QuerySyntaxError. */
function check(text: string, label: string): 'ok' | 'error' {
  let query: Query;
  try {
    query = parseQuery(text);
  } catch (e) {
    if (!(e instanceof QuerySyntaxError)) {
      assert.fail(`${label}: ${JSON.stringify(text.slice(0, 200))} threw ${String(e)}`);
    }
    const where = `${label}: ${JSON.stringify(text.slice(0, 200))}: ${e.message}`;
    assert.ok(Number.isInteger(e.position) && e.position >= 0 && e.position <= text.length, `bad position ${e.position} in ${where}`);
    assert.ok(Array.isArray(e.expected) && e.expected.every((x) => typeof x === 'string'), `bad expected in ${where}`);
    assert.ok(e.message.includes(`position ${e.position}`), `message does not name its position in ${where}`);
    return 'error';
  }
  try {
    checkQuery(query, text);
  } catch (e) {
    assert.fail(`${label}: ${JSON.stringify(text.slice(0, 200))}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return 'ok';
}

const GENERATORS: [string, (g: Gen) => string, number][] = [
  ['random ascii', randomAscii, 6000],
  ['random unicode', randomUnicode, 3000],
  ['token soup', tokenSoup, 8000],
  ['mutated valid query', mutated, 4000],
  ['unbalanced quotes', unbalancedQuotes, 1500],
  ['deep nesting', deepNesting, 1500],
  ['long input', longInput, 60],
];

describe('parseQuery fuzz', () => {
  for (const [name, generate, count] of GENERATORS) {
    it(`${name}: ${count} inputs parse or fail with QuerySyntaxError`, () => {
      const g = new Gen(0x10c3111 + count + name.length);
      for (let i = 0; i < count; i++) check(generate(g), `${name} #${i}`);
    });
  }

  it('the same input always gives the same result', () => {
    const g = new Gen(42);
    for (let i = 0; i < 500; i++) {
      const text = tokenSoup(g);
      let first: unknown;
      let second: unknown;
      try {
        first = parseQuery(text);
      } catch (e) {
        first = e instanceof QuerySyntaxError ? [e.message, e.position, e.expected] : e;
      }
      try {
        second = parseQuery(text);
      } catch (e) {
        second = e instanceof QuerySyntaxError ? [e.message, e.position, e.expected] : e;
      }
      assert.deepEqual(second, first, JSON.stringify(text));
    }
  });

  it('token soup yields both successes and errors', () => {
    // If every soup failed (or parsed), the fuzzer would not be exercising the parser's depth.
    const g = new Gen(7);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 2000; i++) outcomes[check(tokenSoup(g), `soup #${i}`)]++;
    assert.ok(outcomes.ok > 100, `only ${outcomes.ok} successes`);
    assert.ok(outcomes.error > 100, `only ${outcomes.error} errors`);
  });
});
