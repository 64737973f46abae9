/**
 * ua-parser's rules (uap-core's regexes.yaml) compiled for JavaScript, and the parse the
 * specification (uap-core docs/specification.md) describes: the first rule of each list whose regex
 * matches gives the browser, the operating system or the device, with `$1`…`$9` in a replacement
 * taking the match's groups, results trimmed and empty ones absent.
 *
 * The rules are written for PCRE-like engines. uap-core's own file needs no change in JavaScript, but a
 * user's `regexes` file may hold constructs JavaScript lacks; these are translated (see
 * `translatePattern`): a leading `(?i)` becomes the `i` flag; atomic groups `(?>…)` become plain
 * groups and possessive quantifiers (`*+`, `++`, `?+`, `{n}+`) greedy ones, which can match where PCRE
 * would not but give the same answer on every rule of uap-core; `\A` becomes `^`, `\Z` and `\z`
 * become `$`, and `\h` becomes `[ \t]`. A rule that still does not compile is skipped with a warning.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { parse as parseYaml } from 'yaml';

export interface UserAgent {
  family: string;
  major: string | null;
  minor: string | null;
  patch: string | null;
  patchMinor: string | null;
}
export interface OperatingSystem {
  family: string;
  major: string | null;
  minor: string | null;
  patch: string | null;
  patchMinor: string | null;
}
export interface Device {
  family: string;
  brand: string | null;
  model: string | null;
}
export interface ParsedUserAgent {
  ua: UserAgent;
  os: OperatingSystem;
  device: Device;
}

interface Rule {
  readonly regex: RegExp;
  readonly replacements: Readonly<Record<string, string | undefined>>;
}

export interface CompiledRules {
  readonly browsers: readonly Rule[];
  readonly systems: readonly Rule[];
  readonly devices: readonly Rule[];
  /** Rules that did not compile, with why: the parse goes on without them. */
  readonly skipped: readonly string[];
}

/** A user agent longer than this is cut before matching: the regexes' work grows with the text. */
export const MAX_USER_AGENT_LENGTH = 2048;

export function defaultRegexesPath(): string {
  return createRequire(import.meta.url).resolve('uap-core/regexes.yaml');
}

const compiledByPath = new Map<string, CompiledRules>();

/** Reads and compiles a regexes.yaml once per path; throws when the file cannot be read or is not one. */
export function loadRules(path: string): CompiledRules {
  const known = compiledByPath.get(path);
  if (known) return known;
  const rules = compileRules(fs.readFileSync(path, 'utf8'));
  compiledByPath.set(path, rules);
  return rules;
}

export function compileRules(text: string): CompiledRules {
  const doc: unknown = parseYaml(text, { maxAliasCount: 100 });
  if (typeof doc !== 'object' || doc === null) throw new Error('it is not a YAML mapping with user_agent_parsers, os_parsers and device_parsers');
  const lists = doc as Record<string, unknown>;
  const skipped: string[] = [];
  const compileList = (name: string): Rule[] => {
    const list = lists[name];
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new Error(`${name} is not a list`);
    const out: Rule[] = [];
    list.forEach((item: unknown, index) => {
      if (typeof item !== 'object' || item === null || typeof (item as Record<string, unknown>).regex !== 'string') {
        skipped.push(`${name}[${index}]: no regex`);
        return;
      }
      const entry = item as Record<string, unknown>;
      const replacements: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(entry)) if (key !== 'regex' && key !== 'regex_flag' && value !== null && value !== undefined) replacements[key] = String(value);
      try {
        out.push({ regex: translatePattern(entry.regex as string, typeof entry.regex_flag === 'string' ? entry.regex_flag : ''), replacements });
      } catch (error) {
        skipped.push(`${name}[${index}]: ${(error as Error).message}`);
      }
    });
    return out;
  };
  const browsers = compileList('user_agent_parsers');
  const systems = compileList('os_parsers');
  const devices = compileList('device_parsers');
  if (browsers.length + systems.length + devices.length === 0) throw new Error('it holds no user_agent_parsers, os_parsers or device_parsers');
  return { browsers, systems, devices, skipped };
}

