/**
 * Syslog message decoder: RFC 5424, RFC 3164/BSD and the variants real devices
 * send (Cisco IOS/NX-OS/ASA sequence numbers and timestamps, year-bearing and
 * ISO dates, missing PRI or HOSTNAME). Pure: no sockets, no I/O, no clock
 * (the caller passes `now`). Never throws.
 *
 * The decoder scans by index over one decoded string; it uses no regular
 * expressions and no split(), and allocates little besides the result object
 * and the substrings it returns.
 *
 * Output: one flat object of event fields (see SyslogResult).
 *
 * Decisions (kept in one place so the integrator can find them):
 *
 *  - Format: after a valid PRI, `<digits 1-3, first non-zero> SP` followed by
 *    `-` or a digit is RFC 5424; everything else is RFC 3164/BSD.
 *  - RFC 5424 is parsed strictly (one SP between header fields, RFC 3339
 *    TIMESTAMP with at most 6 fraction digits and a mandatory offset, valid
 *    SD-ELEMENTs). Any violation makes the whole message a parse failure:
 *    `tags: ['_syslogparsefailure']`, `message` = whole text, PRI fields kept.
 *    Field length limits (HOSTNAME 255, APP-NAME 48, ...) are not enforced.
 *  - RFC 3164 is tolerant. It is a parse failure only when the PRI is
 *    malformed (`<` not followed by 1-3 digits and `>`, or a value > 191), or
 *    when there is neither a PRI nor a recognisable date (then the line is
 *    not syslog at all). Without a recognisable date the text after the PRI is
 *    CONTENT (RFC 3164 4.3.3): no HOSTNAME is looked for, only a TAG.
 *  - Missing PRI: facility user (1), severity notice (5).
 *  - HOSTNAME detection (3164): the token after the date is a TAG (and the
 *    message has no HOSTNAME) when it looks like `name:`, `name[pid]:` or
 *    `name[pid]`, i.e. a run without SP, `:`, `[`, `]`, optionally a
 *    bracketed pid, and a `:` (optional after `[pid]`), followed by SP or the
 *    end. Otherwise the token is the HOSTNAME and the next token is a TAG if
 *    it has that shape; if not, there is no TAG and the rest is the message
 *    (RFC 3164 example 2, "10.0.0.99 Use the BFG!"). A token starting with `%`
 *    (Cisco `%FAC-SEV-MNEMONIC:`) is never a HOSTNAME or TAG: the message
 *    starts there. A TAG of digits only (`router 123: ...`) is a sequence
 *    number (`syslog.sequence`), not a program name.
 *  - One SP after the TAG's `:` is removed; further spaces stay in `message`.
 *  - Dates recognised in 3164 position, with an optional `*` or `.` prefix
 *    (Cisco: clock not synchronised / synchronisation lost):
 *      `Mmm dd hh:mm:ss`, `Mmm dd yyyy hh:mm:ss`, `yyyy Mmm dd hh:mm:ss`
 *      (month names case-insensitive, day space- or zero-padded or not,
 *      seconds fraction `.123` or `,123`), and ISO 8601
 *      `yyyy-mm-ddThh:mm:ss[.frac][Z|±hh:mm|±hhmm|±hh]` (`T`, `t` or SP).
 *    A `:` right after the time, or SP + 2-5 upper-case letters + `:`
 *    (Cisco `show-timezone`, e.g. ` UTC:`), ends the header Cisco-style: the
 *    rest is the message. UTC/GMT/UT labels mean offset 0; other labels are
 *    unknown and `opts.timeZone` is used.
 *  - Dates without an offset are wall-clock times in `opts.timeZone`
 *    (IANA, default UTC; an invalid zone name is treated as UTC).
 *  - Year-less dates: with Y = the current year in `opts.timeZone` at
 *    `opts.now`, the year is the latest of Y+1, Y, Y-1, ... (down to Y-8, for
 *    Feb 29) for which the date exists and the instant is at most 24 hours
 *    after `now` (YEARLESS_FUTURE_SKEW_MS). So a Dec 31 message received on
 *    Jan 1 lands in the previous year, and a Jan 1 00:00:05 message received
 *    on Dec 31 23:59:50 (sender clock slightly ahead) lands in the next one.
 *  - Cisco sequence: `<PRI>123: ` (digits + `:` + SP right after the PRI) is
 *    `syslog.sequence`; it may be followed by `hostname: ` (origin-id) before
 *    the date.
 *  - `host` is the message HOSTNAME, or `opts.receivedFrom` when the message
 *    has none; `log.source.address` is `opts.receivedFrom` whenever given.
 *  - Trailing CR, LF and NUL are removed from the input before parsing
 *    (transport trailers). The UTF-8 BOM is removed from RFC 5424 MSG only.
 *  - `tags` is present only when non-empty. `message` is always present
 *    (empty string when the message has no MSG part).
 *  - An SD-ELEMENT without parameters produces no field.
 */

import type { FieldValue } from '../../core/event.js';
import { MAX_FIELD_NAME_BYTES, newFields } from '../../core/normalize.js';
import { getZone, offsetAt, utcMs, wallToUtc } from '../../core/zones.js';

/** Offset in ms (local - UTC) of an IANA zone at an instant; kept here for the parser's tests. */
export { zoneOffsetMs } from '../../core/zones.js';

/** Field names under which structured data is flattened. */
export type SyslogSdKey = `syslog.sd.${string}`;

export interface SyslogParseOptions {
  /** Arrival time; resolves year-less dates. */
  now: Date;
  /** IANA zone for RFC 3164 dates without an offset. Default 'UTC'. */
  timeZone?: string;
  /** Address of the sender, as the transport saw it. */
  receivedFrom?: string;
}

