/**
 * Elasticsearch's query DSL, Lucene query strings and index patterns, turned
 * into Logmill's filter tree (src/query/ast.ts). Pure: no I/O, no store.
 *
 * Semantics, where Logmill cannot be Elasticsearch:
 *  - Nothing is scored. Every hit scores 1.0; `should` clauses count only as
 *    far as `minimum_should_match` makes them required.
 *  - Every string field is `text` with a `keyword` sub-field, as Elasticsearch's
 *    dynamic mapping makes it: `match` and query-string words match its words,
 *    `match_phrase` its words in a row, case-insensitively; `f.keyword` is the
 *    whole value, case-sensitively. `term`, `terms` and a `wildcard` without
 *    wildcards compare a string field's whole value, case-insensitively (more
 *    forgiving than Elasticsearch, where `term` on a text field finds one token).
 *  - A query string without a field (and `default_field: "*"`) searches the message by word and every other string field by value (the bare-word rule of docs/query-language.md); a named `default_field` searches only it.
 *  - `default_operator` (query_string and `q=`) defaults to OR, as in
 *    Elasticsearch: Lucene's boolean rules apply (`a b` is a OR b, `+a b` is a,
 *    `a -b` is a AND NOT b; AND binds tighter than juxtaposition). With AND,
 *    juxtaposition is AND, exactly as Logmill's own query language reads it.
 *  - Date bounds on date fields (`range`, and ranges in query strings) are
 *    resolved here (date math, rounding up for gt/lte, `format`, `time_zone`)
 *    to ISO-8601 with microseconds; other bounds stay as written.
 *  - `.keyword` and other field aliases are the caller's: TranslateOptions.resolveField.
 *  - Anything that cannot be answered exactly throws UnsupportedQuery, whose
 *    reason names the part (`[fuzzy] query is not supported by Logmill`).
 */
import { isTimeZone, zoneOffsetMs as coreZoneOffsetMs } from '../../core/zones.js';
import { patternParts } from '../../core/date-pattern.js';
import type { FieldType } from '../../core/event.js';
import { microsToIso } from '../../core/time.js';
import { words } from '../../core/tokens.js';
import type { FilterNode, Span } from '../../query/ast.js';
import { KEYWORD_SUFFIX } from '../../query/dialects/dialect.js';
import { parseFilter } from '../../query/parse.js';
import type { TimeRange } from '../../store/store.js';

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** A request Elasticsearch would refuse: answered as `{error: {type, reason}, status}`. */
export class EsRequestError extends Error {
  constructor(
    readonly type: string,
    readonly reason: string,
    readonly status = 400,
  ) {
    super(reason);
    this.name = 'EsRequestError';
  }
}

/** A valid request using a part of Elasticsearch that Logmill does not answer. */
export class UnsupportedQuery extends EsRequestError {
  constructor(reason: string) {
    super('parsing_exception', reason, 400);
    this.name = 'UnsupportedQuery';
  }
}

/** `[fuzzy] query` → `[fuzzy] query is not supported by Logmill`. */
export function unsupported(what: string, why?: string): UnsupportedQuery {
  return new UnsupportedQuery(`${what} is not supported by Logmill${why ? `: ${why}` : ''}`);
}

function malformed(reason: string): EsRequestError {
  return new EsRequestError('parsing_exception', reason);
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

export interface TranslateOptions {
  /** The time `now` in date math means; default Date.now(). */
  nowMs?: number;
  /** Maps a field as the client names it to the stored field (e.g. `host.keyword` → `host`). Default: unchanged. */
  resolveField?: (name: string) => string;
  /** A stored field's type, when known: range bounds on timestamp fields are read as dates. */
  fieldType?: (name: string) => FieldType | undefined;
}

/** The one full-text field. */
export const FULL_TEXT_FIELD = 'message';
/** A query string's default field `*`: bare words stay bare (every string field). */
const ANY_FIELD = '\u0000any';

// ---------------------------------------------------------------------------
// Node constructors
// ---------------------------------------------------------------------------

function noSpan(): Span {
  return { start: 0, end: 0 };
}

export const MATCH_ALL: FilterNode = { kind: 'all' };

/** Matches nothing (an empty OR compiles to FALSE). */
export function matchNone(): FilterNode {
  return { kind: 'or', children: [] };
}

function isNone(n: FilterNode): boolean {
  return n.kind === 'or' && n.children.length === 0;
}

function term(field: string | null, value: string): FilterNode {
  return { kind: 'term', field, value, span: noSpan() };
}

/** A string field's whole value (case-insensitively), as Elasticsearch's `term` on a keyword. */
function exactTerm(field: string, value: string): FilterNode {
  // On the message, Elasticsearch's `term` finds one of its words: no whole value to compare.
  if (field === FULL_TEXT_FIELD) return term(field, value);
  return { kind: 'term', field, value, span: noSpan(), exact: true };
}

function phrase(field: string | null, value: string): FilterNode {
  return { kind: 'phrase', field, value, span: noSpan() };
}

function wildcard(field: string | null, pattern: string): FilterNode {
  return { kind: 'wildcard', field, pattern, span: noSpan() };
}

function exists(field: string): FilterNode {
  return { kind: 'exists', field, span: noSpan() };
}

/** `field` has a value. */
export function existsNode(field: string): FilterNode {
  return exists(field);
}

/** AND of the children: match-alls dropped, a single child returned alone. */
export function andOf(children: FilterNode[]): FilterNode {
  const kept = children.filter((c) => c.kind !== 'all');
  if (kept.some(isNone)) return matchNone();
  if (kept.length === 0) return { kind: 'all' };
  if (kept.length === 1) return kept[0];
  return { kind: 'and', children: kept };
}

/** OR of the children: match-nones dropped, a single child returned alone. */
export function orOf(children: FilterNode[]): FilterNode {
  if (children.some((c) => c.kind === 'all')) return { kind: 'all' };
  const kept = children.filter((c) => !isNone(c));
  if (kept.length === 0) return matchNone();
  if (kept.length === 1) return kept[0];
  return { kind: 'or', children: kept };
}

export function notOf(child: FilterNode): FilterNode {
  if (child.kind === 'all') return matchNone();
  if (isNone(child)) return { kind: 'all' };
  return { kind: 'not', child };
}

/** At least `k` of `clauses` (minimum_should_match), spelled out as an OR of ANDs. */
function atLeast(clauses: FilterNode[], k: number): FilterNode {
  const n = clauses.length;
  if (k <= 0) return { kind: 'all' };
  if (k > n) return matchNone();
  if (k === 1) return orOf(clauses);
  if (k === n) return andOf(clauses);
  if (binomial(n, k) > 1024) {
    throw unsupported(`[minimum_should_match] of ${k} out of ${n} clauses`, 'it would need more than 1024 combinations');
  }
  const out: FilterNode[] = [];
  const pick = (start: number, chosen: FilterNode[]): void => {
    if (chosen.length === k) {
      out.push(andOf(chosen));
      return;
    }
    for (let i = start; i <= n - (k - chosen.length); i++) pick(i + 1, [...chosen, clauses[i]]);
  };
  pick(0, []);
  return orOf(out);
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * Elasticsearch's minimum_should_match: `2`, `-1`, `75%`, `-25%`, `3<90%`,
 * `2<-25% 9<-3`. Returns the number of optional clauses that must match.
 */
export function minimumShouldMatch(spec: unknown, optional: number): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec)) throw malformed(`[minimum_should_match] must be a whole number or a percentage, got [${spec}]`);
    return Math.max(0, spec < 0 ? optional + spec : spec);
  }
  if (typeof spec !== 'string') throw malformed(`[minimum_should_match] must be a number or a string, got [${JSON.stringify(spec)}]`);
  const text = spec.trim().replace(/\s*<\s*/g, '<');
  if (text.includes('<')) {
    let result = optional;
    for (const part of text.split(/\s+/)) {
      const [bound, value] = part.split('<');
      const upper = Number(bound);
      if (!Number.isInteger(upper) || value === undefined) throw malformed(`[minimum_should_match] cannot read [${spec}]`);
      if (optional <= upper) return result;
      result = minimumShouldMatch(value, optional);
    }
    return result;
  }
  if (text.endsWith('%')) {
    const percent = Number(text.slice(0, -1));
    if (!Number.isFinite(percent)) throw malformed(`[minimum_should_match] cannot read [${spec}]`);
    const calc = (optional * percent) / 100;
    const result = calc < 0 ? optional + Math.trunc(calc) : Math.trunc(calc);
    return Math.max(0, result);
  }
  const n = Number(text);
  if (!Number.isInteger(n) || text === '') throw malformed(`[minimum_should_match] cannot read [${spec}]`);
  return Math.max(0, n < 0 ? optional + n : n);
}

