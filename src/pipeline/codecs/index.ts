/** Codecs by name, and reading a plugin's `codec` setting (`codec => json_lines` or `codec => line { format => "…" }`). */
import type { PluginNode } from '../parser/ast.js';
import type { Decoder, DecoderFactory, Encoder, EncoderFactory } from '../plugin.js';
import { Settings } from '../settings.js';
import { jsonLinesDecoder, jsonLinesEncoder } from './json-lines.js';
import { lineDecoder, lineEncoder } from './line.js';
import { dotsEncoder, plainDecoder, plainEncoder } from './plain.js';
import { rubydebugEncoder } from './rubydebug.js';
import { multilineDecoder } from './multiline.js';

const decoders: Record<string, DecoderFactory> = {
  line: lineDecoder,
  plain: plainDecoder,
  json: jsonLinesDecoder,
  json_lines: jsonLinesDecoder,
  multiline: multilineDecoder,
};

const encoders: Record<string, EncoderFactory> = {
  line: lineEncoder,
  plain: plainEncoder,
  json: jsonLinesEncoder,
  json_lines: jsonLinesEncoder,
  rubydebug: rubydebugEncoder,
  dots: dotsEncoder,
};

export function decoderFrom(settings: Settings, fallback: string): Decoder {
  const { node, name } = codecNode(settings, fallback);
  const factory = Object.hasOwn(decoders, name) ? decoders[name] : undefined;
  if (!factory) throw settings.error('codec', `names an unknown codec "${name}" for reading; known: ${Object.keys(decoders).join(', ')}`);
  return factory(new Settings(node, 'codec'));
}

export function encoderFrom(settings: Settings, fallback: string): Encoder {
  const { node, name } = codecNode(settings, fallback);
  const factory = Object.hasOwn(encoders, name) ? encoders[name] : undefined;
  if (!factory) throw settings.error('codec', `names an unknown codec "${name}" for writing; known: ${Object.keys(encoders).join(', ')}`);
  return factory(new Settings(node, 'codec'));
}

function codecNode(settings: Settings, fallback: string): { node: PluginNode; name: string } {
  const value = settings.raw('codec');
  const at = value?.at ?? settings.plugin.at;
  if (value === undefined) return { node: { name: fallback, attributes: [], at }, name: fallback };
  if (value.kind === 'plugin') return { node: value.plugin, name: value.plugin.name };
  if (value.kind === 'bareword' || value.kind === 'string') return { node: { name: value.value, attributes: [], at }, name: value.value };
  throw settings.error('codec', 'must name a codec, as in codec => json_lines', at);
}
