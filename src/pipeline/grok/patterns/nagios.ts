/**
 * Nagios log lines (legacy field names, `patterns/legacy/nagios`): each log type and external command,
 * and NAGIOSLOGLINE for any of them. The file's many near-identical lines are built from tables here; the
 * definitions they make are the file's.
 * Pattern definitions from logstash-patterns-core, Copyright Elasticsearch B.V. and contributors,
 * licensed under the Apache License 2.0.
 */
const TYPES: Array<[string, string]> = [
  ['CURRENT_SERVICE_STATE', 'CURRENT SERVICE STATE'],
  ['CURRENT_HOST_STATE', 'CURRENT HOST STATE'],
  ['SERVICE_NOTIFICATION', 'SERVICE NOTIFICATION'],
  ['HOST_NOTIFICATION', 'HOST NOTIFICATION'],
  ['SERVICE_ALERT', 'SERVICE ALERT'],
  ['HOST_ALERT', 'HOST ALERT'],
  ['SERVICE_FLAPPING_ALERT', 'SERVICE FLAPPING ALERT'],
  ['HOST_FLAPPING_ALERT', 'HOST FLAPPING ALERT'],
  ['SERVICE_DOWNTIME_ALERT', 'SERVICE DOWNTIME ALERT'],
  ['HOST_DOWNTIME_ALERT', 'HOST DOWNTIME ALERT'],
  ['PASSIVE_SERVICE_CHECK', 'PASSIVE SERVICE CHECK'],
  ['PASSIVE_HOST_CHECK', 'PASSIVE HOST CHECK'],
  ['SERVICE_EVENT_HANDLER', 'SERVICE EVENT HANDLER'],
  ['HOST_EVENT_HANDLER', 'HOST EVENT HANDLER'],
  ['EXTERNAL_COMMAND', 'EXTERNAL COMMAND'],
  ['TIMEPERIOD_TRANSITION', 'TIMEPERIOD TRANSITION'],
];

/** External commands: each is its own name as well as its text. */
const COMMANDS = [
  'DISABLE_SVC_CHECK', 'ENABLE_SVC_CHECK', 'DISABLE_HOST_CHECK', 'ENABLE_HOST_CHECK',
  'PROCESS_SERVICE_CHECK_RESULT', 'PROCESS_HOST_CHECK_RESULT', 'SCHEDULE_SERVICE_DOWNTIME', 'SCHEDULE_HOST_DOWNTIME',
  'DISABLE_HOST_SVC_NOTIFICATIONS', 'ENABLE_HOST_SVC_NOTIFICATIONS', 'DISABLE_HOST_NOTIFICATIONS', 'ENABLE_HOST_NOTIFICATIONS',
  'DISABLE_SVC_NOTIFICATIONS', 'ENABLE_SVC_NOTIFICATIONS',
];

const t = (name: string): string => `%{NAGIOS_TYPE_${name}:nagios_type}`;
const ec = (name: string): string => `%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_${name}:nagios_command}`;

