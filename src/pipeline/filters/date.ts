/**
 * The `date` filter: reads a time out of a field with the first of its formats that fits and makes it the
 * event's `@timestamp` (or `target`). Formats are compiled when the pipeline is built (date-format.ts).
 *
 * As in Logstash: a missing field leaves the event untouched (no tag, no add_tag); a value no format reads
 * tags the event `_dateparsefailure`; a field holding a list is read from its first item.
 */
import { filterDecoration } from '../common.js';
import type { PipelineEvent, PipelineValue } from '../event.js';
import type { Template } from '../sprintf.js';
import type { FilterFactory } from '../plugin.js';
import { getZone, isTimeZone, type Zone } from '../../core/zones.js';
import { compileDateFormat, DateFormatError, fixedOffset, instantText, normalLocale, type DateParser, type FixedOffset, type ParsedInstant, type ZoneOf } from './date-format.js';
import { boundedWarn } from './warn-limit.js';

/** Longer values are not dates: they fail at once rather than being scanned. */
const MAX_VALUE_LENGTH = 256;

export const dateFilter: FilterFactory = (settings, context) => {
  const label = `filter date (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const match = settings.strings('match');
  if (match.length < 2) throw settings.error('match', 'is required: a field and at least one format, as in ["timestamp", "ISO8601"]');
  const source = settings.fieldPath('match', match[0]);
  const target = settings.fieldPath('target', settings.string('target', '@timestamp'));
  const localeText = settings.string('locale', 'en');
  const locale = normalLocale(localeText);
  if (locale === null) throw settings.error('locale', `names a locale this runtime does not know: "${localeText}"`);
  const parsers: DateParser[] = match.slice(1).map((format) => {
    try {
      return compileDateFormat(format, locale);
    } catch (error) {
      if (error instanceof DateFormatError) throw settings.error('match', `has a format "${format}" that cannot be used: ${error.message}`);
      throw error;
    }
  });
  const zoneTemplate = settings.template('timezone');
  if (zoneTemplate?.constant && zoneNamed(zoneTemplate.source) === null) throw settings.error('timezone', `names no time zone known here: "${zoneTemplate.source}" (use an IANA name such as Europe/Berlin, or an offset such as +01:00)`);
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_dateparsefailure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);

  const fixedZone = zoneTemplate?.constant ? zoneNamed(zoneTemplate.source) : null;
  const fixedZoneOf: ZoneOf = () => fixedZone;
  const dynamicZone = zoneTemplate !== undefined && !zoneTemplate.constant ? zoneTemplate : null;
  /** A `%{field}` timezone, rendered only when a format needs it (the text held no offset), then kept. */
  const eventZoneOf = (event: PipelineEvent, template: Template): ZoneOf => {
    let resolved: Zone | FixedOffset | null | undefined;
    return () => {
      if (resolved !== undefined) return resolved;
      const name = template.render(event);
      resolved = zoneNamed(name);
      if (resolved === null) warn(`timezone "${name}" is not a known time zone; read as UTC`);
      return resolved;
    };
  };
  const parsed: ParsedInstant = { ms: 0, micros: 0 };

  return {
    label,
    process(events) {
      const now = Date.now();
      for (const event of events) {
        let value: PipelineValue | undefined = event.get(source);
        if (Array.isArray(value)) value = value[0];
        if (value === undefined || value === null) continue;
        const zoneOf = dynamicZone === null ? fixedZoneOf : eventZoneOf(event, dynamicZone);
        const input = typeof value === 'number' || typeof value === 'string' ? value : typeof value === 'boolean' ? String(value) : JSON.stringify(value);
        let done = false;
        if (typeof input === 'number' || input.length <= MAX_VALUE_LENGTH) {
          for (const parser of parsers) {
            if (parser.parse(input, now, zoneOf, parsed)) {
              done = true;
              break;
            }
          }
        }
        if (done) {
          event.set(target, instantText(parsed));
          decorate(event);
        } else {
          for (const tag of tagOnFailure) event.addTag(tag);
          warn(`no format of ${JSON.stringify(match.slice(1))} reads ${JSON.stringify(typeof input === 'string' ? input.slice(0, 100) : input)}`);
        }
      }
      return events;
    },
  };
};

const UTC_OFFSET: FixedOffset = { offsetMinutes: 0 };

/** A `timezone` value: an IANA name or a fixed offset (`+01:00`); null when it is neither. */
function zoneNamed(text: string): Zone | FixedOffset | null {
  if (text === 'UTC' || text === 'Z') return UTC_OFFSET;
  const offset = fixedOffset(text);
  if (offset !== null) return offset;
  return isTimeZone(text) ? getZone(text) : null;
}
