/**
 * The `syslog_pri` filter: splits a syslog PRI (facility * 8 + severity) into `syslog_facility_code` and
 * `syslog_severity_code`, with their names in `syslog_facility` and `syslog_severity` (Logstash's legacy,
 * non-ECS field names). A missing field reads as 13 (user-level notice), the RFC 3164 default; a value is
 * read as Ruby's `to_i` reads it (leading digits; none is 0), so it never fails.
 */
import { filterDecoration } from '../common.js';
import type { PipelineValue } from '../event.js';
import type { FilterFactory } from '../plugin.js';

const FACILITY_LABELS = [
  'kernel', 'user-level', 'mail', 'daemon', 'security/authorization', 'syslogd', 'line printer', 'network news', 'uucp', 'clock',
  'security/authorization', 'ftp', 'ntp', 'log audit', 'log alert', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
const SEVERITY_LABELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];
const DEFAULT_PRIORITY = 13;

export const syslogPriFilter: FilterFactory = (settings) => {
  const label = `filter syslog_pri (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const source = settings.fieldPath('syslog_pri_field_name', settings.string('syslog_pri_field_name', 'syslog_pri'));
  const useLabels = settings.boolean('use_labels', true);
  const facilityLabels = settings.has('facility_labels') ? settings.strings('facility_labels') : FACILITY_LABELS;
  const severityLabels = settings.has('severity_labels') ? settings.strings('severity_labels') : SEVERITY_LABELS;
  const decorate = filterDecoration(settings);
  settings.done();
  return {
    label,
    process(events) {
      for (const event of events) {
        const raw = event.get(source);
        const priority = raw === undefined || raw === null || raw === false ? DEFAULT_PRIORITY : toInteger(Array.isArray(raw) ? raw[0] : raw);
        const severity = priority & 7;
        // Ruby's >> on a negative number keeps the sign; so does JavaScript's.
        const facility = priority >> 3;
        event.fields.syslog_severity_code = severity;
        event.fields.syslog_facility_code = facility;
        if (useLabels) {
          const facilityLabel = facility >= 0 ? facilityLabels[facility] : undefined;
          if (facilityLabel !== undefined) event.fields.syslog_facility = facilityLabel;
          const severityLabel = severityLabels[severity];
          if (severityLabel !== undefined) event.fields.syslog_severity = severityLabel;
        }
        decorate(event);
      }
      return events;
    },
  };
};

/** Ruby's `to_i`: the integer at the start of the text (after blanks), 0 when there is none. */
function toInteger(value: PipelineValue | undefined): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) | 0 : 0;
  if (typeof value !== 'string') return 0;
  const n = parseInt(value.trimStart().slice(0, 12), 10);
  return Number.isFinite(n) ? n | 0 : 0;
}
