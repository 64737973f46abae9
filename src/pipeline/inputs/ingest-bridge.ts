/**
 * What the network inputs share: the bridge from Logmill's protocol listeners (`src/ingest/`) to a
 * pipeline's `emit`, the listen address and TLS settings in Logstash's names, and the run loop that
 * keeps listeners open until the pipeline stops.
 *
 * The listeners own framing, decoding, TLS and acknowledgements; they hand events to an
 * `InputContext.write` and treat its promise as "the events are safe". Here that write turns the
 * store events into pipeline events and resolves only when `emit` resolves, i.e. when every output
 * of the pipeline has the batch: a Beats ACK is therefore sent after delivery, not on arrival.
 */
import tls from 'node:tls';
import type { LogEvent } from '../../core/event.js';
import { Metrics } from '../../core/metrics.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../ingest/lines.js';
import type { Input as IngestInput, InputContext } from '../../ingest/input.js';
import { tlsServerOptions, type TlsOptions } from '../../ingest/tls.js';
import type { Decorate } from '../common.js';
import { isObject, METADATA, PipelineEvent } from '../event.js';
import { pipelineEventFromLogEvent } from '../log-event.js';
import type { Emit, PipelineLogger, PluginContext } from '../plugin.js';
import type { Settings } from '../settings.js';

/** Logmill listens on loopback unless told otherwise (Logstash's inputs listen on 0.0.0.0). */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** Warnings an input logs about bad input per minute before it only counts them (a flood must not flood the log). */
export const MAX_LOGGED_WARNINGS = 20;
const WARNING_WINDOW_MS = 60_000;

