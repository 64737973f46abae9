/**
 * Server configuration from, weakest first: defaults, a JSON config file,
 * LOGMILL_* environment variables, command-line flags.
 */
import fs from 'node:fs';
import { parseDurationMs } from './time.js';

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
  /** Keep this many days; 0 keeps everything. */
  retentionDays: number;
  maxColumns: number;
  maxLineBytes: number;
  maxBodyBytes: number;
  memoryLimit: string;
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export const DEFAULTS: ServerConfig = {
  data: './data',
  http: '127.0.0.1:5601',
  token: null,
  tcp: null,
  udp: null,
  retentionDays: 0,
  maxColumns: 1000,
  maxLineBytes: 1024 * 1024,
  maxBodyBytes: 64 * 1024 * 1024,
  memoryLimit: '256MB',
  logLevel: 'info',
};

/** Each setting, its environment variable and how to read a text value of it. */
const SETTINGS: { key: keyof ServerConfig; env: string; parse: (v: string) => unknown }[] = [
  { key: 'data', env: 'LOGMILL_DATA', parse: String },
  { key: 'http', env: 'LOGMILL_HTTP', parse: parseHostPort },
  { key: 'token', env: 'LOGMILL_TOKEN', parse: String },
  { key: 'tcp', env: 'LOGMILL_TCP', parse: parseHostPort },
  { key: 'udp', env: 'LOGMILL_UDP', parse: parseHostPort },
  { key: 'retentionDays', env: 'LOGMILL_RETENTION', parse: parseRetention },
  { key: 'maxColumns', env: 'LOGMILL_MAX_COLUMNS', parse: positiveInt('max columns') },
  { key: 'maxLineBytes', env: 'LOGMILL_MAX_LINE_BYTES', parse: positiveInt('max line bytes') },
  { key: 'maxBodyBytes', env: 'LOGMILL_MAX_BODY_BYTES', parse: positiveInt('max body bytes') },
  { key: 'memoryLimit', env: 'LOGMILL_MEMORY_LIMIT', parse: String },
  { key: 'logLevel', env: 'LOGMILL_LOG_LEVEL', parse: parseLogLevel },
];

export class ConfigError extends Error {}

export function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Partial<Record<keyof ServerConfig, string | number | null | undefined>>;
}): ServerConfig {
  const config: ServerConfig = { ...DEFAULTS };
  const assign = (key: keyof ServerConfig, raw: unknown, from: string): void => {
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting) throw new ConfigError(`${from}: unknown setting "${key}"; known: ${SETTINGS.map((s) => s.key).join(', ')}`);
    try {
      (config as unknown as Record<string, unknown>)[key] =
        raw === null ? null : typeof raw === 'string' ? setting.parse(raw) : setting.parse(String(raw));
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
    if (value !== undefined) assign(key as keyof ServerConfig, value, `flag --${key}`);
  }
  return config;
}

export function parseHostPort(v: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`"${v}" is not HOST:PORT (for example 127.0.0.1:5601)`);
  return v.trim();
}

export function splitHostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
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
