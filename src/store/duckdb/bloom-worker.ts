/**
 * The bloom worker: adds the words of segment lines to blocks' bloom
 * filters, whose bits live in shared memory, on a thread of its own.
 * Messages are handled in the order they arrive; each is answered with its id
 * and its lines' memory, which the store writes its next lines into.
 */
import { parentPort } from 'node:worker_threads';
import { BloomFilter } from '../bloom.js';
import { addSegmentWords } from './segment-words.js';

export interface BloomJob {
  id: number;
  bits: Uint32Array;
  lines: Uint8Array;
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: BloomJob) => {
    try {
      // As a Buffer: its indexOf (for line ends) is native memchr, several times faster than a Uint8Array's.
      addSegmentWords(Buffer.from(job.lines.buffer, job.lines.byteOffset, job.lines.byteLength), new BloomFilter(0, job.bits));
      port.postMessage({ id: job.id, ok: true, spare: job.lines.buffer }, [job.lines.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: job.id, ok: false, error: (err as Error).message });
    }
  });
}
