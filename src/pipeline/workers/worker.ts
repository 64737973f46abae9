/**
 * A filter worker: a thread that builds a pipeline's filter section and runs the batches it is sent.
 * Its filters see a watchdog whose deadlines the supervisor (pool.ts) reads from shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildFilterSteps, runFilterSteps } from '../runtime.js';
import type { PipelineLogger } from '../plugin.js';
import { fromWire, toWire, type FromWorker, type ToWorker, type WorkerSetup } from './protocol.js';
import { WorkerWatchdog } from './watchdog.js';

const port = parentPort;
if (port === null) throw new Error('pipeline/workers/worker.js runs as a worker thread only');
const setup = workerData as WorkerSetup;
const post = (message: FromWorker): void => port.postMessage(message);
const logger: PipelineLogger = {
  debug: (message) => post({ kind: 'log', level: 'debug', message }),
  info: (message) => post({ kind: 'log', level: 'info', message }),
  warn: (message) => post({ kind: 'log', level: 'warn', message }),
  error: (message) => post({ kind: 'log', level: 'error', message }),
};
const watchdog = new WorkerWatchdog(setup.watch);
const steps = buildFilterSteps(setup.tree, {
  logger,
  signal: new AbortController().signal,
  stdin: process.stdin,
  stdout: process.stdout,
  watchdog,
  dataDir: setup.dataDir,
});

port.on('message', (message: ToWorker) => {
  try {
    watchdog.startBatch(message.skip);
    const kept = runFilterSteps(steps, message.events.map(fromWire));
    watchdog.disarm();
    post({ kind: 'done', id: message.id, events: kept.map(toWire) });
  } catch (error) {
    watchdog.disarm();
    post({ kind: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) });
  }
});
post({ kind: 'ready' });
