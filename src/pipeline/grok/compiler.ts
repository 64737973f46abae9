/**
 * Compiles a grok expression (`%{IP:client} %{WORD}`) with a pattern library into one V8 RegExp and a
 * capture table: which numbered group fills which field, with which conversion.
 *
 * Numbered groups and a table rather than JS named groups: field names such as `[a][b]` or
 * `close-reason` are no JS group names, a field may be captured twice (an array in Logstash), and
 * reading `match[n]` skips building the `groups` object V8 makes for every named match.
 */
import { FieldReferenceError, parseFieldReference, type FieldPath } from '../field-ref.js';
import { GrokError, type PatternLibrary } from './library.js';
import { literal, OnigSyntaxError, parseOnig, writeClass, type Alternatives, type GrokReference, type RegexNode, type Sequence } from './onig.js';

export type Conversion = 'int' | 'float' | null;

export interface Capture {
  /** The group of the match that holds the value. */
  readonly group: number;
  /**
   * Groups that hold the same capture in later iterations of an unrolled repeat (see `Emitter.repeat`),
   * in iteration order: the last of them that took part in the match holds the value.
   */
  readonly later: readonly number[];
  /** The field as written in the pattern (`[a][b]`, `client`): what `overwrite` names. */
  readonly field: string;
  readonly path: FieldPath;
  readonly type: Conversion;
}

export interface CompiledGrok {
  readonly expression: string;
  /** V8 source and flags of the translated expression: `new RegExp(source, flags)` is `regex`. */
  readonly source: string;
  readonly flags: string;
  readonly regex: RegExp;
  readonly captures: readonly Capture[];
}

export interface CompileOptions {
  /** Logstash's named_captures_only: when false, `%{NAME}` without a field captures into a field called NAME. */
  readonly namedCapturesOnly?: boolean;
}

/** `m` because Ruby's ^ and $ always match at line breaks; `s` because Oniguruma's `.` (grok's (?m)) matches a newline; `u` for \p{…}. */
export const GROK_FLAGS = 'msu';

/** The most regular-expression source one grok expression may expand to: patterns nest, and some repeat. */
const MAX_SOURCE = 4 * 1024 * 1024;

export function compileGrok(expression: string, library: PatternLibrary, options: CompileOptions = {}): CompiledGrok {
  let tree: Alternatives;
  try {
    tree = parseOnig(expression);
  } catch (error) {
    if (error instanceof OnigSyntaxError) throw new GrokError(`invalid regular expression in "${expression}": ${error.message}`);
    throw error;
  }
  const emitter = new Emitter(library, options.namedCapturesOnly ?? true);
  emitter.alternatives(tree, false);
  if (emitter.out.length > MAX_SOURCE) throw new GrokError(`the expression "${expression.slice(0, 80)}" expands to ${emitter.out.length} characters of regular expression, more than ${MAX_SOURCE}`);
  let regex: RegExp;
  try {
    regex = new RegExp(emitter.out, GROK_FLAGS);
  } catch (error) {
    throw new GrokError(`invalid regular expression in "${expression}": ${(error as Error).message}`);
  }
  return { expression, source: emitter.out, flags: GROK_FLAGS, regex, captures: emitter.captures };
}

/**
 * How many iterations of a repeat that captures are written out one by one, and the most source that
 * may take: past them, a last plain repeat keeps only its final iteration's captures (V8's rule).
 */
const UNROLL_COPIES = 8;
const UNROLL_SOURCE_LIMIT = 256 * 1024;

interface MutableCapture {
  group: number;
  later: number[];
  field: string;
  path: FieldPath;
  type: Conversion;
}

interface EmitterState {
  readonly out: number;
  readonly groups: number;
  readonly captures: number;
  readonly namedGroups: Map<string, number>;
}

class Emitter {
  out = '';
  readonly captures: MutableCapture[] = [];
  /** For each capture, how many alternations and optional repeats enclose it: one above its repeat's means "not set by every iteration". */
  private readonly captureDepths: number[] = [];
  /** Alternations (of two or more) and optional repeats being written around the current point. */
  private optionalDepth = 0;
  private groups = 0;
  private readonly namedGroups = new Map<string, number>();
  /** The patterns being expanded, outermost first: a name met again refers to itself. */
  private readonly expanding: string[] = [];

  constructor(
    private readonly library: PatternLibrary,
    private readonly namedCapturesOnly: boolean,
  ) {}

  alternatives(alternatives: Alternatives, ignoreCase: boolean): void {
    const choice = alternatives.length > 1 ? 1 : 0;
    this.optionalDepth += choice;
    for (let i = 0; i < alternatives.length; i++) {
      if (i > 0) this.out += '|';
      this.sequence(alternatives[i], ignoreCase);
    }
    this.optionalDepth -= choice;
  }

  private sequence(nodes: Sequence, ignoreCase: boolean): void {
    let caseless = ignoreCase;
    for (const node of nodes) {
      if (node.t === 'options') {
        if (node.ignoreCase !== null) caseless = node.ignoreCase;
      } else this.node(node, caseless);
    }
  }

