/**
 * Grok: a library of named regular expressions, a compiler from grok expressions to V8 RegExps and a
 * matcher. The `grok` filter (filters/grok.ts) is built on these; a benchmark or another plugin can
 * take `compileStandardGrok(…)` to run the same regular expression in a bare loop.
 */
import { compileGrok, type CompileOptions, type CompiledGrok } from './compiler.js';
import { PatternLibrary } from './library.js';

export { compileGrok, GROK_FLAGS, type Capture, type CompiledGrok, type CompileOptions, type Conversion } from './compiler.js';
export { GrokError, PatternLibrary, readPatternsText } from './library.js';
export { GrokMatcher, convert, type CapturedValue } from './matcher.js';
export { OnigSyntaxError } from './onig.js';

let standard: PatternLibrary | null = null;

/** Compiles an expression with the built-in (legacy) library: `{ source, flags, captures, regex }`. */
export function compileStandardGrok(expression: string, options: CompileOptions = {}): CompiledGrok {
  standard ??= PatternLibrary.standard();
  return compileGrok(expression, standard, options);
}
