/**
 * A plugin's settings, read from its block with the types its plugin asks for.
 *
 * Every mistake is a `PipelineConfigError` that names the plugin, the setting and the place in the
 * file; a setting the plugin does not know is refused (Logstash refuses them too), with the known
 * names listed so that a misspelling is easy to fix.
 */
import type { Attribute, PluginNode, Position, Value } from './parser/ast.js';
import { FieldReferenceError, parseFieldReference, type FieldPath } from './field-ref.js';
import { Template } from './sprintf.js';

export class PipelineConfigError extends Error {
  constructor(message: string, readonly at: Position | null = null) {
    super(at ? `${at.line}:${at.column}: ${message}` : message);
    this.name = 'PipelineConfigError';
  }
}

export type Scalar = string | number | boolean;

export class Settings {
  private readonly byName = new Map<string, Attribute>();
  private readonly read = new Set<string>();

  constructor(
    readonly plugin: PluginNode,
    /** "input", "filter", "output" or "codec": for messages. */
    readonly kind: string,
  ) {
    for (const attribute of plugin.attributes) {
      if (this.byName.has(attribute.name)) throw this.error(attribute.name, 'is given twice', attribute.at);
      this.byName.set(attribute.name, attribute);
    }
  }

  get label(): string {
    return `${this.kind} ${this.plugin.name}`;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const value = this.take(name);
    if (value === undefined) return fallback;
    const scalar = this.scalarOf(name, value);
    return String(scalar);
  }

  /** A string from a fixed set of choices. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.take(name);
    if (value === undefined) return fallback;
    const text = String(this.scalarOf(name, value));
    if (!(choices as readonly string[]).includes(text)) throw this.error(name, `must be one of ${choices.join(', ')}, not "${text}"`, value.at);
    return text as T;
  }

  number(name: string, fallback: number, options: { integer?: boolean; min?: number } = {}): number {
    const value = this.take(name);
    if (value === undefined) return fallback;
    const scalar = this.scalarOf(name, value);
    const n = typeof scalar === 'number' ? scalar : typeof scalar === 'string' && scalar.trim() !== '' ? Number(scalar) : NaN;
    if (!Number.isFinite(n) || (options.integer && !Number.isInteger(n))) throw this.error(name, `must be ${options.integer ? 'a whole number' : 'a number'}, not ${JSON.stringify(scalar)}`, value.at);
    if (options.min !== undefined && n < options.min) throw this.error(name, `must be at least ${options.min}`, value.at);
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.take(name);
    if (value === undefined) return fallback;
    const scalar = this.scalarOf(name, value);
    if (scalar === true || scalar === 'true') return true;
    if (scalar === false || scalar === 'false') return false;
    throw this.error(name, `must be true or false, not ${JSON.stringify(scalar)}`, value.at);
  }

  /** A list of strings; a single value is a list of one, as Logstash allows. */
  strings(name: string): string[] {
    const value = this.take(name);
    if (value === undefined) return [];
    const items = value.kind === 'array' ? value.items : [value];
    return items.map((item) => String(this.scalarOf(name, item)));
  }

  /** A hash of strings (`{ "a" => "b" }`), or Logstash's older flat array form `["a", "b"]`. */
  pairs(name: string): Array<[string, string]> {
    const value = this.take(name);
    if (value === undefined) return [];
    if (value.kind === 'hash') return value.entries.map((e) => [e.key, String(this.scalarOf(name, e.value))]);
    if (value.kind === 'array' && value.items.length % 2 === 0) {
      const out: Array<[string, string]> = [];
      for (let i = 0; i < value.items.length; i += 2) out.push([String(this.scalarOf(name, value.items[i])), String(this.scalarOf(name, value.items[i + 1]))]);
      return out;
    }
    throw this.error(name, 'must be a hash, as in { "field" => "value" }', value.at);
  }

  /** The raw value, for settings with a shape of their own. */
  raw(name: string): Value | undefined {
    return this.take(name);
  }

  fieldPath(name: string, text: string): FieldPath {
    try {
      return parseFieldReference(text);
    } catch (error) {
      if (error instanceof FieldReferenceError) throw this.error(name, error.message, this.byName.get(name)?.at ?? this.plugin.at);
      throw error;
    }
  }

  template(name: string): Template | undefined;
  template(name: string, fallback: string): Template;
  template(name: string, fallback?: string): Template | undefined {
    const text = this.string(name);
    if (text === undefined) return fallback === undefined ? undefined : new Template(fallback);
    return new Template(text);
  }

  /** Refuses the settings nobody read. Call after the plugin has read all it knows. */
  done(): void {
    const unknown = [...this.byName.keys()].filter((name) => !this.read.has(name));
    if (unknown.length === 0) return;
    const at = this.byName.get(unknown[0])?.at ?? this.plugin.at;
    const near = nearest(unknown[0], [...this.read]);
    const hint = near ? ` (did you mean "${near}"?)` : `; it knows: ${[...this.read].sort().join(', ') || 'none'}`;
    throw new PipelineConfigError(`unknown setting "${unknown[0]}" for ${this.label}${hint}`, at);
  }

  /** Marks settings as known without reading them (accepted for Logstash compatibility, no effect here). */
  accept(...names: string[]): void {
    for (const name of names) this.take(name);
  }

  error(name: string, message: string, at: Position = this.byName.get(name)?.at ?? this.plugin.at): PipelineConfigError {
    return new PipelineConfigError(`${this.label}: setting "${name}" ${message}`, at);
  }

  private take(name: string): Value | undefined {
    this.read.add(name);
    return this.byName.get(name)?.value;
  }

  private scalarOf(name: string, value: Value): Scalar {
    switch (value.kind) {
      case 'string':
        return substituteEnvironment(value.value, (reason) => this.error(name, reason, value.at));
      case 'number':
        return value.value;
      case 'bareword':
        return value.value === 'true' ? true : value.value === 'false' ? false : value.value;
      case 'array':
        if (value.items.length === 1) return this.scalarOf(name, value.items[0]);
        throw this.error(name, 'must be a single value, not a list', value.at);
      default:
        throw this.error(name, `must be a single value, not a ${value.kind}`, value.at);
    }
  }
}

/**
 * `${NAME}` and `${NAME:default}` in a setting's text take the environment's value, as in Logstash, so
 * that secrets such as a password stay out of the file.
 */
export function substituteEnvironment(text: string, fail: (reason: string) => Error, env: NodeJS.ProcessEnv = process.env): string {
  if (!text.includes('${')) return text;
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_, variable: string, fallback: string | undefined) => {
    const value = env[variable];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw fail(`uses \${${variable}}, but the environment has no ${variable}: export it or write \${${variable}:default}`);
  });
}

/** The known name within two edits of a misspelt one, if exactly one is nearest. */
function nearest(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, change, swap of neighbours) from one name to another. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
