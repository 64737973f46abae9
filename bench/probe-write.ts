import fs from 'node:fs';
import { DuckDBStore } from '../src/store/duckdb/store.js';
import { generate } from './generate.js';
import { decodeIngestBody } from '../src/ingest/http/body.js';
const N = Number(process.env.N ?? 500000);
const dir = '/tmp/lm-probe'; fs.rmSync(dir, { recursive: true, force: true });
const store = new DuckDBStore({ dir }); await store.open();
const lines: string[] = []; let raw = 0;
for (const g of generate(N, Date.now() - 3600e3, Date.now())) { lines.push(g.json); raw += g.line.length + 1; }
const bodies: Buffer[] = []; for (let i = 0; i < N; i += 5000) bodies.push(Buffer.from(lines.slice(i, i + 5000).join('\n')));
let t0 = performance.now(); let decodeMs = 0; let writeMs = 0;
for (const b of bodies) { const a = performance.now(); const d = decodeIngestBody(b, { maxLineBytes: 1 << 20, arrivalMicros: Date.now() * 1000 }); const m = performance.now(); await store.write(d.events); writeMs += performance.now() - m; decodeMs += m - a; }
const s = (performance.now() - t0) / 1000;
console.log(`events/s ${(N / s) | 0} decode ${decodeMs | 0}ms write ${writeMs | 0}ms rss ${(process.memoryUsage.rss() / 1e6) | 0}MB`);
await store.close();
const st = fs.readdirSync(dir + '/partitions').reduce((n, f) => n + fs.statSync(dir + '/partitions/' + f).size, 0);
console.log('disk ratio', (st / raw).toFixed(3));
