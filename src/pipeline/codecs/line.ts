/** The `line` codec: one event per line of text; out, the `format` template (default the message). */
import type { Decoder, Encoder } from '../plugin.js';
import type { Settings } from '../settings.js';
import type { PipelineObject } from '../event.js';
import { LineSplitter } from './split.js';

export function lineDecoder(settings: Settings): Decoder {
  const delimiter = settings.string('delimiter', '\n');
  settings.accept('charset');
  settings.done();
  const lines = new LineSplitter(delimiter);
  const toEvent = (line: string): PipelineObject => ({ message: line, event: { original: line } });
  return {
    push: (chunk) => lines.push(chunk).map(toEvent),
    end: () => lines.end().map(toEvent),
  };
}

export function lineEncoder(settings: Settings): Encoder {
  const format = settings.template('format', '%{message}');
  settings.accept('charset', 'delimiter');
  settings.done();
  return { encode: (event) => `${format.render(event)}\n` };
}
