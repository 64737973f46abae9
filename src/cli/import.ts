/**
 * `logmill import FILE…`: sends log files or NDJSON to a server in batches,
 * with a progress bar and a summary. JSON-object lines keep their fields;
 * any other line becomes `message`, with `source` set to the file's path.
 */
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { apiRequest, CliError, type ClientOptions } from './client.js';

export interface ImportOptions extends ClientOptions {
  batchBytes: number;
  quiet: boolean;
}

export interface ImportSummary {
  files: number;
  lines: number;
  accepted: number;
  rejected: number;
  bytes: number;
  seconds: number;
}

export async function importFiles(files: string[], opts: ImportOptions): Promise<ImportSummary> {
  for (const f of files) {
    if (!fs.existsSync(f)) throw new CliError(`no such file: ${f}`);
  }
  const total = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const bar = opts.quiet || !process.stderr.isTTY
    ? null
    : new cliProgress.SingleBar(
        { format: 'importing [{bar}] {percentage}% | {value}/{total} MB | {accepted} accepted, {rejected} rejected', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
  bar?.start(Math.max(1, Math.round(total / 1e6)), 0, { accepted: 0, rejected: 0 });
  const summary: ImportSummary = { files: files.length, lines: 0, accepted: 0, rejected: 0, bytes: 0, seconds: 0 };
  const t0 = Date.now();
  const rejections: string[] = [];

  const send = async (lines: string[], file: string, firstLine: number): Promise<void> => {
    const res = (await apiRequest(opts, '/api/v1/ingest', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: lines.join('\n') + '\n',
    })) as { accepted: number; rejected: { line: number; error: string }[] };
    summary.accepted += res.accepted;
    summary.rejected += res.rejected.length;
    for (const r of res.rejected.slice(0, Math.max(0, 10 - rejections.length))) {
      rejections.push(`${file}:${firstLine + r.line - 1}: ${r.error}`);
    }
  };

  for (const file of files) {
    const source = path.resolve(file);
    let batch: string[] = [];
    let batchBytes = 0;
    let lineNo = 0;
    let batchFirst = 1;
    let rest = '';
    for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const text = rest + (chunk as string);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const raw of lines) {
        lineNo++;
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() === '') continue;
        const json = line.trimStart().startsWith('{') ? line : JSON.stringify({ message: line, source });
        batch.push(json);
        batchBytes += json.length;
        summary.lines++;
        if (batchBytes >= opts.batchBytes) {
          await send(batch, file, batchFirst);
          summary.bytes += batchBytes;
          bar?.update(Math.round(summary.bytes / 1e6), { accepted: summary.accepted, rejected: summary.rejected });
          batch = [];
          batchBytes = 0;
          batchFirst = lineNo + 1;
        }
      }
    }
    if (rest.trim() !== '') {
      batch.push(rest.trimStart().startsWith('{') ? rest : JSON.stringify({ message: rest, source }));
      summary.lines++;
    }
    if (batch.length) {
      await send(batch, file, batchFirst);
      summary.bytes += batchBytes;
    }
  }
  summary.seconds = (Date.now() - t0) / 1000;
  bar?.update(Math.max(1, Math.round(total / 1e6)), { accepted: summary.accepted, rejected: summary.rejected });
  bar?.stop();
  for (const r of rejections) process.stderr.write(`rejected ${r}\n`);
  return summary;
}
