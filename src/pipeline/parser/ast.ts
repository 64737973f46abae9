/**
 * The tree of a Logstash configuration file: what `parseConfig` returns and the runtime builds from.
 *
 * Positions are 1-based line and column of the node's first character, so that every error the
 * runtime raises about a plugin or an option can point at the place in the file.
 */

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A setting's value, as written. Barewords stay apart from strings: `codec => json` names a plugin. */
export type Value =
  | { readonly kind: 'string'; readonly value: string; readonly at: Position }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly at: Position }
  | { readonly kind: 'bareword'; readonly value: string; readonly at: Position }
  | { readonly kind: 'array'; readonly items: readonly Value[]; readonly at: Position }
  | { readonly kind: 'hash'; readonly entries: readonly HashEntry[]; readonly at: Position }
  | { readonly kind: 'plugin'; readonly plugin: PluginNode; readonly at: Position };

export interface HashEntry {
  /** The key's text: a bareword, a number's text or a string's value. */
  readonly key: string;
  readonly value: Value;
  readonly at: Position;
}

export interface Attribute {
  readonly name: string;
  readonly value: Value;
  readonly at: Position;
}

/** `name { attr => value ... }`. Attributes keep their order; a name given twice is kept twice. */
export interface PluginNode {
  readonly name: string;
  readonly attributes: readonly Attribute[];
  readonly at: Position;
}

export type SectionKind = 'input' | 'filter' | 'output';

/** What a section or a branch's body holds, in order. */
export type Statement =
  | { readonly kind: 'plugin'; readonly plugin: PluginNode }
  | { readonly kind: 'if'; readonly branches: readonly Branch[]; readonly otherwise: readonly Statement[] | null; readonly at: Position };

/** One `if` or `else if` arm. */
export interface Branch {
  readonly condition: Condition;
  readonly body: readonly Statement[];
  readonly at: Position;
}

/** A field reference, `[a][b]` or a bare top-level `a` where Logstash allows one: the path's names. */
export interface FieldPath {
  readonly path: readonly string[];
  /** The reference as written, for messages. */
  readonly text: string;
}

/** A value a condition compares. */
export type Operand =
  | { readonly kind: 'field'; readonly field: FieldPath; readonly at: Position }
  | { readonly kind: 'string'; readonly value: string; readonly at: Position }
  | { readonly kind: 'number'; readonly value: number; readonly at: Position }
  | { readonly kind: 'regexp'; readonly source: string; readonly at: Position }
  | { readonly kind: 'list'; readonly items: readonly Operand[]; readonly at: Position };

export type CompareOperator = '==' | '!=' | '<' | '>' | '<=' | '>=';
export type BooleanOperator = 'and' | 'or' | 'xor' | 'nand';

/**
 * A condition's tree. Boolean operators are grouped by precedence, tightest first: `and`/`nand`,
 * then `xor`, then `or`, each left to right, so `a or b and c` is `a or (b and c)`.
 */
export type Condition =
  | { readonly kind: 'boolean'; readonly operator: BooleanOperator; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly operand: Condition }
  | { readonly kind: 'compare'; readonly operator: CompareOperator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'match'; readonly negated: boolean; readonly left: Operand; readonly pattern: Operand }
  | { readonly kind: 'in'; readonly negated: boolean; readonly needle: Operand; readonly haystack: Operand }
  /** A lone operand: true when it names a field that exists and is neither null nor false, or is a literal. */
  | { readonly kind: 'truthy'; readonly operand: Operand };

export interface Section {
  readonly kind: SectionKind;
  readonly body: readonly Statement[];
  readonly at: Position;
}

/** A whole file. Sections keep their order; the same kind may appear more than once, as in Logstash. */
export interface ConfigTree {
  readonly sections: readonly Section[];
}

/** A configuration that cannot be read: says where and what was expected. */
export class ConfigSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly at: Position,
    readonly source: string | undefined,
  ) {
    super(`${source ?? 'config'}:${at.line}:${at.column}: ${reason}`);
    this.name = 'ConfigSyntaxError';
  }
}
