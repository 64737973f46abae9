/**
 * Fuzz test for the Logstash configuration parser: seeded, so every run checks the same
 * inputs and a failure can be reproduced from the printed case.
 *
 *  - Round trip: random trees are printed with random whitespace and comments, parsed
 *    back, and must come out equal, with every position on the node's first character.
 *  - Robustness: mutated configurations, token soup, deep nesting and oversize inputs
 *    must either parse (with sane positions) or throw a ConfigSyntaxError whose position
 *    lies within the text, and nothing else: no TypeError, no stack overflow, no hang.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSyntaxError } from '../../src/pipeline/parser/ast.js';
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
} from '../../src/pipeline/parser/ast.js';
import { MAX_CONFIG_BYTES, MAX_NESTING, parseConfig } from '../../src/pipeline/parser/parse.js';
import { Gen } from '../helpers/prng.js';

/** Generated trees carry no real positions; comparisons strip them. */
const NOWHERE: Position = { line: 0, column: 0 };

function strip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'at' ? undefined : v)));
}

// --- random trees -----------------------------------------------------------------

const NAME = /^[A-Za-z0-9_-]+$/;
const BAREWORD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^-?[0-9]+(\.[0-9]*)?$/;

const NAMES = ['beats', 'grok', 'mutate', 'date', 'elasticsearch', 'stdout', 'json', 'my-plugin', 'x', '_a', '007', '-', 'a_b-c', 'ifx', 'elsewhere', 'input'];
const NAME_CHARS = [...'abcxyzABZ019_-'];
const STRING_CHARS = [...'ab Z09 #{}[]()=>,\\"\'\n\t/'].concat(['é', '日本', '😀', '%{', '=>']);
const FIELD_CHARS = [...'abcXYZ019@_.- #:/{}()!=<>*|'].concat(['é', '😀']);
const REGEXP_CHARS = [...'ab.*+?()^$|d \n#[]{}"\'\\/'];

/** `text` made valid between `delimiter`s: each bare delimiter gets a backslash, and it does not end in one. */
function escapeFor(text: string, delimiter: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === delimiter && !out.endsWith('\\')) out += '\\';
    out += ch;
  }
  return out.endsWith('\\') ? `${out}x` : out;
}

/** Whether `text` can stand between two `delimiter`s verbatim. */
function fitsBetween(text: string, delimiter: string): boolean {
  return escapeFor(text, delimiter) === text;
}

class TreeGen {
  constructor(private readonly g: Gen) {}

  config(): ConfigTree {
    const sections: Section[] = [];
    const n = this.g.int(4);
    for (let i = 0; i < n; i++) {
      const kind: SectionKind = this.g.pick(['input', 'filter', 'output'] as const);
      sections.push({ kind, body: this.statements(3), at: NOWHERE });
    }
    return { sections };
  }

  private statements(depth: number): Statement[] {
    const out: Statement[] = [];
    const n = this.g.int(4);
    for (let i = 0; i < n; i++) {
      if (depth > 0 && this.g.chance(0.3)) out.push(this.branchStatement(depth - 1));
      else out.push({ kind: 'plugin', plugin: this.plugin(2) });
    }
    return out;
  }

  private branchStatement(depth: number): Statement {
    const branches: Branch[] = [];
    const n = 1 + this.g.int(3);
    for (let i = 0; i < n; i++) branches.push({ condition: this.condition(3), body: this.statements(depth), at: NOWHERE });
    const otherwise = this.g.chance(0.4) ? this.statements(depth) : null;
    return { kind: 'if', branches, otherwise, at: NOWHERE };
  }

  private name(): string {
    const kind = this.g.int(3);
    if (kind === 0) return this.g.pick(NAMES);
    if (kind === 1) {
      const word = this.g.pick(NAME_CHARS) + this.g.text(NAME_CHARS, 8);
      return word === 'if' || word === 'else' ? `${word}_` : word;
    }
    return this.string();
  }

  string(): string {
    return escapeFor(this.g.text(STRING_CHARS, 12), this.g.pick(['"', "'"]));
  }

