/**
 * The `file` input (tail mode): follows files named by globs, as Logstash's file input does, and
 * records in a sincedb how far each was delivered.
 *
 * Files are known by device and inode. A rotation by rename (logrotate's default, `create`) leaves the
 * old inode open here: it is read to its end, and the new file under the name is read from its start.
 * A rotation by copytruncate shows as a file shorter than its offset: it is read again from 0.
 * Offsets are recorded only after `emit` resolves, so a restart resumes at the last delivered line
 * (nothing lost; after a crash, lines delivered since the last sincedb write come again).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { PipelineEvent } from '../event.js';
import { inputDecoration } from '../common.js';
import { BATCH_SIZE } from '../batch.js';
import { MAX_LINE_BYTES } from '../codecs/split.js';
import type { Input, InputFactory, PipelineLogger } from '../plugin.js';
import type { Settings } from '../settings.js';
import { durationSeconds } from './duration.js';
import { expandGlob, hasMagic, segmentRegExp } from './file-glob.js';
import { itemDecoderFrom } from './item-codec.js';
import { fileKey, Sincedb, type FileKey } from './sincedb.js';
import { TailedFile, type Line } from './file-tail.js';
import { sleep } from '../sleep.js';

/** Tag of an event whose line was longer than max_line_bytes and was cut (Logstash has no such limit). */
export const TRUNCATED_TAG = '_linetruncated';
/** Bytes read from one file before the others get their turn. */
const READ_BUDGET = 4 * 1024 * 1024;
const MAX_WARNINGS = 20;

