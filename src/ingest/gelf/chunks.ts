/**
 * Reassembly of chunked GELF (UDP) messages. Pure: the caller passes the
 * clock (`now`, milliseconds) and calls `expire(now)` periodically.
 *
 * Chunk layout (GELF 1.1):
 *   0x1e 0x0f | message id (8 bytes) | seq number (1) | seq count (1) | payload
 * A message has 1..128 chunks; seq number < seq count.
 *
 * Behaviour:
 *   - A datagram without the chunk magic is returned as-is (pass-through);
 *     its decoding (gzip/zlib/plain) is decodeGelfPayload's job.
 *   - A chunk of a 1-chunk message is returned at once (no copy).
 *   - When the last missing chunk arrives, the payload is concatenated in
 *     sequence order and returned; the message is forgotten.
 *   - A duplicate chunk (same id and seq number) is ignored (first copy wins)
 *     and counted in `duplicates`; push returns null.
 *   - A chunk whose seq count disagrees with the message's first chunk is
 *     refused ({error}, counted `invalid`); the message itself is kept.
 *   - Malformed chunks (short header, count 0 or > maxChunks, seq >= count)
 *     are refused ({error}, counted `invalid`).
 *   - `expire(now)` drops incomplete messages whose first chunk arrived more
 *     than `timeoutMs` ago (counted `expired`). A chunk arriving for such a
 *     message before expire() ran also drops it first and starts afresh.
 *   - Memory is bounded: before tracking a new message beyond `maxMessages`,
 *     or new bytes beyond `maxBytes`, the oldest incomplete messages are
 *     evicted (counted `evicted`). `pendingBytes` is the sum of the lengths of
 *     the datagrams held (the chunk payloads are views into them).
 *
 * Timeouts are measured from a message's first chunk, as Graylog does.
 */

const MAGIC_0 = 0x1e;
const MAGIC_1 = 0x0f;
const HEADER_BYTES = 12;
/** GELF's own hard limit on chunks per message. */
export const GELF_MAX_CHUNKS = 128;

export interface GelfChunkAssemblerOptions {
  /** Incomplete messages older than this (from their first chunk) are dropped by expire(). Default 5000. */
  timeoutMs?: number;
  /** Most incomplete messages tracked at once. Default 1000. */
  maxMessages?: number;
  /** Most datagram bytes held for incomplete messages. Default 32 MiB. */
  maxBytes?: number;
  /** Most chunks per message accepted (1..128). Default 128. */
  maxChunks?: number;
}

export type GelfChunkResult = Buffer | null | { error: string };

interface Pending {
  count: number;
  received: number;
  bytes: number;
  firstSeen: number;
  /** Chunk payloads by seq number; views into the datagrams. */
  parts: (Buffer | undefined)[];
}

export class GelfChunkAssembler {
  readonly timeoutMs: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxChunks: number;

  /** Messages reassembled from more than one chunk, or from a 1-chunk chunked datagram. */
  completed = 0;
  /** Incomplete messages dropped because they timed out. */
  expired = 0;
  /** Incomplete messages dropped to stay within maxMessages / maxBytes. */
  evicted = 0;
  /** Datagrams refused (malformed chunk, inconsistent count, empty datagram). */
  invalid = 0;
  /** Chunks ignored because that seq number was already held. */
  duplicates = 0;
  /** Non-chunked datagrams passed through. */
  passthrough = 0;

  /** Incomplete messages by id; Map iteration order = arrival order of first chunk. */
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;

  constructor(options: GelfChunkAssemblerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxMessages = Math.max(1, options.maxMessages ?? 1000);
    this.maxBytes = Math.max(1, options.maxBytes ?? 32 * 1024 * 1024);
    this.maxChunks = Math.min(GELF_MAX_CHUNKS, Math.max(1, options.maxChunks ?? GELF_MAX_CHUNKS));
  }

  /** Bytes currently held for incomplete messages (bounded by maxBytes). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Number of incomplete messages currently tracked (bounded by maxMessages). */
  get pendingMessages(): number {
    return this.pending.size;
  }

