/**
 * RFC 6587 syslog-over-TCP framing as an incremental decoder.
 *
 * Both framings are detected per message, without configuration:
 *  - octet counting (RFC 6587 3.4.1, RFC 5425): `MSG-LEN SP SYSLOG-MSG`, used
 *    when a frame starts with a run of digits followed by SP;
 *  - non-transparent (RFC 6587 3.4.2): anything else (normally starting with
 *    `<`), ended by LF or NUL; a CR right before the LF is dropped (CRLF).
 * CR, LF and NUL between frames are skipped, so `\n` after an octet-counted
 * frame, blank lines and CRLF pairs are harmless.
 *
 * Consequence of the detection rule: a PRI-less message that starts with
 * digits and a space (`2026 Feb  5 ...`) is taken as octet-counted.
 *
 * Limits, reported as data (push() and end() never throw):
 *  - A message longer than maxMessageBytes is delivered truncated to
 *    maxMessageBytes with `truncated: true`; the rest of it is skipped
 *    (octet counting: the declared length; non-transparent: up to the LF).
 *    Memory held per connection is bounded by maxMessageBytes.
 *  - A length prefix of more than 10 digits or above maxOctetCount (default
 *    max(64 x maxMessageBytes, 256 MiB)) is not believed: the frame is read
 *    as non-transparent instead (prefix included in `data`), with
 *    `error: 'invalid_length_prefix'`. Nothing is allocated from the prefix.
 *  - end() flushes an unterminated non-transparent message (normal, no error)
 *    or an incomplete octet-counted one (`truncated: true`,
 *    `error: 'incomplete_frame'`).
 *  - A zero length prefix (`0 `) is an empty frame and is skipped.
 *
 * Allocation: a frame that lies entirely within one pushed chunk is delivered
 * as a zero-copy view (`subarray`) of that chunk, so callers must not reuse or
 * mutate a chunk's memory after pushing it (sockets never do). A frame that
 * spans chunks is accumulated in a reusable internal buffer and delivered as
 * one exact-size copy. The decoder keeps no reference to pushed chunks after
 * push() returns. Frames go to the `onFrame` callback synchronously from
 * push()/end(), in stream order; no arrays are built. If onFrame throws, the
 * exception propagates out of push() and the rest of that chunk is dropped.
 */

export type SyslogFraming = 'octet-counting' | 'non-transparent';

export type SyslogFrameError =
  /** the frame started like an octet count but the count was not believable; read as LF-delimited */
  | 'invalid_length_prefix'
  /** end() arrived before all the octets an octet-counted frame declared */
  | 'incomplete_frame';

export interface SyslogFrame {
  /** The message bytes (without length prefix or trailer), at most maxMessageBytes. */
  data: Buffer;
  /** The message was longer than maxMessageBytes (or incomplete at end()); `data` is its beginning. */
  truncated: boolean;
  framing: SyslogFraming;
  /** Length of the whole message as sent: the declared MSG-LEN, or the bytes counted up to the trailer. */
  byteLength: number;
  error?: SyslogFrameError;
}

export interface SyslogFrameDecoderOptions {
  /** Longest message delivered whole; longer ones are truncated. Positive integer. */
  maxMessageBytes: number;
  /** Called once per frame, synchronously, from push() or end(). */
  onFrame?: (frame: SyslogFrame) => void;
  /**
   * Instead of onFrame, for the inputs' hot path: each message as a range of a
   * buffer, `buf[start, end)`, without a view or a frame object per message.
   * `buf` is a pushed chunk or a copy the decoder will not touch again.
   */
  onMessage?: (buf: Buffer, start: number, end: number, truncated: boolean) => void;
  /** Largest believable octet count (default max(64 x maxMessageBytes, 256 MiB)). */
  maxOctetCount?: number;
}

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;
const D0 = 48;
const D9 = 57;

const MAX_PREFIX_DIGITS = 10;
/** Accumulators larger than this are released after each frame instead of being reused. */
const KEEP_ACC_BYTES = 64 * 1024;

const S_START = 0;
const S_DIGITS = 1;
const S_OCTETS = 2;
const S_LINE = 3;

export class SyslogFrameDecoder {
  readonly maxMessageBytes: number;
  readonly maxOctetCount: number;
  private readonly onFrame: (frame: SyslogFrame) => void;
  private readonly onMessage: ((buf: Buffer, start: number, end: number, truncated: boolean) => void) | null;

  private state = S_START;
  /** digits of a possible length prefix, kept in case the frame turns out LF-delimited */
  private readonly digitBuf = Buffer.alloc(MAX_PREFIX_DIGITS);
  private digitCount = 0;
  private digitValue = 0;
  /** S_OCTETS: octets still to read; declared: the MSG-LEN */
  private remaining = 0;
  private declared = 0;
  /** bytes of the current frame seen so far in earlier chunks (all of them in acc, up to the limit) */
  private frameLen = 0;
  /** S_LINE: the last byte seen in earlier chunks was CR */
  private lastCR = false;
  private lineError: SyslogFrameError | undefined = undefined;
  private acc: Buffer | null = null;
  private accLen = 0;

