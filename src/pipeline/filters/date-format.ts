/**
 * The date filter's formats, compiled once when the pipeline is built: Joda patterns (`dd/MMM/yyyy:HH:mm:ss Z`,
 * `MMM  d HH:mm:ss`, `yyyy-MM-dd'T'HH:mm:ss.SSSZZ`) become a list of small matching steps, and the named formats
 * (ISO8601, UNIX, UNIX_MS, TAI64N) are hand-written scanners. Nothing builds a regular expression per event:
 * this runs for every event of a busy pipeline.
 *
 * Parsing follows Joda as Logstash uses it: numbers take up to their field's digits (a year up to nine, unless
 * another number follows it directly), text (months, weekdays, AM/PM) and literals match without regard to
 * case, the whole text must be used, values out of range fail, and a local time that a daylight-saving change
 * skips fails too, while one that happens twice takes the earlier instant.
 */
import { isTimeZone, offsetAt, utcMs, getZone, type Zone } from '../../core/zones.js';
import { patternParts } from '../../core/date-pattern.js';

/** What a parse gives: the instant in milliseconds and the microseconds below it (0-999). */
export interface ParsedInstant {
  ms: number;
  micros: number;
}

/** A `timezone` setting that is a fixed offset (`+01:00`), as Joda takes one. */
export interface FixedOffset {
  readonly offsetMinutes: number;
}

/** The zone used when the text names none; resolved per event when the `timezone` setting is `%{…}`. */
export type ZoneOf = () => Zone | FixedOffset | null;

/** `+01`, `+0100`, `+01:00` (and `-…`) as an offset; null for anything else. */
export function fixedOffset(text: string): FixedOffset | null {
  const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(text);
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 23 || minutes > 59) return null;
  return { offsetMinutes: (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes) };
}

export interface DateParser {
  /** Fills `out` and answers true, or answers false when the value is not in this format. */
  parse(value: string | number, now: number, zoneOf: ZoneOf, out: ParsedInstant): boolean;
}

export class DateFormatError extends Error {}

const MS_PER_DAY = 86_400_000;
/** The instants a JavaScript Date can hold; anything beyond fails rather than producing an unwritable time. */
const MAX_MS = 8.64e15;
/** A year-less date more than this far in the future is taken to be from last year. */
const FUTURE_SLACK_MS = 31 * MS_PER_DAY;

