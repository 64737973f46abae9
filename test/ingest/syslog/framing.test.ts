import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SyslogFrameDecoder, type SyslogFrame } from '../../../src/ingest/syslog/framing.js';

interface Collected {
  dec: SyslogFrameDecoder;
  frames: SyslogFrame[];
}

function decoder(maxMessageBytes = 1024, maxOctetCount?: number): Collected {
  const frames: SyslogFrame[] = [];
  const dec = new SyslogFrameDecoder({
    maxMessageBytes,
    ...(maxOctetCount === undefined ? {} : { maxOctetCount }),
    // copy: zero-copy frames are views of the pushed chunk
    onFrame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }),
  });
  return { dec, frames };
}

/** Runs the whole stream through a fresh decoder, chunked at the given cut points. */
function run(stream: Buffer, cuts: number[], max = 1024): SyslogFrame[] {
  const { dec, frames } = decoder(max);
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    dec.push(stream.subarray(prev, c));
    prev = c;
  }
  dec.end();
  return frames;
}

const octet = (msg: string): string => `${Buffer.byteLength(msg)} ${msg}`;
const texts = (frames: SyslogFrame[]): string[] => frames.map((f) => f.data.toString('utf8'));

const M1 = '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF\'su root\' failed';
const M2 = '<13>Feb  5 17:32:18 host app: line with trailing spaces  ';
const M3 = '<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [a b="x\ny"] embedded LF and ünïcödé';
const M4 = '<13>Feb  5 17:32:18 host app: crlf';
const M5 = '<13>Feb  5 17:32:18 host app: nul';

describe('octet counting', () => {
  test('single and back-to-back frames', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from(octet(M1) + octet(M3) + octet('<13>x')));
    assert.deepEqual(texts(frames), [M1, M3, '<13>x']);
    for (const f of frames) {
      assert.equal(f.framing, 'octet-counting');
      assert.equal(f.truncated, false);
      assert.equal(f.byteLength, f.data.length);
      assert.ok(!('error' in f));
    }
  });

  test('embedded LF is part of the message', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from(octet('<13>a\nb\n') + '\n'));
    assert.deepEqual(texts(frames), ['<13>a\nb\n']);
  });

  test('LF and CRLF after octet-counted frames are skipped', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from(`${octet(M1)}\n${octet(M3)}\r\n\0`));
    assert.deepEqual(texts(frames), [M1, M3]);
  });

  test('zero-copy view for frames inside one chunk', () => {
    const chunk = Buffer.from(octet(M1));
    let seen: Buffer | undefined;
    const dec = new SyslogFrameDecoder({ maxMessageBytes: 1024, onFrame: (f) => { seen = f.data; } });
    dec.push(chunk);
    assert.ok(seen !== undefined);
    assert.equal(seen.buffer, chunk.buffer);
    assert.equal(seen.byteOffset, chunk.byteOffset + chunk.indexOf(' ') + 1);
  });

  test('"0 " is an empty frame and skipped', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from(`0 ${octet('<13>a')}`));
    assert.deepEqual(texts(frames), ['<13>a']);
  });
});

describe('non-transparent framing', () => {
  test('LF, CRLF and NUL trailers', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from(`${M2}\n${M4}\r\n${M5}\0`));
    assert.deepEqual(texts(frames), [M2, M4, M5]);
    for (const f of frames) assert.equal(f.framing, 'non-transparent');
  });

  test('a CR not followed by LF stays', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from('<13>a\rb\n<13>c\r'));
    dec.end();
    assert.deepEqual(texts(frames), ['<13>a\rb', '<13>c']);
  });

  test('blank lines are skipped', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from('\n\n\r\n<13>a\n\n<13>b\n'));
    assert.deepEqual(texts(frames), ['<13>a', '<13>b']);
  });

  test('end() flushes an unterminated message without error', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from('<13>a\n<13>partial'));
    assert.deepEqual(texts(frames), ['<13>a']);
    dec.end();
    assert.deepEqual(texts(frames), ['<13>a', '<13>partial']);
    assert.equal(frames[1]?.truncated, false);
    assert.ok(!('error' in (frames[1] as SyslogFrame)));
    dec.end();
    assert.equal(frames.length, 2, 'second end() emits nothing');
  });

  test('digits not followed by a space start a non-transparent frame', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from('123:abc\n2026-02-05T00:00:00Z x\n'));
    assert.deepEqual(texts(frames), ['123:abc', '2026-02-05T00:00:00Z x']);
    for (const f of frames) assert.equal(f.framing, 'non-transparent');
  });

  test('digits only at end of stream', () => {
    const { dec, frames } = decoder();
    dec.push(Buffer.from('12'));
    dec.push(Buffer.from('34'));
    dec.end();
    assert.deepEqual(texts(frames), ['1234']);
  });
});

describe('mixed stream, every split point', () => {
  const stream = Buffer.from(
    octet(M1) + `${M2}\n` + octet(M3) + `${M4}\r\n` + `${M5}\0` + octet('<13>x') + '\n' + octet(M3) + `${M2}`,
  );
  const expected = [M1, M2, M3, M4, M5, '<13>x', M3, M2];
  const framings = ['octet-counting', 'non-transparent', 'octet-counting', 'non-transparent', 'non-transparent', 'octet-counting', 'octet-counting', 'non-transparent'];

  test('whole stream at once', () => {
    const frames = run(stream, []);
    assert.deepEqual(texts(frames), expected);
    assert.deepEqual(frames.map((f) => f.framing), framings);
  });

  test('split into two chunks at every byte boundary', () => {
    for (let c = 0; c <= stream.length; c++) {
      const frames = run(stream, [c]);
      assert.deepEqual(texts(frames), expected, `cut at ${c}`);
      assert.deepEqual(frames.map((f) => f.framing), framings, `cut at ${c}`);
    }
  });

  test('split into three chunks at many boundary pairs', () => {
    for (let a = 0; a <= stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 7) {
        assert.deepEqual(texts(run(stream, [a, b])), expected, `cuts at ${a},${b}`);
      }
    }
  });

  test('one byte per chunk', () => {
    const cuts: number[] = [];
    for (let i = 1; i < stream.length; i++) cuts.push(i);
    assert.deepEqual(texts(run(stream, cuts)), expected);
  });
});

