/**
 * The `beats` input (and `lumberjack`, its name for logstash-forwarder configurations): a Lumberjack
 * v2/v1 server for Filebeat, Winlogbeat, Metricbeat…, optionally over TLS.
 *
 * Protocol, windows, compression, TLS and ACKs are the ingest layer's (`src/ingest/beats/`). Its
 * write is bridged to the pipeline's emit, so a window is acknowledged only once the pipeline's
 * outputs have its events, and a connection waits (keepalive ACKs meanwhile) while they do not.
 *
 * Events carry the fields as the Beat sent them, nested ([host][name], [log][file][path], [agent]…),
 * `@metadata` from the Beat in the event's metadata ([@metadata][beat], [@metadata][type]…). The
 * ingest layer's conveniences for the store (a `host` text beside [host][name], `source` beside
 * [log][file][path]) are taken back out, so that the event is what Logstash's beats input makes,
 * tags included: `beats_input_codec_plain_applied` on events with a message (unless
 * `include_codec_tag => false`), `beats_input_raw_event` on events without one.
 */
import type { LogEvent } from '../../core/event.js';
import { startBeatsInput } from '../../ingest/beats/server.js';
import { inputDecoration } from '../common.js';
import type { PipelineEvent } from '../event.js';
import type { Input, InputFactory } from '../plugin.js';
import { bridgeContext, joinHostPort, listenAddress, onlyPlainCodec, pipelineEventFromIngest, runListeners, tlsFromSettings } from './ingest-bridge.js';

const beatsLike = (name: 'beats' | 'lumberjack'): InputFactory => (settings, context) => {
  const address = listenAddress(settings);
  // logstash-forwarder speaks only TLS, and Logstash's lumberjack input has no plain mode: TLS unless `ssl => false`.
  const tls = tlsFromSettings(settings, { enabled: ['ssl_enabled', 'ssl'], defaultClientAuthentication: 'none', enabledByDefault: name === 'lumberjack' });
  const includeCodecTag = settings.boolean('include_codec_tag', true);
  settings.accept('client_inactivity_timeout', 'executor_threads', 'add_hostname', 'congestion_threshold', 'enrich', 'event_loop_threads');
  onlyPlainCodec(settings, 'Beats send events, not text');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input ${name} (${joinHostPort(address)})`;
  const input: Input = {
    label,
    listeners: [{ protocol: 'tcp', host: address.host, port: address.port }],
    run: (emit) =>
      runListeners(context.signal, async () => {
        const ctx = bridgeContext({ emit, context, label, decorate, convert: (e) => beatsPipelineEvent(e, includeCodecTag) });
        return [await startBeatsInput(joinHostPort(address), ctx, tls ? { tls } : {})];
      }),
  };
  return input;
};

export const beatsInput: InputFactory = beatsLike('beats');
export const lumberjackInput: InputFactory = beatsLike('lumberjack');

/** A Beats event from the ingest layer as the pipeline event Logstash makes of it (see the header). */
export function beatsPipelineEvent(event: LogEvent, includeCodecTag = true): PipelineEvent {
  const f = event.fields;
  // beatsEventToFields adds `host` = [host][name] and `source` = [log][file][path]; as a text they would hide the hashes.
  if (typeof f['host.name'] === 'string' && f.host === f['host.name']) delete f.host;
  if (typeof f['log.file.path'] === 'string' && f.source === f['log.file.path']) delete f.source;
  // For v1 (logstash-forwarder) events it adds `message` = `line` and `source` = `file`; Logstash renames `line` and keeps `file`.
  if (typeof f.line === 'string' && f.message === f.line) delete f.line;
  if (typeof f.file === 'string' && f.source === f.file) delete f.source;
  const out = pipelineEventFromIngest(event);
  // Logstash's tags: an event with a message went through the (plain) codec; one without (Metricbeat) is raw.
  if (!out.has(['message'])) out.addTag('beats_input_raw_event');
  else if (includeCodecTag) out.addTag('beats_input_codec_plain_applied');
  return out;
}