  constructor(opts: SyslogFrameDecoderOptions) {
    const max = opts.maxMessageBytes;
    if (typeof max !== 'number' || !Number.isFinite(max) || max < 1) {
      throw new RangeError(`maxMessageBytes must be a positive number, got ${String(max)}`);
    }
    const onMessage = typeof opts.onMessage === 'function' ? opts.onMessage : null;
    if (typeof opts.onFrame !== 'function' && onMessage === null) throw new TypeError('onFrame must be a function');
    this.maxMessageBytes = Math.floor(max);
    const oc = opts.maxOctetCount;
    this.maxOctetCount =
      typeof oc === 'number' && oc >= 1 ? Math.floor(oc) : Math.max(this.maxMessageBytes * 64, 256 * 1024 * 1024);
    this.onMessage = onMessage;
    this.onFrame = onMessage !== null ? (f) => onMessage(f.data, 0, f.data.length, f.truncated) : (opts.onFrame as (frame: SyslogFrame) => void);
  }

  /** Feeds bytes; complete frames are delivered to onFrame before this returns. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    const max = this.maxMessageBytes;
    let i = 0;
    /** where the current frame's bytes begin in this chunk; -1: they begin in acc */
    let fs = -1;
    // cached positions of the next LF / NUL at or after i (-1: none left in chunk; -2: not searched)
    let nextLF = -2;
    let nextNUL = -2;

