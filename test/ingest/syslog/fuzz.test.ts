import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseSyslog, parseSyslogUnguarded, type SyslogResult } from '../../../src/ingest/syslog/parse.js';
import { SyslogFrameDecoder, type SyslogFrame } from '../../../src/ingest/syslog/framing.js';
import { prng } from '../../helpers/prng.js';


const SEEDS = [1, 0xc0ffee, 20260205];
const NOW = new Date('2026-02-10T12:00:00Z');
const ZONES = [undefined, 'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Bogus/Zone'];

const VALID: string[] = [
  "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
  "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] msg',
  '<14>1 2026-02-05T17:32:18Z h a - - [x@1 q="say \\"hi\\"" b="back\\\\slash" r="br\\]acket" p="1" p="2"] m',
  "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
  '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
  '<0>Oct 22 10:52:12 scapegoat 1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That\'s All Folks!',
  '<13>Feb  5 17:32:18 sshd[123]: msg',
  '<189>123: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured from console by console',
  '<189>123: host: Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured',
  '<189>: 2026 Feb  5 17:32:18 UTC: %ETHPORT-5-IF_UP: Interface Ethernet1/1 is up',
  '<166>Feb 05 2026 17:32:18 fw01 : %ASA-6-302013: Built outbound TCP connection',
  '<13>2026-02-05T17:32:18.123456789+01:00 host app[1]: hi',
  'Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.',
  "<28>Feb  5 17:32:18  mx480-re0 mgd[1234]: UI_COMMIT: User 'root' requested 'commit' operation",
];

const ALPHABET = '<>[]"\\=:- .*%0123456789TZ+\n\r\0\uFEFFFebMarDecabcxyz@';

function randomInput(rnd: () => number): Buffer {
  const kind = Math.floor(rnd() * 4);
  const len = Math.floor(rnd() * 200);
  if (kind === 0) {
    // raw random bytes
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  }
  if (kind === 1) {
    // syslog-ish alphabet
    let s = '';
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    return Buffer.from(s);
  }
  // mutated valid message: flips, inserts, deletes, invalid UTF-8
  const base = Buffer.from(VALID[Math.floor(rnd() * VALID.length)] as string);
  const bytes = [...base];
  const edits = 1 + Math.floor(rnd() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (bytes.length + 1));
    const op = Math.floor(rnd() * 4);
    if (op === 0) bytes[at] = Math.floor(rnd() * 256);
    else if (op === 1) bytes.splice(at, 0, ALPHABET.charCodeAt(Math.floor(rnd() * ALPHABET.length)) & 0xff);
    else if (op === 2) bytes.splice(at, 1 + Math.floor(rnd() * 5));
    else bytes.splice(at, 0, ...[[0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff], [0xed, 0xa0, 0x80]][Math.floor(rnd() * 5)]!);
  }
  return Buffer.from(bytes);
}

/** Invariants every result must satisfy; returns nothing, throws on violation. */
function checkResult(r: SyslogResult, input: Buffer | string): void {
  assert.equal(typeof r, 'object');
  assert.equal(typeof r.message, 'string');
  const decodedLen = typeof input === 'string' ? input.length : input.toString('utf8').length;
  assert.ok(r.message.length <= decodedLen, 'message longer than input');
  const f = r['syslog.facility'];
  const s = r['syslog.severity'];
  assert.ok(Number.isInteger(f) && f >= 0 && f <= 23);
  assert.ok(Number.isInteger(s) && s >= 0 && s <= 7);
  assert.equal(typeof r['syslog.facility_name'], 'string');
  assert.equal(r.level, r['syslog.severity_name']);
  const ts = r['@timestamp'];
  if (ts !== undefined) assert.ok(Number.isFinite(ts), `timestamp ${ts}`);
  let keys = 0;
  let textLen = 0;
  for (const [k, v] of Object.entries(r)) {
    keys++;
    if (typeof v === 'string') textLen += v.length;
    else if (Array.isArray(v)) {
      for (const x of v) {
        assert.equal(typeof x, 'string');
        textLen += x.length;
      }
    } else assert.equal(typeof v, 'number', `field ${k}`);
  }
  // bounded output: fields and text cannot outgrow the input
  assert.ok(keys <= 16 + decodedLen / 4, `${keys} keys for ${decodedLen} chars`);
  assert.ok(textLen <= 2 * decodedLen + 200, `${textLen} chars of output for ${decodedLen}`);
}

