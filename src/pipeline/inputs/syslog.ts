/**
 * The `syslog` input: syslog over UDP and TCP on one port, as Logstash's syslog input, with the
 * fields of its legacy (non-ECS) mode.
 *
 * Sockets, framing (octet counting or newline, per message) and parsing (RFC 3164, RFC 5424 and
 * device variants) are the ingest layer's (`src/ingest/syslog/`); this file only renames what that
 * parser gives into Logstash's fields:
 *
 *   message (the MSG part), host (the sender's address), logsource (the HOSTNAME of the message),
 *   program, pid, priority, facility, severity, facility_label and severity_label (when use_labels),
 *   @timestamp from the message's own time (the arrival time when it has none).
 *
 * RFC 5424 parts Logstash's grok never reads (VERSION, MSGID, structured data) are kept under
 * [syslog]. A message the parser cannot read is kept whole in `message`, with priority 13 (user.notice)
 * and the tag `_grokparsefailure_sysloginput`, as Logstash does.
 */
import type { FieldValue, LogEvent } from '../../core/event.js';
import { startSyslogInputs } from '../../ingest/syslog/server.js';
import { SYSLOG_PARSE_FAILURE_TAG } from '../../ingest/syslog/parse.js';
import { inputDecoration } from '../common.js';
import type { PipelineEvent } from '../event.js';
import type { Input, InputFactory } from '../plugin.js';
import { bridgeContext, joinHostPort, listenAddress, onlyPlainCodec, pipelineEventFromIngest, runListeners } from './ingest-bridge.js';

export const SYSLOG_INPUT_FAILURE_TAG = '_grokparsefailure_sysloginput';

/** Logstash's labels, by facility and severity number (logstash-input-syslog). */
export const FACILITY_LABELS: readonly string[] = [
  'kernel', 'user-level', 'mail', 'system', 'security/authorization', 'syslogd', 'line printer', 'network news',
  'UUCP', 'clock', 'security/authorization', 'FTP', 'NTP', 'log audit', 'log alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
export const SEVERITY_LABELS: readonly string[] = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];

export const syslogInput: InputFactory = (settings, context) => {
  const address = listenAddress(settings, 514);
  const useLabels = settings.boolean('use_labels', true);
  const syslogField = settings.string('syslog_field', 'message');
  // The parser reads the bytes as they arrive, before any codec: the text is always in `message`.
  if (syslogField !== 'message') throw settings.error('syslog_field', 'can only be "message" here: Logmill parses syslog before any codec, so no other field holds the syslog text');
  onlyPlainCodec(settings, 'the syslog input frames and parses messages itself');
  if (settings.has('grok_pattern')) throw settings.error('grok_pattern', 'is not supported: Logmill parses syslog with its own RFC 3164/5424 parser; use a grok filter for other formats');
  settings.accept('grok_pattern');
  if (settings.boolean('proxy_protocol', false)) throw settings.error('proxy_protocol', 'is not supported');
  const timeZone = settings.string('timezone');
  if (timeZone !== undefined && !knownTimeZone(timeZone)) throw settings.error('timezone', `names no time zone the system knows: "${timeZone}" (use an IANA name such as "Europe/Paris")`);
  settings.accept('locale', 'service_type');
  const decorate = inputDecoration(settings);
  settings.done();
  const label = `input syslog (${joinHostPort(address)})`;

  const input: Input = {
    label,
    listeners: [
      { protocol: 'udp', host: address.host, port: address.port },
      { protocol: 'tcp', host: address.host, port: address.port },
    ],
    run: (emit) =>
      runListeners(context.signal, async () => {
        const ctx = bridgeContext({ emit, context, label, decorate, convert: (e) => legacySyslogEvent(e, useLabels) });
        const listen = joinHostPort(address);
        return startSyslogInputs({ udp: listen, tcp: listen, ...(timeZone !== undefined ? { timeZone } : {}) }, ctx);
      }),
  };
  return input;
};

/** The ingest parser's event in the names of Logstash's syslog input (see the header). */
export function legacySyslogEvent(event: LogEvent, useLabels: boolean): PipelineEvent {
  const f = event.fields;
  const out: Record<string, FieldValue> = {};
  const tags = Array.isArray(f.tags) ? f.tags.map(String) : [];
  const failed = tags.includes(SYSLOG_PARSE_FAILURE_TAG);
  out.message = f.message ?? '';
  const sender = f['log.source.address'];
  if (typeof sender === 'string' && sender !== '') out.host = sender;
  // The parser falls back to the sender's address for `host`; only a HOSTNAME of the message is a logsource.
  if (!failed && typeof f.host === 'string' && f.host !== sender) out.logsource = f.host;
  const facility = failed ? 1 : numberOr(f['syslog.facility'], 1);
  const severity = failed ? 5 : numberOr(f['syslog.severity'], 5);
  out.priority = facility * 8 + severity;
  out.facility = facility;
  out.severity = severity;
  if (useLabels) {
    out.facility_label = FACILITY_LABELS[facility] ?? `facility ${facility}`;
    out.severity_label = SEVERITY_LABELS[severity] ?? `severity ${severity}`;
  }
  if (!failed) {
    if (f['syslog.appname'] !== undefined) out.program = f['syslog.appname'];
    if (f['syslog.procid'] !== undefined) out.pid = f['syslog.procid'];
  }
  for (const name of Object.keys(f)) {
    if (name === 'syslog.version' || name === 'syslog.msgid' || name === 'syslog.sequence' || name.startsWith('syslog.sd.') || name === '_timestamp_invalid') out[name] = f[name];
  }
  const kept = tags.map((t) => (t === SYSLOG_PARSE_FAILURE_TAG ? SYSLOG_INPUT_FAILURE_TAG : t));
  if (kept.length > 0) out.tags = kept;
  return pipelineEventFromIngest({ ts: event.ts, fields: out });
}

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function numberOr(value: FieldValue | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}