  /**
   * Feed one datagram. Returns the complete payload (Buffer) when a message
   * is complete or the datagram is not chunked, null when more chunks are
   * needed, or {error} for a refused datagram. Never throws.
   */
  push(datagram: Buffer, now: number): GelfChunkResult {
    if (datagram.length === 0) {
      this.invalid++;
      return { error: 'GELF chunk: empty datagram' };
    }
    if (datagram.length < 2 || datagram[0] !== MAGIC_0 || datagram[1] !== MAGIC_1) {
      this.passthrough++;
      return datagram;
    }
    if (datagram.length < HEADER_BYTES) {
      this.invalid++;
      return { error: `GELF chunk: datagram of ${datagram.length} bytes is shorter than the 12-byte chunk header` };
    }
    const seq = datagram[10]!;
    const count = datagram[11]!;
    if (count === 0 || count > this.maxChunks) {
      this.invalid++;
      return { error: `GELF chunk: sequence count ${count} out of range (1..${this.maxChunks})` };
    }
    if (seq >= count) {
      this.invalid++;
      return { error: `GELF chunk: sequence number ${seq} not below sequence count ${count}` };
    }
    if (count === 1) {
      this.completed++;
      return datagram.subarray(HEADER_BYTES);
    }

    const id = datagram.toString('latin1', 2, 10);
    let msg = this.pending.get(id);
    if (msg !== undefined && now - msg.firstSeen > this.timeoutMs) {
      this.drop(id, msg);
      this.expired++;
      msg = undefined;
    }

    const size = datagram.length;
    if (size > this.maxBytes) {
      this.invalid++;
      return { error: `GELF chunk: datagram of ${size} bytes exceeds the ${this.maxBytes}-byte reassembly budget` };
    }

    if (msg !== undefined) {
      if (msg.count !== count) {
        this.invalid++;
        return {
          error: `GELF chunk: sequence count ${count} differs from ${msg.count} announced by earlier chunks of the same message`,
        };
      }
      if (msg.parts[seq] !== undefined) {
        this.duplicates++;
        return null;
      }
      if (this.bytes + size > this.maxBytes) {
        this.evictFor(size, id);
        if (this.bytes + size > this.maxBytes) {
          // Only this message is left and it alone would exceed the budget.
          this.drop(id, msg);
          this.evicted++;
          return { error: `GELF chunk: message exceeds the ${this.maxBytes}-byte reassembly budget` };
        }
      }
    } else {
      while (this.pending.size >= this.maxMessages) this.evictOldest();
      if (this.bytes + size > this.maxBytes) this.evictFor(size, undefined);
      msg = { count, received: 0, bytes: 0, firstSeen: now, parts: new Array<Buffer | undefined>(count) };
      this.pending.set(id, msg);
    }

    msg.parts[seq] = datagram.subarray(HEADER_BYTES);
    msg.received++;
    msg.bytes += size;
    this.bytes += size;

    if (msg.received < msg.count) return null;

    this.drop(id, msg);
    this.completed++;
    let total = 0;
    const parts = msg.parts as Buffer[];
    for (let i = 0; i < parts.length; i++) total += parts[i]!.length;
    return Buffer.concat(parts, total);
  }

  /** Drop incomplete messages older than the timeout; returns how many were dropped. */
  expire(now: number): number {
    let n = 0;
    for (const [id, msg] of this.pending) {
      if (now - msg.firstSeen > this.timeoutMs) {
        this.drop(id, msg);
        n++;
      }
    }
    this.expired += n;
    return n;
  }

  /** Forget every incomplete message (not counted). */
  clear(): void {
    this.pending.clear();
    this.bytes = 0;
  }

  private drop(id: string, msg: Pending): void {
    this.pending.delete(id);
    this.bytes -= msg.bytes;
  }

  private evictOldest(): void {
    const first = this.pending.entries().next();
    if (first.done === true) return;
    const [id, msg] = first.value;
    this.drop(id, msg);
    this.evicted++;
  }

  /** Evict oldest messages (other than `keep`) until `size` more bytes fit. */
  private evictFor(size: number, keep: string | undefined): void {
    for (const [id, msg] of this.pending) {
      if (this.bytes + size <= this.maxBytes) return;
      if (id === keep) continue;
      this.drop(id, msg);
      this.evicted++;
    }
  }
}
