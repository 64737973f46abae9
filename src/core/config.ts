/**
 * Server configuration from, weakest first: defaults, a JSON config file,
 * LOGMILL_* environment variables, command-line flags.
 */
import fs from 'node:fs';
import { parseDurationMs } from './time.js';
import { isTimeZone } from './zones.js';

export interface ServerConfig {
  /** Where data lives. */
  data: string;
  /** HOST:PORT of the HTTP API and UI. */
  http: string;
  /** API token; required when any listener is beyond loopback. */
  token: string | null;
  /** HOST:PORT for newline-delimited TCP, or null (off). */
  tcp: string | null;
  /** HOST:PORT for newline-delimited UDP, or null (off). */
  udp: string | null;
  /** HOST:PORT of the Elasticsearch-compatible API, or null. */
  es: string | null;
  /** HOST:PORT for syslog over UDP and TCP (one port, both protocols), or null. */
  syslog: string | null;
  /** HOST:PORT for syslog over TLS (RFC 5425), or null; needs tlsCert and tlsKey. */
  syslogTls: string | null;
  /** HOST:PORT for the Beats/Lumberjack protocol, or null. */
  beats: string | null;
  /** HOST:PORT for GELF over UDP and TCP, or null. */
  gelf: string | null;
  /** PEM certificate and key for TLS listeners; with tlsCa, clients' certificates are checked. */
  tlsCert: string | null;
  tlsKey: string | null;
  tlsCa: string | null;
  /** With tlsCa: refuse clients without a certificate signed by it (mutual TLS). */
  tlsRequireClientCert: boolean;
  /** Whether Beats and raw TCP listeners use TLS (with tlsCert/tlsKey). */
  beatsTls: boolean;
  /** IANA time zone for syslog dates without an offset. */
  timeZone: string;
  /** Keep this many days; 0 keeps everything. */
  retentionDays: number;
  maxColumns: number;
  maxLineBytes: number;
  maxBodyBytes: number;
  memoryLimit: string;
  /** Queries running longer are stopped with an error naming the limit; 0: no limit. */
  queryTimeout: number;
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** A Logstash configuration (file, directory of *.conf, or glob) the server runs as pipeline "main", or null. */
  pipelineConfig: string | null;
  /** A Logstash pipelines.yml listing the pipelines the server runs, or null. */
  pipelines: string | null;
}

export const DEFAULTS: ServerConfig = {
  data: './data',
  http: '127.0.0.1:5601',
  token: null,
  tcp: null,
  udp: null,
  es: '127.0.0.1:9200',
  syslog: '127.0.0.1:5514',
  syslogTls: null,
  beats: '127.0.0.1:5044',
  gelf: '127.0.0.1:12201',
  tlsCert: null,
  tlsKey: null,
  tlsCa: null,
  tlsRequireClientCert: false,
  beatsTls: false,
  timeZone: 'UTC',
  retentionDays: 0,
  maxColumns: 1000,
  maxLineBytes: 1024 * 1024,
  maxBodyBytes: 64 * 1024 * 1024,
  memoryLimit: '256MB',
  queryTimeout: 30_000,
  logLevel: 'info',
  pipelineConfig: null,
  pipelines: null,
};