/** Compiles one format of a `match` list. Throws DateFormatError for a pattern Joda would refuse. */
export function compileDateFormat(format: string, locale: string): DateParser {
  switch (format) {
    case 'ISO8601':
      return { parse: parseIso8601 };
    case 'UNIX':
      return { parse: (value, _now, _zone, out) => parseEpoch(value, 3, out) };
    case 'UNIX_MS':
      return { parse: (value, _now, _zone, out) => parseEpoch(value, 0, out) };
    case 'TAI64N':
      return { parse: (value, _now, _zone, out) => typeof value === 'string' && parseTai64n(value, out) };
    default:
      return compileJoda(format, localeNames(locale));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Joda patterns

/** Fields a pattern fills in; one reused per compiled pattern (filters run one event at a time). */
interface Fields {
  year: number;
  month: number;
  day: number;
  dayOfYear: number;
  hour: number;
  /** 0-11 from h or K, with `pm`; -1 when the pattern has neither. */
  hour12: number;
  pm: boolean;
  minute: number;
  second: number;
  /** Fraction of the second in nanoseconds. */
  nanos: number;
  /** Offset in minutes the text gave; NaN when it gave none. */
  offsetMinutes: number;
  /** The zone the text named (ZZZ); null when it named none. */
  zone: Zone | null;
}

/** One step: matches at `at` and answers where the next starts, or -1. */
type Step = (text: string, at: number, f: Fields) => number;

interface Names {
  months: readonly NameEntry[][];
  weekdays: readonly NameEntry[][];
  halfdays: readonly NameEntry[][];
}
interface NameEntry {
  readonly folded: string;
  readonly value: number;
}

function compileJoda(pattern: string, names: Names): DateParser {
  if (pattern.length === 0) throw new DateFormatError('the pattern is empty');
  const parts = patternParts(pattern);
  const steps: Step[] = [];
  let hasYear = false;
  let hasDayOfYear = false;
  let hasHour24 = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.literal !== undefined) {
      steps.push(literalStep(part.literal));
      continue;
    }
    const n = part.count;
    const next = parts[i + 1];
    const nextIsNumber = next !== undefined && next.literal === undefined && isNumericLetter(next.letter, next.count);
    switch (part.letter) {
      case 'y':
      case 'Y':
        hasYear = true;
        if (n === 2) steps.push(twoDigitYearStep(!nextIsNumber));
        else steps.push(numberStep(nextIsNumber ? n : 9, (f, v) => (f.year = v)));
        break;
      case 'M':
        if (n >= 3) steps.push(nameStep(names.months, (f, v) => (f.month = v)));
        else steps.push(numberStep(2, (f, v) => (f.month = v)));
        break;
      case 'd':
        steps.push(numberStep(2, (f, v) => (f.day = v)));
        break;
      case 'D':
        hasDayOfYear = true;
        steps.push(numberStep(3, (f, v) => (f.dayOfYear = v)));
        break;
      case 'H':
        hasHour24 = true;
        steps.push(numberStep(2, (f, v) => (f.hour = v)));
        break;
      case 'k':
        hasHour24 = true;
        steps.push(numberStep(2, (f, v) => (f.hour = v === 24 ? 0 : v === 0 ? 99 : v)));
        break;
      case 'h':
        steps.push(numberStep(2, (f, v) => (f.hour12 = v === 12 ? 0 : v === 0 ? 99 : v)));
        break;
      case 'K':
        steps.push(numberStep(2, (f, v) => (f.hour12 = v)));
        break;
      case 'm':
        steps.push(numberStep(2, (f, v) => (f.minute = v)));
        break;
      case 's':
        steps.push(numberStep(2, (f, v) => (f.second = v)));
        break;
      case 'S':
        steps.push(fractionStep(nextIsNumber ? n : 9));
        break;
      case 'a':
        steps.push(nameStep(names.halfdays, (f, v) => (f.pm = v === 1)));
        break;
      case 'E':
        // The weekday is checked to be one, but the date comes from its other fields, as a day name that
        // disagrees with the date is more often a typo in the log than a reason to move the date.
        // Joda reads E, EE and EEE alike: a weekday name (short or full).
        steps.push(nameStep(names.weekdays, () => {}));
        break;
      case 'e':
        steps.push(numberStep(1, () => {}));
        break;
      case 'Z':
        steps.push(n >= 3 ? zoneIdStep : offsetStep);
        break;
      case 'z':
        steps.push(zoneAbbreviationStep);
        break;
      default:
        throw new DateFormatError(`pattern letter "${part.letter}" is not supported (known: y Y M d D H k h K m s S a E e Z z)`);
    }
  }
  const fields: Fields = blankFields();
  return {
    parse(value, now, zoneOf, out) {
      const text = typeof value === 'string' ? value : String(value);
      resetFields(fields);
      let at = 0;
      for (let i = 0; i < steps.length; i++) {
        at = steps[i](text, at, fields);
        if (at < 0) return false;
      }
      if (at !== text.length) return false;
      if (fields.hour12 >= 0 && !hasHour24) fields.hour = fields.hour12 + (fields.pm ? 12 : 0);
      return resolve(fields, hasYear, hasDayOfYear, now, zoneOf, out);
    },
  };
}

function isNumericLetter(letter: string, count: number): boolean {
  if (letter === 'M') return count < 3;
  return 'yYdDHkhKmsSe'.includes(letter);
}

function blankFields(): Fields {
  return { year: 0, month: 1, day: 1, dayOfYear: 0, hour: 0, hour12: -1, pm: false, minute: 0, second: 0, nanos: 0, offsetMinutes: NaN, zone: null };
}