/** Rewrites the PCRE constructs JavaScript lacks (see the file's comment) and compiles. */
export function translatePattern(source: string, flag: string): RegExp {
  let flags = flag.includes('i') ? 'i' : '';
  let text = source;
  const inline = /^\(\?([a-z]+)\)/.exec(text);
  if (inline) {
    if (inline[1].replace(/[imsx]/g, '') !== '') throw new Error(`unknown inline flags (?${inline[1]})`);
    if (inline[1].includes('x')) throw new Error('extended mode (?x) is not supported');
    if (inline[1].includes('i') && !flags.includes('i')) flags += 'i';
    if (inline[1].includes('m')) flags += 'm';
    if (inline[1].includes('s')) flags += 's';
    text = text.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const next = text[i + 1] ?? '';
      i++;
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && (next === 'Z' || next === 'z')) out += '$';
      else if (next === 'h') out += inClass ? ' \\t' : '[ \\t]';
      else out += c + next;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (text[i + 1] === '^') out += text[++i];
      if (text[i + 1] === ']') out += text[++i];
      continue;
    }
    if (c === '(' && text[i + 1] === '?' && text[i + 2] === '>') {
      out += '(?:';
      i += 2;
      continue;
    }
    // A `+` right after a quantifier makes it possessive in PCRE; in JavaScript it would be an error.
    if (c === '+' && /[*+?}]$/.test(out) && !out.endsWith('\\+') && !out.endsWith('\\*') && !out.endsWith('\\?') && !out.endsWith('\\}')) continue;
    out += c;
  }
  return new RegExp(out, flags);
}

function substitute(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? '');
}

/** A replacement (groups substituted) or the group, trimmed; null when that leaves nothing. */
function pick(rule: Rule, key: string, match: RegExpExecArray, group: number | null): string | null {
  const template = rule.replacements[key];
  const value = template !== undefined ? substitute(template, match) : group === null ? undefined : match[group];
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function firstMatch(rules: readonly Rule[], text: string): [Rule, RegExpExecArray] | null {
  for (const rule of rules) {
    const match = rule.regex.exec(text);
    if (match) return [rule, match];
  }
  return null;
}

export function parseUserAgent(rules: CompiledRules, input: string): ParsedUserAgent {
  const text = input.length > MAX_USER_AGENT_LENGTH ? input.slice(0, MAX_USER_AGENT_LENGTH) : input;
  return { ua: browserOf(rules, text), os: systemOf(rules, text), device: deviceOf(rules, text) };
}

function browserOf(rules: CompiledRules, text: string): UserAgent {
  const found = firstMatch(rules.browsers, text);
  if (!found) return { family: 'Other', major: null, minor: null, patch: null, patchMinor: null };
  const [rule, m] = found;
  return {
    family: pick(rule, 'family_replacement', m, 1) ?? 'Other',
    major: pick(rule, 'v1_replacement', m, 2),
    minor: pick(rule, 'v2_replacement', m, 3),
    patch: pick(rule, 'v3_replacement', m, 4),
    patchMinor: pick(rule, 'v4_replacement', m, 5),
  };
}

function systemOf(rules: CompiledRules, text: string): OperatingSystem {
  const found = firstMatch(rules.systems, text);
  if (!found) return { family: 'Other', major: null, minor: null, patch: null, patchMinor: null };
  const [rule, m] = found;
  return {
    family: pick(rule, 'os_replacement', m, 1) ?? 'Other',
    major: pick(rule, 'os_v1_replacement', m, 2),
    minor: pick(rule, 'os_v2_replacement', m, 3),
    patch: pick(rule, 'os_v3_replacement', m, 4),
    patchMinor: pick(rule, 'os_v4_replacement', m, 5),
  };
}

function deviceOf(rules: CompiledRules, text: string): Device {
  const found = firstMatch(rules.devices, text);
  if (!found) return { family: 'Other', brand: null, model: null };
  const [rule, m] = found;
  return {
    family: pick(rule, 'device_replacement', m, 1) ?? 'Other',
    brand: pick(rule, 'brand_replacement', m, null),
    model: pick(rule, 'model_replacement', m, 1),
  };
}