  private plugin(depth: number): PluginNode {
    const attributes: Attribute[] = [];
    const n = this.g.int(4);
    for (let i = 0; i < n; i++) attributes.push({ name: this.name(), value: this.value(depth), at: NOWHERE });
    return { name: this.name(), attributes, at: NOWHERE };
  }

  private value(depth: number): Value {
    const g = this.g;
    switch (depth > 0 ? g.int(6) : g.int(3)) {
      case 0:
        return { kind: 'string', value: this.string(), at: NOWHERE };
      case 1: {
        const text = g.pick(['', '-']) + g.pick(['0', '7', '42', '007', '123456789']) + g.pick(['', '.', '.5', '.25', '.000']);
        return { kind: 'number', value: Number(text), text, at: NOWHERE };
      }
      case 2:
        return { kind: 'bareword', value: g.pick(['true', 'false', 'x', '_', 'rubydebug', 'json_lines', 'A9']), at: NOWHERE };
      case 3:
        return { kind: 'array', items: Array.from({ length: g.int(4) }, () => this.value(depth - 1)), at: NOWHERE };
      case 4: {
        const entries: HashEntry[] = Array.from({ length: g.int(4) }, () => ({ key: this.hashKey(), value: this.value(depth - 1), at: NOWHERE }));
        return { kind: 'hash', entries, at: NOWHERE };
      }
      default:
        return { kind: 'plugin', plugin: this.plugin(depth - 1), at: NOWHERE };
    }
  }

  private hashKey(): string {
    return this.g.pick([() => this.g.pick(['a', 'key_1', 'X']), () => this.g.pick(['0', '-1', '2.5', '10.']), () => this.string()])();
  }

  condition(depth: number): Condition {
    const g = this.g;
    switch (depth > 0 ? g.int(7) : 3 + g.int(4)) {
      case 0:
      case 1:
        return {
          kind: 'boolean',
          operator: g.pick<BooleanOperator>(['and', 'or', 'xor', 'nand']),
          left: this.condition(depth - 1),
          right: this.condition(depth - 1),
        };
      case 2:
        return { kind: 'not', operand: this.condition(depth - 1) };
      case 3: {
        const operator = g.pick<CompareOperator>(['==', '!=', '<', '>', '<=', '>=']);
        return { kind: 'compare', operator, left: this.operand(2), right: this.operand(2) };
      }
      case 4: {
        const pattern: Operand = g.chance(0.7) ? this.regexp() : { kind: 'string', value: this.string(), at: NOWHERE };
        return { kind: 'match', negated: g.chance(0.5), left: this.operand(2), pattern };
      }
      case 5:
        return { kind: 'in', negated: g.chance(0.5), needle: this.operand(2), haystack: this.operand(2) };
      default:
        return { kind: 'truthy', operand: this.operand(2) };
    }
  }

  private regexp(): Operand {
    return { kind: 'regexp', source: escapeFor(this.g.text(REGEXP_CHARS, 10), '/'), at: NOWHERE };
  }

  private operand(depth: number): Operand {
    const g = this.g;
    switch (g.int(6)) {
      case 0:
      case 1: {
        const path = Array.from({ length: 1 + g.int(3) }, () => g.pick(FIELD_CHARS) + g.text(FIELD_CHARS, 6)).map((n) => (n.trim() === '' ? `${n}a` : n));
        return { kind: 'field', field: { path, text: path.map((n) => `[${n}]`).join('') }, at: NOWHERE };
      }
      case 2:
        return { kind: 'string', value: this.string(), at: NOWHERE };
      case 3:
        return this.regexp();
      case 4:
        return this.listOrNumber(depth);
      default:
        return this.number();
    }
  }

  private number(): Operand {
    // Printed with String(value), so avoid -0 and anything String() writes with an exponent.
    const value = (this.g.int(8001) - 4000) / this.g.pick([1, 2, 4, 100]);
    return { kind: 'number', value: value === 0 ? 0 : value, at: NOWHERE };
  }