  private node(node: RegexNode, ignoreCase: boolean): void {
    switch (node.t) {
      case 'raw':
        this.out += node.src;
        return;
      case 'char':
        this.out += literal(node.code, ignoreCase);
        return;
      case 'class':
        this.out += writeClass(node.negated, node.items, ignoreCase);
        return;
      case 'options':
        return;
      case 'backref': {
        const group = this.namedGroups.get(node.name);
        if (group === undefined) throw new GrokError(`\\k<${node.name}> refers to no earlier group (?<${node.name}>…)`);
        this.out += `\\${group}`;
        return;
      }
      case 'ref':
        this.reference(node.ref, ignoreCase);
        return;
      case 'repeat':
        if (node.possessive) this.atomic(() => this.repeat(node, ignoreCase));
        else this.repeat(node, ignoreCase);
        return;
      case 'group':
        this.group(node, node.ignoreCase ?? ignoreCase);
        return;
    }
  }

  private group(node: Extract<RegexNode, { t: 'group' }>, ignoreCase: boolean): void {
    const body = (): void => this.alternatives(node.body, ignoreCase);
    switch (node.kind) {
      case 'plain':
        this.out += '(?:';
        break;
      case 'atomic':
        this.atomic(body);
        return;
      case 'ahead':
        this.out += '(?=';
        break;
      case 'not-ahead':
        this.out += '(?!';
        break;
      case 'behind':
        this.out += '(?<=';
        break;
      case 'not-behind':
        this.out += '(?<!';
        break;
      case 'named': {
        const name = node.name as string;
        const group = this.openCapture(name, null);
        this.namedGroups.set(name, group);
        break;
      }
    }
    body();
    this.out += ')';
  }

  /** Oniguruma's `(?>X)`: V8 has no atomic groups, but a lookahead is atomic once it succeeds, and `\N` then consumes what it matched. */
  private atomic(inner: () => void): void {
    const group = ++this.groups;
    this.out += '(?=(';
    inner();
    this.out += `))\\${group}`;
  }

  /**
   * Oniguruma keeps a group's capture from an earlier iteration of a repeat when a later iteration does
   * not set it (EXIM's `(?: (?:%{EXIM_REMOTE_HOST}|%{EXIM_PROTOCOL}|…))*` fills every field it met);
   * V8 clears a repeat's captures at each iteration. So a repeat whose body captures is written out as
   * nested copies, `(?:X(?:X(?:X…)?)?)?`, which backtracks in the same order as `X*`, each copy with
   * its own groups; the capture table lists a copy's groups as `later` groups of the first copy's.
   * Only where it matters: when every capture of the body is set by every iteration
   * (`%{SYSLOGHOST:logsource}+`), the last iteration's captures are Oniguruma's too.
   */
  private repeat(node: Extract<RegexNode, { t: 'repeat' }>, ignoreCase: boolean): void {
    const flat = flattenNestedRepeat(node);
    if (flat !== null) {
      this.plainRepeat(flat.repeat, flat.ignoreCase ?? ignoreCase);
      return;
    }
    const optional = node.min === 0 ? 1 : 0;
    this.optionalDepth += optional;
    try {
      this.repeatBody(node, ignoreCase);
    } finally {
      this.optionalDepth -= optional;
    }
  }

  private repeatBody(node: Extract<RegexNode, { t: 'repeat' }>, ignoreCase: boolean): void {
    const start = this.state();
    this.plainRepeat(node, ignoreCase);
    if (node.max <= 1 || !this.captureDepths.slice(start.captures).some((depth) => depth > this.optionalDepth)) return;
    const copySize = this.out.length - start.out;
    // Too big to write out (`{100}` of a large body, repeats of repeats): keep V8's repeat and its rule.
    if (copySize * Math.max(node.min, 2) > UNROLL_SOURCE_LIMIT) return;
    this.restore(start);
    const wanted = Math.min(node.max, Math.max(node.min, UNROLL_COPIES));
    const copies = Math.max(node.min, Math.min(wanted, Math.floor(UNROLL_SOURCE_LIMIT / Math.max(copySize, 1))));
    const lazy = node.lazy ? '?' : '';
    const first = this.captures.length;
    const perCopy: number[] = [];
    const body = (): void => {
      const before = this.captures.length;
      this.out += '(?:';
      this.node(node.node, ignoreCase);
      this.out += ')';
      perCopy.push(this.captures.length - before);
    };
    let open = 0;
    for (let i = 0; i < copies; i++) {
      if (i >= node.min) {
        this.out += '(?:';
        open++;
      }
      body();
    }
    const rest = node.max - copies;
    if (rest > 0) {
      const before = this.captures.length;
      this.out += '(?:';
      this.node(node.node, ignoreCase);
      this.out += rest === Infinity ? `)*${lazy}` : `){0,${rest}}${lazy}`;
      perCopy.push(this.captures.length - before);
    }
    this.out += `)?${lazy}`.repeat(open);
    this.mergeCopies(first, perCopy);
  }