export const fileInput: InputFactory = (settings, context) => {
  const paths = settings.strings('path');
  if (paths.length === 0) throw settings.error('path', 'is required: the files to read, as in path => ["/var/log/*.log"]');
  for (const p of paths) {
    if (!path.isAbsolute(p)) throw settings.error('path', `must hold absolute paths (as in Logstash), not "${p}"`);
    for (const segment of p.split('/')) if (hasMagic(segment)) globOrError(settings, 'path', segment);
  }
  const exclude = settings.strings('exclude').map((glob) => globOrError(settings, 'exclude', glob));
  const startPosition = settings.choice('start_position', ['end', 'beginning'], 'end');
  const mode = settings.choice('mode', ['tail', 'read'], 'tail');
  if (mode === 'read') throw settings.error('mode', 'read is not supported yet; only tail (the default) is');
  const defaultSincedb = path.join(context.dataDir, 'plugins', 'inputs', 'file', `.sincedb_${createHash('md5').update(paths.join(',')).digest('hex')}`);
  const sincedbPath = settings.string('sincedb_path', defaultSincedb);
  const sincedbWriteSeconds = durationSeconds(settings, 'sincedb_write_interval', 15);
  const sincedbCleanAfterSeconds = durationSeconds(settings, 'sincedb_clean_after', 14 * 86_400);
  const statSeconds = durationSeconds(settings, 'stat_interval', 1);
  const discoverEvery = settings.number('discover_interval', 15, { integer: true, min: 1 });
  const delimiter = settings.string('delimiter', '\n');
  if (delimiter === '') throw settings.error('delimiter', 'must not be empty');
  const closeOlderSeconds = durationSeconds(settings, 'close_older', 3600);
  const ignoreOlderSeconds = settings.has('ignore_older') ? durationSeconds(settings, 'ignore_older', 0) : null;
  const maxLineBytes = settings.number('max_line_bytes', MAX_LINE_BYTES, { integer: true, min: 1 });
  settings.accept('max_open_files', 'file_chunk_size', 'file_chunk_count', 'file_sort_by', 'file_sort_direction', 'file_completed_action', 'file_completed_log_path', 'exit_after_read', 'check_archive_validity');
  const decode = itemDecoderFrom(settings, 'plain');
  const decorate = inputDecoration(settings);
  settings.done();

  const host = hostname();
  const delimiterBytes = Buffer.from(delimiter);
  let warnings = 0;
  const warn = (logger: PipelineLogger, message: string): void => {
    if (warnings++ < MAX_WARNINGS) logger.warn(`input file: ${message}`);
  };

  const input: Input = {
    label: `input file ${paths.join(',')}`,
    async run(emit) {
      const { signal, logger } = context;
      const sincedb = Sincedb.forPath(sincedbPath, sincedbCleanAfterSeconds);
      await sincedb.load();
      const watches = new Map<FileKey, TailedFile>();
      let firstDiscovery = true;
      let ticks = 0;
      let lastSincedbWrite = Date.now();

      const discover = async (): Promise<void> => {
        const found = new Map<FileKey, string>();
        for (const pattern of paths) {
          for (const file of await expandGlob(pattern)) {
            if (exclude.some((re) => re.test(path.basename(file)))) continue;
            const stat = await fs.stat(file, { bigint: true }).catch(() => null);
            if (!stat || !stat.isFile()) continue;
            const key = fileKey(stat);
            if (found.has(key)) continue;
            found.set(key, file);
            const known = watches.get(key);
            if (known) {
              // Renamed but still matched (a rotation into a name the globs also take): same inode, same place.
              known.path = file;
              known.rotatedAway = false;
              continue;
            }
            const start = startOffset(key, Number(stat.size), Number(stat.mtimeMs));
            // A place chosen by start_position or ignore_older is remembered at once: lines appended
            // while Logmill is stopped, before anything was delivered, are then read by the next run.
            if (sincedb.get(key)?.offset !== start) sincedb.set(key, start, file);
            watches.set(key, new TailedFile(key, file, start, delimiterBytes, maxLineBytes));
          }
        }
        for (const [key, watch] of watches) if (!found.has(key)) watch.rotatedAway = true;
        firstDiscovery = false;
      };

      const startOffset = (key: FileKey, size: number, mtimeMs: number): number => {
        const remembered = sincedb.get(key);
        // An offset past the end: the file was truncated while we were away, or the inode was reused.
        if (remembered) return remembered.offset <= size ? remembered.offset : 0;
        if (ignoreOlderSeconds !== null && Date.now() - mtimeMs > ignoreOlderSeconds * 1000) return size;
        // Only the files there at start are "first contact"; one that appears later (the new file of a
        // rotation) is read from its start, or its first lines would be lost.
        if (firstDiscovery && startPosition === 'end') return size;
        return 0;
      };

      /** Whether the name still points at the watched inode; sets up a rediscovery when not. */
      const nameMoved = async (watch: TailedFile): Promise<boolean> => {
        const stat = await fs.stat(watch.path, { bigint: true }).catch(() => null);
        return !stat || fileKey(stat) !== watch.key;
      };

      const ship = async (watch: TailedFile, lines: Line[]): Promise<void> => {
        for (let i = 0; i < lines.length && !signal.aborted; i += BATCH_SIZE) {
          const slice = lines.slice(i, i + BATCH_SIZE);
          const events: PipelineEvent[] = [];
          for (const line of slice) {
            for (const fields of decode(line.text)) {
              const event = new PipelineEvent(fields);
              if (!event.has(['path'])) event.set(['path'], watch.path);
              if (!event.has(['host'])) event.set(['host'], host);
              if (line.truncated) event.addTag(TRUNCATED_TAG);
              decorate(event);
              events.push(event);
            }
          }
          if (slice.some((l) => l.truncated)) warn(logger, `a line of ${watch.path} was longer than max_line_bytes (${maxLineBytes}) and was cut (tagged ${TRUNCATED_TAG})`);
          if (events.length > 0) await emit(events);
          // Only now is the batch delivered: its end may be recorded.
          watch.delivered = slice[slice.length - 1].end;
          sincedb.set(watch.key, watch.delivered, watch.path);
        }
      };

      /** Reads what the file has now; answers whether its end was reached (or it cannot be read). */
      const follow = async (watch: TailedFile): Promise<boolean> => {
        if (!watch.isOpen) {
          const stat = await fs.stat(watch.path, { bigint: true }).catch(() => null);
          const grew = stat !== null && fileKey(stat) === watch.key && Number(stat.size) !== watch.delivered;
          if (!grew || !(await watch.open())) return true;
        }
        const size = await watch.size();
        if (size !== null && size < watch.delivered) {
          logger.info(`input file: ${watch.path} is shorter than what was read (copytruncate?): reading it from the start`);
          watch.restartFromZero();
          sincedb.set(watch.key, 0, watch.path);
        }
        const before = watch.delivered;
        let atEnd = false;
        while (!signal.aborted) {
          // Each file gets a share of bytes per round, so one busy file does not starve the others.
          if (watch.delivered - before >= READ_BUDGET) return false;
          const lines = await watch.readLines(READ_BUDGET);
          if (lines.length === 0) {
            atEnd = true;
            break;
          }
          await ship(watch, lines);
        }
        if (Date.now() - watch.lastActivity > closeOlderSeconds * 1000) {
          // Idle too long: the handle is given back; the file is still stat'ed and reopened when it grows.
          watch.rewindToDelivered();
          await watch.close();
        }
        return atEnd;
      };

      try {
        while (!signal.aborted) {
          let rediscover = ticks % discoverEvery === 0;
          for (const watch of watches.values()) if (!rediscover && !watch.rotatedAway && (await nameMoved(watch))) rediscover = true;
          if (rediscover) await discover().catch((error: Error) => warn(logger, `looking for files: ${error.message}`));
          for (const watch of [...watches.values()]) {
            if (signal.aborted) break;
            let atEnd = true;
            try {
              atEnd = await follow(watch);
            } catch (error) {
              if (signal.aborted) throw error;
              warn(logger, `reading ${watch.path}: ${(error as Error).message}`);
              watch.rewindToDelivered();
              await watch.close();
            }
            if (watch.rotatedAway && atEnd && !signal.aborted) {
              // Read to its end under its old inode: nothing more will come (logrotate moved it away).
              await watch.close();
              watches.delete(watch.key);
            }
          }
          if (Date.now() - lastSincedbWrite >= sincedbWriteSeconds * 1000) {
            await sincedb.save();
            lastSincedbWrite = Date.now();
          }
          ticks++;
          await sleep(statSeconds * 1000, signal);
        }
      } finally {
        await sincedb.save().catch((error: Error) => logger.error(`input file: writing the sincedb ${sincedbPath}: ${error.message}`));
        for (const watch of watches.values()) await watch.close();
      }
    },
  };
  return input;
};

/** A glob's regular expression, or a configuration error for one such as `[z-a]`. */
function globOrError(settings: Settings, name: string, glob: string): RegExp {
  try {
    return segmentRegExp(glob);
  } catch {
    throw settings.error(name, `holds a glob that cannot be read: "${glob}"`);
  }
}