export interface SyslogResult {
  /** Milliseconds since the epoch (fractional for sub-millisecond precision); absent if the message has no usable time. */
  '@timestamp'?: number;
  message: string;
  host?: string;
  /** = syslog.severity_name */
  level: string;
  'syslog.facility': number;
  'syslog.facility_name': string;
  'syslog.severity': number;
  'syslog.severity_name': string;
  /** RFC 5424 VERSION; absent for RFC 3164. */
  'syslog.version'?: number;
  'syslog.appname'?: string;
  'syslog.procid'?: string;
  'syslog.msgid'?: string;
  'syslog.sequence'?: number;
  'log.source.address'?: string;
  /** The STRUCTURED-DATA as sent, when it did not parse (tagged SYSLOG_SD_PARSE_FAILURE_TAG). */
  'syslog.sd_raw'?: string;
  tags?: string[];
  [sd: SyslogSdKey]: string | string[];
}

export const SYSLOG_PARSE_FAILURE_TAG = '_syslogparsefailure';
/** An RFC 5424 message whose header parsed but whose STRUCTURED-DATA did not (kept in syslog.sd_raw). */
export const SYSLOG_SD_PARSE_FAILURE_TAG = '_syslogsdparsefailure';

export const FACILITY_NAMES: readonly string[] = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

export const SEVERITY_NAMES: readonly string[] = [
  'emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug',
];

/** How far in the future a year-less date may land before the previous year is used. */
export const YEARLESS_FUTURE_SKEW_MS = 24 * 3600 * 1000;

const DEFAULT_PRI = 13; // user.notice

// character codes
const C_NUL = 0;
const C_LF = 10;
const C_CR = 13;
const C_SP = 32;
const C_QUOTE = 34;
const C_PERCENT = 37;
const C_STAR = 42;
const C_PLUS = 43;
const C_COMMA = 44;
const C_MINUS = 45;
const C_DOT = 46;
const C_0 = 48;
const C_COLON = 58;
const C_LT = 60;
const C_EQ = 61;
const C_GT = 62;
const C_A = 65;
const C_T = 84;
const C_Z = 90;
const C_LBRACKET = 91;
const C_BACKSLASH = 92;
const C_RBRACKET = 93;
const C_t = 116;
const C_z = 122;
const C_BOM = 0xfeff;

const MS_PER_DAY = 86400000;

// ---------------------------------------------------------------------------
// bytes -> string: the only conversion in the decoder

/** Decodes a raw message as UTF-8; invalid sequences become U+FFFD. */
export function decodeSyslogBytes(msg: Buffer | Uint8Array | string): string {
  if (typeof msg === 'string') return msg;
  if (Buffer.isBuffer(msg)) return msg.toString('utf8');
  if (msg instanceof Uint8Array) return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).toString('utf8');
  return String(msg);
}

// ---------------------------------------------------------------------------
// entry point

export function parseSyslog(msg: Buffer | string, opts: SyslogParseOptions): SyslogResult {
  let text: string;
  try {
    text = decodeSyslogBytes(msg);
  } catch {
    text = '';
  }
  try {
    return parseText(text, opts);
  } catch {
    // Defensive: the scanner is written not to throw; this keeps the promise anyway.
    return failure(text, -1, opts);
  }
}

/**
 * parseSyslog without the last-resort try/catch, so that a bug surfaces as an
 * exception instead of a failure-tagged result. For tests and fuzzing.
 */
export function parseSyslogUnguarded(msg: Buffer | string, opts: SyslogParseOptions): SyslogResult {
  return parseText(decodeSyslogBytes(msg), opts);
}

function parseText(input: string, opts: SyslogParseOptions): SyslogResult {
  let end = input.length;
  while (end > 0) {
    const c = input.charCodeAt(end - 1);
    if (c === C_LF || c === C_CR || c === C_NUL) end--;
    else break;
  }
  const s = end === input.length ? input : input.slice(0, end);
  if (end === 0) return failure(s, -1, opts);

  // A BOM before the PRI (a file's first line, or a sender that writes one per message) is not text.
  let pos = s.charCodeAt(0) === C_BOM ? 1 : 0;
  if (pos === end) return failure(s, -1, opts);
  let pri = -1;
  if (s.charCodeAt(pos) === C_LT) {
    let i = pos + 1;
    let v = 0;
    while (i < end && i <= pos + 3) {
      const d = s.charCodeAt(i) - C_0;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i === pos + 1 || i >= end || s.charCodeAt(i) !== C_GT || v > 191) return failure(s, -1, opts);
    pri = v;
    pos = i + 1;
  }

  if (pri >= 0 && is5424(s, pos, end)) {
    return parse5424(s, pos, end, pri, opts) ?? failure(s, pri, opts);
  }
  return parse3164(s, pos, end, pri, opts) ?? failure(s, pri, opts);
}

function newResult(pri: number, message: string): SyslogResult {
  const p = pri < 0 ? DEFAULT_PRI : pri;
  const fac = p >> 3;
  const sev = p & 7;
  const sevName = SEVERITY_NAMES[sev] as string;
  if (asFields) {
    // The same names in the same order, in an event's fields object (see parseSyslogFields).
    const f = newFields() as unknown as SyslogResult;
    f.message = message;
    f.level = sevName;
    f['syslog.facility'] = fac;
    f['syslog.facility_name'] = FACILITY_NAMES[fac] as string;
    f['syslog.severity'] = sev;
    f['syslog.severity_name'] = sevName;
    return f;
  }
  return {
    message,
    level: sevName,
    'syslog.facility': fac,
    'syslog.facility_name': FACILITY_NAMES[fac] as string,
    'syslog.severity': sev,
    'syslog.severity_name': sevName,
  };
}

/** The message's time: `@timestamp` of the result, or, for parseSyslogFields, fieldsTime. */
function setTime(r: SyslogResult, ms: number): void {
  if (asFields) fieldsTime = ms;
  else r['@timestamp'] = ms;
}

// parseSyslogFields: the mode, and what it leaves beside the fields.
let asFields = false;
let fieldsTime = NaN;
let fieldsLongName = false;

/**
 * The hot path of the syslog inputs: parseSyslog's result built directly as
 * an event's fields object (core/normalize newFields), so that no second
 * object is built and copied per message. `@timestamp` is not among the
 * fields: the message's time (ms, NaN if none) is `time`. `longName`: an SD
 * field name is longer than MAX_FIELD_NAME_BYTES and needs repairing; the
 * caller then takes the general path (parseSyslog and syslogEvent), which
 * repairs names exactly as eventFromObject does.
 */
