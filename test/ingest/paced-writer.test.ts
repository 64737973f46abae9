/**
 * PacedWriter: large batches while data flows, two writes in flight (the
 * store encodes one while it syncs the other) with the next batch decoded
 * meanwhile, reading paused only when that one is full,
 * a trickle written within the linger time, everything written at the end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import type { LogEvent } from '../../src/core/event.js';
import { PacedWriter } from '../../src/ingest/paced-writer.js';

class FakeSocket {
  paused = false;
  destroyed = false;
  pauses = 0;
  isPaused(): boolean {
    return this.paused;
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

class Source {
  events: LogEvent[] = [];
  add(n: number): void {
    for (let i = 0; i < n; i++) this.events.push({ ts: i, fields: { message: 'm' } });
  }
  take(): LogEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(opts: { batchEvents?: number; lingerMs?: number; maxPending?: number } = {}) {
  const socket = new FakeSocket();
  const source = new Source();
  const batches: number[] = [];
  let active = 0;
  let maxActive = 0;
  const gates: (() => void)[] = [];
  let written = 0;
  const writer = new PacedWriter(socket as unknown as net.Socket, source, {
    ...opts,
    write: async (events) => {
      batches.push(events.length);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => gates.push(r));
      active--;
    },
    written: (n) => void (written += n),
    failed: () => undefined,
  });
  const release = async (): Promise<void> => {
    while (gates.length > 0) gates.shift()!();
    await sleep(0);
  };
  return { socket, source, writer, batches, gates, release, maxActive: () => maxActive, written: () => written };
}

describe('PacedWriter', () => {
  it('writes full batches at once, two in flight, decodes the next meanwhile, and pauses only when that one is full', async () => {
    const t = setup({ batchEvents: 100, maxPending: 250, lingerMs: 10_000 });
    t.source.add(120);
    t.writer.received();
    assert.deepEqual(t.batches, [120]);
    t.source.add(110);
    t.writer.received();
    assert.deepEqual(t.batches, [120, 110], 'a second write while the first is in flight');
    for (let i = 0; i < 4; i++) {
      t.source.add(60);
      t.writer.received();
    }
    assert.deepEqual(t.batches, [120, 110], 'no third write in flight');
    assert.equal(t.socket.paused, false, 'room left in the next batch');
    t.source.add(60);
    t.writer.received();
    assert.equal(t.socket.paused, true, 'the next batch is full: reading pauses');
    t.gates.shift()!();
    await sleep(0);
    assert.deepEqual(t.batches, [120, 110, 300], 'the waiting batch goes as soon as a write is done');
    assert.equal(t.socket.paused, false);
    await t.release();
    t.writer.end();
    await t.writer.done;
    assert.equal(t.written(), 530);
    assert.equal(t.maxActive(), 2);
  });

  it('writes a trickle after the linger time, and what is left at the end', async () => {
    const t = setup({ batchEvents: 1000, lingerMs: 30 });
    t.source.add(3);
    t.writer.received();
    assert.deepEqual(t.batches, []);
    await sleep(60);
    assert.deepEqual(t.batches, [3]);
    t.source.add(2);
    t.writer.received();
    assert.deepEqual(t.batches, [3], 'a trickle waits for the linger time, even with room in flight');
    t.writer.end();
    assert.deepEqual(t.batches, [3, 2], 'the end writes what is left');
    let done = false;
    void t.writer.done.then(() => (done = true));
    await sleep(0);
    assert.equal(done, false, 'done waits for the writes in flight');
    await t.release();
    await t.writer.done;
    assert.equal(t.written(), 5);
  });

  it('stops and destroys the connection when a write fails', async () => {
    const socket = new FakeSocket();
    const source = new Source();
    const failures: number[] = [];
    const writer = new PacedWriter(socket as unknown as net.Socket, source, {
      batchEvents: 1,
      write: () => Promise.reject(new Error('disk full')),
      written: () => assert.fail('nothing was written'),
      failed: (_err, n) => void failures.push(n),
    });
    source.add(2);
    writer.received();
    await writer.done;
    assert.deepEqual(failures, [2]);
    assert.equal(socket.destroyed, true);
  });
});
