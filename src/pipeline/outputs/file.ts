/**
 * The `file` output: each event, encoded by the codec (json_lines by default), appended to the file its
 * `path` names; the path may hold `%{field}` and `%{+YYYY-MM-dd}` references, as in Logstash.
 *
 * A write resolves only once its bytes are fsynced (durable), which makes `flush_interval` moot: it is
 * accepted and has no effect. A path that, once its references are filled in, has a `..` segment or
 * leaves the directory before the first reference goes to `<that directory>/<filename_failure>`
 * instead, as Logstash does, so an event's fields cannot make it write anywhere else.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { PipelineEvent } from '../event.js';
import { encoderFrom } from '../codecs/index.js';
import type { Output, OutputFactory } from '../plugin.js';
import type { Settings } from '../settings.js';

/** Errors that come from the name an event's fields made, not from the disk. */
const EVENT_PATH_ERRORS = new Set(['EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'EINVAL', 'EEXIST']);
/** Files kept open at once; the least recently written is closed past this. */
const MAX_OPEN_FILES = 64;

interface OpenFile {
  handle: fs.FileHandle;
  ino: number;
}

export const fileOutput: OutputFactory = (settings, context) => {
  const pathTemplate = settings.template('path');
  if (pathTemplate === undefined || pathTemplate.source === '') throw settings.error('path', 'is required, as in path => "/var/log/logmill/%{+YYYY-MM-dd}.log"');
  if (!path.isAbsolute(pathTemplate.source)) throw settings.error('path', `must be an absolute path, not "${pathTemplate.source}"`);
  const failureName = settings.string('filename_failure', '_filepath_failures');
  const gzip = settings.boolean('gzip', false);
  const createIfDeleted = settings.boolean('create_if_deleted', true);
  const writeBehavior = settings.choice('write_behavior', ['append', 'overwrite'], 'append');
  const fileMode = mode(settings, 'file_mode');
  const dirMode = mode(settings, 'dir_mode');
  settings.accept('id', 'enable_metric', 'workers', 'flush_interval', 'stale_cleanup_interval');
  const codecValue = settings.raw('codec');
  const codecName = codecValue === undefined ? 'json_lines' : codecValue.kind === 'plugin' ? codecValue.plugin.name : codecValue.kind === 'bareword' || codecValue.kind === 'string' ? codecValue.value : '';
  const lineCodec = ['json_lines', 'json', 'line'].includes(codecName) && !gzip;
  const encoder = encoderFrom(settings, 'json_lines');
  settings.done();

  // The fixed part of the path: what an event's fields may not climb out of.
  const placeholder = pathTemplate.source.indexOf('%{');
  const root = placeholder < 0 ? null : path.dirname(pathTemplate.source.slice(0, placeholder) + 'x');
  const failurePath = root === null ? null : path.join(root, failureName);
  const open = new Map<string, OpenFile>();
  let queue: Promise<void> = Promise.resolve();
  let refused = 0;

  const target = (event: PipelineEvent): string => {
    const rendered = pathTemplate.render(event);
    if (root === null || failurePath === null) return rendered;
    const escapes = rendered.includes('\0') || rendered.split('/').includes('..') || !path.resolve(rendered).startsWith(root === '/' ? '/' : `${root}/`);
    if (!escapes) return rendered;
    if (refused++ < 20) context.logger.warn(`output file: the path "${rendered}" leaves ${root}; the event goes to ${failurePath}`);
    return failurePath;
  };

  const handleFor = async (file: string): Promise<fs.FileHandle> => {
    let known = open.get(file);
    if (known && createIfDeleted) {
      // Deleted or replaced under us (by logrotate, by hand): a new file takes the writes.
      const stat = await fs.stat(file).catch(() => null);
      if (!stat || stat.ino !== known.ino) {
        open.delete(file);
        await known.handle.close().catch(() => {});
        known = undefined;
      }
    }
    if (known) {
      open.delete(file);
      open.set(file, known);
      return known.handle;
    }
    await fs.mkdir(path.dirname(file), { recursive: true, ...(dirMode !== undefined ? { mode: dirMode } : {}) });
    const handle = await fs.open(file, lineCodec ? 'a+' : 'a', fileMode);
    try {
      if (fileMode !== undefined) await handle.chmod(fileMode);
      if (lineCodec) await endTornLine(handle);
      open.set(file, { handle, ino: (await handle.stat()).ino });
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    while (open.size > MAX_OPEN_FILES) {
      const [oldest, entry] = open.entries().next().value as [string, OpenFile];
      open.delete(oldest);
      await entry.handle.close().catch(() => {});
    }
    return handle;
  };

  const writeBatch = async (events: PipelineEvent[]): Promise<void> => {
    const byFile = new Map<string, string[]>();
    for (const event of events) {
      const file = target(event);
      const list = byFile.get(file);
      const text = encoder.encode(event);
      if (list) list.push(text);
      else byFile.set(file, [text]);
    }
    for (const [file, texts] of byFile) {
      try {
        await writeFile(file, texts);
      } catch (error) {
        // A name an event made that cannot be a file (a directory, too long): the event is not lost,
        // and does not block the batches behind it; it goes to the failure file.
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (failurePath === null || file === failurePath || !EVENT_PATH_ERRORS.has(code)) throw error;
        if (refused++ < 20) context.logger.warn(`output file: cannot write "${file}" (${code}); the events go to ${failurePath}`);
        await writeFile(failurePath, texts);
      }
    }
  };

  const writeFile = async (file: string, texts: string[]): Promise<void> => {
    const text = texts.join('');
    // Each batch a gzip member of its own: concatenated members are one valid gzip file, and every
    // batch is whole on disk once written.
    const bytes = gzip ? gzipSync(text) : Buffer.from(text);
    if (writeBehavior === 'overwrite') {
      await fs.mkdir(path.dirname(file), { recursive: true, ...(dirMode !== undefined ? { mode: dirMode } : {}) });
      const handle = await fs.open(file, 'w', fileMode);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    }
    const handle = await handleFor(file);
    await handle.writeFile(bytes);
    await handle.sync();
  };

  const output: Output = {
    label: `output file ${pathTemplate.source}`,
    async start() {},
    write(events) {
      // One batch at a time, so that two batches' lines never interleave in a file.
      const next = queue.then(() => writeBatch(events));
      queue = next.catch(() => {});
      return next;
    },
    async close() {
      await queue;
      for (const entry of open.values()) await entry.handle.close().catch(() => {});
      open.clear();
    },
  };
  return output;
};

/**
 * A process killed in the middle of a write can leave a last line without its newline; the lines
 * appended next would be glued to it. That batch was never acknowledged and comes again, so the torn
 * piece is closed with a newline and stays a (bad) line of its own.
 */
async function endTornLine(handle: fs.FileHandle): Promise<void> {
  const { size } = await handle.stat();
  if (size === 0) return;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  if (last[0] !== 0x0a) await handle.write('\n');
}

/** A Unix mode such as `0640` (written as a number or text, read as octal as Logstash does); -1: the umask decides. */
function mode(settings: Settings, name: string): number | undefined {
  if (!settings.has(name)) return undefined;
  const text = settings.string(name, '-1').trim();
  if (text === '-1') return undefined;
  if (!/^0?[0-7]{1,4}$/.test(text)) throw settings.error(name, `must be an octal mode such as 0640, not "${text}"`);
  return parseInt(text, 8);
}
