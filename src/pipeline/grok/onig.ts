/**
 * Reads the Oniguruma (Ruby) regular expressions that grok patterns are written in into a small tree,
 * so that the compiler can write them out as a V8 RegExp (flags `msu`) that matches the same text.
 *
 * Why a tree and not text substitution: several translations need structure. An atomic group
 * `(?>X)` becomes `(?=(X))\N`, whose group number N must be known before X's own groups are numbered;
 * Oniguruma's `.?*` (a quantifier on a quantifier) needs the inner one wrapped; `(?i)` applies to the
 * rest of its group only, which V8 (Node 20) cannot say, so its letters are written in both cases.
 *
 * Plain `( … )` groups do not capture: Oniguruma stops numbering unnamed groups once a pattern has
 * named ones, and a grok expression always has (every `%{…}` is one), so only named groups capture.
 */

export class OnigSyntaxError extends Error {
  constructor(reason: string, readonly source: string, readonly offset: number) {
    super(`${reason} at character ${offset + 1} of /${source.length > 120 ? source.slice(0, 120) + '…' : source}/`);
    this.name = 'OnigSyntaxError';
  }
}

/** `%{NAME}`, `%{NAME:field}`, `%{NAME:[a][b]:int}` inside a pattern. */
export interface GrokReference {
  readonly pattern: string;
  /** The field written after the name, or null. */
  readonly field: string | null;
  readonly type: 'int' | 'float' | null;
}

export type ClassItem = { readonly t: 'range'; readonly lo: number; readonly hi: number } | { readonly t: 'set'; readonly src: string };

export type RegexNode =
  /** One V8 atom written as is (an escape such as \d, `.`, an anchor). `zeroWidth` atoms are wrapped before a quantifier. */
  | { readonly t: 'raw'; readonly src: string; readonly zeroWidth: boolean }
  | { readonly t: 'char'; readonly code: number }
  | { readonly t: 'class'; readonly negated: boolean; readonly items: readonly ClassItem[] }
  | { readonly t: 'group'; readonly kind: GroupKind; readonly name: string | null; readonly ignoreCase: boolean | null; readonly body: Alternatives }
  | { readonly t: 'repeat'; readonly node: RegexNode; readonly min: number; readonly max: number; readonly lazy: boolean; readonly possessive: boolean }
  | { readonly t: 'ref'; readonly ref: GrokReference }
  | { readonly t: 'backref'; readonly name: string }
  /** `(?i)` / `(?-i)`: case sensitivity for the rest of the enclosing group. */
  | { readonly t: 'options'; readonly ignoreCase: boolean | null };

export type GroupKind = 'plain' | 'atomic' | 'ahead' | 'not-ahead' | 'behind' | 'not-behind' | 'named';
export type Sequence = readonly RegexNode[];
export type Alternatives = readonly Sequence[];

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const CLASS_SPECIAL = new Set('\\]-[^'.split(''));
const NAME_CHARS = /[A-Za-z0-9_]/;
const SUBNAME_CHARS = /[@[\]A-Za-z0-9_:.-]/;

/** Parses one pattern's regular expression, with grok's `%{…}` references as nodes of their own. */
export function parseOnig(source: string): Alternatives {
  return new OnigParser(source).parse();
}

class OnigParser {
  private at = 0;

  constructor(private readonly src: string) {}

  parse(): Alternatives {
    const body = this.alternatives();
    if (this.at < this.src.length) throw this.fail('unmatched ")"');
    return body;
  }

  private fail(reason: string, offset = this.at): OnigSyntaxError {
    return new OnigSyntaxError(reason, this.src, offset);
  }

  private alternatives(): Alternatives {
    const alternatives: Sequence[] = [this.sequence()];
    while (this.src[this.at] === '|') {
      this.at++;
      alternatives.push(this.sequence());
    }
    return alternatives;
  }

  private sequence(): Sequence {
    const nodes: RegexNode[] = [];
    while (this.at < this.src.length && this.src[this.at] !== '|' && this.src[this.at] !== ')') {
      const start = this.at;
      let node = this.atom();
      if (node === null) continue;
      for (;;) {
        const repeat = this.quantifier();
        if (repeat === null) break;
        if (node.t === 'options') throw this.fail('nothing to repeat', start);
        node = { t: 'repeat', node, ...repeat };
      }
      nodes.push(node);
    }
    return nodes;
  }

