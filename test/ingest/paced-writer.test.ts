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
import { IngestBudget } from '../../src/ingest/budget.js';
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

function setup(opts: { batchEvents?: number; lingerMs?: number; maxPending?: number; budget?: IngestBudget } = {}) {
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

  it('shares one budget of held events between connections: spent, a connection writes what it has or, with no write slot, pauses until a write completes', async () => {
    const budget = new IngestBudget(100);
    const opts = { batchEvents: 1000, lingerMs: 10_000, maxPending: 10_000, budget };
    const a = setup(opts);
    const b = setup(opts);
    a.source.add(60);
    a.writer.received();
    assert.deepEqual(a.batches, [], 'budget left: a waits for a full batch');
    b.source.add(50);
    b.writer.received();
    assert.equal(budget.used, 110);
    assert.deepEqual(b.batches, [50], 'budget spent: b writes what it has at once');
    b.source.add(30);
    b.writer.received();
    assert.deepEqual(b.batches, [50, 30]);
    b.source.add(10);
    b.writer.received();
    assert.equal(b.socket.paused, true, 'no write slot and no budget: b stops reading');
    a.source.add(5);
    a.writer.received();
    assert.deepEqual(a.batches, [65], 'budget spent: a writes too');
    assert.equal(a.socket.paused, false);
    b.gates.shift()!();
    await sleep(0);
    assert.equal(budget.used, 105, 'the written events left the budget');
    assert.equal(b.socket.paused, true, 'still over the budget');
    b.gates.shift()!();
    await sleep(0);
    assert.equal(budget.used, 75);
    assert.equal(b.socket.paused, false, 'room again: b reads again');
    a.writer.end();
    b.writer.end();
    await a.release();
    await b.release();
    await Promise.all([a.writer.done, b.writer.done]);
    assert.equal(a.written() + b.written(), 155);
    assert.equal(budget.used, 0, 'everything written is given back');
  });

  it('gives back the budget of events a failed connection drops', async () => {
    const budget = new IngestBudget(1000);
    const socket = new FakeSocket();
    const source = new Source();
    let fail: (err: Error) => void = () => undefined;
    const writer = new PacedWriter(socket as unknown as net.Socket, source, {
      batchEvents: 10,
      budget,
      write: () => new Promise<void>((_r, reject) => (fail = reject)),
      written: () => undefined,
      failed: () => undefined,
    });
    source.add(10);
    writer.received();
    source.add(7);
    writer.received();
    assert.equal(budget.used, 17);
    fail(new Error('disk full'));
    await writer.done;
    assert.equal(budget.used, 0);
  });
});
