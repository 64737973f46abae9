// Scratch probe: in-process decode and store.write rates, to find the hot spots (not part of npm run bench).
import fs from 'node:fs';
import { DuckDBStore } from '../src/store/duckdb/store.js';
import { generate } from './generate.js';
import { decodeIngestBody } from '../src/ingest/http/body.js';
const N = Number(process.env.N ?? 300000);
const dir = '/tmp/lm-probe'; fs.rmSync(dir, { recursive: true, force: true });
const store = new DuckDBStore({ dir }); await store.open();
const bodies: Buffer[] = []; let cur: string[] = [];
for (const g of generate(N, Date.now() - 3600e3, Date.now())) { cur.push(g.json); if (cur.length === 5000) { bodies.push(Buffer.from(cur.join('\n'))); cur = []; } }
let decodeMs = 0; let writeMs = 0;
const t0 = performance.now();
for (const b of bodies) { const a = performance.now(); const d = decodeIngestBody(b, { maxLineBytes: 1 << 20, arrivalMicros: Date.now() * 1000 }); const m = performance.now(); await store.write(d.events); writeMs += performance.now() - m; decodeMs += m - a; }
const s = (performance.now() - t0) / 1000;
console.log(`events/s ${(N / s) | 0}  decode ${(decodeMs * 1000 / N).toFixed(2)}us/ev  write ${(writeMs * 1000 / N).toFixed(2)}us/ev  rss ${(process.memoryUsage.rss() / 1e6) | 0}MB`);
await store.close();