// ---------------------------------------------------------------------------
// Index patterns
// ---------------------------------------------------------------------------

/**
 * The filter on `_index` an index expression means: `logs-*`, `a,b`,
 * `logs-*,-logs-debug-*`; `_all`, `*` and the empty expression mean everything.
 */
export function indexFilter(pattern: string): FilterNode {
  const parts = pattern
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const includes: FilterNode[] = [];
  const excludes: FilterNode[] = [];
  for (const part of parts) {
    if (part.startsWith('<')) throw unsupported(`date math in index names [${part}]`);
    if (/^[^*]*:/.test(part)) throw unsupported(`cross-cluster search [${part}]`);
    if (part.startsWith('-') && part.length > 1) excludes.push(oneIndex(part.slice(1)));
    else includes.push(oneIndex(part));
  }
  const include = includes.length === 0 ? MATCH_ALL : orOf(includes);
  return andOf([include, ...excludes.map(notOf)]);
}

function oneIndex(name: string): FilterNode {
  if (name === '_all' || name === '*') return { kind: 'all' };
  if (!name.includes('*')) return term('_index', name);
  // Only `*` is a wildcard in index patterns; `?` and `\` are literal.
  return wildcard('_index', name.replace(/[\\?]/g, (c) => '\\' + c));
}

// ---------------------------------------------------------------------------
// The query DSL
// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Elasticsearch query (`query` of a search body) as a filter. Absent or `{}`: everything. */
export function translateQuery(query: unknown, opts: TranslateOptions = {}): FilterNode {
  return new Translator(opts).query(query, 'query');
}

/**
 * A Lucene query string (`q=`, `query_string`) as a filter. `defaultOperator`
 * defaults to OR (see the file comment); fields default to `message`.
 */
export interface QueryStringOptions extends TranslateOptions {
  defaultField?: string;
  fields?: string[];
  defaultOperator?: string;
  /** Zone of dates without an offset in ranges on date fields. */
  timeZone?: string;
}

export function translateQueryString(text: string, opts: QueryStringOptions = {}): FilterNode {
  return new Translator(opts).queryString(text, opts);
}

/** What the query-string path needs of a leaf: it has a span (and/or/not/all do not). */
type Leaf = Extract<FilterNode, { span: Span }>;

const QUERY_NAMES_UNSUPPORTED = new Set([
  'fuzzy',
  'regexp',
  'nested',
  'has_child',
  'has_parent',
  'parent_id',
  'geo_bounding_box',
  'geo_distance',
  'geo_polygon',
  'geo_shape',
  'shape',
  'more_like_this',
  'script',
  'script_score',
  'percolate',
  'rank_feature',
  'distance_feature',
  'wrapper',
  'pinned',
  'span_term',
  'span_near',
  'span_or',
  'span_not',
  'span_first',
  'span_containing',
  'span_within',
  'span_multi',
  'field_masking_span',
  'intervals',
  'match_phrase_prefix',
  'match_bool_prefix',
  'terms_set',
  'knn',
  'sparse_vector',
  'semantic',
  'text_expansion',
  'weighted_tokens',
  'rule',
]);

const IGNORED_PARAMS = new Set(['boost', '_name']);

class Translator {
  private readonly nowMs: number;

  constructor(private readonly opts: TranslateOptions) {
    this.nowMs = opts.nowMs ?? Date.now();
  }

  private field(name: string): string {
    const resolved = this.opts.resolveField ? this.opts.resolveField(name) : name;
    // `f.keyword` stays itself in queries: the store reads it as f's whole value, case-sensitively.
    return resolved !== name && name === `${resolved}${KEYWORD_SUFFIX}` ? name : resolved;
  }

  /** A field the client named, resolved; `*` and `_all` mean the full-text field. */
  private textField(name: string): string {
    if (name === '*' || name === '_all') return FULL_TEXT_FIELD;
    if (name.includes('*')) throw unsupported(`field pattern [${name}]`, 'name the fields');
    return this.field(name.replace(/\^[\d.]+$/, ''));
  }

  query(q: unknown, where: string): FilterNode {
    if (q === undefined || q === null) return { kind: 'all' };
    if (!isObj(q)) throw malformed(`[${where}] must be an object, got ${JSON.stringify(q)}`);
    const names = Object.keys(q);
    if (names.length === 0) return { kind: 'all' };
    if (names.length > 1) {
      throw malformed(`[${names[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] (${names.join(', ')} in one object)`);
    }
    const name = names[0];
    const body = q[name];
    switch (name) {
      case 'match_all':
        return { kind: 'all' };
      case 'match_none':
        return matchNone();
      case 'bool':
        return this.bool(body);
      case 'constant_score':
        return this.query(objOf(body, name).filter, 'constant_score.filter');
      case 'dis_max': {
        const queries = objOf(body, name).queries;
        return orOf(listOf(queries).map((x) => this.query(x, 'dis_max.queries')));
      }
      case 'boosting':
        // negative only lowers scores
        return this.query(objOf(body, name).positive, 'boosting.positive');
      case 'function_score': {
        const o = objOf(body, name);
        if (o.min_score !== undefined) throw unsupported('[min_score] of [function_score]', 'Logmill does not score documents');
        return this.query(o.query, 'function_score.query');
      }
      case 'match':
        return this.fieldQuery(name, body, (f, v) => this.match(f, v));
      case 'match_phrase':
        return this.fieldQuery(name, body, (f, v) => this.matchPhrase(f, v));
      case 'multi_match':
        return this.multiMatch(objOf(body, name));
      case 'combined_fields':
        return this.combinedFields(objOf(body, name));
      case 'term':
        return this.fieldQuery(name, body, (f, v) => this.term(f, v));
      case 'terms':
        return this.terms(objOf(body, name));
      case 'range':
        return this.fieldQuery(name, body, (f, v) => this.range(f, v));
      case 'exists': {
        const field = objOf(body, name).field;
        if (typeof field !== 'string') throw malformed('[exists] must be provided with a [field]');
        if (field.includes('*')) throw unsupported(`field pattern [${field}] in [exists]`);
        return exists(this.field(field));
      }
      case 'prefix':
        return this.fieldQuery(name, body, (f, v) => this.prefix(f, v));
      case 'wildcard':
        return this.fieldQuery(name, body, (f, v) => this.wildcard(f, v));
      case 'ids': {
        const values = objOf(body, name).values;
        return orOf(listOf(values).map((v) => term('_id', scalarText(v, 'ids'))));
      }
      case 'query_string':
        return this.queryStringQuery(objOf(body, name));
      case 'simple_query_string':
        return this.simpleQueryString(objOf(body, name));
      default:
        if (QUERY_NAMES_UNSUPPORTED.has(name)) throw unsupported(`[${name}] query`);
        throw new EsRequestError('parsing_exception', `unknown query [${name}]`);
    }
  }

