/**
 * Builds the bloom filters of open blocks on a worker thread. A filter's
 * bits are in a SharedArrayBuffer: the worker sets them, and the store reads
 * them once the worker has answered for every batch of the block (which is
 * what `ready` waits for), so a query never trusts a filter that may still
 * lack a word of a row it can see.
 */
import { Worker } from 'node:worker_threads';
import { BloomFilter } from '../bloom.js';
import type { BloomJob } from './bloom-worker.js';

export function sharedBloom(log2Bits: number): BloomFilter {
  return new BloomFilter(log2Bits, new Uint32Array(new SharedArrayBuffer(1 << (log2Bits - 3))));
}

/** Spare line buffers kept for reuse, at most this many bytes of them. */
const SPARE_BYTES = 16 << 20;

export class BloomIndexer {
  private worker: Worker | null = null;
  /**
   * Line buffers the worker has read and given back: segment lines are
   * written into them again, instead of tens of megabytes a second of fresh
   * memory that only a major garbage collection would return.
   */
  private readonly spares: ArrayBuffer[] = [];
  private spareBytes = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, (ok: boolean) => void>();
  private broken: Error | null = null;

  /**
   * Adds the words of the messages in `lines` (segment lines; their memory
   * moves to the worker, so it must be theirs alone, not a slice of Node's
   * shared pool, and the caller must not use it again) to
   * `bloom`, whose bits must be shared (see sharedBloom). Resolves true once
   * done, false if the worker failed (the filter is then incomplete).
   */
  add(bloom: BloomFilter, lines: Uint8Array): Promise<boolean> {
    if (this.broken) return Promise.resolve(false);
    const worker = this.start();
    const id = this.nextId++;
    const job: BloomJob = { id, bits: bloom.bits, lines };
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage(job, [lines.buffer as ArrayBuffer]);
    });
  }

  /** A buffer of its own memory of at least `minBytes`: a spare one if one is large enough. */
  buffer(minBytes: number): Buffer {
    for (let i = this.spares.length - 1; i >= 0; i--) {
      const ab = this.spares[i];
      if (ab.byteLength < minBytes) continue;
      this.spares.splice(i, 1);
      this.spareBytes -= ab.byteLength;
      return Buffer.from(ab);
    }
    return Buffer.allocUnsafeSlow(minBytes);
  }

  private keep(ab: ArrayBuffer): void {
    if (this.spareBytes + ab.byteLength > SPARE_BYTES) return;
    this.spares.push(ab);
    this.spareBytes += ab.byteLength;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.fail(new Error('bloom worker closed'));
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./bloom-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (m: { id: number; ok: boolean; spare?: ArrayBuffer }) => {
      if (m.spare) this.keep(m.spare);
      const resolve = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      resolve?.(m.ok);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) {
        this.worker = null;
        this.fail(new Error(`bloom worker exited with code ${code}`));
      }
    });
    this.worker = worker;
    return worker;
  }

  /** Every pending filter is incomplete: its block will get its filter from the data instead. */
  private fail(err: Error): void {
    this.broken ??= err;
    for (const resolve of this.waiting.values()) resolve(false);
    this.waiting.clear();
  }
}
