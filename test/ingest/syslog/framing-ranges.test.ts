/**
 * SyslogFrameDecoder's onMessage (ranges of buffers, the inputs' hot path)
 * delivers the same messages as onFrame, over random streams of both
 * framings, long and invalid length prefixes, CRs and NULs, in random chunks.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SyslogFrameDecoder } from '../../../src/ingest/syslog/framing.js';
import { prng } from '../../helpers/prng.js';

function randomStream(rnd: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(rnd() * 20);
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(`<13>1 - h app - - - ${'x'.repeat(Math.floor(rnd() * 60))}`);
    const k = rnd();
    if (k < 0.35) parts.push(Buffer.from(`${body.length} `), body);
    else if (k < 0.45) parts.push(Buffer.from(`${body.length + 5} `), body, Buffer.from('\n'));
    else if (k < 0.5) parts.push(Buffer.from('12345678901 '), body, Buffer.from('\n'));
    else if (k < 0.55) parts.push(Buffer.from('0 '));
    else if (k < 0.75) parts.push(body, Buffer.from('\r\n'));
    else if (k < 0.85) parts.push(body, Buffer.from([0]));
    else parts.push(Buffer.from('2026 Feb  5 no pri\n'));
  }
  if (rnd() < 0.5) parts.push(Buffer.from('<13>unterminated'));
  return Buffer.concat(parts);
}

function collect(stream: Buffer, cuts: number[], max: number, ranges: boolean): string[] {
  const out: string[] = [];
  const decoder = ranges
    ? new SyslogFrameDecoder({ maxMessageBytes: max, onMessage: (buf, s, e, t) => void out.push(`${t}:${buf.toString('latin1', s, e)}`) })
    : new SyslogFrameDecoder({ maxMessageBytes: max, onFrame: (f) => void out.push(`${f.truncated}:${f.data.toString('latin1')}`) });
  let at = 0;
  for (const c of cuts) {
    decoder.push(Buffer.from(stream.subarray(at, c)));
    at = c;
  }
  decoder.push(Buffer.from(stream.subarray(at)));
  decoder.end();
  return out;
}

it('onMessage delivers what onFrame delivers', () => {
  const rnd = prng(6587);
  for (let round = 0; round < 2000; round++) {
    const stream = randomStream(rnd);
    const cuts: number[] = [];
    for (let c = Math.floor(rnd() * 50); c < stream.length; c += 1 + Math.floor(rnd() * 80)) cuts.push(c);
    const max = rnd() < 0.3 ? 20 : 1024;
    assert.deepEqual(collect(stream, cuts, max, true), collect(stream, cuts, max, false), JSON.stringify(stream.toString('latin1')));
  }
});