  /** A quantifier with its lazy `?` or possessive `+` mark, or null when none follows. */
  private quantifier(): { min: number; max: number; lazy: boolean; possessive: boolean } | null {
    const c = this.src[this.at];
    let min: number;
    let max: number;
    let braces = false;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.at));
      if (!m || (m[1] === '' && m[3] === '') || (m[1] === '' && m[2] === '')) return null;
      min = m[1] === '' ? 0 : Number(m[1]);
      max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw this.fail('a repeat range whose maximum is below its minimum');
      this.at += m[0].length - 1;
      braces = true;
    } else return null;
    this.at++;
    let lazy = false;
    let possessive = false;
    if (this.src[this.at] === '?') {
      lazy = true;
      this.at++;
    } else if (this.src[this.at] === '+' && !braces) {
      // Ruby: `a*+` is possessive, but `a{2}+` is a repeat of a repeat.
      possessive = true;
      this.at++;
    }
    return { min, max, lazy, possessive };
  }

  private atom(): RegexNode | null {
    const c = this.src[this.at];
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.characterClass();
      case '\\':
        return this.escape();
      case '.':
        this.at++;
        return { t: 'raw', src: '.', zeroWidth: false };
      case '^':
      case '$':
        this.at++;
        return { t: 'raw', src: c, zeroWidth: true };
      case '*':
      case '+':
      case '?':
        throw this.fail('nothing to repeat');
      case '%':
        if (this.src[this.at + 1] === '{') {
          const ref = this.reference();
          if (ref) return ref;
        }
        break;
    }
    const code = this.src.codePointAt(this.at) as number;
    this.at += code > 0xffff ? 2 : 1;
    return { t: 'char', code };
  }

  /** `%{NAME…}`; whatever follows the name and field before `}` is ignored, as Logstash does. Null when it is not one. */
  private reference(): RegexNode | null {
    const close = this.src.indexOf('}', this.at + 2);
    if (close < 0) return null;
    const inside = this.src.slice(this.at + 2, close);
    let i = 0;
    while (i < inside.length && NAME_CHARS.test(inside[i])) i++;
    if (i === 0) return null;
    const pattern = inside.slice(0, i);
    let field: string | null = null;
    let type: 'int' | 'float' | null = null;
    if (inside[i] === ':') {
      let j = i + 1;
      while (j < inside.length && SUBNAME_CHARS.test(inside[j])) j++;
      const parts = splitSubname(inside.slice(i + 1, j));
      field = parts.field || null;
      type = parts.type;
    }
    this.at = close + 1;
    return { t: 'ref', ref: { pattern, field, type } };
  }

  private group(): RegexNode | null {
    const open = this.at;
    this.at++;
    let kind: GroupKind = 'plain';
    let name: string | null = null;
    let ignoreCase: boolean | null = null;
    if (this.src[this.at] === '?') {
      this.at++;
      const c = this.src[this.at];
      if (c === ':') this.at++;
      else if (c === '>') [kind, this.at] = ['atomic', this.at + 1];
      else if (c === '=') [kind, this.at] = ['ahead', this.at + 1];
      else if (c === '!') [kind, this.at] = ['not-ahead', this.at + 1];
      else if (c === '#') {
        const end = this.src.indexOf(')', this.at);
        if (end < 0) throw this.fail('a comment group is never closed', open);
        this.at = end + 1;
        return null;
      } else if (c === '<' && (this.src[this.at + 1] === '=' || this.src[this.at + 1] === '!')) {
        kind = this.src[this.at + 1] === '=' ? 'behind' : 'not-behind';
        this.at += 2;
      } else if (c === '<' || c === "'") {
        const end = this.src.indexOf(c === '<' ? '>' : "'", this.at + 1);
        if (end < 0) throw this.fail('a group name is never closed', open);
        name = this.src.slice(this.at + 1, end);
        if (name === '') throw this.fail('a group name is empty', open);
        kind = 'named';
        this.at = end + 1;
      } else {
        const m = /^([imx]*)(?:-([imx]*))?([:)])/.exec(this.src.slice(this.at));
        if (!m) throw this.fail(`an unknown group kind "(?${c ?? ''}"`, open);
        if (m[1].includes('x') || (m[2] ?? '').includes('x')) throw this.fail('the extended option (?x) is not supported', open);
        // (?m) in Oniguruma lets "." match a newline, which the translated expression always allows.
        ignoreCase = m[1].includes('i') ? true : (m[2] ?? '').includes('i') ? false : null;
        this.at += m[0].length;
        if (m[3] === ')') return { t: 'options', ignoreCase };
      }
    }
    const body = this.alternatives();
    if (this.src[this.at] !== ')') throw this.fail('a group is never closed', open);
    this.at++;
    return { t: 'group', kind, name, ignoreCase, body };
  }

  private escape(): RegexNode {
    const start = this.at;
    const c = this.src[this.at + 1];
    if (c === undefined) throw this.fail('a pattern ends with "\\"');
    this.at += 2;
    switch (c) {
      case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        return { t: 'raw', src: '\\' + c, zeroWidth: false };
      case 'b': case 'B':
        return { t: 'raw', src: '\\' + c, zeroWidth: true };
      case 'h':
        return { t: 'raw', src: '[0-9a-fA-F]', zeroWidth: false };
      case 'H':
        return { t: 'raw', src: '[^0-9a-fA-F]', zeroWidth: false };
      case 'A':
      case 'G': // the search starts at the beginning of the text: \G is \A there
        return { t: 'raw', src: '(?<![\\s\\S])', zeroWidth: true };
      case 'z':
        return { t: 'raw', src: '(?![\\s\\S])', zeroWidth: true };
      case 'Z':
        return { t: 'raw', src: '(?=\\n?(?![\\s\\S]))', zeroWidth: true };
      case 'R':
        return { t: 'raw', src: '(?:\\r\\n|[\\n\\v\\f\\r\\u0085\\u2028\\u2029])', zeroWidth: false };
      case 'k': {
        const m = /^<([^>]+)>/.exec(this.src.slice(this.at));
        if (!m) throw this.fail('\\k must name a group, as in \\k<name>', start);
        this.at += m[0].length;
        return { t: 'backref', name: m[1] };
      }
      case 'p':
      case 'P': {
        const m = /^\{\^?[A-Za-z_]+\}/.exec(this.src.slice(this.at));
        if (!m) throw this.fail('\\p must name a property, as in \\p{L}', start);
        this.at += m[0].length;
        return { t: 'raw', src: propertyEscape(c, m[0]), zeroWidth: false };
      }
      case 'K': case 'X': case 'g': case 'y': case 'Y':
        throw this.fail(`\\${c} is not supported`, start);
    }
    if (c >= '1' && c <= '9') throw this.fail('numbered back-references are not supported in grok; name the group and use \\k<name>', start);
    this.at = start;
    const code = this.charEscape();
    return { t: 'char', code };
  }

  /** An escape that stands for one character (`\n`, `\x41`, `\x{263a}`, `\u00e9`, `\"`). Leaves `at` after it. */
  private charEscape(): number {
    const start = this.at;
    const c = this.src[this.at + 1];
    this.at += 2;
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7, e: 27 };
    if (c in simple) return simple[c];
    if (c === 'x') {
      const braced = /^\{([0-9A-Fa-f]{1,8})\}/.exec(this.src.slice(this.at));
      if (braced) {
        this.at += braced[0].length;
        return checkedCode(parseInt(braced[1], 16), () => this.fail('a character code beyond Unicode', start));
      }
      const m = /^[0-9A-Fa-f]{1,2}/.exec(this.src.slice(this.at));
      if (!m) throw this.fail('\\x needs hexadecimal digits', start);
      this.at += m[0].length;
      return parseInt(m[0], 16);
    }
    if (c === 'u') {
      const m = /^[0-9A-Fa-f]{4}/.exec(this.src.slice(this.at));
      if (!m) throw this.fail('\\u needs four hexadecimal digits', start);
      this.at += 4;
      return parseInt(m[0], 16);
    }
    if (c === '0') {
      const m = /^[0-7]{0,2}/.exec(this.src.slice(this.at)) as RegExpExecArray;
      this.at += m[0].length;
      return parseInt('0' + m[0], 8);
    }
    if (c === 'c') {
      const letter = this.src[this.at];
      if (!letter || !/[A-Za-z]/.test(letter)) throw this.fail('\\c needs a letter', start);
      this.at++;
      return letter.toUpperCase().charCodeAt(0) - 64;
    }
    if (/[A-Za-z0-9]/.test(c)) throw this.fail(`an unknown escape "\\${c}"`, start);
    // Any other escaped character stands for itself (\" \' \_ \- …), as in Oniguruma.
    const code = this.src.codePointAt(start + 1) as number;
    this.at = start + 1 + (code > 0xffff ? 2 : 1);
    return code;
  }

  private characterClass(): RegexNode {
    const open = this.at;
    this.at++;
    const negated = this.src[this.at] === '^';
    if (negated) this.at++;
    const items = this.classItems(open);
    return { t: 'class', negated, items };
  }

  /** The items of a class up to and including its `]`; nested classes `[a[bc]]` are unions in Oniguruma. */
  private classItems(open: number): ClassItem[] {
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.at >= this.src.length) throw this.fail('a character class is never closed', open);
      const c = this.src[this.at];
      if (c === ']' && !first) {
        this.at++;
        return items;
      }
      first = false;
      if (c === '[' && this.src[this.at + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.at));
        if (m) {
          if (m[1]) throw this.fail('negated POSIX classes ([:^name:]) are not supported', this.at);
          const set = POSIX[m[2]];
          if (set === undefined) throw this.fail(`an unknown POSIX class [:${m[2]}:]`, this.at);
          items.push({ t: 'set', src: set });
          this.at += m[0].length;
          continue;
        }
      }
      if (c === '[') {
        const nested = this.at;
        this.at++;
        if (this.src[this.at] === '^') throw this.fail('a negated class inside a class is not supported', nested);
        items.push(...this.classItems(nested));
        continue;
      }
      if (c === '&' && this.src[this.at + 1] === '&') throw this.fail('class intersection (&&) is not supported', this.at);
      const lo = this.classAtom();
      if (lo.t === 'set') {
        items.push(lo);
        continue;
      }
      if (this.src[this.at] === '-' && this.src[this.at + 1] !== ']' && this.src[this.at + 1] !== undefined) {
        const save = this.at;
        this.at++;
        if (this.src[this.at] === '[') {
          this.at = save; // "a-[" : the "-" is literal
          items.push(lo);
          continue;
        }
        const hi = this.classAtom();
        if (hi.t === 'set') {
          items.push(lo, { t: 'range', lo: 45, hi: 45 }, hi);
          continue;
        }
        if (hi.lo < lo.lo) throw this.fail('a class range out of order', save - 1);
        items.push({ t: 'range', lo: lo.lo, hi: hi.lo });
        continue;
      }
      items.push(lo);
    }
  }

  private classAtom(): ClassItem {
    const c = this.src[this.at];
    if (c === '\\') {
      const e = this.src[this.at + 1];
      if (e !== undefined && 'dDwWsS'.includes(e)) {
        this.at += 2;
        return { t: 'set', src: '\\' + e };
      }
      if (e === 'h') {
        this.at += 2;
        return { t: 'set', src: '0-9a-fA-F' };
      }
      if (e === 'p' || e === 'P') {
        const m = /^\{\^?[A-Za-z_]+\}/.exec(this.src.slice(this.at + 2));
        if (!m) throw this.fail('\\p must name a property, as in \\p{L}');
        this.at += 2 + m[0].length;
        return { t: 'set', src: propertyEscape(e, m[0]) };
      }
      if (e === 'b') {
        this.at += 2;
        return { t: 'range', lo: 8, hi: 8 };
      }
      const code = this.charEscape();
      return { t: 'range', lo: code, hi: code };
    }
    const code = this.src.codePointAt(this.at) as number;
    this.at += code > 0xffff ? 2 : 1;
    return { t: 'range', lo: code, hi: code };
  }
}

