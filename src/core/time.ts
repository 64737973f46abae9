/**
 * Time parsing shared by ingest (event timestamps) and query (ranges such as
 * `now-15m`). All results are microseconds since the Unix epoch, UTC.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses ISO-8601 / RFC 3339 date-times with up to nanosecond fractions. Returns null if invalid. */
export function parseIsoMicros(text: string): number | null {
  const fast = parseUtcFast(text);
  if (fast !== null) return fast;
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (Number.isNaN(ms)) return null;
  if (new Date(ms).getUTCDate() !== day && hour < 24) return null; // 2026-02-31
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0);
    ms -= sign * offMin * 60_000;
  }
  const micros = frac ? Number((frac + '000000').slice(0, 6)) : 0;
  return ms * 1000 + micros;
}

/** `YYYY-MM-DD` of the last day parseUtcFast validated; empty before the first. */
let cachedDay = '';
let cachedDayMs = 0;

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Microseconds per unit of the last digit of a 1-5 digit fraction. */
const FRACTION_SCALE = [1_000_000, 100_000, 10_000, 1000, 100, 10];

/**
 * The form nearly every shipper sends, `2026-11-21T10:00:00.123Z`, without a
 * regular expression: this runs for every event ingested. Anything else
 * falls through to the general parser.
 */
function parseUtcFast(s: string): number | null {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  // Most timestamps share the day of the one before: compare in place rather than slice a new string.
  if (cachedDay === '' || !s.startsWith(cachedDay)) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return null;
    const ms = Date.UTC(y, mo - 1, d);
    if (new Date(ms).getUTCDate() !== d) return null;
    cachedDay = s.slice(0, 10);
    cachedDayMs = ms;
  }
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return null;
  let micros = 0;
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */) return null;
    const fracLen = n - 21;
    if (fracLen < 1 || fracLen > 9) return null;
    const f = digits(s, 20, fracLen < 6 ? fracLen : 6);
    if (f < 0 || (fracLen > 6 && digits(s, 26, fracLen - 6) < 0)) return null;
    micros = fracLen >= 6 ? f : f * FRACTION_SCALE[fracLen]; // a table: `10 **` costs more than the rest of the parse
  } else if (n !== 20) return null;
  return (cachedDayMs + h * 3_600_000 + mi * 60_000 + sec * 1000) * 1000 + micros;
}

/** Epoch numbers: seconds, milliseconds or microseconds, chosen by magnitude (as most shippers send them). */
export function epochToMicros(n: number): number | null {
  if (!Number.isFinite(n) || n < 0) return null;
  if (n < 1e11) return Math.round(n * 1e6); // seconds (until year 5138)
  if (n < 1e14) return Math.round(n * 1e3); // milliseconds
  if (n < 1e17) return Math.round(n); // microseconds
  return Math.round(n / 1e3); // nanoseconds
}

/** Parses an event timestamp as senders write it: ISO-8601 text or an epoch number. Years outside 1970–9999 are refused. */
export function parseEventTime(value: unknown): number | null {
  const t = parseEventTimeAnyYear(value);
  return t !== null && t >= 0 && t < MAX_EVENT_MICROS ? t : null;
}

const MAX_EVENT_MICROS = Date.UTC(10000, 0, 1) * 1000;

function parseEventTimeAnyYear(value: unknown): number | null {
  if (typeof value === 'number') return epochToMicros(value);
  if (typeof value === 'string') {
    const iso = parseIsoMicros(value.trim());
    if (iso !== null) return iso;
    if (/^\d+(\.\d+)?$/.test(value)) return epochToMicros(Number(value));
    const ms = Date.parse(value); // RFC 2822 and other forms JavaScript knows
    return Number.isNaN(ms) ? null : ms * 1000;
  }
  return null;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration such as `15m`, `1h`, `30d`, `500ms`. Returns milliseconds or null. */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2];
  if (unit === 'M') return n * 30 * UNIT_MS.d;
  if (unit === 'y') return n * 365 * UNIT_MS.d;
  return n * UNIT_MS[unit];
}

/**
 * Elasticsearch-style date math: `now`, `now-15m`, `now+1d/d`, `now/h`, an
 * ISO date, or an epoch number. `roundUp` rounds `/unit` to the end of the
 * unit, as Elasticsearch does for `lte` bounds.
 */
