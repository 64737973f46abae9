/**
 * Input codecs against hostile bytes: any bytes in any chunking give the same events as the whole
 * stream at once, nothing throws, an endless line is cut rather than kept growing, and a line that is
 * not a JSON object stays an event, tagged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Settings } from '../../src/pipeline/settings.js';
import { lineDecoder } from '../../src/pipeline/codecs/line.js';
import { jsonLinesDecoder } from '../../src/pipeline/codecs/json-lines.js';
import { MAX_LINE_BYTES } from '../../src/pipeline/codecs/split.js';
import type { Decoder } from '../../src/pipeline/plugin.js';
import { prng } from '../helpers/prng.js';

const settings = (name: string): Settings => new Settings({ name, attributes: [], at: { line: 1, column: 1 } }, 'codec');

function decodeChunked(make: () => Decoder, bytes: Buffer, cuts: number[]): unknown[] {
  const decoder = make();
  const out: unknown[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...decoder.push(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...decoder.end());
  return out;
}

describe('pipeline input codecs', () => {
  it('give the same events whatever the chunking, for random bytes and damaged JSON', () => {
    const random = prng(4242);
    const pieces = ['{"a":1}', '{"b":"é😀"}', '[1]', 'null', '{"x":', '\n', '\r\n', '\xff', 'plain text', '{"m":"\\u00e9"}', '😀', '\n\n'];
    for (let round = 0; round < 500; round++) {
      const parts: Buffer[] = [];
      const n = Math.floor(random() * 30);
      for (let i = 0; i < n; i++) {
        if (random() < 0.2) parts.push(Buffer.from(Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * 256))));
        else parts.push(Buffer.from(pieces[Math.floor(random() * pieces.length)]));
      }
      const bytes = Buffer.concat(parts);
      const cuts = Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * (bytes.length + 1))).sort((a, b) => a - b);
      for (const make of [() => lineDecoder(settings('line')), () => jsonLinesDecoder(settings('json_lines'))]) {
        assert.deepEqual(decodeChunked(make, bytes, cuts), decodeChunked(make, bytes, []), `round ${round}`);
      }
      const events = decodeChunked(() => jsonLinesDecoder(settings('json_lines')), bytes, cuts) as Array<Record<string, unknown>>;
      for (const event of events) assert.ok(typeof event === 'object' && event !== null && !Array.isArray(event));
    }
  });

  it('cuts a line that never ends into pieces of at most MAX_LINE_BYTES', () => {
    const decoder = lineDecoder(settings('line'));
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 10; i++) events.push(...decoder.push(chunk));
    events.push(...decoder.end());
    assert.ok(events.length >= 2);
    for (const event of events) assert.ok((event.message as string).length <= MAX_LINE_BYTES);
    assert.equal(events.reduce((n, e) => n + (e.message as string).length, 0), 10 * 256 * 1024, 'nothing is lost');
  });

  it('keeps a line that is not a JSON object as a tagged event', () => {
    const decoder = jsonLinesDecoder(settings('json_lines'));
    assert.deepEqual(decoder.push(Buffer.from('{"ok":true}\n{broken\n"text"\n')), [{ ok: true }, { message: '{broken', tags: ['_jsonparsefailure'] }, { message: '"text"', tags: ['_jsonparsefailure'] }]);
  });
});
