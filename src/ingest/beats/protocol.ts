/**
 * Lumberjack (Beats) wire protocol, v1 and v2: an incremental frame decoder,
 * frame encoders, and the mapping of a Beats event to Logmill fields.
 * Pure: no sockets, no storage.
 *
 * Wire format (as spoken by elastic/go-lumber, i.e. Filebeat/Winlogbeat…,
 * and by Logstash's beats input; all integers uint32 big-endian):
 *   V 'W' count                         window: the client will send `count`
 *                                       events, then wait for an ACK
 *   V 'J' seq len <len bytes JSON>      v2 JSON data frame (one event)
 *   V 'D' seq npairs (klen k vlen v)*   v1 data frame (string key/values)
 *   V 'C' len <len bytes zlib>          compressed: the inflated bytes are
 *                                       themselves a sequence of whole frames
 *   V 'A' seq                           ACK, server → client
 * V is the version byte '1' (0x31) or '2' (0x32). go-lumber's v2 client sends
 * one W, then one C holding J frames with seq 1..n per window; the server
 * ACKs with the seq of the last event processed.
 *
 * Note: go-lumber's PROTOCOL.md describes a different layout (numeric frame
 * types '1'/'2'/'3' with a payload-size header); the go-lumber client and
 * server code, Filebeat and Logstash all use the letters above, and so does
 * this module.
 *
 * Decisions:
 *   - Errors come back as frames, never as exceptions. `fatal: true` means the
 *     byte stream can no longer be framed (bad version byte, unknown frame
 *     type, length over a limit, window over maxWindow, inflate failure,
 *     truncated frame inside a compressed frame, nesting too deep): close the
 *     connection. After a fatal error the decoder is `closed` and ignores
 *     further input. `fatal: false` is a single bad event (a J frame whose
 *     JSON is invalid or not an object) whose length was fine: it carries its
 *     `seq`, which is still ackable; decoding continues.
 *   - A window larger than `maxWindow` (default 65536) is a fatal error, not
 *     clamped: clamping would make the server ACK at a seq the client does not
 *     expect. The window size is only reported, never used to allocate.
 *     A window of 0 is reported as is.
 *   - Lengths are checked against limits as soon as the header is read; the
 *     decoder never allocates from a length field and never buffers more than
 *     one frame (≤ maxFrameBytes + header) plus the chunk being pushed.
 *   - A compressed frame is atomic: its events are returned only if the whole
 *     inflated payload decodes; it is inflated with zlib's `maxOutputLength`
 *     (maxInflatedBytes). Compressed frames may nest at most
 *     MAX_COMPRESSION_DEPTH deep, sharing one inflate budget.
 *   - Both version bytes are accepted with every frame type (strictly, J is
 *     v2-only and D v1-only; accepting both costs nothing); each frame reports
 *     the version byte it carried, so the ACK can use the same version.
 *   - Inflation is synchronous (inflateSync): a maximal compressed frame
 *     blocks the event loop for the time it takes to inflate
 *     maxInflatedBytes (tens of ms at 32 MiB).
 *   - An 'A' frame from a client is a fatal error unless `allowAck` is set
 *     (for Logmill's own agent reading server replies).
 *   - Keys repeated inside a v1 D frame: last one wins.
 */
import { deflateSync, inflateSync } from 'node:zlib';

export type LumberjackVersion = 1 | 2;

export type LumberjackFrame =
  | { type: 'window'; version: LumberjackVersion; size: number }
  | { type: 'data'; version: LumberjackVersion; seq: number; event: Record<string, unknown> }
  | { type: 'ack'; version: LumberjackVersion; seq: number }
  /** The connection must be closed; the decoder is now closed. */
  | { type: 'error'; fatal: true; message: string }
  /** One event was unusable; its seq can still be acknowledged. */
  | { type: 'error'; fatal: false; message: string; version: LumberjackVersion; seq: number };

export interface LumberjackDecoderOptions {
  /** Largest J payload, C (compressed) payload or whole D frame, in bytes. Default 8 MiB. */
  maxFrameBytes?: number;
  /** Largest window size accepted. Default 65536. */
  maxWindow?: number;
  /** Largest inflated size of a compressed frame (nested ones included). Default 32 MiB. */
  maxInflatedBytes?: number;
  /** Decode 'A' frames instead of treating them as a protocol error. Default false. */
  allowAck?: boolean;
}