  private listOrNumber(depth: number): Operand {
    if (depth <= 0) return this.number();
    const items = Array.from({ length: this.g.int(4) }, () =>
      this.g.pick([() => this.number(), () => ({ kind: 'string', value: this.string(), at: NOWHERE }) as Operand, () => this.listOrNumber(depth - 1)])(),
    );
    return { kind: 'list', items, at: NOWHERE };
  }
}

// --- printing trees back to text -----------------------------------------------------

/** Comments hold no "]": inside `[ ... ]` a comment's text would otherwise read as a field name. */
const SPACES = [' ', ' ', ' ', '\n', '\t', '  \n  ', '\r\n', ' # a comment { } [ " \' =>\n', '\n# whole line\n\t'];
const PRECEDENCE: Record<BooleanOperator, number> = { or: 1, xor: 2, and: 3, nand: 3 };

class Printer {
  constructor(private readonly g: Gen) {}

  /** Whitespace or a comment, never empty. */
  private ws(): string {
    return this.g.pick(SPACES);
  }

  /** Whitespace or nothing. */
  private opt(): string {
    return this.g.chance(0.35) ? '' : this.ws();
  }

  config(tree: ConfigTree): string {
    let out = '';
    for (const section of tree.sections) out += this.opt() + section.kind + this.opt() + '{' + this.body(section.body) + '}';
    return out + this.opt();
  }

  private body(statements: readonly Statement[]): string {
    let out = '';
    for (const statement of statements) out += this.opt() + (statement.kind === 'plugin' ? this.plugin(statement.plugin) : this.branches(statement));
    return out + this.opt();
  }

  private branches(statement: Extract<Statement, { kind: 'if' }>): string {
    let out = '';
    statement.branches.forEach((branch, i) => {
      out += (i === 0 ? 'if' : this.opt() + 'else' + this.ws() + 'if') + this.ws();
      out += this.condition(branch.condition, 0, false) + this.opt() + '{' + this.body(branch.body) + '}';
    });
    if (statement.otherwise !== null) out += this.opt() + 'else' + this.opt() + '{' + this.body(statement.otherwise) + '}';
    return out;
  }

  string(value: string): string {
    const quote = fitsBetween(value, '"') && (this.g.chance(0.5) || !fitsBetween(value, "'")) ? '"' : "'";
    assert.ok(fitsBetween(value, quote), `generated string ${JSON.stringify(value)} fits no quote`);
    return quote + value + quote;
  }

  private name(name: string): string {
    return NAME.test(name) && name !== 'if' && name !== 'else' ? name : this.string(name);
  }

  private plugin(plugin: PluginNode): string {
    const attributes = plugin.attributes.map((a) => this.name(a.name) + this.opt() + '=>' + this.opt() + this.value(a.value));
    return this.name(plugin.name) + this.opt() + '{' + this.opt() + attributes.join(this.ws()) + this.opt() + '}';
  }

  private value(value: Value): string {
    switch (value.kind) {
      case 'string':
        return this.string(value.value);
      case 'number':
        return value.text;
      case 'bareword':
        return value.value;
      case 'array':
        return this.sequence(value.items.map((item) => this.value(item)), this.g.chance(0.3));
      case 'hash': {
        const entries = value.entries.map((e) => this.hashKey(e.key) + this.opt() + '=>' + this.opt() + this.value(e.value));
        const separated = entries.map((e, i) => (i === 0 ? e : (this.g.chance(0.5) ? this.ws() : this.opt() + ',' + this.opt()) + e));
        return '{' + this.opt() + separated.join('') + this.opt() + '}';
      }
      case 'plugin':
        return this.plugin(value.plugin);
    }
  }

  private hashKey(key: string): string {
    return BAREWORD.test(key) || NUMBER.test(key) ? key : this.string(key);
  }

  /** `[ a, b ]`, with a trailing comma when asked. */
  private sequence(items: string[], trailingComma: boolean): string {
    const comma = () => this.opt() + ',' + this.opt();
    const tail = trailingComma && items.length > 0 ? comma() : '';
    return '[' + this.opt() + items.join(comma()) + tail + this.opt() + ']';
  }

