/**
 * A set of named grok patterns: the built-in library, then a user's `patterns_dir` files, then the
 * filter's `pattern_definitions`, each overriding the names before it, as in Logstash.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_PATTERN_TEXTS } from './patterns/index.js';
import { parseOnig, type Alternatives } from './onig.js';

export class GrokError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GrokError';
  }
}

/** A patterns file is a list of definitions; anything bigger than this is the wrong file. */
const MAX_PATTERNS_FILE = 16 * 1024 * 1024;

/** Parsed definitions, shared by every library: a definition's text always parses the same way. */
const parsedByText = new Map<string, Alternatives>();

let builtin: ReadonlyMap<string, string> | null = null;

function builtinDefinitions(): ReadonlyMap<string, string> {
  if (builtin === null) {
    const definitions = new Map<string, string>();
    for (const [, text] of BUILTIN_PATTERN_TEXTS) for (const [name, regex] of readPatternsText(text)) definitions.set(name, regex);
    builtin = definitions;
  }
  return builtin;
}

export class PatternLibrary {
  private readonly definitions: Map<string, string>;

  private constructor(definitions: ReadonlyMap<string, string>) {
    this.definitions = new Map(definitions);
  }

  /** Logstash's legacy (non-ECS) pattern set. */
  static standard(): PatternLibrary {
    return new PatternLibrary(builtinDefinitions());
  }

  static empty(): PatternLibrary {
    return new PatternLibrary(new Map());
  }

  get names(): string[] {
    return [...this.definitions.keys()];
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  definition(name: string): string | undefined {
    return this.definitions.get(name);
  }

  define(name: string, regex: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new GrokError(`pattern name "${name}" may hold only letters, digits and "_"`);
    this.definitions.set(name, regex);
  }

  /** Adds the `NAME regex` lines of a patterns file's text. */
  addText(text: string): void {
    for (const [name, regex] of readPatternsText(text)) this.define(name, regex);
  }

  /** Adds every file of a directory whose name fits `glob` (`*`, `?`), in name order, or one file. */
  addPath(path: string, glob = '*'): void {
    let names: string[];
    try {
      names = statSync(path).isDirectory() ? readdirSync(path).filter((n) => globRegExp(glob).test(n)).sort().map((n) => join(path, n)) : [path];
    } catch (error) {
      throw new GrokError(`cannot read patterns from ${path}: ${(error as Error).message}`);
    }
    for (const file of names) {
      try {
        const stat = statSync(file);
        if (!stat.isFile()) continue;
        if (stat.size > MAX_PATTERNS_FILE) throw new GrokError(`is ${stat.size} bytes, more than a patterns file may be (${MAX_PATTERNS_FILE})`);
        this.addText(readFileSync(file, 'utf8'));
      } catch (error) {
        if (error instanceof GrokError) throw new GrokError(`${file}: ${error.message}`);
        throw new GrokError(`cannot read patterns file ${file}: ${(error as Error).message}`);
      }
    }
  }

  /** The parsed definition of a name; null when the library has no such name. */
  parsed(name: string): Alternatives | null {
    const text = this.definitions.get(name);
    if (text === undefined) return null;
    let tree = parsedByText.get(text);
    if (tree === undefined) {
      tree = parseOnig(text);
      parsedByText.set(text, tree);
    }
    return tree;
  }
}

/** `NAME regex` a line; blank lines and `#` comments skipped. The regex keeps its trailing spaces (REDISLOG ends in one). */
export function readPatternsText(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = /^\s*(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    out.push([m[1], m[2]]);
  }
  return out;
}

function globRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's');
}
