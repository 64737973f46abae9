/**
 * Runs a compiled grok expression over text and hands each capture to a callback, converted as its
 * `:int` / `:float` asks. Values are read from the match by group number through the capture table.
 */
import type { Capture, CompiledGrok, Conversion } from './compiler.js';

export type CapturedValue = string | number;

export class GrokMatcher {
  private readonly regex: RegExp;
  private readonly captures: readonly Capture[];

  constructor(readonly compiled: CompiledGrok) {
    this.regex = compiled.regex;
    this.captures = compiled.captures;
  }

  get expression(): string {
    return this.compiled.expression;
  }

  /** The match, or null. The regex has no `g` flag, so `exec` keeps no state between calls. */
  exec(text: string): RegExpExecArray | null {
    return this.regex.exec(text);
  }

  /** Each capture that took part in the match (and is not empty, unless `keepEmpty`), in pattern order. */
  eachCapture(match: RegExpExecArray, keepEmpty: boolean, each: (capture: Capture, value: CapturedValue) => void): void {
    const captures = this.captures;
    for (let i = 0; i < captures.length; i++) {
      const capture = captures[i];
      let text = match[capture.group];
      const later = capture.later;
      for (let j = 0; j < later.length; j++) {
        const again = match[later[j]];
        if (again !== undefined) text = again;
      }
      if (text === undefined) continue;
      if (text === '' && !keepEmpty) continue;
      each(capture, capture.type === null ? text : convert(text, capture.type));
    }
  }
}

const LEADING_INT = /^\s*[+-]?\d+/;
const LEADING_FLOAT = /^\s*[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/;

/** Ruby's `to_i` / `to_f`, as Logstash converts: the leading number, and 0 when there is none. */
export function convert(text: string, type: Exclude<Conversion, null>): number {
  const m = (type === 'int' ? LEADING_INT : LEADING_FLOAT).exec(text);
  if (m === null) return 0;
  const n = type === 'int' ? parseInt(m[0], 10) : parseFloat(m[0]);
  return Number.isFinite(n) ? n : 0;
}
