/**
 * The `grok` filter: matches fields against grok expressions and sets the named captures as fields,
 * as Logstash's logstash-filter-grok does.
 *
 * - `match`: a hash of field → expression or list of expressions; fields are tried in order, and with
 *   `break_on_match` (the default) matching stops at the first expression that matches.
 * - A field captured twice becomes an array; a capture into a field that already holds a string (say
 *   `message`) gives `[original, captured]`, unless the field is listed in `overwrite`.
 * - `:int` / `:float` take the leading number (Ruby's to_i / to_f); empty captures are dropped unless
 *   `keep_empty_captures`.
 * - Each match runs under the pipeline's watchdog (`timeout_millis`, per pattern or per event); when
 *   the watchdog refuses a step that ran away before, the event is tagged `_groktimeout` instead.
 *
 * Differences from Logstash, on purpose: a field the event lacks is "no match" (Logstash would match
 * the text "" and could succeed on an empty-matching expression); environment `${VAR}`s are not
 * substituted inside `match` expressions (a regex's `${` is too easily meant literally).
 */
import type { PipelineEvent, PipelineValue } from '../event.js';
import { filterDecoration } from '../common.js';
import type { FieldPath } from '../field-ref.js';
import { parseFieldReference } from '../field-ref.js';
import type { FilterFactory, PipelineLogger, Watchdog } from '../plugin.js';
import type { Settings } from '../settings.js';
import type { Value } from '../parser/ast.js';
import { compileGrok, GrokError, GrokMatcher, PatternLibrary, type Capture, type CapturedValue } from '../grok/index.js';

interface FieldMatchers {
  readonly path: FieldPath;
  readonly matchers: readonly GrokMatcher[];
}

/** Thrown inside one event's matching when the watchdog refuses to arm: the event is tagged, not matched. */
class Refused extends Error {}

type Outcome = 'matched' | 'failed' | 'timeout';

export const grokFilter: FilterFactory = (settings, context) => {
  const rawMatch = readMatch(settings);
  const breakOnMatch = settings.boolean('break_on_match', true);
  const overwrite = new Set(settings.strings('overwrite'));
  const namedCapturesOnly = settings.boolean('named_captures_only', true);
  const keepEmpty = settings.boolean('keep_empty_captures', false);
  const definitions = settings.pairs('pattern_definitions');
  const patternsDirs = settings.strings('patterns_dir');
  const glob = settings.string('patterns_files_glob', '*');
  const tagOnFailure = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_grokparsefailure'];
  const tagOnTimeout = settings.string('tag_on_timeout', '_groktimeout');
  const timeoutMs = settings.number('timeout_millis', 30_000, { integer: true, min: 0 });
  const scope = settings.choice('timeout_scope', ['pattern', 'event'] as const, 'pattern');
  const targetText = settings.string('target');
  const target = targetText === undefined ? null : settings.fieldPath('target', targetText);
  // Read here, before filterDecoration accepts it blindly: only the legacy pattern set is built in.
  const ecs = settings.choice('ecs_compatibility', ['disabled', 'v1', 'v8'] as const, 'disabled');
  const decorate = filterDecoration(settings);
  settings.done();

  const library = PatternLibrary.standard();
  const configure = (setting: string, step: () => void): void => {
    try {
      step();
    } catch (error) {
      if (error instanceof GrokError) throw settings.error(setting, error.message);
      throw error;
    }
  };
  configure('patterns_dir', () => {
    for (const dir of patternsDirs) library.addPath(dir, glob);
  });
  configure('pattern_definitions', () => {
    for (const [name, regex] of definitions) library.define(name, regex);
  });

  const fields: FieldMatchers[] = rawMatch.map(({ field, expressions }) => ({
    path: settings.fieldPath('match', field),
    matchers: expressions.map((expression) => {
      try {
        return new GrokMatcher(compileGrok(expression, library, { namedCapturesOnly }));
      } catch (error) {
        if (error instanceof GrokError) throw settings.error('match', `for field "${field}": ${error.message}`);
        throw error;
      }
    }),
  }));

  const watchdog: Watchdog = context.watchdog;
  if (ecs !== 'disabled') context.logger.warn(`${settings.label}: ecs_compatibility => ${ecs} is accepted, but only Logstash's legacy patterns are built in, so the built-in patterns capture legacy (non-ECS) field names`);
  const logger = boundedWarnings(context.logger, 10);
  const label = `filter grok (${settings.plugin.at.line}:${settings.plugin.at.column})`;

  // Each capture's place under `target`, made once here rather than per event.
  const targetPaths = new Map<Capture, FieldPath>();
  if (target !== null) for (const { matchers } of fields) for (const m of matchers) for (const c of m.compiled.captures) targetPaths.set(c, [...target, ...c.path]);

  /** Logstash's `handle`: set, promote to an array, append, or leave alone a non-string value. */
  const store = (event: PipelineEvent, capture: Capture, value: CapturedValue): void => {
    const path = target === null ? capture.path : (targetPaths.get(capture) as FieldPath);
    if (overwrite.has(capture.field)) {
      event.set(path, value);
      return;
    }
    const existing = event.get(path);
    if (existing === undefined || existing === null) event.set(path, value);
    else if (Array.isArray(existing)) existing.push(value);
    else if (typeof existing === 'string') event.set(path, [existing, value]);
  };

  const run = (matcher: GrokMatcher, text: string): RegExpExecArray | null => {
    if (timeoutMs === 0 || scope === 'event') return matcher.exec(text);
    if (!watchdog.arm(timeoutMs)) throw new Refused();
    try {
      return matcher.exec(text);
    } finally {
      watchdog.disarm();
    }
  };

  const matchText = (event: PipelineEvent, matchers: readonly GrokMatcher[], text: string): boolean => {
    let matched = false;
    for (const matcher of matchers) {
      const m = run(matcher, text);
      if (m === null) continue;
      matched = true;
      matcher.eachCapture(m, keepEmpty, (capture, value) => store(event, capture, value));
      if (breakOnMatch) break;
    }
    return matched;
  };

  const matchEvent = (event: PipelineEvent): Outcome => {
    let matched = false;
    for (const { path, matchers } of fields) {
      const value = event.get(path);
      if (value === undefined || value === null) continue;
      let success = false;
      if (Array.isArray(value)) {
        for (const item of value) if (matchText(event, matchers, textOf(item))) success = true;
      } else success = matchText(event, matchers, textOf(value));
      if (success) {
        matched = true;
        if (breakOnMatch) break;
      }
    }
    return matched ? 'matched' : 'failed';
  };

  const guarded = (event: PipelineEvent): Outcome => {
    try {
      if (timeoutMs === 0 || scope === 'pattern') return matchEvent(event);
      if (!watchdog.arm(timeoutMs)) return 'timeout';
      try {
        return matchEvent(event);
      } finally {
        watchdog.disarm();
      }
    } catch (error) {
      if (error instanceof Refused) return 'timeout';
      // A regular expression can still throw on hostile input (a stack overflow on a huge one): the event fails, the batch goes on.
      logger.warn(`${label}: matching failed: ${(error as Error).message}`);
      return 'failed';
    }
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        const outcome = guarded(event);
        if (outcome === 'matched') decorate(event);
        else if (outcome === 'failed') for (const tag of tagOnFailure) event.addTag(tag);
        else {
          logger.warn(`${label}: a match was stopped before after running longer than ${timeoutMs} ms; the event is tagged ${tagOnTimeout}`);
          event.addTag(tagOnTimeout);
        }
      }
      return events;
    },
  };
};