function resetFields(f: Fields): void {
  f.year = 0;
  f.month = 1;
  f.day = 1;
  f.dayOfYear = 0;
  f.hour = 0;
  f.hour12 = -1;
  f.pm = false;
  f.minute = 0;
  f.second = 0;
  f.nanos = 0;
  f.offsetMinutes = NaN;
  f.zone = null;
}

/** Checks the fields and turns them into an instant. */
function resolve(f: Fields, hasYear: boolean, hasDayOfYear: boolean, now: number, zoneOf: ZoneOf, out: ParsedInstant): boolean {
  if (f.hour > 23 || f.minute > 59 || f.second > 59 || f.hour12 > 11) return false;
  if (hasYear) return instant(f, f.year, hasDayOfYear, zoneOf, out);
  // Syslog's dates have no year: this year, unless that puts the event more than a month ahead (a December
  // line read in January), when it is last year's.
  const zone = f.offsetMinutes === f.offsetMinutes ? null : (f.zone ?? zoneOf());
  const localNow = now + (f.offsetMinutes === f.offsetMinutes ? f.offsetMinutes * 60_000 : zone === null ? 0 : 'offsetMinutes' in zone ? zone.offsetMinutes * 60_000 : offsetAt(zone, now));
  const year = new Date(localNow).getUTCFullYear();
  if (!instant(f, year, hasDayOfYear, zoneOf, out)) return false;
  if (out.ms > now + FUTURE_SLACK_MS) return instant(f, year - 1, hasDayOfYear, zoneOf, out);
  return true;
}

function instant(f: Fields, year: number, hasDayOfYear: boolean, zoneOf: ZoneOf, out: ParsedInstant): boolean {
  let wall: number;
  if (hasDayOfYear) {
    if (f.dayOfYear < 1 || f.dayOfYear > (isLeap(year) ? 366 : 365)) return false;
    wall = utcMs(year, 1, 1, f.hour, f.minute, f.second) + (f.dayOfYear - 1) * MS_PER_DAY;
  } else {
    if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(year, f.month)) return false;
    wall = utcMs(year, f.month, f.day, f.hour, f.minute, f.second);
  }
  wall += Math.floor(f.nanos / 1_000_000);
  let ms: number;
  if (f.offsetMinutes === f.offsetMinutes) ms = wall - f.offsetMinutes * 60_000;
  else {
    const zone = f.zone ?? zoneOf();
    ms = zone === null ? wall : 'offsetMinutes' in zone ? wall - zone.offsetMinutes * 60_000 : localToUtc(zone, wall);
  }
  if (!(ms >= -MAX_MS && ms <= MAX_MS)) return false;
  out.ms = ms;
  out.micros = Math.floor((f.nanos % 1_000_000) / 1000);
  return true;
}

/**
 * A wall-clock time in a zone to an instant, as Joda does it: a time that exists once is that instant, a time
 * the clocks skip (02:30 when they jump from 02:00 to 03:00) does not exist and fails (NaN), and a time that
 * comes twice (02:30 when they go back from 03:00 to 02:00) takes the earlier instant.
 */
export function localToUtc(zone: Zone, wall: number): number {
  const before = offsetAt(zone, wall - MS_PER_DAY);
  const after = offsetAt(zone, wall + MS_PER_DAY);
  if (before === after) {
    const t = wall - before;
    // A zone that changed its offset and changed it back within two days: check the answer.
    return offsetAt(zone, t) === before ? t : wallFallback(zone, wall);
  }
  const tBefore = wall - before;
  const tAfter = wall - after;
  const beforeHolds = offsetAt(zone, tBefore) === before;
  const afterHolds = offsetAt(zone, tAfter) === after;
  if (beforeHolds && afterHolds) return Math.min(tBefore, tAfter);
  if (beforeHolds) return tBefore;
  if (afterHolds) return tAfter;
  return NaN;
}

