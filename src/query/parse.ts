/**
 * Parser for Logmill's query language: a Lucene/Kibana-style filter, optionally
 * followed by pipes.
 *
 *   status:500 AND host:web-* | stats count() by host | sort -count | head 10
 *
 * The file has two parts: a Lexer that cuts the text into tokens on demand, and a
 * recursive-descent Parser that builds the tree defined in ./ast.ts. Every error is
 * a QuerySyntaxError with a 0-based position (a JavaScript string index, i.e. in
 * UTF-16 code units) and the list of what would have been accepted there.
 *
 * Filter grammar (juxtaposition means AND; precedence NOT > AND > OR):
 *
 *   query      := filter? ('|' pipe)* END
 *   or         := and (('OR' | '||') and)*
 *   and        := unary (('AND' | '&&')? unary)*
 *   unary      := ('NOT' | '!' | '-') unary  |  '+' unary  |  primary
 *   primary    := '(' or ')'  |  PHRASE  |  WORD  |  FIELD ':' value  |  '_exists_' ':' FIELD
 *               | range | comparison                 (these two only inside field:( ... ))
 *   value      := '(' or ')'  |  PHRASE  |  WORD  |  range  |  comparison
 *   range      := ('[' | '{') bound 'TO' bound (']' | '}')        bound := WORD | PHRASE | '*'
 *   comparison := ('>' | '>=' | '<' | '<=') (WORD | PHRASE)
 *
 * Pipe grammar (pipe names and the words by/as/asc/desc are case-insensitive):
 *
 *   stats  := 'stats' agg (',' agg)* ['by' column (',' column)*]
 *   agg    := FUNCTION ['(' [field | '*'] ')'] ['as' name]
 *   sort   := 'sort' ['by'] ['-'] column ['asc' | 'desc'] (',' ...)*
 *   fields := 'fields' column (',' column)*
 *   head   := ('head' | 'limit') [COUNT]
 *   top    := 'top' [COUNT] column (',' column)*
 *   column := field | '"any name"' | FUNCTION '(' [field] ')'   (names an aggregation's output column)
 */

import { QuerySyntaxError } from './ast.js';
import type { AggFunction, Aggregation, FilterNode, Pipe, Query, Span } from './ast.js';

/** Longest accepted query, in UTF-8 bytes. */
export const MAX_QUERY_BYTES = 64 * 1024;
/** Deepest accepted nesting of parentheses and NOT / ! / - / + prefixes. */
export const MAX_DEPTH = 100;
/** Largest `n` accepted by `head` and `top`. */
export const MAX_ROW_COUNT = 1_000_000;
/** `n` for `head` and `top` when none is given. */
export const DEFAULT_ROW_COUNT = 10;

/** The pipe names, as listed in error messages (`limit` is an alias of `head`). */
const PIPE_NAMES = ['stats', 'sort', 'fields', 'head', 'top'];

/** Parses a whole query: a filter and its pipes. Throws QuerySyntaxError. */
export function parseQuery(text: string): Query {
  return new Parser(text).parseQuery();
}

/** Parses a filter alone (no pipes allowed). Throws QuerySyntaxError. */
export function parseFilter(text: string): FilterNode {
  return new Parser(text).parseFilterOnly();
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

type TokenKind =
  | 'word' // a bare word; escapes resolved in `value`
  | 'string' // a "quoted phrase"; escapes resolved in `value`
  | 'and' // AND, &&
  | 'or' // OR, ||
  | 'not' // NOT, !, and a leading - in a filter
  | 'plus' // a leading + in a filter
  | 'minus' // a leading - in a pipe (sort descending)
  | 'colon'
  | 'lparen'
  | 'rparen'
  | 'lbracket' // [ or {
  | 'rbracket' // ] or }
  | 'to' // TO inside a range
  | 'cmp' // > >= < <=
  | 'pipe' // a single |
  | 'comma' // only in pipes
  | 'end';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** The token exactly as written. */
  raw: string;
  /** For words and phrases: the text with escapes resolved. Otherwise `raw`. */
  value: string;
  /**
   * For words holding an unescaped `*` or `?`: the glob pattern. The wildcards are
   * kept as written and every escape is resolved, except that a literal `*`, `?` or
   * `\` stays escaped (`\*`, `\?`, `\\`) so the pattern remains unambiguous.
   */
  pattern: string | null;
  /** For words: every unescaped character is allowed in a field name. */
  fieldOk: boolean;
}