/** `match => { "field" => "expr" }`, `{ "field" => ["a", "b"] }`, or the older flat `["field", "expr", …]`. */
function readMatch(settings: Settings): Array<{ field: string; expressions: string[] }> {
  const value = settings.raw('match');
  if (value === undefined) return [];
  const texts = (v: Value): string[] => {
    if (v.kind === 'array') return v.items.flatMap(texts);
    if (v.kind === 'string' || v.kind === 'bareword') return [v.value];
    if (v.kind === 'number') return [v.text];
    throw settings.error('match', 'must map fields to expressions (strings)', v.at);
  };
  const byField = new Map<string, string[]>();
  const add = (field: string, expressions: string[]): void => {
    const list = byField.get(field) ?? [];
    list.push(...expressions);
    byField.set(field, list);
  };
  if (value.kind === 'hash') for (const entry of value.entries) add(entry.key, texts(entry.value));
  else if (value.kind === 'array' && value.items.length % 2 === 0) {
    const flat = texts(value);
    for (let i = 0; i < flat.length; i += 2) add(flat[i], [flat[i + 1]]);
  } else throw settings.error('match', 'must be a hash, as in { "message" => "%{COMBINEDAPACHELOG}" }', value.at);
  for (const field of byField.keys()) {
    try {
      parseFieldReference(field);
    } catch {
      settings.fieldPath('match', field);
    }
  }
  return [...byField].map(([field, expressions]) => ({ field, expressions }));
}

/** What Logstash matches a non-string value as: its text. */
function textOf(value: PipelineValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The first `limit` warnings, and no more: a bad stream would otherwise write one per event and bury the log. */
function boundedWarnings(logger: PipelineLogger, limit: number): Pick<PipelineLogger, 'warn'> {
  let count = 0;
  return {
    warn(message) {
      count++;
      if (count < limit) logger.warn(message);
      else if (count === limit) logger.warn(`${message} (further warnings of this filter are not logged)`);
    },
  };
}