export const LJ_DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
export const LJ_DEFAULT_MAX_WINDOW = 1 << 16;
export const LJ_DEFAULT_MAX_INFLATED_BYTES = 32 * 1024 * 1024;
/** A compressed frame may contain compressed frames, at most this many levels deep in total. */
export const MAX_COMPRESSION_DEPTH = 2;

const V1 = 0x31; // '1'
const V2 = 0x32; // '2'
const T_WINDOW = 0x57; // 'W'
const T_JSON = 0x4a; // 'J'
const T_DATA = 0x44; // 'D'
const T_COMPRESSED = 0x43; // 'C'
const T_ACK = 0x41; // 'A'

const UINT32_MAX = 0xffffffff;
const EMPTY = Buffer.alloc(0);
/** An emptied input buffer larger than this is released rather than kept for reuse. */
const RELEASE_BYTES = 64 * 1024;

/** Internal: a framing error; caught in push() and turned into a fatal frame. */
class FramingError extends Error {}

function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

function frameTypeName(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hexByte(b)})` : hexByte(b);
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * Incremental Lumberjack decoder for one connection. Feed it whatever the
 * socket delivers; frames may be split at any byte.
 */
export class LumberjackDecoder {
  readonly maxFrameBytes: number;
  readonly maxWindow: number;
  readonly maxInflatedBytes: number;
  readonly allowAck: boolean;

  /**
   * Unconsumed input (a partial frame) lives in acc[0..accLen). acc grows by
   * doubling as bytes actually arrive — never to a size announced by a length
   * field — so it is at most about twice the bytes held; it is released once
   * emptied if it grew past RELEASE_BYTES.
   */
  private acc: Buffer = EMPTY;
  private accLen = 0;
  /** Bytes needed (from the start of acc) before parsing can progress. */
  private need = 0;
  private isClosed = false;

  constructor(options: LumberjackDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? LJ_DEFAULT_MAX_FRAME_BYTES;
    this.maxWindow = options.maxWindow ?? LJ_DEFAULT_MAX_WINDOW;
    this.maxInflatedBytes = options.maxInflatedBytes ?? LJ_DEFAULT_MAX_INFLATED_BYTES;
    this.allowAck = options.allowAck ?? false;
  }

  /** True after a fatal error: further input is ignored. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes held for a partial frame. */
  get bufferedBytes(): number {
    return this.accLen;
  }

  /** Decode as many whole frames as the input so far holds. Never throws. */
  push(chunk: Buffer): LumberjackFrame[] {
    const out: LumberjackFrame[] = [];
    if (this.isClosed || chunk.length === 0) return out;
    try {
      if (this.accLen === 0) {
        // Fast path: parse straight from the caller's chunk, keep only the tail.
        const off = this.parseAll(chunk, out);
        if (off < chunk.length) this.append(chunk, off);
      } else {
        this.append(chunk, 0);
        if (this.accLen < this.need) return out;
        const off = this.parseAll(this.acc.subarray(0, this.accLen), out);
        if (off === this.accLen) {
          this.accLen = 0;
          if (this.acc.length > RELEASE_BYTES) this.acc = EMPTY;
        } else if (off > 0) {
          this.acc.copyWithin(0, off, this.accLen);
          this.accLen -= off;
        }
      }
    } catch (e) {
      this.fail(out, e);
    }
    return out;
  }

  /** Parse whole frames from `buf`; returns the offset of the first unparsed byte and sets `need`. */
  private parseAll(buf: Buffer, out: LumberjackFrame[]): number {
    let off = 0;
    this.need = 0;
    while (off < buf.length) {
      const r = this.parseFrame(buf, off, out, 0, { left: this.maxInflatedBytes });
      if (r < 0) {
        this.need = -r;
        break;
      }
      off += r;
    }
    return off;
  }

  /** Append src[from..] to acc, growing it geometrically. */
  private append(src: Buffer, from: number): void {
    const n = src.length - from;
    const needed = this.accLen + n;
    if (needed > this.acc.length) {
      const grown = Math.max(needed, Math.min(Math.max(this.acc.length * 2, 1024), Math.max(this.need, needed)));
      const next = Buffer.allocUnsafe(grown);
      this.acc.copy(next, 0, 0, this.accLen);
      this.acc = next;
    }
    src.copy(this.acc, this.accLen, from);
    this.accLen = needed;
  }

  /**
   * The connection ended. Returns a fatal error frame if a partial frame was
   * pending (a truncated frame), else nothing. The decoder is closed after.
   */
  end(): LumberjackFrame[] {
    const out: LumberjackFrame[] = [];
    if (!this.isClosed && this.accLen > 0) {
      out.push({ type: 'error', fatal: true, message: `lumberjack: connection ended inside a frame (${this.accLen} bytes pending)` });
    }
    this.close();
    return out;
  }

  private close(): void {
    this.isClosed = true;
    this.acc = EMPTY;
    this.accLen = 0;
    this.need = 0;
  }

  private fail(out: LumberjackFrame[], e: unknown): void {
    const message =
      e instanceof FramingError ? e.message : `lumberjack: internal decoder error (${e instanceof Error ? e.message : String(e)})`;
    out.push({ type: 'error', fatal: true, message });
    this.close();
  }

  /**
   * Parse one frame at `off`. Returns bytes consumed (> 0) and appends frames
   * to `out`, or returns -(total bytes needed from `off`) when `buf` ends
   * inside the frame. Throws FramingError on a protocol error.
   */
  private parseFrame(
    buf: Buffer,
    off: number,
    out: LumberjackFrame[],
    depth: number,
    budget: { left: number },
  ): number {
    const avail = buf.length - off;
    if (avail < 2) return -2;
    const vb = buf[off]!;
    if (vb !== V1 && vb !== V2) {
      throw new FramingError(`lumberjack: bad version byte ${hexByte(vb)} (expected '1' or '2')`);
    }
    const version: LumberjackVersion = vb === V1 ? 1 : 2;
    const type = buf[off + 1]!;

    switch (type) {
      case T_WINDOW: {
        if (avail < 6) return -6;
        const size = buf.readUInt32BE(off + 2);
        if (size > this.maxWindow) {
          throw new FramingError(`lumberjack: window size ${size} exceeds the maximum ${this.maxWindow}`);
        }
        out.push({ type: 'window', version, size });
        return 6;
      }
      case T_ACK: {
        if (!this.allowAck) throw new FramingError(`lumberjack: unexpected ACK frame from a client`);
        if (avail < 6) return -6;
        out.push({ type: 'ack', version, seq: buf.readUInt32BE(off + 2) });
        return 6;
      }
      case T_JSON: {
        if (avail < 10) return -10;
        const seq = buf.readUInt32BE(off + 2);
        const len = buf.readUInt32BE(off + 6);
        if (len > this.maxFrameBytes) {
          throw new FramingError(`lumberjack: JSON frame length ${len} exceeds the ${this.maxFrameBytes}-byte limit`);
        }
        const total = 10 + len;
        if (avail < total) return -total;
        out.push(decodeJsonEvent(buf, off + 10, off + total, version, seq));
        return total;
      }
      case T_DATA:
        return this.parseDataFrame(buf, off, out, version);
      case T_COMPRESSED: {
        if (avail < 6) return -6;
        const len = buf.readUInt32BE(off + 2);
        if (len > this.maxFrameBytes) {
          throw new FramingError(`lumberjack: compressed frame length ${len} exceeds the ${this.maxFrameBytes}-byte limit`);
        }
        const total = 6 + len;
        if (avail < total) return -total;
        if (depth + 1 > MAX_COMPRESSION_DEPTH) {
          throw new FramingError(`lumberjack: compressed frames nested more than ${MAX_COMPRESSION_DEPTH} deep`);
        }
        let inflated: Buffer;
        try {
          inflated = inflateSync(buf.subarray(off + 6, off + total), { maxOutputLength: Math.max(1, budget.left) });
        } catch (e) {
          const err = e as { code?: unknown; message?: unknown };
          if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
            throw new FramingError(`lumberjack: compressed frame inflates beyond the ${this.maxInflatedBytes}-byte limit`);
          }
          throw new FramingError(
            `lumberjack: compressed frame does not inflate (${typeof err.message === 'string' ? err.message : String(e)})`,
          );
        }
        budget.left -= inflated.length;
        // Atomic: collect inner frames apart, publish them only on success.
        const inner: LumberjackFrame[] = [];
        let p = 0;
        while (p < inflated.length) {
          const r = this.parseFrame(inflated, p, inner, depth + 1, budget);
          if (r < 0) {
            throw new FramingError(
              `lumberjack: compressed frame ends inside a frame (${inflated.length - p} of at least ${-r} bytes)`,
            );
          }
          p += r;
        }
        for (let i = 0; i < inner.length; i++) out.push(inner[i]!);
        return total;
      }
      default:
        throw new FramingError(`lumberjack: unknown frame type ${frameTypeName(type)}`);
    }
  }

  /**
   * v1 data frame: seq, pair count, then (key len, key, value len, value)*.
   * When incomplete, returns a lower bound of the frame's total length (each
   * remaining pair needs at least 8 bytes) so a slowly arriving frame is not
   * re-parsed for every small chunk.
   */
  private parseDataFrame(buf: Buffer, off: number, out: LumberjackFrame[], version: LumberjackVersion): number {
    const end = buf.length;
    if (end - off < 10) return -10;
    const seq = buf.readUInt32BE(off + 2);
    const pairs = buf.readUInt32BE(off + 6);
    const max = this.maxFrameBytes;
    if (pairs > Math.floor(max / 8)) {
      throw new FramingError(`lumberjack: data frame pair count ${pairs} exceeds what the ${max}-byte limit allows`);
    }
    let p = off + 10;
    const event: Record<string, unknown> = {};
    const limit = max + 10;
    /** Fails when the frame is known to need more than the limit; else returns -n. */
    const bound = (n: number): number => {
      if (n > limit) throw new FramingError(`lumberjack: data frame exceeds the ${max}-byte limit`);
      return -n;
    };
    for (let i = 0; i < pairs; i++) {
      const after = (pairs - i - 1) * 8; // minimum size of the pairs after this one
      // key
      if (end - p < 4) return bound(p - off + 8 + after);
      const klen = buf.readUInt32BE(p);
      const keyEnd = p + 4 + klen;
      bound(keyEnd - off + 4 + after);
      if (keyEnd > end) return bound(keyEnd - off + 4 + after);
      const key = buf.toString('utf8', p + 4, keyEnd);
      p = keyEnd;
      // value
      if (end - p < 4) return bound(p - off + 4 + after);
      const vlen = buf.readUInt32BE(p);
      const valEnd = p + 4 + vlen;
      bound(valEnd - off + after);
      if (valEnd > end) return bound(valEnd - off + after);
      setKey(event, key, buf.toString('utf8', p + 4, valEnd));
      p = valEnd;
    }
    out.push({ type: 'data', version, seq, event });
    return p - off;
  }
}

function decodeJsonEvent(buf: Buffer, start: number, end: number, version: LumberjackVersion, seq: number): LumberjackFrame {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8', start, end));
  } catch (e) {
    return {
      type: 'error',
      fatal: false,
      version,
      seq,
      message: `lumberjack: invalid JSON in data frame seq ${seq} (${e instanceof Error ? e.message : String(e)})`,
    };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return {
      type: 'error',
      fatal: false,
      version,
      seq,
      message: `lumberjack: data frame seq ${seq} holds ${v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}, not a JSON object`,
    };
  }
  return { type: 'data', version, seq, event: v as Record<string, unknown> };
}

// ---------------------------------------------------------------------------
// Encoders. These throw RangeError/TypeError on invalid arguments (they are
// for trusted callers: tests and Logmill's own agent).

function checkUint32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > UINT32_MAX) throw new RangeError(`${name} must be a uint32, got ${n}`);
}

function versionByte(version: LumberjackVersion): number {
  if (version === 1) return V1;
  if (version === 2) return V2;
  throw new RangeError(`lumberjack version must be 1 or 2, got ${String(version)}`);
}

function header6(version: LumberjackVersion, type: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b[0] = versionByte(version);
  b[1] = type;
  b.writeUInt32BE(n, 2);
  return b;
}

/** ACK frame (server → client): acknowledges every event up to `seq`. */
export function encodeAck(version: LumberjackVersion, seq: number): Buffer {
  checkUint32('seq', seq);
  return header6(version, T_ACK, seq);
}

/** Window frame: the client will send `n` events before waiting for an ACK. */
export function encodeWindow(version: LumberjackVersion, n: number): Buffer {
  checkUint32('window size', n);
  return header6(version, T_WINDOW, n);
}

/** v2 JSON data frame ('2' 'J'). `obj` is serialized with JSON.stringify. */
export function encodeJsonFrame(seq: number, obj: unknown): Buffer {
  checkUint32('seq', seq);
  const json = JSON.stringify(obj);
  if (typeof json !== 'string') throw new TypeError('encodeJsonFrame: value is not JSON-serializable');
  const len = Buffer.byteLength(json, 'utf8');
  const b = Buffer.allocUnsafe(10 + len);
  b[0] = V2;
  b[1] = T_JSON;
  b.writeUInt32BE(seq, 2);
  b.writeUInt32BE(len, 6);
  b.write(json, 10, 'utf8');
  return b;
}

/** Compressed frame wrapping already-encoded frames (zlib, as go-lumber does). */
export function encodeCompressed(frames: Buffer, version: LumberjackVersion = 2, level = 6): Buffer {
  const z = deflateSync(frames, { level });
  const b = Buffer.allocUnsafe(6 + z.length);
  b[0] = versionByte(version);
  b[1] = T_COMPRESSED;
  b.writeUInt32BE(z.length, 2);
  z.copy(b, 6);
  return b;
}

/** v1 data frame ('1' 'D') from string key/value pairs. */
export function encodeV1DataFrame(
  seq: number,
  pairs: Record<string, string> | ReadonlyArray<readonly [string, string]>,
): Buffer {
  checkUint32('seq', seq);
  const list: ReadonlyArray<readonly [string, string]> = Array.isArray(pairs)
    ? (pairs as ReadonlyArray<readonly [string, string]>)
    : Object.entries(pairs as Record<string, string>);
  let size = 10;
  for (const [k, v] of list) size += 8 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(String(v), 'utf8');
  const b = Buffer.allocUnsafe(size);
  b[0] = V1;
  b[1] = T_DATA;
  b.writeUInt32BE(seq, 2);
  b.writeUInt32BE(list.length, 6);
  let p = 10;
  for (const [k, v] of list) {
    const kl = b.write(k, p + 4, 'utf8');
    b.writeUInt32BE(kl, p);
    p += 4 + kl;
    const vl = b.write(String(v), p + 4, 'utf8');
    b.writeUInt32BE(vl, p);
    p += 4 + vl;
  }
  return b;
}

// ---------------------------------------------------------------------------
// Beats event → Logmill fields.

const MAX_FLATTEN_DEPTH = 32;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flattenInto(out: Record<string, unknown>, prefix: string, obj: Record<string, unknown>, depth: number): void {
  for (const k of Object.keys(obj)) {
    const name = prefix === '' ? k : `${prefix}.${k}`;
    const v = obj[k];
    if (isPlainObject(v)) {
      if (depth >= MAX_FLATTEN_DEPTH) {
        let text: string;
        try {
          text = JSON.stringify(v);
        } catch {
          text = '[unserializable]';
        }
        setKey(out, name, text);
      } else {
        flattenInto(out, name, v, depth + 1);
      }
    } else {
      setKey(out, name, v);
    }
  }
}

/**
 * Map a Beats (or v1 lumberjack) event to flat Logmill fields.
 *   - Objects are flattened with dots: {log: {file: {path}}} → "log.file.path",
 *     {"@metadata": {beat}} → "@metadata.beat". Arrays and scalars are kept
 *     as they are (arrays are not exploded). Empty objects vanish.
 *   - "@timestamp" and "message" are kept as given (strings from Filebeat).
 *   - host: when "host.name" is a string, "host" is set to it (and
 *     "host.name" is kept); a string "host" (older Beats, v1) stays.
 *   - source: set to "log.file.path" when that is a string and no "source"
 *     is present (Filebeat 6 sent "source" itself; it is kept).
 *   - v1 events (string pairs from logstash-forwarder): "line" becomes
 *     "message" and "file" becomes "source" when those are absent; the
 *     original keys are kept.
 *   - Objects nested more than 32 deep are kept as JSON text.
 */
export function beatsEventToFields(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  flattenInto(out, '', event, 1);
  const hostName = out['host.name'];
  if (typeof hostName === 'string') out['host'] = hostName;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(out, k);
  const path = out['log.file.path'];
  if (typeof path === 'string' && !has('source')) out['source'] = path;
  if (!has('message') && typeof out['line'] === 'string') out['message'] = out['line'];
  if (!has('source') && typeof out['file'] === 'string') out['source'] = out['file'];
  return out;
}