/** The tag of an event the bridge could not convert (a bug, not bad input: the parsers tag bad input themselves). */
export const CONVERSION_FAILURE_TAG = '_inputconversionfailure';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host` and `port` settings; `port` is required when no default is given. */
export function listenAddress(settings: Settings, defaultPort?: number): ListenAddress {
  if (defaultPort === undefined && !settings.has('port')) throw settings.error('port', 'is required');
  const port = settings.number('port', defaultPort ?? 0, { integer: true, min: 0 });
  if (port > 65535) throw settings.error('port', 'must be at most 65535');
  const host = settings.string('host', DEFAULT_LISTEN_HOST).trim();
  if (host === '') throw settings.error('host', 'must not be empty');
  return { host, port };
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, as Logstash reports IPv4 peers. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** HOST:PORT as the ingest listeners take it (IPv6 in brackets). */
export function joinHostPort(address: ListenAddress, port = address.port): string {
  return address.host.includes(':') ? `[${address.host}]:${port}` : `${address.host}:${port}`;
}

/**
 * Logs at most `max` messages a minute; the rest are counted, and the count is logged with the first
 * message of the next minute, so a long-running input never goes silent for good.
 */
export function boundedLog(log: (message: string) => void, label: string, max = MAX_LOGGED_WARNINGS): (message: string) => void {
  let windowStart = -Infinity;
  let logged = 0;
  let suppressed = 0;
  return (message) => {
    const now = Date.now();
    if (now - windowStart >= WARNING_WINDOW_MS) {
      if (suppressed > 0) log(`${label}: ${suppressed} more warning(s) in the last minute were not logged`);
      windowStart = now;
      logged = 0;
      suppressed = 0;
    }
    if (logged < max) {
      logged++;
      log(`${label}: ${message}`);
    } else {
      suppressed++;
    }
  };
}

/** `boundedLog` at the warn level of a pipeline logger. */
export function boundedWarn(logger: PipelineLogger, label: string, max = MAX_LOGGED_WARNINGS): (message: string) => void {
  return boundedLog((m) => logger.warn(m), label, max);
}

/**
 * A store event from an ingest listener as a pipeline event: dotted names nested, and dotted
 * `@metadata.*` names (Beats send `@metadata.beat`…) moved into the event's hidden metadata.
 */
export function pipelineEventFromIngest(event: LogEvent): PipelineEvent {
  const out = pipelineEventFromLogEvent(event);
  const metadata = out.fields[METADATA];
  if (metadata !== undefined) {
    delete out.fields[METADATA];
    if (isObject(metadata)) Object.assign(out.metadata, metadata);
  }
  return out;
}

export interface BridgeOptions {
  readonly emit: Emit;
  readonly context: PluginContext;
  readonly label: string;
  /** Turns one ingest event into the pipeline event this input makes of it. */
  readonly convert: (event: LogEvent) => PipelineEvent;
  readonly decorate: Decorate;
  /** Longest line or message the listener keeps whole. */
  readonly maxLineBytes?: number;
}

/** An InputContext whose writes go through `convert` and `decorate` to `emit`, and resolve when `emit` does. */
export function bridgeContext(options: BridgeOptions): InputContext {
  const { emit, convert, decorate } = options;
  const warn = boundedWarn(options.context.logger, options.label);
  // A conversion that fails on one odd event must not fail the write, which would drop the connection.
  const safely = (e: LogEvent): PipelineEvent => {
    try {
      return convert(e);
    } catch (error) {
      warn(`could not convert an event (${(error as Error).message}); kept its message, tagged ${CONVERSION_FAILURE_TAG}`);
      return new PipelineEvent({ message: typeof e.fields.message === 'string' ? e.fields.message : '', tags: [CONVERSION_FAILURE_TAG] });
    }
  };
  return {
    ...listenerContext(options.context, options.label, options.maxLineBytes),
    write: async (events) => {
      const batch = events.map((e) => {
        const event = safely(e);
        decorate(event);
        return event;
      });
      if (batch.length > 0) await emit(batch);
    },
  };
}

/**
 * The metrics and log an ingest listener needs, for inputs that use only its socket parts (the tcp
 * input takes `createStreamServer` for TLS and connection limits, and frames with its codec): their
 * events never go through `write`.
 */
export function listenerContext(context: PluginContext, label: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): InputContext {
  // The listeners log per bad handshake or frame: bounded here, whatever the listener does.
  const warn = boundedLog((m) => context.logger.warn(m), label);
  const error = boundedLog((m) => context.logger.error(m), label);
  return {
    write: () => Promise.reject(new Error(`${label}: events do not go through the listener here`)),
    metrics: new Metrics(),
    maxLineBytes,
    log: (level, message) => (level === 'info' ? context.logger.info(`${label}: ${message}`) : level === 'warn' ? warn(message) : error(message)),
  };
}

/**
 * Starts the listeners, keeps them until the pipeline stops, then closes them; closing waits for the
 * writes already under way (their events are delivered, their ACKs sent where the socket still lives).
 */
export async function runListeners(signal: AbortSignal, start: () => Promise<readonly IngestInput[]>): Promise<void> {
  if (signal.aborted) return;
  const listeners = await start();
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.allSettled(listeners.map((l) => l.close()));
  }
}

/**
 * For inputs whose protocol decodes events itself (syslog, Beats, GELF): `codec` may only be plain, the
 * codec Logstash gives them by default, so a configuration asking for another is told it has no effect.
 */
export function onlyPlainCodec(settings: Settings, why: string): void {
  const codec = settings.raw('codec');
  if (codec === undefined) return;
  const plain = codec.kind === 'bareword' || codec.kind === 'string' ? codec.value === 'plain' : codec.kind === 'plugin' && codec.plugin.name === 'plain' && codec.plugin.attributes.length === 0;
  if (!plain) throw settings.error('codec', `can only be plain: ${why}`);
}

export interface TlsSettingNames {
  /** Names of the boolean that turns TLS on, first the current one (`ssl_enabled`), then older aliases. */
  readonly enabled: readonly string[];
  /** How client certificates are checked when `ssl_certificate_authorities` is given and nothing says otherwise. */
  readonly defaultClientAuthentication: ClientAuthentication;
  /** Whether the tcp input's old boolean `ssl_verify` is known. */
  readonly sslVerify?: boolean;
  /** TLS when nothing says otherwise (Logstash's lumberjack input always speaks TLS). */
  readonly enabledByDefault?: boolean;
  /** Older names of `ssl_certificate` that configurations still use (the tcp input's `ssl_cert`). */
  readonly certificateAliases?: readonly string[];
}

export type ClientAuthentication = 'none' | 'optional' | 'required';

/**
 * Logstash's TLS settings as the ingest listeners' TlsOptions: `ssl_enabled` (or an alias),
 * `ssl_certificate`, `ssl_key`, `ssl_certificate_authorities` (one PEM file, which may hold several
 * CAs), and client checking as `ssl_client_authentication` (none/optional/required) or the older
 * `ssl_verify_mode` (none/peer/force_peer) or `ssl_verify` (true = required).
 */
export function tlsFromSettings(settings: Settings, names: TlsSettingNames): TlsOptions | undefined {
  const byDefault = names.enabledByDefault === true;
  let enabled = byDefault;
  let enabledBy: string | null = null;
  for (const name of names.enabled) {
    if (!settings.has(name)) {
      settings.boolean(name, byDefault); // marks it known
      continue;
    }
    if (enabledBy !== null) throw settings.error(name, `is an older name of "${enabledBy}": give only one of them`);
    enabled = settings.boolean(name, byDefault);
    enabledBy = name;
  }
  let cert = settings.string('ssl_certificate');
  for (const alias of names.certificateAliases ?? []) {
    const value = settings.string(alias);
    if (value === undefined) continue;
    if (cert !== undefined) throw settings.error(alias, 'is an older name of "ssl_certificate": give only one of them');
    cert = value;
  }
  const key = settings.string('ssl_key');
  const cas = settings.strings('ssl_certificate_authorities');
  const auth = clientAuthentication(settings, cas.length > 0 ? names.defaultClientAuthentication : 'none', names.sslVerify === true);
  settings.accept('ssl_cipher_suites', 'ssl_supported_protocols', 'ssl_handshake_timeout');
  if (settings.has('ssl_key_passphrase')) throw settings.error('ssl_key_passphrase', 'is not supported: give an unencrypted PEM key');
  settings.accept('ssl_key_passphrase');
  if (!enabled) return undefined;
  const enabledName = enabledBy ?? names.enabled[0];
  const why = enabledBy === null && byDefault ? `(this input speaks TLS unless ${names.enabled[names.enabled.length - 1]} => false)` : `when ${enabledName} is true`;
  if (!cert) throw settings.error('ssl_certificate', `is required ${why}`);
  if (!key) throw settings.error('ssl_key', `is required ${why}`);
  if (cas.length > 1) throw settings.error('ssl_certificate_authorities', 'takes one PEM file here (put several CAs in that one file)');
  if (auth !== 'none' && cas.length === 0) throw settings.error('ssl_certificate_authorities', `is required to check client certificates (${auth})`);
  const out: TlsOptions = { cert, key };
  if (auth !== 'none') {
    out.ca = cas[0];
    out.requireClientCert = auth === 'required';
  }
  // Unreadable files or a key that does not fit the certificate are configuration mistakes: said now, not at the first connection.
  try {
    tls.createSecureContext(tlsServerOptions(out));
  } catch (error) {
    const message = (error as Error).message;
    const setting = /\bCA\b/.test(message) ? 'ssl_certificate_authorities' : /\bkey\b/i.test(message) ? 'ssl_key' : 'ssl_certificate';
    throw settings.error(setting, `cannot be used: ${message}`);
  }
  return out;
}

function clientAuthentication(settings: Settings, fallback: ClientAuthentication, sslVerify: boolean): ClientAuthentication {
  const names = sslVerify ? ['ssl_client_authentication', 'ssl_verify_mode', 'ssl_verify'] : ['ssl_client_authentication', 'ssl_verify_mode'];
  const given = names.filter((n) => settings.has(n));
  if (given.length > 1) throw settings.error(given[1], `says the same as "${given[0]}": give only one of them`);
  const modern = settings.choice('ssl_client_authentication', ['none', 'optional', 'required'] as const, fallback);
  const legacy = settings.choice('ssl_verify_mode', ['none', 'peer', 'force_peer'] as const, 'none');
  const verify = sslVerify && settings.boolean('ssl_verify', false);
  if (given[0] === 'ssl_verify_mode') return legacy === 'force_peer' ? 'required' : legacy === 'peer' ? 'optional' : 'none';
  if (given[0] === 'ssl_verify') return verify ? 'required' : 'none';
  return modern;
}
