/**
 * One file the file input follows: an open handle on one inode, the offset delivered so far and the
 * bytes read past it that do not yet end in the delimiter.
 *
 * Lines come out with the offset just past their delimiter, so the input can record exactly what was
 * delivered once `emit` resolves; a partial last line is read again by the next run.
 */
import fs from 'node:fs/promises';
import type { FileKey } from './sincedb.js';

const CHUNK_BYTES = 64 * 1024;

export interface Line {
  readonly text: string;
  /** Where the next line starts: the offset to record once this line is delivered. */
  readonly end: number;
  /** The line was longer than max_line_bytes and holds only its first bytes. */
  readonly truncated: boolean;
}

export class TailedFile {
  private handle: fs.FileHandle | null = null;
  /** Bytes of the file consumed into lines and the pending part: the next read starts here. */
  private readAt: number;
  private pending: Buffer = Buffer.alloc(0);
  /** In an over-long line: bytes are dropped until its delimiter. */
  private skipping = false;
  /** Delivered (or, before anything is read, where reading starts). */
  delivered: number;
  /** The last time (ms) the file grew or was read. */
  lastActivity = Date.now();
  /** Gone from under its name (renamed by a rotation, or deleted): read to its end, then dropped. */
  rotatedAway = false;

  constructor(
    readonly key: FileKey,
    public path: string,
    start: number,
    private readonly delimiter: Buffer,
    private readonly maxLineBytes: number,
  ) {
    this.readAt = start;
    this.delivered = start;
  }

  get isOpen(): boolean {
    return this.handle !== null;
  }

  async open(): Promise<boolean> {
    if (this.handle) return true;
    try {
      this.handle = await fs.open(this.path, 'r');
    } catch {
      return false;
    }
    // The name may already point at another file: only the inode this watch stands for is read.
    const stat = await this.handle.stat({ bigint: true });
    if (`${stat.dev}:${stat.ino}` !== this.key) {
      await this.close();
      return false;
    }
    return true;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
  }

  /** The open file's size, or null when closed. */
  async size(): Promise<number | null> {
    if (!this.handle) return null;
    return Number((await this.handle.stat()).size);
  }

  /** The file shrank below what was read (copytruncate): start again from its beginning. */
  restartFromZero(): void {
    this.readAt = 0;
    this.delivered = 0;
    this.pending = Buffer.alloc(0);
    this.skipping = false;
  }

  /** Drops what was read but not delivered, so that the next read starts at the delivered offset. */
  rewindToDelivered(): void {
    this.readAt = this.delivered;
    this.pending = Buffer.alloc(0);
    this.skipping = false;
  }

  /** Reads up to `budget` bytes and returns the whole lines found; an empty list at the end of the file. */
  async readLines(budget: number): Promise<Line[]> {
    if (!this.handle) return [];
    const lines: Line[] = [];
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let read = 0;
    while (read < budget && lines.length === 0) {
      const { bytesRead } = await this.handle.read(chunk, 0, CHUNK_BYTES, this.readAt);
      if (bytesRead === 0) break;
      read += bytesRead;
      this.lastActivity = Date.now();
      const givenBack = this.consume(chunk.subarray(0, bytesRead), lines);
      // Only the start of a delimiter was read again, and nothing after it yet: wait for more.
      if (givenBack === bytesRead) break;
    }
    return lines;
  }

  /** Cuts lines out of what was read; answers how many bytes at its end are to be read again. */
  private consume(bytes: Buffer, lines: Line[]): number {
    const base = this.readAt;
    this.readAt += bytes.length;
    let from = 0;
    for (;;) {
      const at = bytes.indexOf(this.delimiter, from);
      if (at < 0) break;
      const end = base + at + this.delimiter.length;
      if (this.skipping) {
        lines.push({ text: this.text(this.pending), end, truncated: true });
        this.skipping = false;
      } else {
        const line = this.pending.length > 0 ? Buffer.concat([this.pending, bytes.subarray(from, at)]) : bytes.subarray(from, at);
        if (line.length > this.maxLineBytes) lines.push({ text: this.text(line.subarray(0, this.maxLineBytes)), end, truncated: true });
        else lines.push({ text: this.text(line), end, truncated: false });
      }
      this.pending = Buffer.alloc(0);
      from = at + this.delimiter.length;
    }
    if (this.skipping) {
      // Dropped, but a delimiter begun at the very end must still be found whole on the next read.
      const n = this.delimiter.length > 1 ? this.partialDelimiterAtEnd(bytes.subarray(from)) : 0;
      this.readAt -= n;
      return n;
    }
    const rest = bytes.subarray(from);
    this.pending = Buffer.concat([this.pending, rest]);
    if (this.pending.length > this.maxLineBytes + this.delimiter.length) {
      // Too long already: its first bytes are kept, the rest dropped up to its delimiter.
      const n = this.delimiter.length > 1 ? this.partialDelimiterAtEnd(rest) : 0;
      this.pending = Buffer.from(this.pending.subarray(0, this.maxLineBytes));
      this.skipping = true;
      this.readAt -= n;
      return n;
    }
    return this.delimiter.length > 1 && this.pending.length > 0 ? this.carrySplitDelimiter() : 0;
  }

  /**
   * With a delimiter longer than one byte, its first bytes may end this read and its last the next:
   * those bytes are given back to the file so that the next read sees the delimiter whole.
   */
  private carrySplitDelimiter(): number {
    const n = this.partialDelimiterAtEnd(this.pending);
    this.pending = this.pending.subarray(0, this.pending.length - n);
    this.readAt -= n;
    return n;
  }

  /** How many bytes at the end of `bytes` are the first bytes of the delimiter. */
  private partialDelimiterAtEnd(bytes: Buffer): number {
    for (let n = Math.min(this.delimiter.length - 1, bytes.length); n > 0; n--) {
      if (bytes.subarray(bytes.length - n).equals(this.delimiter.subarray(0, n))) return n;
    }
    return 0;
  }

  private text(bytes: Buffer): string {
    const text = bytes.toString('utf8');
    // Lines written on Windows end in CRLF: the CR is not part of the message (as the line codec does).
    return this.delimiter.length === 1 && this.delimiter[0] === 0x0a && text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}