/**
 * What the lexer expects next. The language is not context-free at the character
 * level (a `-` negates a clause but is part of `now-1h`; a `:` separates a field but is
 * part of `2026-11-01T00:00:00Z` in a range), so the lexer keeps a small mode that is
 * driven only by the tokens it has produced. That keeps lookahead safe: the tokens
 * never depend on what the parser decides.
 *
 *  - filter: between clauses. `-` `+` `!` at the start of a token are operators and
 *            `:` ends a word.
 *  - value:  the one token after `field:` (or after a comparison operator). `-` `+` `!`
 *            and `:` are ordinary characters there, so `temp:-5`, `ts:>now-1h` and
 *            `ts:>2026-11-01T00:00:00Z` are single values.
 *  - range:  inside `[ ... ]` or `{ ... }`: bounds are whitespace-separated words or
 *            phrases, `TO` is a keyword, `:` and `-` are ordinary characters.
 *  - pipe:   after the first `|`, until the end: `,` `(` `)` separate words, a leading
 *            `-` is a sort direction.
 */
type LexMode = 'filter' | 'value' | 'range' | 'pipe';

/** Characters that end a bare word, besides whitespace, per mode. */
const WORD_ENDS: Record<LexMode, string> = {
  filter: '()"[]{}:|',
  value: '()"[]{}|',
  range: '()"[]{}|',
  pipe: '()",|',
};

/** What a field name may contain without escapes: letters, digits, _ . @ - */
const FIELD_CHAR = /^[\p{L}\p{N}_.@-]$/u;
const SPACE = /^\s$/u;

class Lexer {
  private pos = 0;
  private mode: LexMode = 'filter';
  /** One entry per open "(": true if it opened a field group (`field:(`). */
  private readonly groups: boolean[] = [];
  /** How many entries of `groups` are true: comparisons are tokens only inside field groups. */
  private fieldGroups = 0;
  /** Tokens scanned ahead of the parser (peek). */
  private readonly buffer: Token[] = [];
  /** End offset of the last token taken with next(), to close spans. */
  lastEnd = 0;

  constructor(private readonly text: string) {}

  /** The token `ahead` positions after the current one, without consuming it. */
  peek(ahead = 0): Token {
    while (this.buffer.length <= ahead) this.buffer.push(this.scan());
    return this.buffer[ahead];
  }

  next(): Token {
    const token = this.peek();
    this.buffer.shift();
    this.lastEnd = token.end;
    return token;
  }

  private scan(): Token {
    const text = this.text;
    while (this.pos < text.length && SPACE.test(text[this.pos])) this.pos++;
    const start = this.pos;
    if (start >= text.length) return this.make('end', start, start);
    switch (this.mode) {
      case 'filter':
      case 'value':
        return this.scanFilter(start);
      case 'range':
        return this.scanRange(start);
      case 'pipe':
        return this.scanPipe(start);
    }
  }

  /** Scans one token in filter or value mode (see LexMode). */
  private scanFilter(start: number): Token {
    const text = this.text;
    const inValue = this.mode === 'value';
    // A value is a single token: unless a branch below says otherwise, go back to filter mode.
    this.mode = 'filter';
    const c = text[start];
    switch (c) {
      case '(':
        this.groups.push(inValue);
        if (inValue) this.fieldGroups++;
        return this.punct('lparen', start, 1);
      case ')':
        if (this.groups.pop() === true) this.fieldGroups--;
        return this.punct('rparen', start, 1);
      case '"':
        return this.scanQuoted(start);
      case '[':
      case '{':
        this.mode = 'range';
        return this.punct('lbracket', start, 1);
      case ']':
      case '}':
        return this.punct('rbracket', start, 1);
      case ':':
        // In value mode ":" is part of the value (`a::b` is field a, value ":b").
        if (!inValue) {
          this.mode = 'value';
          return this.punct('colon', start, 1);
        }
        break;
      case '|':
        if (text[start + 1] === '|') return this.punct('or', start, 2);
        this.mode = 'pipe';
        return this.punct('pipe', start, 1);
      case '&':
        if (text[start + 1] === '&') return this.punct('and', start, 2);
        break;
      case '!':
      case '-':
        if (!inValue) return this.punct('not', start, 1);
        break;
      case '+':
        if (!inValue) return this.punct('plus', start, 1);
        break;
      case '>':
      case '<':
        // `field:>5`, and `>5` inside `field:( ... )`. Elsewhere `<html>` is just a word.
        if (inValue || this.fieldGroups > 0) {
          const len = text[start + 1] === '=' ? 2 : 1;
          this.mode = 'value';
          return this.punct('cmp', start, len);
        }
        break;
    }
    const word = this.scanWord(start, inValue ? 'value' : 'filter');
    // Keywords are upper-case and unescaped only: `and`, `\AND` and `"AND"` are words.
    if (word.raw === 'AND') word.kind = 'and';
    else if (word.raw === 'OR') word.kind = 'or';
    else if (word.raw === 'NOT') word.kind = 'not';
    return word;
  }