describe('limits', () => {
  test('over-long octet-counted message is truncated and the rest skipped', () => {
    const long = `<13>${'a'.repeat(100)}`;
    const stream = Buffer.from(octet(long) + octet('<13>next') + '<13>line\n');
    for (let c = 0; c <= stream.length; c++) {
      const frames = run(stream, [c], 20);
      assert.deepEqual(texts(frames), [long.slice(0, 20), '<13>next', '<13>line'], `cut at ${c}`);
      assert.equal(frames[0]?.truncated, true);
      assert.equal(frames[0]?.byteLength, 104);
      assert.equal(frames[1]?.truncated, false);
    }
  });

  test('over-long LF-delimited message is truncated and the rest skipped', () => {
    const long = `<13>${'b'.repeat(100)}`;
    const stream = Buffer.from(`${long}\r\n<13>next\n${octet('<13>oc')}`);
    for (let c = 0; c <= stream.length; c++) {
      const frames = run(stream, [c], 20);
      assert.deepEqual(texts(frames), [long.slice(0, 20), '<13>next', '<13>oc'], `cut at ${c}`);
      assert.equal(frames[0]?.truncated, true);
      assert.equal(frames[0]?.byteLength, 104);
    }
  });

  test('message of exactly maxMessageBytes is not truncated (CRLF too)', () => {
    const msg = '<13>' + 'c'.repeat(16);
    const stream = Buffer.from(`${msg}\r\n${octet(msg)}${msg}`);
    for (let c = 0; c <= stream.length; c++) {
      const frames = run(stream, [c], 20);
      assert.deepEqual(texts(frames), [msg, msg, msg], `cut at ${c}`);
      for (const f of frames) assert.equal(f.truncated, false, `cut at ${c}`);
    }
  });

  test('absurd length prefix: no allocation, read as a line with an error', () => {
    const before = process.memoryUsage().arrayBuffers;
    const stream = Buffer.from(`99999999999 <34>1 - - - - - - junk\n${octet('<13>after')}`);
    for (let c = 0; c <= stream.length; c++) {
      const frames = run(stream, [c], 1024);
      assert.deepEqual(texts(frames), ['99999999999 <34>1 - - - - - - junk', '<13>after'], `cut at ${c}`);
      assert.equal(frames[0]?.error, 'invalid_length_prefix');
      assert.equal(frames[0]?.framing, 'non-transparent');
      assert.ok(!('error' in (frames[1] as SyslogFrame)));
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  });

  test('10-digit prefix above maxOctetCount is not believed', () => {
    const { dec, frames } = decoder(1024);
    dec.push(Buffer.from('9999999999 <13>x\n'));
    assert.deepEqual(texts(frames), ['9999999999 <13>x']);
    assert.equal(frames[0]?.error, 'invalid_length_prefix');
  });

  test('a large but believable prefix skips that many bytes', () => {
    const { dec, frames } = decoder(8, 1000);
    dec.push(Buffer.from(`500 <13>${'z'.repeat(496)}`));
    dec.push(Buffer.from(octet('<13>ok')));
    assert.deepEqual(texts(frames), ['<13>zzzz', '<13>ok']);
    assert.equal(frames[0]?.truncated, true);
    assert.equal(frames[0]?.byteLength, 500);
  });

  test('end() inside an octet-counted frame reports incomplete_frame', () => {
    const { dec, frames } = decoder(1024);
    dec.push(Buffer.from('50 <13>only part'));
    dec.end();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.data.toString(), '<13>only part');
    assert.equal(frames[0]?.truncated, true);
    assert.equal(frames[0]?.error, 'incomplete_frame');
    assert.equal(frames[0]?.byteLength, 50);
    // the decoder is reusable after end()
    dec.push(Buffer.from('<13>again\n'));
    assert.equal(frames[1]?.data.toString(), '<13>again');
  });

  test('10 MB LF-delimited line with a 1 MiB limit', () => {
    const max = 1024 * 1024;
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    big.write('<13>', 0);
    big[big.length - 1] = 0x0a;
    const tail = Buffer.from('<13>after\n');
    for (const chunkSize of [big.length + tail.length, 65536, 1000003]) {
      const { dec, frames } = decoder(max);
      const all = Buffer.concat([big, tail]);
      for (let i = 0; i < all.length; i += chunkSize) dec.push(all.subarray(i, i + chunkSize));
      dec.end();
      assert.equal(frames.length, 2);
      assert.equal(frames[0]?.data.length, max);
      assert.equal(frames[0]?.truncated, true);
      assert.equal(frames[0]?.byteLength, big.length - 1);
      assert.equal(frames[1]?.data.toString(), '<13>after');
    }
  });

  test('constructor rejects a non-positive limit', () => {
    assert.throws(() => new SyslogFrameDecoder({ maxMessageBytes: 0, onFrame: () => undefined }), RangeError);
    assert.throws(() => new SyslogFrameDecoder({ maxMessageBytes: NaN, onFrame: () => undefined }), RangeError);
  });
});
