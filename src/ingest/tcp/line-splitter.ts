/**
 * Splits a byte stream into lines of at most `maxLineBytes`. A longer line is
 * cut at the limit, reported as truncated, and the rest of it skipped up to
 * the next newline, so one huge line never holds more than the limit in memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Calls `onLine` for every complete line in `chunk` (without `\n` / `\r\n`). */
  push(chunk: Buffer, onLine: (line: Buffer, truncated: boolean) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.skipping) {
        if (nl >= 0) this.skipping = false;
      } else {
        this.take(chunk.subarray(start, end), onLine);
        if (nl >= 0 && !this.skipping) this.emit(onLine, false);
        else if (nl >= 0) this.skipping = false;
      }
      if (nl < 0) break;
      start = nl + 1;
    }
  }

  /** At end of stream: a final line without a newline still counts. */
  end(onLine: (line: Buffer, truncated: boolean) => void): void {
    if (this.partBytes > 0 && !this.skipping) this.emit(onLine, false);
    this.parts = [];
    this.partBytes = 0;
  }

  private take(piece: Buffer, onLine: (line: Buffer, truncated: boolean) => void): void {
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

  private emit(onLine: (line: Buffer, truncated: boolean) => void, truncated: boolean): void {
    let line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
    if (!truncated && line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    this.parts = [];
    this.partBytes = 0;
    onLine(line, truncated);
  }
}