function wallFallback(zone: Zone, wall: number): number {
  const o = offsetAt(zone, wall);
  const t = wall - o;
  return offsetAt(zone, t) === o ? t : NaN;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A number of 1 to `maxDigits` digits. */
function numberStep(maxDigits: number, store: (f: Fields, value: number) => void): Step {
  return (text, at, f) => {
    let value = 0;
    let i = at;
    const end = Math.min(text.length, at + maxDigits);
    while (i < end) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) break;
      value = value * 10 + (c - 48);
      i++;
    }
    if (i === at) return -1;
    store(f, value);
    return i;
  };
}

/**
 * `yy`: two digits are a year within 80 years back and 20 ahead of now (Joda's pivot, the current year minus
 * 30); when no number follows, other digit counts are taken as the year itself, as Joda's lenient parse does.
 */
function twoDigitYearStep(lenient: boolean): Step {
  const pivot = new Date().getUTCFullYear() - 30;
  const low = pivot - 49;
  const digits = numberStep(lenient ? 9 : 2, (f, v) => (f.year = v));
  return (text, at, f) => {
    const end = digits(text, at, f);
    if (end < 0) return -1;
    if (end - at !== 2) return lenient ? end : -1;
    const century = low - (low % 100);
    let year = century + f.year;
    if (year < low) year += 100;
    f.year = year;
    return end;
  };
}

/** `S…`: fraction of a second, up to nine digits (nanoseconds); more digits than that fail. */
function fractionStep(maxDigits: number): Step {
  return (text, at, f) => {
    let nanos = 0;
    let scale = 100_000_000;
    let i = at;
    const end = Math.min(text.length, at + maxDigits);
    while (i < end) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) break;
      nanos += (c - 48) * scale;
      scale /= 10;
      i++;
    }
    if (i === at) return -1;
    f.nanos = Math.round(nanos);
    return i;
  };
}

/** Literal text, matched without regard to ASCII case as Joda does. */
function literalStep(literal: string): Step {
  if (literal.length === 1) {
    const lower = literal.toLowerCase().charCodeAt(0);
    const upper = literal.toUpperCase().charCodeAt(0);
    return (text, at) => {
      const c = text.charCodeAt(at);
      return c === lower || c === upper ? at + 1 : -1;
    };
  }
  const folded = foldCase(literal);
  return (text, at) => (matchesFolded(text, at, folded) ? at + folded.length : -1);
}

function foldCase(text: string): string {
  return text.toLowerCase();
}

/** Whether `text` at `at` holds `folded` (already lower case), comparing ASCII letters without case. */
function matchesFolded(text: string, at: number, folded: string): boolean {
  if (at + folded.length > text.length) return false;
  for (let i = 0; i < folded.length; i++) {
    let c = text.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    const want = folded.charCodeAt(i);
    if (c !== want) {
      // A letter beyond ASCII (März): compare its lower case.
      if (c < 128 || text[at + i].toLowerCase() !== folded[i]) return false;
    }
  }
  return true;
}

/** Month, weekday or AM/PM text, the longest known name first (June before Jun). */
function nameStep(byFirst: readonly NameEntry[][], store: (f: Fields, value: number) => void): Step {
  return (text, at, f) => {
    if (at >= text.length) return -1;
    let c = text.charCodeAt(at);
    if (c >= 65 && c <= 90) c += 32;
    const candidates = byFirst[c < 128 ? c : 128];
    if (candidates === undefined) return -1;
    for (const entry of candidates) {
      if (matchesFolded(text, at, entry.folded)) {
        store(f, entry.value);
        return at + entry.folded.length;
      }
    }
    return -1;
  };
}