/** `field`, `field:int`, `[a][b]:float`; a type other than int or float is ignored, as jls-grok does. */
function splitSubname(subname: string): { field: string; type: 'int' | 'float' | null } {
  const colon = subname.lastIndexOf(':');
  if (colon < 0) return { field: subname, type: null };
  const type = subname.slice(colon + 1);
  const field = subname.slice(0, colon);
  if (type === 'int' || type === 'float') return { field, type };
  if (/^[a-z]+$/.test(type)) return { field, type: null };
  return { field: subname, type: null };
}

function checkedCode(code: number, fail: () => Error): number {
  if (code > 0x10ffff) throw fail();
  return code;
}

/** Oniguruma's POSIX classes, Unicode-aware as they are on UTF-8 text. */
const POSIX: Record<string, string> = {
  alnum: '\\p{L}\\p{M}\\p{Nd}',
  alpha: '\\p{L}\\p{M}',
  ascii: '\\x00-\\x7F',
  blank: '\\p{Zs}\\t',
  cntrl: '\\p{Cc}',
  digit: '\\p{Nd}',
  graph: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}',
  lower: '\\p{Ll}',
  print: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}',
  punct: '\\p{P}$+<=>\\^`|~',
  space: '\\s',
  upper: '\\p{Lu}',
  word: '\\p{L}\\p{M}\\p{Nd}\\p{Pc}',
  xdigit: '0-9A-Fa-f',
};