  /** Scans one token inside a range's brackets. */
  private scanRange(start: number): Token {
    const c = this.text[start];
    switch (c) {
      case ']':
      case '}':
        this.mode = 'filter';
        return this.punct('rbracket', start, 1);
      case '"':
        return this.scanQuoted(start);
      // The rest cannot appear in a valid range; they are tokens so that the parser
      // can name them in its error.
      case '[':
      case '{':
        return this.punct('lbracket', start, 1);
      case '(':
        return this.punct('lparen', start, 1);
      case ')':
        return this.punct('rparen', start, 1);
      case '|':
        this.mode = 'pipe';
        return this.punct('pipe', start, 1);
    }
    const word = this.scanWord(start, 'range');
    if (word.raw === 'TO') word.kind = 'to';
    return word;
  }

  /** Scans one token after the first pipe. */
  private scanPipe(start: number): Token {
    switch (this.text[start]) {
      case '|':
        return this.punct('pipe', start, 1);
      case ',':
        return this.punct('comma', start, 1);
      case '(':
        return this.punct('lparen', start, 1);
      case ')':
        return this.punct('rparen', start, 1);
      case '-':
        return this.punct('minus', start, 1);
      case '"':
        return this.scanQuoted(start);
    }
    return this.scanWord(start, 'pipe');
  }

  /**
   * Scans a bare word. A backslash escapes any character (Lucene-style), so
   * `path:\/api\/v1`, `a\:b` and `my\ field:x` work; escaped characters never act as
   * wildcards, keywords or separators.
   */
  private scanWord(start: number, mode: LexMode): Token {
    const text = this.text;
    const ends = WORD_ENDS[mode];
    const stopAtAmpersands = mode === 'filter' || mode === 'value';
    let value = '';
    let pattern = '';
    let wildcard = false;
    let fieldOk = true;
    let i = start;
    while (i < text.length) {
      const c = text[i];
      if (SPACE.test(c) || ends.includes(c) || (stopAtAmpersands && text.startsWith('&&', i))) break;
      if (c === '\\') {
        if (i + 1 >= text.length) {
          throw new QuerySyntaxError(
            `Expected a character after "\\" at position ${i + 1}, found end of query`,
            i + 1,
            ['a character'],
          );
        }
        const escaped = codePointAt(text, i + 1);
        value += escaped;
        pattern += escaped === '*' || escaped === '?' || escaped === '\\' ? '\\' + escaped : escaped;
        i += 1 + escaped.length;
        continue;
      }
      const ch = codePointAt(text, i);
      if (ch === '*' || ch === '?') {
        wildcard = true;
        fieldOk = false;
      } else if (!FIELD_CHAR.test(ch)) {
        fieldOk = false;
      }
      value += ch;
      pattern += ch;
      i += ch.length;
    }
    if (i === start) {
      // Unreachable: every mode turns its word-ending characters into tokens first. Kept
      // so that a future change cannot make the lexer spin on an empty word.
      throw new QuerySyntaxError(`Unexpected "${text[start]}" at position ${start}`, start, []);
    }
    this.pos = i;
    return { kind: 'word', start, end: i, raw: text.slice(start, i), value, pattern: wildcard ? pattern : null, fieldOk };
  }

  /**
   * Scans a "quoted phrase". Inside quotes only `\"` and `\\` are escapes; any other
   * backslash is kept as written, so pasted Windows paths and regexes survive.
   */
  private scanQuoted(start: number): Token {
    const text = this.text;
    let value = '';
    let i = start + 1;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        this.pos = i + 1;
        return { kind: 'string', start, end: i + 1, raw: text.slice(start, i + 1), value, pattern: null, fieldOk: false };
      }
      if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
        value += text[i + 1];
        i += 2;
      } else {
        value += c;
        i += 1;
      }
    }
    throw new QuerySyntaxError(
      `Unterminated quoted phrase: expected a closing '"' for the quote at position ${start}, found end of query`,
      start,
      ['"'],
    );
  }

  private punct(kind: TokenKind, start: number, length: number): Token {
    this.pos = start + length;
    return this.make(kind, start, start + length);
  }

  private make(kind: TokenKind, start: number, end: number): Token {
    const raw = this.text.slice(start, end);
    return { kind, start, end, raw, value: raw, pattern: null, fieldOk: false };
  }
}