export function parseSyslogFields(msg: Buffer | string, opts: SyslogParseOptions): { fields: Record<string, FieldValue>; time: number; longName: boolean } {
  asFields = true;
  fieldsTime = NaN;
  fieldsLongName = false;
  try {
    const fields = parseSyslog(msg, opts) as unknown as Record<string, FieldValue>;
    fieldsOut.fields = fields;
    fieldsOut.time = fieldsTime;
    fieldsOut.longName = fieldsLongName;
    return fieldsOut;
  } finally {
    asFields = false;
  }
}

/** Reused: the caller reads it before the next call. */
const fieldsOut: { fields: Record<string, FieldValue>; time: number; longName: boolean } = { fields: {}, time: NaN, longName: false };

function finish(r: SyslogResult, opts: SyslogParseOptions): SyslogResult {
  const from = opts?.receivedFrom;
  if (typeof from === 'string' && from.length > 0) {
    if (r.host === undefined) r.host = from;
    r['log.source.address'] = from;
  }
  return r;
}

function failure(s: string, pri: number, opts: SyslogParseOptions): SyslogResult {
  // A failure keeps nothing of a partial parse (parseSyslogFields' time and names included).
  fieldsTime = NaN;
  fieldsLongName = false;
  const r = newResult(pri, s);
  r.tags = [SYSLOG_PARSE_FAILURE_TAG];
  return finish(r, opts);
}

// ---------------------------------------------------------------------------
// RFC 5424

function is5424(s: string, pos: number, end: number): boolean {
  const first = s.charCodeAt(pos) - C_0;
  if (!(first >= 1 && first <= 9)) return false;
  let i = pos + 1;
  while (i < end && i < pos + 3) {
    const d = s.charCodeAt(i) - C_0;
    if (d < 0 || d > 9) break;
    i++;
  }
  if (i + 1 >= end || s.charCodeAt(i) !== C_SP) return false;
  const c = s.charCodeAt(i + 1);
  return c === C_MINUS || (c >= C_0 && c <= C_0 + 9);
}

/** End of the token starting at pos (index of the next SP, or end). */
function tokenEnd(s: string, pos: number, end: number): number {
  const i = s.indexOf(' ', pos);
  return i < 0 || i > end ? end : i;
}

function isNil(s: string, start: number, stop: number): boolean {
  return stop - start === 1 && s.charCodeAt(start) === C_MINUS;
}

function parse5424(s: string, pos: number, end: number, pri: number, opts: SyslogParseOptions): SyslogResult | null {
  let i = pos;
  let version = 0;
  while (s.charCodeAt(i) !== C_SP) {
    version = version * 10 + (s.charCodeAt(i) - C_0);
    i++;
  }
  i++;

  // TIMESTAMP
  let ts = NaN;
  let j = tokenEnd(s, i, end);
  if (!isNil(s, i, j)) {
    if (parseIso(s, i, true) !== j) return null;
    ts = dateToEpoch(opts);
    if (ts !== ts) return null;
  }
  if (j >= end) return null;
  i = j + 1;

  // HOSTNAME, APP-NAME, PROCID, MSGID: each non-empty and followed by SP
  j = tokenEnd(s, i, end);
  if (j === i || j >= end) return null;
  const host = isNil(s, i, j) ? undefined : s.slice(i, j);
  i = j + 1;
  j = tokenEnd(s, i, end);
  if (j === i || j >= end) return null;
  const app = isNil(s, i, j) ? undefined : s.slice(i, j);
  i = j + 1;
  j = tokenEnd(s, i, end);
  if (j === i || j >= end) return null;
  const procid = isNil(s, i, j) ? undefined : s.slice(i, j);
  i = j + 1;
  j = tokenEnd(s, i, end);
  if (j === i || j >= end) return null;
  const msgid = isNil(s, i, j) ? undefined : s.slice(i, j);
  i = j + 1;

  let r = header5424(pri, ts, host, version, app, procid, msgid);

  // STRUCTURED-DATA: strict; when it is malformed the header is kept, the SD
  // text goes to syslog.sd_raw and the event is tagged (see sdFailure).
  const c = s.charCodeAt(i);
  const sdStart = i;
  let sdEnd = -1;
  if (c === C_MINUS) sdEnd = i + 1;
  else if (c === C_LBRACKET) sdEnd = parseStructuredData(s, i, end, r);
  if (sdEnd < 0 || (sdEnd < end && s.charCodeAt(sdEnd) !== C_SP)) {
    r = header5424(pri, ts, host, version, app, procid, msgid); // without the SD fields parsed so far
    fieldsLongName = false;
    r.tags = [SYSLOG_SD_PARSE_FAILURE_TAG];
    if (c === C_LBRACKET) {
      sdEnd = lenientSdEnd(s, sdStart, end);
      r['syslog.sd_raw'] = s.slice(sdStart, sdEnd);
    } else {
      sdEnd = sdStart - 1; // no SD at all: the rest is MSG
    }
  }
  i = sdEnd;

  // MSG
  if (i < end) {
    i++; // SP
    if (i < end && s.charCodeAt(i) === C_BOM) i++;
    r.message = i === 0 ? s : s.slice(i);
  }
  return finish(r, opts);
}

function header5424(
  pri: number,
  ts: number,
  host: string | undefined,
  version: number,
  app: string | undefined,
  procid: string | undefined,
  msgid: string | undefined,
): SyslogResult {
  const r = newResult(pri, '');
  if (ts === ts) setTime(r, ts);
  if (host !== undefined) r.host = host;
  r['syslog.version'] = version;
  if (app !== undefined) r['syslog.appname'] = app;
  if (procid !== undefined) r['syslog.procid'] = procid;
  if (msgid !== undefined) r['syslog.msgid'] = msgid;
  return r;
}

/**
 * Where malformed STRUCTURED-DATA starting at '[' most likely ends: after the
 * last of its `[...]` groups read with quotes respected (so a `]` inside a
 * value does not end it), when that lands on SP or the end; otherwise (an
 * unclosed quote) at the first `]` followed by SP or the end; otherwise at the
 * first SP after the first `]`; otherwise at the end of the line. Returns an index at SP or `end`.
 */
