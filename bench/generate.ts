/**
 * Volume data for benchmarks, generated from the real samples in
 * ../shared/data with varied values: client addresses, timestamps, ports,
 * pids, sizes. Repeating the sample lines verbatim would flatter compression.
 */
import fs from 'node:fs';
import path from 'node:path';
export { prng } from '../test/helpers/prng.js';
import { prng } from '../test/helpers/prng.js';

export interface Generated {
  /** The raw log line, as it would sit in a file. */
  line: string;
  /** What a shipper sends for it: the line, its time, host, source and a request_id (16 hex characters; not in the line). */
  json: string;
}


export function sharedData(name: string): string {
  const candidates = [path.resolve('..', 'shared', 'data', name), path.resolve('/work/shared/data', name)];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`sample ${name} not found beside the repository (../shared/data)`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const APACHE_TIME = /\[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]/;
const SYSLOG_TIME = /^\w{3} [ \d]\d \d{2}:\d{2}:\d{2}/;
const IPV4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g;
/** Response sizes in access lines, pids and ports in syslog lines: the values that really vary. */
const ACCESS_BYTES = /(" \d{3} )(\d+)/;
const PID = /\[(\d+)\]/;
const PORT = /port (\d+)/;

/**
 * Yields `count` events mixing access and auth lines, `@timestamp` spread
 * evenly from `startMs` to `endMs`.
 */
export function* generate(count: number, startMs: number, endMs: number, seed = 42): Generator<Generated> {
  const access = fs.readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').filter(Boolean);
  const auth = fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n').filter(Boolean);
  const rand = prng(seed);
  // Request ids come from a prng of their own: drawing them from `rand` would change every later value,
  // and the lines must stay those of earlier runs.
  const idRand = prng(seed ^ 0x1d5eed);
  const hex8 = (): string => Math.floor(idRand() * 2 ** 32).toString(16).padStart(8, '0');
  const ips: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const ip = `${1 + Math.floor(rand() * 223)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
    // 198.51.100.0/24 (TEST-NET-2) is kept for the address bench/run.ts plants in one line (bench/needles.ts);
    // moved without another draw, so the other addresses stay as they were.
    ips.push(ip.startsWith('198.51.100.') ? `198.51.101.${ip.slice('198.51.100.'.length)}` : ip);
  }
  const step = (endMs - startMs) / Math.max(1, count);
  for (let i = 0; i < count; i++) {
    const ms = Math.floor(startMs + i * step);
    const d = new Date(ms);
    const isAccess = rand() < 0.7;
    const sample = isAccess ? access[Math.floor(rand() * access.length)] : auth[Math.floor(rand() * auth.length)];
    // Zipf-like address choice: a few clients are busy, most are rare, as on real servers.
    let line = sample.replace(IPV4, () => ips[Math.floor(ips.length * rand() ** 3)]);
    if (isAccess) line = line.replace(ACCESS_BYTES, (_m, head: string) => head + String(Math.floor(rand() ** 2 * 200_000)));
    else line = line.replace(PID, () => `[${1000 + Math.floor(rand() * 60_000)}]`).replace(PORT, () => `port ${1024 + Math.floor(rand() * 64_000)}`);
    const pad = (n: number): string => String(n).padStart(2, '0');
    if (isAccess) {
      line = line.replace(APACHE_TIME, `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000]`);
    } else {
      line = line.replace(SYSLOG_TIME, `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`);
    }
    const host = isAccess ? `web-${Math.floor(rand() * 20)}` : `auth-${Math.floor(rand() * 5)}`;
    const source = isAccess ? '/var/log/apache2/access.log' : '/var/log/auth.log';
    const requestId = hex8() + hex8();
    yield { line, json: `{"@timestamp":"${d.toISOString()}","host":"${host}","source":"${source}","message":${JSON.stringify(line)},"request_id":"${requestId}"}` };
  }
}
