/**
 * Parser for Logstash's configuration language, following Logstash's own grammar
 * (logstash-core/lib/logstash/config/grammar.treetop) with its default
 * `config.support_escapes: false`.
 *
 *   file       := cs (section cs)*
 *   section    := ('input' | 'filter' | 'output') cs '{' body
 *   body       := cs ((plugin | branch) cs)* '}'
 *   plugin     := name cs '{' cs (attribute (WS cs attribute)*)? cs '}'
 *   attribute  := name cs '=>' cs value
 *   name       := [A-Za-z0-9_-]+ | string
 *   value      := plugin | bareword | string | number | array | hash
 *   array      := '[' cs (value (cs ',' cs value)* (cs ',')?)? cs ']'
 *   hash       := '{' cs (key cs '=>' cs value (cs ','?)? cs)* '}'      key := number | bareword | string
 *   branch     := 'if' cs condition cs '{' body (cs 'else' cs 'if' cs condition cs '{' body)* (cs 'else' cs '{' body)?
 *   condition  := expression (cs ('and' | 'or' | 'xor' | 'nand') cs expression)*
 *   expression := '(' cs condition cs ')' | '!' cs '(' cs condition cs ')' | '!' cs selector
 *               | rvalue cs ('in' | 'not' cs 'in') cs rvalue
 *               | rvalue cs ('==' | '!=' | '<=' | '>=' | '<' | '>') cs rvalue
 *               | rvalue cs ('=~' | '!~') cs (string | regexp)
 *               | rvalue
 *   rvalue     := string | number | selector | list | regexp
 *   selector   := ('[' [^\][,"'\r\n]+ ']')+                 list := '[' cs (item (cs ',' cs item)* (cs ',')?)? cs ']'
 *   cs         := (whitespace | '#' to end of line)*       whitespace := [ \t\r\n]
 *
 * The parser works on characters rather than on a token stream because the language's
 * lexing depends on where one stands: `[a]` is a field reference in a condition and an
 * array in a setting, `/` starts a regexp only in a condition, and `foo {` is a plugin
 * while `foo` alone is a bareword.
 *
 * Every failure is a ConfigSyntaxError whose position is 1-based; columns count UTF-16
 * code units as JavaScript strings do (a tab is one column, an emoji two). Nesting is bounded by MAX_NESTING so that recursion cannot
 * overflow the stack, and every loop consumes input or throws, so nothing can hang.
 */

import { ConfigSyntaxError } from './ast.js';
import type {
  Attribute,
  BooleanOperator,
  Branch,
  CompareOperator,
  Condition,
  ConfigTree,
  HashEntry,
  Operand,
  PluginNode,
  Position,
  Section,
  SectionKind,
  Statement,
  Value,
} from './ast.js';

/** Largest accepted configuration, in UTF-8 bytes. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/**
 * Deepest accepted nesting of arrays, hashes, plugins given as values, `if` bodies,
 * parenthesised (or `!(`-negated) conditions and lists in conditions.
 */
export const MAX_NESTING = 64;

/** Parses a whole configuration file. Throws ConfigSyntaxError, and nothing else, on bad input. */
export function parseConfig(text: string, source?: string): ConfigTree {
  const tooBig = firstOversizeIndex(text);
  if (tooBig >= 0) {
    throw new ConfigSyntaxError(
      `config is larger than the limit of ${MAX_CONFIG_BYTES} bytes (4 MiB) in UTF-8`,
      positionByScan(text, tooBig),
      source,
    );
  }
  return new Parser(text, source).parseFile();
}

// ---------------------------------------------------------------------------
// Size limit
// ---------------------------------------------------------------------------

/** UTF-8 length of one UTF-16 unit at `i`, and how many units it spans (a surrogate pair is 4 bytes for 2). */
function utf8Units(text: string, i: number): [bytes: number, units: number] {
  const c = text.charCodeAt(i);
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return [4, 2];
  }
  // Other units, lone surrogates included (they encode as U+FFFD), take 3 bytes.
  return [3, 1];
}

/** Index of the first character that does not fit within MAX_CONFIG_BYTES, or -1 if the text fits. */
function firstOversizeIndex(text: string): number {
  // Every UTF-16 unit takes 1 to 3 bytes, so most texts are decided without a scan.
  if (text.length * 3 <= MAX_CONFIG_BYTES) return -1;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const [b, u] = utf8Units(text, i);
    bytes += b;
    if (bytes > MAX_CONFIG_BYTES) return i;
    i += u;
  }
  return -1;
}

