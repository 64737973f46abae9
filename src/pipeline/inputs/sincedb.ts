/**
 * The file input's sincedb: how far each file (known by device and inode, not by name, so that a
 * renamed file keeps its place) has been delivered.
 *
 * One line per file in Logstash's layout: `inode major minor position last_active path`, so an
 * operator can read it (and a Logstash sincedb can be taken over). It is written whole to a temporary
 * file that is fsynced and renamed over the old one: a crash leaves the old or the new, never half.
 * `/dev/null` (Logstash's idiom for "remember nothing") is neither read nor written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface SincedbEntry {
  /** Bytes delivered: the next run starts reading here. */
  offset: number;
  /** Seconds since the epoch when the offset last moved. */
  lastActive: number;
  path: string;
}

/** A file's identity: `${dev}:${ino}` as Node's bigint stat gives them. */
export type FileKey = string;

export function fileKey(stat: { dev: bigint; ino: bigint }): FileKey {
  return `${stat.dev}:${stat.ino}`;
}

export class Sincedb {
  private readonly entries = new Map<FileKey, SincedbEntry>();
  private dirty = false;

  /** `file` null: nothing is remembered between runs. */
  constructor(
    readonly file: string | null,
    /** Entries not active for this many seconds are forgotten (Logstash's sincedb_clean_after). */
    private readonly cleanAfterSeconds: number,
  ) {}

  static forPath(file: string, cleanAfterSeconds: number): Sincedb {
    return new Sincedb(file === '/dev/null' || file === 'NUL' ? null : file, cleanAfterSeconds);
  }

  async load(): Promise<void> {
    if (this.file === null) return;
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry) this.entries.set(entry.key, entry.value);
    }
  }

  get(key: FileKey): SincedbEntry | undefined {
    return this.entries.get(key);
  }

  set(key: FileKey, offset: number, file: string): void {
    this.entries.set(key, { offset, lastActive: Date.now() / 1000, path: file });
    this.dirty = true;
  }

  delete(key: FileKey): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  async save(): Promise<void> {
    if (this.file === null || !this.dirty) return;
    this.dirty = false;
    const oldest = Date.now() / 1000 - this.cleanAfterSeconds;
    let text = '';
    for (const [key, entry] of this.entries) {
      if (entry.lastActive < oldest) {
        this.entries.delete(key);
        continue;
      }
      text += formatLine(key, entry);
    }
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, this.file);
  }
}

function formatLine(key: FileKey, entry: SincedbEntry): string {
  const [dev, ino] = key.split(':').map((n) => BigInt(n));
  const { major, minor } = splitDevice(dev);
  return `${ino} ${major} ${minor} ${entry.offset} ${entry.lastActive.toFixed(3)} ${entry.path}\n`;
}

function parseLine(line: string): { key: FileKey; value: SincedbEntry } | null {
  const match = /^(\d+) (\d+) (\d+) (\d+)(?: (\d+(?:\.\d+)?))?(?: (.*))?$/.exec(line);
  if (!match) return null;
  const dev = joinDevice(BigInt(match[2]), BigInt(match[3]));
  const offset = Number(match[4]);
  if (!Number.isSafeInteger(offset)) return null;
  return { key: `${dev}:${BigInt(match[1])}`, value: { offset, lastActive: Number(match[5] ?? Date.now() / 1000), path: match[6] ?? '' } };
}

/** glibc's major()/minor() of a Linux dev_t, which is what Logstash writes. */
export function splitDevice(dev: bigint): { major: bigint; minor: bigint } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major, minor };
}

export function joinDevice(major: bigint, minor: bigint): bigint {
  return ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
}
