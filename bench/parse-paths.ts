/**
 * The CPU cost per event of the TCP ingest paths before the store: raw socket
 * chunks (64 KiB, as a socket delivers them) to the LogEvent batches handed
 * to store.write, through the same code the servers run, stage by stage,
 * beside a baseline measured in the same run.
 *
 *   npm run build && node dist/bench/parse-paths.js
 *
 * Inputs:
 *  - JSON lines: the first BENCH_PARSE_LINES (default 200,000) lines of
 *    $BENCH_DIR/events-10000000.ndjson (written by `npm run bench`), or, when
 *    that file is missing, the same shape generated from ../shared/data;
 *  - syslog RFC 5424 (logger style: offset timestamp, some with the
 *    timeQuality SD-ELEMENT) and RFC 3164 (rsyslog forwarding style), about
 *    200 bytes each, LF-framed, generated from ../shared/data.
 *
 * Stages are timed in isolation on the previous stage's output (framing:
 * chunks -> message bytes; decode/parse: bytes -> parsed values; normalize:
 * parsed values -> LogEvent), then the whole path as the connection handler
 * runs it. Baselines: `indexOf(10)` splitting plus `JSON.parse(toString())`
 * per line (JSON), and `indexOf(10)` splitting plus `toString()` per line
 * (syslog: the least any decoder must do to get at the text).
 *
 * BENCH_PARSE_DUMP=DIR writes the three input streams to DIR and exits (for
 * profiling one path with node --cpu-prof).
 *
 * Figures are the median of BENCH_PARSE_REPS (default 7) runs after a warm-up.
 * The machine is shared and noisy: compare ratios from one run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { eventFromObject } from '../src/core/normalize.js';
import type { FieldValue, LogEvent } from '../src/core/event.js';
import { lineEvent } from '../src/ingest/lines.js';
import { LineSplitter } from '../src/ingest/tcp/line-splitter.js';
import { SyslogFrameDecoder } from '../src/ingest/syslog/framing.js';
import { parseSyslogFields, type SyslogParseOptions } from '../src/ingest/syslog/parse.js';
import { eventWithTime, MessageSink } from '../src/ingest/syslog/server.js';
import { LinesDecoder } from '../src/ingest/tcp/lines-input.js';
import { generate } from './generate.js';

const LINES = Number(process.env.BENCH_PARSE_LINES ?? 200_000);
const REPS = Number(process.env.BENCH_PARSE_REPS ?? 7);
const CHUNK = 64 * 1024;
const MAX_LINE = 1024 * 1024;
const NDJSON = path.join(process.env.BENCH_DIR ?? '/tmp/logmill-bench', 'events-10000000.ndjson');
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------
// inputs

/** The first `n` lines of a file, read without loading all of it. */
function headLines(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const parts: Buffer[] = [];
    let lines = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
      const got = fs.readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      let at = 0;
      while (lines < n) {
        const nl = buf.indexOf(10, at);
        if (nl < 0 || nl >= got) break;
        lines++;
        at = nl + 1;
      }
      if (lines >= n) {
        parts.push(buf.subarray(0, at));
        break;
      }
      parts.push(buf.subarray(0, got));
    }
    return Buffer.concat(parts);
  } finally {
    fs.closeSync(fd);
  }
}

/** Cuts a stream into separate chunk Buffers, as a socket delivers it. */
function toChunks(stream: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += CHUNK) chunks.push(Buffer.from(stream.subarray(i, Math.min(stream.length, i + CHUNK))));
  return chunks;
}

