/**
 * addSegmentWords with each message's words hashed by WebAssembly
 * (message-words.wat): the same bits, in about half the time of the
 * JavaScript loop, which was a sixth of the server's CPU while ingesting.
 * The lines' structure is still read here; only the per-byte loop moved.
 *
 * WebAssembly reads only its own memory: a job's lines and its filter's bits
 * are copied in, and the bits copied back out (two memcpys, little beside the
 * loop over every byte).
 */
import { MESSAGE_WORDS_WASM } from './message-words-wasm.js';
import { addSegmentWords, HEX, WORD_BYTE, type MessageWords } from './segment-words.js';

interface Exports {
  memory: WebAssembly.Memory;
  words(at: number, end: number, bits: number, mask: number, s1: number, s2: number): number;
}

const TABLES_BYTES = 512;
/** Past the lines: a `\u` escape's four digits are loaded before they are checked against the end. */
const SLACK_BYTES = 8;
const PAGE_BYTES = 65_536;
/**
 * Jobs of more lines than this take the JavaScript loop: WebAssembly memory
 * never shrinks, and one write of a few huge documents must not keep tens of
 * megabytes for good. Writes of many small events are far below it.
 */
export const MAX_WASM_LINES_BYTES = 4 << 20;
/** Jobs of fewer bytes of lines than the filter's bytes over this take the JavaScript loop (see add). */
export const SMALL_JOB_SHARE = 16;

export class WasmSegmentWords {
  private readonly exports: Exports;
  /** Where the lines of the current job start in memory (the bits are just before them). */
  private data = 0;
  private readonly wordsAt: MessageWords;

  constructor() {
    const module = new WebAssembly.Module(Buffer.from(MESSAGE_WORDS_WASM, 'base64'));
    this.exports = new WebAssembly.Instance(module).exports as unknown as Exports;
    const memory = new Uint8Array(this.exports.memory.buffer);
    memory.set(WORD_BYTE, 0);
    memory.set(HEX, 256);
    const words = this.exports.words;
    // Positions here are relative to the lines, addresses there absolute.
    this.wordsAt = (_b, at, end, _bits, mask, s1, s2) => words(this.data + at, this.data + end, TABLES_BYTES, mask, s1, s2) - this.data;
  }

  /** What addSegmentWords(lines, bits) does, in WebAssembly when that is faster. */
  add(lines: Uint8Array, bits: Uint32Array): void {
    // A few lines take the JavaScript loop too: copying the filter in and out (128 KiB each way by default)
    // costs what WebAssembly saves on about twenty access-log lines.
    if (lines.byteLength > MAX_WASM_LINES_BYTES || lines.byteLength < bits.byteLength / SMALL_JOB_SHARE) {
      addSegmentWords(Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength), bits);
    } else {
      this.addInWasm(lines, bits);
    }
  }

  /** What addSegmentWords(lines, bits) does, in WebAssembly whatever the size. */
  addInWasm(lines: Uint8Array, bits: Uint32Array): void {
    const data = TABLES_BYTES + bits.byteLength;
    const need = data + lines.byteLength + SLACK_BYTES;
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE_BYTES));
    const buffer = memory.buffer;
    new Uint32Array(buffer, TABLES_BYTES, bits.length).set(bits);
    new Uint8Array(buffer, data, lines.byteLength).set(lines);
    this.data = data;
    // A Buffer over the lines: its indexOf (line ends) is native memchr.
    const view = Buffer.from(buffer, data, lines.byteLength);
    addSegmentWords(view, new Uint32Array(buffer, TABLES_BYTES, bits.length), this.wordsAt);
    bits.set(new Uint32Array(buffer, TABLES_BYTES, bits.length));
  }
}
