/**
 * The `json_lines` codec (and `json` on a stream): one JSON object per line. A line that is not a JSON
 * object becomes an event with the line as its message and the tag `_jsonparsefailure`, as in Logstash,
 * so bad input is kept and visible rather than lost.
 */
import type { Decoder, Encoder } from '../plugin.js';
import type { Settings } from '../settings.js';
import { isObject, type PipelineObject, type PipelineValue } from '../event.js';
import { LineSplitter } from './split.js';

export function jsonLinesDecoder(settings: Settings): Decoder {
  const delimiter = settings.string('delimiter', '\n');
  settings.accept('charset', 'target');
  settings.done();
  const lines = new LineSplitter(delimiter);
  const toEvents = (batch: string[]): PipelineObject[] => batch.filter((line) => line.trim() !== '').map(decodeJsonLine);
  return { push: (chunk) => toEvents(lines.push(chunk)), end: () => toEvents(lines.end()) };
}

export function decodeJsonLine(line: string): PipelineObject {
  let value: PipelineValue;
  try {
    value = JSON.parse(line) as PipelineValue;
  } catch {
    return { message: line, tags: ['_jsonparsefailure'] };
  }
  return isObject(value) ? value : { message: line, tags: ['_jsonparsefailure'] };
}

export function jsonLinesEncoder(settings: Settings): Encoder {
  settings.accept('charset', 'delimiter', 'format');
  settings.done();
  return { encode: (event) => `${JSON.stringify(event.toJSON())}\n` };
}