  /** Folds the captures of every copy after the first into the first copy's, as later groups. */
  private mergeCopies(first: number, perCopy: readonly number[]): void {
    const n = perCopy[0];
    if (perCopy.some((count) => count !== n)) throw new GrokError('internal error: the copies of a repeat capture differently');
    const slots = this.captures.slice(first, first + n);
    for (let copy = 1; copy < perCopy.length; copy++) {
      const base = first + copy * n;
      for (let k = 0; k < n; k++) {
        const capture = this.captures[base + k];
        slots[k].later.push(capture.group, ...capture.later);
      }
    }
    this.captures.length = first + n;
    this.captureDepths.length = first + n;
  }

  private state(): EmitterState {
    return { out: this.out.length, groups: this.groups, captures: this.captures.length, namedGroups: new Map(this.namedGroups) };
  }

  private restore(state: EmitterState): void {
    this.out = this.out.slice(0, state.out);
    this.groups = state.groups;
    this.captures.length = state.captures;
    this.captureDepths.length = state.captures;
    this.namedGroups.clear();
    for (const [name, group] of state.namedGroups) this.namedGroups.set(name, group);
  }

  private plainRepeat(node: Extract<RegexNode, { t: 'repeat' }>, ignoreCase: boolean): void {
    const inner = node.node;
    // `.?*` is legal in Oniguruma (a repeat of a repeat) but not in V8; an anchor cannot be repeated in `u` mode;
    // an atomic group is written as two atoms (`(?=(X))\N`), so its repeat must take both.
    const wrap = inner.t === 'repeat' || (inner.t === 'raw' && inner.zeroWidth) || (inner.t === 'group' && inner.kind === 'atomic');
    if (wrap) this.out += '(?:';
    this.node(inner, ignoreCase);
    if (wrap) this.out += ')';
    const { min, max } = node;
    let q: string;
    if (min === 0 && max === Infinity) q = '*';
    else if (min === 1 && max === Infinity) q = '+';
    else if (min === 0 && max === 1) q = '?';
    else if (max === Infinity) q = `{${min},}`;
    else if (min === max) q = `{${min}}`;
    else q = `{${min},${max}}`;
    this.out += q + (node.lazy ? '?' : '');
  }

  private reference(ref: GrokReference, ignoreCase: boolean): void {
    if (this.expanding.includes(ref.pattern)) {
      const loop = [...this.expanding.slice(this.expanding.indexOf(ref.pattern)), ref.pattern].join(' → ');
      throw new GrokError(`pattern ${ref.pattern} refers to itself (${loop})`);
    }
    let definition: Alternatives | null;
    try {
      definition = this.library.parsed(ref.pattern);
    } catch (error) {
      if (error instanceof OnigSyntaxError) throw new GrokError(`pattern ${ref.pattern} is not a valid regular expression: ${error.message}`);
      throw error;
    }
    if (definition === null) throw new GrokError(`unknown pattern %{${ref.pattern}}${this.expanding.length > 0 ? ` (used by ${this.expanding[this.expanding.length - 1]})` : ''}`);
    const field = ref.field ?? (this.namedCapturesOnly ? null : ref.pattern);
    if (field === null) this.out += '(?:';
    else this.openCapture(field, ref.type);
    this.expanding.push(ref.pattern);
    this.alternatives(definition, ignoreCase);
    this.expanding.pop();
    this.out += ')';
  }

  private openCapture(field: string, type: Conversion): number {
    let path: FieldPath;
    try {
      path = parseFieldReference(field);
    } catch (error) {
      if (error instanceof FieldReferenceError) throw new GrokError(`capture name "${field}": ${error.message}`);
      throw error;
    }
    const group = ++this.groups;
    this.captures.push({ group, later: [], field, path, type });
    this.captureDepths.push(this.optionalDepth);
    this.out += '(';
    return group;
  }
}

type Repeat = Extract<RegexNode, { t: 'repeat' }>;

/**
 * `(?:X+)+`, `(?:X*)+`, `(?:X+)*`, `(?:X*)*` for a one-character X (a class, a letter, `\w`): the same
 * matches as `X+` / `X*`, found in the same order, but a backtracking engine tries every way of
 * cutting a run into pieces before it gives up: 2^n steps. Logstash's URIPROTO is
 * `[A-Za-z]([A-Za-z0-9+\-.]+)+`, so a long word with no "://" after it hangs %{URI}. Written flat.
 */
function flattenNestedRepeat(outer: Repeat): { repeat: Repeat; ignoreCase: boolean | null } | null {
  const group = outer.node;
  if (group.t !== 'group' || group.kind !== 'plain' || group.body.length !== 1 || group.body[0].length !== 1) return null;
  const inner = group.body[0][0];
  if (inner.t !== 'repeat') return null;
  const single = inner.node.t === 'char' || inner.node.t === 'class' || (inner.node.t === 'raw' && !inner.node.zeroWidth);
  const unbounded = (r: Repeat): boolean => r.max === Infinity && r.min <= 1 && !r.lazy && !r.possessive;
  if (!single || !unbounded(outer) || !unbounded(inner)) return null;
  const min = outer.min === 1 && inner.min === 1 ? 1 : 0;
  return { repeat: { t: 'repeat', node: inner.node, min, max: Infinity, lazy: false, possessive: false }, ignoreCase: group.ignoreCase };
}
