/**
 * Which format a file is in, from a sample of its first non-empty lines: each line votes for the first
 * format (in FORMATS order, most specific first) whose test it passes, and the format with most votes
 * wins, ties going to the earlier one. Plain wins when nothing else does.
 */
import { accessLogFormat } from './access-log.js';
import type { FormatName, LineFormat } from './format.js';
import { ndjsonFormat } from './ndjson.js';
import { plainFormat } from './plain.js';
import { syslogFileFormat } from './syslog-file.js';

export { FORMAT_NAMES, type FormatName, type LineFormat, type ParseContext, type ParsedLine } from './format.js';

/** How many non-empty lines detection looks at. */
export const DETECT_SAMPLE_LINES = 64;

/** In detection order. */
export const FORMATS: readonly LineFormat[] = [ndjsonFormat, syslogFileFormat, accessLogFormat, plainFormat];

export function formatNamed(name: FormatName): LineFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (f === undefined) throw new Error(`unknown format ${name}`);
  return f;
}

/** The format most of `sample`'s lines are in (plain for an empty sample). */
export function detectFormat(sample: readonly string[]): LineFormat {
  const votes = new Map<LineFormat, number>();
  for (const line of sample) {
    const f = FORMATS.find((x) => x.test(line)) ?? plainFormat;
    votes.set(f, (votes.get(f) ?? 0) + 1);
  }
  let best: LineFormat = plainFormat;
  let most = 0;
  for (const f of FORMATS) {
    const n = votes.get(f) ?? 0;
    if (n > most) {
      best = f;
      most = n;
    }
  }
  return best;
}