const T0 = Date.UTC(2026, 10, 21, 1, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function jsonStream(): Buffer {
  if (fs.existsSync(NDJSON)) return headLines(NDJSON, LINES);
  log(`${NDJSON} not found: generating JSON lines`);
  const out: string[] = [];
  for (const g of generate(LINES, T0, T0 + LINES * 2)) out.push(g.json);
  return Buffer.from(out.join('\n') + '\n');
}

/** `text` of an auth line without its date and host, or a whole access line; about 120 bytes. */
function bodyOf(line: string): { app: string; pid: string; msg: string } {
  const m = /^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ([^:[\s]+)(?:\[(\d+)\])?: (.*)$/.exec(line);
  if (m) return { app: m[1], pid: m[2] ?? '-', msg: m[3].slice(0, 140) };
  return { app: 'apache2', pid: '-', msg: line.slice(0, 140) };
}

function syslogStreams(): { rfc5424: Buffer; rfc3164: Buffer } {
  const a: string[] = [];
  const b: string[] = [];
  let i = 0;
  for (const g of generate(LINES, T0, T0 + LINES * 2)) {
    const ms = T0 + i * 2; // 500 messages a second
    const d = new Date(ms);
    const { app, pid, msg } = bodyOf(g.line);
    const host = `host-${i % 37}.example.net`;
    const iso = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${pad(i % 1000, 3)}+00:00`;
    const sd = i % 2 === 0 ? '[timeQuality tzKnown="1" isSynced="1" syncAccuracy="412000"]' : '-';
    a.push(`<${(4 << 3) | (i % 8)}>1 ${iso} ${host} ${app} ${pid} - ${sd} ${msg}`);
    const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    b.push(`<${(10 << 3) | (i % 8)}>${date} ${host} ${app}${pid === '-' ? '' : `[${pid}]`}: ${msg}`);
    i++;
  }
  return { rfc5424: Buffer.from(a.join('\n') + '\n'), rfc3164: Buffer.from(b.join('\n') + '\n') };
}

// ---------------------------------------------------------------------------
// timing

interface Row {
  what: string;
  usPerEvent: number;
  note?: string;
}

function time(events: number, fn: () => number): number {
  let check = fn(); // warm-up
  if (check !== events) throw new Error(`expected ${events} events, got ${check}`);
  const runs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    gc?.();
    const t0 = performance.now();
    check = fn();
    runs.push(performance.now() - t0);
    if (check !== events) throw new Error(`expected ${events} events, got ${check}`);
  }
  runs.sort((x, y) => x - y);
  return (runs[Math.floor(runs.length / 2)] * 1000) / events;
}

function print(title: string, bytes: number, events: number, rows: Row[], baseline: number, whole: number): void {
  const w = Math.max(...rows.map((r) => r.what.length));
  process.stdout.write(`\n${title}: ${events.toLocaleString('en-US')} events, ${Math.round(bytes / events)} bytes each\n`);
  for (const r of rows) {
    const rate = Math.round(1e6 / r.usPerEvent).toLocaleString('en-US');
    process.stdout.write(`  ${r.what.padEnd(w)}  ${r.usPerEvent.toFixed(3).padStart(7)} µs/event  ${rate.padStart(11)} events/s${r.note ? `  ${r.note}` : ''}\n`);
  }
  process.stdout.write(`  whole path / baseline: ${(whole / baseline).toFixed(2)}\n`);
}

/**
 * Where the whole path stops: it keeps the batches handed to it until
 * STORE_HOLD events are held (as a store holds batches until they are
 * durable), then lets them go, so the garbage collector sees events live
 * about as long as in the server.
 */
const STORE_HOLD = Number(process.env.BENCH_PARSE_HOLD ?? 20_000);
class StoreStandIn {
  count = 0;
  private held: LogEvent[][] = [];
  private heldEvents = 0;
  write(events: LogEvent[]): void {
    this.count += events.length;
    this.held.push(events);
    this.heldEvents += events.length;
    if (this.heldEvents >= STORE_HOLD) {
      this.held = [];
      this.heldEvents = 0;
    }
  }
}

// ---------------------------------------------------------------------------
// JSON lines (src/ingest/tcp/lines-input.ts)

function benchJsonLines(): void {
  const stream = jsonStream();
  const chunks = toChunks(stream);
  let n = 0;
  for (let i = stream.indexOf(10); i >= 0; i = stream.indexOf(10, i + 1)) n++;

  // baseline: indexOf(10) + JSON.parse per line, a line cut by a chunk boundary rejoined with concat
  const baseline = time(n, () => {
    let count = 0;
    let carry: Buffer | null = null;
    for (const chunk of chunks) {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const text: string = carry === null ? chunk.toString('utf8', start, nl) : Buffer.concat([carry, chunk.subarray(0, nl)]).toString('utf8');
        carry = null;
        if (JSON.parse(text) !== null) count++;
        start = nl + 1;
      }
      if (start < chunk.length) carry = carry === null ? chunk.subarray(start) : Buffer.concat([carry, chunk.subarray(start)]);
    }
    return count;
  });

  // framing: the splitter alone
  const lines: Buffer[] = [];
  const framing = time(n, () => {
    let count = 0;
    const splitter = new LineSplitter(MAX_LINE);
    for (const chunk of chunks) splitter.push(chunk, () => void count++);
    splitter.end(() => void count++);
    return count;
  });
  {
    const splitter = new LineSplitter(MAX_LINE);
    for (const chunk of chunks) splitter.push(chunk, (buf, start, end) => void lines.push(Buffer.from(buf.subarray(start, end))));
  }

  // parsing: decoding and JSON.parse of each line (the first half of lineEvent; UTF-8 is checked per chunk)
  const objects: Record<string, unknown>[] = [];
  const parsing = time(n, () => {
    let count = 0;
    for (const line of lines) {
      const o = JSON.parse(line.toString('utf8', 0, line.length)) as Record<string, unknown>;
      if (o !== null) count++;
    }
    return count;
  });
  for (const line of lines) objects.push(JSON.parse(line.toString('utf8')) as Record<string, unknown>);

  // normalizing: eventFromObject on the parsed objects
  const arrival = Date.now() * 1000;
  const normalizing = time(n, () => {
    let count = 0;
    for (const o of objects) if (eventFromObject(o, arrival).ts > 0) count++;
    return count;
  });

  // lineEvent alone (parsing + normalizing as the input calls it), on the framed lines
  const decoding = time(n, () => {
    let count = 0;
    for (const line of lines) if (lineEvent(line, 0, line.length, arrival, true).ts > 0) count++;
    return count;
  });

  // the whole path: the connection's decoder, batches taken after every chunk as the input does
  const whole = time(n, () => {
    const decoder = new LinesDecoder(MAX_LINE);
    const store = new StoreStandIn();
    for (const chunk of chunks) {
      decoder.push(chunk);
      if (decoder.events.length > 0) store.write(decoder.take());
    }
    decoder.end();
    store.write(decoder.take());
    return store.count;
  });

  print('JSON lines over TCP', stream.length, n, [
    { what: 'baseline: indexOf + JSON.parse', usPerEvent: baseline },
    { what: 'framing (LineSplitter)', usPerEvent: framing },
    { what: 'parsing (toString, JSON.parse)', usPerEvent: parsing },
    { what: 'normalizing (eventFromObject)', usPerEvent: normalizing },
    { what: 'lineEvent (parsing + normalizing)', usPerEvent: decoding },
    { what: 'whole path (chunks -> LogEvent[])', usPerEvent: whole, note: `${(whole / baseline).toFixed(2)} x baseline` },
  ], baseline, whole);
}

// ---------------------------------------------------------------------------
// syslog over TCP (src/ingest/syslog/server.ts)

function benchSyslog(title: string, stream: Buffer): void {
  const chunks = toChunks(stream);
  let n = 0;
  for (let i = stream.indexOf(10); i >= 0; i = stream.indexOf(10, i + 1)) n++;

  const baseline = time(n, () => {
    let count = 0;
    let carry: Buffer | null = null;
    for (const chunk of chunks) {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const text: string = carry === null ? chunk.toString('utf8', start, nl) : Buffer.concat([carry, chunk.subarray(0, nl)]).toString('utf8');
        carry = null;
        if (text.length > 0) count++;
        start = nl + 1;
      }
      if (start < chunk.length) carry = carry === null ? chunk.subarray(start) : Buffer.concat([carry, chunk.subarray(start)]);
    }
    return count;
  });

  const framing = time(n, () => {
    let count = 0;
    const decoder = new SyslogFrameDecoder({ maxMessageBytes: MAX_LINE, onMessage: () => void count++ });
    for (const chunk of chunks) decoder.push(chunk);
    decoder.end();
    return count;
  });
  const frames: Buffer[] = [];
  {
    const decoder = new SyslogFrameDecoder({ maxMessageBytes: MAX_LINE, onFrame: (f) => void frames.push(Buffer.from(f.data)) });
    for (const chunk of chunks) decoder.push(chunk);
    decoder.end();
  }

  const opts: SyslogParseOptions = { now: new Date(T0 + 3_600_000), receivedFrom: '10.1.2.3' };
  const parsing = time(n, () => {
    let count = 0;
    for (const f of frames) if (!parseSyslogFields(f.toString('utf8', 0, f.length), opts).longName) count++;
    return count;
  });
  const parsed: { fields: Record<string, FieldValue>; time: number }[] = [];
  for (const f of frames) {
    const p = parseSyslogFields(f, opts);
    if (p.fields.tags !== undefined) throw new Error(`${title}: a message failed to parse: ${f.toString()}`);
    parsed.push({ fields: p.fields, time: p.time });
  }

  const arrival = Date.now() * 1000;
  const normalizing = time(n, () => {
    let count = 0;
    for (const p of parsed) if (eventWithTime(p.fields, p.time, arrival).ts > 0) count++;
    return count;
  });

  // the whole path: the connection's frame decoder and sink, a batch taken after every chunk
  const whole = time(n, () => {
    const sink = new MessageSink(undefined, '10.1.2.3');
    const decoder = new SyslogFrameDecoder({
      maxMessageBytes: MAX_LINE,
      onMessage: (buf, start, end, truncated) => {
        if (end > start) sink.addRange(buf, start, end, truncated);
      },
    });
    const store = new StoreStandIn();
    for (const chunk of chunks) {
      sink.stamp();
      decoder.push(chunk);
      store.write(sink.take());
    }
    sink.stamp();
    decoder.end();
    store.write(sink.take());
    return store.count;
  });

  print(title, stream.length, n, [
    { what: 'baseline: indexOf + toString', usPerEvent: baseline },
    { what: 'framing (SyslogFrameDecoder)', usPerEvent: framing },
    { what: 'parsing (toString, parseSyslogFields)', usPerEvent: parsing },
    { what: 'normalizing (eventWithTime)', usPerEvent: normalizing },
    { what: 'whole path (chunks -> LogEvent[])', usPerEvent: whole, note: `${(whole / baseline).toFixed(2)} x baseline` },
  ], baseline, whole);
}

// ---------------------------------------------------------------------------

const dump = process.env.BENCH_PARSE_DUMP;
if (dump) {
  // The inputs as files, for profiling one path at a time.
  const { rfc5424, rfc3164 } = syslogStreams();
  fs.mkdirSync(dump, { recursive: true });
  fs.writeFileSync(path.join(dump, 'json.bin'), jsonStream());
  fs.writeFileSync(path.join(dump, 'rfc5424.bin'), rfc5424);
  fs.writeFileSync(path.join(dump, 'rfc3164.bin'), rfc3164);
  log(`inputs written to ${dump}`);
  process.exit(0);
}

log(`node ${process.version}, ${REPS} runs per figure (median)${gc ? ', gc between runs' : ' (run with --expose-gc to collect between runs)'}`);
benchJsonLines();
const { rfc5424, rfc3164 } = syslogStreams();
benchSyslog('syslog RFC 5424 over TCP', rfc5424);
benchSyslog('syslog RFC 3164 over TCP', rfc3164);