const LINES: Array<[string, string]> = [
  ['NAGIOS_WARNING', 'Warning:%{SPACE}%{GREEDYDATA:nagios_message}'],
  ['NAGIOS_CURRENT_SERVICE_STATE', `${t('CURRENT_SERVICE_STATE')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statetype};%{DATA:nagios_statecode};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_CURRENT_HOST_STATE', `${t('CURRENT_HOST_STATE')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statetype};%{DATA:nagios_statecode};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_SERVICE_NOTIFICATION', `${t('SERVICE_NOTIFICATION')}: %{DATA:nagios_notifyname};%{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_contact};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_HOST_NOTIFICATION', `${t('HOST_NOTIFICATION')}: %{DATA:nagios_notifyname};%{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_contact};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_SERVICE_ALERT', `${t('SERVICE_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{NUMBER:nagios_attempt};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_HOST_ALERT', `${t('HOST_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{NUMBER:nagios_attempt};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_SERVICE_FLAPPING_ALERT', `${t('SERVICE_FLAPPING_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_HOST_FLAPPING_ALERT', `${t('HOST_FLAPPING_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_message}`],
  ['NAGIOS_SERVICE_DOWNTIME_ALERT', `${t('SERVICE_DOWNTIME_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment}`],
  ['NAGIOS_HOST_DOWNTIME_ALERT', `${t('HOST_DOWNTIME_ALERT')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment}`],
  ['NAGIOS_PASSIVE_SERVICE_CHECK', `${t('PASSIVE_SERVICE_CHECK')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment}`],
  ['NAGIOS_PASSIVE_HOST_CHECK', `${t('PASSIVE_HOST_CHECK')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment}`],
  ['NAGIOS_SERVICE_EVENT_HANDLER', `${t('SERVICE_EVENT_HANDLER')}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{DATA:nagios_event_handler_name}`],
  ['NAGIOS_HOST_EVENT_HANDLER', `${t('HOST_EVENT_HANDLER')}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{DATA:nagios_event_handler_name}`],
  ['NAGIOS_TIMEPERIOD_TRANSITION', `${t('TIMEPERIOD_TRANSITION')}: %{DATA:nagios_service};%{DATA:nagios_unknown1};%{DATA:nagios_unknown2}`],
  ['NAGIOS_EC_LINE_DISABLE_SVC_CHECK', `${ec('DISABLE_SVC_CHECK')};%{DATA:nagios_hostname};%{DATA:nagios_service}`],
  ['NAGIOS_EC_LINE_DISABLE_HOST_CHECK', `${ec('DISABLE_HOST_CHECK')};%{DATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_ENABLE_SVC_CHECK', `${ec('ENABLE_SVC_CHECK')};%{DATA:nagios_hostname};%{DATA:nagios_service}`],
  ['NAGIOS_EC_LINE_ENABLE_HOST_CHECK', `${ec('ENABLE_HOST_CHECK')};%{DATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_PROCESS_SERVICE_CHECK_RESULT', `${ec('PROCESS_SERVICE_CHECK_RESULT')};%{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_check_result}`],
  ['NAGIOS_EC_LINE_PROCESS_HOST_CHECK_RESULT', `${ec('PROCESS_HOST_CHECK_RESULT')};%{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_check_result}`],
  ['NAGIOS_EC_LINE_DISABLE_HOST_SVC_NOTIFICATIONS', `${ec('DISABLE_HOST_SVC_NOTIFICATIONS')};%{GREEDYDATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_DISABLE_HOST_NOTIFICATIONS', `${ec('DISABLE_HOST_NOTIFICATIONS')};%{GREEDYDATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_DISABLE_SVC_NOTIFICATIONS', `${ec('DISABLE_SVC_NOTIFICATIONS')};%{DATA:nagios_hostname};%{GREEDYDATA:nagios_service}`],
  ['NAGIOS_EC_LINE_ENABLE_HOST_SVC_NOTIFICATIONS', `${ec('ENABLE_HOST_SVC_NOTIFICATIONS')};%{GREEDYDATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_ENABLE_HOST_NOTIFICATIONS', `${ec('ENABLE_HOST_NOTIFICATIONS')};%{GREEDYDATA:nagios_hostname}`],
  ['NAGIOS_EC_LINE_ENABLE_SVC_NOTIFICATIONS', `${ec('ENABLE_SVC_NOTIFICATIONS')};%{DATA:nagios_hostname};%{GREEDYDATA:nagios_service}`],
  ['NAGIOS_EC_LINE_SCHEDULE_HOST_DOWNTIME', `${ec('SCHEDULE_HOST_DOWNTIME')};%{DATA:nagios_hostname};%{NUMBER:nagios_start_time};%{NUMBER:nagios_end_time};%{NUMBER:nagios_fixed};%{NUMBER:nagios_trigger_id};%{NUMBER:nagios_duration};%{DATA:author};%{DATA:comment}`],
];

/** Tried in this order by NAGIOSLOGLINE, as in Logstash. */
const LOGLINE_ORDER = [
  'WARNING', 'CURRENT_SERVICE_STATE', 'CURRENT_HOST_STATE', 'SERVICE_NOTIFICATION', 'HOST_NOTIFICATION', 'SERVICE_ALERT', 'HOST_ALERT',
  'SERVICE_FLAPPING_ALERT', 'HOST_FLAPPING_ALERT', 'SERVICE_DOWNTIME_ALERT', 'HOST_DOWNTIME_ALERT', 'PASSIVE_SERVICE_CHECK', 'PASSIVE_HOST_CHECK',
  'SERVICE_EVENT_HANDLER', 'HOST_EVENT_HANDLER', 'TIMEPERIOD_TRANSITION', 'EC_LINE_DISABLE_SVC_CHECK', 'EC_LINE_ENABLE_SVC_CHECK',
  'EC_LINE_DISABLE_HOST_CHECK', 'EC_LINE_ENABLE_HOST_CHECK', 'EC_LINE_PROCESS_HOST_CHECK_RESULT', 'EC_LINE_PROCESS_SERVICE_CHECK_RESULT',
  'EC_LINE_SCHEDULE_HOST_DOWNTIME', 'EC_LINE_DISABLE_HOST_SVC_NOTIFICATIONS', 'EC_LINE_ENABLE_HOST_SVC_NOTIFICATIONS',
  'EC_LINE_DISABLE_HOST_NOTIFICATIONS', 'EC_LINE_ENABLE_HOST_NOTIFICATIONS', 'EC_LINE_DISABLE_SVC_NOTIFICATIONS', 'EC_LINE_ENABLE_SVC_NOTIFICATIONS',
];

export const NAGIOS = [
  'NAGIOSTIME \\[%{NUMBER:nagios_epoch}\\]',
  ...TYPES.map(([name, text]) => `NAGIOS_TYPE_${name} ${text}`),
  ...COMMANDS.map((name) => `NAGIOS_EC_${name} ${name}`),
  ...LINES.map(([name, body]) => `${name} ${body}`),
  `NAGIOSLOGLINE %{NAGIOSTIME} (?:${LOGLINE_ORDER.map((n) => `%{NAGIOS_${n}}`).join('|')})`,
].join('\n');
