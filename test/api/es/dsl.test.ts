import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterNode } from '../../../src/query/ast.js';
import { QuerySyntaxError } from '../../../src/query/ast.js';
import {
  calendarAddMs,
  calendarFloorMs,
  EsRequestError,
  formatDate,
  indexFilter,
  minimumShouldMatch,
  parseDateMath,
  splitTimeRange,
  translateQuery,
  translateQueryString,
  UnsupportedQuery,
  zoneOffsetMs,
  type TranslateOptions,
} from '../../../src/api/es/dsl.js';

// --- helpers -----------------------------------------------------------------

const NOW = Date.UTC(2026, 10, 21, 10, 30, 15, 250); // 2026-11-21T10:30:15.250Z

/** A deep copy without `span` properties. */
function strip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'span' ? undefined : v)));
}

function q(query: unknown, opts: TranslateOptions = {}): unknown {
  return strip(translateQuery(query, { nowMs: NOW, ...opts }));
}

function qs(text: string, opts: Parameters<typeof translateQueryString>[1] = {}): unknown {
  return strip(translateQueryString(text, { nowMs: NOW, ...opts }));
}

const t = (field: string | null, value: string) => ({ kind: 'term', field, value });
/** Elasticsearch's `term`: a string field's whole value. */
const te = (field: string, value: string) => ({ kind: 'term', field, value, exact: true });
const ph = (field: string | null, value: string) => ({ kind: 'phrase', field, value });
const wc = (field: string | null, pattern: string) => ({ kind: 'wildcard', field, pattern });
const ex = (field: string) => ({ kind: 'exists', field });
const and = (...children: unknown[]) => ({ kind: 'and', children });
const or = (...children: unknown[]) => ({ kind: 'or', children });
const not = (child: unknown) => ({ kind: 'not', child });
const ALL = { kind: 'all' };
const NONE = { kind: 'or', children: [] };

function unsupportedReason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UnsupportedQuery, `expected UnsupportedQuery, got ${String(e)}`);
    assert.equal(e.status, 400);
    return e.reason;
  }
  assert.fail('expected an UnsupportedQuery');
}

