/**
 * The bloom worker: adds the words of segment lines to blocks' bloom
 * filters, whose bits live in shared memory, on a thread of its own.
 * Messages are handled in the order they arrive; each is answered with its id
 * and its lines' memory, which the store writes its next lines into.
 */
import { parentPort } from 'node:worker_threads';
import { addSegmentWords } from './segment-words.js';
import { WasmSegmentWords } from './segment-words-wasm.js';

export interface BloomJob {
  id: number;
  bits: Uint32Array;
  lines: Uint8Array;
}

/** The WebAssembly loop, or the JavaScript one where WebAssembly cannot be compiled. */
function wordsAdder(): (lines: Uint8Array, bits: Uint32Array) => void {
  try {
    const wasm = new WasmSegmentWords();
    return (lines, bits) => wasm.add(lines, bits);
  } catch {
    // As a Buffer: its indexOf (for line ends) is native memchr, several times faster than a Uint8Array's.
    return (lines, bits) => addSegmentWords(Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength), bits);
  }
}

if (parentPort) {
  const port = parentPort;
  const addWords = wordsAdder();
  port.on('message', (job: BloomJob) => {
    try {
      addWords(job.lines, job.bits);
      port.postMessage({ id: job.id, ok: true, spare: job.lines.buffer }, [job.lines.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: job.id, ok: false, error: (err as Error).message });
    }
  });
}