describe('parseSyslog fuzz', () => {
  test('random and adversarial inputs never throw (>= 20,000 per seed)', () => {
    let total = 0;
    for (const seed of SEEDS) {
      const rnd = prng(seed);
      for (let n = 0; n < 20000; n++) {
        const input = randomInput(rnd);
        const timeZone = ZONES[Math.floor(rnd() * ZONES.length)];
        const now = rnd() < 0.9 ? NOW : new Date(Math.floor(rnd() * 8.64e15 * 2) - 8.64e15);
        const o = timeZone === undefined ? { now } : { now, timeZone };
        // unguarded: an internal exception fails the test instead of becoming a failure tag
        const r = parseSyslogUnguarded(input, o);
        checkResult(r, input);
        assert.deepEqual(parseSyslog(input, o), r);
        total++;
      }
    }
    assert.ok(total >= 60000);
  });

  test('every prefix of every valid message, as string and as bytes', () => {
    let total = 0;
    for (const v of VALID) {
      const bytes = Buffer.from(v);
      for (let i = 0; i <= bytes.length; i++) {
        const b = bytes.subarray(0, i);
        checkResult(parseSyslogUnguarded(b, { now: NOW }), b);
        const s = v.slice(0, i);
        checkResult(parseSyslogUnguarded(s, { now: NOW, timeZone: 'Europe/Berlin' }), s);
        total += 2;
      }
    }
    assert.ok(total > 1000);
  });

  test('pathological shapes stay linear', { timeout: 60_000 }, () => {
    const shapes = [
      '<13>' + '['.repeat(200000),
      '<14>1 2026-02-05T17:32:18Z h a - - ' + '[a'.repeat(100000),
      '<14>1 2026-02-05T17:32:18Z h a - - [x ' + 'k="v" '.repeat(50000) + ']',
      '<14>1 2026-02-05T17:32:18Z h a - - [x k="' + '\\'.repeat(200001) + '"] m',
      '<13>Feb  5 17:32:18 ' + ' '.repeat(200000) + 'x',
      '<13>' + 'a'.repeat(200000) + ':',
      '<13>Feb  5 17:32:18 h a[' + '1'.repeat(200000),
      '9'.repeat(200000),
      '<189>' + '1'.repeat(200000) + ': x',
      '\uFFFD'.repeat(200000),
    ];
    // No timing assertion (machines here are shared): a parser that backtracks on these
    // shapes would run for minutes, and the test's timeout turns that into a failure.
    for (const s of shapes) {
      const r = parseSyslogUnguarded(s, { now: NOW });
      checkResult(r, s);
    }
  });

  test('many distinct SD params do not blow up the field count beyond the input', () => {
    const s = '<14>1 - - - - - [x ' + Array.from({ length: 1000 }, (_, i) => `k${i}="v"`).join(' ') + ']';
    const r = parseSyslog(s, { now: NOW });
    checkResult(r, s);
    assert.equal(r['syslog.sd.x.k999'], 'v');
  });
});