/** Each setting, its environment variable and how to read a text value of it. */
const SETTINGS: { key: keyof ServerConfig; env: string; parse: (v: string) => unknown }[] = [
  { key: 'data', env: 'LOGMILL_DATA', parse: String },
  { key: 'http', env: 'LOGMILL_HTTP', parse: parseHostPort },
  { key: 'token', env: 'LOGMILL_TOKEN', parse: String },
  { key: 'tcp', env: 'LOGMILL_TCP', parse: parseListener },
  { key: 'udp', env: 'LOGMILL_UDP', parse: parseListener },
  { key: 'es', env: 'LOGMILL_ES', parse: parseListener },
  { key: 'syslog', env: 'LOGMILL_SYSLOG', parse: parseListener },
  { key: 'syslogTls', env: 'LOGMILL_SYSLOG_TLS', parse: parseListener },
  { key: 'beats', env: 'LOGMILL_BEATS', parse: parseListener },
  { key: 'gelf', env: 'LOGMILL_GELF', parse: parseListener },
  { key: 'tlsCert', env: 'LOGMILL_TLS_CERT', parse: String },
  { key: 'tlsKey', env: 'LOGMILL_TLS_KEY', parse: String },
  { key: 'tlsCa', env: 'LOGMILL_TLS_CA', parse: String },
  { key: 'tlsRequireClientCert', env: 'LOGMILL_TLS_REQUIRE_CLIENT_CERT', parse: parseBool },
  { key: 'beatsTls', env: 'LOGMILL_BEATS_TLS', parse: parseBool },
  { key: 'timeZone', env: 'LOGMILL_TIME_ZONE', parse: parseTimeZone },
  { key: 'retentionDays', env: 'LOGMILL_RETENTION', parse: parseRetention },
  { key: 'maxColumns', env: 'LOGMILL_MAX_COLUMNS', parse: positiveInt('max columns') },
  { key: 'maxLineBytes', env: 'LOGMILL_MAX_LINE_BYTES', parse: positiveInt('max line bytes') },
  { key: 'maxBodyBytes', env: 'LOGMILL_MAX_BODY_BYTES', parse: positiveInt('max body bytes') },
  { key: 'memoryLimit', env: 'LOGMILL_MEMORY_LIMIT', parse: String },
  { key: 'queryTimeout', env: 'LOGMILL_QUERY_TIMEOUT', parse: parseQueryTimeout },
  { key: 'logLevel', env: 'LOGMILL_LOG_LEVEL', parse: parseLogLevel },
  { key: 'pipelineConfig', env: 'LOGMILL_PATH_CONFIG', parse: String },
  { key: 'pipelines', env: 'LOGMILL_PIPELINES', parse: String },
];

export class ConfigError extends Error {}

export function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Partial<Record<keyof ServerConfig, string | number | boolean | null | undefined>>;
}): ServerConfig {
  const config: ServerConfig = { ...DEFAULTS };
  const assign = (key: keyof ServerConfig, raw: unknown, from: string): void => {
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting) throw new ConfigError(`${from}: unknown setting "${key}"; known: ${SETTINGS.map((s) => s.key).join(', ')}`);
    try {
      (config as unknown as Record<string, unknown>)[key] =
        raw === null || raw === false ? (typeof DEFAULTS[key] === 'boolean' ? false : null) : typeof raw === 'string' ? setting.parse(raw) : setting.parse(String(raw));
    } catch (err) {
      throw new ConfigError(`${from}: ${(err as Error).message}`);
    }
  };
  if (opts.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${opts.file}: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${opts.file} must hold a JSON object`);
    }
    for (const [key, value] of Object.entries(parsed)) assign(key as keyof ServerConfig, value, `config file ${opts.file}`);
  }
  const env = opts.env ?? {};
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') assign(s.key, v, `environment variable ${s.env}`);
  }
  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value !== undefined) assign(key as keyof ServerConfig, value, `flag ${flagName(key)}`);
  }
  return config;
}

export function parseHostPort(v: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`"${v}" is not HOST:PORT (for example 127.0.0.1:5601)`);
  return v.trim();
}

/** The command-line flag of a setting, as users type it. */
export function flagName(key: string): string {
  if (key === 'retentionDays') return '--retention';
  if (key === 'pipelineConfig') return '--path-config';
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** A listener address, or `off` (also `none`, `false`, empty) to turn it off. */
export function parseListener(v: string): string | null {
  if (['off', 'none', 'false', ''].includes(v.trim().toLowerCase())) return null;
  return parseHostPort(v);
}

function parseBool(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new Error(`"${v}" is not true or false`);
}

function parseTimeZone(v: string): string {
  if (!isTimeZone(v)) throw new Error(`"${v}" is not an IANA time zone such as UTC or Europe/Berlin`);
  return v;
}

export function splitHostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parseQueryTimeout(v: string): number {
  if (v === '0') return 0;
  const ms = parseDurationMs(v);
  if (ms === null || ms <= 0) throw new Error(`query timeout "${v}" must be a duration like 30s or 2m, or 0 for none`);
  return ms;
}

function parseRetention(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const ms = parseDurationMs(v);
  if (ms === null || ms % 86_400_000 !== 0) throw new Error(`retention "${v}" must be whole days, like 30d`);
  return ms / 86_400_000;
}

function positiveInt(what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${what} "${v}" must be a positive whole number`);
    return n;
  };
}

function parseLogLevel(v: string): ServerConfig['logLevel'] {
  if (!['silent', 'error', 'warn', 'info', 'debug'].includes(v)) throw new Error(`log level "${v}" must be silent, error, warn, info or debug`);
  return v as ServerConfig['logLevel'];
}
