/**
 * `logmill import FILE…`: parses log files in this process and sends the events, as NDJSON, to a
 * running server's /api/v1/ingest (the client's core parses while the server's core stores). The
 * formats live in src/ingest/formats/; this file only orchestrates: per file, detect (or take
 * `--format`), parse each line, optionally run a configuration's filters (`--pipeline`), batch, send
 * with a few requests in flight, count, and sum up.
 *
 * Decisions (docs/ingest.md, "logmill import"):
 *  - A batch counts as imported only when the server answers for it, i.e. once it is durable. Up to
 *    IN_FLIGHT requests are under way at once, so that parsing the next batch overlaps storing this one;
 *    reading waits when they are all out, so memory stays bounded whatever the file's size.
 *  - Each event's `@timestamp` is sent explicitly: the line's own time, or the import's time for a line
 *    that has none (plain lines, lines that did not parse). NDJSON objects are sent as written and keep
 *    their own time; `source` (the file's absolute path) is added to every event that has none.
 *  - A line over --max-line-bytes (default 1 MiB, the server's default limit), or whose event is over it
 *    once encoded, is skipped and counted as failed (the server would cut it); the rest goes on.
 *  - Exit code: 1 when a file could not be read (missing, a directory, a broken gzip stream), else 2 when
 *    lines were rejected by the server, stored unparsed, skipped as too long or held invalid UTF-8, else 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { microsToIso, parseEventTime } from '../core/time.js';
import { detectFormat, DETECT_SAMPLE_LINES, formatNamed, FORMAT_NAMES, type FormatName, type LineFormat, type ParseContext } from '../ingest/formats/detect.js';
import { FileLines, type LineChunk } from '../ingest/formats/file-lines.js';
import { PipelineEvent } from '../pipeline/event.js';
import { pipelineEventFromLogEvent } from '../pipeline/log-event.js';
import { addFieldsTag, type FieldValue } from '../core/event.js';
import { apiRequest, type ClientOptions } from './client.js';
import { startImportFilters, type ImportFilters } from './import-pipeline.js';

export interface ImportOptions extends ClientOptions {
  batchBytes: number;
  quiet: boolean;
  /** `auto`: detected per file. */
  format: FormatName | 'auto';
  /** IANA zone for dates without an offset. */
  timeZone: string;
  /** A Logstash configuration whose filters run over the events. */
  pipeline?: string;
  pipelineWorkers: number;
  maxLineBytes: number;
}

export interface ImportCounts {
  /** Non-empty lines read (skipped ones included). */
  lines: number;
  /** Events the server stored. */
  accepted: number;
  /** Lines not in their file's format (or tagged with a parse failure by --pipeline's filters), stored whole. */
  unparsed: number;
  /** Events the server refused. */
  rejected: number;
  /** Lines skipped: over --max-line-bytes. */
  failed: number;
  /** Events the --pipeline filters dropped. */
  dropped: number;
  /** Lines that held bytes that are not UTF-8 (stored with U+FFFD, tagged _invalidutf8). */
  invalidUtf8: number;
  /** Bytes of text read (after decompression). */
  bytes: number;
}

export interface FileSummary extends ImportCounts {
  file: string;
  /** The format the file was read in; null when it could not be opened. */
  format: FormatName | null;
  gzip: boolean;
  /** Why the file could not be read, or stopped being read; null when it was read to its end. */
  error: string | null;
  /** The earliest and latest `@timestamp` sent (ISO-8601), null when no event was. */
  from: string | null;
  to: string | null;
}

export interface ImportSummary extends ImportCounts {
  files: FileSummary[];
  /** Lines per format, over every file. */
  formats: Record<FormatName, number>;
  failedFiles: number;
  from: string | null;
  to: string | null;
  seconds: number;
  linesPerSecond: number;
}

/** Requests under way at once: 2-4 keep parse and store overlapping without holding much. */
const IN_FLIGHT = 3;
/** Events per batch handed to --pipeline's filter workers. */
const FILTER_BATCH = 1000;
const FILTER_IN_FLIGHT = 4;
/** Problems of each kind named on stderr; the rest are only counted. */
const MAX_REPORTED = 10;
const PROGRESS_EVERY_MS = 5000;
const INVALID_UTF8_TAG = '_invalidutf8';
const FAILURE_TAG = /^_.*(failure|timeout)$/;

interface FileStats {
  summary: FileSummary;
  min: number;
  max: number;
}

/** Problems named on stderr at the end, a few of each kind. */
class Problems {
  private readonly kinds = new Map<string, { shown: string[]; more: number }>();

