/**
 * A pipeline's filter workers (`pipeline.workers` threads) and their supervisor. Batches queue and go to
 * whichever worker is free. Every 50 ms the supervisor reads each busy worker's watchdog: a step that
 * has outlived its deadline (a regular expression that backtracks without end cannot be interrupted
 * inside V8) gets its worker stopped and replaced, and its batch runs again in the new worker with that
 * step refused, so the event is tagged (`_groktimeout`) and the batch's other events go on.
 */
import { Worker } from 'node:worker_threads';
import type { ConfigTree } from '../parser/ast.js';
import type { PipelineEvent } from '../event.js';
import type { PipelineLogger } from '../plugin.js';
import { fromWire, toWire, type FromWorker, type WireEvent, type WorkerSetup } from './protocol.js';
import { newWatchSlots, WatchReader } from './watchdog.js';

const WORKER_FILE = new URL('./worker.js', import.meta.url);
const SUPERVISE_EVERY_MS = 50;
/** A batch whose steps keep running away is given up after this many runs (each refuses one more step). */
const MAX_RUNS = 64;

interface Job {
  readonly id: number;
  readonly events: WireEvent[];
  readonly skip: number[];
  readonly resolve: (events: PipelineEvent[]) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  readonly watch: WatchReader;
  ready: boolean;
  job: Job | null;
}

export interface PoolOptions {
  readonly tree: ConfigTree;
  readonly workers: number;
  readonly dataDir: string;
  readonly logger: PipelineLogger;
}

export class FilterWorkers {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < Math.max(1, options.workers); i++) {
      const watch = new WatchReader(newWatchSlots());
      const slot: Slot = { worker: this.startWorker(watch, () => slot), watch, ready: false, job: null };
      this.slots.push(slot);
    }
    this.timer = setInterval(() => this.supervise(), SUPERVISE_EVERY_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.slots.length;
  }

  /** Resolves once every worker has built its filters (a worker that cannot fails the promise). */
  async ready(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve, reject) => {
            if (slot.ready) return resolve();
            const onMessage = (m: FromWorker): void => {
              if (m.kind === 'ready') done(null);
            };
            const onError = (e: Error): void => done(e);
            const done = (e: Error | null): void => {
              slot.worker.off('message', onMessage);
              slot.worker.off('error', onError);
              if (e) reject(e);
              else resolve();
            };
            slot.worker.on('message', onMessage);
            slot.worker.on('error', onError);
          }),
      ),
    );
  }

  /** The batch through the filters in a worker; resolves with the events kept. */
  run(events: PipelineEvent[]): Promise<PipelineEvent[]> {
    if (this.closed) return Promise.reject(new Error('the pipeline is stopping'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, events: events.map(toWire), skip: [], resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const job of this.queue.splice(0)) job.reject(new Error('the pipeline stopped'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** A worker watched through `watch`, its messages and crashes reported as those of the slot `owner` answers. */
  private startWorker(watch: WatchReader, owner: () => Slot): Worker {
    const setup: WorkerSetup = { tree: this.options.tree, dataDir: this.options.dataDir, watch: watch.buffer };
    const worker = new Worker(WORKER_FILE, { workerData: setup });
    worker.on('message', (m: FromWorker) => this.onMessage(owner(), m));
    worker.on('error', (error) => this.onCrash(owner(), error));
    return worker;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    switch (m.kind) {
      case 'ready':
        slot.ready = true;
        this.dispatch();
        return;
      case 'log':
        this.options.logger[m.level](m.message);
        return;
      case 'done':
      case 'failed': {
        const job = slot.job;
        if (job === null || job.id !== m.id) return;
        slot.job = null;
        if (m.kind === 'done') job.resolve(m.events.map(fromWire));
        else job.reject(new Error(m.message));
        this.dispatch();
        return;
      }
    }
  }

  /** A worker that died of an uncaught error: its batch fails (as it would in one thread) and a new worker takes its place. */
  private onCrash(slot: Slot, error: Error): void {
    const job = slot.job;
    slot.job = null;
    this.replace(slot);
    job?.reject(error);
  }

  private replace(slot: Slot): void {
    const old = slot.worker;
    old.removeAllListeners('message');
    old.removeAllListeners('error');
    void old.terminate();
    if (this.closed) return;
    slot.watch.clear();
    slot.ready = false;
    slot.worker = this.startWorker(slot.watch, () => slot);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job !== null) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ kind: 'batch', id: job.id, events: job.events, skip: job.skip });
    }
  }

  private supervise(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      const job = slot.job;
      if (job === null) continue;
      const step = slot.watch.overdue(now);
      if (step === 0) continue;
      slot.job = null;
      this.replace(slot);
      if (job.skip.length + 1 >= MAX_RUNS) {
        job.reject(new Error(`a batch of ${job.events.length} event(s) ran past its filters' time limits ${MAX_RUNS} times; it was given up`));
        continue;
      }
      this.options.logger.warn(`a filter step ran past its time limit (grok's timeout_millis); its worker was replaced and the batch runs again with that event tagged`);
      // The batch is run again from the copies sent, which the stopped worker could not have changed.
      this.queue.unshift({ ...job, skip: [...job.skip, step] });
    }
    this.dispatch();
  }
}