  condition(c: Condition, context: number, rightSide: boolean): string {
    switch (c.kind) {
      case 'boolean': {
        const p = PRECEDENCE[c.operator];
        const text = this.condition(c.left, p, false) + this.ws() + c.operator + this.ws() + this.condition(c.right, p, true);
        return p < context || (p === context && rightSide) || this.g.chance(0.1) ? this.parenthesise(text) : text;
      }
      case 'not':
        if (c.operand.kind === 'truthy' && c.operand.operand.kind === 'field' && this.g.chance(0.5)) return '!' + this.opt() + c.operand.operand.field.text;
        return '!' + this.opt() + this.parenthesise(this.condition(c.operand, 0, false));
      case 'compare':
        return this.operand(c.left) + this.opt() + c.operator + this.opt() + this.operand(c.right);
      case 'match':
        return this.operand(c.left) + this.opt() + (c.negated ? '!~' : '=~') + this.opt() + this.operand(c.pattern);
      case 'in':
        return this.operand(c.needle) + this.ws() + (c.negated ? 'not' + this.ws() : '') + 'in' + this.ws() + this.operand(c.haystack);
      case 'truthy':
        return this.g.chance(0.1) ? this.parenthesise(this.operand(c.operand)) : this.operand(c.operand);
    }
  }

  private parenthesise(text: string): string {
    return '(' + this.opt() + text + this.opt() + ')';
  }

  private operand(o: Operand): string {
    switch (o.kind) {
      case 'field':
        return o.field.text;
      case 'string':
        return this.string(o.value);
      case 'number':
        return String(o.value);
      case 'regexp':
        return `/${o.source}/`;
      case 'list': {
        // `[5]` would be a field reference: a lone number needs a trailing comma to stay a list.
        const lone = o.items.length === 1 && o.items[0].kind === 'number';
        return this.sequence(o.items.map((item) => this.operand(item)), lone || this.g.chance(0.3));
      }
    }
  }
}

// --- checking parsed trees -----------------------------------------------------------

/** Checks that every node's position is on its first character. */
class PositionChecker {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  private offset(at: Position, what: string): number {
    assert.ok(Number.isInteger(at.line) && at.line >= 1 && at.line <= this.lineStarts.length, `${what}: bad line ${at.line}`);
    const start = this.lineStarts[at.line - 1];
    const end = at.line < this.lineStarts.length ? this.lineStarts[at.line] : this.text.length + 1;
    assert.ok(Number.isInteger(at.column) && at.column >= 1 && start + at.column - 1 < end, `${what}: bad column ${at.column}`);
    return start + at.column - 1;
  }

  /** The node at `at` starts with `prefix`, or with a quote when it was written as a quoted string. */
  private startsWith(at: Position, prefix: string, what: string, quotable = false): void {
    const offset = this.offset(at, what);
    const ok = this.text.startsWith(prefix, offset) || (quotable && (this.text[offset] === '"' || this.text[offset] === "'"));
    assert.ok(ok, `${what} at ${at.line}:${at.column} does not start with ${JSON.stringify(prefix)}: ${JSON.stringify(this.text.slice(offset, offset + 20))}`);
  }

  private quoted(at: Position, what: string): void {
    const offset = this.offset(at, what);
    assert.ok(this.text[offset] === '"' || this.text[offset] === "'", `${what} at ${at.line}:${at.column} is not on a quote`);
  }

  config(tree: ConfigTree): void {
    for (const section of tree.sections) {
      this.startsWith(section.at, section.kind, 'section');
      this.statements(section.body);
    }
  }

  private statements(statements: readonly Statement[]): void {
    for (const statement of statements) {
      if (statement.kind === 'plugin') {
        this.plugin(statement.plugin);
        continue;
      }
      this.startsWith(statement.at, 'if', 'if');
      statement.branches.forEach((branch, i) => {
        this.startsWith(branch.at, i === 0 ? 'if' : 'else', 'branch');
        this.condition(branch.condition);
        this.statements(branch.body);
      });
      if (statement.otherwise !== null) this.statements(statement.otherwise);
    }
  }

