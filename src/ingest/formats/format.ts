/**
 * The line formats `logmill import` reads (src/cli/import.ts orchestrates; each format lives in a file
 * of its own here): a small interface so that detection, forcing (`--format`) and parsing treat them
 * alike. A format turns one line into an event's flat fields (dotted names, as the store keeps them) and
 * the line's own time, or says it could not, in which case the fields hold the line whole, tagged as
 * that format's parser tags a failure (`_syslogparsefailure`, `_grokparsefailure`, `_jsonparsefailure`).
 */
export const FORMAT_NAMES = ['ndjson', 'syslog', 'access', 'plain'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** What a file's lines are parsed against, fixed per file. */
export interface ParseContext {
  /** Resolves year-less dates (syslog): the file's mtime, so a December file read in January stays in December. */
  readonly now: Date;
  /** IANA zone for dates without an offset. */
  readonly timeZone: string;
}

export interface ParsedLine {
  /** Event fields (flat dotted names, except an NDJSON object's own nesting); `@timestamp` is `time`, not a field. */
  fields: Record<string, unknown>;
  /** The line's time in microseconds since the epoch; NaN when the line has none (the import's time is used). */
  time: number;
  /** False when the line is not in this format: `fields` then hold it whole as `message`, tagged. */
  ok: boolean;
  /** The event as JSON text already, sent as written (NDJSON objects: numbers and key order kept exactly). */
  json?: string;
}

export interface LineFormat {
  readonly name: FormatName;
  /** Whether the line looks like this format (detection; cheap enough for a sample of lines). */
  test(line: string): boolean;
  parse(line: string, ctx: ParseContext): ParsedLine;
}

/** A line stored whole when it is not in the format: `message` and the failure tag. */
export function unparsed(line: string, tag: string): ParsedLine {
  return { fields: { message: line, tags: [tag] }, time: NaN, ok: false };
}
