/**
 * The `urldecode` filter: decodes `%XX` escapes in `field` (or, with `all_fields`, in every field), in lists
 * and hashes too. As in Logstash, only well-formed `%XX` runs are decoded (a lone `%` or `%zz` stays as it is)
 * and `+` stays `+`. The decoded bytes are read in `charset`; bytes that are not valid there tag the event
 * `_urldecodefailure` and leave the field as it was.
 */
import { filterDecoration } from '../common.js';
import { isObject, type PipelineValue } from '../event.js';
import type { FilterFactory } from '../plugin.js';
import { boundedWarn } from './warn-limit.js';

const SKIPPED = new Set(['@timestamp', '@version']);
const MAX_DEPTH = 64;

class UndecodableError extends Error {}

export const urldecodeFilter: FilterFactory = (settings, context) => {
  const label = `filter urldecode (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const field = settings.fieldPath('field', settings.string('field', 'message'));
  const allFields = settings.boolean('all_fields', false);
  const charset = settings.string('charset', 'UTF-8');
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw settings.error('charset', `names a character set this runtime cannot read: "${charset}"`);
  }
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_urldecodefailure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);

  const decodeValue = (value: PipelineValue, depth: number): PipelineValue => {
    if (typeof value === 'string') return urlDecode(value, decoder);
    if (Array.isArray(value)) return value.map((v) => decodeValue(v, depth + 1));
    if (isObject(value) && depth < MAX_DEPTH) {
      const out: Record<string, PipelineValue> = {};
      for (const key of Object.keys(value)) out[key] = decodeValue(value[key], depth + 1);
      return out;
    }
    return value;
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        try {
          if (allFields) {
            const decoded: Array<[string, PipelineValue]> = [];
            for (const key of Object.keys(event.fields)) if (!SKIPPED.has(key)) decoded.push([key, decodeValue(event.fields[key], 0)]);
            // Written only once every field decoded: a failure leaves the event as it came.
            for (const [key, value] of decoded) event.fields[key] = value;
          } else {
            const value = event.get(field);
            // Logstash would set a missing field to nil; here it stays missing.
            if (value !== undefined) event.set(field, decodeValue(value, 0));
          }
          decorate(event);
        } catch (error) {
          if (!(error instanceof UndecodableError)) throw error;
          for (const tag of tagOnFailure) event.addTag(tag);
          warn(error.message);
        }
      }
      return events;
    },
  };
};

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Decodes each run of `%XX` escapes as bytes in the decoder's charset; the rest of the text is kept. */
export function urlDecode(text: string, decoder: TextDecoder): string {
  if (!text.includes('%')) return text;
  let out = '';
  let at = 0;
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 37) {
      i++;
      continue;
    }
    const runStart = i;
    const bytes: number[] = [];
    while (i + 2 < text.length && text.charCodeAt(i) === 37) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) break;
      bytes.push(hi * 16 + lo);
      i += 3;
    }
    if (bytes.length === 0) {
      i++;
      continue;
    }
    out += text.slice(at, runStart);
    try {
      out += decoder.decode(Uint8Array.from(bytes));
    } catch {
      throw new UndecodableError(`"${text.slice(runStart, Math.min(i, runStart + 60))}" is not valid ${decoder.encoding} once decoded`);
    }
    at = i;
  }
  return out + text.slice(at);
}