  add(kind: string, text: string): void {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { shown: [], more: 0 }));
    if (k.shown.length < MAX_REPORTED) k.shown.push(text);
    else k.more++;
  }

  write(): void {
    for (const [kind, k] of this.kinds) {
      for (const t of k.shown) process.stderr.write(`${kind} ${t}\n`);
      if (k.more > 0) process.stderr.write(`${kind}: ${k.more} more not shown\n`);
    }
  }
}

/** NDJSON batches to the server, up to IN_FLIGHT at once; each counted when the server has it. */
class Sender {
  private lines: string[] = [];
  private owners: FileStats[] = [];
  private lineNos: number[] = [];
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private error: unknown = null;

  constructor(
    private readonly opts: ClientOptions,
    private readonly batchBytes: number,
    private readonly problems: Problems,
  ) {}

  /** Adds one event; true when the batch is full (the caller then awaits flush()). */
  add(json: string, owner: FileStats, lineNo: number): boolean {
    this.lines.push(json);
    this.owners.push(owner);
    this.lineNos.push(lineNo);
    this.bytes += json.length + 1;
    return this.bytes >= this.batchBytes;
  }

  /** Sends the batch, then waits while IN_FLIGHT requests are under way. */
  async flush(): Promise<void> {
    this.check();
    if (this.lines.length > 0) {
      const body = this.lines.join('\n') + '\n';
      const owners = this.owners;
      const lineNos = this.lineNos;
      this.lines = [];
      this.owners = [];
      this.lineNos = [];
      this.bytes = 0;
      const p: Promise<void> = this.post(body, owners, lineNos)
        .catch((err: unknown) => {
          this.error ??= err;
        })
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
    while (this.inFlight.size >= IN_FLIGHT) await Promise.race(this.inFlight);
    this.check();
  }

  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    this.check();
  }

  private check(): void {
    if (this.error !== null) throw this.error;
  }

  private async post(body: string, owners: FileStats[], lineNos: number[]): Promise<void> {
    const res = (await apiRequest(this.opts, '/api/v1/ingest', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    })) as { accepted: number; rejected: { line: number; error: string }[] };
    const sent = new Map<FileStats, number>();
    for (const o of owners) sent.set(o, (sent.get(o) ?? 0) + 1);
    for (const r of res.rejected) {
      const owner = owners[r.line - 1];
      if (owner === undefined) continue;
      owner.summary.rejected++;
      sent.set(owner, (sent.get(owner) ?? 1) - 1);
      const at = lineNos[r.line - 1];
      this.problems.add('rejected', `${owner.summary.file}${at > 0 ? `:${at}` : ''}: ${r.error}`);
    }
    for (const [o, n] of sent) o.summary.accepted += n;
  }
}

/** Progress on stderr: a bar on a terminal, else a line every few seconds; nothing with --quiet. */
class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly t0 = Date.now();
  private last = Date.now();

  constructor(
    private readonly totalBytes: number,
    private readonly quiet: boolean,
  ) {
    this.bar =
      quiet || !process.stderr.isTTY
        ? null
        : new cliProgress.SingleBar(
            { format: 'importing [{bar}] {percentage}% | {mb}/{totalMb} MB | {lines} lines | {rate} lines/s', stream: process.stderr, fps: 4 },
            cliProgress.Presets.shades_classic,
          );
    this.bar?.start(Math.max(1, totalBytes), 0, { mb: '0.0', totalMb: (totalBytes / 1e6).toFixed(1), lines: 0, rate: 0 });
  }

  update(bytes: number, lines: number, file: string): void {
    if (this.quiet) return;
    const now = Date.now();
    const rate = Math.round(lines / Math.max(0.001, (now - this.t0) / 1000));
    if (this.bar) {
      this.bar.update(Math.min(bytes, this.totalBytes), { mb: (bytes / 1e6).toFixed(1), lines, rate });
      return;
    }
    if (now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    process.stderr.write(`importing ${file}: ${lines} lines, ${(bytes / 1e6).toFixed(1)} of ${(this.totalBytes / 1e6).toFixed(1)} MB, ${rate} lines/s\n`);
  }

  stop(): void {
    if (this.bar) {
      this.bar.update(Math.max(1, this.totalBytes));
      this.bar.stop();
    }
  }
}

/** 0001-01-01 .. 9999-12-31: where toISOString's text has the plain 4-digit-year shape isoMicros relies on. */
const MAX_PLAIN_ISO_MICROS = 253402300800e6;
let isoSecond = NaN;
let isoPrefix = '';

/**
 * microsToIso's text, with the `YYYY-MM-DDTHH:MM:SS` part kept from the call before: a log's lines share
 * their second in runs, and a Date and its toISOString per event were a tenth of the import's CPU.
 */
