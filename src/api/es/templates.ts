/**
 * Index templates as Elasticsearch 8 keeps them: what a PUT body becomes
 * (`index_patterns` always an array), the checks Elasticsearch makes before
 * storing one (same priority + overlapping patterns, missing component
 * templates), and the mappings they give a new index (component templates in
 * `composed_of` order, then the index template's own; legacy templates by `order`).
 */
import { EsError } from './errors.js';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Elasticsearch's built-in `logs` template (installed by x-pack): `logs-*-*` writes create data streams,
 * as Filebeat and Elastic Agent expect. Kept lean: the `@timestamp` and `data_stream.*` fields only.
 */
export const BUILTIN_LOGS_TEMPLATE: Json = {
  index_patterns: ['logs-*-*'],
  composed_of: [],
  priority: 100,
  version: 1,
  template: {
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        data_stream: { properties: { type: { type: 'constant_keyword' }, dataset: { type: 'constant_keyword' }, namespace: { type: 'constant_keyword' } } },
      },
    },
  },
  _meta: { description: 'default logs template installed by x-pack', managed: true },
  data_stream: { hidden: false, allow_custom_routing: false },
  allow_auto_create: true,
};

export function patternsOf(t: Json): string[] {
  const p = t.index_patterns;
  if (typeof p === 'string') return [p];
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
}

