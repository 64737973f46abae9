/**
 * A file a filter reads at start and again when it changes (cidr's `network_path`, translate's
 * `dictionary_path`), with Logstash's `refresh_interval` in seconds.
 *
 * Filters have no timers of their own (a filter is a function over batches and has no close), so the
 * check is lazy: the first batch after the interval has passed looks at the file's size and mtime, and
 * reads it again only when either changed. A reload that fails keeps the last good contents and logs
 * why, so a half-written file never empties a dictionary in production.
 */
import fs from 'node:fs';
import type { PipelineLogger } from '../plugin.js';

/** Files larger than this are refused: a dictionary is held in memory whole. */
export const MAX_WATCHED_FILE_BYTES = 256 * 1024 * 1024;

export class WatchedFile<T> {
  private value: T;
  private stamp: string;
  private checkedAt: number;

  /** Reads the file once; throws (with the loader's message) when the first read fails. */
  constructor(
    readonly path: string,
    private readonly refreshMs: number,
    private readonly load: (text: string) => T,
    private readonly logger: PipelineLogger,
    private readonly now: () => number = Date.now,
  ) {
    const stat = statOf(path);
    this.value = load(readBounded(path, stat));
    this.stamp = stampOf(stat);
    this.checkedAt = now();
  }

  /** The contents, read again first when the interval has passed and the file changed. */
  current(): T {
    if (this.refreshMs > 0 && this.now() - this.checkedAt >= this.refreshMs) this.refresh();
    return this.value;
  }

  /** Checks the file now, whatever the interval (tests, and the lazy check above). */
  refresh(): void {
    this.checkedAt = this.now();
    try {
      const stat = statOf(this.path);
      const stamp = stampOf(stat);
      if (stamp === this.stamp) return;
      this.value = this.load(readBounded(this.path, stat));
      this.stamp = stamp;
      this.logger.info(`reloaded ${this.path}`);
    } catch (error) {
      this.logger.warn(`could not reload ${this.path}, keeping its last good contents: ${(error as Error).message}`);
    }
  }
}

function statOf(path: string): fs.Stats {
  return fs.statSync(path);
}

function stampOf(stat: fs.Stats): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
}

function readBounded(path: string, stat: fs.Stats): string {
  if (!stat.isFile()) throw new Error(`${path} is not a file`);
  if (stat.size > MAX_WATCHED_FILE_BYTES) throw new Error(`${path} is ${stat.size} bytes, more than the ${MAX_WATCHED_FILE_BYTES} allowed`);
  return fs.readFileSync(path, 'utf8');
}
