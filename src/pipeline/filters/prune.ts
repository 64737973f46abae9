/**
 * The `prune` filter: removes top-level fields by name (`whitelist_names`, `blacklist_names`) or by value
 * (`whitelist_values`, `blacklist_values`), each a regular expression matched anywhere in the text, as
 * Logstash does (`^name$` for an exact name). A list value is pruned item by item; a field whose items all
 * go is removed. `blacklist_names` defaults to removing fields whose names hold an unresolved `%{…}`.
 *
 * Unlike Logstash, `@timestamp`, `@version` are never removed: without them an event cannot be stored or
 * shipped, and Logstash itself rebuilds them.
 */
import { filterDecoration } from '../common.js';
import { isObject, type PipelineEvent, type PipelineValue } from '../event.js';
import type { FilterFactory } from '../plugin.js';
import type { Settings } from '../settings.js';
import { Template } from '../sprintf.js';
import { LruCache } from './lru.js';
import { boundedWarn } from './warn-limit.js';

const PROTECTED = new Set(['@timestamp', '@version']);
const DEFAULT_BLACKLIST_NAMES = ['%\\{[^}]+\\}'];
/** Interpolated expressions compiled, kept by their text: the same few come back again and again. */
const REGEX_CACHE_SIZE = 256;

interface ValueRule {
  readonly field: Template;
  readonly pattern: Template;
}

export const pruneFilter: FilterFactory = (settings, context) => {
  const label = `filter prune (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const interpolate = settings.boolean('interpolate', false);
  const whitelistNames = settings.strings('whitelist_names');
  const blacklistNames = settings.has('blacklist_names') ? settings.strings('blacklist_names') : DEFAULT_BLACKLIST_NAMES;
  const whitelistValues = valueRules(settings, 'whitelist_values');
  const blacklistValues = valueRules(settings, 'blacklist_values');
  // Checked now even when interpolated: a pattern without %{…} is the same for every event.
  for (const [name, list] of [['whitelist_names', whitelistNames], ['blacklist_names', blacklistNames]] as const) {
    for (const source of list) if (!interpolate || !source.includes('%{')) compileOrThrow(settings, name, source);
  }
  for (const [name, rules] of [['whitelist_values', whitelistValues], ['blacklist_values', blacklistValues]] as const) {
    for (const rule of rules) if (!interpolate || rule.pattern.constant) compileOrThrow(settings, name, rule.pattern.source);
  }
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);
  const cache = new LruCache<string, RegExp | null>(REGEX_CACHE_SIZE);

  const regexOf = (source: string): RegExp | null => {
    let regex = cache.get(source);
    if (regex === undefined) {
      try {
        regex = new RegExp(source);
      } catch {
        warn(`/${source}/ (interpolated) is not a valid regular expression; the rule is skipped`);
        regex = null;
      }
      cache.set(source, regex);
    }
    return regex;
  };
  const render = (template: Template, event: PipelineEvent): string => (interpolate ? template.render(event) : template.source);
  const whitelistNameTemplates = whitelistNames.map((s) => new Template(s));
  const blacklistNameTemplates = blacklistNames.map((s) => new Template(s));
  const namesMatcher = (templates: Template[], event: PipelineEvent): RegExp[] =>
    templates.map((t) => regexOf(render(t, event))).filter((r): r is RegExp => r !== null);

  return {
    label,
    process(events) {
      for (const event of events) {
        const fields = event.fields;
        const remove = new Set<string>();
        const keep = new Map<string, PipelineValue[]>();
        const names = Object.keys(fields);
        if (whitelistNameTemplates.length > 0) {
          const allowed = namesMatcher(whitelistNameTemplates, event);
          for (const name of names) if (!allowed.some((r) => r.test(name))) remove.add(name);
        }
        if (blacklistNameTemplates.length > 0) {
          const denied = namesMatcher(blacklistNameTemplates, event);
          for (const name of names) if (denied.some((r) => r.test(name))) remove.add(name);
        }
        for (const [rules, keepMatches] of [[whitelistValues, true], [blacklistValues, false]] as const) {
          for (const rule of rules) {
            const name = render(rule.field, event);
            const regex = regexOf(render(rule.pattern, event));
            const value = fields[name];
            // Logstash skips absent, null and false values.
            if (regex === null || value === undefined || value === null || value === false) continue;
            if (Array.isArray(value)) {
              const current = keep.get(name) ?? value;
              const kept = current.filter((item) => !isText(item) || regex.test(String(item)) === keepMatches);
              if (kept.length === 0) remove.add(name);
              else if (kept.length !== current.length) keep.set(name, kept);
            } else if (isText(value) && regex.test(String(value)) !== keepMatches) remove.add(name);
          }
        }
        for (const name of remove) if (!PROTECTED.has(name)) delete fields[name];
        for (const [name, kept] of keep) if (!remove.has(name) || PROTECTED.has(name)) fields[name] = kept;
        decorate(event);
      }
      return events;
    },
  };
};

/** Strings, numbers and booleans are matched as text; hashes are left alone (Logstash cannot match them). */
function isText(value: PipelineValue): boolean {
  return value !== null && !isObject(value) && !Array.isArray(value);
}

function valueRules(settings: Settings, name: string): ValueRule[] {
  return settings.pairs(name).map(([field, pattern]) => ({ field: new Template(field), pattern: new Template(pattern) }));
}

function compileOrThrow(settings: Settings, name: string, source: string): void {
  try {
    new RegExp(source);
  } catch (error) {
    throw settings.error(name, `has /${source}/, which is not a valid regular expression: ${(error as Error).message}`);
  }
}
