/**
 * The `multiline` codec: lines joined into one event, as Logstash's codec joins a Java stack trace to
 * the line that threw it. Each line is tested against `pattern` (a grok expression: `^%{TIMESTAMP_ISO8601}`
 * or a plain regular expression), `negate` turns the test round, and `what` says where a matching line
 * goes: to the `previous` event, or to the `next` one.
 *
 * An event grows to `max_lines` lines or `max_bytes` bytes at most; then it is shipped, tagged
 * `multiline_codec_max_lines_reached` or `multiline_codec_max_bytes_reached`, and the rest starts a
 * new event, so one runaway writer cannot make one event without end.
 *
 * The pattern runs in the input's thread (the filters' watchdog does not see it): it is written by
 * whoever writes the configuration, and each line it sees is at most the splitter's line limit long.
 */
import type { Decoder } from '../plugin.js';
import type { PipelineObject } from '../event.js';
import type { Settings } from '../settings.js';
import { compileGrok, GrokError, PatternLibrary } from '../grok/index.js';
import { LineSplitter } from './split.js';

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

export function multilineDecoder(settings: Settings): Decoder {
  const pattern = settings.string('pattern');
  if (pattern === undefined) throw settings.error('pattern', 'is required: the expression each line is tested against, such as "^\\s" or "^%{TIMESTAMP_ISO8601}"');
  // Required, as in Logstash: a default would silently join lines the wrong way round.
  if (!settings.has('what')) throw settings.error('what', 'is required: "previous" (a matching line belongs to the event before it) or "next" (to the one after)');
  const what = settings.choice('what', ['previous', 'next'] as const, 'previous');
  const negate = settings.boolean('negate', false);
  const maxLines = settings.number('max_lines', 500, { integer: true, min: 1 });
  const maxBytes = readBytes(settings, 'max_bytes', DEFAULT_MAX_BYTES);
  const tag = settings.string('multiline_tag', 'multiline');
  const autoFlushSeconds = settings.number('auto_flush_interval', 0, { min: 0 });
  const library = PatternLibrary.standard();
  for (const dir of settings.strings('patterns_dir')) library.addPath(dir);
  const delimiter = settings.string('delimiter', '\n');
  settings.accept('charset', 'ecs_compatibility');
  settings.done();

  let test: RegExp;
  try {
    test = compileGrok(pattern, library).regex;
  } catch (error) {
    if (error instanceof GrokError) throw settings.error('pattern', error.message);
    throw error;
  }

  const lines = new LineSplitter(delimiter);
  let buffer: string[] = [];
  let bufferBytes = 0;
  let overLines = false;
  let overBytes = false;

  const take = (): PipelineObject[] => {
    if (buffer.length === 0) return [];
    const message = buffer.join('\n');
    const event: PipelineObject = { message, event: { original: message } };
    const tags: string[] = [];
    if (buffer.length > 1) tags.push(tag);
    if (overLines) tags.push('multiline_codec_max_lines_reached');
    if (overBytes) tags.push('multiline_codec_max_bytes_reached');
    if (tags.length > 0) event.tags = tags;
    buffer = [];
    bufferBytes = 0;
    overLines = false;
    overBytes = false;
    return [event];
  };
  const add = (line: string): void => {
    buffer.push(line);
    bufferBytes += Buffer.byteLength(line) + 1;
  };
  const full = (): boolean => {
    overLines = buffer.length >= maxLines;
    overBytes = bufferBytes >= maxBytes;
    return overLines || overBytes;
  };

  const feed = (line: string, out: PipelineObject[]): void => {
    const matched = test.test(line) !== negate;
    if (what === 'previous') {
      if (!matched || full()) out.push(...take());
      add(line);
    } else {
      add(line);
      if (!matched || full()) out.push(...take());
    }
  };

  return {
    push(chunk) {
      const out: PipelineObject[] = [];
      for (const line of lines.push(chunk)) feed(line, out);
      return out;
    },
    end() {
      const out: PipelineObject[] = [];
      for (const line of lines.end()) feed(line, out);
      out.push(...take());
      return out;
    },
    flush: () => take(),
    idleFlushMs: autoFlushSeconds > 0 ? autoFlushSeconds * 1000 : undefined,
  };
}

/** `10 MiB`, `512kb`, `1048576`: Logstash's bytes settings. */
function readBytes(settings: Settings, name: string, fallback: number): number {
  const text = settings.string(name);
  if (text === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(text);
  if (!m) throw settings.error(name, `must be a size such as "10 MiB" or "512kb", not "${text}"`);
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  const base = m[3] ? 1024 : m[2] ? 1000 : 1;
  return Math.floor(Number(m[1]) * base ** Math.max(0, power));
}
