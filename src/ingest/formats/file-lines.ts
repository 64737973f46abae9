/**
 * The lines of a log file for `logmill import`, read in 1 MiB chunks, through zlib when the file starts
 * with gzip's magic bytes (whatever its name). Memory stays bounded whatever the file holds:
 *
 *  - A line longer than `maxLineBytes` is not kept: its bytes are skipped up to its end and it comes out
 *    as `null` in its place (the caller counts it as failed), so one huge line never sits in memory.
 *  - Bytes that are not UTF-8 are decoded with U+FFFD, and the line is marked (`invalid`); a chunk of valid
 *    UTF-8 (nearly all) is decoded at once, natively checked, and split as text.
 *  - A file that grows while it is read is read to the end it has when the reader gets there (a read that
 *    returns nothing); whole lines appended before that are read once each.
 *  - The last line may lack its newline. A gzip stream that breaks off (truncated, corrupt) ends the
 *    lines at the last whole line before the break and sets `error`; the cut line after it is not given.
 *
 * Line numbers count every line, blank ones included, as an editor shows them.
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import zlib from 'node:zlib';

export interface LineChunk {
  /** The line number of `lines[0]`. */
  first: number;
  /** Lines without their `\n` / `\r\n`, blank ones included; `null` for a line over the limit (skipped). */
  lines: (string | null)[];
  /** Indexes into `lines` of lines that held bytes that are not UTF-8; null when there were none. */
  invalid: number[] | null;
  /** Line numbers and sizes of the lines over the limit, in order (their `lines` entries are null). */
  oversize: { line: number; bytes: number }[];
}

const CHUNK_BYTES = 1 << 20;
const LF = 10;
const CR = 13;

/** Whether the first two bytes of the file are gzip's magic (1f 8b). */
export function isGzipFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

export class FileLines {
  readonly gzip: boolean;
  /** Why reading stopped before the end (a broken gzip stream, a read error); null when it read to the end. */
  error: string | null = null;
  private raw: fs.ReadStream | null = null;
  /** Bytes read by the streams before the current one (a grown file is read on from where one ended). */
  private bytesBefore = 0;
  /** Bytes of text read so far (after decompression). */
  textBytesRead = 0;

  private lineNo = 1;
  private tail: Buffer | null = null;
  /** Inside a line over the limit: its bytes are dropped until its end. */
  private skipping = false;
  private skipLine = 0;
  private skipBytes = 0;

  constructor(
    readonly file: string,
    private readonly maxLineBytes: number,
  ) {
    this.gzip = isGzipFile(file);
  }

  /** Bytes of the file read so far (compressed bytes for a gzip file). */
  get fileBytesRead(): number {
    return this.bytesBefore + (this.raw?.bytesRead ?? 0);
  }

  async *chunks(): AsyncGenerator<LineChunk> {
    try {
      if (this.gzip) yield* this.gunzipped();
      else yield* this.plain();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.error = this.gzip && (e.code === 'Z_BUF_ERROR' || e.code === 'Z_DATA_ERROR' || /unexpected end|incorrect header|invalid/i.test(e.message))
        ? `the gzip data breaks off after ${this.textBytesRead} bytes of text (${e.message}); the lines before the break were imported`
        : `reading failed after ${this.textBytesRead} bytes: ${e.message}`;
      this.raw?.destroy();
      // The bytes after the last newline are a line the break cut: not given.
      this.tail = null;
      this.skipping = false;
      return;
    }
    const last = this.finish();
    if (last !== null) yield last;
  }

  private async *gunzipped(): AsyncGenerator<LineChunk> {
    const raw = fs.createReadStream(this.file, { highWaterMark: CHUNK_BYTES });
    this.raw = raw;
    const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
    raw.on('error', (e) => gunzip.destroy(e));
    for await (const data of raw.pipe(gunzip)) {
      const out = this.take(data as Buffer);
      if (out !== null) yield out;
    }
  }

