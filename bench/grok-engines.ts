/**
 * npm run bench, part five: which engine runs grok's regular expressions. The issue left open a
 * maintained WebAssembly build of Oniguruma (the engine Logstash's patterns are written for) against
 * translating the patterns to V8's RegExp; this measures both on the same lines, in the same run.
 *
 * - V8: the expression as Logmill's grok compiler translates it (`compileStandardGrok`).
 * - Oniguruma: the same grok expression expanded as Logstash expands it (each %{NAME:field} a named
 *   group around NAME's own Oniguruma text), run by vscode-oniguruma (Oniguruma 6.9 in WebAssembly, MIT),
 *   captures read back as strings, as a filter would need them.
 *
 * Lines: access lines generated from the shared sample (varied, not repeated verbatim), and syslog lines
 * from auth.log for SYSLOGLINE. BENCH_GROK_LINES (default 200,000) sets how many of each.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileStandardGrok, PatternLibrary } from '../src/pipeline/grok/index.js';
import { generate } from './generate.js';

const N = Number(process.env.BENCH_GROK_LINES ?? 200_000);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface OnigString {
  readonly content: string;
  dispose(): void;
}
interface OnigCapture {
  readonly start: number;
  readonly end: number;
}
interface OnigScanner {
  findNextMatchSync(text: OnigString | string, start: number): { captureIndices: OnigCapture[] } | null;
  dispose(): void;
}
interface Oniguruma {
  loadWASM(data: ArrayBuffer): Promise<void>;
  OnigScanner: new (patterns: string[]) => OnigScanner;
  OnigString: new (text: string) => OnigString;
}

/** Expands a grok expression into one Oniguruma regular expression, as Logstash's grok does. */
function expand(expression: string, library: PatternLibrary, depth = 0): string {
  if (depth > 50) throw new Error('grok patterns nest too deep');
  return expression.replace(/%\{(\w+)(?::([\w@\[\]\-.]+))?(?::\w+)?\}/g, (_all, name: string, field?: string) => {
    const definition = library.definition(name);
    if (definition === undefined) throw new Error(`no grok pattern ${name}`);
    const inner = expand(definition, library, depth + 1);
    return field ? `(?<${field.replace(/[^\w]/g, '_')}>${inner})` : `(?:${inner})`;
  });
}

async function loadOniguruma(): Promise<Oniguruma> {
  const require = createRequire(import.meta.url);
  const main = require.resolve('vscode-oniguruma');
  const onig = require('vscode-oniguruma') as Oniguruma;
  const wasm = fs.readFileSync(path.join(path.dirname(main), 'onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return onig;
}

function measure(lines: readonly string[], matchOne: (line: string) => number): { rate: number; matched: number } {
  for (let i = 0; i < Math.min(20_000, lines.length); i++) matchOne(lines[i]);
  let matched = 0;
  const t0 = performance.now();
  for (const line of lines) matched += matchOne(line);
  return { rate: lines.length / ((performance.now() - t0) / 1000), matched };
}

async function main(): Promise<void> {
  const now = Date.now();
  const access: string[] = [];
  const syslog: string[] = [];
  for (const g of generate(Math.ceil(N * 4), now - 3_600_000, now)) {
    if (/^\d/.test(g.line)) {
      if (access.length < N) access.push(g.line);
    } else if (syslog.length < N) syslog.push(g.line);
    if (access.length === N && syslog.length === N) break;
  }
  const onig = await loadOniguruma();
  const library = PatternLibrary.standard();
  const rows: string[][] = [];
  for (const [pattern, lines] of [
    ['%{COMBINEDAPACHELOG}', access],
    ['%{SYSLOGLINE}', syslog],
  ] as const) {
    const compiled = compileStandardGrok(pattern);
    const v8 = measure(lines, (line) => {
      const m = compiled.regex.exec(line);
      if (m === null) return 0;
      // Read every capture, as the filter does.
      for (const c of compiled.captures) void m[c.group];
      return 1;
    });
    const scanner = new onig.OnigScanner([expand(pattern, library)]);
    const wasm = measure(lines, (line) => {
      const text = new onig.OnigString(line);
      const m = scanner.findNextMatchSync(text, 0);
      if (m === null || m.captureIndices[0].start !== 0) {
        text.dispose();
        return 0;
      }
      for (const c of m.captureIndices) if (c.end > c.start) void line.slice(c.start, c.end);
      text.dispose();
      return 1;
    });
    scanner.dispose();
    rows.push([pattern, `${fmt(v8.rate)} lines/s (${v8.matched} of ${lines.length} matched)`, `${fmt(wasm.rate)} lines/s (${wasm.matched} of ${lines.length} matched)`, `${(v8.rate / wasm.rate).toFixed(2)}×`]);
  }
  process.stdout.write(`\nGrok engines (${fmt(N)} lines each, one thread)\n`);
  process.stdout.write('| pattern | V8 RegExp (translated) | Oniguruma (WebAssembly) | V8 / Oniguruma |\n|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/grok-engines: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
