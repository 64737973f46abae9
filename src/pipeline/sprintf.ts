/**
 * Logstash's `sprintf` format: text with `%{field}` / `%{[a][b]}` placeholders, `%{+yyyy.MM.dd}` for the
 * event's `@timestamp` in UTC (Joda-style pattern), `%{+%s}` for its epoch seconds and `%{{…}}` for a
 * Java-style date pattern. A field that is missing leaves its placeholder as written, as Logstash does.
 */
import type { PipelineEvent, PipelineValue } from './event.js';
import { parseFieldReference, type FieldPath } from './field-ref.js';
import { patternParts, type PatternPart } from '../core/date-pattern.js';

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly path: FieldPath; readonly raw: string }
  | { readonly kind: 'time'; readonly format: DateFormat }
  | { readonly kind: 'epoch' };

/** A format compiled once, used for every event. */
export class Template {
  private readonly parts: readonly Part[];
  /** True when the format holds no placeholder: the same text for every event. */
  readonly constant: boolean;

  constructor(readonly source: string) {
    this.parts = compile(source);
    this.constant = this.parts.every((p) => p.kind === 'text');
  }

  render(event: PipelineEvent): string {
    if (this.constant) return this.source;
    let out = '';
    for (const part of this.parts) {
      switch (part.kind) {
        case 'text':
          out += part.text;
          break;
        case 'field': {
          const value = event.get(part.path);
          out += value === undefined ? part.raw : valueText(value);
          break;
        }
        case 'time':
          out += formatDate(part.format, new Date(event.timeMs()));
          break;
        case 'epoch':
          out += String(Math.floor(event.timeMs() / 1000));
          break;
      }
    }
    return out;
  }
}

/** A field's value as text: arrays joined with commas, hashes as JSON, as Logstash prints them. */
export function valueText(value: PipelineValue): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function compile(source: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('%{', at);
    if (open < 0) break;
    const javaStyle = source[open + 2] === '{';
    const close = javaStyle ? source.indexOf('}}', open + 3) : source.indexOf('}', open + 2);
    if (close < 0) break;
    text += source.slice(at, open);
    const inner = source.slice(open + (javaStyle ? 3 : 2), close);
    const raw = source.slice(open, close + (javaStyle ? 2 : 1));
    at = close + (javaStyle ? 2 : 1);
    const part = placeholder(inner, raw, javaStyle);
    if (part === null) {
      text += raw;
      continue;
    }
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push(part);
  }
  text += source.slice(at);
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

function placeholder(inner: string, raw: string, javaStyle: boolean): Part | null {
  if (javaStyle) return { kind: 'time', format: patternParts(inner) };
  if (inner === '+%s') return { kind: 'epoch' };
  if (inner.startsWith('+')) return { kind: 'time', format: patternParts(inner.slice(1)) };
  try {
    return { kind: 'field', path: parseFieldReference(inner), raw };
  } catch {
    return null;
  }
}

type DateFormat = readonly PatternPart[];

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Formats a date in UTC. Letters: y Y u x (year), M, d, H, k, h, K, m, s, S, E, D, a, w (ISO week), Z, X, z. */
export function formatDate(format: DateFormat, date: Date): string {
  let out = '';
  for (const token of format) {
    if (token.literal !== undefined) {
      out += token.literal;
      continue;
    }
    const w = token.count;
    switch (token.letter) {
      case 'y':
      case 'Y':
      case 'u':
        out += w === 2 ? pad(date.getUTCFullYear() % 100, 2) : pad(date.getUTCFullYear(), w);
        break;
      case 'x':
        out += w === 2 ? pad(isoWeek(date).year % 100, 2) : pad(isoWeek(date).year, w);
        break;
      case 'w':
        out += pad(isoWeek(date).week, w);
        break;
      case 'M':
        out += w >= 4 ? MONTHS[date.getUTCMonth()] : w === 3 ? MONTHS[date.getUTCMonth()].slice(0, 3) : pad(date.getUTCMonth() + 1, w);
        break;
      case 'd':
        out += pad(date.getUTCDate(), w);
        break;
      case 'D':
        out += pad(dayOfYear(date), w);
        break;
      case 'E':
        out += w >= 4 ? DAYS[date.getUTCDay()] : DAYS[date.getUTCDay()].slice(0, 3);
        break;
      case 'H':
        out += pad(date.getUTCHours(), w);
        break;
      case 'k':
        out += pad(date.getUTCHours() || 24, w);
        break;
      case 'h':
        out += pad(date.getUTCHours() % 12 || 12, w);
        break;
      case 'K':
        out += pad(date.getUTCHours() % 12, w);
        break;
      case 'a':
        out += date.getUTCHours() < 12 ? 'AM' : 'PM';
        break;
      case 'm':
        out += pad(date.getUTCMinutes(), w);
        break;
      case 's':
        out += pad(date.getUTCSeconds(), w);
        break;
      case 'S':
        out += pad(date.getUTCMilliseconds(), 3).padEnd(w, '0').slice(0, w);
        break;
      case 'Z':
        out += w === 2 ? '+00:00' : '+0000';
        break;
      case 'X':
        out += 'Z';
        break;
      case 'z':
        out += 'UTC';
        break;
      default:
        out += token.letter.repeat(w);
    }
  }
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  return { year, week: Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7) };
}
