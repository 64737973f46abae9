/**
 * npm run bench: issue 25's ingest figure for word search in every string field. The bloom worker hashes
 * the words and n-grams of every string field of each segment line (what makes `msg:word`, `MESSAGE:word`
 * and bare words in any field skip blocks); this measures that work on lines of the shared samples with
 * five string fields beside the message, against the same lines with the message alone (the
 * message-only indexing of earlier versions), in the same run, with both loops the server uses
 * (WebAssembly, and the JavaScript fallback). It also counts the distinct keys of one block (122,880
 * rows) each way and the false-positive rate they give the fixed 512 KiB filter; the filter's size, so
 * the bytes on disk, is the same either way.
 */
import fs from 'node:fs';
import { BLOOM_HASHES } from '../src/store/bloom.js';
import { addSegmentWords } from '../src/store/duckdb/segment-words.js';
import { MAX_WASM_LINES_BYTES, WasmSegmentWords } from '../src/store/duckdb/segment-words-wasm.js';
import { sharedData } from '../test/helpers/shared-data.js';

const ROWS = 122_880;
const BITS = 1 << 22;
const RUNS = 5;
const log = (m: string): void => void process.stdout.write(`${m}\n`);

function sampleLines(): { withFields: Buffer; messageOnly: Buffer } {
  const texts = [
    ...fs.readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n'),
    ...fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n'),
  ].filter((l) => l.length > 0);
  const hosts = ['web-01', 'web-02', 'web-03', 'db-1.eu.example.com', 'cache-7'];
  const users = ['alice', 'bob', 'carol@example.com', 'svc-deploy', 'root'];
  const paths = ['/api/v1/orders', '/api/v1/users/42', '/login', '/static/app.js', '/health'];
  const full: string[] = [];
  const bare: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const head = `{"_seq":${i},"ts":${1765150000000000 + i * 1000}`;
    const message = `,"message":${JSON.stringify(texts[i % texts.length])}`;
    const requestId = (BigInt(i) * 0x9e3779b97f4a7c15n).toString(16).slice(-16).padStart(16, '0');
    const fields =
      `,"host":${JSON.stringify(hosts[i % hosts.length])},"f1":"${requestId}","f2":${JSON.stringify(users[(i * 7) % users.length])}` +
      `,"f3":${JSON.stringify(paths[(i * 3) % paths.length])},"f4":"Mozilla/5.0 (X11; Linux x86_64) Firefox/${100 + (i % 30)}.0","f5":${i % 997}`;
    full.push(`${head}${message}${fields}}\n`);
    bare.push(`${head}${message}}\n`);
  }
  return { withFields: Buffer.from(full.join('')), messageOnly: Buffer.from(bare.join('')) };
}

/** Median lines per second of `add` over the lines, in jobs of at most 4 MB as the worker gets them. */
function rate(lines: Buffer, add: (job: Uint8Array, bits: Uint32Array) => void): { linesPerSec: number; mbPerSec: number; bits: Uint32Array } {
  const jobs: Uint8Array[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = Math.min(lines.length, start + MAX_WASM_LINES_BYTES);
    if (end < lines.length) end = lines.lastIndexOf(10, end - 1) + 1;
    jobs.push(lines.subarray(start, end));
    start = end;
  }
  const times: number[] = [];
  let bits = new Uint32Array(BITS / 32);
  for (let r = 0; r <= RUNS; r++) {
    bits = new Uint32Array(BITS / 32);
    const t0 = performance.now();
    for (const job of jobs) add(job, bits);
    if (r > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const s = times[Math.floor(times.length / 2)] / 1000;
  return { linesPerSec: ROWS / s, mbPerSec: lines.length / 1e6 / s, bits };
}

/** The share of bits set, and the false-positive rate of a key lookup with BLOOM_HASHES probes. */
function fill(bits: Uint32Array): { share: number; falsePositive: number } {
  let set = 0;
  for (const w of bits) {
    let x = w;
    while (x) {
      x &= x - 1;
      set++;
    }
  }
  const share = set / BITS;
  return { share, falsePositive: share ** BLOOM_HASHES };
}

function main(): void {
  const { withFields, messageOnly } = sampleLines();
  const wasm = new WasmSegmentWords();
  const loops: [string, (job: Uint8Array, bits: Uint32Array) => void][] = [
    ['WebAssembly', (job, bits) => wasm.add(job, bits)],
    ['JavaScript', (job, bits) => addSegmentWords(Buffer.from(job.buffer, job.byteOffset, job.byteLength), bits)],
  ];
  log(`bloom keys of one block (${ROWS.toLocaleString('en-US')} rows of the shared samples), message + 5 string fields vs message only:`);
  for (const [name, add] of loops) {
    const all = rate(withFields, add);
    const base = rate(messageOnly, add);
    log(
      `  ${name.padEnd(11)} every string field ${Math.round(all.linesPerSec).toLocaleString('en-US')} lines/s (${all.mbPerSec.toFixed(0)} MB/s)` +
        ` | message only ${Math.round(base.linesPerSec).toLocaleString('en-US')} lines/s | time per line ×${(base.linesPerSec / all.linesPerSec).toFixed(2)}`,
    );
    if (name === 'WebAssembly') {
      const a = fill(all.bits);
      const b = fill(base.bits);
      log(
        `  filter fill: every string field ${(a.share * 100).toFixed(1)} % of bits, false positives ${(a.falsePositive * 100).toFixed(2)} %` +
          ` | message only ${(b.share * 100).toFixed(1)} %, ${(b.falsePositive * 100).toFixed(2)} % | filter size 512 KiB both (bytes on disk ×1.00)`,
      );
    }
  }
}

main();