function lenientSdEnd(s: string, pos: number, end: number): number {
  let i = pos;
  while (i < end && s.charCodeAt(i) === C_LBRACKET) {
    i++;
    let quoted = false;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (quoted) {
        if (c === C_BACKSLASH) i++;
        else if (c === C_QUOTE) quoted = false;
      } else if (c === C_QUOTE) {
        quoted = true;
      } else if (c === C_RBRACKET) {
        break;
      }
      i++;
    }
    if (i >= end) break;
    i++; // ']'
  }
  if (i <= end && (i === end || s.charCodeAt(i) === C_SP) && i > pos && s.charCodeAt(i - 1) === C_RBRACKET) return i;
  for (let k = s.indexOf(']', pos); k >= 0 && k < end; k = s.indexOf(']', k + 1)) {
    if (k + 1 === end || s.charCodeAt(k + 1) === C_SP) return k + 1;
  }
  const close = s.indexOf(']', pos);
  return close >= 0 && close < end ? tokenEnd(s, close, end) : end;
}

/** Characters allowed in SD-NAME: PRINTUSASCII except '=', SP, ']', '"'. */
function isSdNameChar(c: number): boolean {
  return c > C_SP && c < 127 && c !== C_EQ && c !== C_RBRACKET && c !== C_QUOTE;
}

/**
 * Parses 1*SD-ELEMENT starting at '[' and stores each parameter as
 * `syslog.sd.<SD-ID>.<PARAM-NAME>`. Returns the index after the last ']' or -1.
 */
function parseStructuredData(s: string, pos: number, end: number, r: SyslogResult): number {
  let i = pos;
  while (i < end && s.charCodeAt(i) === C_LBRACKET) {
    i++;
    const idStart = i;
    while (i < end && isSdNameChar(s.charCodeAt(i))) i++;
    if (i === idStart || i >= end) return -1;
    const sd = recentSdId(s, idStart, i);
    for (;;) {
      if (i >= end) return -1;
      const c = s.charCodeAt(i);
      if (c === C_RBRACKET) {
        i++;
        break;
      }
      if (c !== C_SP) return -1;
      i++;
      const nameStart = i;
      while (i < end && isSdNameChar(s.charCodeAt(i))) i++;
      if (i === nameStart || i + 1 >= end) return -1;
      if (s.charCodeAt(i) !== C_EQ || s.charCodeAt(i + 1) !== C_QUOTE) return -1;
      const key = recentSdKey(sd, s, nameStart, i);
      i += 2;
      const valueStart = i;
      let escaped = false;
      for (;;) {
        if (i >= end) return -1;
        const v = s.charCodeAt(i);
        if (v === C_QUOTE) break;
        if (v === C_BACKSLASH) {
          escaped = true;
          i += 2;
        } else {
          i++;
        }
      }
      const value = escaped ? unescapeSdValue(s, valueStart, i) : s.slice(valueStart, i);
      i++; // closing quote
      if (key.length > MAX_FIELD_NAME_BYTES) fieldsLongName = true;
      const prev = r[key];
      if (prev === undefined) r[key] = value;
      else if (typeof prev === 'string') r[key] = [prev, value];
      else prev.push(value);
    }
  }
  return i;
}

// The SD-IDs of the last messages and their parameters' field names, matched in place in the
// message text: most messages repeat the SD-IDs and names of the one before, and comparing in
// place spares slicing the ID and the name and hashing them for sdKey's maps.
interface RecentSd {
  id: string;
  names: string[];
  keys: SyslogSdKey[];
}
const recentSd: RecentSd[] = [];
const MAX_RECENT_SD = 8;
const MAX_RECENT_NAMES = 16;

function recentSdId(s: string, start: number, stop: number): RecentSd {
  const len = stop - start;
  for (let k = 0; k < recentSd.length; k++) {
    const e = recentSd[k] as RecentSd;
    if (e.id.length === len && s.startsWith(e.id, start)) return e;
  }
  const e: RecentSd = { id: s.slice(start, stop), names: [], keys: [] };
  if (len > MAX_FIELD_NAME_BYTES) return e; // not worth keeping
  if (recentSd.length >= MAX_RECENT_SD) recentSd.pop();
  recentSd.unshift(e);
  return e;
}

function recentSdKey(sd: RecentSd, s: string, start: number, stop: number): SyslogSdKey {
  const len = stop - start;
  const names = sd.names;
  for (let k = 0; k < names.length; k++) {
    const n = names[k] as string;
    if (n.length === len && s.startsWith(n, start)) return sd.keys[k] as SyslogSdKey;
  }
  const name = s.slice(start, stop);
  const key = sdKey(sd.id, name);
  if (names.length < MAX_RECENT_NAMES && len <= MAX_FIELD_NAME_BYTES) {
    names.push(name);
    sd.keys.push(key);
  }
  return key;
}

// SD field names are few and repeat; caching them saves building and
// internalising a new property-name string per parameter per message.
const sdKeyCache = new Map<string, Map<string, SyslogSdKey>>();
let sdKeyCount = 0;
const MAX_SD_KEYS = 4096;

function sdKey(id: string, name: string): SyslogSdKey {
  let byName = sdKeyCache.get(id);
  if (byName === undefined) {
    if (sdKeyCount >= MAX_SD_KEYS) {
      sdKeyCache.clear();
      sdKeyCount = 0;
    }
    byName = new Map();
    sdKeyCache.set(id, byName);
  }
  let key = byName.get(name);
  if (key === undefined) {
    key = `syslog.sd.${id}.${name}`;
    if (sdKeyCount < MAX_SD_KEYS) {
      byName.set(name, key);
      sdKeyCount++;
    }
  }
  return key;
}