function requestError(fn: () => unknown): EsRequestError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof EsRequestError, `expected EsRequestError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an EsRequestError');
}

// --- tests -------------------------------------------------------------------

describe('translateQuery: leaves', () => {
  it('match_all, match_none, absent and empty queries', () => {
    assert.deepEqual(q({ match_all: {} }), ALL);
    assert.deepEqual(q({ match_all: { boost: 1.2 } }), ALL);
    assert.deepEqual(q({ match_none: {} }), NONE);
    assert.deepEqual(q(undefined), ALL);
    assert.deepEqual(q(null), ALL);
    assert.deepEqual(q({}), ALL);
  });

  it('nodes carry empty spans', () => {
    assert.deepEqual(translateQuery({ term: { host: 'a' } }), { kind: 'term', field: 'host', value: 'a', span: { start: 0, end: 0 }, exact: true });
  });

  it('match on message: words ORed by default, ANDed with operator and, minimum_should_match', () => {
    assert.deepEqual(q({ match: { message: 'Connection refused' } }), or(t('message', 'connection'), t('message', 'refused')));
    assert.deepEqual(q({ match: { message: { query: 'Connection refused', operator: 'AND' } } }), and(t('message', 'connection'), t('message', 'refused')));
    assert.deepEqual(q({ match: { message: 'timeout' } }), t('message', 'timeout'));
    assert.deepEqual(
      q({ match: { message: { query: 'a b c', minimum_should_match: 2 } } }),
      or(and(t('message', 'a'), t('message', 'b')), and(t('message', 'a'), t('message', 'c')), and(t('message', 'b'), t('message', 'c'))),
    );
    assert.deepEqual(q({ match: { message: { query: 'a b c', minimum_should_match: '100%' } } }), and(t('message', 'a'), t('message', 'b'), t('message', 'c')));
  });

  it('match with only punctuation matches nothing, or everything with zero_terms_query all', () => {
    assert.deepEqual(q({ match: { message: '--' } }), NONE);
    assert.deepEqual(q({ match: { message: { query: '--', zero_terms_query: 'all' } } }), ALL);
  });

  it('match on other fields: their words, as a text field; numbers, booleans and .keyword by value', () => {
    assert.deepEqual(q({ match: { host: 'web-1 eu' } }), or(t('host', 'web'), t('host', '1'), t('host', 'eu')));
    assert.deepEqual(q({ match: { host: { query: 'web-1', operator: 'and' } } }), and(t('host', 'web'), t('host', '1')));
    assert.deepEqual(q({ match: { 'host.keyword': 'web-1 eu' } }), t('host.keyword', 'web-1 eu'));
    const typed = { fieldType: (f: string) => (f === 'status' ? ('integer' as const) : f === 'ok' ? ('boolean' as const) : undefined) };
    assert.deepEqual(q({ match: { status: 500 } }, typed), t('status', '500'));
    assert.deepEqual(q({ match: { ok: { query: true } } }, typed), t('ok', 'true'));
  });

  it('match with type phrase (legacy) is match_phrase; fuzziness is refused', () => {
    assert.deepEqual(q({ match: { message: { query: 'connection refused', type: 'phrase' } } }), ph('message', 'connection refused'));
    assert.match(unsupportedReason(() => q({ match: { message: { query: 'x', fuzziness: 'AUTO' } } })), /^\[fuzziness\] in \[match\] query is not supported by Logmill/);
    assert.deepEqual(q({ match: { message: { query: 'x', fuzziness: 0 } } }), t('message', 'x'));
  });

  it('match_phrase on message and on other fields; slop refused', () => {
    assert.deepEqual(q({ match_phrase: { message: 'connection refused' } }), ph('message', 'connection refused'));
    assert.deepEqual(q({ match_phrase: { message: { query: 'a b', slop: 0 } } }), ph('message', 'a b'));
    assert.deepEqual(q({ match_phrase: { 'user.name': 'Jane Doe' } }), ph('user.name', 'Jane Doe'));
    assert.match(unsupportedReason(() => q({ match_phrase: { message: { query: 'a b', slop: 2 } } })), /\[slop\] in \[match_phrase\] query/);
  });

  it('multi_match: best_fields, most_fields, phrase, cross_fields; * means message; boosts dropped', () => {
    assert.deepEqual(q({ multi_match: { query: 'web-1', fields: ['host^3', 'source'] } }), or(or(t('host', 'web'), t('host', '1')), or(t('source', 'web'), t('source', '1'))));
    assert.deepEqual(
      q({ multi_match: { query: 'disk full', fields: ['message', 'host'], type: 'most_fields' } }),
      or(or(t('message', 'disk'), t('message', 'full')), or(t('host', 'disk'), t('host', 'full'))),
    );
    assert.deepEqual(q({ multi_match: { query: 'disk full', fields: ['*'], type: 'phrase' } }), ph('message', 'disk full'));
    assert.deepEqual(q({ multi_match: { query: 'disk full', operator: 'and' } }), and(t('message', 'disk'), t('message', 'full')));
    assert.deepEqual(
      q({ multi_match: { query: 'jane doe', fields: ['first', 'last'], type: 'cross_fields', operator: 'and' } }),
      and(or(t('first', 'jane'), t('last', 'jane')), or(t('first', 'doe'), t('last', 'doe'))),
    );
    assert.match(unsupportedReason(() => q({ multi_match: { query: 'x', type: 'phrase_prefix' } })), /\[multi_match\] query of type \[phrase_prefix\]/);
    assert.match(unsupportedReason(() => q({ multi_match: { query: 'x', fields: ['http.*'] } })), /field pattern \[http\.\*\]/);
  });

  it('combined_fields blends words across fields', () => {
    assert.deepEqual(q({ combined_fields: { query: 'a b', fields: ['x', 'y'] } }), or(or(t('x', 'a'), t('y', 'a')), or(t('x', 'b'), t('y', 'b'))));
  });

  it('term and terms: exact values; on message a word', () => {
    assert.deepEqual(q({ term: { 'host.name': 'Web-1' } }), te('host.name', 'Web-1'));
    assert.deepEqual(q({ term: { status: { value: 404, boost: 2 } } }), te('status', '404'));
    assert.deepEqual(q({ term: { message: 'error' } }), t('message', 'error'));
    assert.deepEqual(q({ term: { ok: false } }), te('ok', 'false'));
    assert.deepEqual(q({ terms: { status: [500, 503], boost: 1 } }), or(te('status', '500'), te('status', '503')));
    assert.deepEqual(q({ terms: { status: [500] } }), te('status', '500'));
    assert.deepEqual(q({ terms: { status: [] } }), NONE);
    assert.match(unsupportedReason(() => q({ terms: { user: { index: 'users', id: '2', path: 'followers' } } })), /terms lookup/);
  });

  it('ids are _id terms', () => {
    assert.deepEqual(q({ ids: { values: ['a', 'b'] } }), or(t('_id', 'a'), t('_id', 'b')));
    assert.deepEqual(q({ ids: { values: [] } }), NONE);
  });

  it('exists, prefix (escaped), wildcard (value or wildcard key)', () => {
    assert.deepEqual(q({ exists: { field: 'user' } }), ex('user'));
    assert.deepEqual(q({ prefix: { path: '/api/v*' } }), wc('path', '/api/v\\**'));
    assert.deepEqual(q({ prefix: { path: { value: 'a?b', case_insensitive: true } } }), wc('path', 'a\\?b*'));
    assert.deepEqual(q({ wildcard: { host: 'web-*' } }), wc('host', 'web-*'));
    assert.deepEqual(q({ wildcard: { host: 'web-1' } }), te('host', 'web-1'));
    assert.deepEqual(q({ wildcard: { host: { value: 'w?b-1', case_insensitive: true } } }), wc('host', 'w?b-1'));
    assert.deepEqual(q({ wildcard: { host: { wildcard: 'db*' } } }), wc('host', 'db*'));
    assert.deepEqual(q({ wildcard: { host: 'plain' } }), te('host', 'plain'));
    assert.deepEqual(q({ wildcard: { host: 'a\\*' } }), te('host', 'a*'));
  });
});

describe('translateQuery: range', () => {
  it('numbers: gt/gte/lt/lte and legacy from/to', () => {
    assert.deepEqual(q({ range: { bytes: { gte: 10, lt: 20 } } }), { kind: 'range', field: 'bytes', gte: '10', lt: '20' });
    assert.deepEqual(q({ range: { bytes: { gt: '1.5', lte: 2 } } }), { kind: 'range', field: 'bytes', gt: '1.5', lte: '2' });
    assert.deepEqual(q({ range: { bytes: { from: 1, to: 5, include_lower: false, include_upper: true } } }), { kind: 'range', field: 'bytes', gt: '1', lte: '5' });
    assert.deepEqual(q({ range: { bytes: { from: null, to: null } } }), ex('bytes'));
    assert.deepEqual(q({ range: { name: { gte: 'a', lt: 'm' } } }), { kind: 'range', field: 'name', gte: 'a', lt: 'm' });
  });

  it('dates on @timestamp: ISO, epoch_millis, date math with rounding', () => {
    assert.deepEqual(q({ range: { '@timestamp': { gte: '2026-11-21T00:00:00Z', lte: '2026-11-21T10:00:00.5+01:00' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-21T00:00:00.000Z',
      lte: '2026-11-21T09:00:00.500Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { gte: 1795219200000, lte: '1795222800000', format: 'epoch_millis' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-21T00:00:00.000Z',
      lte: '2026-11-21T01:00:00.000Z',
    });
    // now = 2026-11-21T10:30:15.250Z; lte and gt round up, gte and lt round down
    assert.deepEqual(q({ range: { '@timestamp': { gte: 'now-1d/d', lte: 'now/d' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-20T00:00:00.000Z',
      lte: '2026-11-21T23:59:59.999999Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { gt: 'now/h', lt: 'now+1h/h' } } }), {
      kind: 'range',
      field: '@timestamp',
      gt: '2026-11-21T10:59:59.999999Z',
      lt: '2026-11-21T11:00:00.000Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { gte: 'now-15m' } } }), { kind: 'range', field: '@timestamp', gte: '2026-11-21T10:15:15.250Z' });
  });

  it('dates: anchored math, partial dates rounded up for lte, time_zone, custom formats', () => {
    assert.deepEqual(q({ range: { '@timestamp': { gte: '2026-11-01||+1M/M', lte: '2026-11-21' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-12-01T00:00:00.000Z',
      lte: '2026-11-21T23:59:59.999999Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { gte: '2026-11-21', lte: '2026-11-21', time_zone: 'Europe/Paris' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-20T23:00:00.000Z',
      lte: '2026-11-21T22:59:59.999999Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { gte: 'now/d', time_zone: '+02:00' } } }), { kind: 'range', field: '@timestamp', gte: '2026-11-20T22:00:00.000Z' });
    assert.deepEqual(q({ range: { '@timestamp': { gte: '21/11/2026 10:00:00', format: 'dd/MM/yyyy HH:mm:ss' } } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-21T10:00:00.000Z',
    });
    assert.deepEqual(q({ range: { '@timestamp': { lt: 1795219200, format: 'epoch_second' } } }), { kind: 'range', field: '@timestamp', lt: '2026-11-21T00:00:00.000Z' });
    assert.equal(requestError(() => q({ range: { '@timestamp': { gte: 'yesterday' } } })).type, 'parse_exception');
  });

  it('other fields are read as dates when their type says so (fieldType), or with a format', () => {
    const opts = { fieldType: (f: string) => (f === 'event.created' ? ('timestamp' as const) : undefined) };
    assert.deepEqual(q({ range: { 'event.created': { gte: 'now/d' } } }, opts), { kind: 'range', field: 'event.created', gte: '2026-11-21T00:00:00.000Z' });
    assert.deepEqual(q({ range: { other: { gte: 'now/d' } } }, opts), { kind: 'range', field: 'other', gte: 'now/d' });
  });

  it('refuses relations other than intersects and unknown parameters', () => {
    assert.match(unsupportedReason(() => q({ range: { x: { gte: 1, relation: 'within' } } })), /\[relation\] \[within\]/);
    assert.equal(requestError(() => q({ range: { x: { above: 1 } } })).type, 'parsing_exception');
  });
});

describe('translateQuery: bool', () => {
  it('must and filter are ANDed, must_not negated', () => {
    assert.deepEqual(
      q({ bool: { must: [{ term: { a: '1' } }], filter: { term: { b: '2' } }, must_not: [{ term: { c: '3' } }] } }),
      and(te('a', '1'), te('b', '2'), not(te('c', '3'))),
    );
    assert.deepEqual(q({ bool: { must_not: { term: { c: '3' } } } }), not(te('c', '3')));
    assert.deepEqual(q({ bool: {} }), ALL);
    assert.deepEqual(q({ bool: { filter: [{ match_all: {} }] } }), ALL);
  });

  it('should alone: at least one (default minimum_should_match 1)', () => {
    assert.deepEqual(q({ bool: { should: [{ term: { a: '1' } }, { term: { a: '2' } }] } }), or(te('a', '1'), te('a', '2')));
  });

  it('should beside must or filter: optional (default 0)', () => {
    assert.deepEqual(q({ bool: { filter: [{ term: { b: '2' } }], should: [{ term: { a: '1' } }] } }), te('b', '2'));
    assert.deepEqual(q({ bool: { must_not: [{ term: { b: '2' } }], should: [{ term: { a: '1' } }] } }), not(te('b', '2')));
  });

  it('minimum_should_match: numbers, negatives, percentages, conditionals, too many', () => {
    const should = [{ term: { a: '1' } }, { term: { a: '2' } }, { term: { a: '3' } }];
    const a1 = te('a', '1');
    const a2 = te('a', '2');
    const a3 = te('a', '3');
    const twoOfThree = or(and(a1, a2), and(a1, a3), and(a2, a3));
    assert.deepEqual(q({ bool: { should, minimum_should_match: 2 } }), twoOfThree);
    assert.deepEqual(q({ bool: { should, minimum_should_match: -1 } }), twoOfThree);
    assert.deepEqual(q({ bool: { should, minimum_should_match: '66%' } }), or(a1, a2, a3));
    assert.deepEqual(q({ bool: { should, minimum_should_match: '67%' } }), twoOfThree);
    assert.deepEqual(q({ bool: { should, minimum_should_match: '-34%' } }), twoOfThree);
    assert.deepEqual(q({ bool: { should, minimum_should_match: '-33%' } }), and(a1, a2, a3));
    assert.deepEqual(q({ bool: { should, minimum_should_match: '100%' } }), and(a1, a2, a3));
    assert.deepEqual(q({ bool: { should, minimum_should_match: 4 } }), NONE);
    assert.deepEqual(q({ bool: { filter: [{ term: { b: '1' } }], should, minimum_should_match: 1 } }), and(te('b', '1'), or(a1, a2, a3)));
    assert.deepEqual(q({ bool: { should, minimum_should_match: '2<-1' } }), twoOfThree);
    assert.deepEqual(q({ bool: { should, minimum_should_match: '3<-1' } }), and(a1, a2, a3));
  });

  it('minimumShouldMatch follows Elasticsearch arithmetic', () => {
    assert.equal(minimumShouldMatch('75%', 3), 2);
    assert.equal(minimumShouldMatch('-25%', 3), 3);
    assert.equal(minimumShouldMatch('-25%', 4), 3);
    assert.equal(minimumShouldMatch(-5, 3), 0);
    assert.equal(minimumShouldMatch('2<-25% 9<-3', 10), 7);
    assert.equal(minimumShouldMatch('2<-25% 9<-3', 5), 4);
    assert.equal(minimumShouldMatch('2<-25% 9<-3', 2), 2);
    assert.equal(requestError(() => minimumShouldMatch('lots', 3)).type, 'parsing_exception');
  });

  it('nests, with constant_score, dis_max, boosting and function_score', () => {
    assert.deepEqual(
      q({
        bool: {
          must: [{ bool: { should: [{ term: { a: '1' } }, { bool: { must_not: [{ exists: { field: 'x' } }] } }] } }],
          filter: [{ constant_score: { filter: { term: { b: '2' } }, boost: 3 } }],
        },
      }),
      and(or(te('a', '1'), not(ex('x'))), te('b', '2')),
    );
    assert.deepEqual(q({ dis_max: { queries: [{ term: { a: '1' } }, { term: { a: '2' } }], tie_breaker: 0.7 } }), or(te('a', '1'), te('a', '2')));
    assert.deepEqual(q({ boosting: { positive: { term: { a: '1' } }, negative: { term: { b: '2' } }, negative_boost: 0.5 } }), te('a', '1'));
    assert.deepEqual(q({ function_score: { query: { term: { a: '1' } }, functions: [] } }), te('a', '1'));
    assert.match(unsupportedReason(() => q({ function_score: { query: { match_all: {} }, min_score: 2 } })), /\[min_score\] of \[function_score\]/);
  });

  it('refuses unknown bool keys and several queries in one object', () => {
    assert.equal(requestError(() => q({ bool: { musts: [] } })).type, 'parsing_exception');
    const e = requestError(() => q({ term: { a: '1' }, match: { b: '2' } }));
    assert.equal(e.type, 'parsing_exception');
    assert.match(e.reason, /malformed query/);
  });
});

describe('translateQuery: unsupported and unknown queries', () => {
  for (const name of ['fuzzy', 'regexp', 'nested', 'geo_distance', 'script', 'more_like_this', 'match_phrase_prefix', 'span_term', 'percolate', 'has_child']) {
    it(`[${name}] is refused, naming it`, () => {
      assert.equal(unsupportedReason(() => q({ [name]: { field: { value: 'x' } } })), `[${name}] query is not supported by Logmill`);
    });
  }
  it('an unknown query is a parsing_exception naming it', () => {
    const e = requestError(() => q({ bool: { filter: [{ frobnicate: {} }] } }));
    assert.equal(e.type, 'parsing_exception');
    assert.equal(e.reason, 'unknown query [frobnicate]');
  });
  it('unsupported parts deep inside a bool are found', () => {
    assert.match(unsupportedReason(() => q({ bool: { must: [{ bool: { should: [{ regexp: { host: 'w.*' } }] } }] } })), /\[regexp\] query/);
  });
});

describe('translateQuery: field resolution', () => {
  it('resolveField maps fields; a .keyword it maps to its text field stays .keyword in queries (the whole value)', () => {
    const opts = { resolveField: (f: string) => (f === 'hostname' ? 'host' : f.replace(/\.keyword$/, '')) };
    assert.deepEqual(
      q({ bool: { filter: [{ term: { 'host.keyword': 'a' } }, { terms: { 'level.keyword': ['x'] } }, { exists: { field: 'user.keyword' } }, { term: { hostname: 'b' } }] } }, opts),
      and(te('host.keyword', 'a'), te('level.keyword', 'x'), ex('user.keyword'), te('host', 'b')),
    );
    assert.deepEqual(q({ query_string: { query: 'host.keyword:a b' } }, opts), or(t('host.keyword', 'a'), t(null, 'b')));
  });
});

describe('query strings (query_string, q=)', () => {
  it('default operator OR, Lucene style', () => {
    assert.deepEqual(qs('error timeout'), or(t(null, 'error'), t(null, 'timeout')));
    assert.deepEqual(qs('a AND b c'), or(and(t(null, 'a'), t(null, 'b')), t(null, 'c')));
    assert.deepEqual(qs('a AND (b c)'), and(t(null, 'a'), or(t(null, 'b'), t(null, 'c'))));
    assert.deepEqual(qs('a -b'), and(t(null, 'a'), not(t(null, 'b'))));
    assert.deepEqual(qs('+a b -c'), and(t(null, 'a'), not(t(null, 'c'))));
    assert.deepEqual(qs('NOT a'), not(t(null, 'a')));
    assert.deepEqual(qs('a OR b'), or(t(null, 'a'), t(null, 'b')));
    assert.deepEqual(qs('* -level:debug'), not(t('level', 'debug')));
    assert.deepEqual(qs('*:*'), ALL);
    assert.deepEqual(qs(''), ALL);
  });

  it('default operator AND: juxtaposition is AND', () => {
    assert.deepEqual(qs('error timeout', { defaultOperator: 'AND' }), and(t(null, 'error'), t(null, 'timeout')));
    assert.deepEqual(qs('a b OR c', { defaultOperator: 'and' }), or(and(t(null, 'a'), t(null, 'b')), t(null, 'c')));
  });

  it('fields, phrases, wildcards, ranges, _exists_ and field groups', () => {
    assert.deepEqual(qs('status:500 "connection refused"'), or(t('status', '500'), ph(null, 'connection refused')));
    assert.deepEqual(qs('host:(web-1 web-2) AND status:[500 TO 599]'), and(or(t('host', 'web-1'), t('host', 'web-2')), { kind: 'range', field: 'status', gte: '500', lte: '599' }));
    assert.deepEqual(qs('host:web-* _exists_:user bytes:>1000'), or(wc('host', 'web-*'), ex('user'), { kind: 'range', field: 'bytes', gt: '1000' }));
    assert.deepEqual(qs('@timestamp:[now-1h TO now]'), { kind: 'range', field: '@timestamp', gte: '2026-11-21T09:30:15.250Z', lte: '2026-11-21T10:30:15.250Z' });
    assert.deepEqual(q({ query_string: { query: '@timestamp:[2026-11-20 TO 2026-11-21}', time_zone: '+01:00' } }), {
      kind: 'range',
      field: '@timestamp',
      gte: '2026-11-19T23:00:00.000Z',
      lt: '2026-11-20T23:00:00.000Z',
    });
    assert.deepEqual(qs('bytes:[1 TO 5]'), { kind: 'range', field: 'bytes', gte: '1', lte: '5' });
  });

  it('default_field and fields apply to bare words only', () => {
    assert.deepEqual(qs('web-1 level:error', { defaultField: 'host' }), or(t('host', 'web-1'), t('level', 'error')));
    assert.deepEqual(qs('a', { defaultField: '*' }), t(null, 'a'));
    assert.deepEqual(qs('a', { fields: ['message', 'host^2'] }), or(t('message', 'a'), t('host', 'a')));
    assert.deepEqual(translateQuery({ query_string: { query: 'x y', default_field: 'host', default_operator: 'AND' } }, { nowMs: NOW }).kind, 'and');
    assert.deepEqual(q({ query_string: { query: 'x', fields: ['a', 'b'] } }), or(t('a', 'x'), t('b', 'x')));
  });

  it('boosts are dropped; fuzzy, proximity and regular expressions are refused', () => {
    assert.deepEqual(qs('title:foo^2 bar'), or(t('title', 'foo'), t(null, 'bar')));
    assert.deepEqual(qs('"a b"^3 c'), or(ph(null, 'a b'), t(null, 'c')));
    assert.deepEqual(qs('(a b)^2'), or(t(null, 'a'), t(null, 'b')));
    assert.match(unsupportedReason(() => qs('foo~2')), /fuzzy search \[foo~2\]/);
    assert.match(unsupportedReason(() => qs('host:foo~')), /fuzzy search/);
    assert.match(unsupportedReason(() => qs('"a b"~2')), /proximity search/);
    assert.match(unsupportedReason(() => qs('/ab.*c/')), /regular expression \[\/ab\.\*c\/\]/);
    assert.deepEqual(qs('path:\\/api\\/v1'), t('path', '/api/v1'));
  });

  it('syntax errors are QuerySyntaxError, as in the native API', () => {
    assert.throws(() => qs('a AND'), QuerySyntaxError);
    assert.throws(() => q({ query_string: { query: '(a' } }), QuerySyntaxError);
  });

  it('query_string refuses minimum_should_match', () => {
    assert.match(unsupportedReason(() => q({ query_string: { query: 'a b', minimum_should_match: 2 } })), /minimum_should_match/);
  });
});

describe('simple_query_string', () => {
  it('OR by default: -x is OR NOT x, as in Elasticsearch', () => {
    assert.deepEqual(q({ simple_query_string: { query: 'foo bar -baz' } }), or(or(t(null, 'foo'), t(null, 'bar')), not(t(null, 'baz'))));
  });
  it('+ and |, phrases, prefixes, parentheses, AND default', () => {
    assert.deepEqual(q({ simple_query_string: { query: 'a + b | c' } }), or(and(t(null, 'a'), t(null, 'b')), t(null, 'c')));
    assert.deepEqual(q({ simple_query_string: { query: '"disk full" + err*', default_operator: 'and' } }), and(ph(null, 'disk full'), wc(null, 'err*')));
    assert.deepEqual(q({ simple_query_string: { query: 'a -(b | c)', default_operator: 'AND' } }), and(t(null, 'a'), not(or(t(null, 'b'), t(null, 'c')))));
    assert.deepEqual(q({ simple_query_string: { query: 'web-1', fields: ['host', 'message'] } }), or(t('host', 'web-1'), t('message', 'web-1')));
    assert.deepEqual(q({ simple_query_string: { query: '' } }), ALL);
  });
  it('fuzzy and proximity are refused', () => {
    assert.match(unsupportedReason(() => q({ simple_query_string: { query: 'quikc~2' } })), /fuzzy/);
    assert.match(unsupportedReason(() => q({ simple_query_string: { query: '"a b"~3' } })), /proximity/);
  });
});

describe('indexFilter', () => {
  it('names, comma lists, wildcards, exclusions, _all', () => {
    assert.deepEqual(strip(indexFilter('logs-a')), t('_index', 'logs-a'));
    assert.deepEqual(strip(indexFilter('logs-a,metrics')), or(t('_index', 'logs-a'), t('_index', 'metrics')));
    assert.deepEqual(strip(indexFilter('logs-*')), wc('_index', 'logs-*'));
    assert.deepEqual(strip(indexFilter('logs-*,-logs-debug-*')), and(wc('_index', 'logs-*'), not(wc('_index', 'logs-debug-*'))));
    assert.deepEqual(strip(indexFilter('*,-logs-x')), not(t('_index', 'logs-x')));
    assert.deepEqual(strip(indexFilter('_all')), ALL);
    assert.deepEqual(strip(indexFilter('*')), ALL);
    assert.deepEqual(strip(indexFilter('')), ALL);
    assert.deepEqual(strip(indexFilter('a?b*')), wc('_index', 'a\\?b*'));
  });
  it('refuses date math names and remote clusters', () => {
    assert.match(unsupportedReason(() => indexFilter('<logs-{now/d}>')), /date math in index names/);
    assert.match(unsupportedReason(() => indexFilter('remote:logs')), /cross-cluster search/);
  });
});

describe('dates', () => {
  it('time zone offsets, fixed and named, across daylight saving', () => {
    assert.equal(zoneOffsetMs('UTC', NOW), 0);
    assert.equal(zoneOffsetMs('+05:30', NOW), 5.5 * 3_600_000);
    assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(2026, 0, 1)), 3_600_000);
    assert.equal(zoneOffsetMs('Europe/Paris', Date.UTC(2026, 6, 1)), 7_200_000);
    assert.equal(requestError(() => parseDateMath('now', { nowMs: NOW, timeZone: 'Mars/Olympus' })).type, 'illegal_argument_exception');
  });

  it('calendar floors and steps in a zone', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.equal(iso(calendarFloorMs(Date.UTC(2026, 10, 21, 23, 30), 'day', 'Europe/Paris')), '2026-11-21T23:00:00.000Z');
    assert.equal(iso(calendarFloorMs(Date.UTC(2026, 10, 21, 10), 'week')), '2026-11-16T00:00:00.000Z');
    assert.equal(iso(calendarFloorMs(Date.UTC(2026, 10, 21, 10), 'quarter')), '2026-10-01T00:00:00.000Z');
    // 29 March 2026 has 23 hours in Paris
    assert.equal(iso(calendarAddMs(Date.UTC(2026, 2, 28, 23), 'day', 1, 'Europe/Paris')), '2026-03-29T22:00:00.000Z');
    assert.equal(iso(calendarAddMs(Date.UTC(2026, 0, 31), 'month', 1)), '2026-03-03T00:00:00.000Z');
  });

  it('formats key_as_string like Elasticsearch', () => {
    const us = Date.UTC(2026, 10, 21, 10, 0, 0) * 1000;
    assert.equal(formatDate(us, undefined), '2026-11-21T10:00:00.000Z');
    assert.equal(formatDate(us, undefined, 'Europe/Paris'), '2026-11-21T11:00:00.000+01:00');
    assert.equal(formatDate(us, 'epoch_millis'), String(us / 1000));
    assert.equal(formatDate(us, 'yyyy-MM-dd'), '2026-11-21');
    assert.equal(formatDate(us + 123456, "yyyy/MM/dd HH:mm:ss.SSSSSS'Z'"), '2026/11/21 10:00:00.123456Z');
    assert.equal(formatDate(us, 'strict_date_time_no_millis||epoch_millis', '-05:00'), '2026-11-21T05:00:00-05:00');
  });

  it('splitTimeRange takes top-level @timestamp bounds (half-open) out of the filter', () => {
    const term = translateQuery({ term: { a: 'b' } });
    const filter: FilterNode = translateQuery({ bool: { filter: [{ range: { '@timestamp': { gte: '2026-11-21T00:00:00Z', lte: '2026-11-21T01:00:00.000Z' } } }, { term: { a: 'b' } }] } });
    assert.deepEqual(splitTimeRange(filter, NOW), { range: { fromMicros: Date.UTC(2026, 10, 21) * 1000, toMicros: Date.UTC(2026, 10, 21, 1) * 1000 + 1 }, filter: term });
    // lte without milliseconds covers the whole second, as in Elasticsearch
    const seconds = translateQuery({ range: { '@timestamp': { lte: '2026-11-21T01:00:00Z' } } });
    assert.deepEqual(splitTimeRange(seconds, NOW), { range: { fromMicros: 0, toMicros: Date.UTC(2026, 10, 21, 1, 0, 1) * 1000 }, filter: { kind: 'all' } });
    assert.deepEqual(splitTimeRange(term, NOW), { filter: term });
    // inside an OR the bounds do not restrict the whole filter, and stay where they are
    const or = translateQuery({ bool: { should: [{ range: { '@timestamp': { gte: 'now-1h' } } }, { term: { a: 'b' } }] } });
    assert.deepEqual(splitTimeRange(or, NOW), { filter: or });
    // a bound that cannot be read keeps its range in the filter; the bounds that can still narrow the range
    const odd: FilterNode = { kind: 'range', field: '@timestamp', gte: '2026-11-21T00:00:00Z', lt: 'not a date', span: { start: 0, end: 0 } };
    const both: FilterNode = { kind: 'and', children: [odd, term] };
    assert.deepEqual(splitTimeRange(both, NOW), { range: { fromMicros: Date.UTC(2026, 10, 21) * 1000, toMicros: Date.UTC(10000, 0, 1) * 1000 }, filter: both });
  });
});