export function parseTimeExpr(text: string, nowMs: number, roundUp = false): number | null {
  const t = text.trim();
  if (t.startsWith('now')) {
    let ms = nowMs;
    let rest = t.slice(3);
    while (rest.length > 0) {
      const m = /^([+-])(\d+)(ms|s|m|h|d|w|M|y)|^\/(s|m|h|d|w|M|y)/.exec(rest);
      if (!m) return null;
      if (m[1]) {
        const d = parseDurationMs(m[2] + m[3]);
        if (d === null) return null;
        ms += m[1] === '-' ? -d : d;
      } else {
        ms = roundTime(ms, m[4], roundUp);
      }
      rest = rest.slice(m[0].length);
    }
    return ms * 1000;
  }
  return parseEventTimeAnyYear(t);
}

function roundTime(ms: number, unit: string, up: boolean): number {
  const d = new Date(ms);
  const parts = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const depth: Record<string, number> = { y: 1, M: 2, w: 3, d: 3, h: 4, m: 5, s: 6 };
  const keep = depth[unit];
  const start = Date.UTC(
    parts[0],
    keep > 1 ? parts[1] : 0,
    keep > 2 ? parts[2] : 1,
    keep > 3 ? parts[3] : 0,
    keep > 4 ? parts[4] : 0,
    keep > 5 ? parts[5] : 0,
  );
  let begin = start;
  if (unit === 'w') begin = start - ((new Date(start).getUTCDay() + 6) % 7) * UNIT_MS.d; // ISO weeks start on Monday
  if (!up) return begin;
  const next = new Date(begin);
  if (unit === 'y') next.setUTCFullYear(next.getUTCFullYear() + 1);
  else if (unit === 'M') next.setUTCMonth(next.getUTCMonth() + 1);
  else next.setTime(begin + (unit === 'w' ? UNIT_MS.w : UNIT_MS[unit]));
  return next.getTime() - 1;
}

export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString();
  const sub = micros - ms * 1000;
  return sub === 0 ? iso : iso.slice(0, -1) + String(sub).padStart(3, '0') + 'Z';
}

/**
 * A sender's own time under a name other than `@timestamp` (`timestamp`,
 * `time`, `ts`): taken only when it is plausible, because such names also
 * hold durations (`"time": 0.12`) and counters. Plausible: after
 * 1990-01-01 and at most a day ahead of the arrival time (clocks drift, and
 * a shipper may sit in another zone; a year ahead is a mistake). Numbers are
 * epoch seconds, milliseconds, microseconds or nanoseconds by magnitude
 * (epochToMicros: below 1e11 seconds, below 1e14 milliseconds, …); within the
 * plausible window the units cannot be confused (1e11 seconds is the year
 * 5138, 1e11 milliseconds is 1973). Text is ISO 8601 (a zone, or UTC without
 * one) or digits read as a number; nothing looser, so that `"time": "12"` or
 * `"ts": "v1"` is never a date. Null when the value is not such a time.
 */
export function plausibleShipperTime(value: unknown, arrivalMicros: number): number | null {
  let micros: number | null;
  if (typeof value === 'number') micros = epochToMicros(value);
  else if (typeof value === 'string') micros = parseIsoMicros(value) ?? (DIGITS.test(value) ? epochToMicros(Number(value)) : null);
  else return null;
  return micros !== null && micros >= EARLIEST_SHIPPER_MICROS && micros <= arrivalMicros + MAX_AHEAD_MICROS ? micros : null;
}

const DIGITS = /^\d{1,20}(\.\d{1,9})?$/;
const EARLIEST_SHIPPER_MICROS = Date.UTC(1990, 0, 1) * 1000;
const MAX_AHEAD_MICROS = 86_400_000_000;

/**
 * The time of an event whose sender gave no `@timestamp`: the first
 * plausible of its `timestamp`, `time` and `ts` (pino and bunyan send
 * `time`, many JSON loggers `ts` or `timestamp`), or null (then the arrival
 * time). The one place that decides, for every ingest path.
 */
export function shipperTime(timestamp: unknown, time: unknown, ts: unknown, arrivalMicros: number): number | null {
  return plausibleShipperTime(timestamp, arrivalMicros) ?? plausibleShipperTime(time, arrivalMicros) ?? plausibleShipperTime(ts, arrivalMicros);
}