/** `\"` -> `"`, `\\` -> `\`, `\]` -> `]`; any other backslash is literal (RFC 5424 6.3.3). */
function unescapeSdValue(s: string, start: number, stop: number): string {
  let out = '';
  let from = start;
  let i = start;
  while (i < stop) {
    if (s.charCodeAt(i) === C_BACKSLASH && i + 1 < stop) {
      const n = s.charCodeAt(i + 1);
      if (n === C_QUOTE || n === C_BACKSLASH || n === C_RBRACKET) {
        out += s.slice(from, i);
        from = i + 1; // keep the escaped character
        i += 2;
        continue;
      }
      i += 2;
      continue;
    }
    i++;
  }
  return out + s.slice(from, stop);
}

// ---------------------------------------------------------------------------
// RFC 3164 / BSD and device variants

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= C_0 && c <= C_0 + 9;
}

function skipSpaces(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === C_SP) i++;
  return i;
}

function parse3164(s: string, pos: number, end: number, pri: number, opts: SyslogParseOptions): SyslogResult | null {
  let i = pos;
  let seq = -1;
  let ciscoSequence = false; // "<PRI>123: " or "<PRI>: ": Cisco's service sequence-numbers
  let host: string | undefined;

  // Cisco: "<189>123: ..." sequence number, or "<166>:Feb ..." empty one
  if (pri >= 0) {
    if (isDigitAt(s, i)) {
      let j = i;
      let v = 0;
      while (j < end && j - i < 10 && isDigitAt(s, j)) {
        v = v * 10 + (s.charCodeAt(j) - C_0);
        j++;
      }
      if (j < end && s.charCodeAt(j) === C_COLON && (j + 1 === end || s.charCodeAt(j + 1) === C_SP)) {
        seq = v;
        ciscoSequence = true;
        i = j + 1;
      }
    } else if (s.charCodeAt(i) === C_COLON) {
      ciscoSequence = true;
      i++;
    }
  }
  i = skipSpaces(s, i, end);

  let dateEnd = parseDate3164(s, i, end);
  if (dateEnd < 0 && seq >= 0) {
    // Cisco origin-id: "<189>123: router1: *Mar  1 18:46:11.123: ..."
    const j = tokenEnd(s, i, end);
    if (j - i >= 2 && j < end && s.charCodeAt(j - 1) === C_COLON) {
      const k = skipSpaces(s, j, end);
      const e = parseDate3164(s, k, end);
      if (e >= 0) {
        host = s.slice(i, j - 1);
        i = k;
        dateEnd = e;
      }
    }
  }

  if (dateEnd < 0) {
    if (pri < 0) return null; // neither PRI nor date: not syslog
    const r = newResult(pri, '');
    if (seq >= 0) r['syslog.sequence'] = seq;
    if (host !== undefined) r.host = host;
    contentWithTag(s, i, end, r);
    return finish(r, opts);
  }

  const r = newResult(pri, '');
  if (seq >= 0) r['syslog.sequence'] = seq;

  // Terminators after the time that some devices send: ":" or " ZONE:"
  let timeColon = false;
  i = dateEnd;
  if (i < end && s.charCodeAt(i) === C_COLON) {
    timeColon = true;
    i++;
  } else if (i < end && s.charCodeAt(i) === C_SP) {
    let j = i + 1;
    while (j < end && j - i <= 5) {
      const c = s.charCodeAt(j);
      if (c < C_A || c > C_Z) break;
      j++;
    }
    const n = j - i - 1;
    if (n >= 2 && n <= 5 && j < end && s.charCodeAt(j) === C_COLON && (j + 1 === end || s.charCodeAt(j + 1) === C_SP)) {
      if (d_off !== d_off && isUtcLabel(s, i + 1, j)) d_off = 0;
      timeColon = true;
      i = j + 1;
    }
  }
  const ts = dateToEpoch(opts);
  if (ts === ts) setTime(r, ts);
  if (host !== undefined) r.host = host;

  i = skipSpaces(s, i, end);
  if (timeColon && (ciscoSequence || host !== undefined)) {
    // Cisco IOS with sequence numbers puts no HOSTNAME after its time (the
    // host is the origin-id or the sender): what follows is CONTENT.
    contentWithTag(s, i, end, r);
    return finish(r, opts);
  }
  if (i >= end) return finish(r, opts);

  // HOSTNAME as rsyslog's pmrfc3164 reads it, plus IPv6 addresses
  const hostEnd = hostnameEnd(s, i, end);
  if (hostEnd > i) {
    r.host = s.slice(i, hostEnd);
    i = skipSpaces(s, hostEnd, end);
    // Cisco ASA "fw01 : %ASA-..." separator
    if (i < end && s.charCodeAt(i) === C_COLON && (i + 1 === end || s.charCodeAt(i + 1) === C_SP)) {
      i = skipSpaces(s, i + 1, end);
    }
  }
  if (i >= end) return finish(r, opts);
  const tagEnd = scanTag(s, i, end, true);
  if (tagEnd >= 0) applyTag(s, r, tagEnd, end);
  else r.message = s.slice(i, end);
  return finish(r, opts);
}

function isUtcLabel(s: string, start: number, stop: number): boolean {
  const n = stop - start;
  const a = s.charCodeAt(start);
  const b = s.charCodeAt(start + 1);
  if (n === 2) return a === 85 && b === C_T; // UT
  if (n !== 3) return false;
  const c = s.charCodeAt(start + 2);
  return (a === 85 && b === C_T && c === 67) || (a === 71 && b === 77 && c === C_T); // UTC, GMT
}

const MAX_HOSTNAME = 255;

/**
 * The end of a HOSTNAME at i (at the SP after it, or the end of the line),
 * or -1. rsyslog's rule: letters, digits, `.`, `_` and `-`, ending in a
 * letter or digit, followed by SP or the end. Added: an IPv6 address (hex
 * digits, `.` and at least two `:`, not ending in `:`), which rsyslog would
 * take for a TAG.
 */