describe('SyslogFrameDecoder fuzz', () => {
  test('random valid streams, random chunking: frames round-trip', () => {
    for (const seed of SEEDS) {
      const rnd = prng(seed ^ 0x5a5a);
      for (let round = 0; round < 300; round++) {
        const max = 8 + Math.floor(rnd() * 200);
        const msgs: Buffer[] = [];
        const parts: Buffer[] = [];
        const count = 1 + Math.floor(rnd() * 20);
        for (let k = 0; k < count; k++) {
          const m = randomInput(rnd);
          const octetCounted = rnd() < 0.5;
          if (octetCounted) {
            if (m.length === 0) continue;
            parts.push(Buffer.from(`${m.length} `), m);
            if (rnd() < 0.2) parts.push(Buffer.from('\n'));
            msgs.push(m);
          } else {
            // a non-transparent message cannot contain its trailers, start with
            // a digit run + SP (it would be octet-counted), start with CR, LF or NUL,
            // or end with CR (it would be taken as CRLF)
            let body = Buffer.from([...m].filter((b) => b !== 10 && b !== 0));
            body = Buffer.concat([Buffer.from('<'), body]);
            while (body.length > 0 && body[body.length - 1] === 13) body = body.subarray(0, body.length - 1);
            parts.push(body, Buffer.from(rnd() < 0.3 ? '\r\n' : rnd() < 0.5 ? '\0' : '\n'));
            msgs.push(body);
          }
        }
        const stream = Buffer.concat(parts);
        const frames: SyslogFrame[] = [];
        const dec = new SyslogFrameDecoder({ maxMessageBytes: max, onFrame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }) });
        let i = 0;
        while (i < stream.length) {
          const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 300));
          dec.push(stream.subarray(i, i + n));
          i += n;
        }
        dec.end();
        assert.equal(frames.length, msgs.length, `seed ${seed} round ${round}`);
        for (let k = 0; k < msgs.length; k++) {
          const want = msgs[k] as Buffer;
          const got = frames[k] as SyslogFrame;
          assert.equal(got.truncated, want.length > max);
          assert.deepEqual(got.data, want.subarray(0, Math.min(want.length, max)));
          assert.equal(got.byteLength, want.length);
          assert.ok(!('error' in got));
        }
      }
    }
  });

  test('random garbage streams: bounded frames, no throw', () => {
    for (const seed of SEEDS) {
      const rnd = prng(seed ^ 0x1234);
      for (let round = 0; round < 200; round++) {
        const max = 1 + Math.floor(rnd() * 64);
        let frames = 0;
        let outBytes = 0;
        const dec = new SyslogFrameDecoder({
          maxMessageBytes: max,
          maxOctetCount: 1 + Math.floor(rnd() * 10000),
          onFrame: (f) => {
            frames++;
            outBytes += f.data.length;
            assert.ok(f.data.length <= max);
            assert.ok(f.byteLength >= f.data.length);
            if (!f.truncated) assert.equal(f.byteLength, f.data.length);
          },
        });
        let inBytes = 0;
        for (let c = 0; c < 20; c++) {
          const chunk = randomInput(rnd);
          // digits and spaces make octet counts likely
          if (rnd() < 0.3) chunk.write(`${Math.floor(rnd() * 300)} `, 0);
          inBytes += chunk.length;
          dec.push(chunk);
        }
        dec.end();
        assert.ok(outBytes <= inBytes);
        assert.ok(frames <= inBytes + 1);
      }
    }
  });

  test('10 MB line through the framer (1 MiB max), then parsed', () => {
    const max = 1024 * 1024;
    const line = Buffer.alloc(10 * 1024 * 1024, 0x78);
    line.write('<13>Feb  5 17:32:18 host app: ', 0);
    const frames: SyslogFrame[] = [];
    const dec = new SyslogFrameDecoder({ maxMessageBytes: max, onFrame: (f) => frames.push(f) });
    for (let i = 0; i < line.length; i += 65536) dec.push(line.subarray(i, i + 65536));
    dec.push(Buffer.from('\n'));
    dec.end();
    assert.equal(frames.length, 1);
    const f = frames[0] as SyslogFrame;
    assert.equal(f.truncated, true);
    assert.equal(f.data.length, max);
    assert.equal(f.byteLength, line.length);
    const r = parseSyslog(f.data, { now: NOW });
    assert.equal(r.host, 'host');
    assert.equal(r.message.length, max - '<13>Feb  5 17:32:18 host app: '.length);
  });

  test('10 MB octet-counted frame (1 MiB max) in one chunk and in small chunks', () => {
    const max = 1024 * 1024;
    const body = Buffer.alloc(10 * 1024 * 1024, 0x79);
    body.write('<13>x', 0);
    const stream = Buffer.concat([Buffer.from(`${body.length} `), body, Buffer.from('5 <13>y')]);
    for (const size of [stream.length, 4096]) {
      const frames: SyslogFrame[] = [];
      const dec = new SyslogFrameDecoder({ maxMessageBytes: max, onFrame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }) });
      for (let i = 0; i < stream.length; i += size) dec.push(stream.subarray(i, i + size));
      dec.end();
      assert.equal(frames.length, 2);
      assert.equal(frames[0]?.data.length, max);
      assert.equal(frames[0]?.truncated, true);
      assert.equal(frames[1]?.data.toString(), '<13>y');
    }
  });
});
