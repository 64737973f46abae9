/**
 * LinesDecoder (the TCP lines input's bytes -> events) against a reference:
 * the splitter as it was before lines became ranges of chunks, and
 * decodeLine in `lines` mode, one line at a time. Random streams, cut into
 * random chunks, with long lines, CRs, blank lines, broken JSON, invalid
 * UTF-8 and multi-byte characters cut at chunk and length limits.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addTag, TAG, type LogEvent } from '../../../src/core/event.js';
import { decodeLine, lineEvent } from '../../../src/ingest/lines.js';
import { LineSplitter } from '../../../src/ingest/tcp/line-splitter.js';
import { LinesDecoder } from '../../../src/ingest/tcp/lines-input.js';
import { prng } from '../../helpers/prng.js';

/** The splitter as it was: every line as a Buffer of its own. */
class ReferenceSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;
  constructor(private readonly max: number) {}
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
  end(onLine: (line: Buffer, truncated: boolean) => void): void {
    if (this.partBytes > 0 && !this.skipping) this.emit(onLine, false);
    this.parts = [];
    this.partBytes = 0;
  }
  private take(piece: Buffer, onLine: (line: Buffer, truncated: boolean) => void): void {
    const room = this.max - this.partBytes;
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

const PIECES = [
  '{"message":"hello","n":1}',
  '{"@timestamp":"2026-11-21T10:00:00.123Z","host":"h","http":{"status":200}}',
  '  {"message":"indented"}',
  '{"message":"broken"',
  '{"message":"caf\u00e9 \u65e5\u672c \ud83d\ude00"}',
  'plain text with status=200',
  '[1,2,3]',
  '',
  '   ',
  '\r',
  'text with CR\r',
  '\ufeff{"bom":true}',
  'snow \u2603\u2603\u2603 and more',
  '{"tags":"x","_id":7}',
];

function randomStream(rand: () => number, lines: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const r = rand();
    if (r < 0.08) parts.push(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])); // {"a":"\xff\xfe"}
    else if (r < 0.12) parts.push(Buffer.from([0x74, 0xc3, 0x28, 0x78])); // invalid 2-byte sequence in text
    else if (r < 0.16) parts.push(Buffer.from('\ufffd is a real U+FFFD'));
    else if (r < 0.24) parts.push(Buffer.from('x'.repeat(Math.floor(rand() * 80)) + '\u00e9\u00e9' + '{'.repeat(Math.floor(rand() * 5))));
    else parts.push(Buffer.from(PIECES[Math.floor(rand() * PIECES.length)]));
    if (i < lines - 1 || rand() < 0.5) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function chunksOf(rand: () => number, stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; ) {
    const n = 1 + Math.floor(rand() ** 2 * 200);
    out.push(Buffer.from(stream.subarray(i, i + n)));
    i += n;
  }
  return out;
}

function reference(chunks: Buffer[], max: number, arrival: number): LogEvent[] {
  const events: LogEvent[] = [];
  const splitter = new ReferenceSplitter(max);
  const onLine = (line: Buffer, truncated: boolean): void => {
    const r = decodeLine(line, 0, line.length, { maxLineBytes: Number.MAX_SAFE_INTEGER, arrivalMicros: arrival, mode: 'lines' });
    assert.ok(r.ok);
    if (truncated) addTag(r.event, TAG.truncated);
    events.push(r.event);
  };
  for (const c of chunks) splitter.push(c, onLine);
  splitter.end(onLine);
  return events;
}

/** What an event says: its time, id, index and fields (names, values, order). */
function meaning(e: LogEvent): unknown {
  return { ts: e.ts, id: e.id, index: e.index, fields: Object.entries(e.fields) };
}

describe('LinesDecoder', () => {
  for (const max of [1024 * 1024, 64, 17, 5]) {
    it(`gives what the reference splitter and decodeLine give (max line ${max} bytes)`, () => {
      const rand = prng(max);
      for (let round = 0; round < 150; round++) {
        const stream = randomStream(rand, 1 + Math.floor(rand() * 40));
        const chunks = round % 3 === 0 ? [stream] : chunksOf(rand, stream);
        const decoder = new LinesDecoder(max);
        const got: LogEvent[] = [];
        for (const c of chunks) {
          decoder.push(c, 5_000_000);
          got.push(...decoder.take());
        }
        decoder.end(5_000_000);
        got.push(...decoder.take());
        // Compared by meaning: JSON lines of ASCII chunks are scanned (ScannedEvent), the reference parses every line.
        assert.deepEqual(got.map(meaning), reference(chunks, max, 5_000_000).map(meaning), `round ${round}: ${JSON.stringify(stream.toString('latin1'))}`);
      }
    });
  }

  it('reports lines as ranges of the chunk when they lie within it', () => {
    const chunk = Buffer.from('one\ntwo\r\nthr');
    const seen: [boolean, string, boolean][] = [];
    const s = new LineSplitter(100);
    s.push(chunk, (buf, start, end, truncated) => seen.push([buf === chunk, buf.toString('utf8', start, end), truncated]));
    s.push(Buffer.from('ee\n'), (buf, start, end, truncated) => seen.push([buf === chunk, buf.toString('utf8', start, end), truncated]));
    assert.deepEqual(seen, [
      [true, 'one', false],
      [true, 'two', false],
      [false, 'three', false],
    ]);
  });

  it('lineEvent tags invalid UTF-8 only when the caller has not vouched for the bytes', () => {
    const bad = Buffer.from([0x61, 0xff, 0x62]);
    assert.deepEqual(lineEvent(bad, 0, 3, 1, false).fields.tags, ['_invalidutf8']);
    assert.equal(lineEvent(Buffer.from('ab'), 0, 2, 1, false).fields.tags, undefined);
  });
});
