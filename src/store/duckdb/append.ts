/**
 * Appending a commit's buffers to a segment file in one system call.
 */
import type { FileHandle } from 'node:fs/promises';

/**
 * Writes every buffer of `buffers`, in order, at the handle's position; returns the bytes written.
 * One writev for all of them: a write each cost a trip through the thread pool and back through the
 * event loop, which encodes a chunk of some request between two trips, so that a commit of fifty
 * buffers took a quarter of a second.
 */
export async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<number> {
  let pending = buffers;
  let written = 0;
  while (pending.length > 0) {
    const n = (await handle.writev(pending)).bytesWritten;
    written += n;
    pending = unwritten(pending, n);
  }
  return written;
}

/** What a write of the first `n` bytes of `buffers` left to write (a short write: a full disk, a signal). */
export function unwritten(buffers: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i].length) n -= buffers[i++].length;
  const rest = buffers.slice(i);
  if (n > 0) rest[0] = rest[0].subarray(n);
  return rest;
}