/** `Z` / `ZZ`: `Z`, `+01`, `+0100` or `+01:00` (Joda reads each form for either). */
const offsetStep: Step = (text, at, f) => {
  const sign = text.charCodeAt(at);
  if (sign === 90 || sign === 122) {
    f.offsetMinutes = 0;
    return at + 1;
  }
  if (sign !== 43 && sign !== 45) return -1;
  const h1 = text.charCodeAt(at + 1);
  const h2 = text.charCodeAt(at + 2);
  if (!isDigit(h1) || !isDigit(h2)) return -1;
  const hours = (h1 - 48) * 10 + (h2 - 48);
  let minutes = 0;
  let i = at + 3;
  const colon = text.charCodeAt(i) === 58;
  const m1 = text.charCodeAt(colon ? i + 1 : i);
  const m2 = text.charCodeAt(colon ? i + 2 : i + 1);
  if (isDigit(m1) && isDigit(m2)) {
    minutes = (m1 - 48) * 10 + (m2 - 48);
    i += colon ? 3 : 2;
  } else if (colon) return -1;
  if (hours > 23 || minutes > 59) return -1;
  f.offsetMinutes = (sign === 45 ? -1 : 1) * (hours * 60 + minutes);
  return i;
};

/** `ZZZ`: a zone name such as Europe/Berlin or UTC. */
const zoneIdStep: Step = (text, at, f) => {
  let i = at;
  while (i < text.length && i - at < 64) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 95 || c === 47 || c === 43 || c === 45;
    if (!ok) break;
    i++;
  }
  if (i === at) return -1;
  const name = text.slice(at, i);
  if (name === 'UTC' || name === 'Z' || name === 'GMT' || name === 'Etc/UTC') {
    f.offsetMinutes = 0;
    return i;
  }
  // Only names with a letter first: Intl also reads "+01:00", which is not a zone name for Joda.
  if (!((text.charCodeAt(at) | 32) >= 97 && (text.charCodeAt(at) | 32) <= 122) || !isTimeZone(name)) return -1;
  f.zone = getZone(name);
  return i;
};

/** `z`: the short names Joda knows by default (UTC, GMT and the US zones). */
const ABBREVIATIONS: Readonly<Record<string, number>> = { UT: 0, UTC: 0, GMT: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };
const zoneAbbreviationStep: Step = (text, at, f) => {
  let i = at;
  while (i < text.length && i - at < 4 && text.charCodeAt(i) >= 65 && text.charCodeAt(i) <= 90) i++;
  const offset = ABBREVIATIONS[text.slice(at, i)];
  if (offset === undefined) return -1;
  f.offsetMinutes = offset;
  return i;
};

// ---------------------------------------------------------------------------------------------------------
// Names of months and weekdays

const ENGLISH_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ENGLISH_WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const namesByLocale = new Map<string, Names>();

/** Month and weekday names of a locale: English built in, others from Intl (both the short and the full names). */
function localeNames(locale: string): Names {
  const known = namesByLocale.get(locale);
  if (known) return known;
  const english = locale === 'en' || locale.startsWith('en-');
  const months: Array<[string, number]> = [];
  const weekdays: Array<[string, number]> = [];
  const halfdays: Array<[string, number]> = [['AM', 0], ['PM', 1]];
  if (english) {
    ENGLISH_MONTHS.forEach((name, i) => months.push([name, i + 1], [name.slice(0, 3), i + 1]));
    ENGLISH_WEEKDAYS.forEach((name, i) => weekdays.push([name, i + 1], [name.slice(0, 3), i + 1]));
  } else {
    for (const width of ['long', 'short'] as const) {
      const month = new Intl.DateTimeFormat(locale, { month: width, timeZone: 'UTC' });
      const weekday = new Intl.DateTimeFormat(locale, { weekday: width, timeZone: 'UTC' });
      for (let m = 0; m < 12; m++) addName(months, month.format(Date.UTC(2021, m, 15)), m + 1);
      // 2021-03-01 was a Monday.
      for (let d = 0; d < 7; d++) addName(weekdays, weekday.format(Date.UTC(2021, 2, 1 + d)), d + 1);
    }
    const period = new Intl.DateTimeFormat(locale, { hour: 'numeric', hour12: true, timeZone: 'UTC' });
    for (const [hour, value] of [[3, 0], [15, 1]] as const) {
      const part = period.formatToParts(Date.UTC(2021, 0, 1, hour)).find((p) => p.type === 'dayPeriod');
      if (part) halfdays.push([part.value, value]);
    }
  }
  const names: Names = { months: byFirstLetter(months), weekdays: byFirstLetter(weekdays), halfdays: byFirstLetter(halfdays) };
  namesByLocale.set(locale, names);
  return names;
}