  /**
   * To the end the file has when a read comes back empty. If that end cuts a line while the file has
   * grown meanwhile (its writer was mid-line), reading goes on from there, so the line is read whole.
   */
  private async *plain(): AsyncGenerator<LineChunk> {
    for (;;) {
      const raw = fs.createReadStream(this.file, { highWaterMark: CHUNK_BYTES, start: this.bytesBefore });
      this.raw = raw;
      for await (const data of raw) {
        const out = this.take(data as Buffer);
        if (out !== null) yield out;
      }
      this.bytesBefore += raw.bytesRead;
      this.raw = null;
      if (this.tail === null && !this.skipping) return;
      if (fs.statSync(this.file).size <= this.bytesBefore) return;
    }
  }

  /** The whole lines of `tail + chunk`; keeps what follows the last newline. */
  private take(chunk: Buffer): LineChunk | null {
    this.textBytesRead += chunk.length;
    let buf = this.tail !== null ? Buffer.concat([this.tail, chunk]) : chunk;
    this.tail = null;
    const out: LineChunk = { first: this.lineNo, lines: [], invalid: null, oversize: [] };
    if (this.skipping) {
      const nl = buf.indexOf(LF);
      if (nl < 0) {
        this.skipBytes += buf.length;
        return null;
      }
      this.skipBytes += nl;
      this.endOversize(out);
      buf = buf.subarray(nl + 1);
    }
    const lastNl = buf.lastIndexOf(LF);
    if (lastNl < 0) {
      this.keepTail(buf);
      return out.lines.length > 0 ? out : null;
    }
    this.splitInto(buf.subarray(0, lastNl), out);
    this.keepTail(buf.subarray(lastNl + 1));
    return out;
  }

  private keepTail(rest: Buffer): void {
    if (rest.length === 0) return;
    if (rest.length > this.maxLineBytes) {
      this.skipping = true;
      this.skipLine = this.lineNo;
      this.skipBytes = rest.length;
      return;
    }
    // A copy: a slice would keep the whole 1 MiB chunk alive for a few bytes.
    this.tail = Buffer.from(rest);
  }

  private endOversize(out: LineChunk): void {
    out.oversize.push({ line: this.skipLine, bytes: this.skipBytes });
    out.lines.push(null);
    this.lineNo++;
    this.skipping = false;
  }

  /** The lines of `region` (which ends just before a newline) appended to `out`. */
  private splitInto(region: Buffer, out: LineChunk): void {
    const max = this.maxLineBytes;
    if (isUtf8(region)) {
      const lines = region.toString('utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        let line = lines[i];
        if (line.length > 0 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
        // UTF-16 length <= UTF-8 length <= 3 x UTF-16 length: most lines need no byte count.
        if (line.length * 3 > max) {
          const bytes = Buffer.byteLength(line);
          if (bytes > max) {
            out.oversize.push({ line: this.lineNo, bytes });
            out.lines.push(null);
            this.lineNo++;
            continue;
          }
        }
        out.lines.push(line);
        this.lineNo++;
      }
      return;
    }
    let start = 0;
    while (start <= region.length) {
      let nl = region.indexOf(LF, start);
      if (nl < 0) nl = region.length;
      let end = nl;
      if (end > start && region[end - 1] === CR) end--;
      if (end - start > max) {
        out.oversize.push({ line: this.lineNo, bytes: end - start });
        out.lines.push(null);
      } else {
        const bytes = region.subarray(start, end);
        if (!isUtf8(bytes)) (out.invalid ??= []).push(out.lines.length);
        out.lines.push(bytes.toString('utf8'));
      }
      this.lineNo++;
      start = nl + 1;
    }
  }

  /** At the end of the file: the last line when it has no newline, or the end of a line over the limit. */
  private finish(): LineChunk | null {
    const out: LineChunk = { first: this.lineNo, lines: [], invalid: null, oversize: [] };
    if (this.skipping) this.endOversize(out);
    else if (this.tail !== null) {
      const tail = this.tail;
      this.tail = null;
      let end = tail.length;
      if (end > 0 && tail[end - 1] === CR) end--;
      const bytes = tail.subarray(0, end);
      if (!isUtf8(bytes)) out.invalid = [0];
      out.lines.push(bytes.toString('utf8'));
      this.lineNo++;
    }
    return out.lines.length > 0 ? out : null;
  }
}
