/**
 * NDJSON: each line a JSON object that keeps its fields, sent to the server as written (so big integers,
 * key order and escapes survive); its time is its own `@timestamp` (or `timestamp`), read by the server as
 * for any ingest. A line that is not a JSON object is stored whole as `message`, tagged `_jsonparsefailure`.
 */
import { TAG } from '../../core/event.js';
import { parseEventTime } from '../../core/time.js';
import { unparsed, type LineFormat, type ParsedLine } from './format.js';

function parseObject(line: string): Record<string, unknown> | null {
  const first = firstNonSpace(line);
  if (first !== '{') return null;
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function firstNonSpace(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\uFEFF') return c;
  }
  return '';
}

export const ndjsonFormat: LineFormat = {
  name: 'ndjson',
  test: (line) => parseObject(line) !== null,
  parse(line): ParsedLine {
    const obj = parseObject(line);
    if (obj === null) return unparsed(line, TAG.jsonParseFailure);
    const raw = obj['@timestamp'] !== undefined ? obj['@timestamp'] : obj.timestamp;
    const t = raw === undefined || raw === null ? null : parseEventTime(raw);
    // A leading BOM is not JSON text the server would take: send the object from its first brace.
    const json = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
    return { fields: obj, time: t === null ? NaN : t, ok: true, json };
  },
};