/** The whole code point at `i` (one or two UTF-16 units), so escapes never split a surrogate pair. */
function codePointAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i) ?? 0);
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

type RangeNode = Extract<FilterNode, { kind: 'range' }>;

/** Tokens that can begin a clause; one of them after a clause means an implicit AND. */
const CLAUSE_START: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'word',
  'string',
  'not',
  'plus',
  'lparen',
  'lbracket',
  'cmp',
]);
const CLAUSE_EXPECTED = ['a term', 'a quoted phrase', '(', 'NOT'];
const VALUE_EXPECTED = ['a value', 'a quoted phrase', '(', '[', '{', '>', '>=', '<', '<='];
const AGG_FUNCTIONS = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'median', 'pNN'];

/** Aggregation function names and their aliases; percentiles (pNN) are handled apart. */
const AGG_ALIASES: Record<string, AggFunction> = {
  count: 'count',
  count_distinct: 'count_distinct',
  dcount: 'count_distinct',
  uniq: 'count_distinct',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
};

/** An aggregation before its output name is known. */
type AggCall = Omit<Aggregation, 'name'>;

class Parser {
  private readonly lex: Lexer;
  /** Current nesting of parentheses and prefix operators, bounded by MAX_DEPTH. */
  private depth = 0;

  constructor(text: string) {
    const tooLongAt = overLimitAt(text, MAX_QUERY_BYTES);
    if (tooLongAt !== -1) {
      fail(
        `Query is too long: it passes the limit of ${MAX_QUERY_BYTES} bytes (64 KiB) at position ${tooLongAt}`,
        tooLongAt,
        [],
      );
    }
    this.lex = new Lexer(text);
  }

  parseQuery(): Query {
    const filter = this.parseTopFilter();
    const pipes: Pipe[] = [];
    // Each pipe parser stops only before a "|" or at the end.
    while (this.lex.peek().kind === 'pipe') {
      this.lex.next();
      pipes.push(this.parsePipe());
    }
    return { filter, pipes };
  }

  parseFilterOnly(): FilterNode {
    const filter = this.parseTopFilter();
    const token = this.lex.peek();
    if (token.kind !== 'end') {
      fail(`Unexpected "|" at position ${token.start}: pipes are not allowed in a filter`, token.start, ['end of query']);
    }
    return filter;
  }

  // --- filter ---------------------------------------------------------------

  /** The filter before the first pipe; nothing (or only `*`) means everything. */
  private parseTopFilter(): FilterNode {
    const first = this.lex.peek();
    const filter: FilterNode = first.kind === 'end' || first.kind === 'pipe' ? { kind: 'all' } : this.parseOr(null);
    const token = this.lex.peek();
    if (token.kind === 'end' || token.kind === 'pipe') return filter;
    const expected = ['AND', 'OR', 'a term', '|', 'end of query'];
    switch (token.kind) {
      case 'rparen':
        return fail(`Unexpected ")" at position ${token.start}: there is no matching "("`, token.start, expected);
      case 'rbracket':
        return fail(`Unexpected "${token.raw}" at position ${token.start}: there is no range to close`, token.start, expected);
      case 'colon':
        return fail(
          `Unexpected ":" at position ${token.start}: a field name must be a bare word just before ":"`,
          token.start,
          expected,
        );
      default:
        return fail(`Unexpected ${describe(token)} at position ${token.start}`, token.start, expected);
    }
  }

  /**
   * `field` is the field that bare terms get: null at top level (full text), or the
   * field of an enclosing `field:( ... )` group (Lucene field grouping).
   */
  private parseOr(field: string | null): FilterNode {
    const children = [this.parseAnd(field)];
    while (this.lex.peek().kind === 'or') {
      this.lex.next();
      children.push(this.parseAnd(field));
    }
    return combine('or', children);
  }

  private parseAnd(field: string | null): FilterNode {
    const children = [this.parseUnary(field)];
    for (;;) {
      const token = this.lex.peek();
      if (token.kind === 'and') {
        this.lex.next();
        children.push(this.parseUnary(field));
      } else if (CLAUSE_START.has(token.kind)) {
        // Juxtaposition is AND (Kibana's default), with AND's precedence: `a b OR c` is `(a AND b) OR c`.
        children.push(this.parseUnary(field));
      } else {
        return combine('and', children);
      }
    }
  }