  private plugin(plugin: PluginNode): void {
    this.startsWith(plugin.at, plugin.name, 'plugin', true);
    for (const attribute of plugin.attributes) {
      this.startsWith(attribute.at, attribute.name, 'setting', true);
      this.value(attribute.value);
    }
  }

  private value(value: Value): void {
    switch (value.kind) {
      case 'string':
        this.quoted(value.at, 'string');
        return;
      case 'number':
        this.startsWith(value.at, value.text, 'number');
        return;
      case 'bareword':
        this.startsWith(value.at, value.value, 'bareword');
        return;
      case 'array':
        this.startsWith(value.at, '[', 'array');
        for (const item of value.items) this.value(item);
        return;
      case 'hash':
        this.startsWith(value.at, '{', 'hash');
        for (const entry of value.entries) {
          this.startsWith(entry.at, entry.key, 'hash key', true);
          this.value(entry.value);
        }
        return;
      case 'plugin':
        assert.deepEqual(value.at, value.plugin.at);
        this.plugin(value.plugin);
    }
  }

  /** Walks a condition without recursing down long operator chains, which may be thousands deep. */
  private condition(root: Condition): void {
    const stack: Condition[] = [root];
    for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
      switch (c.kind) {
        case 'boolean':
          stack.push(c.left, c.right);
          break;
        case 'not':
          stack.push(c.operand);
          break;
        case 'compare':
          this.operand(c.left);
          this.operand(c.right);
          break;
        case 'match':
          this.operand(c.left);
          this.operand(c.pattern);
          break;
        case 'in':
          this.operand(c.needle);
          this.operand(c.haystack);
          break;
        case 'truthy':
          this.operand(c.operand);
      }
    }
  }

  private operand(o: Operand): void {
    switch (o.kind) {
      case 'field':
        assert.ok(o.field.path.length > 0 && o.field.path.every((n) => n.trim() !== ''), `bad path ${JSON.stringify(o.field.path)}`);
        assert.equal(o.field.text, o.field.path.map((n) => `[${n}]`).join(''));
        this.startsWith(o.at, o.field.text, 'field');
        return;
      case 'string':
        this.quoted(o.at, 'string operand');
        return;
      case 'number': {
        const offset = this.offset(o.at, 'number operand');
        assert.match(this.text.slice(offset, offset + 2), /^-?[0-9]/);
        return;
      }
      case 'regexp':
        this.startsWith(o.at, '/', 'regexp');
        return;
      case 'list':
        this.startsWith(o.at, '[', 'list');
        for (const item of o.items) this.operand(item);
    }
  }
}

