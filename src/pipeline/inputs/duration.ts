/**
 * Logstash's durations for settings such as `stat_interval`: a number of seconds (`1`, `0.5`) or text
 * with a unit (`"1 second"`, `"500 ms"`, `"2 weeks"`), as its file input accepts.
 */
import type { Settings } from '../settings.js';

const UNIT_SECONDS: ReadonlyArray<[RegExp, number]> = [
  [/^(ms|msec|msecs|millis|milliseconds?)$/, 0.001],
  [/^(s|sec|secs|seconds?)$/, 1],
  [/^(m|min|mins|minutes?)$/, 60],
  [/^(h|hr|hrs|hours?)$/, 3600],
  [/^(d|days?)$/, 86_400],
  [/^(w|wk|wks|weeks?)$/, 604_800],
];

/** Seconds from a duration setting; throws a configuration error naming the setting when unreadable. */
export function durationSeconds(settings: Settings, name: string, fallback: number): number {
  if (!settings.has(name)) return settings.number(name, fallback, { min: 0 });
  const text = settings.string(name, String(fallback)).trim();
  const seconds = parseDuration(text);
  if (seconds === null) throw settings.error(name, `must be a number of seconds or a duration such as "5 seconds", not "${text}"`);
  return seconds;
}

export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  if (match[2] === '') return amount;
  const unit = UNIT_SECONDS.find(([pattern]) => pattern.test(match[2].toLowerCase()));
  return unit ? amount * unit[1] : null;
}
