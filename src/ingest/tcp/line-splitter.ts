/**
 * Splits a byte stream into lines of at most `maxLineBytes`. A longer line is
 * cut at the limit, reported as truncated, and the rest of it skipped up to
 * the next newline, so one huge line never holds more than the limit in memory.
 *
 * Lines are reported as a range of a buffer, not as a Buffer of their own: a
 * line that lies within one pushed chunk is `chunk[start, end)` (no copy, no
 * view object: this runs for every event); only a line that spans chunks is
 * joined into a new buffer. The callback must not keep `buf` beyond the call
 * unless it copies it, and callers must not reuse a chunk's memory after
 * pushing it (sockets never do).
 */
export type OnLine = (buf: Buffer, start: number, end: number, truncated: boolean) => void;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Whether the stream is inside a line begun in an earlier chunk (being gathered or skipped). */
  get inLine(): boolean {
    return this.partBytes > 0 || this.skipping;
  }

  /** Calls `onLine` for every complete line in `chunk` (without `\n` / `\r\n`). */
  push(chunk: Buffer, onLine: OnLine): void {
    const n = chunk.length;
    const max = this.maxLineBytes;
    let start = 0;
    // The end of a line begun in an earlier chunk, or the rest of a truncated one.
    if (this.partBytes > 0 || this.skipping) {
      const nl = chunk.indexOf(10);
      if (this.skipping) {
        if (nl < 0) return;
        this.skipping = false;
      } else {
        this.take(nl < 0 ? chunk : chunk.subarray(0, nl), onLine);
        if (nl < 0) return;
        if (this.skipping) this.skipping = false;
        else this.emit(onLine, false);
      }
      start = nl + 1;
    }
    // Lines wholly within this chunk.
    while (start < n) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > max) {
        onLine(chunk, start, start + max, true);
      } else {
        const end = nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl;
        onLine(chunk, start, end, false);
      }
      start = nl + 1;
    }
    // The beginning of a line that goes on in the next chunk.
    if (start < n) this.take(start === 0 ? chunk : chunk.subarray(start), onLine);
  }

  /** At end of stream: a final line without a newline still counts. */
  end(onLine: OnLine): void {
    if (this.partBytes > 0 && !this.skipping) this.emit(onLine, false);
    this.parts = [];
    this.partBytes = 0;
  }

  private take(piece: Buffer, onLine: OnLine): void {
    const room = this.maxLineBytes - this.partBytes;
    if (piece.length <= room) {
      if (piece.length > 0) {
        this.parts.push(piece);
        this.partBytes += piece.length;
      }
      return;
    }
    this.parts.push(piece.subarray(0, room));
    this.partBytes += room;
    this.emit(onLine, true);
    this.skipping = true;
  }

  private emit(onLine: OnLine, truncated: boolean): void {
    const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
    let end = line.length;
    if (!truncated && end > 0 && line[end - 1] === 13) end--;
    this.parts = [];
    this.partBytes = 0;
    onLine(line, 0, end, truncated);
  }
}
