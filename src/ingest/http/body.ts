/**
 * The body of `POST /api/v1/ingest`: NDJSON (one object per line) or a JSON
 * array of objects. Every line gets a result: accepted, accepted with a
 * warning (truncated, repaired), or rejected with the reason.
 */
import zlib from 'node:zlib';
import type { LogEvent } from '../../core/event.js';
import { eventFromObject } from '../../core/normalize.js';
import { decodeLine, forEachLine, scannableLines, scannedLineEvent } from '../lines.js';

export interface DecodedBody {
  events: LogEvent[];
  rejected: { line: number; error: string }[];
  warnings: { line: number; warning: string }[];
}

export function decodeIngestBody(body: Buffer, opts: { maxLineBytes: number; arrivalMicros: number }): DecodedBody {
  const out: DecodedBody = { events: [], rejected: [], warnings: [] };
  let i = 0;
  while (i < body.length && (body[i] === 32 || body[i] === 9 || body[i] === 10 || body[i] === 13)) i++;
  if (body[i] === 0x5b /* [ */) return decodeArray(body, opts, out);
  // Only a body of valid UTF-8 is scannable: it is checked once here, for every line.
  const scannable = scannableLines(body);
  const lineOpts = { ...opts, mode: 'ndjson' as const, knownUtf8: scannable !== null };
  forEachLine(body, (start, end, line) => {
    const scanned = scannable !== null && end - start <= opts.maxLineBytes ? scannedLineEvent(scannable, start, end, opts.arrivalMicros) : null;
    if (scanned !== null) {
      out.events.push(scanned);
      return;
    }
    const r = decodeLine(body, start, end, lineOpts);
    if (!r.ok) out.rejected.push({ line, error: r.error });
    else {
      out.events.push(r.event);
      if (r.warning) out.warnings.push({ line, warning: r.warning });
    }
  });
  return out;
}

function decodeArray(body: Buffer, opts: { arrivalMicros: number }, out: DecodedBody): DecodedBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    out.rejected.push({ line: 1, error: `invalid JSON array: ${(err as Error).message}` });
    return out;
  }
  if (!Array.isArray(parsed)) {
    out.rejected.push({ line: 1, error: 'expected a JSON array of objects' });
    return out;
  }
  parsed.forEach((item: unknown, idx) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      out.rejected.push({ line: idx + 1, error: `item ${idx + 1} is not a JSON object` });
    } else {
      out.events.push(eventFromObject(item as Record<string, unknown>, opts.arrivalMicros));
    }
  });
  return out;
}

/** Undoes `Content-Encoding: gzip` or `deflate`, refusing to inflate past `maxBytes`. */
export function decodeContentEncoding(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return zlib.gunzipSync(body, { maxOutputLength: maxBytes });
    if (enc === 'deflate') return zlib.inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/.test(e.message)) {
      throw new PayloadTooLarge(`decompressed body is larger than ${maxBytes} bytes`);
    }
    throw new BadEncoding(`body is not valid ${enc}: ${e.message}`);
  }
  throw new BadEncoding(`unsupported Content-Encoding "${encoding}"; use gzip, deflate or none`);
}

export class BadEncoding extends Error {}
export class PayloadTooLarge extends Error {}