function isoMicros(micros: number): string {
  if (!(micros >= 0 && micros < MAX_PLAIN_ISO_MICROS) || !Number.isInteger(micros)) return microsToIso(Math.round(micros));
  const second = Math.floor(micros / 1e6);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const sub = micros - second * 1e6;
  if (sub % 1000 === 0) return `${isoPrefix}.${String(sub / 1000).padStart(3, '0')}Z`;
  return `${isoPrefix}.${String(sub).padStart(6, '0')}Z`;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  }
  return true;
}

/** `{"source":…,` put before an NDJSON object's first key. */
function withSource(json: string, sourceJson: string): string {
  const brace = json.indexOf('{');
  let i = brace + 1;
  while (i < json.length && (json[i] === ' ' || json[i] === '\t')) i++;
  return json[i] === '}' ? `{"source":${sourceJson}}` : `{"source":${sourceJson},${json.slice(brace + 1)}`;
}

function tooLarge(json: string, max: number): boolean {
  return json.length > max || (json.length * 3 > max && Buffer.byteLength(json) > max);
}

function emptySummary(file: string): FileSummary {
  return { file, format: null, gzip: false, error: null, from: null, to: null, lines: 0, accepted: 0, unparsed: 0, rejected: 0, failed: 0, dropped: 0, invalidUtf8: 0, bytes: 0 };
}

/** One import run: its options, its server connection and its counts. */
class Importer {
  readonly problems = new Problems();
  readonly sender: Sender;
  private readonly forced: LineFormat | null;
  private readonly filterJobs = new Set<Promise<void>>();
  private filterError: unknown = null;
  private linesSoFar = 0;
  private bytesBefore = 0;

  constructor(
    private readonly opts: ImportOptions,
    private readonly progress: Progress,
    private readonly filters: ImportFilters | null,
  ) {
    this.sender = new Sender(opts, opts.batchBytes, this.problems);
    this.forced = opts.format === 'auto' ? null : formatNamed(opts.format);
  }

