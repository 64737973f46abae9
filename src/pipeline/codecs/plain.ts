/** The `plain` codec: each chunk read is one event; out, the `format` template (default the message). */
import type { Decoder, Encoder } from '../plugin.js';
import type { Settings } from '../settings.js';

export function plainDecoder(settings: Settings): Decoder {
  settings.accept('charset');
  settings.done();
  const decoder = new TextDecoder('utf-8');
  return {
    push: (chunk) => {
      const text = decoder.decode(chunk, { stream: true });
      return text === '' ? [] : [{ message: text, event: { original: text } }];
    },
    end: () => [],
  };
}

export function plainEncoder(settings: Settings): Encoder {
  const format = settings.template('format', '%{message}');
  settings.accept('charset');
  settings.done();
  return { encode: (event) => format.render(event) };
}

/** The `dots` codec: one dot per event, to watch a pipeline's rate. */
export function dotsEncoder(settings: Settings): Encoder {
  settings.done();
  return { encode: () => '.' };
}
