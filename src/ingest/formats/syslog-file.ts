/**
 * Syslog files: `/var/log/syslog`-style RFC 3164 lines (`Mmm dd hh:mm:ss host prog[pid]: msg`, no PRI),
 * rsyslog's RSYSLOG_FileFormat (`2026-12-07T03:35:53.123456+00:00 host prog[pid]: msg`) and RFC 5424 /
 * 3164 lines with a PRI, read by the parser the syslog listener uses (src/ingest/syslog/parse.ts), so an
 * imported line has the fields the listener would give it: host, syslog.appname (program),
 * syslog.procid (pid), facility, severity, level. A line without PRI is user.notice, as the parser says.
 *
 * Year-less dates are resolved against the file's mtime (ParseContext.now); dates without an offset are
 * wall-clock time in ParseContext.timeZone. A file has no sender, so `host` is only ever the line's
 * HOSTNAME and there is no `log.source.address`. Field names the store must repair (structured-data
 * names over 256 bytes) are repaired by the server, as for the listener, and tagged `_fieldnamesanitized`.
 */
import { parseSyslogFields, SYSLOG_PARSE_FAILURE_TAG, type SyslogParseOptions } from '../syslog/parse.js';
import type { LineFormat, ParseContext, ParsedLine } from './format.js';

/** The parser's options for a context, made once per file rather than per line. */
const optionsFor = new WeakMap<ParseContext, SyslogParseOptions>();

function options(ctx: ParseContext): SyslogParseOptions {
  let o = optionsFor.get(ctx);
  if (o === undefined) {
    o = { now: ctx.now, timeZone: ctx.timeZone };
    optionsFor.set(ctx, o);
  }
  return o;
}

const DETECT_CONTEXT: ParseContext = { now: new Date(), timeZone: 'UTC' };

function failed(fields: Record<string, unknown>): boolean {
  const tags = fields.tags;
  return Array.isArray(tags) && tags.includes(SYSLOG_PARSE_FAILURE_TAG);
}

export const syslogFileFormat: LineFormat = {
  name: 'syslog',
  /**
   * A PRI, or a date the parser recognises at the start: a line of text without either would parse as
   * RFC 3164 CONTENT too, so a parse alone does not say "syslog".
   */
  test(line) {
    const p = parseSyslogFields(line, options(DETECT_CONTEXT));
    if (failed(p.fields)) return false;
    return p.time === p.time || line.charCodeAt(0) === 60; /* < */
  },
  parse(line, ctx): ParsedLine {
    const p = parseSyslogFields(line, options(ctx));
    // parseSyslogFields reuses its answer object, not the fields: those are this line's own.
    const fields = p.fields as Record<string, unknown>;
    const time = p.time === p.time ? Math.round(p.time * 1000) : NaN;
    return { fields, time, ok: !failed(fields) };
  },
};