  async importFile(file: string): Promise<FileStats> {
    const abs = path.resolve(file);
    const stats: FileStats = { summary: emptySummary(abs), min: Infinity, max: -Infinity };
    const s = stats.summary;
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      s.error = e.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${e.message}`;
      return stats;
    }
    if (st.isDirectory()) {
      s.error = `${file} is a directory; pass its files, e.g. ${file.replace(/\/+$/, '')}/*.log`;
      return stats;
    }
    let reader: FileLines;
    try {
      reader = new FileLines(abs, this.opts.maxLineBytes);
    } catch (err) {
      s.error = `cannot read ${file}: ${(err as Error).message}`;
      return stats;
    }
    s.gzip = reader.gzip;
    const ctx: ParseContext = { now: st.mtime, timeZone: this.opts.timeZone };
    let format = this.forced;
    // Until the format is known, chunks wait here with the sample drawn from them.
    let pending: LineChunk[] = [];
    const sample: string[] = [];
    const decide = async (): Promise<void> => {
      format = detectFormat(sample);
      s.format = this.filters !== null && this.forced === null ? 'plain' : format.name;
      for (const c of pending) await this.chunk(c, format, ctx, stats);
      pending = [];
    };
    if (format !== null) s.format = format.name;
    for await (const chunk of reader.chunks()) {
      this.progress.update(this.bytesBefore + reader.fileBytesRead, this.linesSoFar, abs);
      if (format !== null) {
        await this.chunk(chunk, format, ctx, stats);
        continue;
      }
      pending.push(chunk);
      for (const l of chunk.lines) {
        if (l !== null && !isBlank(l)) sample.push(l);
        if (sample.length >= DETECT_SAMPLE_LINES) break;
      }
      if (sample.length >= DETECT_SAMPLE_LINES) await decide();
    }
    if (format === null) await decide();
    await this.flushFilters();
    this.bytesBefore += st.size;
    s.bytes = reader.textBytesRead;
    if (reader.error !== null) s.error = `${file}: ${reader.error}`;
    return stats;
  }

  /** Waits for every batch: the filters' and the server's. */
  async finish(): Promise<void> {
    await this.flushFilters();
    await this.sender.drain();
  }

  private async chunk(chunk: LineChunk, format: LineFormat, ctx: ParseContext, stats: FileStats): Promise<void> {
    const s = stats.summary;
    for (const o of chunk.oversize) {
      s.lines++;
      s.failed++;
      this.problems.add('skipped', `${s.file}:${o.line}: a line of ${o.bytes} bytes, over --max-line-bytes (${this.opts.maxLineBytes})`);
    }
    const importMicros = Date.now() * 1000;
    const sourceJson = JSON.stringify(s.file);
    const invalid = chunk.invalid;
    let nextInvalid = 0;
    const lines = chunk.lines;
    let events: PipelineEvent[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let bad = false;
      if (invalid !== null && invalid[nextInvalid] === i) {
        bad = true;
        nextInvalid++;
      }
      if (line === null || isBlank(line)) continue;
      s.lines++;
      this.linesSoFar++;
      if (bad) s.invalidUtf8++;
      const lineNo = chunk.first + i;
      if (this.filters !== null) {
        events.push(this.pipelineEvent(line, format, ctx, s.file, importMicros, bad));
        if (events.length >= FILTER_BATCH) {
          await this.filter(events, stats);
          events = [];
        }
        continue;
      }
      const p = format.parse(line, ctx);
      if (!p.ok) {
        s.unparsed++;
        this.problems.add('unparsed', `${s.file}:${lineNo}: not ${format.name}: stored whole${Array.isArray(p.fields.tags) ? `, tagged ${p.fields.tags.join(',')}` : ''}`);
      }
      const t = p.time === p.time ? p.time : importMicros;
      let json: string;
      if (p.json !== undefined && !bad) json = p.fields.source === undefined ? withSource(p.json, sourceJson) : p.json;
      else {
        const f = p.fields;
        if (bad) addFieldsTag(f, INVALID_UTF8_TAG);
        f['@timestamp'] = isoMicros(t);
        if (f.source === undefined) f.source = s.file;
        json = JSON.stringify(f);
      }
      if (tooLarge(json, this.opts.maxLineBytes)) {
        s.failed++;
        this.problems.add('skipped', `${s.file}:${lineNo}: its event is over --max-line-bytes (${this.opts.maxLineBytes}) once encoded`);
        continue;
      }
      if (t < stats.min) stats.min = t;
      if (t > stats.max) stats.max = t;
      if (this.sender.add(json, stats, lineNo)) await this.sender.flush();
    }
    if (events.length > 0) await this.filter(events, stats);
  }

  /** A line as a Logstash file input makes it (`message`, `source`, `log.file.path`), after `--format`'s fields when one was given. */
  private pipelineEvent(line: string, format: LineFormat, ctx: ParseContext, source: string, importMicros: number, bad: boolean): PipelineEvent {
    let event: PipelineEvent;
    if (this.forced === null) {
      event = new PipelineEvent({ message: line, source, log: { file: { path: source } }, '@timestamp': isoMicros(importMicros) });
    } else {
      const p = format.parse(line, ctx);
      const fields = { ...p.fields } as Record<string, FieldValue>;
      if (fields.source === undefined) fields.source = source;
      if (fields['log.file.path'] === undefined) fields['log.file.path'] = source;
      event = pipelineEventFromLogEvent({ ts: p.time === p.time ? p.time : importMicros, fields });
    }
    if (bad) event.addTag(INVALID_UTF8_TAG);
    return event;
  }

  /** A batch through the filter workers, up to FILTER_IN_FLIGHT at once; what comes out goes to the sender. */
  private async filter(events: PipelineEvent[], stats: FileStats): Promise<void> {
    const filters = this.filters as ImportFilters;
    const s = stats.summary;
    const job: Promise<void> = filters
      .run(events)
      .then(async (kept) => {
        s.dropped += Math.max(0, events.length - kept.length);
        let full = false;
        for (const e of kept) {
          const fields = e.toJSON();
          if (fields.source === undefined) fields.source = s.file;
          const json = JSON.stringify(fields);
          if (tooLarge(json, this.opts.maxLineBytes)) {
            s.failed++;
            this.problems.add('skipped', `${s.file}: an event the filters made is over --max-line-bytes (${this.opts.maxLineBytes}) once encoded`);
            continue;
          }
          if (e.tags().some((t) => FAILURE_TAG.test(t))) {
            s.unparsed++;
            this.problems.add('unparsed', `${s.file}: an event tagged ${e.tags().join(',')} by the pipeline`);
          }
          const t = parseEventTime(fields['@timestamp']);
          if (t !== null) {
            if (t < stats.min) stats.min = t;
            if (t > stats.max) stats.max = t;
          }
          if (this.sender.add(json, stats, 0)) full = true;
        }
        if (full) await this.sender.flush();
      })
      .catch((err: unknown) => {
        this.filterError ??= err;
      })
      .finally(() => this.filterJobs.delete(job));
    this.filterJobs.add(job);
    while (this.filterJobs.size >= FILTER_IN_FLIGHT) await Promise.race(this.filterJobs);
    if (this.filterError !== null) throw this.filterError;
  }

  private async flushFilters(): Promise<void> {
    await Promise.all(this.filterJobs);
    if (this.filterError !== null) throw this.filterError;
  }
}

export async function importFiles(files: string[], opts: ImportOptions): Promise<ImportSummary> {
  const t0 = Date.now();
  const total = files.reduce((n, f) => {
    try {
      const st = fs.statSync(f);
      return st.isFile() ? n + st.size : n;
    } catch {
      return n;
    }
  }, 0);
  const filters = opts.pipeline !== undefined ? await startImportFilters(opts.pipeline, opts.pipelineWorkers) : null;
  const progress = new Progress(total, opts.quiet);
  const importer = new Importer(opts, progress, filters);
  const all: FileStats[] = [];
  try {
    for (const f of files) all.push(await importer.importFile(f));
    await importer.finish();
  } finally {
    progress.stop();
    await filters?.close();
  }
  for (const st of all) {
    if (st.min <= st.max) {
      st.summary.from = microsToIso(st.min);
      st.summary.to = microsToIso(st.max);
    }
  }
  importer.problems.write();
  const seconds = (Date.now() - t0) / 1000;
  const sum = (k: keyof ImportCounts): number => all.reduce((n, st) => n + st.summary[k], 0);
  const formats = Object.fromEntries(FORMAT_NAMES.map((n) => [n, 0])) as Record<FormatName, number>;
  for (const st of all) if (st.summary.format !== null) formats[st.summary.format] += st.summary.lines;
  const min = Math.min(...all.map((st) => st.min));
  const max = Math.max(...all.map((st) => st.max));
  const lines = sum('lines');
  return {
    files: all.map((st) => st.summary),
    formats,
    failedFiles: all.filter((st) => st.summary.error !== null).length,
    lines,
    accepted: sum('accepted'),
    unparsed: sum('unparsed'),
    rejected: sum('rejected'),
    failed: sum('failed'),
    dropped: sum('dropped'),
    invalidUtf8: sum('invalidUtf8'),
    bytes: sum('bytes'),
    from: min <= max ? microsToIso(min) : null,
    to: min <= max ? microsToIso(max) : null,
    seconds,
    linesPerSecond: seconds > 0 ? Math.round(lines / seconds) : lines,
  };
}

/** The exit code a summary calls for (see the decisions above). */
export function importExitCode(s: ImportSummary): number {
  if (s.failedFiles > 0) return 1;
  if (s.rejected > 0 || s.unparsed > 0 || s.failed > 0 || s.invalidUtf8 > 0) return 2;
  return 0;
}

/** The summary as text: one line per file, then the totals. */
export function formatImportSummary(s: ImportSummary): string {
  const out: string[] = [];
  const range = (from: string | null, to: string | null): string => (from === null ? 'no events' : `${from} .. ${to}`);
  for (const f of s.files) {
    if (f.format === null) {
      out.push(`${f.file}: failed: ${f.error}`);
      continue;
    }
    const extra = [f.dropped ? `${f.dropped} dropped by the pipeline` : '', f.invalidUtf8 ? `${f.invalidUtf8} with invalid UTF-8` : ''].filter(Boolean);
    out.push(
      `${f.file}: ${f.format}${f.gzip ? ' (gzip)' : ''}, ${f.lines} lines, ${f.accepted} accepted, ${f.unparsed} unparsed, ${f.rejected} rejected, ${f.failed} failed` +
        `${extra.length ? `, ${extra.join(', ')}` : ''}, ${range(f.from, f.to)}, ${(f.bytes / 1e6).toFixed(1)} MB${f.error !== null ? `; failed: ${f.error}` : ''}`,
    );
  }
  const formats = FORMAT_NAMES.filter((n) => s.formats[n] > 0).map((n) => `${n} ${s.formats[n]}`).join(', ');
  out.push(
    `imported ${s.files.length} file(s): ${s.lines} lines, ${s.accepted} accepted, ${s.rejected} rejected, ${s.unparsed} unparsed, ${s.failed} failed` +
      `${s.dropped ? `, ${s.dropped} dropped by the pipeline` : ''}${s.invalidUtf8 ? `, ${s.invalidUtf8} with invalid UTF-8` : ''}${s.failedFiles ? `, ${s.failedFiles} file(s) failed` : ''}` +
      ` (${formats || 'no lines'}), ${range(s.from, s.to)}, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s (${s.linesPerSecond} lines/s)`,
  );
  return out.join('\n') + '\n';
}