/** Line and column of `index` without a line table, for the one error raised before the parser exists. */
function positionByScan(text: string, index: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return { line, column: index - lineStart + 1 };
}

// ---------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------

/** `[A-Za-z0-9_-]`: what Logstash allows in plugin and setting names. */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isBarewordStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** Logstash requires two characters; one is accepted too, so `x => y` is not an error. */
const BAREWORD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /-?[0-9]+(?:\.[0-9]*)?/y;

const SECTION_KINDS: readonly string[] = ['input', 'filter', 'output'];
const BOOLEAN_OPERATORS: readonly string[] = ['and', 'or', 'xor', 'nand'];
/** Tightest first: `and`/`nand` bind before `xor`, which binds before `or`. */
const PRECEDENCE: readonly (readonly BooleanOperator[])[] = [['and', 'nand'], ['xor'], ['or']];
const TWO_CHAR_OPERATORS: readonly string[] = ['=>', '==', '!=', '<=', '>=', '=~', '!~'];

/** Characters that end a field reference's name: Logstash's `[^\]\[,]`, plus quotes and line breaks (see isFieldAt). */
function endsFieldName(ch: string): boolean {
  return ch === ']' || ch === '[' || ch === ',' || ch === '"' || ch === "'" || ch === '\n' || ch === '\r';
}

/** Characters shown by code point in messages because they are invisible or ambiguous on a terminal. */
function isInvisible(cp: number): boolean {
  return (
    cp <= 0x20 ||
    (cp >= 0x7f && cp <= 0xa0) ||
    cp === 0xad ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    (cp >= 0x2000 && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202f) ||
    (cp >= 0x205f && cp <= 0x206f) ||
    cp === 0x3000 ||
    cp === 0xfeff
  );
}

