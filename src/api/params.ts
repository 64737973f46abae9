/** Reading and checking query-string parameters shared by the search routes. */
import { parseTimeExpr } from '../core/time.js';
import type { TimeRange } from '../store/store.js';

export class BadRequest extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type QueryParams = Record<string, string | undefined>;

/**
 * The first parameter a parsed query string holds more than once (as an
 * array), or null. Routes read each parameter as one string, so such a
 * request is refused before it reaches them.
 */
export function repeatedParam(query: unknown): string | null {
  if (query === null || typeof query !== 'object') return null;
  for (const [name, value] of Object.entries(query)) if (Array.isArray(value)) return name;
  return null;
}

export function timeRange(q: QueryParams, nowMs: number, defaultFrom = 'now-15m'): TimeRange {
  const fromText = q.from ?? defaultFrom;
  const toText = q.to ?? 'now';
  const fromMicros = parseTimeExpr(fromText, nowMs, false);
  if (fromMicros === null) throw new BadRequest(`"from" is not a time: "${fromText}"; use ISO-8601 (2026-11-21T10:00:00Z), epoch milliseconds or now-15m`);
  const toMicros = parseTimeExpr(toText, nowMs, true);
  if (toMicros === null) throw new BadRequest(`"to" is not a time: "${toText}"; use ISO-8601, epoch milliseconds or now`);
  if (toMicros < fromMicros) throw new BadRequest(`"to" (${toText}) is before "from" (${fromText})`);
  // `to` is inclusive for users (now means up to this instant); the store's ranges are half-open.
  return { fromMicros, toMicros: toMicros + 1 };
}

export function intParam(q: QueryParams, name: string, def: number, min: number, max: number): number {
  const v = q[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadRequest(`"${name}" must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
}

const NICE_INTERVALS_MS = [
  1, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000, 2_592_000_000, 31_536_000_000,
];

/** The smallest "nice" interval that gives at most 100 buckets over the range (so 50–100 for most ranges). */
export function autoIntervalMs(range: TimeRange): number {
  const spanMs = (range.toMicros - range.fromMicros) / 1000;
  for (const ms of NICE_INTERVALS_MS) if (spanMs / ms <= 100) return ms;
  return NICE_INTERVALS_MS[NICE_INTERVALS_MS.length - 1];
}
