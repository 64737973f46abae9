/**
 * A shipper for the `_bulk` figures of bench/protocols.ts: the official
 * client's bulk helper in a process of its own, as an application that ships
 * its logs runs it, holding nothing but the documents it sends.
 *
 * In the bench's own process the helper paid for full garbage collections
 * that marked the bench's other data (every phase's payloads, hundreds of
 * megabytes): 8.7 µs of CPU per document where this process spends about 6,
 * and on two shared cores that CPU is the server's.
 *
 * Usage: node dist/bench/bulk-shipper.js PORT FILE objects|lines [FILTER_PATH]
 *   Reads FILE (NDJSON, one document a line) into the helper's datasource:
 *   objects (each line parsed) or NDJSON lines (each line as it is). With
 *   FILTER_PATH, each bulk request asks for that `filter_path`. Writes
 *   `ready` once loaded, waits for a line on stdin, runs the helper, and
 *   writes one line of JSON: documents sent and failed, seconds, and this
 *   process's CPU per document in µs.
 */
import fs from 'node:fs';
import { Client } from '@elastic/elasticsearch';

/** How the bench drives the bulk helper: create actions into one data stream, 5 MB flushes, 4 requests in flight. */
const BULK_OPTIONS = { onDocument: () => ({ create: { _index: 'logs-bench-default' } }), flushBytes: 5_000_000, concurrency: 4 };

/** What the shipper writes when the helper is done. */
export interface ShipperResult {
  successful: number;
  failed: number;
  seconds: number;
  cpuUsPerDoc: number;
}

async function main(): Promise<void> {
  const [port, file, kind, filterPath] = process.argv.slice(2);
  if (!port || !file || (kind !== 'objects' && kind !== 'lines')) {
    process.stderr.write('usage: bulk-shipper PORT FILE objects|lines [FILTER_PATH]\n');
    process.exit(2);
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const datasource: (Record<string, unknown> | string)[] = kind === 'objects' ? lines.map((l) => JSON.parse(l) as Record<string, unknown>) : lines;
  const client = new Client({ node: `http://127.0.0.1:${port}` });
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await client.helpers.bulk({ datasource, ...BULK_OPTIONS, ...(filterPath ? { filter_path: filterPath } : {}) });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  const result: ShipperResult = { successful: r.successful, failed: r.failed, seconds, cpuUsPerDoc: (cpu.user + cpu.system) / Math.max(1, r.successful) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdin.pause();
}

void main();
