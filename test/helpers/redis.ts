/**
 * A real redis-server for tests: started as a child process on a free loopback port (with nothing
 * saved to disk), stopped (or killed, to test what happens when Redis goes away) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createClient } from 'redis';

export interface RedisServer {
  readonly port: number;
  readonly process: ChildProcess;
  /** A client for the test's own commands (connected; closed by stop). */
  client(): Promise<ReturnType<typeof createClient>>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server; `port` to start one again on the port a stopped one had, `password` to make it
 * ask for one (`--requirepass`).
 */
export async function startRedis(port?: number, options: { password?: string } = {}): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const extra = options.password === undefined ? [] : ['--requirepass', options.password];
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${chosen}: ${output}`)), 10_000);
    const check = (): void => {
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  const clients: Array<ReturnType<typeof createClient>> = [];
  return {
    port: chosen,
    process: child,
    async client() {
      const c = createClient({ socket: { host: '127.0.0.1', port: chosen, reconnectStrategy: false }, password: options.password });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) if (c.isOpen) c.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
