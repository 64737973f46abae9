/** Splits a byte stream into lines of text, keeping a partial line for the next chunk. Caps a line's length. */

export const MAX_LINE_BYTES = 1024 * 1024;

export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly delimiter = '\n') {}

  push(chunk: Buffer): string[] {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const parts = text.split(this.delimiter);
    this.pending = parts.pop() ?? '';
    // A line that never ends would grow without bound: it is cut and shipped in pieces.
    while (this.pending.length > MAX_LINE_BYTES) {
      parts.push(this.pending.slice(0, MAX_LINE_BYTES));
      this.pending = this.pending.slice(MAX_LINE_BYTES);
    }
    return parts.map(trimCarriageReturn);
  }

  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest === '' ? [] : [trimCarriageReturn(rest)];
  }
}

function trimCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