  private parseUnary(field: string | null): FilterNode {
    const token = this.lex.peek();
    if (token.kind !== 'not' && token.kind !== 'plus') return this.parsePrimary(field);
    this.lex.next();
    this.enter(token);
    const child = this.parseUnary(field);
    this.depth--;
    // `+` (required) adds nothing to a conjunction: it is the clause itself.
    return token.kind === 'not' ? { kind: 'not', child } : child;
  }

  private parsePrimary(field: string | null): FilterNode {
    const token = this.lex.peek();
    switch (token.kind) {
      case 'lparen':
        return this.parseGroup(field);
      case 'string':
        this.lex.next();
        return { kind: 'phrase', field, value: token.value, span: span(token.start, token.end) };
      case 'word':
        if (this.lex.peek(1).kind === 'colon') return this.parseFieldClause();
        this.lex.next();
        return this.bareWord(token, field, token.start);
      case 'lbracket':
        return this.parseRange(this.rangeField(field, token), token.start);
      case 'cmp':
        return this.parseComparison(this.rangeField(field, token), token.start);
      default:
        return this.expected('a term, a quoted phrase or "("', CLAUSE_EXPECTED, token);
    }
  }

  /** `( ... )`, with `field` applied to the bare terms inside when it is `field:( ... )`. */
  private parseGroup(field: string | null): FilterNode {
    const open = this.lex.next();
    this.enter(open);
    const inner = this.parseOr(field);
    const close = this.lex.peek();
    if (close.kind !== 'rparen') {
      this.expected('")"', [')'], close, `; the "(" at position ${open.start} is not closed`);
    }
    this.lex.next();
    this.depth--;
    return inner;
  }

  /** `field:value` in all its forms, and `_exists_:field`. The next two tokens are a word and ":". */
  private parseFieldClause(): FilterNode {
    const name = this.lex.next();
    this.lex.next(); // ":"
    const token = this.lex.peek();
    if (name.raw === '*' && token.kind === 'word' && token.raw === '*') {
      this.lex.next();
      return { kind: 'all' }; // Lucene's match-all `*:*`
    }
    if (name.raw === '_exists_') {
      if (token.kind !== 'word') this.expected('a field name after "_exists_:"', ['a field name'], token);
      this.lex.next();
      return { kind: 'exists', field: fieldName(token), span: span(name.start, token.end) };
    }
    const field = fieldName(name);
    switch (token.kind) {
      case 'lparen':
        return this.parseGroup(field);
      case 'string':
        this.lex.next();
        return { kind: 'phrase', field, value: token.value, span: span(name.start, token.end) };
      case 'word':
        this.lex.next();
        return this.bareWord(token, field, name.start);
      case 'lbracket':
        return this.parseRange(field, name.start);
      case 'cmp':
        return this.parseComparison(field, name.start);
      default:
        return this.expected(`a value after "${name.raw}:"`, VALUE_EXPECTED, token);
    }
  }

  /** A bare word: `*` (everything, or field exists), a wildcard pattern or a term. */
  private bareWord(token: Token, field: string | null, start: number): FilterNode {
    const where = span(start, token.end);
    if (token.raw === '*') return field === null ? { kind: 'all' } : { kind: 'exists', field, span: where };
    if (token.pattern !== null) return { kind: 'wildcard', field, pattern: token.pattern, span: where };
    return { kind: 'term', field, value: token.value, span: where };
  }

  /** A range or comparison with no field before it takes the group's field, if any. */
  private rangeField(field: string | null, token: Token): string {
    if (field !== null) return field;
    return fail(
      `Unexpected "${token.raw}" at position ${token.start}: a range needs a field, as in bytes:[1 TO 5] (write \\${token.raw} to search for the character)`,
      token.start,
      ['a term', 'a quoted phrase', '('],
    );
  }

  /** `[a TO b]`, `{a TO b}`, `[a TO b}`, `{a TO b]`; `*` leaves a side open. */
  private parseRange(field: string, start: number): FilterNode {
    const open = this.lex.next();
    const lower = this.parseBound();
    const to = this.lex.peek();
    if (to.kind !== 'to') this.expected('"TO"', ['TO'], to, `; a range is written [low TO high]`);
    this.lex.next();
    const upper = this.parseBound();
    const close = this.lex.peek();
    if (close.kind !== 'rbracket') {
      this.expected('"]" or "}"', [']', '}'], close, `; the range at position ${open.start} is not closed`);
    }
    this.lex.next();
    const where = span(start, close.end);
    // `field:[* TO *]` is Lucene's way of asking whether the field has a value.
    if (lower === undefined && upper === undefined) return { kind: 'exists', field, span: where };
    const node: RangeNode = { kind: 'range', field, span: where };
    if (lower !== undefined) {
      if (open.raw === '[') node.gte = lower;
      else node.gt = lower;
    }
    if (upper !== undefined) {
      if (close.raw === ']') node.lte = upper;
      else node.lt = upper;
    }
    return node;
  }

