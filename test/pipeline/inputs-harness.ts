/**
 * Shared by the network input tests: an input built from configuration text exactly as the runtime
 * builds it (registry, Settings), run with an emit the test controls (it records events and can be
 * held shut to check that nothing is acknowledged before delivery), free ports, bounded polling.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { inputs } from '../../src/pipeline/plugins.js';
import { Settings } from '../../src/pipeline/settings.js';
import type { PipelineEvent } from '../../src/pipeline/event.js';
import { UNWATCHED, type Input, type PipelineLogger } from '../../src/pipeline/plugin.js';

export { sleep, waitFor } from '../helpers/inputs.js';
import { waitFor } from '../helpers/inputs.js';

/** The first plugin of the config's input section, built by its factory from the registry. */
export function buildInput(config: string, logs: string[] = [], signal: AbortSignal = new AbortController().signal): Input {
  const tree = parseConfig(config);
  const section = tree.sections.find((s) => s.kind === 'input');
  const statement = section?.body[0];
  if (!statement || statement.kind !== 'plugin') throw new Error('the config has no input plugin');
  const factory = inputs[statement.plugin.name];
  if (!factory) throw new Error(`no input named ${statement.plugin.name}`);
  const keep = (level: string) => (m: string) => void logs.push(`${level} ${m}`);
  const logger: PipelineLogger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
  return factory(new Settings(statement.plugin, 'input'), { logger, signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() });
}

/** An emit that records what it is given and, while held, does not resolve. */
export class Collector {
  readonly events: PipelineEvent[] = [];
  batches = 0;
  private held = false;
  private waiting: Array<() => void> = [];

  readonly emit = async (events: PipelineEvent[]): Promise<void> => {
    this.batches++;
    this.events.push(...events);
    if (this.held) await new Promise<void>((r) => this.waiting.push(r));
  };

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    const w = this.waiting;
    this.waiting = [];
    for (const r of w) r();
  }

  /** Batches emitted and not yet resolved. */
  get pending(): number {
    return this.waiting.length;
  }

  json(): Array<Record<string, any>> {
    return this.events.map((e) => ({ ...(e.toJSON() as Record<string, any>), '@metadata': e.metadata }));
  }

  async waitForEvents(n: number, timeoutMs = 20_000): Promise<Array<Record<string, any>>> {
    await waitFor(`${n} events (have ${this.events.length})`, () => this.events.length >= n, timeoutMs);
    return this.json();
  }
}

export interface Running {
  readonly collector: Collector;
  readonly logs: string[];
  readonly input: Input;
  /** Aborts the input and waits for its run to end. */
  stop(): Promise<void>;
}

/** Builds and runs an input; resolves once its listeners answer (polled by `ready`). */
export async function runInput(config: string, ready: () => Promise<boolean>): Promise<Running> {
  const controller = new AbortController();
  const logs: string[] = [];
  const input = buildInput(config, logs, controller.signal);
  const collector = new Collector();
  let failure: unknown = null;
  const done = input.run(collector.emit).catch((e: unknown) => {
    failure = e;
  });
  await waitFor('the input to listen', async () => {
    if (failure) throw failure;
    return ready();
  });
  return {
    collector,
    logs,
    input,
    stop: async () => {
      controller.abort();
      collector.release();
      await done;
      if (failure) throw failure;
    },
  };
}

/** A port free for both TCP and UDP on loopback now (the tests bind it right after). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** Whether something accepts TCP connections on the port. */
export function tcpListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Whether a UDP port is taken (binding it fails). */
export function udpTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const u = dgram.createSocket('udp4');
    u.once('error', () => resolve(true));
    u.bind(port, '127.0.0.1', () => u.close(() => resolve(false)));
  });
}

export function sendUdp(port: number, payload: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = dgram.createSocket('udp4');
    u.send(typeof payload === 'string' ? Buffer.from(payload) : payload, port, '127.0.0.1', (err) => {
      u.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Opens a TCP connection, writes the data, half-closes, and resolves when the server closes. */
export function sendTcp(port: number, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(data));
    s.on('data', () => undefined);
    s.once('error', reject);
    s.once('close', () => resolve());
  });
}