/** Parses `text` and checks that it either parsed well or failed with a proper ConfigSyntaxError. */
function check(text: string, label: string): 'ok' | 'error' {
  let tree: ConfigTree;
  try {
    tree = parseConfig(text, 'fuzz.conf');
  } catch (e) {
    const shown = `${label}: ${JSON.stringify(text.slice(0, 300))}`;
    if (!(e instanceof ConfigSyntaxError)) assert.fail(`${shown} threw ${String(e)}`);
    const where = `${shown}: ${e.message}`;
    const lines = text.split('\n');
    assert.ok(Number.isInteger(e.at.line) && e.at.line >= 1 && e.at.line <= lines.length, `bad line in ${where}`);
    assert.ok(Number.isInteger(e.at.column) && e.at.column >= 1 && e.at.column <= lines[e.at.line - 1].length + 1, `bad column in ${where}`);
    assert.ok(e.reason.length > 0 && e.message === `fuzz.conf:${e.at.line}:${e.at.column}: ${e.reason}`, `bad message in ${where}`);
    return 'error';
  }
  try {
    new PositionChecker(text).config(tree);
  } catch (e) {
    assert.fail(`${label}: ${JSON.stringify(text.slice(0, 300))}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return 'ok';
}

// --- inputs for the robustness checks ------------------------------------------------

const REALISTIC = `input { beats { port => 5044 } }
filter {
  if [type] == "apache" and "x" not in [tags] or [a][b] =~ /^5\\d\\d$/ {
    grok { match => { "message" => "%{COMBINEDAPACHELOG}" } }
    date { match => ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"] }
  } else if !([c] in ["a", 'b']) xor [n] >= -1.5 { mutate { add_tag => [x] } } else { drop {} }
}
output { elasticsearch { hosts => ["http://localhost:9200"] codec => json { charset => "UTF-8" } } } # end
`;

const PIECES = [
  'input', 'filter', 'output', 'inptu', '{', '}', '[', ']', '(', ')', 'if', 'else', 'else if', 'and', 'or', 'xor', 'nand', 'AND',
  'not', 'in', 'not in', '!', '=>', '==', '!=', '=~', '!~', '<', '>=', ',', '"a"', "'b'", '"', "'", '/re/', '/', '\\', '\\"',
  '#c\n', '#', '\n', '\r\n', ' ', ' ', '\t', '[a]', '[a][b]', '[]', '["x"]', '1', '-2.5', '1.', '-', 'x', 'json', 'codec',
  'foo-bar', 'é', '😀', '\u00a0', '\u0000', '\ufeff',
];
const RANDOM_CHARS = [...' \n\t{}[]()"\'\\/#=>!<,.-_aZ09'];

function mutate(g: Gen, text: string): string {
  let s = text;
  const edits = 1 + g.int(4);
  for (let i = 0; i < edits; i++) {
    const at = g.int(s.length + 1);
    switch (g.int(6)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1 + g.int(3)); // delete
        break;
      case 1:
        s = s.slice(0, at) + g.pick(RANDOM_CHARS) + s.slice(at); // insert a character
        break;
      case 2:
        s = s.slice(0, at) + g.pick(PIECES) + s.slice(at + g.int(2)); // insert or replace with a piece
        break;
      case 3: {
        const len = 1 + g.int(12);
        s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len); // duplicate
        break;
      }
      case 4:
        s = s.slice(0, at); // truncate
        break;
      default:
        s = s.slice(0, at) + String.fromCharCode(g.int(0x10000)) + s.slice(at); // any UTF-16 unit
    }
  }
  return s;
}

function tokenSoup(g: Gen): string {
  let s = g.pick(['', '', 'filter { ', 'filter { if ', 'input { p { a => ']);
  const n = 1 + g.int(30);
  for (let i = 0; i < n; i++) s += g.pick(PIECES) + (g.chance(0.5) ? ' ' : '');
  return s;
}

function deepNesting(g: Gen): string {
  const n = g.int(2 * MAX_NESTING + 20);
  const m = g.int(2 * MAX_NESTING + 20);
  const shapes: [string, string, string, string][] = [
    ['filter { p { v => ', '[', ']', ' } }'],
    ['filter { p { v => ', '{a=>', '}', ' } }'],
    ['filter { p { v => ', 'c { v => ', '}', ' } }'],
    ['filter { if ', '(', ')', ' {} }'],
    ['filter { if ', '!(', ')', ' {} }'],
    ['filter { if [a] in ', '[', ']', ' {} }'],
    ['filter { ', 'if [a] { ', '} ', '}'],
    ['filter { ', 'if [a] {} else { ', '} ', '}'],
  ];
  const [head, open, close, tail] = g.pick(shapes);
  const middle = g.pick(['', '1', '[a]', '"s"']);
  return head + open.repeat(n) + middle + close.repeat(m) + tail;
}

// --- the tests ---------------------------------------------------------------------------

describe('parseConfig fuzz', () => {
  it('random trees, printed with random spacing and comments, parse back to the same tree', () => {
    const g = new Gen(0x10c5a5);
    const generate = new TreeGen(g);
    const print = new Printer(g);
    for (let i = 0; i < 1000; i++) {
      const tree = generate.config();
      const text = print.config(tree);
      let parsed: ConfigTree;
      try {
        parsed = parseConfig(text);
      } catch (e) {
        assert.fail(`#${i}: ${JSON.stringify(text)} did not parse: ${String(e)}`);
      }
      assert.deepEqual(strip(parsed), strip(tree), `#${i}: ${JSON.stringify(text)}`);
      new PositionChecker(text).config(parsed);
    }
  });

  it('a parsed tree printed again parses to the same tree', () => {
    const g = new Gen(99);
    const print = new Printer(g);
    const first = parseConfig(REALISTIC);
    for (let i = 0; i < 200; i++) {
      const text = print.config(first);
      assert.deepEqual(strip(parseConfig(text)), strip(first), JSON.stringify(text));
    }
  });

  it('mutated valid configurations parse or fail with a ConfigSyntaxError', () => {
    const g = new Gen(0x5eed);
    const generate = new TreeGen(g);
    const print = new Printer(g);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 3000; i++) {
      const base = i % 3 === 0 ? REALISTIC : print.config(generate.config());
      outcomes[check(mutate(g, base), `mutation #${i}`)]++;
    }
    // If every mutation failed (or parsed), the fuzzer would not be exercising the parser's depth.
    assert.ok(outcomes.ok > 100, `only ${outcomes.ok} successes`);
    assert.ok(outcomes.error > 1000, `only ${outcomes.error} errors`);
  });

  it('token soup parses or fails with a ConfigSyntaxError', () => {
    const g = new Gen(7);
    for (let i = 0; i < 5000; i++) check(tokenSoup(g), `soup #${i}`);
  });

  it('random characters parse or fail with a ConfigSyntaxError', () => {
    const g = new Gen(11);
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = g.int(50);
      for (let j = 0; j < n; j++) s += g.chance(0.7) ? g.pick(RANDOM_CHARS) : String.fromCharCode(g.int(0x10000));
      check(g.chance(0.5) ? `filter { ${s}` : s, `chars #${i}`);
    }
  });

  it('nesting around the limit parses or fails with a ConfigSyntaxError', () => {
    const g = new Gen(3);
    for (let i = 0; i < 1500; i++) check(deepNesting(g), `nesting #${i}`);
  });

  it('100,000 levels of nesting are a ConfigSyntaxError, not a stack overflow', () => {
    const n = 100_000;
    for (const text of [
      `filter { p { v => ${'['.repeat(n)}`,
      `filter { p { v => ${'{a=>'.repeat(n)}`,
      `filter { p { v => ${'c { v => '.repeat(n)}`,
      `filter { if ${'('.repeat(n)}[a]${')'.repeat(n)} {} }`,
      `filter { if ${'!('.repeat(n)}`,
      `filter { if [a] in ${'['.repeat(n)}`,
      `filter { ${'if [a] {'.repeat(n)}`,
      `filter { ${'if [a] {} else {'.repeat(n)}`,
      '['.repeat(n),
      '('.repeat(n),
    ]) {
      let caught: unknown = null;
      try {
        parseConfig(text);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof ConfigSyntaxError, `${text.slice(0, 30)}…: ${String(caught)}`);
      assert.ok(caught.at.line === 1 && caught.at.column >= 1 && caught.at.column <= text.length + 1);
    }
  });

  it('inputs over the size limit are a ConfigSyntaxError', () => {
    const valid = 'input { stdin {} }\n';
    for (const text of [
      'x'.repeat(MAX_CONFIG_BYTES + 1),
      valid + '#' + 'x'.repeat(MAX_CONFIG_BYTES),
      valid + '#' + 'é'.repeat(MAX_CONFIG_BYTES / 2),
      valid + '#' + '😀'.repeat(MAX_CONFIG_BYTES / 4),
      valid + '#' + '\ud800'.repeat(MAX_CONFIG_BYTES / 3),
      `input { x { a => "${'日'.repeat(MAX_CONFIG_BYTES / 3)}" } }`,
    ]) {
      let caught: unknown = null;
      try {
        parseConfig(text);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof ConfigSyntaxError, String(caught));
      assert.match(caught.reason, /larger than the limit/);
    }
  });

  it('the same input always gives the same result', () => {
    const g = new Gen(42);
    const outcome = (text: string): unknown => {
      try {
        return strip(parseConfig(text));
      } catch (e) {
        return e instanceof ConfigSyntaxError ? [e.message, e.at] : e;
      }
    };
    for (let i = 0; i < 500; i++) {
      const text = mutate(g, REALISTIC);
      assert.deepEqual(outcome(text), outcome(text), JSON.stringify(text));
    }
  });
});