  /** One side of a range, as written; undefined for an open side (`*`). */
  private parseBound(): string | undefined {
    const token = this.lex.peek();
    if (token.kind === 'word') {
      this.lex.next();
      return token.raw === '*' ? undefined : token.value;
    }
    if (token.kind === 'string') {
      this.lex.next();
      return token.value; // a quoted "*" is a literal star, not an open bound
    }
    return this.expected('a range bound (a value or *)', ['a value', 'a quoted phrase', '*'], token);
  }

  /** `>v`, `>=v`, `<v`, `<=v`. */
  private parseComparison(field: string, start: number): FilterNode {
    const op = this.lex.next();
    const token = this.lex.peek();
    if (!(token.kind === 'word' && token.raw !== '*') && token.kind !== 'string') {
      this.expected(`a value after "${op.raw}"`, ['a value', 'a quoted phrase'], token);
    }
    this.lex.next();
    const value = token.value;
    const where = span(start, token.end);
    switch (op.raw) {
      case '>':
        return { kind: 'range', field, gt: value, span: where };
      case '>=':
        return { kind: 'range', field, gte: value, span: where };
      case '<':
        return { kind: 'range', field, lt: value, span: where };
      default:
        return { kind: 'range', field, lte: value, span: where };
    }
  }

  /** Counts one level of nesting; the limit keeps hostile input from overflowing the stack. */
  private enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      fail(
        `Query nests too deeply at position ${token.start}: more than ${MAX_DEPTH} levels of parentheses and NOT`,
        token.start,
        [],
      );
    }
  }

  // --- pipes ----------------------------------------------------------------

  private parsePipe(): Pipe {
    const name = this.lex.peek();
    if (name.kind === 'end' || name.kind === 'pipe') {
      fail(`Empty pipe at position ${name.start}; expected one of ${PIPE_NAMES.join(', ')}`, name.start, PIPE_NAMES);
    }
    if (name.kind !== 'word') this.expected(`a pipe name (one of ${PIPE_NAMES.join(', ')})`, PIPE_NAMES, name);
    this.lex.next();
    switch (name.value.toLowerCase()) {
      case 'stats':
        return this.parseStats(name.start);
      case 'sort':
        return this.parseSort(name.start);
      case 'fields':
        return this.parseFields(name.start);
      case 'head':
      case 'limit':
        return this.parseHead(name.start);
      case 'top':
        return this.parseTop(name.start);
      default:
        return fail(
          `Unknown pipe "${name.value}" at position ${name.start}; expected one of ${PIPE_NAMES.join(', ')}`,
          name.start,
          PIPE_NAMES,
        );
    }
  }

  private parseStats(start: number): Pipe {
    const columns = new Set<string>();
    // Output columns must be unique, or the result could not be addressed by name.
    const claim = (column: string, at: number): string => {
      if (columns.has(column)) {
        fail(`Duplicate column "${column}" at position ${at}; rename it with "as"`, at, ['a unique column name']);
      }
      columns.add(column);
      return column;
    };
    const aggs = this.parseList(() => {
      const at = this.lex.peek().start;
      const agg = this.parseAggregation();
      claim(agg.name, at);
      return agg;
    });
    let by: string[] = [];
    if (isKeyword(this.lex.peek(), 'by')) {
      this.lex.next();
      by = this.parseList(() => {
        const at = this.lex.peek().start;
        return claim(this.parseColumn('a field to group by'), at);
      });
      this.endPipe('",", "|" or end of query', [',', '|', 'end of query']);
    } else {
      this.endPipe('",", "by", "|" or end of query', [',', 'by', '|', 'end of query']);
    }
    return { kind: 'stats', aggs, by, span: span(start, this.lex.lastEnd) };
  }

  private parseAggregation(): Aggregation {
    const token = this.lex.peek();
    if (token.kind !== 'word') {
      this.expected('an aggregation such as count(), avg(field) or p95(field)', AGG_FUNCTIONS, token);
    }
    const call = this.parseAggCall();
    let name = defaultName(call);
    if (isKeyword(this.lex.peek(), 'as')) {
      this.lex.next();
      name = this.parseField('a column name after "as"');
    }
    const agg: Aggregation = { fn: call.fn, name };
    if (call.field !== undefined) agg.field = call.field;
    if (call.percentile !== undefined) agg.percentile = call.percentile;
    return agg;
  }

  /**
   * `fn(field)`, `count()`, `count(*)` or a bare `count`. The current token is a word.
   * Function names are case-insensitive.
   */
  private parseAggCall(): AggCall {
    const fnToken = this.lex.next();
    const call = resolveFunction(fnToken);
    let field: string | undefined;
    if (this.lex.peek().kind === 'lparen') {
      this.lex.next();
      const arg = this.lex.peek();
      if (call.fn === 'count' && arg.kind === 'word' && arg.raw === '*') {
        this.lex.next(); // SQL's count(*) is count()
      } else if (arg.kind !== 'rparen') {
        field = this.parseField('a field name');
      }
      const close = this.lex.peek();
      if (close.kind !== 'rparen') this.expected('")"', [')'], close);
      this.lex.next();
      if (field === undefined && call.fn !== 'count') {
        fail(
          `Expected a field name at position ${close.start}, found ")": ${fnToken.value}() needs a field, as in ${fnToken.value}(duration)`,
          close.start,
          ['a field name'],
        );
      }
    } else if (call.fn !== 'count') {
      // Only count may be written without parentheses (`stats count by host`).
      this.expected(`"(" after "${fnToken.value}"`, ['('], this.lex.peek());
    }
    if (field !== undefined) call.field = field;
    return call;
  }

  private parseSort(start: number): Pipe {
    // `sort by x` reads better to some; `by` right after `sort` is always this keyword
    // (write `sort "by"` for a field named by).
    if (isKeyword(this.lex.peek(), 'by')) this.lex.next();
    const keys = this.parseList(() => {
      const minus = this.lex.peek().kind === 'minus' ? this.lex.next() : null;
      const field = this.parseColumn('a field to sort by');
      const order = this.lex.peek();
      if (isKeyword(order, 'asc') || isKeyword(order, 'desc')) {
        if (minus !== null) {
          fail(
            `Conflicting sort order at position ${order.start}: write "-${field}" or "${field} desc", not both`,
            order.start,
            [',', '|', 'end of query'],
          );
        }
        this.lex.next();
        return { field, desc: order.raw.toLowerCase() === 'desc' };
      }
      return { field, desc: minus !== null };
    });
    this.endPipe('",", "asc", "desc", "|" or end of query', [',', 'asc', 'desc', '|', 'end of query']);
    return { kind: 'sort', keys, span: span(start, this.lex.lastEnd) };
  }

  private parseFields(start: number): Pipe {
    const fields = this.parseList(() => this.parseColumn('a field name'));
    this.endPipe('",", "|" or end of query', [',', '|', 'end of query']);
    return { kind: 'fields', fields, span: span(start, this.lex.lastEnd) };
  }

  private parseHead(start: number): Pipe {
    const token = this.lex.peek();
    const n = token.kind === 'end' || token.kind === 'pipe' ? DEFAULT_ROW_COUNT : this.parseRowCount();
    this.endPipe('"|" or end of query', ['|', 'end of query']);
    return { kind: 'head', n, span: span(start, this.lex.lastEnd) };
  }

  private parseTop(start: number): Pipe {
    // A leading whole number is always the count (`top 10 path`); quote a field named "10".
    const first = this.lex.peek();
    const n = first.kind === 'word' && /^\d+$/.test(first.raw) ? this.parseRowCount() : DEFAULT_ROW_COUNT;
    const fields = this.parseList(() => this.parseColumn('a field name'));
    this.endPipe('",", "|" or end of query', [',', '|', 'end of query']);
    return { kind: 'top', n, fields, span: span(start, this.lex.lastEnd) };
  }

  private parseRowCount(): number {
    const token = this.lex.peek();
    const what = `a row count (a whole number from 0 to ${MAX_ROW_COUNT})`;
    if (token.kind !== 'word' || !/^\d+$/.test(token.raw)) this.expected(what, ['a number'], token);
    const n = Number(token.raw);
    if (n > MAX_ROW_COUNT) {
      fail(`Row count ${token.raw} at position ${token.start} is too large; the limit is ${MAX_ROW_COUNT}`, token.start, [
        'a number',
      ]);
    }
    this.lex.next();
    return n;
  }

  /**
   * A column of the rows flowing through the pipes: a field name, a "quoted name", or
   * an aggregation written as in stats (`-avg(duration)`, `-count()`), which stands
   * for the column that aggregation produces by default.
   */
  private parseColumn(what: string): string {
    const token = this.lex.peek();
    if (token.kind === 'word' && this.lex.peek(1).kind === 'lparen') return defaultName(this.parseAggCall());
    return this.parseField(what);
  }

  /** A field name: a bare word with field characters (escapes allowed) or a non-empty quoted name. */
  private parseField(what: string): string {
    const token = this.lex.peek();
    if (token.kind === 'word') {
      this.lex.next();
      return fieldName(token);
    }
    if (token.kind === 'string' && token.value !== '') {
      this.lex.next();
      return token.value;
    }
    return this.expected(what, ['a field name'], token);
  }

  private parseList<T>(item: () => T): T[] {
    const items = [item()];
    while (this.lex.peek().kind === 'comma') {
      this.lex.next();
      items.push(item());
    }
    return items;
  }

  /** A pipe must be followed by another pipe or by the end of the query. */
  private endPipe(what: string, expected: string[]): void {
    const token = this.lex.peek();
    if (token.kind !== 'pipe' && token.kind !== 'end') this.expected(what, expected, token);
  }

  /** Throws `Expected <what> at position N, found <token><detail>`. */
  private expected(what: string, expected: string[], token: Token, detail = ''): never {
    return fail(`Expected ${what} at position ${token.start}, found ${describe(token)}${detail}`, token.start, expected);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function fail(message: string, position: number, expected: string[]): never {
  throw new QuerySyntaxError(message, position, expected);
}

function span(start: number, end: number): Span {
  return { start, end };
}

/** How a token is named in error messages. */
function describe(token: Token): string {
  if (token.kind === 'end') return 'end of query';
  const raw = token.raw.length > 30 ? token.raw.slice(0, 30) + '…' : token.raw;
  return token.kind === 'string' ? raw : `"${raw}"`; // a phrase shows its own quotes
}

/** Joins and/or children, flattening nested nodes of the same kind; one child is returned alone. */
function combine(kind: 'and' | 'or', children: FilterNode[]): FilterNode {
  const flat: FilterNode[] = [];
  for (const child of children) {
    if ((child.kind === 'and' || child.kind === 'or') && child.kind === kind) flat.push(...child.children);
    else flat.push(child);
  }
  return flat.length === 1 ? flat[0] : { kind, children: flat };
}

/** The field a word names, or an error if it holds characters a field name cannot (unescaped). */
function fieldName(token: Token): string {
  if (token.kind === 'word' && token.fieldOk) return token.value;
  return fail(
    `Invalid field name ${describe(token)} at position ${token.start}: field names may contain letters, digits, "_", ".", "@" and "-" (escape other characters with "\\")`,
    token.start,
    ['a field name'],
  );
}

/** A keyword of the pipe language (by, as, asc, desc): an unescaped, unquoted word in any case. */
function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.raw.toLowerCase() === keyword;
}