function hostnameEnd(s: string, i: number, end: number): number {
  let j = i;
  let colons = 0;
  let plain = true; // letters, digits, . _ -
  let ipv6 = true; // hex digits, . :
  while (j < end && j - i <= MAX_HOSTNAME) {
    const c = s.charCodeAt(j);
    if (c === C_SP) break;
    const digit = c >= C_0 && c <= C_0 + 9;
    const lower = c | 0x20;
    const letter = lower >= 97 && lower <= 122;
    const hex = digit || (lower >= 97 && lower <= 102);
    if (c === C_COLON) {
      plain = false;
      colons++;
    } else if (!(digit || letter || c === C_DOT || c === 95 || c === C_MINUS)) {
      return -1;
    } else if (!(hex || c === C_DOT)) {
      ipv6 = false;
    }
    j++;
  }
  if (j === i || j - i > MAX_HOSTNAME) return -1;
  const last = s.charCodeAt(j - 1);
  const lastLower = last | 0x20;
  const lastAlnum = (last >= C_0 && last <= C_0 + 9) || (lastLower >= 97 && lastLower <= 122);
  if (plain) return lastAlnum ? j : -1;
  return ipv6 && colons >= 2 && last !== C_COLON ? j : -1;
}

/** CONTENT at i: a TAG if the first word has the shape `name:` or `name[pid]`, the rest is the message. */
function contentWithTag(s: string, i: number, end: number, r: SyslogResult): void {
  const tagEnd = i < end ? scanTag(s, i, end, false) : -1;
  if (tagEnd >= 0) {
    applyTag(s, r, tagEnd, end);
    return;
  }
  r.message = i === 0 && end === s.length ? s : s.slice(i, end);
}

// scanTag results
let t_nameStart = 0;
let t_nameEnd = 0;
let t_pidStart = -1;
let t_pidEnd = -1;

/** RFC 3164's TAG limit, for a TAG that only a space ends. */
const MAX_BARE_TAG = 32;
/** A TAG ended by `:` or `[pid]` may be longer (RFC 5424's APP-NAME limit): systemd units are. */
const MAX_TAG = 48;

/**
 * Characters of a TAG's name: printable, not SP, and none of the characters
 * that mark the start of structured text (`"'{}<>=,\`) or end the name
 * (`:[]`). rsyslog takes any run up to `:` or SP; this keeps JSON and
 * key=value messages whole.
 */
function isTagChar(c: number): boolean {
  if (c <= C_SP || c === 127) return false;
  switch (c) {
    case C_COLON:
    case C_LBRACKET:
    case C_RBRACKET:
    case C_QUOTE:
    case 39: // '
    case 123: // {
    case 125: // }
    case C_LT:
    case C_GT:
    case C_EQ:
    case C_COMMA:
    case C_BACKSLASH:
      return false;
    default:
      return true;
  }
}

/**
 * Recognises a TAG at pos: `name:`, `name[pid]:` or `name[pid]` followed by
 * SP or the end, and, when `bare` (after a date and HOSTNAME, as rsyslog
 * reads it), a name of at most 32 characters ended by SP or the end that is
 * not all digits. Returns the index after the tag (at the SP or the end) or -1.
 */
function scanTag(s: string, pos: number, end: number, bare: boolean): number {
  let j = pos;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === C_SP || c === C_COLON || c === C_LBRACKET) break;
    if (!isTagChar(c)) return -1;
    j++;
  }
  const n = j - pos;
  if (n === 0 || n > MAX_TAG) return -1;
  t_nameStart = pos;
  t_nameEnd = j;
  t_pidStart = -1;
  t_pidEnd = -1;
  if (j >= end || s.charCodeAt(j) === C_SP) {
    if (!bare || n > MAX_BARE_TAG) return -1;
    return isBareTagName(s, pos, j) ? j : -1;
  }
  let c = s.charCodeAt(j);
  if (c === C_LBRACKET) {
    let k = j + 1;
    while (k < end) {
      const p = s.charCodeAt(k);
      if (p === C_RBRACKET || p === C_SP) break;
      k++;
    }
    if (k >= end || s.charCodeAt(k) !== C_RBRACKET) return -1;
    t_pidStart = j + 1;
    t_pidEnd = k;
    j = k + 1;
    if (j < end && s.charCodeAt(j) === C_COLON) j++;
  } else {
    j++; // ':'
  }
  if (j < end) {
    c = s.charCodeAt(j);
    if (c !== C_SP) return -1;
  }
  return j;
}

/**
 * Whether a word ended only by a space reads as a program name. Not one: a
 * number; a dotted word (after the HOSTNAME it is a relay's second host name
 * or an address, as in RFC 3164's example 4); a word written as the first of
 * a sentence, a capital and then lower-case letters ("Use the BFG!", RFC 3164
 * example 2, which has no TAG). Program names ended by a space are lower-case
 * (`sshd`), upper-case (`CRON`) or mixed (`NetworkManager`).
 */
function isBareTagName(s: string, start: number, stop: number): boolean {
  let allDigits = true;
  let sentence = s.charCodeAt(start) >= C_A && s.charCodeAt(start) <= C_Z;
  for (let k = start; k < stop; k++) {
    const c = s.charCodeAt(k);
    if (c === C_DOT) return false;
    if (c < C_0 || c > C_0 + 9) allDigits = false;
    if (k > start && !(c >= 97 && c <= C_z)) sentence = false;
  }
  return !allDigits && !sentence;
}

function applyTag(s: string, r: SyslogResult, tagEnd: number, end: number): void {
  let numeric = t_pidStart < 0;
  if (numeric && t_nameEnd - t_nameStart <= 10) {
    for (let k = t_nameStart; k < t_nameEnd; k++) {
      if (!isDigitAt(s, k)) {
        numeric = false;
        break;
      }
    }
  } else {
    numeric = false;
  }
  if (numeric) {
    r['syslog.sequence'] = Number(s.slice(t_nameStart, t_nameEnd));
  } else {
    r['syslog.appname'] = s.slice(t_nameStart, t_nameEnd);
    if (t_pidEnd > t_pidStart) r['syslog.procid'] = s.slice(t_pidStart, t_pidEnd);
  }
  let i = tagEnd;
  if (i < end) i++; // the single SP after the tag
  r.message = s.slice(i, end);
}

// ---------------------------------------------------------------------------
// dates. Parsers write into these module-level slots instead of allocating.