/** Adds a name, and its form without a trailing dot ("Jan." and "Jan"). */
function addName(list: Array<[string, number]>, name: string, value: number): void {
  list.push([name, value]);
  if (name.endsWith('.')) list.push([name.slice(0, -1), value]);
}

function byFirstLetter(names: Array<[string, number]>): NameEntry[][] {
  const table: NameEntry[][] = [];
  const seen = new Set<string>();
  const sorted = names.map(([name, value]) => ({ folded: foldCase(name), value })).sort((a, b) => b.folded.length - a.folded.length);
  for (const entry of sorted) {
    if (entry.folded.length === 0 || seen.has(entry.folded)) continue;
    seen.add(entry.folded);
    const code = entry.folded.charCodeAt(0);
    const slot = code < 128 ? code : 128;
    (table[slot] ??= []).push(entry);
  }
  return table;
}

/** A locale as Logstash takes it (`en`, `en-US`, `en_US`), checked against what Intl knows; null if unknown. */
export function normalLocale(locale: string): string | null {
  const tag = locale.replace(/_/g, '-');
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0 ? tag : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Named formats

/**
 * ISO8601 as Logstash reads it: `2011-04-19T03:44:01.103Z`, a space instead of `T`, a comma before the
 * fraction, a date alone, hours and minutes alone, `+01`, `+0100` or `+01:00`. Without an offset the filter's
 * timezone applies.
 */
const isoFields: Fields = blankFields();
function parseIso8601(value: string | number, _now: number, zoneOf: ZoneOf, out: ParsedInstant): boolean {
  if (typeof value !== 'string') return false;
  const s = value;
  const n = s.length;
  const f = isoFields;
  resetFields(f);
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const year = fixedDigits(s, 0, 4);
  f.month = fixedDigits(s, 5, 2);
  f.day = fixedDigits(s, 8, 2);
  if (year < 0 || f.month < 0 || f.day < 0) return false;
  let at = 10;
  if (at < n) {
    const sep = s.charCodeAt(at);
    if (sep !== 84 && sep !== 116 && sep !== 32) return false;
    f.hour = fixedDigits(s, at + 1, 2);
    if (f.hour < 0) return false;
    at += 3;
    if (s.charCodeAt(at) === 58) {
      f.minute = fixedDigits(s, at + 1, 2);
      if (f.minute < 0) return false;
      at += 3;
      if (s.charCodeAt(at) === 58) {
        f.second = fixedDigits(s, at + 1, 2);
        if (f.second < 0) return false;
        at += 3;
        const dot = s.charCodeAt(at);
        if (dot === 46 || dot === 44) {
          let scale = 100_000_000;
          let nanos = 0;
          const start = ++at;
          while (at < n && isDigit(s.charCodeAt(at))) {
            if (at - start < 9) nanos += (s.charCodeAt(at) - 48) * scale;
            scale /= 10;
            at++;
          }
          if (at === start) return false;
          f.nanos = Math.round(nanos);
        }
      }
    }
    if (at < n) {
      const end = offsetStep(s, at, f);
      if (end !== n) return false;
    }
  }
  f.year = year;
  return resolve(f, true, false, 0, zoneOf, out);
}

/** A run of exactly `count` digits at `at`, or -1. */
function fixedDigits(s: string, at: number, count: number): number {
  if (at + count > s.length) return -1;
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * UNIX (seconds, `scale` 3) and UNIX_MS (milliseconds, `scale` 0), as a number or as decimal text with an
 * optional sign and fraction. The text is read digit by digit so that `1326149001.132` is exactly .132 s,
 * not the nearest binary fraction.
 */
function parseEpoch(value: string | number, scale: number, out: ParsedInstant): boolean {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return false;
    text = Math.abs(value) < 1e21 ? String(value) : '';
    if (text.includes('e')) text = value.toFixed(6);
  } else text = value;
  const n = text.length;
  if (n === 0 || n > 40) return false;
  let at = 0;
  const negative = text.charCodeAt(0) === 45;
  if (negative || text.charCodeAt(0) === 43) at++;
  let whole = 0;
  const start = at;
  while (at < n && isDigit(text.charCodeAt(at))) whole = whole * 10 + (text.charCodeAt(at++) - 48);
  if (at === start) return false;
  // Fraction digits, kept to microseconds of the result.
  let micros = 0;
  if (at < n && text.charCodeAt(at) === 46) {
    at++;
    const fracStart = at;
    let unit = scale === 3 ? 100_000 : 100;
    while (at < n && isDigit(text.charCodeAt(at))) {
      micros += (text.charCodeAt(at++) - 48) * unit;
      unit = Math.floor(unit / 10);
    }
    if (at === fracStart) return false;
  }
  if (at !== n) return false;
  // The fraction in microseconds: up to 999999 for seconds, up to 999 for milliseconds.
  const wholeMs = scale === 3 ? whole * 1000 : whole;
  if (!(wholeMs <= MAX_MS)) return false;
  let ms = wholeMs + (scale === 3 ? Math.floor(micros / 1000) : 0);
  let below = scale === 3 ? micros % 1000 : micros;
  if (negative) {
    // -(ms + below/1000): whole milliseconds round down, the microseconds count up from there.
    ms = -ms - (below > 0 ? 1 : 0);
    below = below > 0 ? 1000 - below : 0;
  }
  if (!(Math.abs(ms) <= MAX_MS)) return false;
  out.ms = ms;
  out.micros = below;
  return true;
}

/** TAI64N: `@` (optional), 16 hex digits of TAI seconds (2^62 + 10 at the epoch), 8 hex digits of nanoseconds. */
function parseTai64n(value: string, out: ParsedInstant): boolean {
  const hex = value.charCodeAt(0) === 64 ? value.slice(1) : value;
  if (hex.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = hex.charCodeAt(i) | 32;
    if (!(isDigit(c) || (c >= 97 && c <= 102))) return false;
  }
  const seconds = BigInt('0x' + hex.slice(0, 16)) - 0x400000000000000an;
  const nanos = parseInt(hex.slice(16), 16);
  if (nanos > 999_999_999) return false;
  if (seconds > 8_640_000_000_000n || seconds < -8_640_000_000_000n) return false;
  out.ms = Number(seconds) * 1000 + Math.floor(nanos / 1_000_000);
  out.micros = Math.floor((nanos % 1_000_000) / 1000);
  return true;
}

/** The instant as ISO-8601 text in UTC: milliseconds, or microseconds when the text held them. */
export function instantText(parsed: ParsedInstant): string {
  const iso = isoMillis(parsed.ms);
  if (parsed.micros === 0) return iso;
  return `${iso.slice(0, -1)}${String(parsed.micros).padStart(3, '0')}Z`;
}

/** `YYYY-MM-DDT` of the last day formatted: a batch's events mostly fall on the same day. */
let cachedDay = NaN;
let cachedDayText = '';
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `Date.prototype.toISOString`, written out: V8's takes microseconds per call (it goes through its date
 * cache), which showed up as the date filter's largest cost. Years outside 0-9999 go to V8's.
 */
function isoMillis(ms: number): string {
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== cachedDay) {
    const date = new Date(day * MS_PER_DAY);
    const year = date.getUTCFullYear();
    if (year < 0 || year > 9999) {
      const extended = date.toISOString();
      return extended.slice(0, extended.indexOf('T') + 1) + timeOfDay(ms - day * MS_PER_DAY);
    }
    cachedDay = day;
    cachedDayText = `${String(year).padStart(4, '0')}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]}T`;
  }
  return cachedDayText + timeOfDay(ms - day * MS_PER_DAY);
}

function timeOfDay(msOfDay: number): string {
  const seconds = Math.floor(msOfDay / 1000);
  const millis = msOfDay - seconds * 1000;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[sec]}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
