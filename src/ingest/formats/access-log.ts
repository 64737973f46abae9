/**
 * Apache / Nginx access logs, combined or common: grok's COMBINEDAPACHELOG, else COMMONAPACHELOG, run
 * as the grok filter runs them (unanchored, legacy Logstash field names: clientip ident auth timestamp
 * verb request httpversion response bytes, and referrer agent with their quotes; values as text, as
 * the patterns capture them), with `message` the whole line. The time is `timestamp`
 * (`dd/MMM/yyyy:HH:mm:ss Z`, read by the date filter's parser).
 *
 * A line neither pattern matches is stored whole, tagged `_grokparsefailure`; one whose `timestamp`
 * does not read as a date keeps its fields, is tagged `_dateparsefailure` (as the date filter tags) and
 * counts as unparsed.
 */
import { compileStandardGrok, GrokMatcher } from '../../pipeline/grok/index.js';
import { compileDateFormat, type ParsedInstant } from '../../pipeline/filters/date-format.js';
import { getZone } from '../../core/zones.js';
import { unparsed, type LineFormat, type ParsedLine } from './format.js';

export const GROK_FAILURE_TAG = '_grokparsefailure';
export const DATE_FAILURE_TAG = '_dateparsefailure';

let matchers: GrokMatcher[] | null = null;

/** Compiled on first use: the grok library is not needed by imports of other formats. */
function patterns(): GrokMatcher[] {
  matchers ??= ['%{COMBINEDAPACHELOG}', '%{COMMONAPACHELOG}'].map((e) => new GrokMatcher(compileStandardGrok(e)));
  return matchers;
}

const httpDate = compileDateFormat('dd/MMM/yyyy:HH:mm:ss Z', 'en');
const UTC = getZone('UTC');
const instant: ParsedInstant = { ms: 0, micros: 0 };

export const accessLogFormat: LineFormat = {
  name: 'access',
  test: (line) => patterns().some((m) => m.exec(line) !== null),
  parse(line): ParsedLine {
    for (const matcher of patterns()) {
      const m = matcher.exec(line);
      if (m === null) continue;
      const fields: Record<string, unknown> = { message: line };
      matcher.eachCapture(m, false, (capture, value) => {
        // The legacy patterns capture top-level names; a capture repeated becomes a list, as in grok.
        const name = capture.path.join('.');
        const before = fields[name];
        fields[name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
      });
      const ts = fields.timestamp;
      if (typeof ts === 'string' && httpDate.parse(ts, Date.now(), () => UTC, instant)) {
        return { fields, time: instant.ms * 1000 + instant.micros, ok: true };
      }
      fields.tags = [DATE_FAILURE_TAG];
      return { fields, time: NaN, ok: false };
    }
    return unparsed(line, GROK_FAILURE_TAG);
  },
};