let d_year = -1; // -1: no year in the text
let d_month = 0; // 1-12
let d_day = 0;
let d_hour = 0;
let d_min = 0;
let d_sec = 0;
let d_frac = 0; // milliseconds, may be fractional
let d_off = NaN; // offset in ms (local - UTC); NaN: none in the text

/** Reads exactly n digits at i; -1 if any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(i + k) - C_0;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

const MONTH_CODES = 'janfebmaraprmayjunjulaugsepoctnovdec';

/** Month (1-12) of the 3 letters at i, case-insensitive; 0 if none. */
function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i) | 0x20;
  const b = s.charCodeAt(i + 1) | 0x20;
  const c = s.charCodeAt(i + 2) | 0x20;
  for (let m = 0; m < 12; m++) {
    const k = m * 3;
    if (MONTH_CODES.charCodeAt(k) === a && MONTH_CODES.charCodeAt(k + 1) === b && MONTH_CODES.charCodeAt(k + 2) === c) return m + 1;
  }
  return 0;
}

const MAX_DAY = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : (MAX_DAY[m] as number);
}

/**
 * `h[h]:mm:ss[(.|,)frac]` at i. Returns the index after it or -1.
 * Fraction digits beyond 9 are read but ignored.
 */
function parseTime(s: string, i: number, end: number): number {
  let h = digits(s, i, 2);
  if (h >= 0 && s.charCodeAt(i + 2) === C_COLON) {
    i += 3;
  } else {
    h = digits(s, i, 1);
    if (h < 0 || s.charCodeAt(i + 1) !== C_COLON) return -1;
    i += 2;
  }
  const mi = digits(s, i, 2);
  if (mi < 0 || s.charCodeAt(i + 2) !== C_COLON) return -1;
  const sec = digits(s, i + 3, 2);
  if (sec < 0) return -1;
  if (h > 23 || mi > 59 || sec > 60) return -1;
  i += 5;
  d_hour = h;
  d_min = mi;
  d_sec = sec;
  d_frac = 0;
  const c = s.charCodeAt(i);
  if ((c === C_DOT || c === C_COMMA) && isDigitAt(s, i + 1)) {
    i = parseFraction(s, i + 1, end, 9);
    if (i < 0) return -1;
  }
  return i;
}