  /** `{field: value}` or `{field: {...params}}`, with boost/_name beside the field ignored. */
  private fieldQuery(name: string, body: unknown, build: (field: string, spec: unknown) => FilterNode): FilterNode {
    const o = objOf(body, name);
    const fields = Object.keys(o).filter((k) => !IGNORED_PARAMS.has(k));
    if (fields.length !== 1) {
      throw malformed(`[${name}] query ${fields.length === 0 ? 'needs a field' : `doesn't support multiple fields, found [${fields.join('] and [')}]`}`);
    }
    return build(fields[0], o[fields[0]]);
  }

  private bool(body: unknown): FilterNode {
    const o = objOf(body, 'bool');
    for (const key of Object.keys(o)) {
      if (!['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name', 'adjust_pure_negative'].includes(key)) {
        throw malformed(`[bool] query does not support [${key}]`);
      }
    }
    const musts = [...clauses(o.must), ...clauses(o.filter)].map((c) => this.query(c, 'bool'));
    const nots = clauses(o.must_not).map((c) => notOf(this.query(c, 'bool.must_not')));
    const shoulds = clauses(o.should).map((c) => this.query(c, 'bool.should'));
    let parts = [...musts, ...nots];
    if (shoulds.length > 0) {
      const required = o.minimum_should_match !== undefined ? minimumShouldMatch(o.minimum_should_match, shoulds.length) : musts.length + nots.length > 0 ? 0 : 1;
      parts = [...parts, atLeast(shoulds, required)];
    }
    return andOf(parts);
  }

  private match(field: string, spec: unknown): FilterNode {
    const o = isObj(spec) ? spec : { query: spec };
    for (const key of Object.keys(o)) {
      if (
        ![
          'query',
          'operator',
          'minimum_should_match',
          'zero_terms_query',
          'analyzer',
          'lenient',
          'boost',
          '_name',
          'auto_generate_synonyms_phrase_query',
          'fuzzy_transpositions',
          'max_expansions',
          'prefix_length',
          'type',
          'fuzzy_rewrite',
          'fuzziness',
          'cutoff_frequency',
          'slop',
        ].includes(key)
      ) {
        throw malformed(`[match] query does not support [${key}]`);
      }
    }
    if (o.fuzziness !== undefined && o.fuzziness !== 0 && o.fuzziness !== '0') throw unsupported('[fuzziness] in [match] query');
    if (o.type === 'phrase') return this.matchPhrase(field, o);
    if (o.type === 'phrase_prefix') throw unsupported('[match] query of type [phrase_prefix]');
    const value = scalarText(o.query, 'match');
    return this.analyzed(this.textField(field), value, operatorOf(o.operator, 'or'), o.minimum_should_match, o.zero_terms_query);
  }

  /**
   * A value matched as Elasticsearch's match query would: any of its words (or all, by `operator`)
   * in a text field, which every string field is; the value itself in a number, time or `.keyword`.
   */
  private analyzed(field: string, value: string, operator: 'and' | 'or', msm: unknown, zeroTerms: unknown): FilterNode {
    const type = field === FULL_TEXT_FIELD ? 'string' : this.opts.fieldType?.(field);
    if (field.endsWith(KEYWORD_SUFFIX) || (type !== undefined && type !== 'string')) return term(field, value);
    const ws = words(value);
    if (ws.length === 0) return zeroTerms === 'all' ? { kind: 'all' } : matchNone();
    const terms = ws.map((w) => term(field, w));
    if (operator === 'and') return andOf(terms);
    return atLeast(terms, msm === undefined ? 1 : Math.max(1, minimumShouldMatch(msm, terms.length)));
  }

  private matchPhrase(field: string, spec: unknown): FilterNode {
    const o = isObj(spec) ? spec : { query: spec };
    const slop = o.slop;
    if (slop !== undefined && Number(slop) !== 0) throw unsupported('[slop] in [match_phrase] query');
    const f = this.textField(field);
    const value = scalarText(o.query, 'match_phrase');
    if (f === FULL_TEXT_FIELD && words(value).length === 0) return o.zero_terms_query === 'all' ? { kind: 'all' } : matchNone();
    // On a text field the phrase's words in a row; on `.keyword` the whole value (the store decides by the field).
    return phrase(f, value);
  }

  private multiMatch(o: Obj): FilterNode {
    const value = scalarText(o.query, 'multi_match');
    const fields = this.fieldList(o.fields);
    const type = typeof o.type === 'string' ? o.type : 'best_fields';
    if (o.fuzziness !== undefined && o.fuzziness !== 0 && o.fuzziness !== '0') throw unsupported('[fuzziness] in [multi_match] query');
    const operator = operatorOf(o.operator, 'or');
    switch (type) {
      case 'best_fields':
      case 'most_fields':
        return orOf(fields.map((f) => this.analyzed(f, value, operator, o.minimum_should_match, o.zero_terms_query)));
      case 'phrase':
        if (o.slop !== undefined && Number(o.slop) !== 0) throw unsupported('[slop] in [multi_match] query');
        return orOf(fields.map((f) => (f === FULL_TEXT_FIELD && words(value).length === 0 ? matchNone() : phrase(f, value))));
      case 'cross_fields':
        return this.crossFields(fields, value, operator, o.minimum_should_match);
      default:
        throw unsupported(`[multi_match] query of type [${type}]`);
    }
  }

  private combinedFields(o: Obj): FilterNode {
    const value = scalarText(o.query, 'combined_fields');
    return this.crossFields(this.fieldList(o.fields), value, operatorOf(o.operator, 'or'), o.minimum_should_match);
  }

  /** Words blended across fields: each word must be found in one of the fields (AND), or any word in any (OR). */
  private crossFields(fields: string[], value: string, operator: 'and' | 'or', msm: unknown): FilterNode {
    const perWord = words(value).map((w) => orOf(fields.map((f) => term(f, w))));
    if (perWord.length === 0) return matchNone();
    if (operator === 'and') return andOf(perWord);
    return atLeast(perWord, msm === undefined ? 1 : Math.max(1, minimumShouldMatch(msm, perWord.length)));
  }

  /** The fields a query string's bare words go to: `*` (the default) leaves them bare (see ANY_FIELD). */
  private queryStringTargets(fields: string[]): string[] {
    return [...new Set(fields.map((f) => (f === '*' || f === '_all' ? ANY_FIELD : this.textField(f))))];
  }

  private fieldList(fields: unknown): string[] {
    if (fields === undefined) return [FULL_TEXT_FIELD];
    const list = listOf(fields).map((f) => {
      if (typeof f !== 'string') throw malformed(`[fields] must hold field names, got ${JSON.stringify(f)}`);
      return this.textField(f);
    });
    return [...new Set(list)];
  }

  private term(field: string, spec: unknown): FilterNode {
    const o = isObj(spec) ? spec : { value: spec };
    return exactTerm(this.field(field), scalarText(o.value, 'term'));
  }

  private terms(o: Obj): FilterNode {
    const fields = Object.keys(o).filter((k) => !IGNORED_PARAMS.has(k));
    if (fields.length !== 1) throw malformed(`[terms] query needs exactly one field, found [${fields.join('], [')}]`);
    const values = o[fields[0]];
    if (isObj(values)) throw unsupported('terms lookup in [terms] query');
    if (!Array.isArray(values)) throw malformed(`[terms] query requires an array of values for [${fields[0]}]`);
    const field = this.field(fields[0]);
    return orOf(values.map((v) => exactTerm(field, scalarText(v, 'terms'))));
  }

  private prefix(field: string, spec: unknown): FilterNode {
    const o = isObj(spec) ? spec : { value: spec };
    const value = scalarText(o.value, 'prefix');
    return wildcard(this.field(field), escapeWildcard(value) + '*');
  }

  private wildcard(field: string, spec: unknown): FilterNode {
    const o = isObj(spec) ? spec : { value: spec };
    const value = scalarText(o.value ?? o.wildcard, 'wildcard');
    const f = this.field(field);
    if (!/(?<!\\)(?:\\\\)*[*?]/.test(value)) return exactTerm(f, value.replace(/\\(.)/g, '$1'));
    return wildcard(f, value);
  }

  private range(field: string, spec: unknown): FilterNode {
    if (!isObj(spec)) throw malformed(`[range] query malformed, no start_object after query name`);
    const f = this.field(field);
    const o = spec;
    for (const key of Object.keys(o)) {
      if (!['gt', 'gte', 'lt', 'lte', 'from', 'to', 'include_lower', 'include_upper', 'format', 'time_zone', 'relation', 'boost', '_name'].includes(key)) {
        throw malformed(`[range] query does not support [${key}]`);
      }
    }
    if (o.relation !== undefined && String(o.relation).toUpperCase() !== 'INTERSECTS') throw unsupported(`[relation] [${String(o.relation)}] in [range] query`);
    const bounds: { gt?: unknown; gte?: unknown; lt?: unknown; lte?: unknown } = {};
    if (o.from !== undefined && o.from !== null) {
      if (o.include_lower === false) bounds.gt = o.from;
      else bounds.gte = o.from;
    }
    if (o.to !== undefined && o.to !== null) {
      if (o.include_upper === false) bounds.lt = o.to;
      else bounds.lte = o.to;
    }
    for (const k of ['gt', 'gte', 'lt', 'lte'] as const) if (o[k] !== undefined && o[k] !== null) bounds[k] = o[k];
    const type = f === '@timestamp' ? 'timestamp' : this.opts.fieldType?.(f);
    const dates = type === 'timestamp' || o.format !== undefined || o.time_zone !== undefined;
    const node: Extract<FilterNode, { kind: 'range' }> = { kind: 'range', field: f, span: noSpan() };
    const formats = typeof o.format === 'string' ? o.format.split('||').map((s) => s.trim()) : undefined;
    const tz = typeof o.time_zone === 'string' ? checkTimeZone(o.time_zone) : undefined;
    for (const k of ['gt', 'gte', 'lt', 'lte'] as const) {
      const v = bounds[k];
      if (v === undefined) continue;
      if (typeof v !== 'string' && typeof v !== 'number') throw malformed(`[range] bound [${k}] must be a string or a number, got ${JSON.stringify(v)}`);
      if (dates) {
        const micros = parseDateMath(v, { nowMs: this.nowMs, roundUp: k === 'gt' || k === 'lte', timeZone: tz, formats });
        node[k] = microsToIso(micros);
      } else {
        node[k] = String(v);
      }
    }
    if (node.gt === undefined && node.gte === undefined && node.lt === undefined && node.lte === undefined) return exists(f);
    return node;
  }

  // ----- query strings ------------------------------------------------------

  private queryStringQuery(o: Obj): FilterNode {
    for (const key of Object.keys(o)) {
      if (key === 'minimum_should_match') throw unsupported('[minimum_should_match] in [query_string] query');
      if (key === 'fuzziness' && o.fuzziness !== 0 && o.fuzziness !== '0' && o.fuzziness !== 'AUTO') throw unsupported('[fuzziness] in [query_string] query');
    }
    if (typeof o.query !== 'string') throw malformed('[query_string] must be provided with a [query]');
    const fields = o.fields === undefined ? undefined : listOf(o.fields).map((f) => String(f));
    return this.queryString(o.query, {
      defaultField: typeof o.default_field === 'string' ? o.default_field : undefined,
      fields,
      defaultOperator: typeof o.default_operator === 'string' ? o.default_operator : undefined,
      timeZone: typeof o.time_zone === 'string' ? o.time_zone : undefined,
    });
  }

  queryString(text: string, o: { defaultField?: string; fields?: string[]; defaultOperator?: string; timeZone?: string }): FilterNode {
    const op = operatorOf(o.defaultOperator, 'or');
    const ast = parseFilter(text);
    const leaves = collectLeaves(ast);
    const dropped = new Set<FilterNode>();
    for (const leaf of leaves) checkLuceneLeaf(text, leaf, dropped);
    let node: FilterNode;
    if (op === 'and') node = removeLeaves(ast, dropped) ?? { kind: 'all' };
    else node = new OrDefaultParser(text, leaves, dropped).parse();
    const fields = o.fields && o.fields.length > 0 ? o.fields : [o.defaultField ?? '*'];
    // `*` (the default) leaves a bare word bare: it searches every string field, as the native
    // language does (docs/query-language.md); a named default field keeps it to that field.
    const targets = this.queryStringTargets(fields);
    return this.dateRanges(
      mapFields(node, (field) => (field === null ? targets : [this.field(field)])),
      o.timeZone === undefined ? undefined : checkTimeZone(o.timeZone),
    );
  }

  /** Ranges on date fields in a query string, read as Elasticsearch reads them (date math, rounding, time_zone). */
  private dateRanges(node: FilterNode, tz: string | undefined): FilterNode {
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, children: node.children.map((c) => this.dateRanges(c, tz)) };
      case 'not':
        return { kind: 'not', child: this.dateRanges(node.child, tz) };
      case 'range': {
        const type = node.field === '@timestamp' ? 'timestamp' : this.opts.fieldType?.(node.field);
        if (type !== 'timestamp') return node;
        const out = { ...node };
        for (const k of ['gt', 'gte', 'lt', 'lte'] as const) {
          const v = node[k];
          if (v === undefined) continue;
          try {
            out[k] = microsToIso(parseDateMath(v, { nowMs: this.nowMs, roundUp: k === 'gt' || k === 'lte', timeZone: tz }));
          } catch {
            // left as written: the store reports what it cannot read
          }
        }
        return out;
      }
      default:
        return node;
    }
  }

  private simpleQueryString(o: Obj): FilterNode {
    if (typeof o.query !== 'string') throw malformed('[simple_query_string] must be provided with a [query]');
    if (o.minimum_should_match !== undefined) throw unsupported('[minimum_should_match] in [simple_query_string] query');
    const fields = this.queryStringTargets(listOf(o.fields ?? ['*']).map((f) => {
      if (typeof f !== 'string') throw malformed(`[fields] must hold field names, got ${JSON.stringify(f)}`);
      return f;
    }));
    const node = new SimpleQueryParser(o.query, operatorOf(o.default_operator, 'or')).parse();
    return mapFields(node, (field) => (field === null ? fields : [this.field(field)]));
  }
}

