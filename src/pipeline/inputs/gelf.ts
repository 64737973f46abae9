/**
 * The `gelf` input: GELF over UDP (plain, gzip or zlib, chunked) and, when `use_tcp` is on, over TCP
 * (NUL-delimited), as Logstash's gelf input.
 *
 * Sockets, chunk reassembly, decompression (bounded) and decoding are the ingest layer's
 * (`src/ingest/gelf/`). Its event is given Logstash's names (its `remap`): `full_message` → `message`
 * with `short_message` kept beside it, or `short_message` → `message` when there is no full one;
 * `host`, `level` as GELF's number, additional fields without their leading
 * underscore (`_user_id` → `user_id`, nested hashes kept nested), `timestamp` → `@timestamp`.
 * A payload that does not decode is kept as an event whose `message` is its text, tagged
 * `_jsonparsefailure`, with the reason in [error][message].
 */
import type { LogEvent } from '../../core/event.js';
import { startGelfTcp, startGelfUdp } from '../../ingest/gelf/server.js';
import type { Input as IngestInput } from '../../ingest/input.js';
import { inputDecoration } from '../common.js';
import type { PipelineEvent } from '../event.js';
import type { Input, InputFactory, Listener } from '../plugin.js';
import { bridgeContext, joinHostPort, listenAddress, onlyPlainCodec, pipelineEventFromIngest, runListeners } from './ingest-bridge.js';

export const gelfInput: InputFactory = (settings, context) => {
  const address = listenAddress(settings, 12201);
  const useUdp = settings.boolean('use_udp', true);
  const useTcp = settings.boolean('use_tcp', false);
  const portUdp = settings.number('port_udp', address.port, { integer: true, min: 0 });
  const portTcp = settings.number('port_tcp', address.port, { integer: true, min: 0 });
  for (const [name, value] of [['port_udp', portUdp], ['port_tcp', portTcp]] as const) if (value > 65535) throw settings.error(name, 'must be at most 65535');
  if (!useUdp && !useTcp) throw settings.error('use_udp', 'and use_tcp are both false: the input would listen on nothing');
  // The ingest decoder always renames short_message and strips the underscores: the other choice is not offered.
  if (!settings.boolean('remap', true)) throw settings.error('remap', 'can only be true here');
  if (!settings.boolean('strip_leading_underscore', true)) throw settings.error('strip_leading_underscore', 'can only be true here');
  onlyPlainCodec(settings, 'GELF payloads are decoded by the input itself');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input gelf (${joinHostPort(address)})`;
  const listeners: Listener[] = [];
  if (useUdp) listeners.push({ protocol: 'udp', host: address.host, port: portUdp });
  if (useTcp) listeners.push({ protocol: 'tcp', host: address.host, port: portTcp });

  const input: Input = {
    label,
    listeners,
    run: (emit) =>
      runListeners(context.signal, async () => {
        const ctx = bridgeContext({ emit, context, label, decorate, convert: gelfPipelineEvent });
        const started: IngestInput[] = [];
        try {
          if (useUdp) started.push(await startGelfUdp(joinHostPort(address, portUdp), ctx));
          if (useTcp) started.push(await startGelfTcp(joinHostPort(address, portTcp), ctx));
        } catch (error) {
          await Promise.allSettled(started.map((s) => s.close()));
          throw error;
        }
        return started;
      }),
  };
  return input;
};

/**
 * The ingest layer's GELF event in Logstash's names: `level` back to GELF's number, and Logstash's
 * remap: a non-empty `full_message` becomes `message`, the short one staying in `short_message`.
 */
export function gelfPipelineEvent(event: LogEvent): PipelineEvent {
  const f = event.fields;
  const full = f.full_message;
  if (typeof full === 'string' && full !== '') {
    const short = f.message;
    f.message = full;
    delete f.full_message;
    if (short !== undefined && short !== full) f.short_message = short;
  }
  const level = f['gelf.level'];
  if (typeof level === 'number') {
    f.level = level;
    delete f['gelf.level'];
  }
  return pipelineEventFromIngest(event);
}