    while (i < n) {
      switch (this.state) {
        case S_START: {
          const b = chunk[i] as number;
          if (b === LF || b === CR || b === NUL) {
            i++;
            break;
          }
          this.frameLen = 0;
          this.accLen = 0;
          fs = i;
          if (b >= D0 && b <= D9) {
            this.state = S_DIGITS;
            this.digitCount = 0;
            this.digitValue = 0;
          } else {
            this.state = S_LINE;
            this.lastCR = false;
            this.lineError = undefined;
          }
          break;
        }

        case S_DIGITS: {
          const b = chunk[i] as number;
          if (b >= D0 && b <= D9) {
            if (this.digitCount === MAX_PREFIX_DIGITS) {
              fs = this.digitsToLine(fs, 'invalid_length_prefix');
              break;
            }
            this.digitBuf[this.digitCount++] = b;
            this.digitValue = this.digitValue * 10 + (b - D0);
            i++;
            break;
          }
          if (b === SP) {
            if (this.digitValue > this.maxOctetCount) {
              fs = this.digitsToLine(fs, 'invalid_length_prefix');
              break;
            }
            i++;
            if (this.digitValue === 0) {
              this.state = S_START;
              break;
            }
            this.state = S_OCTETS;
            this.declared = this.digitValue;
            this.remaining = this.digitValue;
            this.frameLen = 0;
            this.accLen = 0;
            fs = i;
            break;
          }
          fs = this.digitsToLine(fs, undefined);
          break;
        }

        case S_OCTETS: {
          const avail = n - i;
          if (avail < this.remaining) {
            // frame continues in a later chunk
            if (fs < 0) this.append(chunk, i, n);
            else this.append(chunk, fs, n);
            this.remaining -= avail;
            i = n;
            fs = -1;
            break;
          }
          const stop = i + this.remaining;
          const declared = this.declared;
          let data: Buffer;
          if (fs >= 0 && this.onMessage !== null) {
            const from = fs;
            i = stop;
            fs = -1;
            this.remaining = 0;
            this.state = S_START;
            this.onMessage(chunk, from, from + Math.min(declared, max), declared > max);
            break;
          }
          if (fs >= 0) {
            data = chunk.subarray(fs, fs + Math.min(declared, max));
          } else {
            this.append(chunk, i, stop);
            data = this.takeAcc(Math.min(declared, max));
          }
          i = stop;
          fs = -1;
          this.remaining = 0;
          this.state = S_START;
          this.onFrame({ data, truncated: declared > max, framing: 'octet-counting', byteLength: declared });
          break;
        }

        case S_LINE: {
          if (nextLF !== -1 && nextLF < i) nextLF = chunk.indexOf(LF, i);
          if (nextNUL !== -1 && nextNUL < i) nextNUL = chunk.indexOf(NUL, i);
          let t = nextLF;
          if (nextNUL >= 0 && (t < 0 || nextNUL < t)) t = nextNUL;
          if (t < 0) {
            if (fs < 0) this.append(chunk, i, n);
            else this.append(chunk, fs, n);
            this.lastCR = chunk[n - 1] === CR;
            i = n;
            fs = -1;
            break;
          }
          let total: number;
          let endsCR: boolean;
          if (fs >= 0) {
            total = t - fs;
            endsCR = total > 0 && chunk[t - 1] === CR;
          } else {
            total = this.frameLen + (t - i);
            endsCR = t > i ? chunk[t - 1] === CR : this.lastCR;
          }
          const len = endsCR ? total - 1 : total;
          if (fs >= 0 && this.onMessage !== null && this.lineError === undefined) {
            const from = fs;
            i = t + 1;
            fs = -1;
            this.state = S_START;
            this.lastCR = false;
            this.onMessage(chunk, from, from + Math.min(len, max), len > max);
            break;
          }
          let data: Buffer;
          if (fs >= 0) {
            data = chunk.subarray(fs, fs + Math.min(len, max));
          } else {
            this.append(chunk, i, t);
            data = this.takeAcc(Math.min(len, max));
          }
          const error = this.lineError;
          i = t + 1;
          fs = -1;
          this.state = S_START;
          this.lineError = undefined;
          this.lastCR = false;
          const frame: SyslogFrame = { data, truncated: len > max, framing: 'non-transparent', byteLength: len };
          if (error !== undefined) frame.error = error;
          this.onFrame(frame);
          break;
        }

        default:
          this.state = S_START;
          break;
      }
    }
    // The chunk ended inside DIGITS: the digits are in digitBuf already; nothing
    // of this chunk is referenced any more.
  }

  /** Flushes a final frame that has no trailer (or is incomplete) and resets the decoder. */
  end(): void {
    const max = this.maxMessageBytes;
    const state = this.state;
    this.state = S_START;
    if (state === S_DIGITS) {
      const len = this.digitCount;
      const data = Buffer.allocUnsafe(len);
      this.digitBuf.copy(data, 0, 0, len);
      this.onFrame({ data, truncated: false, framing: 'non-transparent', byteLength: len });
    } else if (state === S_LINE) {
      const total = this.frameLen;
      const len = this.lastCR ? total - 1 : total;
      const error = this.lineError;
      const data = this.takeAcc(Math.min(len, max));
      const frame: SyslogFrame = { data, truncated: len > max, framing: 'non-transparent', byteLength: len };
      if (error !== undefined) frame.error = error;
      this.onFrame(frame);
    } else if (state === S_OCTETS) {
      const got = this.frameLen;
      const data = this.takeAcc(Math.min(got, max));
      this.onFrame({
        data,
        truncated: true,
        framing: 'octet-counting',
        byteLength: this.declared,
        error: 'incomplete_frame',
      });
    }
    this.lineError = undefined;
    this.lastCR = false;
    this.remaining = 0;
    this.frameLen = 0;
    this.accLen = 0;
  }

  /**
   * The digits read so far belong to a non-transparent frame. Returns the new
   * frame start in the current chunk (unchanged if the digits are all in it),
   * or -1 after copying the digits into acc.
   */
  private digitsToLine(fs: number, error: SyslogFrameError | undefined): number {
    this.state = S_LINE;
    this.lastCR = false;
    this.lineError = error;
    if (fs >= 0) return fs;
    this.frameLen = 0;
    this.accLen = 0;
    this.append(this.digitBuf, 0, this.digitCount);
    return -1;
  }

  /** Counts src[from, to) into the frame and keeps what fits under maxMessageBytes. */
  private append(src: Buffer, from: number, to: number): void {
    const len = to - from;
    if (len <= 0) return;
    this.frameLen += len;
    const room = this.maxMessageBytes - this.accLen;
    if (room <= 0) return;
    const take = len < room ? len : room;
    const need = this.accLen + take;
    let acc = this.acc;
    if (acc === null || acc.length < need) {
      let cap = acc === null ? 256 : acc.length * 2;
      while (cap < need) cap *= 2;
      if (cap > this.maxMessageBytes) cap = this.maxMessageBytes;
      const grown = Buffer.allocUnsafe(cap);
      if (acc !== null && this.accLen > 0) acc.copy(grown, 0, 0, this.accLen);
      acc = grown;
      this.acc = acc;
    }
    src.copy(acc, this.accLen, from, from + take);
    this.accLen = need;
  }

  /** An exact-size copy of the first len accumulated bytes; resets acc. */
  private takeAcc(len: number): Buffer {
    const acc = this.acc;
    const n = Math.max(0, Math.min(len, this.accLen));
    const out = Buffer.allocUnsafe(n);
    if (acc !== null && n > 0) acc.copy(out, 0, 0, n);
    this.accLen = 0;
    this.frameLen = 0;
    if (acc !== null && acc.length > KEEP_ACC_BYTES) this.acc = null;
    return out;
  }
}
