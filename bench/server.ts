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
/**
 * CPU seconds a process has used, all its threads together (those that ended too), from /proc; 0 when it
 * cannot be read. Linux counts it in ticks of 1/100 s (USER_HZ).
 */
export function cpuSecondsOf(pid: number): number {
  try {
    // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function ingested(url: string, input: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^logmill_events_ingested_total\\{input="${input}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Polls /api/v1/health until the server answers (up to a minute). */
export async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}
