/**
 * The `useragent` filter: parses a User-Agent header with ua-parser's rules (uap-core's regexes.yaml,
 * or the file `regexes` names) into Logstash's legacy (non-ECS) fields: name, major, minor, patch,
 * build, os, os_name, os_major, os_minor, os_patch and device. Without `target` the fields go at the
 * top of the event, each named with `prefix` in front.
 *
 * The rules are compiled once per file and shared; answers are kept in an LRU, as the same few
 * browsers make most of any site's traffic.
 */
import { filterDecoration } from '../common.js';
import type { PipelineEvent, PipelineObject, PipelineValue } from '../event.js';
import type { FieldPath } from '../field-ref.js';
import type { FilterFactory } from '../plugin.js';
import { LruCache } from './lru.js';
import type { Settings } from '../settings.js';
import { defaultRegexesPath, loadRules, parseUserAgent, type CompiledRules, type ParsedUserAgent } from './useragent-rules.js';
import { boundedWarn } from './warn-limit.js';

/** How long parsing one user agent may run before the pipeline's watchdog may stop it. */
const PARSE_STEP_MS = 1000;

export const useragentFilter: FilterFactory = (settings, context) => {
  const label = `filter useragent (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const sourceName = settings.string('source');
  if (sourceName === undefined) throw settings.error('source', 'is required: the field holding the User-Agent text');
  const source = settings.fieldPath('source', sourceName);
  const targetName = settings.string('target');
  const target: FieldPath | null = targetName === undefined ? null : settings.fieldPath('target', targetName);
  const prefix = settings.string('prefix', '');
  const regexesPath = settings.string('regexes') ?? defaultRegexesPath();
  const rules = rulesOf(settings, regexesPath);
  if (rules.skipped.length > 0) context.logger.warn(`${label}: ${rules.skipped.length} rule(s) of ${regexesPath} do not compile and are skipped; first: ${rules.skipped[0]}`);
  const cache = new LruCache<string, PipelineObject>(settings.number('lru_cache_size', 100_000, { integer: true, min: 0 }));
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);

  const fieldsOf = (text: string): PipelineObject | null => {
    const cached = cache.get(text);
    if (cached) return cached;
    if (!context.watchdog.arm(PARSE_STEP_MS)) {
      warn(`parsing "${text.slice(0, 80)}" ran too long before; it is skipped`);
      return null;
    }
    try {
      const fields = legacyFields(parseUserAgent(rules, text), prefix);
      cache.set(text, fields);
      return fields;
    } finally {
      context.watchdog.disarm();
    }
  };

  const enrich = (event: PipelineEvent): boolean => {
    const value = event.get(source);
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text !== 'string' || text === '') return false;
    const fields = fieldsOf(text);
    if (!fields) return false;
    for (const [name, field] of Object.entries(fields)) event.set(target ? [...target, name] : [name], field);
    return true;
  };

  return {
    label,
    process(events) {
      for (const event of events) if (enrich(event)) decorate(event);
      return events;
    },
  };
};

function rulesOf(settings: Settings, regexesPath: string): CompiledRules {
  try {
    return loadRules(regexesPath);
  } catch (error) {
    throw settings.error('regexes', `names ${regexesPath}, which cannot be used: ${(error as Error).message}`);
  }
}

/** Logstash's legacy names; absent versions are left out, as Logstash leaves them out. The values are strings, shared safely. */
export function legacyFields(parsed: ParsedUserAgent, prefix: string): PipelineObject {
  const out: PipelineObject = {};
  const put = (name: string, value: PipelineValue | null): void => {
    if (value !== null) out[prefix + name] = value;
  };
  put('name', parsed.ua.family);
  put('major', parsed.ua.major);
  put('minor', parsed.ua.minor);
  put('patch', parsed.ua.patch);
  put('build', parsed.ua.patchMinor);
  put('os', parsed.os.family);
  put('os_name', parsed.os.family);
  put('os_major', parsed.os.major);
  put('os_minor', parsed.os.minor);
  put('os_patch', parsed.os.patch);
  put('device', parsed.device.family);
  return out;
}