function objOf(v: unknown, name: string): Obj {
  if (!isObj(v)) throw malformed(`[${name}] query malformed, expected an object, got ${JSON.stringify(v)}`);
  return v;
}

function listOf(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Clauses of a bool occurrence: one object or an array of them. */
function clauses(v: unknown): unknown[] {
  return listOf(v);
}

function scalarText(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw malformed(`[${where}] needs a value (a string, number or boolean), got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
}

function operatorOf(v: unknown, def: 'and' | 'or'): 'and' | 'or' {
  if (v === undefined || v === null) return def;
  const s = String(v).toLowerCase();
  if (s === 'and' || s === 'or') return s;
  throw malformed(`operator must be AND or OR, got [${String(v)}]`);
}

/** A literal value as a wildcard pattern (`*`, `?` and `\` escaped). */
function escapeWildcard(value: string): string {
  return value.replace(/[\\*?]/g, (c) => '\\' + c);
}

/** Rewrites every field-bearing node: `null` (no field) may become several fields (an OR). */
function mapFields(node: FilterNode, fieldsOf: (field: string | null) => string[]): FilterNode {
  switch (node.kind) {
    case 'all':
      return node;
    case 'and':
      return { kind: 'and', children: node.children.map((c) => mapFields(c, fieldsOf)) };
    case 'or':
      return { kind: 'or', children: node.children.map((c) => mapFields(c, fieldsOf)) };
    case 'not':
      return { kind: 'not', child: mapFields(node.child, fieldsOf) };
    case 'exists':
    case 'range':
      return { ...node, field: fieldsOf(node.field)[0] };
    case 'term':
    case 'phrase':
    case 'wildcard': {
      const fields = fieldsOf(node.field);
      const out = fields.map((f) => ({ ...node, field: f === ANY_FIELD ? (node.field === null ? null : FULL_TEXT_FIELD) : f }));
      return out.length === 1 ? out[0] : { kind: 'or', children: out };
    }
  }
}

function collectLeaves(node: FilterNode, out: Leaf[] = []): Leaf[] {
  switch (node.kind) {
    case 'all':
      break;
    case 'and':
    case 'or':
      for (const c of node.children) collectLeaves(c, out);
      break;
    case 'not':
      collectLeaves(node.child, out);
      break;
    default:
      out.push(node);
  }
  return out;
}

/** The tree without the given leaves (null if nothing is left). */
function removeLeaves(node: FilterNode, drop: Set<FilterNode>): FilterNode | null {
  if (drop.size === 0) return node;
  switch (node.kind) {
    case 'and':
    case 'or': {
      const kids = node.children.map((c) => removeLeaves(c, drop)).filter((c): c is FilterNode => c !== null);
      if (kids.length === 0) return null;
      return kids.length === 1 ? kids[0] : { kind: node.kind, children: kids };
    }
    case 'not': {
      const c = removeLeaves(node.child, drop);
      return c === null ? null : { kind: 'not', child: c };
    }
    default:
      return drop.has(node) ? null : node;
  }
}

/**
 * Lucene syntax that Logmill's parser reads as plain words: `^2` boosts are
 * dropped (scores do not exist here), `~` (fuzzy, proximity) and `/regex/`
 * are refused rather than searched as words.
 */
function checkLuceneLeaf(text: string, leaf: Leaf, dropped: Set<FilterNode>): void {
  const raw = text.slice(leaf.span.start, leaf.span.end);
  const glued = leaf.span.start > 0 && !/\s/.test(text[leaf.span.start - 1]);
  if (/^\^\d*\.?\d+$/.test(raw) && glued) {
    dropped.add(leaf);
    return;
  }
  if (raw.startsWith('~') && glued) throw unsupported('proximity search (`"…"~N`) in a query string');
  if (leaf.kind === 'phrase' || leaf.kind === 'exists' || leaf.kind === 'range') return;
  const value = raw.slice(raw.indexOf(':') + 1);
  if (leaf.field === null || raw.includes(':')) {
    const v = leaf.field === null ? raw : value;
    if (/^\/.+\/$/.test(v)) throw unsupported(`regular expression [${v}] in a query string`);
  }
  const unescaped = (ch: string): RegExp => new RegExp(`(?<!\\\\)(?:\\\\\\\\)*\\${ch}`);
  if (unescaped('~').test(raw)) throw unsupported(`fuzzy search [${raw}] in a query string`);
  const boost = /(?<!\\)(?:\\\\)*\^(\d*\.?\d+)$/.exec(raw);
  if (boost) {
    // the boosted word without its boost (the parse is ours: its leaves may be changed in place)
    const cut = raw.length - boost[0].length + boost[0].indexOf('^');
    if (leaf.kind === 'term') (leaf as { value: string }).value = leaf.value.slice(0, leaf.value.length - (raw.length - cut));
    else if (leaf.kind === 'wildcard') (leaf as { pattern: string }).pattern = leaf.pattern.slice(0, leaf.pattern.length - (raw.length - cut));
    return;
  }
  if (unescaped('^').test(raw)) throw unsupported(`[^] in [${raw}] in a query string`);
}

type QsToken =
  | { kind: 'leaf'; node: FilterNode }
  | { kind: 'and' | 'or' | 'not' | 'plus' | 'lparen' | 'rparen' };

/**
 * Re-reads a query string with Lucene's OR-default rules. The text has
 * already parsed (so it is valid); its leaves, with their spans, are taken
 * from that parse, and only the operators between them are read here.
 */
class OrDefaultParser {
  private readonly tokens: QsToken[] = [];
  private pos = 0;

  constructor(text: string, leaves: Leaf[], dropped: Set<FilterNode>) {
    let at = 0;
    for (const leaf of leaves) {
      this.gap(text.slice(at, leaf.span.start));
      if (!dropped.has(leaf)) this.tokens.push({ kind: 'leaf', node: leaf });
      at = leaf.span.end;
    }
    this.gap(text.slice(at));
  }

  /** Tokens between two leaves: operators, parentheses, `field:(` group openers and match-alls. */
  private gap(s: string): void {
    let i = 0;
    while (i < s.length) {
      const rest = s.slice(i);
      let m: RegExpExecArray | null;
      if ((m = /^\s+/.exec(rest))) {
        i += m[0].length;
      } else if ((m = /^(AND(?![^\s()])|&&)/.exec(rest))) {
        this.tokens.push({ kind: 'and' });
        i += m[0].length;
      } else if ((m = /^(OR(?![^\s()])|\|\|)/.exec(rest))) {
        this.tokens.push({ kind: 'or' });
        i += m[0].length;
      } else if ((m = /^(NOT(?![^\s()])|!|-)/.exec(rest))) {
        this.tokens.push({ kind: 'not' });
        i += m[0].length;
      } else if (rest[0] === '+') {
        this.tokens.push({ kind: 'plus' });
        i += 1;
      } else if (rest[0] === '(') {
        this.tokens.push({ kind: 'lparen' });
        i += 1;
      } else if (rest[0] === ')') {
        this.tokens.push({ kind: 'rparen' });
        i += 1;
      } else if ((m = /^\*:\*(?![^\s()])/.exec(rest)) || (m = /^\*(?![^\s()])/.exec(rest))) {
        this.tokens.push({ kind: 'leaf', node: { kind: 'all' } });
        i += m[0].length;
      } else if ((m = /^(?:[^\s()":\\]|\\.)+:\s*(?=\()/.exec(rest))) {
        i += m[0].length; // `field:(`: the leaves inside already carry the field
      } else {
        throw unsupported(`the query string syntax near [${rest.slice(0, 20)}]`);
      }
    }
  }

  parse(): FilterNode {
    const node = this.sequence();
    if (this.pos < this.tokens.length) throw unsupported('the query string structure (unbalanced parentheses)');
    return node;
  }

  private peek(): QsToken | undefined {
    return this.tokens[this.pos];
  }

  /** Clauses until `)` or the end: SHOULD unless prefixed with + (MUST) or -/NOT (MUST_NOT). */
  private sequence(): FilterNode {
    const must: FilterNode[] = [];
    const mustNot: FilterNode[] = [];
    const should: FilterNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.kind === 'rparen') break;
      if (t.kind === 'or') {
        this.pos++;
        continue;
      }
      const first = this.unary();
      if (this.peek()?.kind === 'and') {
        const items = [first.node];
        while (this.peek()?.kind === 'and') {
          this.pos++;
          items.push(this.unary().node);
        }
        should.push(andOf(items));
      } else if (first.prefix === 'not') mustNot.push(first.inner);
      else if (first.prefix === 'plus') must.push(first.node);
      else should.push(first.node);
    }
    const nots = mustNot.map(notOf);
    if (must.length > 0) return andOf([...must, ...nots]);
    if (should.length > 0) return andOf([orOf(should), ...nots]);
    return andOf(nots);
  }

  private unary(): { node: FilterNode; prefix: 'not' | 'plus' | null; inner: FilterNode } {
    const t = this.peek();
    if (t === undefined) throw unsupported('the query string structure (a clause was expected)');
    if (t.kind === 'not' || t.kind === 'plus') {
      this.pos++;
      const u = this.unary();
      return t.kind === 'not' ? { node: notOf(u.node), prefix: 'not', inner: u.node } : { node: u.node, prefix: 'plus', inner: u.node };
    }
    if (t.kind === 'lparen') {
      this.pos++;
      const node = this.sequence();
      if (this.peek()?.kind !== 'rparen') throw unsupported('the query string structure (unbalanced parentheses)');
      this.pos++;
      return { node, prefix: null, inner: node };
    }
    if (t.kind === 'leaf') {
      this.pos++;
      return { node: t.node, prefix: null, inner: t.node };
    }
    throw unsupported(`the query string structure (unexpected ${t.kind.toUpperCase()})`);
  }
}

/**
 * Elasticsearch's simple_query_string: `+` AND, `|` OR, `-` NOT, `"phrases"`,
 * `prefix*`, parentheses; operators apply left to right, and words without
 * one are joined by the default operator. It never fails on syntax.
 */
class SimpleQueryParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly defaultOp: 'and' | 'or',
  ) {}

  parse(): FilterNode {
    return this.sequence(0) ?? { kind: 'all' };
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private sequence(depth: number): FilterNode | null {
    let current: FilterNode | null = null;
    let op: 'and' | 'or' | null = null;
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) break;
      const c = this.text[this.pos];
      if (c === ')') {
        this.pos++;
        if (depth > 0) break;
        continue; // a stray ")" is ignored
      }
      if (c === '|') {
        this.pos++;
        op = 'or';
        continue;
      }
      if (c === '+') {
        this.pos++;
        op = 'and';
        continue;
      }
      let negate = false;
      while (this.text[this.pos] === '-') {
        negate = !negate;
        this.pos++;
      }
      const clause = this.clause(depth);
      if (clause === null) continue;
      const node = negate ? notOf(clause) : clause;
      if (current === null) current = node;
      else current = (op ?? this.defaultOp) === 'and' ? andOf([current, node]) : orOf([current, node]);
      op = null;
    }
    return current;
  }

  private clause(depth: number): FilterNode | null {
    const text = this.text;
    const c = text[this.pos];
    if (c === undefined) return null;
    if (c === '(') {
      this.pos++;
      return this.sequence(depth + 1);
    }
    if (c === '"') {
      let value = '';
      let i = this.pos + 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      this.pos = Math.min(i + 1, text.length);
      const slop = /^~(\d*)/.exec(text.slice(this.pos));
      if (slop) {
        if (slop[1] !== '' && Number(slop[1]) !== 0) throw unsupported('proximity search (`"…"~N`) in [simple_query_string]');
        this.pos += slop[0].length;
      }
      return phrase(null, value);
    }
    let value = '';
    let pattern = '';
    while (this.pos < text.length && !/[\s()|+"]/.test(text[this.pos])) {
      const ch = text[this.pos];
      if (ch === '\\' && this.pos + 1 < text.length) {
        const e = text[this.pos + 1];
        value += e;
        pattern += e === '*' || e === '?' || e === '\\' ? '\\' + e : e;
        this.pos += 2;
        continue;
      }
      if (ch === '~') {
        const fuzz = /^~(\d*)/.exec(text.slice(this.pos));
        if (fuzz && fuzz[1] !== '' && Number(fuzz[1]) === 0) {
          this.pos += fuzz[0].length;
          continue;
        }
        throw unsupported('fuzzy search (`word~N`) in [simple_query_string]');
      }
      value += ch;
      pattern += ch === '?' ? '\\?' : ch;
      this.pos++;
    }
    if (value === '') return null;
    if (value.endsWith('*') && !pattern.endsWith('\\*')) {
      if (value === '*') return { kind: 'all' };
      return wildcard(null, pattern);
    }
    return term(null, value);
  }
}

// ---------------------------------------------------------------------------
// Time ranges in filters
// ---------------------------------------------------------------------------

/**
 * The time range a filter's top-level `@timestamp` bounds imply (half-open,
 * microseconds), so the store reads only the partitions it needs; undefined
 * when the filter does not bound time. The filter itself stays in force.
 */
/**
 * The time range of a filter's top-level `@timestamp` ranges, which the
 * store applies exactly (and uses to open only the days and blocks it
 * needs), and the filter without the ranges it took in whole: evaluating
 * them again on every row cost a third of an aggregation over millions of
 * events. A range with a bound that cannot be read stays in the filter.
 */
export function splitTimeRange(filter: FilterNode, nowMs: number): { range?: TimeRange; filter: FilterNode } {
  let from = -Infinity;
  let to = Infinity;
  const fold = (n: Extract<FilterNode, { kind: 'range' }>): boolean => {
    let whole = true;
    const read = (v: string | undefined, roundUp: boolean): number | null => {
      if (v === undefined) return null;
      try {
        return parseDateMath(v, { nowMs, roundUp });
      } catch {
        whole = false;
        return null;
      }
    };
    const gt = read(n.gt, true);
    const gte = read(n.gte, false);
    const lt = read(n.lt, false);
    const lte = read(n.lte, true);
    if (gt !== null) from = Math.max(from, gt + 1);
    if (gte !== null) from = Math.max(from, gte);
    if (lt !== null) to = Math.min(to, lt);
    if (lte !== null) to = Math.min(to, lte + 1);
    return whole;
  };
  const isTimeRange = (n: FilterNode): n is Extract<FilterNode, { kind: 'range' }> => n.kind === 'range' && n.field === '@timestamp';
  let rest: FilterNode;
  if (isTimeRange(filter)) rest = fold(filter) ? { kind: 'all' } : filter;
  else if (filter.kind === 'and') rest = andOf(filter.children.filter((c) => !(isTimeRange(c) && fold(c))));
  else rest = filter;
  if (from === -Infinity && to === Infinity) return { filter: rest };
  return {
    range: {
      fromMicros: Math.max(0, from === -Infinity ? 0 : from),
      toMicros: to === Infinity ? Date.UTC(10000, 0, 1) * 1000 : Math.max(to, 0),
    },
    filter: rest,
  };
}

// ---------------------------------------------------------------------------
// Dates: time zones, formats, date math
// ---------------------------------------------------------------------------

const UTC_NAMES = new Set(['Z', 'UTC', 'GMT', 'Etc/UTC', 'Etc/GMT', 'UCT', 'Zulu', 'Universal', 'utc']);
/** A time zone as Elasticsearch accepts it (`UTC`, `+01:00`, `-0530`, `Europe/Paris`), checked; throws otherwise. */
export function checkTimeZone(tz: string): string {
  const t = tz.trim();
  if (UTC_NAMES.has(t) || fixedOffsetMs(t) !== null) return t;
  if (!isTimeZone(t)) throw new EsRequestError('illegal_argument_exception', `unknown time zone [${tz}]`);
  return t;
}

function fixedOffsetMs(tz: string): number | null {
  if (UTC_NAMES.has(tz)) return 0;
  const m = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(tz);
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  return sign * (Number(m[2]) * 3_600_000 + Number(m[3] ?? 0) * 60_000);
}

/** The zone's offset from UTC at an instant, in milliseconds (local = utc + offset). */
export function zoneOffsetMs(tz: string | undefined, utcMs: number): number {
  if (tz === undefined) return 0;
  const fixed = fixedOffsetMs(tz);
  if (fixed !== null) return fixed;
  if (!isTimeZone(tz)) throw new EsRequestError('illegal_argument_exception', `unknown time zone [${tz}]`);
  return coreZoneOffsetMs(tz, utcMs);
}

/** The instant of a wall-clock time in a zone (local milliseconds as if UTC). */
export function localToUtcMs(localMs: number, tz: string | undefined): number {
  if (tz === undefined) return localMs;
  let utc = localMs - zoneOffsetMs(tz, localMs);
  const o = zoneOffsetMs(tz, utc);
  utc = localMs - o;
  return utc;
}

export type CalendarUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/** Start of the calendar unit holding an instant, in a zone (ms). Weeks start on Monday. */
export function calendarFloorMs(utcMs: number, unit: CalendarUnit, tz?: string): number {
  const local = utcMs + zoneOffsetMs(tz, utcMs);
  const d = new Date(local);
  const y = d.getUTCFullYear();
  let mo = d.getUTCMonth();
  let day = d.getUTCDate();
  let h = d.getUTCHours();
  let mi = d.getUTCMinutes();
  let s = d.getUTCSeconds();
  const depth = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'].indexOf(unit);
  if (depth >= 1) s = 0;
  if (depth >= 2) mi = 0;
  if (depth >= 3) h = 0;
  if (depth >= 5) day = 1;
  if (unit === 'quarter') mo -= mo % 3;
  if (unit === 'year') mo = 0;
  let start = utcDate(y, mo, day, h, mi, s);
  if (unit === 'week') start -= ((new Date(start).getUTCDay() + 6) % 7) * 86_400_000;
  return localToUtcMs(start, tz);
}

/** Adds `n` calendar units to an instant, in a zone's wall-clock time (ms). */
export function calendarAddMs(utcMs: number, unit: CalendarUnit, n: number, tz?: string): number {
  if (unit === 'second') return utcMs + n * 1000;
  if (unit === 'minute') return utcMs + n * 60_000;
  if (unit === 'hour') return utcMs + n * 3_600_000;
  const local = utcMs + zoneOffsetMs(tz, utcMs);
  const d = new Date(local);
  switch (unit) {
    case 'day':
      d.setUTCDate(d.getUTCDate() + n);
      break;
    case 'week':
      d.setUTCDate(d.getUTCDate() + 7 * n);
      break;
    case 'month':
      d.setUTCMonth(d.getUTCMonth() + n);
      break;
    case 'quarter':
      d.setUTCMonth(d.getUTCMonth() + 3 * n);
      break;
    case 'year':
      d.setUTCFullYear(d.getUTCFullYear() + n);
      break;
  }
  return localToUtcMs(d.getTime(), tz);
}

function utcDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(Date.UTC(2000, mo, d, h, mi, s, ms));
  date.setUTCFullYear(y);
  return date.getTime();
}

const MATH_UNITS: Record<string, CalendarUnit> = {
  y: 'year',
  M: 'month',
  w: 'week',
  d: 'day',
  h: 'hour',
  H: 'hour',
  m: 'minute',
  s: 'second',
};

export interface DateParseOptions {
  nowMs: number;
  /** Round `/unit` (and dates given only to a coarser precision) up to the unit's last microsecond (gt, lte). */
  roundUp?: boolean;
  /** Zone of dates written without an offset, and of rounding. */
  timeZone?: string;
  /** Elasticsearch formats to try (`format` split on `||`); default strict_date_optional_time||epoch_millis. */
  formats?: string[];
}

const DEFAULT_DATE_FORMATS = ['strict_date_optional_time', 'epoch_millis'];

/**
 * An Elasticsearch date or date-math expression (`now-1h/d`,
 * `2026-11-01||+1M/M`, epoch milliseconds), in microseconds since the epoch.
 */
export function parseDateMath(value: string | number, o: DateParseOptions): number {
  const formats = o.formats && o.formats.length > 0 ? o.formats : DEFAULT_DATE_FORMATS;
  const tz = o.timeZone === undefined ? undefined : checkTimeZone(o.timeZone);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new EsRequestError('parse_exception', `failed to parse date field [${value}]`);
    const seconds = formats.find((f) => f === 'epoch_second' || f === 'epoch_millis') === 'epoch_second';
    return Math.round(value * (seconds ? 1_000_000 : 1000));
  }
  const text = value.trim();
  let micros: number;
  let math: string;
  let precision: CalendarUnit | 'milli' | 'micro' = 'micro';
  if (text.startsWith('now')) {
    micros = o.nowMs * 1000;
    math = text.slice(3);
  } else {
    const sep = text.indexOf('||');
    const anchor = sep >= 0 ? text.slice(0, sep) : text;
    math = sep >= 0 ? text.slice(sep + 2) : '';
    const parsed = parseDateWithFormats(anchor, formats, tz);
    if (parsed === null) {
      throw new EsRequestError('parse_exception', `failed to parse date field [${anchor}] with format [${formats.join('||')}]`);
    }
    micros = parsed.micros;
    precision = parsed.precision;
    if (math === '' && o.roundUp && precision !== 'micro' && precision !== 'milli') {
      return Math.round(calendarAddMs(micros / 1000, precision, 1, tz) * 1000) - 1;
    }
  }
  let rest = math;
  let ms = micros / 1000;
  while (rest.length > 0) {
    const m = /^([+-])(\d+)([yMwdhHms])|^\/([yMwdhHms])/.exec(rest);
    if (!m) throw new EsRequestError('parse_exception', `operator not supported for date math [${rest}] in [${text}]`);
    if (m[1]) {
      const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
      ms = calendarAddMs(ms, MATH_UNITS[m[3]], n, tz);
    } else {
      const unit = MATH_UNITS[m[4]];
      const start = calendarFloorMs(ms, unit, tz);
      if (o.roundUp) return Math.round(calendarAddMs(start, unit, 1, tz) * 1000) - 1;
      ms = start;
    }
    rest = rest.slice(m[0].length);
  }
  return Math.round(ms * 1000);
}

interface ParsedDate {
  micros: number;
  /** The finest unit the text gave: rounding up fills the rest. */
  precision: CalendarUnit | 'milli' | 'micro';
}

function parseDateWithFormats(text: string, formats: string[], tz: string | undefined): ParsedDate | null {
  for (const f of formats) {
    const r = parseWithFormat(text, f, tz);
    if (r !== null) return r;
  }
  return null;
}

const NAMED_PATTERNS: Record<string, string> = {
  date: 'yyyy-MM-dd',
  year_month_day: 'yyyy-MM-dd',
  year_month: 'yyyy-MM',
  year: 'yyyy',
  date_hour: "yyyy-MM-dd'T'HH",
  date_hour_minute: "yyyy-MM-dd'T'HH:mm",
  date_hour_minute_second: "yyyy-MM-dd'T'HH:mm:ss",
  date_hour_minute_second_millis: "yyyy-MM-dd'T'HH:mm:ss.SSS",
  date_hour_minute_second_fraction: "yyyy-MM-dd'T'HH:mm:ss.SSS",
  date_time: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
  date_time_no_millis: "yyyy-MM-dd'T'HH:mm:ssXXX",
  basic_date: 'yyyyMMdd',
  basic_date_time: "yyyyMMdd'T'HHmmss.SSSZ",
  basic_date_time_no_millis: "yyyyMMdd'T'HHmmssZ",
};

function namedPattern(format: string): string | undefined {
  const name = format.startsWith('strict_') ? format.slice(7) : format;
  return Object.hasOwn(NAMED_PATTERNS, name) ? NAMED_PATTERNS[name] : undefined;
}

const ISO_LIKE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

function parseWithFormat(text: string, format: string, tz: string | undefined): ParsedDate | null {
  switch (format) {
    case 'epoch_millis':
    case 'epoch_second': {
      if (!/^-?\d+(\.\d+)?$/.test(text)) return null;
      const n = Number(text);
      return { micros: Math.round(n * (format === 'epoch_second' ? 1_000_000 : 1000)), precision: format === 'epoch_second' ? 'second' : 'milli' };
    }
    case 'strict_date_optional_time':
    case 'date_optional_time':
    case 'strict_date_optional_time_nanos':
    case 'date_optional_time_nanos':
    case 'iso8601': {
      const m = ISO_LIKE.exec(text);
      if (!m) return null;
      const [, y, mo, d, h, mi, s, frac, zone] = m;
      const fields = { y: Number(y), mo: mo ? Number(mo) : 1, d: d ? Number(d) : 1, h: h ? Number(h) : 0, mi: mi ? Number(mi) : 0, s: s ? Number(s) : 0 };
      const precision: ParsedDate['precision'] = frac ? (frac.length > 3 ? 'micro' : 'milli') : s ? 'second' : mi ? 'minute' : h ? 'hour' : d ? 'day' : mo ? 'month' : 'year';
      return assemble(fields, frac ?? '', zone, tz, precision);
    }
    default: {
      const pattern = namedPattern(format) ?? format;
      return parsePattern(text, pattern, tz);
    }
  }
}

function assemble(
  f: { y: number; mo: number; d: number; h: number; mi: number; s: number },
  frac: string,
  zone: string | undefined,
  tz: string | undefined,
  precision: ParsedDate['precision'],
): ParsedDate | null {
  if (f.mo < 1 || f.mo > 12 || f.d < 1 || f.d > 31 || f.h > 24 || f.mi > 59 || f.s > 60) return null;
  const local = utcDate(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
  if (new Date(local).getUTCDate() !== f.d && f.h < 24) return null;
  const micros = Number((frac + '000000').slice(0, 6));
  let utc: number;
  if (zone !== undefined && zone !== '') {
    const off = zone === 'Z' || zone === 'z' ? 0 : fixedOffsetMs(zone);
    if (off === null) return null;
    utc = local - off;
  } else {
    utc = localToUtcMs(local, tz);
  }
  return { micros: utc * 1000 + micros, precision };
}

function parsePattern(text: string, pattern: string, tz: string | undefined): ParsedDate | null {
  const parts = patternParts(pattern);
  let re = '^';
  const roles: string[] = [];
  for (const p of parts) {
    if (p.literal !== undefined) {
      re += p.literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
      continue;
    }
    switch (p.letter) {
      case 'y':
      case 'u':
      case 'Y':
        re += p.count === 2 ? '(\\d{2})' : p.count === 4 ? '(\\d{4})' : '(\\d{1,9})';
        roles.push(p.count === 2 ? 'yy' : 'y');
        break;
      case 'M':
      case 'd':
      case 'H':
      case 'm':
      case 's':
        if (p.count > 2) throw unsupported(`date format [${pattern}]`, `the pattern letter run [${p.letter.repeat(p.count)}]`);
        re += p.count === 2 ? '(\\d{2})' : '(\\d{1,2})';
        roles.push(p.letter);
        break;
      case 'S':
        re += `(\\d{1,${Math.max(p.count, 9)}})`;
        roles.push('S');
        break;
      case 'X':
      case 'x':
      case 'Z':
        re += '(Z|[+-]\\d{2}(?::?\\d{2})?)';
        roles.push('zone');
        break;
      default:
        throw unsupported(`date format [${pattern}]`, `the pattern letter [${p.letter}]`);
    }
  }
  const m = new RegExp(re + '$').exec(text);
  if (!m) return null;
  const f = { y: 1970, mo: 1, d: 1, h: 0, mi: 0, s: 0 };
  let frac = '';
  let zone: string | undefined;
  let precision: ParsedDate['precision'] = 'year';
  const rank: Record<string, ParsedDate['precision']> = { y: 'year', yy: 'year', M: 'month', d: 'day', H: 'hour', m: 'minute', s: 'second' };
  const order: ParsedDate['precision'][] = ['year', 'month', 'day', 'hour', 'minute', 'second', 'milli', 'micro'];
  roles.forEach((role, i) => {
    const v = m[i + 1];
    switch (role) {
      case 'y':
        f.y = Number(v);
        break;
      case 'yy':
        f.y = 2000 + Number(v);
        break;
      case 'M':
        f.mo = Number(v);
        break;
      case 'd':
        f.d = Number(v);
        break;
      case 'H':
        f.h = Number(v);
        break;
      case 'm':
        f.mi = Number(v);
        break;
      case 's':
        f.s = Number(v);
        break;
      case 'S':
        frac = v;
        break;
      case 'zone':
        zone = v;
        break;
    }
    const p = role === 'S' ? (v.length > 3 ? 'micro' : 'milli') : rank[role];
    if (p !== undefined && order.indexOf(p) > order.indexOf(precision)) precision = p;
  });
  return assemble(f, frac, zone, tz, precision);
}

/**
 * An instant written in an Elasticsearch format (the first of `a||b`), in a
 * zone: key_as_string and value_as_string. Default: strict_date_optional_time.
 */
export function formatDate(micros: number, format: string | undefined, tz?: string): string {
  const first = (format ?? 'strict_date_optional_time').split('||')[0].trim();
  const ms = Math.floor(micros / 1000);
  switch (first) {
    case 'epoch_millis':
      return String(ms);
    case 'epoch_second':
      return String(Math.floor(ms / 1000));
    case 'strict_date_optional_time':
    case 'date_optional_time':
    case 'iso8601':
      return formatPattern(micros, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", tz);
    case 'strict_date_optional_time_nanos':
    case 'date_optional_time_nanos':
      return formatPattern(micros, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", tz);
    default:
      return formatPattern(micros, namedPattern(first) ?? first, tz);
  }
}

function formatPattern(micros: number, pattern: string, tz: string | undefined): string {
  const ms = Math.floor(micros / 1000);
  const off = zoneOffsetMs(tz, ms);
  const d = new Date(ms + off);
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  let out = '';
  for (const p of patternParts(pattern)) {
    if (p.literal !== undefined) {
      out += p.literal;
      continue;
    }
    switch (p.letter) {
      case 'y':
      case 'u':
      case 'Y':
        out += p.count === 2 ? pad(d.getUTCFullYear() % 100, 2) : pad(d.getUTCFullYear(), p.count);
        break;
      case 'M':
        if (p.count > 2) throw unsupported(`date format [${pattern}]`, `the pattern letter run [${p.letter.repeat(p.count)}]`);
        out += pad(d.getUTCMonth() + 1, p.count);
        break;
      case 'd':
        out += pad(d.getUTCDate(), p.count);
        break;
      case 'H':
        out += pad(d.getUTCHours(), p.count);
        break;
      case 'm':
        out += pad(d.getUTCMinutes(), p.count);
        break;
      case 's':
        out += pad(d.getUTCSeconds(), p.count);
        break;
      case 'S': {
        const sub = pad(d.getUTCMilliseconds(), 3) + pad(((micros % 1000) + 1000) % 1000, 3) + '000';
        out += sub.slice(0, p.count);
        break;
      }
      case 'X':
      case 'x':
      case 'Z': {
        if (off === 0 && p.letter === 'X') {
          out += 'Z';
          break;
        }
        const sign = off < 0 ? '-' : '+';
        const abs = Math.abs(off) / 60_000;
        const hh = pad(Math.floor(abs / 60), 2);
        const mm = pad(abs % 60, 2);
        out += p.letter === 'Z' && p.count < 3 ? `${sign}${hh}${mm}` : p.count === 1 ? `${sign}${hh}${mm === '00' ? '' : mm}` : p.count === 2 ? `${sign}${hh}${mm}` : `${sign}${hh}:${mm}`;
        break;
      }
      default:
        throw unsupported(`date format [${pattern}]`, `the pattern letter [${p.letter}]`);
    }
  }
  return out;
}
