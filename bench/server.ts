/** What both benchmarks need of the server process they measure: ports, its memory, its own counts. */
import fs from 'node:fs';
import net from 'node:net';

/** A loopback port nothing listens on (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A process's resident memory in bytes (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Events an input has stored durably, from /metrics: cheap to poll, unlike a search while ingest runs. */
export async function ingested(url: string, input: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^logmill_events_ingested_total\\{input="${input}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
