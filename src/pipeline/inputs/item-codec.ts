/**
 * Decoding one whole item (a line of a file, an entry of a Redis list) through an input's `codec`.
 *
 * Logstash hands each item to the codec on its own, so `json` must see the whole item even when it
 * holds newlines (pretty-printed JSON in a Redis list); the stream codecs would split it in lines.
 */
import type { PipelineObject } from '../event.js';
import type { Settings } from '../settings.js';
import { decoderFrom } from '../codecs/index.js';
import { decodeJsonLine } from '../codecs/json-lines.js';

export type ItemDecoder = (item: string) => PipelineObject[];

export function itemDecoderFrom(settings: Settings, fallback: string): ItemDecoder {
  const value = settings.raw('codec');
  const name = value === undefined ? fallback : value.kind === 'plugin' ? value.plugin.name : value.kind === 'bareword' || value.kind === 'string' ? value.value : fallback;
  // Built first whatever the name, so that an unknown codec or a wrong codec setting is refused as usual.
  const decoder = decoderFrom(settings, fallback);
  if (name === 'json' || name === 'json_lines') return (item) => (item.trim() === '' ? [] : [decodeJsonLine(item)]);
  if (name === 'plain' || name === 'line') return (item) => [{ message: item, event: { original: item } }];
  return (item) => [...decoder.push(Buffer.from(item)), ...decoder.end()];
}