/** The aggregation a function name stands for: an alias, `median`, or a percentile `pNN` / `pNN.N`. */
function resolveFunction(token: Token): AggCall {
  const name = token.value.toLowerCase();
  const fn = Object.hasOwn(AGG_ALIASES, name) ? AGG_ALIASES[name] : undefined;
  if (fn !== undefined) return { fn };
  if (name === 'median') return { fn: 'percentile', percentile: 50 };
  const percentile = /^p(\d+(?:\.\d+)?)$/.exec(name);
  if (percentile !== null) {
    const p = Number(percentile[1]);
    if (p > 0 && p <= 100) return { fn: 'percentile', percentile: p };
    fail(
      `Percentile "${token.value}" at position ${token.start} is out of range; it must be above 0 and at most 100`,
      token.start,
      ['a percentile from p0.1 to p100'],
    );
  }
  return fail(
    `Unknown aggregation function "${token.value}" at position ${token.start}; expected one of count, count_distinct, sum, avg, min, max, median, or a percentile such as p95`,
    token.start,
    AGG_FUNCTIONS,
  );
}

/** The output column of an aggregation without `as`: `count`, `avg(duration)`, `p95(duration)`. */
function defaultName(call: AggCall): string {
  if (call.field === undefined) return call.fn; // only count() has no field
  const fn = call.fn === 'percentile' ? `p${call.percentile}` : call.fn;
  return `${fn}(${call.field})`;
}

/**
 * The string index at which `text` exceeds `limit` UTF-8 bytes, or -1 if it fits.
 * Stops early, so a huge input costs no more than the limit.
 */
function overLimitAt(text: string, limit: number): number {
  if (text.length * 3 <= limit) return -1; // a UTF-16 unit is never more than 3 UTF-8 bytes
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const at = i;
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
    if (bytes > limit) return at;
  }
  return -1;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