/** Digits at i (at least one, the caller checked) into d_frac; -1 if more than maxDigits and maxDigits < 9. */
function parseFraction(s: string, i: number, end: number, maxDigits: number): number {
  let v = 0;
  let n = 0;
  while (i < end) {
    const d = s.charCodeAt(i) - C_0;
    if (!(d >= 0 && d <= 9)) break;
    if (n < 9) {
      v = v * 10 + d;
      n++;
    } else if (maxDigits < 9) {
      return -1;
    }
    i++;
  }
  if (n > maxDigits) return -1;
  d_frac = n <= 3 ? v * POW10[3 - n]! : v / POW10[n - 3]!;
  return i;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * ISO 8601 / RFC 3339 date-time at i.
 * strict (RFC 5424): `YYYY-MM-DDThh:mm:ss[.1-6 digits](Z|±hh:mm)`.
 * lenient (3164 position): separator T, t or SP; up to 9 fraction digits;
 * offset optional, Z, z, ±hh:mm, ±hhmm or ±hh.
 * Returns the index after it or -1.
 */
function parseIso(s: string, i: number, strict: boolean): number {
  const end = s.length;
  const y = digits(s, i, 4);
  if (y < 0 || s.charCodeAt(i + 4) !== C_MINUS) return -1;
  const mo = digits(s, i + 5, 2);
  if (mo < 1 || mo > 12 || s.charCodeAt(i + 7) !== C_MINUS) return -1;
  const d = digits(s, i + 8, 2);
  if (d < 1 || d > daysInMonth(y, mo)) return -1;
  const sep = s.charCodeAt(i + 10);
  if (!(sep === C_T || (!strict && (sep === C_t || sep === C_SP)))) return -1;
  i += 11;
  const h = digits(s, i, 2);
  if (h < 0 || h > 23 || s.charCodeAt(i + 2) !== C_COLON) return -1;
  const mi = digits(s, i + 3, 2);
  if (mi < 0 || mi > 59 || s.charCodeAt(i + 5) !== C_COLON) return -1;
  const sec = digits(s, i + 6, 2);
  if (sec < 0 || sec > (strict ? 59 : 60)) return -1;
  i += 8;
  d_year = y;
  d_month = mo;
  d_day = d;
  d_hour = h;
  d_min = mi;
  d_sec = sec;
  d_frac = 0;
  d_off = NaN;
  let c = s.charCodeAt(i);
  if (c === C_DOT || (!strict && c === C_COMMA)) {
    if (!isDigitAt(s, i + 1)) return -1;
    i = parseFraction(s, i + 1, end, strict ? 6 : 9);
    if (i < 0) return -1;
    c = s.charCodeAt(i);
  }
  if (c === C_Z || (!strict && c === C_z)) {
    d_off = 0;
    return i + 1;
  }
  if (c === C_PLUS || c === C_MINUS) {
    const sign = c === C_PLUS ? 1 : -1;
    const oh = digits(s, i + 1, 2);
    if (oh < 0 || oh > 23) return -1;
    let om = 0;
    if (s.charCodeAt(i + 3) === C_COLON) {
      om = digits(s, i + 4, 2);
      if (om < 0 || om > 59) return -1;
      i += 6;
    } else if (strict) {
      return -1;
    } else if (isDigitAt(s, i + 3)) {
      om = digits(s, i + 3, 2);
      if (om < 0 || om > 59) return -1;
      i += 5;
    } else {
      i += 3;
    }
    d_off = sign * (oh * 3600000 + om * 60000);
    return i;
  }
  return strict ? -1 : i;
}

/**
 * A 3164-position date at i (see the header comment for the forms).
 * Returns the index right after it (at SP, ':' or the end) or -1.
 */
function parseDate3164(s: string, i: number, end: number): number {
  if (i >= end) return -1;
  let c = s.charCodeAt(i);
  if (c === C_STAR || c === C_DOT) {
    i++;
    c = s.charCodeAt(i);
  }
  let e: number;
  if (c >= C_0 && c <= C_0 + 9) {
    const next = s.charCodeAt(i + 4);
    if (next === C_MINUS) {
      e = parseIso(s, i, false);
    } else if (next === C_SP) {
      // yyyy Mmm dd hh:mm:ss
      const y = digits(s, i, 4);
      if (y < 0) return -1;
      e = parseMonthDayTime(s, skipSpaces(s, i + 4, end), end, false);
      if (e >= 0) {
        if (d_day > daysInMonth(y, d_month)) return -1;
        d_year = y;
      }
    } else {
      return -1;
    }
  } else {
    e = parseMonthDayTime(s, i, end, true);
  }
  if (e < 0) return -1;
  if (e < end) {
    const t = s.charCodeAt(e);
    if (t !== C_SP && t !== C_COLON) return -1;
  }
  return e;
}

/** `Mmm d[d] [yyyy ]hh:mm:ss[.frac]` (any number of SP between parts). */
function parseMonthDayTime(s: string, i: number, end: number, allowYear: boolean): number {
  if (i + 3 >= end) return -1;
  const mo = monthAt(s, i);
  if (mo === 0 || s.charCodeAt(i + 3) !== C_SP) return -1;
  i = skipSpaces(s, i + 3, end);
  let d = digits(s, i, 2);
  if (d >= 0) {
    i += 2;
  } else {
    d = digits(s, i, 1);
    if (d < 0) return -1;
    i += 1;
  }
  if (d < 1 || d > (MAX_DAY[mo] as number) || s.charCodeAt(i) !== C_SP) return -1;
  i = skipSpaces(s, i, end);
  let year = -1;
  if (allowYear && s.charCodeAt(i + 4) === C_SP) {
    year = digits(s, i, 4);
    if (year >= 0) {
      if (d > daysInMonth(year, mo)) return -1;
      i = skipSpaces(s, i + 4, end);
    }
  }
  const e = parseTime(s, i, end);
  if (e < 0) return -1;
  d_year = year;
  d_month = mo;
  d_day = d;
  d_off = NaN;
  return e;
}

// ---------------------------------------------------------------------------
// epoch conversion

/** Date.UTC without the 0-99 => 1900-1999 mapping. */

function nowMs(opts: SyslogParseOptions): number {
  const now = opts?.now;
  const t = now instanceof Date ? now.getTime() : NaN;
  return t === t ? t : Date.now();
}

// dateToEpoch's cache: the last whole second it converted, and for what. Messages come in bursts
// that share their second, and the conversion (Date.UTC, zone offsets, the year-less search) costs
// more than the rest of an RFC 3164 parse.
let k_year = -2;
let k_month = 0;
let k_day = 0;
let k_hour = 0;
let k_min = 0;
let k_sec = 0;
let k_off = NaN;
let k_zone: string | undefined = undefined;
let k_now = NaN;
let k_base = NaN;
let timeCacheOn = true;

/** For tests: converts every time from scratch (false) or through the per-second cache (true, the default). */
export function useSyslogTimeCache(on: boolean): void {
  timeCacheOn = on;
  k_year = -2;
}

/**
 * Converts the d_* slots to epoch milliseconds; NaN if not representable.
 * The result is the whole second's conversion plus d_frac (as dateToEpochUncached
 * computes it), so the whole second is cached. A year-less date also depends on
 * `now`, which is part of the key, and on the fraction only when the instant lies
 * within a second of the YEARLESS_FUTURE_SKEW_MS limit: that case is recomputed.
 */
function dateToEpoch(opts: SyslogParseOptions): number {
  if (!timeCacheOn) return dateToEpochUncached(opts);
  const zoneName = opts?.timeZone;
  const yearless = d_year < 0;
  const now = yearless ? nowMs(opts) : NaN;
  let base: number;
  if (
    d_sec === k_sec && d_min === k_min && d_hour === k_hour && d_day === k_day && d_month === k_month && d_year === k_year &&
    (d_off === k_off || (d_off !== d_off && k_off !== k_off)) && zoneName === k_zone && (!yearless || now === k_now)
  ) {
    base = k_base;
  } else {
    const frac = d_frac;
    d_frac = 0;
    base = dateToEpochUncached(opts);
    d_frac = frac;
    k_year = d_year;
    k_month = d_month;
    k_day = d_day;
    k_hour = d_hour;
    k_min = d_min;
    k_sec = d_sec;
    k_off = d_off;
    k_zone = zoneName;
    k_now = now;
    k_base = base;
  }
  const t = base + d_frac;
  if (!yearless || t !== t || t <= now + YEARLESS_FUTURE_SKEW_MS) return t;
  return dateToEpochUncached(opts);
}

function dateToEpochUncached(opts: SyslogParseOptions): number {
  const wallNoFrac = d_year >= 0 ? utcMs(d_year, d_month, d_day, d_hour, d_min, d_sec) : NaN;
  if (d_year >= 0 && d_off === d_off) return wallNoFrac - d_off + d_frac;
  const zone = getZone(opts?.timeZone);
  if (d_year >= 0) return wallToUtc(zone, wallNoFrac) + d_frac;

  // year-less: latest year that puts the instant at most YEARLESS_FUTURE_SKEW_MS after now
  const now = nowMs(opts);
  const limit = now + YEARLESS_FUTURE_SKEW_MS;
  const y0 = civilYear(now + offsetAt(zone, now));
  for (let y = y0 + 1; y >= y0 - 8; y--) {
    if (d_day > daysInMonth(y, d_month)) continue;
    const wall = utcMs(y, d_month, d_day, d_hour, d_min, d_sec);
    const t = (d_off === d_off ? wall - d_off : wallToUtc(zone, wall)) + d_frac;
    if (t <= limit) return t;
  }
  return NaN;
}

/** Proleptic Gregorian year of an epoch-ms value (H. Hinnant's civil_from_days). */
function civilYear(ms: number): number {
  const z = Math.floor(ms / MS_PER_DAY) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const y = yoe + era * 400;
  return mp >= 10 ? y + 1 : y;
}