function patternRe(p: string): RegExp {
  return new RegExp('^' + p.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
}

export function patternMatches(pattern: string, name: string): boolean {
  return patternRe(pattern).test(name);
}

/**
 * Whether some name matches both patterns. Exact for patterns without `*` (one matches the other), and for
 * the usual `prefix*suffix` shapes: the literal prefixes (before the first `*`) must agree and so must the
 * literal suffixes (after the last `*`).
 */
export function patternsOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return patternMatches(b, a);
  if (!b.includes('*')) return patternMatches(a, b);
  const pa = a.slice(0, a.indexOf('*'));
  const pb = b.slice(0, b.indexOf('*'));
  const sa = a.slice(a.lastIndexOf('*') + 1);
  const sb = b.slice(b.lastIndexOf('*') + 1);
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

const illegal = (reason: string): EsError => new EsError(400, 'illegal_argument_exception', reason);

/** A composable index template's PUT body, checked and normalised; throws Elasticsearch's errors. */
export function normaliseIndexTemplate(name: string, body: Json, existing: Map<string, Json>, components: Map<string, Json>): Json {
  const patterns = patternsOf(body);
  if (patterns.length === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: index patterns are missing;');
  if (body.priority !== undefined && (typeof body.priority !== 'number' || !Number.isInteger(body.priority) || body.priority < 0)) {
    throw illegal(`[index_template] priority must be a non-negative integer, got [${JSON.stringify(body.priority)}]`);
  }
  if (body.composed_of !== undefined && !(Array.isArray(body.composed_of) && body.composed_of.every((c) => typeof c === 'string'))) {
    throw illegal('[index_template] composed_of must be an array of component template names');
  }
  const composed = (body.composed_of as string[] | undefined) ?? [];
  const ignoreMissing = Array.isArray(body.ignore_missing_component_templates) ? body.ignore_missing_component_templates : [];
  const missing = composed.filter((c) => !components.has(c) && !ignoreMissing.includes(c));
  if (missing.length > 0) {
    throw new EsError(400, 'invalid_index_template_exception', `index_template [${name}] invalid, cause [index template [${name}] specifies component templates ${JSON.stringify(missing).replace(/"/g, '')} that do not exist]`);
  }
  const priority = typeof body.priority === 'number' ? body.priority : 0;
  const overlaps: [string, string[]][] = [];
  for (const [other, t] of existing) {
    if (other === name) continue;
    const otherPriority = typeof t.priority === 'number' ? t.priority : 0;
    if (otherPriority !== priority) continue;
    const theirs = patternsOf(t);
    if (patterns.some((p) => theirs.some((q) => patternsOverlap(p, q)))) overlaps.push([other, theirs]);
  }
  if (overlaps.length > 0) {
    // Elasticsearch's wording (MetadataIndexTemplateService.validateV2TemplateRequest).
    throw illegal(
      `index template [${name}] has index patterns [${patterns.join(', ')}] matching patterns from existing templates [${overlaps.map(([n]) => n).join(',')}] ` +
        `with patterns (${overlaps.map(([n, p]) => `${n} => [${p.join(', ')}]`).join(',')}) that have the same priority [${priority}], ` +
        'multiple index templates may not match during index creation, please use a different priority',
    );
  }
  return { ...body, index_patterns: patterns, composed_of: composed };
}

/** A legacy (`_template`) PUT body normalised: `index_patterns` an array (older bodies say `template`). */
export function normaliseLegacyTemplate(body: Json): Json {
  const patterns = patternsOf(body).length > 0 ? patternsOf(body) : typeof body.template === 'string' ? [body.template] : [];
  if (patterns.length === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: index patterns are missing;');
  const { template: _t, ...rest } = body;
  return { ...rest, index_patterns: patterns };
}

/** A component template's PUT body: `template` must be an object. */
export function normaliseComponentTemplate(body: Json): Json {
  if (!isObj(body.template)) throw new EsError(400, 'x_content_parse_exception', '[component_template] required field [template] is missing');
  return body;
}

/** Deep merge of mapping objects: later wins for leaves, `properties` merged field by field. */
export function mergeMappings(into: Json, from: Json): Json {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (isObj(cur) && isObj(v)) into[k] = mergeMappings({ ...cur }, v);
    else into[k] = v;
  }
  return into;
}

export interface Templates {
  indexTemplates: Map<string, Json>;
  componentTemplates: Map<string, Json>;
  legacyTemplates: Map<string, Json>;
}

/** The composable template a new index named `name` takes: the highest priority one matching (hidden `*` templates ignored for dot names). */
export function matchingIndexTemplate(t: Templates, name: string): [string, Json] | null {
  let best: [string, Json] | null = null;
  let bestPriority = -1;
  for (const [tname, body] of t.indexTemplates) {
    const patterns = patternsOf(body);
    if (name.startsWith('.') && patterns.every((p) => p === '*')) continue;
    if (!patterns.some((p) => patternMatches(p, name))) continue;
    const priority = typeof body.priority === 'number' ? body.priority : 0;
    if (priority > bestPriority) [best, bestPriority] = [[tname, body], priority];
  }
  return best;
}

/**
 * The mappings templates give a new index named `name`: the matching composable template's components in
 * order, then its own `template.mappings`; with no composable match, every matching legacy template by `order`.
 */
export function templateMappings(t: Templates, name: string): Json {
  const out: Json = {};
  const composable = matchingIndexTemplate(t, name);
  if (composable) {
    const [, body] = composable;
    for (const c of (body.composed_of as string[] | undefined) ?? []) {
      const comp = t.componentTemplates.get(c);
      const m = isObj(comp?.template) && isObj(comp.template.mappings) ? comp.template.mappings : null;
      if (m) mergeMappings(out, m);
    }
    if (isObj(body.template) && isObj(body.template.mappings)) mergeMappings(out, body.template.mappings);
    // A copy: merging shares the templates' own objects, and an index's mappings are changed in place later.
    return structuredClone(out);
  }
  const legacy = [...t.legacyTemplates.values()]
    .filter((b) => patternsOf(b).some((p) => patternMatches(p, name)))
    .sort((a, b) => (typeof a.order === 'number' ? a.order : 0) - (typeof b.order === 'number' ? b.order : 0));
  for (const b of legacy) {
    let m = b.mappings;
    // Pre-7 bodies nest mappings under a type name (`_doc`).
    if (isObj(m) && !isObj(m.properties) && Object.keys(m).length === 1 && isObj(Object.values(m)[0])) m = Object.values(m)[0];
    if (isObj(m)) mergeMappings(out, m);
  }
  return structuredClone(out);
}
