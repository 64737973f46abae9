import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuerySyntaxError } from '../../src/query/ast.js';
import { MAX_DEPTH, MAX_QUERY_BYTES, parseFilter, parseQuery } from '../../src/query/parse.js';

// --- helpers -----------------------------------------------------------------

/** A deep copy without `span` properties, so expected trees stay readable. */
function strip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'span' ? undefined : v)));
}

/** The filter of `text`, spans stripped. */
function filter(text: string): unknown {
  return strip(parseQuery(text).filter);
}

/** The pipes of `text`, spans stripped. */
function pipes(text: string): unknown {
  return strip(parseQuery(text).pipes);
}

/** The QuerySyntaxError that parsing `text` throws (fails the test if none). */
function error(text: string): QuerySyntaxError {
  try {
    parseQuery(text);
  } catch (e) {
    assert.ok(e instanceof QuerySyntaxError, `expected a QuerySyntaxError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(text)} not to parse`);
}

const ALL = { kind: 'all' };
const term = (value: string, field: string | null = null) => ({ kind: 'term', field, value });
const phrase = (value: string, field: string | null = null) => ({ kind: 'phrase', field, value });
const wildcard = (pattern: string, field: string | null = null) => ({ kind: 'wildcard', field, pattern });
const exists = (field: string) => ({ kind: 'exists', field });
const range = (field: string, bounds: { gt?: string; gte?: string; lt?: string; lte?: string }) => ({
  kind: 'range',
  field,
  ...bounds,
});
const and = (...children: unknown[]) => ({ kind: 'and', children });
const or = (...children: unknown[]) => ({ kind: 'or', children });
const not = (child: unknown) => ({ kind: 'not', child });

// --- filters -----------------------------------------------------------------

describe('match all', () => {
  it('empty and whitespace-only queries match everything', () => {
    assert.deepEqual(parseQuery(''), { filter: ALL, pipes: [] });
    assert.deepEqual(parseQuery('   \t\n '), { filter: ALL, pipes: [] });
  });
  it('* and *:* match everything', () => {
    assert.deepEqual(parseQuery('*'), { filter: ALL, pipes: [] });
    assert.deepEqual(parseQuery('  *  '), { filter: ALL, pipes: [] });
    assert.deepEqual(filter('*:*'), ALL);
  });
  it('a bare * inside a larger filter is kept as "all"', () => {
    assert.deepEqual(filter('* AND error'), and(ALL, term('error')));
  });
});

describe('full-text terms and phrases', () => {
  it('bare words are terms with a null field', () => {
    assert.deepEqual(filter('error'), term('error'));
    assert.deepEqual(filter('  error  '), term('error'));
    assert.deepEqual(filter('héllo'), term('héllo'));
  });
  it('juxtaposed words are ANDed', () => {
    assert.deepEqual(filter('connection refused'), and(term('connection'), term('refused')));
  });
  it('lower-case and/or/not and TO outside a range are plain words', () => {
    assert.deepEqual(filter('cats and dogs or not TO'), and(term('cats'), term('and'), term('dogs'), term('or'), term('not'), term('TO')));
    assert.deepEqual(filter('And Or Not'), and(term('And'), term('Or'), term('Not')));
  });
  it('operator characters inside a word are ordinary', () => {
    assert.deepEqual(filter('a-b+c!d'), term('a-b+c!d'));
    assert.deepEqual(filter('x&y a<b>c 3,4 ~/x^2'), and(term('x&y'), term('a<b>c'), term('3,4'), term('~/x^2')));
  });
  it('quoted phrases', () => {
    assert.deepEqual(filter('"connection refused"'), phrase('connection refused'));
    assert.deepEqual(filter('""'), phrase(''));
    assert.deepEqual(filter('"AND" "err*" "a:b" "(x)"'), and(phrase('AND'), phrase('err*'), phrase('a:b'), phrase('(x)')));
  });
  it('phrase escapes: \\" and \\\\ only; other backslashes are kept', () => {
    assert.deepEqual(filter(String.raw`"say \"hi\" to c:\\temp"`), phrase('say "hi" to c:\\temp'));
    assert.deepEqual(filter(String.raw`"C:\Users\bob"`), phrase(String.raw`C:\Users\bob`));
    assert.deepEqual(filter(String.raw`"ends with \\"`), phrase('ends with \\'));
  });
  it('a | inside quotes is not a pipe', () => {
    assert.deepEqual(parseQuery('"a | b" | head 5'), {
      filter: { kind: 'phrase', field: null, value: 'a | b', span: { start: 0, end: 7 } },
      pipes: [{ kind: 'head', n: 5, span: { start: 10, end: 16 } }],
    });
  });
});

describe('field:value', () => {
  it('simple and dotted / @ / - field names', () => {
    assert.deepEqual(filter('status:500'), term('500', 'status'));
    assert.deepEqual(filter('@timestamp:x'), term('x', '@timestamp'));
    assert.deepEqual(filter('http.response.status:200'), term('200', 'http.response.status'));
    assert.deepEqual(filter('user-agent:curl'), term('curl', 'user-agent'));
    assert.deepEqual(filter('field_1:a'), term('a', 'field_1'));
  });
  it('quoted values are phrases', () => {
    assert.deepEqual(filter('message:"a phrase"'), phrase('a phrase', 'message'));
  });
  it('whitespace is allowed around the colon', () => {
    assert.deepEqual(filter('status: 500'), term('500', 'status'));
    assert.deepEqual(filter('status : 500 x'), and(term('500', 'status'), term('x')));
  });
  it('a value may contain -, +, !, : and < > (only the first : separates the field)', () => {
    assert.deepEqual(filter('temp:-5'), term('-5', 'temp'));
    assert.deepEqual(filter('x:+1 y:!z'), and(term('+1', 'x'), term('!z', 'y')));
    assert.deepEqual(filter('url:http://example.com/a'), term('http://example.com/a', 'url'));
    assert.deepEqual(filter('ts:2026-11-01T00:00:00Z'), term('2026-11-01T00:00:00Z', 'ts'));
  });
  it('keywords after the value keep their meaning', () => {
    assert.deepEqual(filter('a:1 AND b:2 OR c:3'), or(and(term('1', 'a'), term('2', 'b')), term('3', 'c')));
    assert.deepEqual(filter('a:1&&b:2||c:3'), or(and(term('1', 'a'), term('2', 'b')), term('3', 'c')));
  });
  it('_exists_:field', () => {
    assert.deepEqual(filter('_exists_:host'), exists('host'));
    assert.deepEqual(filter('_exists_:http.response.status'), exists('http.response.status'));
    assert.deepEqual(filter('NOT _exists_:host'), not(exists('host')));
    assert.deepEqual(filter('-_exists_:host'), not(exists('host')));
  });
  it('field:* means the field exists', () => {
    assert.deepEqual(filter('host:*'), exists('host'));
    assert.deepEqual(filter('host:"*"'), phrase('*', 'host'));
    assert.deepEqual(filter('host:\\*'), term('*', 'host'));
  });
});

describe('escapes', () => {
  it('a backslash escapes special characters in values', () => {
    assert.deepEqual(filter(String.raw`path:\/api\/v1`), term('/api/v1', 'path'));
    assert.deepEqual(filter(String.raw`a\:b`), term('a:b'));
    assert.deepEqual(filter(String.raw`\(x\)`), term('(x)'));
    assert.deepEqual(filter(String.raw`\-a \+b \!c`), and(term('-a'), term('+b'), term('!c')));
    assert.deepEqual(filter(String.raw`a\ b`), term('a b'));
    assert.deepEqual(filter(String.raw`a\\b`), term('a\\b'));
    assert.deepEqual(filter(String.raw`x\|y`), term('x|y'));
    assert.deepEqual(filter(String.raw`\"q\"`), term('"q"'));
  });
  it('escaped keywords are words', () => {
    assert.deepEqual(filter(String.raw`\AND \OR NO\T`), and(term('AND'), term('OR'), term('NOT')));
  });
  it('a backslash escapes characters in field names', () => {
    assert.deepEqual(filter(String.raw`my\ field:x`), term('x', 'my field'));
    assert.deepEqual(filter(String.raw`a\:b:c`), term('c', 'a:b'));
    assert.deepEqual(filter(String.raw`f\*:x`), term('x', 'f*'));
  });
  it('escaped wildcards are literal', () => {
    assert.deepEqual(filter(String.raw`foo\*`), term('foo*'));
    assert.deepEqual(filter(String.raw`what\?`), term('what?'));
  });
  it('in a wildcard pattern, literal *, ? and \\ stay escaped; other escapes are resolved', () => {
    assert.deepEqual(filter(String.raw`foo\*bar*`), wildcard(String.raw`foo\*bar*`));
    assert.deepEqual(filter(String.raw`a\?b?`), wildcard(String.raw`a\?b?`));
    assert.deepEqual(filter(String.raw`a\\b*`), wildcard(String.raw`a\\b*`));
    assert.deepEqual(filter(String.raw`path:\/api\/*`), wildcard('/api/*', 'path'));
  });
  it('an escape takes a whole code point', () => {
    assert.deepEqual(filter('\\😀x'), term('😀x'));
  });
});

describe('wildcards', () => {
  it('unescaped * or ? make a wildcard', () => {
    assert.deepEqual(filter('err*'), wildcard('err*'));
    assert.deepEqual(filter('*rror'), wildcard('*rror'));
    assert.deepEqual(filter('h?st'), wildcard('h?st'));
    assert.deepEqual(filter('**'), wildcard('**'));
    assert.deepEqual(filter('host:web-*'), wildcard('web-*', 'host'));
    assert.deepEqual(filter('host:?'), wildcard('?', 'host'));
  });
});

describe('ranges', () => {
  it('comparisons', () => {
    assert.deepEqual(filter('bytes:>1000'), range('bytes', { gt: '1000' }));
    assert.deepEqual(filter('bytes:>=1000'), range('bytes', { gte: '1000' }));
    assert.deepEqual(filter('bytes:<5'), range('bytes', { lt: '5' }));
    assert.deepEqual(filter('bytes:<=5'), range('bytes', { lte: '5' }));
    assert.deepEqual(filter('bytes: >= 5'), range('bytes', { gte: '5' }));
    assert.deepEqual(filter('bytes:>"1000"'), range('bytes', { gt: '1000' }));
    assert.deepEqual(filter('n:>-5'), range('n', { gt: '-5' }));
  });
  it('comparisons with date math and timestamps (a - in a bound is not NOT)', () => {
    assert.deepEqual(filter('@timestamp:>now-1h'), range('@timestamp', { gt: 'now-1h' }));
    assert.deepEqual(filter('@timestamp:<=now/d'), range('@timestamp', { lte: 'now/d' }));
    assert.deepEqual(filter('@timestamp:>=2026-11-01T00:00:00Z'), range('@timestamp', { gte: '2026-11-01T00:00:00Z' }));
    assert.deepEqual(
      filter('@timestamp:>now-1h -level:debug'),
      and(range('@timestamp', { gt: 'now-1h' }), not(term('debug', 'level'))),
    );
  });
  it('bracket ranges: inclusive, exclusive and mixed', () => {
    assert.deepEqual(filter('status:[500 TO 599]'), range('status', { gte: '500', lte: '599' }));
    assert.deepEqual(filter('status:{500 TO 599}'), range('status', { gt: '500', lt: '599' }));
    assert.deepEqual(filter('status:[500 TO 599}'), range('status', { gte: '500', lt: '599' }));
    assert.deepEqual(filter('status:{500 TO 599]'), range('status', { gt: '500', lte: '599' }));
    assert.deepEqual(filter('status:[ 500   TO   599 ]'), range('status', { gte: '500', lte: '599' }));
  });
  it('* is an open bound; [* TO *] means the field exists', () => {
    assert.deepEqual(filter('bytes:[* TO 5]'), range('bytes', { lte: '5' }));
    assert.deepEqual(filter('bytes:{5 TO *]'), range('bytes', { gt: '5' }));
    assert.deepEqual(filter('bytes:[* TO *]'), exists('bytes'));
  });
  it('bounds may be quoted or date math, kept as written', () => {
    assert.deepEqual(
      filter('@timestamp:[now-1d/d TO now/d]'),
      range('@timestamp', { gte: 'now-1d/d', lte: 'now/d' }),
    );
    assert.deepEqual(
      filter('ts:[2026-11-01T00:00:00Z TO 2026-11-02T00:00:00Z}'),
      range('ts', { gte: '2026-11-01T00:00:00Z', lt: '2026-11-02T00:00:00Z' }),
    );
    assert.deepEqual(
      filter('ts:["2026-11-01 00:00" TO "*"]'),
      range('ts', { gte: '2026-11-01 00:00', lte: '*' }),
    );
    assert.deepEqual(filter(String.raw`v:[a\ b TO \TO]`), range('v', { gte: 'a b', lte: 'TO' }));
  });
  it('ranges combine with other clauses', () => {
    assert.deepEqual(
      filter('status:[500 TO 599] AND NOT path:/health'),
      and(range('status', { gte: '500', lte: '599' }), not(term('/health', 'path'))),
    );
  });
});

describe('boolean operators', () => {
  it('AND, OR, NOT and their symbols', () => {
    assert.deepEqual(filter('a AND b'), and(term('a'), term('b')));
    assert.deepEqual(filter('a && b'), and(term('a'), term('b')));
    assert.deepEqual(filter('a&&b'), and(term('a'), term('b')));
    assert.deepEqual(filter('a OR b'), or(term('a'), term('b')));
    assert.deepEqual(filter('a || b'), or(term('a'), term('b')));
    assert.deepEqual(filter('a||b'), or(term('a'), term('b')));
    assert.deepEqual(filter('NOT a'), not(term('a')));
    assert.deepEqual(filter('!a'), not(term('a')));
    assert.deepEqual(filter('! a'), not(term('a')));
    assert.deepEqual(filter('-a'), not(term('a')));
  });
  it('+ marks a required clause, which is the clause itself', () => {
    assert.deepEqual(filter('+a'), term('a'));
    assert.deepEqual(filter('+a +b -c'), and(term('a'), term('b'), not(term('c'))));
    assert.deepEqual(filter('+(a OR b)'), or(term('a'), term('b')));
  });
  it('a NOT b is a AND NOT b', () => {
    assert.deepEqual(filter('a NOT b'), and(term('a'), not(term('b'))));
    assert.deepEqual(filter('a -b'), and(term('a'), not(term('b'))));
  });
  it('precedence: NOT > AND > OR', () => {
    assert.deepEqual(filter('a OR b AND c'), or(term('a'), and(term('b'), term('c'))));
    assert.deepEqual(filter('a AND b OR c'), or(and(term('a'), term('b')), term('c')));
    assert.deepEqual(filter('NOT a AND b'), and(not(term('a')), term('b')));
    assert.deepEqual(filter('NOT a OR b'), or(not(term('a')), term('b')));
    assert.deepEqual(filter('a || b && c'), or(term('a'), and(term('b'), term('c'))));
  });
  it('juxtaposition has AND precedence', () => {
    assert.deepEqual(filter('a b OR c'), or(and(term('a'), term('b')), term('c')));
    assert.deepEqual(filter('a OR b c'), or(term('a'), and(term('b'), term('c'))));
    assert.deepEqual(filter('a OR NOT b c'), or(term('a'), and(not(term('b')), term('c'))));
  });
  it('parentheses', () => {
    assert.deepEqual(filter('(a OR b) c'), and(or(term('a'), term('b')), term('c')));
    assert.deepEqual(filter('NOT (a OR b)'), not(or(term('a'), term('b'))));
    assert.deepEqual(filter('-(a b)'), not(and(term('a'), term('b'))));
    assert.deepEqual(filter('((a))'), term('a'));
    assert.deepEqual(filter('(a)(b)'), and(term('a'), term('b')));
  });
  it('nested and/or of the same kind are flattened', () => {
    assert.deepEqual(filter('(a AND b) AND (c AND d)'), and(term('a'), term('b'), term('c'), term('d')));
    assert.deepEqual(filter('a OR (b OR (c OR d))'), or(term('a'), term('b'), term('c'), term('d')));
    assert.deepEqual(filter('a AND (b OR c) AND d'), and(term('a'), or(term('b'), term('c')), term('d')));
    assert.deepEqual(filter('(a OR b) OR (c AND d)'), or(term('a'), term('b'), and(term('c'), term('d'))));
  });
  it('double negation is kept', () => {
    assert.deepEqual(filter('NOT NOT a'), not(not(term('a'))));
    assert.deepEqual(filter('--a'), not(not(term('a'))));
  });
});

describe('Lucene field grouping', () => {
  it('field:( ... ) applies the field to each bare term', () => {
    assert.deepEqual(filter('host:(a OR b)'), or(term('a', 'host'), term('b', 'host')));
    assert.deepEqual(filter('host:(a b)'), and(term('a', 'host'), term('b', 'host')));
    assert.deepEqual(filter('host:(a)'), term('a', 'host'));
    assert.deepEqual(filter('host:(NOT a)'), not(term('a', 'host')));
    assert.deepEqual(filter('host:(-a +b)'), and(not(term('a', 'host')), term('b', 'host')));
  });
  it('also to phrases, wildcards and * inside, and to nested plain groups', () => {
    assert.deepEqual(
      filter('host:(web-* OR "x y" OR *)'),
      or(wildcard('web-*', 'host'), phrase('x y', 'host'), exists('host')),
    );
    assert.deepEqual(filter('f:(a (b OR c))'), and(term('a', 'f'), or(term('b', 'f'), term('c', 'f'))));
  });
  it('an explicit field inside the group wins', () => {
    assert.deepEqual(filter('host:(a OR other:b)'), or(term('a', 'host'), term('b', 'other')));
    assert.deepEqual(filter('a:(b:(c))'), term('c', 'b'));
    assert.deepEqual(filter('f:(_exists_:g)'), exists('g'));
  });
  it('ranges and comparisons inside a group take its field', () => {
    assert.deepEqual(
      filter('bytes:([1 TO 5] OR >100)'),
      or(range('bytes', { gte: '1', lte: '5' }), range('bytes', { gt: '100' })),
    );
    assert.deepEqual(filter('n:(>=1 <5)'), and(range('n', { gte: '1' }), range('n', { lt: '5' })));
  });
  it('the field does not leak out of the group', () => {
    assert.deepEqual(filter('host:(a) b'), and(term('a', 'host'), term('b')));
    assert.deepEqual(filter('host:(a) >5'), and(term('a', 'host'), term('>5')));
  });
  it('outside a field group, < and > start ordinary words', () => {
    assert.deepEqual(filter('<html> ->'), and(term('<html>'), not(term('>'))));
  });
});

describe('spans', () => {
  it('terms, phrases and wildcards', () => {
    assert.deepEqual(parseQuery('  foo ').filter, { kind: 'term', field: null, value: 'foo', span: { start: 2, end: 5 } });
    assert.deepEqual(parseQuery('status:500').filter, {
      kind: 'term',
      field: 'status',
      value: '500',
      span: { start: 0, end: 10 },
    });
    assert.deepEqual(parseQuery('a "b c"').filter, {
      kind: 'and',
      children: [
        { kind: 'term', field: null, value: 'a', span: { start: 0, end: 1 } },
        { kind: 'phrase', field: null, value: 'b c', span: { start: 2, end: 7 } },
      ],
    });
    assert.deepEqual(parseQuery('x host:web-*').filter, {
      kind: 'and',
      children: [
        { kind: 'term', field: null, value: 'x', span: { start: 0, end: 1 } },
        { kind: 'wildcard', field: 'host', pattern: 'web-*', span: { start: 2, end: 12 } },
      ],
    });
  });
  it('field groups: each term spans its own word', () => {
    assert.deepEqual(parseQuery('host:(a OR bb)').filter, {
      kind: 'or',
      children: [
        { kind: 'term', field: 'host', value: 'a', span: { start: 6, end: 7 } },
        { kind: 'term', field: 'host', value: 'bb', span: { start: 11, end: 13 } },
      ],
    });
  });
  it('ranges and exists', () => {
    assert.deepEqual(parseQuery('NOT bytes:[1 TO 5}').filter, {
      kind: 'not',
      child: { kind: 'range', field: 'bytes', gte: '1', lt: '5', span: { start: 4, end: 18 } },
    });
    assert.deepEqual(parseQuery('t:>now-1h').filter, { kind: 'range', field: 't', gt: 'now-1h', span: { start: 0, end: 9 } });
    assert.deepEqual(parseQuery(' _exists_:host').filter, { kind: 'exists', field: 'host', span: { start: 1, end: 14 } });
    assert.deepEqual(parseQuery('host:*').filter, { kind: 'exists', field: 'host', span: { start: 0, end: 6 } });
  });
  it('pipes span from their name to their last token', () => {
    const q = parseQuery('x | stats count() by host | sort -count | top 3 a, b');
    assert.deepEqual(
      q.pipes.map((p) => p.span),
      [
        { start: 4, end: 25 },
        { start: 28, end: 39 },
        { start: 42, end: 52 },
      ],
    );
  });
});

// --- pipes -------------------------------------------------------------------

describe('stats', () => {
  it('count() by host', () => {
    assert.deepEqual(pipes('| stats count() by host'), [
      { kind: 'stats', aggs: [{ fn: 'count', name: 'count' }], by: ['host'] },
    ]);
  });
  it('several aggregations, as, several by fields', () => {
    assert.deepEqual(pipes('error | stats count(), avg(duration), p95(duration) as slow by path, host'), [
      {
        kind: 'stats',
        aggs: [
          { fn: 'count', name: 'count' },
          { fn: 'avg', field: 'duration', name: 'avg(duration)' },
          { fn: 'percentile', field: 'duration', percentile: 95, name: 'slow' },
        ],
        by: ['path', 'host'],
      },
    ]);
  });
  it('by is optional', () => {
    assert.deepEqual(pipes('| stats sum(bytes)'), [
      { kind: 'stats', aggs: [{ fn: 'sum', field: 'bytes', name: 'sum(bytes)' }], by: [] },
    ]);
  });
  it('every function, with default names', () => {
    assert.deepEqual(strip(parseQuery('| stats count(user), count_distinct(user), sum(b), avg(b), min(b), max(b), p50(b), p99.9(b), p100(b), median(c)').pipes[0]), {
      kind: 'stats',
      aggs: [
        { fn: 'count', field: 'user', name: 'count(user)' },
        { fn: 'count_distinct', field: 'user', name: 'count_distinct(user)' },
        { fn: 'sum', field: 'b', name: 'sum(b)' },
        { fn: 'avg', field: 'b', name: 'avg(b)' },
        { fn: 'min', field: 'b', name: 'min(b)' },
        { fn: 'max', field: 'b', name: 'max(b)' },
        { fn: 'percentile', field: 'b', percentile: 50, name: 'p50(b)' },
        { fn: 'percentile', field: 'b', percentile: 99.9, name: 'p99.9(b)' },
        { fn: 'percentile', field: 'b', percentile: 100, name: 'p100(b)' },
        { fn: 'percentile', field: 'c', percentile: 50, name: 'p50(c)' },
      ],
      by: [],
    });
  });
  it('dcount and uniq are count_distinct; names use the canonical function', () => {
    assert.deepEqual(pipes('| stats dcount(ip), uniq(host) as hosts'), [
      {
        kind: 'stats',
        aggs: [
          { fn: 'count_distinct', field: 'ip', name: 'count_distinct(ip)' },
          { fn: 'count_distinct', field: 'host', name: 'hosts' },
        ],
        by: [],
      },
    ]);
  });
  it('count(*) and a bare count are count()', () => {
    assert.deepEqual(pipes('| stats count(*) by a'), [{ kind: 'stats', aggs: [{ fn: 'count', name: 'count' }], by: ['a'] }]);
    assert.deepEqual(pipes('| stats count by a'), [{ kind: 'stats', aggs: [{ fn: 'count', name: 'count' }], by: ['a'] }]);
  });
  it('pipe names, functions and keywords are case-insensitive; fields are not', () => {
    assert.deepEqual(pipes('| STATS COUNT() AS N, P95(Dur) By Host'), [
      {
        kind: 'stats',
        aggs: [
          { fn: 'count', name: 'N' },
          { fn: 'percentile', field: 'Dur', percentile: 95, name: 'p95(Dur)' },
        ],
        by: ['Host'],
      },
    ]);
  });
  it('fields and names may be dotted, escaped or quoted', () => {
    assert.deepEqual(pipes('| stats avg(http.response.bytes) as "mean size" by @host, "user agent", a\\ b'), [
      {
        kind: 'stats',
        aggs: [{ fn: 'avg', field: 'http.response.bytes', name: 'mean size' }],
        by: ['@host', 'user agent', 'a b'],
      },
    ]);
  });
  it('rejects bad percentiles, unknown functions, missing fields and duplicate columns', () => {
    let e = error('| stats p0(x)');
    assert.equal(e.position, 8);
    assert.match(e.message, /Percentile "p0" at position 8 is out of range/);
    e = error('| stats p100.5(x)');
    assert.equal(e.position, 8);
    e = error('| stats p(x)');
    assert.match(e.message, /^Unknown aggregation function "p" at position 8/);
    e = error('| stats mean(x)');
    assert.match(e.message, /^Unknown aggregation function "mean" at position 8/);
    assert.ok(e.expected.includes('count'));
    e = error('| stats avg()');
    assert.equal(e.message, 'Expected a field name at position 12, found ")": avg() needs a field, as in avg(duration)');
    e = error('| stats avg');
    assert.equal(e.message, 'Expected "(" after "avg" at position 11, found end of query');
    e = error('| stats count(), count()');
    assert.equal(e.message, 'Duplicate column "count" at position 17; rename it with "as"');
    e = error('| stats count() as host by host');
    assert.equal(e.position, 27);
    e = error('| stats');
    assert.equal(e.message, 'Expected an aggregation such as count(), avg(field) or p95(field) at position 7, found end of query');
    e = error('| stats count() by');
    assert.equal(e.message, 'Expected a field to group by at position 18, found end of query');
    e = error('| stats count() host');
    assert.equal(e.message, 'Expected ",", "by", "|" or end of query at position 16, found "host"');
    assert.deepEqual(e.expected, [',', 'by', '|', 'end of query']);
    e = error('| stats count(a b)');
    assert.equal(e.message, 'Expected ")" at position 16, found "b"');
    e = error('| stats avg(x*)');
    assert.match(e.message, /^Invalid field name "x\*" at position 12/);
  });
});

describe('sort', () => {
  it('-field and plain field', () => {
    assert.deepEqual(pipes('| sort -bytes, host'), [
      {
        kind: 'sort',
        keys: [
          { field: 'bytes', desc: true },
          { field: 'host', desc: false },
        ],
      },
    ]);
  });
  it('sort by f desc / asc', () => {
    assert.deepEqual(pipes('| sort by bytes desc'), [{ kind: 'sort', keys: [{ field: 'bytes', desc: true }] }]);
    assert.deepEqual(pipes('| SORT BY a ASC, b DESC, c'), [
      {
        kind: 'sort',
        keys: [
          { field: 'a', desc: false },
          { field: 'b', desc: true },
          { field: 'c', desc: false },
        ],
      },
    ]);
  });
  it('an aggregation names its output column', () => {
    assert.deepEqual(pipes('| sort -avg(duration), -count(), median(x)'), [
      {
        kind: 'sort',
        keys: [
          { field: 'avg(duration)', desc: true },
          { field: 'count', desc: true },
          { field: 'p50(x)', desc: false },
        ],
      },
    ]);
  });
  it('quoted fields are never keywords', () => {
    assert.deepEqual(pipes('| sort "by" desc'), [{ kind: 'sort', keys: [{ field: 'by', desc: true }] }]);
    assert.deepEqual(pipes('| sort desc'), [{ kind: 'sort', keys: [{ field: 'desc', desc: false }] }]);
  });
  it('errors', () => {
    let e = error('| sort -a desc');
    assert.equal(e.message, 'Conflicting sort order at position 10: write "-a" or "a desc", not both');
    e = error('| sort');
    assert.equal(e.message, 'Expected a field to sort by at position 6, found end of query');
    e = error('| sort a b');
    assert.equal(e.message, 'Expected ",", "asc", "desc", "|" or end of query at position 9, found "b"');
    e = error('| sort a,');
    assert.equal(e.position, 9);
  });
});

describe('fields, head, top', () => {
  it('fields', () => {
    assert.deepEqual(pipes('| fields a, b.c, "d e"'), [{ kind: 'fields', fields: ['a', 'b.c', 'd e'] }]);
    assert.equal(error('| fields a b').message, 'Expected ",", "|" or end of query at position 11, found "b"');
    assert.equal(error('| fields').position, 8);
    assert.equal(error('| fields a,').message, 'Expected a field name at position 11, found end of query');
    assert.equal(error('| fields ""').position, 9);
  });
  it('head and its alias limit', () => {
    assert.deepEqual(pipes('| head 100'), [{ kind: 'head', n: 100 }]);
    assert.deepEqual(pipes('| limit 100'), [{ kind: 'head', n: 100 }]);
    assert.deepEqual(pipes('| HEAD 0'), [{ kind: 'head', n: 0 }]);
    assert.deepEqual(pipes('| head 1000000'), [{ kind: 'head', n: 1000000 }]);
    assert.deepEqual(pipes('| head'), [{ kind: 'head', n: 10 }]);
  });
  it('head rejects anything but a whole number up to 1,000,000', () => {
    assert.equal(error('| head 1000001').message, 'Row count 1000001 at position 7 is too large; the limit is 1000000');
    assert.equal(error('| head -1').message, 'Expected a row count (a whole number from 0 to 1000000) at position 7, found "-"');
    assert.equal(error('| head 1.5').position, 7);
    assert.equal(error('| head 1e3').position, 7);
    assert.equal(error('| head ten').position, 7);
    assert.equal(error('| head 5 6').message, 'Expected "|" or end of query at position 9, found "6"');
  });
  it('top', () => {
    assert.deepEqual(pipes('| top 10 path'), [{ kind: 'top', n: 10, fields: ['path'] }]);
    assert.deepEqual(pipes('| top path'), [{ kind: 'top', n: 10, fields: ['path'] }]);
    assert.deepEqual(pipes('| top 5 host, path'), [{ kind: 'top', n: 5, fields: ['host', 'path'] }]);
    assert.deepEqual(pipes('| Top 0 "10"'), [{ kind: 'top', n: 0, fields: ['10'] }]);
    assert.equal(error('| top 10').message, 'Expected a field name at position 8, found end of query');
    assert.equal(error('| top 2000000 x').position, 6);
    assert.equal(error('| top').position, 5);
  });
});

describe('queries with pipes', () => {
  it('a filter followed by several pipes', () => {
    assert.deepEqual(strip(parseQuery('status:500 AND host:web-* | stats count() by host | sort -count | head 10')), {
      filter: and(term('500', 'status'), wildcard('web-*', 'host')),
      pipes: [
        { kind: 'stats', aggs: [{ fn: 'count', name: 'count' }], by: ['host'] },
        { kind: 'sort', keys: [{ field: 'count', desc: true }] },
        { kind: 'head', n: 10 },
      ],
    });
  });
  it('no filter, or *, means all', () => {
    assert.deepEqual(strip(parseQuery('| head 5')), { filter: ALL, pipes: [{ kind: 'head', n: 5 }] });
    assert.deepEqual(strip(parseQuery('* | stats count()')), {
      filter: ALL,
      pipes: [{ kind: 'stats', aggs: [{ fn: 'count', name: 'count' }], by: [] }],
    });
  });
  it('|| is OR, | is a pipe', () => {
    assert.deepEqual(strip(parseQuery('a || b | head 1')), { filter: or(term('a'), term('b')), pipes: [{ kind: 'head', n: 1 }] });
    assert.deepEqual(strip(parseQuery('a:b|head 1')), { filter: term('b', 'a'), pipes: [{ kind: 'head', n: 1 }] });
    assert.deepEqual(strip(parseQuery('x:[1 TO 2]|head')), {
      filter: range('x', { gte: '1', lte: '2' }),
      pipes: [{ kind: 'head', n: 10 }],
    });
  });
  it('parseFilter parses a filter alone', () => {
    assert.deepEqual(strip(parseFilter('a OR b:c')), or(term('a'), term('c', 'b')));
    assert.deepEqual(parseFilter(''), ALL);
    assert.throws(() => parseFilter('a | head 1'), (e: unknown) => e instanceof QuerySyntaxError && e.position === 2);
  });
});

// --- errors ------------------------------------------------------------------

describe('syntax errors', () => {
  it('are QuerySyntaxErrors with a name, position and expected list', () => {
    const e = error('(a OR b');
    assert.equal(e.name, 'QuerySyntaxError');
    assert.ok(e instanceof Error);
    assert.equal(e.position, 7);
    assert.deepEqual(e.expected, [')']);
    assert.equal(e.message, 'Expected ")" at position 7, found end of query; the "(" at position 0 is not closed');
  });
  it('unbalanced parentheses', () => {
    assert.equal(error('status:(500 OR 404').position, 18);
    assert.equal(error('(a ] b)').message, 'Expected ")" at position 3, found "]"; the "(" at position 0 is not closed');
    const e = error('a OR b)');
    assert.equal(e.message, 'Unexpected ")" at position 6: there is no matching "("');
    assert.equal(e.position, 6);
    assert.equal(error('()').message, 'Expected a term, a quoted phrase or "(" at position 1, found ")"');
    assert.equal(error(')').position, 0);
  });
  it('unterminated quotes point at the opening quote', () => {
    const e = error('msg:"abc');
    assert.equal(e.position, 4);
    assert.deepEqual(e.expected, ['"']);
    assert.match(e.message, /^Unterminated quoted phrase/);
    assert.equal(error('"a \\"').position, 0);
    assert.equal(error('a | stats count() as "x').position, 21);
  });
  it('field: with nothing after', () => {
    let e = error('status:');
    assert.equal(e.message, 'Expected a value after "status:" at position 7, found end of query');
    assert.ok(e.expected.includes('a value'));
    e = error('status: AND x');
    assert.equal(e.message, 'Expected a value after "status:" at position 8, found "AND"');
    assert.equal(error('a:)').position, 2);
    assert.equal(error('a: | head').position, 3);
    assert.equal(error('_exists_:').message, 'Expected a field name after "_exists_:" at position 9, found end of query');
    assert.equal(error('_exists_:"x"').position, 9);
  });
  it('operators without operands', () => {
    assert.equal(error('AND a').message, 'Expected a term, a quoted phrase or "(" at position 0, found "AND"');
    assert.equal(error('a AND').position, 5);
    assert.equal(error('a OR OR b').position, 5);
    assert.equal(error('NOT').position, 3);
    assert.equal(error('a -').position, 3);
    assert.equal(error('a &&').position, 4);
    assert.equal(error('|| a').position, 0);
  });
  it('bad ranges', () => {
    let e = error('x:[1 5]');
    assert.equal(e.message, 'Expected "TO" at position 5, found "5"; a range is written [low TO high]');
    assert.deepEqual(e.expected, ['TO']);
    e = error('x:[1 TO 5');
    assert.equal(e.message, 'Expected "]" or "}" at position 9, found end of query; the range at position 2 is not closed');
    assert.deepEqual(e.expected, [']', '}']);
    assert.equal(error('x:{1 TO 5 6}').position, 10);
    assert.equal(error('x:[1 to 5]').position, 5);
    assert.equal(error('x:[TO 5]').position, 3);
    assert.equal(error('x:[1 TO ]').position, 8);
    assert.equal(error('x:[1 TO 5 OR y:3').position, 10);
    assert.equal(error('bytes:>').message, 'Expected a value after ">" at position 7, found end of query');
    assert.equal(error('bytes:>*').position, 7);
    assert.equal(error('bytes:>=(1)').position, 8);
  });
  it('a range needs a field', () => {
    const e = error('[1 TO 5]');
    assert.equal(e.position, 0);
    assert.match(e.message, /a range needs a field/);
    assert.equal(error('a {b}').position, 2);
  });
  it('stray brackets and colons', () => {
    assert.equal(error('a ]').message, 'Unexpected "]" at position 2: there is no range to close');
    assert.equal(error('"a":b').message, 'Unexpected ":" at position 3: a field name must be a bare word just before ":"');
    assert.equal(error(':a').position, 0);
  });
  it('invalid field names', () => {
    const e = error('foo*:x');
    assert.match(e.message, /^Invalid field name "foo\*" at position 0/);
    assert.deepEqual(e.expected, ['a field name']);
    assert.equal(error('a b/c:x').position, 2);
    assert.equal(error('*:x').position, 0);
  });
  it('a trailing backslash', () => {
    const e = error('a\\');
    assert.equal(e.message, 'Expected a character after "\\" at position 2, found end of query');
    assert.equal(e.position, 2);
  });
  it('empty and unknown pipes', () => {
    let e = error('a |');
    assert.equal(e.message, 'Empty pipe at position 3; expected one of stats, sort, fields, head, top');
    assert.deepEqual(e.expected, ['stats', 'sort', 'fields', 'head', 'top']);
    e = error('a | | head 1');
    assert.equal(e.position, 4);
    e = error('error | statz count()');
    assert.equal(e.message, 'Unknown pipe "statz" at position 8; expected one of stats, sort, fields, head, top');
    assert.equal(e.position, 8);
    e = error('a | (head)');
    assert.equal(e.message, 'Expected a pipe name (one of stats, sort, fields, head, top) at position 4, found "("');
    e = error('a | head 1 ||');
    assert.equal(e.position, 12);
  });
});

describe('limits', () => {
  it(`accepts ${MAX_DEPTH} levels of nesting and rejects ${MAX_DEPTH + 1}`, () => {
    assert.deepEqual(filter('('.repeat(MAX_DEPTH) + 'a' + ')'.repeat(MAX_DEPTH)), term('a'));
    const e = error('('.repeat(MAX_DEPTH + 1) + 'a' + ')'.repeat(MAX_DEPTH + 1));
    assert.equal(e.position, MAX_DEPTH);
    assert.match(e.message, /nests too deeply/);
  });
  it('NOT prefixes count as nesting', () => {
    assert.doesNotThrow(() => parseQuery('NOT '.repeat(MAX_DEPTH) + 'a'));
    assert.equal(error('-'.repeat(MAX_DEPTH + 1) + 'a').position, MAX_DEPTH);
    assert.match(error('!'.repeat(50000)).message, /nests too deeply/);
    assert.match(error('f:('.repeat(1000)).message, /nests too deeply/);
  });
  it('long flat queries are fine; over 64 KiB is an error', () => {
    const flat = 'a OR '.repeat(13000) + 'a';
    assert.ok(flat.length <= MAX_QUERY_BYTES);
    const tree = parseQuery(flat).filter;
    assert.equal(tree.kind === 'or' ? tree.children.length : 0, 13001);
    assert.doesNotThrow(() => parseQuery('a'.repeat(MAX_QUERY_BYTES)));
    let e = error('a'.repeat(MAX_QUERY_BYTES + 1));
    assert.equal(e.position, MAX_QUERY_BYTES);
    assert.match(e.message, /too long/);
    // Counted in UTF-8 bytes: "é" is 2 bytes.
    e = error('é'.repeat(MAX_QUERY_BYTES / 2 + 1));
    assert.equal(e.position, MAX_QUERY_BYTES / 2);
    assert.equal(error('x'.repeat(10_000_000)).position, MAX_QUERY_BYTES);
  });
});
