/**
 * Newline-delimited input shared by the HTTP NDJSON endpoint and the TCP/UDP
 * line listeners: splitting a buffer into lines, bounding their size, and
 * turning each into an event, or into a per-line error that names what was
 * wrong, never taking the good lines around it down.
 */
import { isUtf8 } from 'node:buffer';
import { addTag, TAG, type LogEvent } from '../core/event.js';
import { FieldNames, FieldScanner, scannedShipperTime, ScannedEvent } from '../core/json-fields.js';
import { eventFromObject, eventFromText } from '../core/normalize.js';
import { parseEventTime } from '../core/time.js';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export type LineOutcome =
  | { ok: true; event: LogEvent; warning?: string }
  | { ok: false; error: string };

export interface LineOptions {
  maxLineBytes: number;
  /** Set when the caller already checked the whole buffer is valid UTF-8, to skip the check per line. */
  knownUtf8?: boolean;
  arrivalMicros: number;
  /**
   * `ndjson`: every line must be a JSON object (HTTP ingest: a bad line is
   * rejected and reported). `lines`: JSON objects become events with their
   * fields, anything else becomes `message` (Logstash's json_lines/line codecs).
   */
  mode: 'ndjson' | 'lines';
}

/** Calls `onLine(start, end)` for each line of `buf`, without its `\n` or `\r\n`. Blank lines are skipped. */
export function forEachLine(buf: Buffer, onLine: (start: number, end: number, lineNo: number) => void): void {
  let start = 0;
  let lineNo = 0;
  while (start <= buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length;
    lineNo++;
    let end = nl;
    if (end > start && buf[end - 1] === 13) end--;
    if (!isBlank(buf, start, end)) onLine(start, end, lineNo);
    start = nl + 1;
  }
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Decodes one line (bytes `start`..`end` of `buf`). */
export function decodeLine(buf: Buffer, start: number, end: number, opts: LineOptions): LineOutcome {
  let truncated = false;
  if (end - start > opts.maxLineBytes) {
    end = start + opts.maxLineBytes;
    truncated = true;
  }
  const slice = buf.subarray(start, end);
  const validUtf8 = opts.knownUtf8 === true || isUtf8(slice);
  const text = slice.toString('utf8');
  if (truncated) {
    // A cut JSON line is no longer JSON: keep what fits as text, tagged, rather than lose it.
    const event = eventFromText(trimReplacement(text), opts.arrivalMicros);
    addTag(event, TAG.truncated);
    return { ok: true, event, warning: `line longer than ${opts.maxLineBytes} bytes: truncated and tagged ${TAG.truncated}` };
  }
  const first = firstNonSpace(text);
  if (first === '{') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      if (opts.mode === 'ndjson') return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
      const event = eventFromText(text, opts.arrivalMicros);
      addTag(event, TAG.jsonParseFailure);
      return { ok: true, event };
    }
    const event = eventFromObject(parsed as Record<string, unknown>, opts.arrivalMicros);
    if (!validUtf8) {
      addTag(event, '_invalidutf8');
      return { ok: true, event, warning: 'invalid UTF-8 replaced with U+FFFD and tagged _invalidutf8' };
    }
    return { ok: true, event };
  }
  if (opts.mode === 'ndjson') {
    return { ok: false, error: first === '[' ? 'expected a JSON object per line, got an array' : 'expected a JSON object per line' };
  }
  const event = eventFromText(text, opts.arrivalMicros);
  if (!validUtf8) addTag(event, '_invalidutf8');
  return { ok: true, event };
}

/**
 * One line of a TCP line stream: what decodeLine gives in `lines` mode without
 * a length limit (the splitter bounds lines), as the event itself, without the
 * outcome and options objects. `knownUtf8`: the caller has already checked
 * that the bytes are valid UTF-8 (for a whole chunk at once, say).
 */
export function lineEvent(buf: Buffer, start: number, end: number, arrivalMicros: number, knownUtf8: boolean): LogEvent {
  const text = buf.toString('utf8', start, end);
  let event: LogEvent;
  if (firstNonSpace(text) === '{') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      event = eventFromText(text, arrivalMicros);
      addTag(event, TAG.jsonParseFailure);
      return event;
    }
    event = eventFromObject(parsed as Record<string, unknown>, arrivalMicros);
  } else {
    event = eventFromText(text, arrivalMicros);
  }
  if (!knownUtf8 && !isUtf8(buf.subarray(start, end))) addTag(event, '_invalidutf8');
  return event;
}

/** The names of the keys of JSON lines scanned by this process's inputs (see FieldScanner), kept across bodies and connections. */
const scannedNames = new FieldNames();

/** A buffer of lines of valid UTF-8, with a scanner for its JSON objects. */
export interface ScannableLines {
  buf: Buffer;
  scanner: FieldScanner;
}

/**
 * `buf` ready for scannedLineEvent if it is valid UTF-8 (checked natively, at
 * once); null otherwise. The events keep `buf` until they are written, so it
 * suits buffers that live that long anyway (a request's body), not a stream's
 * chunks (see docs/ingest.md). No text of the whole buffer is made: values are
 * copied from its bytes.
 */
export function scannableLines(buf: Buffer): ScannableLines | null {
  if (!isUtf8(buf)) return null;
  return { buf, scanner: new FieldScanner(scannedNames, 'logmill') };
}

/**
 * The event of the line `buf[start, end)` of a scannable buffer when it is a JSON
 * object whose meaning is plain from its bytes (see FieldScanner): the event
 * eventFromObject would make of it, without parsing it into objects. Null for
 * anything else (text, JSON that is not plain, a time that does not parse):
 * the JSON path then decides, and words what is wrong.
 */
export function scannedLineEvent(lines: ScannableLines, start: number, end: number, arrivalMicros: number): LogEvent | null {
  const doc = lines.scanner.scan(lines.buf, null, start, end);
  if (doc === null) return null;
  const ts = doc.time === null ? (scannedShipperTime(doc, arrivalMicros) ?? arrivalMicros) : parseEventTime(doc.time);
  if (ts === null) return null;
  const event = new ScannedEvent(ts, doc.batch, doc.first, doc.count);
  if (doc.id !== null) event.id = doc.id;
  if (doc.index !== null) event.index = doc.index;
  return event;
}

function firstNonSpace(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\uFEFF') return c;
  }
  return '';
}

/** A cut may split a multi-byte character: drop the dangling replacement character. */
function trimReplacement(s: string): string {
  return s.endsWith('\uFFFD') ? s.slice(0, -1) : s;
}