/** A name or string for a message: JSON-quoted, and cut short so a message stays one readable line. */
function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function formatPosition(at: Position): string {
  return `${at.line}:${at.column}`;
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

type FieldOperand = Extract<Operand, { kind: 'field' }>;

class Parser {
  private pos = 0;
  private depth = 0;
  /** Offset of the first character of each line, for turning offsets into line and column. */
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly source: string | undefined,
  ) {
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) this.lineStarts.push(nl + 1);
  }

  // --- positions, errors and small helpers ---------------------------------

  private at(offset: number): Position {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  }

  private fail(reason: string, offset: number = this.pos): never {
    throw new ConfigSyntaxError(reason, this.at(offset), this.source);
  }

  /** What stands at `offset`, for "found ..." in messages. */
  private found(offset: number = this.pos): string {
    const text = this.text;
    if (offset >= text.length) return 'end of input';
    const c = text.charCodeAt(offset);
    if (isNameChar(c)) return quote(text.slice(offset, this.nameEnd(offset)));
    const two = text.slice(offset, offset + 2);
    if (TWO_CHAR_OPERATORS.includes(two)) return `"${two}"`;
    if (c === 0x0a || c === 0x0d) return 'end of line';
    const cp = text.codePointAt(offset) ?? c;
    if (isInvisible(cp)) return codePoint(cp);
    if (c === 0x22) return `'"'`;
    if (cp < 0x80) return `"${text[offset]}"`;
    return `"${String.fromCodePoint(cp)}" (${codePoint(cp)})`;
  }

  private where(offset: number): string {
    return formatPosition(this.at(offset));
  }

  private get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** End of the run of name characters starting at `offset`. */
  private nameEnd(offset: number): number {
    let i = offset;
    while (i < this.text.length && isNameChar(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** The run of name characters at the current position, without consuming it. */
  private peekWord(): string {
    return this.text.slice(this.pos, this.nameEnd(this.pos));
  }

  /** Skips whitespace and comments. */
  private skipCs(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        this.pos++;
      } else if (c === 0x23) {
        const nl = text.indexOf('\n', this.pos);
        this.pos = nl === -1 ? text.length : nl + 1;
      } else {
        return;
      }
    }
  }

  /** Runs `parse` one nesting level deeper; `open` is where the nested construct starts. */
  private nested<T>(open: number, parse: () => T): T {
    if (this.depth >= MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING} levels`, open);
    this.depth++;
    const result = parse();
    this.depth--;
    return result;
  }

  /** Whether a `{` follows after whitespace; if so the position is left on it, otherwise unchanged. */
  private braceFollows(): boolean {
    const save = this.pos;
    this.skipCs();
    if (this.peek() === '{') return true;
    this.pos = save;
    return false;
  }

  // --- file, sections and statements --------------------------------------

  parseFile(): ConfigTree {
    // Editors on Windows may save a byte order mark; it is not part of the configuration.
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    const sections: Section[] = [];
    for (;;) {
      this.skipCs();
      if (this.atEnd) return { sections };
      sections.push(this.parseSection());
    }
  }

  private parseSection(): Section {
    const start = this.pos;
    const word = this.peekWord();
    if (word === '') this.fail(`expected a section (input, filter or output), found ${this.found()}`);
    if (!SECTION_KINDS.includes(word)) this.fail(`unknown section ${quote(word)}: expected input, filter or output`);
    this.pos += word.length;
    this.skipCs();
    if (this.peek() !== '{') this.fail(`expected "{" after "${word}", found ${this.found()}`);
    const open = this.pos++;
    return { kind: word as SectionKind, body: this.parseBody(open), at: this.at(start) };
  }

  /** Statements up to the `}` matching the `{` at `open`, which has been consumed. */
  private parseBody(open: number): Statement[] {
    const body: Statement[] = [];
    for (;;) {
      this.skipCs();
      if (this.atEnd) this.fail(`expected "}" to close the "{" at ${this.where(open)}, found end of input`);
      if (this.peek() === '}') {
        this.pos++;
        return body;
      }
      body.push(this.parseStatement());
    }
  }

  private parseStatement(): Statement {
    const start = this.pos;
    const ch = this.peek();
    if (ch === '"' || ch === "'") {
      return { kind: 'plugin', plugin: this.parsePlugin(this.readString(), start) };
    }
    const word = this.peekWord();
    if (word === '') this.fail(`expected a plugin, "if" or "}", found ${this.found()}`);
    this.pos += word.length;
    if (word === 'if') return this.parseIf(start);
    // Logstash would read a lone `else { }` as a plugin named "else"; that is never what was meant.
    if (word === 'else') this.fail('"else" without a preceding "if" block', start);
    return { kind: 'plugin', plugin: this.parsePlugin(word, start) };
  }

  /** A plugin whose name, starting at `start`, has been read: the `{ settings }` that follows. */
  private parsePlugin(name: string, start: number): PluginNode {
    this.skipCs();
    if (this.peek() !== '{') this.fail(`expected "{" after plugin name ${quote(name)}, found ${this.found()}`);
    const open = this.pos++;
    return { name, attributes: this.parseAttributes(open), at: this.at(start) };
  }

  private parseAttributes(open: number): Attribute[] {
    const attributes: Attribute[] = [];
    this.skipCs();
    for (;;) {
      if (this.atEnd) this.fail(`expected "}" to close the "{" at ${this.where(open)}, found end of input`);
      if (this.peek() === '}') {
        this.pos++;
        return attributes;
      }
      const attribute = this.parseAttribute();
      attributes.push(attribute);
      const afterValue = this.pos;
      this.skipCs();
      if (this.peek() === ',') {
        this.fail(`unexpected "," after setting ${quote(attribute.name)}: settings are separated by whitespace, not commas`);
      }
      // Logstash's grammar wants whitespace between settings; without it `a => 1b => 2` would read oddly.
      if (this.pos === afterValue && !this.atEnd && this.peek() !== '}') {
        this.fail(`expected whitespace or "}" after the value of setting ${quote(attribute.name)}, found ${this.found()}`);
      }
    }
  }

  private parseAttribute(): Attribute {
    const start = this.pos;
    let name: string;
    if (this.peek() === '"' || this.peek() === "'") {
      name = this.readString();
    } else {
      name = this.peekWord();
      if (name === '') this.fail(`expected a setting name or "}", found ${this.found()}`);
      this.pos += name.length;
    }
    this.skipCs();
    if (!this.text.startsWith('=>', this.pos)) {
      this.fail(`expected "=>" after setting name ${quote(name)}, found ${this.found()}`);
    }
    this.pos += 2;
    this.skipCs();
    const value = this.parseValue(`a value for setting ${quote(name)}`);
    return { name, value, at: this.at(start) };
  }

  // --- setting values -------------------------------------------------------

  /** `expected` completes "expected ..." in the message when no value starts here. */
  private parseValue(expected: string): Value {
    const start = this.pos;
    const ch = this.peek();
    if (ch === '"' || ch === "'") {
      const value = this.readString();
      // Logstash's plugin names may be quoted, so `"json" { }` is a plugin too.
      if (this.braceFollows()) return this.pluginValue(value, start);
      return { kind: 'string', value, at: this.at(start) };
    }
    if (ch === '[') return this.parseArray();
    if (ch === '{') return this.parseHash();
    if (isNameChar(this.text.charCodeAt(this.pos))) return this.parseWordValue();
    return this.fail(`expected ${expected}, found ${this.found()}`);
  }

  private pluginValue(name: string, start: number): Value {
    const plugin = this.nested(start, () => this.parsePlugin(name, start));
    return { kind: 'plugin', plugin, at: plugin.at };
  }

  /** A run of name characters: a plugin if `{` follows, else a bareword or a number. */
  private parseWordValue(): Value {
    const start = this.pos;
    const end = this.nameEnd(start);
    const word = this.text.slice(start, end);
    this.pos = end;
    if (this.braceFollows()) return this.pluginValue(word, start);
    if (BAREWORD.test(word)) return { kind: 'bareword', value: word, at: this.at(start) };
    const number = this.matchNumber(start, end);
    if (number !== null) return { kind: 'number', value: this.numberValue(number, start), text: number, at: this.at(start) };
    return this.fail(`invalid value ${quote(word)}: neither a number nor a bareword ([A-Za-z_][A-Za-z0-9_]*); quote it`, start);
  }

  /**
   * The number at `start` if it covers the whole name run ending at `end` (it may go on
   * past it with a decimal point), so that `12abc` or `1-2` is not read as `12` or `1`.
   * Leaves the position after the number.
   */
  private matchNumber(start: number, end: number): string | null {
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null || start + match[0].length < end) return null;
    this.pos = start + match[0].length;
    return match[0];
  }

  private numberValue(text: string, start: number): number {
    const value = Number(text);
    if (!Number.isFinite(value)) this.fail(`number ${quote(text)} is out of range`, start);
    return value;
  }

  private parseArray(): Value {
    const open = this.pos;
    const items = this.parseBracketed('array', () => this.parseValue('an array item'));
    return { kind: 'array', items, at: this.at(open) };
  }

  /**
   * `[ item, ... ]`, a trailing comma allowed: a setting's array and a condition's list share this
   * shape and its messages; `what` names which it is.
   */
  private parseBracketed<T>(what: string, parseItem: () => T): T[] {
    const open = this.pos;
    return this.nested(open, () => {
      this.pos++;
      const items: T[] = [];
      this.skipCs();
      if (this.peek() === ']') {
        this.pos++;
        return items;
      }
      for (;;) {
        if (this.atEnd) this.fail(`expected "]" to close the "[" at ${this.where(open)}, found end of input`);
        items.push(parseItem());
        this.skipCs();
        if (this.peek() === ',') {
          this.pos++;
          this.skipCs();
          if (this.peek() !== ']') continue;
        }
        if (this.peek() === ']') {
          this.pos++;
          return items;
        }
        if (this.atEnd) this.fail(`expected "]" to close the "[" at ${this.where(open)}, found end of input`);
        this.fail(`expected "," or "]" in the ${what} at ${this.where(open)}, found ${this.found()}`);
      }
    });
  }

  private parseHash(): Value {
    const open = this.pos;
    return this.nested(open, () => {
      this.pos++;
      const entries: HashEntry[] = [];
      for (;;) {
        this.skipCs();
        if (this.atEnd) this.fail(`expected "}" to close the "{" at ${this.where(open)}, found end of input`);
        if (this.peek() === '}') {
          this.pos++;
          return { kind: 'hash', entries, at: this.at(open) };
        }
        entries.push(this.parseHashEntry());
        this.skipCs();
        // Logstash separates entries by whitespace only; a comma, as in Ruby or JSON, does no harm.
        if (this.peek() === ',') this.pos++;
      }
    });
  }

  private parseHashEntry(): HashEntry {
    const start = this.pos;
    const key = this.readHashKey();
    this.skipCs();
    if (!this.text.startsWith('=>', this.pos)) this.fail(`expected "=>" after hash key ${quote(key)}, found ${this.found()}`);
    this.pos += 2;
    this.skipCs();
    const value = this.parseValue(`a value for hash key ${quote(key)}`);
    return { key, value, at: this.at(start) };
  }

  /** A hash key: a string's value, a bareword, or a number's text. */
  private readHashKey(): string {
    if (this.peek() === '"' || this.peek() === "'") return this.readString();
    const start = this.pos;
    const end = this.nameEnd(start);
    const word = this.text.slice(start, end);
    if (word === '') this.fail(`expected a hash key (bareword, number or string) or "}", found ${this.found()}`);
    if (BAREWORD.test(word)) {
      this.pos = end;
      return word;
    }
    const number = this.matchNumber(start, end);
    if (number !== null) return number;
    return this.fail(`invalid hash key ${quote(word)}: neither a number nor a bareword; quote it`, start);
  }

  /**
   * A quoted string, verbatim: without escape processing a backslash only keeps the quote
   * after it from ending the string, and stays in the value. So a quote ends the string
   * exactly when no backslash stands right before it (`"\\"` is unterminated, as in Logstash).
   */
  private readString(): string {
    const start = this.pos;
    const end = this.closingDelimiter(start, this.text[start]);
    if (end === -1) this.fail(`unterminated string starting at ${this.where(start)}`, this.text.length);
    this.pos = end + 1;
    return this.text.slice(start + 1, end);
  }

  /** Index of the unescaped `delimiter` closing the one at `open`, or -1. */
  private closingDelimiter(open: number, delimiter: string): number {
    let i = this.text.indexOf(delimiter, open + 1);
    // At worst the character before `i` is the opening delimiter, which is not a backslash.
    while (i !== -1 && this.text[i - 1] === '\\') i = this.text.indexOf(delimiter, i + 1);
    return i;
  }

  // --- branches and conditions ---------------------------------------------

  /** `if` at `start` has been read. */
  private parseIf(start: number): Statement {
    const branches: Branch[] = [this.parseArm(start)];
    let otherwise: Statement[] | null = null;
    for (;;) {
      const save = this.pos;
      this.skipCs();
      const elseAt = this.pos;
      if (this.peekWord() !== 'else') {
        this.pos = save;
        break;
      }
      this.pos += 4;
      this.skipCs();
      if (this.peekWord() === 'if') {
        this.pos += 2;
        branches.push(this.parseArm(elseAt));
        continue;
      }
      if (this.peek() !== '{') this.fail(`expected "{" or "if" after "else", found ${this.found()}`);
      otherwise = this.parseArmBody();
      break;
    }
    return { kind: 'if', branches, otherwise, at: this.at(start) };
  }

  /** One `if COND { ... }` or `else if COND { ... }`, the keywords read; `start` is the first one's. */
  private parseArm(start: number): Branch {
    this.skipCs();
    const condition = this.parseCondition();
    this.skipCs();
    if (this.peek() !== '{') {
      this.fail(`expected "{" or a boolean operator (and, or, xor, nand) after the condition, found ${this.found()}`);
    }
    return { condition, body: this.parseArmBody(), at: this.at(start) };
  }

  private parseArmBody(): Statement[] {
    const open = this.pos;
    return this.nested(open, () => {
      this.pos++;
      return this.parseBody(open);
    });
  }

  /** Expressions joined by boolean operators, grouped by precedence without recursion. */
  private parseCondition(): Condition {
    const terms: Condition[] = [this.parseExpression()];
    const operators: BooleanOperator[] = [];
    for (;;) {
      const save = this.pos;
      this.skipCs();
      const word = this.peekWord();
      if (!BOOLEAN_OPERATORS.includes(word)) {
        this.pos = save;
        break;
      }
      this.pos += word.length;
      this.skipCs();
      operators.push(word as BooleanOperator);
      terms.push(this.parseExpression());
    }
    return groupByPrecedence(terms, operators);
  }

  private parseExpression(): Condition {
    if (this.peek() === '(') return this.parseParenthesised();
    if (this.peek() === '!') {
      this.pos++;
      this.skipCs();
      if (this.peek() === '(') return { kind: 'not', operand: this.parseParenthesised() };
      if (this.peek() === '[' && this.isFieldAt(this.pos)) return this.negatedField();
      const found = this.peek() === '[' ? 'a list' : this.found();
      return this.fail(`expected "(" or a field reference after "!", found ${found}`);
    }
    const left = this.parseOperand('a condition (a value, a field reference, "(" or "!")');
    return this.parseComparison(left);
  }

  /** `![a]`. As in Logstash, `!` takes the field alone, so `![a] == 1` is refused rather than read as `(![a]) == 1`. */
  private negatedField(): Condition {
    const field = this.parseField();
    const save = this.pos;
    this.skipCs();
    const at = this.pos;
    const two = this.text.slice(at, at + 2);
    const word = this.peekWord();
    if (/^[=!<>]/.test(two) || word === 'in' || word === 'not') {
      const text = field.field.text;
      this.fail(`"!" applies only to ${text} here, not to a comparison: write !(${text} ...) to negate one`, at);
    }
    this.pos = save;
    return { kind: 'not', operand: { kind: 'truthy', operand: field } };
  }

  private parseParenthesised(): Condition {
    const open = this.pos;
    return this.nested(open, () => {
      this.pos++;
      this.skipCs();
      const condition = this.parseCondition();
      this.skipCs();
      if (this.peek() !== ')') {
        this.fail(`expected ")" to close the "(" at ${this.where(open)}, or a boolean operator, found ${this.found()}`);
      }
      this.pos++;
      return condition;
    });
  }

  /** What follows an operand: an operator and its right side, or nothing (a truthiness test). */
  private parseComparison(left: Operand): Condition {
    const save = this.pos;
    this.skipCs();
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') return this.compare(left, two, 2);
    const one = this.peek();
    if (one === '<' || one === '>') return this.compare(left, one, 1);
    if (two === '=~' || two === '!~') {
      this.pos += 2;
      this.skipCs();
      return { kind: 'match', negated: two === '!~', left, pattern: this.parsePattern(two) };
    }
    const word = this.peekWord();
    if (word === 'in') {
      this.pos += 2;
      return { kind: 'in', negated: false, needle: left, haystack: this.rightOperand('in') };
    }
    if (word === 'not') {
      this.pos += 3;
      this.skipCs();
      if (this.peekWord() !== 'in') this.fail(`expected "in" after "not", found ${this.found()}`);
      this.pos += 2;
      return { kind: 'in', negated: true, needle: left, haystack: this.rightOperand('not in') };
    }
    this.pos = save;
    return { kind: 'truthy', operand: left };
  }

  private compare(left: Operand, operator: CompareOperator, length: number): Condition {
    this.pos += length;
    return { kind: 'compare', operator, left, right: this.rightOperand(operator) };
  }

  private rightOperand(operator: string): Operand {
    this.skipCs();
    return this.parseOperand(`a value after "${operator}"`);
  }

  /** The right side of `=~` or `!~`: Logstash allows only a string or a regexp there. */
  private parsePattern(operator: string): Operand {
    const start = this.pos;
    if (this.peek() === '/') return { kind: 'regexp', source: this.readRegexp(), at: this.at(start) };
    if (this.peek() === '"' || this.peek() === "'") return { kind: 'string', value: this.readString(), at: this.at(start) };
    return this.fail(`expected a regexp or string after "${operator}", found ${this.found()}`);
  }

  /** An rvalue; `expected` completes "expected ..." in the message when none starts here. */
  private parseOperand(expected: string): Operand {
    const start = this.pos;
    const ch = this.peek();
    const c = this.text.charCodeAt(start);
    if (ch === '"' || ch === "'") return { kind: 'string', value: this.readString(), at: this.at(start) };
    if (ch === '/') return { kind: 'regexp', source: this.readRegexp(), at: this.at(start) };
    if (ch === '[') return this.isFieldAt(start) ? this.parseField() : this.parseList();
    if (isDigit(c) || ch === '-') {
      const number = this.readOperandNumber();
      if (number !== null) return number;
    }
    if (isBarewordStart(c)) this.failBareword();
    return this.fail(`expected ${expected}, found ${this.found()}`);
  }

  private readOperandNumber(): Operand | null {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null) return null;
    this.pos = start + match[0].length;
    return { kind: 'number', value: this.numberValue(match[0], start), at: this.at(start) };
  }

  /** Logstash allows no barewords in conditions except method calls, which this runtime does not have. */
  private failBareword(): never {
    const start = this.pos;
    const word = this.peekWord();
    this.pos += word.length;
    this.skipCs();
    if (this.peek() === '(') this.fail(`method calls are not supported: ${quote(word)}(...)`, start);
    return this.fail(`unexpected bareword ${quote(word)} in a condition: quote it as a string, or write a field reference as [${word}]`, start);
  }

  /**
   * Whether the `[` at `offset` starts a field reference rather than a list. Logstash's
   * grammar tries a selector first, and a selector's name is anything but `]`, `[` and `,`;
   * here quotes and line breaks also end a name, so `["a"]` is a one-item list and an
   * unclosed `[` is reported on its own line. A blank name (`[ ]`) is an empty list.
   */
  private isFieldAt(offset: number): boolean {
    const text = this.text;
    let blank = true;
    let i = offset + 1;
    for (; i < text.length && !endsFieldName(text[i]); i++) {
      if (text[i] !== ' ' && text[i] !== '\t') blank = false;
    }
    return text[i] === ']' && !blank;
  }

  /** `[a][b]...`, the first element known to be well formed. */
  private parseField(): FieldOperand {
    const start = this.pos;
    const path: string[] = [];
    while (this.peek() === '[') {
      let i = this.pos + 1;
      while (i < this.text.length && !endsFieldName(this.text[i])) i++;
      const name = this.text.slice(this.pos + 1, i);
      if (this.text[i] !== ']') this.fail(`expected "]" to end the field name in a field reference, found ${this.found(i)}`, i);
      if (name.trim() === '') this.fail('empty field name in a field reference', this.pos + 1);
      path.push(name);
      this.pos = i + 1;
    }
    return { kind: 'field', field: { path, text: this.text.slice(start, this.pos) }, at: this.at(start) };
  }

  /** `[ item, ... ]` in a condition: strings, numbers, barewords (read as strings) and nested lists. */
  private parseList(): Operand {
    const open = this.pos;
    const items = this.parseBracketed('list', () => this.parseListItem());
    return { kind: 'list', items, at: this.at(open) };
  }

  private parseListItem(): Operand {
    const start = this.pos;
    const ch = this.peek();
    const c = this.text.charCodeAt(start);
    if (ch === '"' || ch === "'") return { kind: 'string', value: this.readString(), at: this.at(start) };
    if (ch === '[') return this.parseList();
    if (isDigit(c) || ch === '-') {
      const number = this.readOperandNumber();
      if (number !== null) return number;
    }
    if (isBarewordStart(c)) {
      // Logstash's arrays hold barewords, and its conditions compare them as strings.
      const word = this.peekWord();
      if (!BAREWORD.test(word)) this.fail(`invalid list item ${quote(word)}: quote it`);
      this.pos += word.length;
      return { kind: 'string', value: word, at: this.at(start) };
    }
    return this.fail(`expected a list item (a string, a number or a list), found ${this.found()}`);
  }

  /** `/.../`, its source kept verbatim; a backslash before a slash keeps it from ending the regexp. */
  private readRegexp(): string {
    const start = this.pos;
    const end = this.closingDelimiter(start, '/');
    if (end === -1) this.fail(`unterminated regexp starting at ${this.where(start)}`, this.text.length);
    this.pos = end + 1;
    return this.text.slice(start + 1, end);
  }
}

/** Folds `t0 op0 t1 op1 t2 ...` into a tree, one precedence level at a time, left to right. */
function groupByPrecedence(terms: Condition[], operators: BooleanOperator[]): Condition {
  let currentTerms = terms;
  let currentOperators = operators;
  for (const level of PRECEDENCE) {
    const nextTerms: Condition[] = [currentTerms[0]];
    const nextOperators: BooleanOperator[] = [];
    currentOperators.forEach((operator, i) => {
      const right = currentTerms[i + 1];
      if (level.includes(operator)) {
        const left = nextTerms[nextTerms.length - 1];
        nextTerms[nextTerms.length - 1] = { kind: 'boolean', operator, left, right };
      } else {
        nextOperators.push(operator);
        nextTerms.push(right);
      }
    });
    currentTerms = nextTerms;
    currentOperators = nextOperators;
  }
  return currentTerms[0];
}