/** Oniguruma property names that V8 spells otherwise. */
const PROPERTIES: Record<string, string> = {
  Alpha: 'Alphabetic', Alnum: 'L}\\p{M}\\p{Nd', Digit: 'Nd', Upper: 'Lu', Lower: 'Ll', Space: 'White_Space', Punct: 'P',
  Word: 'L}\\p{M}\\p{Nd}\\p{Pc', Cntrl: 'Cc', XDigit: 'AHex', Blank: 'Zs',
};

function propertyEscape(letter: string, braced: string): string {
  let negate = letter === 'P';
  let name = braced.slice(1, -1);
  if (name.startsWith('^')) {
    negate = !negate;
    name = name.slice(1);
  }
  const v8 = PROPERTIES[name] ?? name;
  if (v8.includes('}') && negate) throw new OnigSyntaxError(`the negated property \\P{${name}} is not supported`, braced, 0);
  return `\\${negate ? 'P' : 'p'}{${v8}}`;
}

/** Writes one code point as V8 `u`-mode source outside a class. */
export function literal(code: number, ignoreCase: boolean): string {
  const ch = String.fromCodePoint(code);
  if (ignoreCase) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (lower !== upper && [...lower].length === 1 && [...upper].length === 1) return `[${lower}${upper}]`;
  }
  if (SYNTAX.has(ch)) return '\\' + ch;
  if (code === 10) return '\\n';
  if (code === 13) return '\\r';
  if (code === 0x2028 || code === 0x2029 || code < 32) return `\\u${code.toString(16).padStart(4, '0')}`;
  return ch;
}

function classChar(code: number): string {
  const ch = String.fromCodePoint(code);
  if (CLASS_SPECIAL.has(ch)) return '\\' + ch;
  if (code < 32 || code === 0x2028 || code === 0x2029) return `\\u${code.toString(16).padStart(4, '0')}`;
  return ch;
}

/** Writes a class as V8 `u`-mode source. */
export function writeClass(negated: boolean, items: readonly ClassItem[], ignoreCase: boolean): string {
  let out = negated ? '[^' : '[';
  const add = (lo: number, hi: number): void => {
    out += lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`;
  };
  for (const item of items) {
    if (item.t === 'set') {
      out += item.src;
      continue;
    }
    add(item.lo, item.hi);
    if (ignoreCase) {
      for (const [from, to, shift] of [[97, 122, -32], [65, 90, 32]] as const) {
        const lo = Math.max(item.lo, from);
        const hi = Math.min(item.hi, to);
        if (lo <= hi) add(lo + shift, hi + shift);
      }
    }
  }
  return out + ']';
}
