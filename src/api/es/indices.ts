/**
 * Index administration of the Elasticsearch-compatible API: `_settings`,
 * `_open` / `_close`, `_stats`, `GET _cat`, `_cat/aliases`,
 * `_update_by_query`, `_delete_by_query` and `_tasks` for the ones run with
 * `wait_for_completion=false`.
 *
 * Settings and the closed state live in the index metadata (EsMeta, admin.ts).
 * A closed index refuses reads and writes with Elasticsearch's
 * index_closed_exception: requests naming it in their path are stopped by a
 * hook here; bulk items by write.ts (WriteTargets); searches over a wildcard
 * leave it out (server.ts's index filter).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldType, LogEvent } from '../../core/event.js';
import type { FilterNode } from '../../query/ast.js';
import {
  catAnswer,
  hasWildcards,
  indexUuid,
  isObject,
  jsonBody,
  resolveIndices,
  settingsOf,
  type CatColumn,
  type CatRow,
  type EsMeta,
  type KnownIndex,
} from './admin.js';
import type { EsContext } from './context.js';
import { andOf, orOf, splitTimeRange, translateQuery, translateQueryString } from './dsl.js';
import { EsError, illegalArgument, resourceNotFound } from './errors.js';
import { forgetIndexFields } from './mappings.js';
import { documentToEvent, hitToEvent, mergeDoc, sameEvent, sourceOfEvent } from './write.js';

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;
type Obj = Record<string, unknown>;

const SPAN = { start: 0, end: 0 };

// ------------------------------------------------------------ closed indices

/** Elasticsearch's answer to a read or write of a closed index (400). */
export function closedIndexError(meta: EsMeta, index: string): EsError {
  return new EsError(400, 'index_closed_exception', 'closed', { index_uuid: indexUuid(meta, index), index });
}

/** The closed indices among the concrete (not wildcard) names of an expression, after aliases. */
export function closedNamed(meta: EsMeta, expr: string): string[] {
  const out: string[] = [];
  for (const raw of meta.expandAliases(expr).split(',')) {
    const name = raw.trim();
    if (name === '' || name.startsWith('-') || name.includes('*')) continue;
    if (meta.indices.get(name)?.closed) out.push(name);
  }
  return out;
}

/** Every closed index, for searches over wildcards to leave out (as Elasticsearch's expand_wildcards=open). */
export function closedIndices(meta: EsMeta): string[] {
  return [...meta.indices].filter(([, m]) => m.closed === true).map(([n]) => n);
}

/** Routes (method and path pattern) that read or write the documents of the index in their path. */
const DOCUMENT_ROUTES = new Set([
  'GET /:index/_search',
  'POST /:index/_search',
  'GET /:index/_count',
  'POST /:index/_count',
  'GET /:index/_msearch',
  'POST /:index/_msearch',
  'GET /:index/_mget',
  'POST /:index/_mget',
  'GET /:index/_doc/:id',
  'HEAD /:index/_doc/:id',
  'GET /:index/_source/:id',
  'HEAD /:index/_source/:id',
  'POST /:index/_doc',
  'PUT /:index/_doc/:id',
  'POST /:index/_doc/:id',
  'DELETE /:index/_doc/:id',
  'PUT /:index/_create/:id',
  'POST /:index/_create/:id',
  'POST /:index/_update/:id',
  'POST /:index/_update_by_query',
  'POST /:index/_delete_by_query',
]);

// ------------------------------------------------------------ settings

type SettingKind = 'int' | 'bool' | 'time' | 'string' | 'list';

interface SettingDef {
  kind: SettingKind;
  /** Can be changed on an open index. */
  dynamic: boolean;
  min?: number;
  /** What `include_defaults` reports. */
  def?: string | string[];
}

/**
 * The index settings Logmill knows by name. Only the names are checked and
 * the values' types: none changes how Logmill stores or searches (documented
 * in docs/elasticsearch.md).
 */
const SETTINGS: Record<string, SettingDef> = {
  'index.number_of_shards': { kind: 'int', dynamic: false, min: 1, def: '1' },
  'index.number_of_replicas': { kind: 'int', dynamic: true, min: 0, def: '1' },
  'index.auto_expand_replicas': { kind: 'string', dynamic: true, def: 'false' },
  'index.refresh_interval': { kind: 'time', dynamic: true, def: '1s' },
  'index.max_result_window': { kind: 'int', dynamic: true, min: 1, def: '10000' },
  'index.max_inner_result_window': { kind: 'int', dynamic: true, min: 1, def: '100' },
  'index.max_rescore_window': { kind: 'int', dynamic: true, min: 1, def: '10000' },
  'index.max_docvalue_fields_search': { kind: 'int', dynamic: true, min: 0, def: '100' },
  'index.max_script_fields': { kind: 'int', dynamic: true, min: 0, def: '32' },
  'index.max_ngram_diff': { kind: 'int', dynamic: true, min: 0, def: '1' },
  'index.max_shingle_diff': { kind: 'int', dynamic: true, min: 0, def: '3' },
  'index.max_terms_count': { kind: 'int', dynamic: true, min: 1, def: '65536' },
  'index.max_regex_length': { kind: 'int', dynamic: true, min: 1, def: '1000' },
  'index.max_refresh_listeners': { kind: 'int', dynamic: true, min: 0, def: '1000' },
  'index.max_slices_per_scroll': { kind: 'int', dynamic: true, min: 1, def: '1024' },
  'index.default_pipeline': { kind: 'string', dynamic: true, def: '_none' },
  'index.final_pipeline': { kind: 'string', dynamic: true, def: '_none' },
  'index.hidden': { kind: 'bool', dynamic: true, def: 'false' },
  'index.priority': { kind: 'int', dynamic: true, min: 0, def: '1' },
  'index.query.default_field': { kind: 'list', dynamic: true, def: ['*'] },
  'index.gc_deletes': { kind: 'time', dynamic: true, def: '60s' },
  'index.search.idle.after': { kind: 'time', dynamic: true, def: '30s' },
  'index.write.wait_for_active_shards': { kind: 'string', dynamic: true, def: '1' },
  'index.codec': { kind: 'string', dynamic: false, def: 'default' },
  'index.number_of_routing_shards': { kind: 'int', dynamic: false, min: 1 },
  'index.routing_partition_size': { kind: 'int', dynamic: false, min: 1, def: '1' },
  'index.mode': { kind: 'string', dynamic: false, def: 'standard' },
  'index.shard.check_on_startup': { kind: 'string', dynamic: false, def: 'false' },
  'index.format': { kind: 'int', dynamic: false, min: 0, def: '0' },
  'index.load_fixed_bitset_filters_eagerly': { kind: 'bool', dynamic: false, def: 'true' },
};

/** Groups of settings accepted with any value (analysis, allocation, lifecycle…); `false`: static. */
const SETTING_GROUPS: Array<[string, boolean]> = [
  ['index.analysis.', false],
  ['index.similarity.', false],
  ['index.sort.', false],
  ['index.store.', false],
  ['index.soft_deletes.', false],
  ['index.routing.', true],
  ['index.lifecycle.', true],
  ['index.blocks.', true],
  ['index.mapping.', true],
  ['index.merge.', true],
  ['index.translog.', true],
  ['index.search.', true],
  ['index.indexing.', true],
  ['index.unassigned.', true],
  ['index.highlight.', true],
  ['index.requests.', true],
  ['index.queries.', true],
  ['index.time_series.', false],
  ['index.frozen', true],
];

/** Set by Elasticsearch itself, never by a request. */
const PRIVATE_SETTINGS = new Set(['index.creation_date', 'index.uuid', 'index.provided_name', 'index.version.created', 'index.version.upgraded', 'index.history.uuid', 'index.resize.source.uuid']);

/** Nested or dotted settings → flat dotted names, each with `index.` in front (as Elasticsearch normalises them). */
export function flattenSettings(body: Obj, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(body)) {
    const name = prefix + k;
    if (isObject(v)) for (const [kk, vv] of flattenSettings(v, `${name}.`)) out.set(kk, vv);
    else out.set(prefix === '' && !name.startsWith('index.') ? `index.${name}` : name, v);
  }
  return out;
}

/** Flat dotted names → nested objects (`index.a.b` → `{index:{a:{b}}}`). */
function nestSettings(flat: Map<string, unknown>): Obj {
  const root: Obj = {};
  for (const [name, value] of flat) {
    const parts = name.split('.');
    let level = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = level[parts[i]];
      level = isObject(next) ? next : (level[parts[i]] = {});
    }
    level[parts[parts.length - 1]] = value;
  }
  return root;
}

function settingDef(name: string): SettingDef | null {
  const known = SETTINGS[name];
  if (known) return known;
  for (const [prefix, dynamic] of SETTING_GROUPS) if (name.startsWith(prefix)) return { kind: 'string', dynamic };
  return null;
}

/** A setting's value as Elasticsearch stores it (strings; lists stay lists), or its error worded as Elasticsearch's. */
function checkSetting(name: string, value: unknown): string | string[] | null {
  if (PRIVATE_SETTINGS.has(name)) throw illegalArgument(`private index setting [${name}] can not be set explicitly`);
  const def = settingDef(name);
  if (!def) {
    throw illegalArgument(`unknown setting [${name}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (def.kind !== 'list' && def.kind !== 'string') throw illegalArgument(`Failed to parse value [${JSON.stringify(value)}] for setting [${name}]`);
    return value.map((v) => String(v));
  }
  if (isObject(value)) throw illegalArgument(`Failed to parse value [${JSON.stringify(value)}] for setting [${name}]`);
  const text = String(value);
  switch (def.kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw illegalArgument(`Failed to parse value [${text}] for setting [${name}]`);
      const n = Number(text);
      if (def.min !== undefined && n < def.min) throw illegalArgument(`Failed to parse value [${text}] for setting [${name}] must be >= ${def.min}`);
      return String(n);
    }
    case 'bool':
      if (text !== 'true' && text !== 'false') throw illegalArgument(`Failed to parse value [${text}] as only [true] or [false] are allowed.`);
      return text;
    case 'time':
      if (text !== '-1' && text !== '0' && !/^\d+(\.\d+)?(nanos|micros|ms|s|m|h|d)$/.test(text.trim())) {
        throw illegalArgument(`failed to parse setting [${name}] with value [${text}] as a time value: unit is missing or unrecognized`);
      }
      return text;
    default:
      return def.kind === 'list' ? text.split(',').map((s) => s.trim()) : text;
  }
}

/** The settings given at creation or by PUT, flat. */
function storedSettings(meta: EsMeta, name: string): Map<string, unknown> {
  const given = meta.indices.get(name)?.settings ?? {};
  return flattenSettings(isObject(given.settings) ? given.settings : given);
}

/** Flattens Elasticsearch's nested settings answer into `index.x: v` (`flat_settings=true`). */
function flatAnswer(nested: Obj): Obj {
  const out: Obj = {};
  const walk = (o: Obj, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (isObject(v)) walk(v, `${prefix}${k}.`);
      else out[`${prefix}${k}`] = v;
    }
  };
  walk(nested, '');
  return out;
}

function globRe(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
}

// ------------------------------------------------------------ scripts of _update_by_query

type Statement = { op: 'set'; field: string; value: unknown } | { op: 'remove'; field: string };

const FIELD = String.raw`(?:\.([A-Za-z_@][\w@-]*(?:\.[A-Za-z_@][\w@-]*)*)|\[\s*(?:'([^']+)'|"([^"]+)")\s*\])`;
const SET_RE = new RegExp(String.raw`^ctx\._source${FIELD}\s*=\s*([\s\S]+)$`);
const REMOVE_RE = /^ctx\._source\.remove\(\s*(?:'([^']+)'|"([^"]+)")\s*\)$/;

/**
 * The subset of Painless Logmill runs: `ctx._source.f = v` (v a literal or
 * `params.x`) and `ctx._source.remove('f')`, separated by `;`. Anything else
 * is refused, naming the statement, rather than half run.
 */
export function parseScript(script: unknown): Statement[] {
  let source: string;
  let params: Obj = {};
  if (typeof script === 'string') source = script;
  else if (isObject(script)) {
    if (script.id !== undefined) throw illegalArgument('stored scripts ([script.id]) are not supported by Logmill; give the script inline in [script.source]');
    if (script.lang !== undefined && script.lang !== 'painless') throw illegalArgument(`script_lang [${String(script.lang)}] is not supported; Logmill runs a subset of painless`);
    if (typeof script.source !== 'string') throw illegalArgument('[script] needs [source], a string');
    source = script.source;
    if (script.params !== undefined) {
      if (!isObject(script.params)) throw illegalArgument('[script.params] must be an object');
      params = script.params;
    }
  } else throw illegalArgument('[script] must be a string or an object with [source]');
  const out: Statement[] = [];
  for (const raw of splitStatements(source)) {
    const stmt = raw.trim();
    if (stmt === '') continue;
    const rm = REMOVE_RE.exec(stmt);
    if (rm) {
      out.push({ op: 'remove', field: rm[1] ?? rm[2] });
      continue;
    }
    const set = SET_RE.exec(stmt);
    if (set) {
      out.push({ op: 'set', field: set[1] ?? set[2] ?? set[3], value: scriptValue(set[4].trim(), params, stmt) });
      continue;
    }
    throw unsupportedScript(stmt);
  }
  if (out.length === 0) throw illegalArgument('[script] has no statement');
  return out;
}

function unsupportedScript(stmt: string): EsError {
  return illegalArgument(
    `unsupported script statement [${stmt.length > 120 ? stmt.slice(0, 120) + '…' : stmt}]: Logmill runs only [ctx._source.<field> = <literal or params.<name>>] and [ctx._source.remove('<field>')], separated by [;]`,
  );
}

/** Splits on `;` outside quotes. */
function splitStatements(source: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < source.length) cur += source[++i];
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quote) throw illegalArgument(`the script has an unterminated string: [${source}]`);
  out.push(cur);
  return out;
}

function scriptValue(text: string, params: Obj, stmt: string): unknown {
  const p = /^params(?:\.([A-Za-z_]\w*)|\[\s*(?:'([^']+)'|"([^"]+)")\s*\])$/.exec(text);
  if (p) {
    const name = p[1] ?? p[2] ?? p[3];
    if (!(name in params)) throw illegalArgument(`the script reads [params.${name}], which [script.params] does not give`);
    return params[name];
  }
  if (/^'(?:[^'\\]|\\.)*'$/.test(text)) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  } catch {
    // not a literal
  }
  throw unsupportedScript(stmt);
}

/** Removes key `field` of `doc`, or else the nested path it spells; whether anything was there. */
function removePath(doc: Obj, field: string): boolean {
  if (Object.prototype.hasOwnProperty.call(doc, field)) {
    delete doc[field];
    return true;
  }
  const parts = field.split('.');
  let level: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (typeof level !== 'object' || level === null || Array.isArray(level)) return false;
    level = (level as Obj)[parts[i]];
  }
  if (typeof level !== 'object' || level === null || !Object.prototype.hasOwnProperty.call(level, parts[parts.length - 1])) return false;
  delete (level as Obj)[parts[parts.length - 1]];
  return true;
}

/** `f = v` as a nested partial document for mergeDoc. */
function nestValue(field: string, value: unknown): Obj {
  const parts = field.split('.');
  const root: Obj = {};
  let level = root;
  for (let i = 0; i < parts.length - 1; i++) level = level[parts[i]] = {};
  level[parts[parts.length - 1]] = value;
  return root;
}

function applyScript(event: LogEvent, statements: Statement[], index: string, id: string): LogEvent {
  let current = event;
  for (const s of statements) {
    if (s.op === 'remove') {
      const source = sourceOfEvent(current);
      if (source !== undefined) {
        // A document kept as sent loses the key itself (painless removes a key of the map: `a.b` is one key, else a path).
        if (!removePath(source, s.field)) continue;
        const built = documentToEvent(source, index, id, current.ts);
        if ('error' in built) throw new EsError(built.error.status, built.error.cause.type, built.error.cause.reason);
        current = built.event;
        continue;
      }
      const fields = { ...current.fields };
      for (const name of Object.keys(fields)) if (name === s.field || name.startsWith(`${s.field}.`)) delete fields[name];
      current = { ...current, fields };
      continue;
    }
    if (s.field === '@timestamp') throw illegalArgument('[ctx._source.@timestamp] cannot be set by _update_by_query in Logmill');
    const merged = mergeDoc(current, nestValue(s.field, s.value), index, id);
    if ('error' in merged) throw new EsError(merged.error.status, merged.error.cause.type, merged.error.cause.reason);
    current = merged.event;
  }
  return current;
}

// ------------------------------------------------------------ tasks

interface TaskEntry {
  node: string;
  id: number;
  action: string;
  description: string;
  started: number;
  status: ByQueryStatus;
  response: Obj | null;
  error: Obj | null;
}

interface ByQueryStatus {
  total: number;
  updated: number;
  created: number;
  deleted: number;
  batches: number;
  version_conflicts: number;
  noops: number;
}

/** Finished tasks kept for `GET _tasks/<id>`: the oldest finished are forgotten beyond this. */
const MAX_TASKS = 1000;
/** Documents read, changed and written per batch. */
const BATCH = 1000;

// ------------------------------------------------------------ routes

export function registerEsIndexRoutes(app: FastifyInstance, ctx: EsContext, meta: EsMeta): void {
  // A closed index named in the path refuses the request (wildcards skip it: see closedIndices).
  app.addHook('preHandler', async (req) => {
    const route = `${req.method} ${req.routeOptions.url ?? ''}`;
    if (!DOCUMENT_ROUTES.has(route)) return;
    const index = (req.params as Params).index;
    if (index === undefined) return;
    let expr = index;
    try {
      expr = decodeURIComponent(index);
    } catch {
      // left as sent
    }
    const closed = closedNamed(meta, expr);
    if (closed.length > 0) throw closedIndexError(meta, closed[0]);
  });

  // ---------------------------------------------------------------- _settings

  const getSettings = async (req: FastifyRequest): Promise<unknown> => {
    const p = req.params as Params;
    const q = req.query as Query;
    const flag = (n: string): boolean => q[n] !== undefined && q[n] !== 'false';
    const indices = await resolveIndices(ctx, meta, p.index, { ignoreMissing: flag('ignore_unavailable') || p.index === undefined });
    const names = p.name === undefined ? null : p.name.split(',').map((n) => globRe(n.trim()));
    const keep = (flat: Obj): Obj => {
      if (!names) return flat;
      return Object.fromEntries(Object.entries(flat).filter(([k]) => names.some((re) => re.test(k) || re.test(k.replace(/^index\./, '')))));
    };
    const shape = (flat: Obj): Obj => (flag('flat_settings') ? flat : nestSettings(new Map(Object.entries(flat))));
    const out: Obj = {};
    for (const i of indices) {
      const flat = keep(flatAnswer(settingsOf(meta, i)));
      const entry: Obj = { settings: shape(flat) };
      if (flag('include_defaults')) {
        const defaults: Obj = {};
        for (const [name, def] of Object.entries(SETTINGS)) if (def.def !== undefined && !(name in flatAnswer(settingsOf(meta, i)))) defaults[name] = def.def;
        entry.defaults = shape(keep(defaults));
      }
      // `GET idx/_settings/name` leaves out indices without a matching setting, as Elasticsearch does.
      if (names && Object.keys(flat).length === 0 && !entry.defaults) continue;
      out[i.name] = entry;
    }
    return out;
  };
  app.get('/_settings', getSettings);
  app.get('/_settings/:name', getSettings);
  app.get('/:index/_settings', getSettings);
  app.get('/:index/_settings/:name', getSettings);

  const putSettings = async (req: FastifyRequest): Promise<unknown> => {
    const expr = (req.params as Params).index;
    let body = jsonBody(req, true);
    if (isObject(body.settings) && Object.keys(body).length === 1) body = body.settings;
    const q = req.query as Query;
    const preserve = q.preserve_existing !== undefined && q.preserve_existing !== 'false';
    const changes = new Map<string, string | string[] | null>();
    for (const [name, value] of flattenSettings(body)) changes.set(name, checkSetting(name, value));
    if (changes.size === 0) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no settings to update;');
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: expr === undefined || hasWildcards(expr) });
    const statics = [...changes.keys()].filter((n) => !(settingDef(n)?.dynamic ?? true));
    const open = indices.filter((i) => !i.meta?.closed);
    if (statics.length > 0 && open.length > 0) {
      throw illegalArgument(`Can't update non dynamic settings [[${statics.join(', ')}]] for open indices [${open.map((i) => `[${i.name}/${indexUuid(meta, i.name)}]`).join(', ')}]`);
    }
    if (changes.has('index.number_of_shards')) throw illegalArgument(`final index setting [index.number_of_shards], not updateable`);
    for (const i of indices) {
      const m = meta.indices.get(i.name) ?? meta.createIndex(i.name, {});
      const flat = storedSettings(meta, i.name);
      for (const [name, value] of changes) {
        if (preserve && flat.has(name)) continue;
        if (value === null) flat.delete(name);
        else flat.set(name, value);
      }
      m.settings = nestSettings(flat);
    }
    meta.persist('indices');
    return { acknowledged: true };
  };
  app.put('/_settings', putSettings);
  app.put('/:index/_settings', putSettings);

  // ---------------------------------------------------------------- _open, _close

  const setClosed = async (req: FastifyRequest, closed: boolean): Promise<KnownIndex[]> => {
    const expr = (req.params as Params).index;
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: hasWildcards(expr) });
    for (const i of indices) {
      if (closed && meta.indices.get(i.name)?.dataStream) {
        throw illegalArgument(`cannot close index [${i.name}] because it is the write index of data stream [${i.name}]; Logmill keeps data streams open`);
      }
    }
    for (const i of indices) {
      const m = meta.indices.get(i.name) ?? meta.createIndex(i.name, {});
      if (closed) m.closed = true;
      else delete m.closed;
    }
    meta.persist('indices');
    return indices;
  };
  app.post('/:index/_close', async (req) => {
    const indices = await setClosed(req, true);
    return { acknowledged: true, shards_acknowledged: true, indices: Object.fromEntries(indices.map((i) => [i.name, { closed: true }])) };
  });
  app.post('/:index/_open', async (req) => {
    await setClosed(req, false);
    return { acknowledged: true, shards_acknowledged: true };
  });

  // ---------------------------------------------------------------- _stats

  const indexStats = async (req: FastifyRequest): Promise<unknown> => {
    const expr = (req.params as Params).index;
    // Closed indices have no statistics in Elasticsearch (expand_wildcards=open).
    const indices = (await resolveIndices(ctx, meta, expr, { ignoreMissing: expr === undefined || hasWildcards(expr) })).filter((i) => !i.meta?.closed);
    const stats = await ctx.store.stats();
    const all = (await ctx.store.indices()).reduce((n, i) => n + i.count, 0);
    // The store keeps no bytes per index: each index is given its share of the store by document count.
    const part = (count: number): Obj => {
      const bytes = all > 0 ? Math.round((stats.bytesOnDisk * count) / all) : 0;
      return { docs: { count, deleted: 0 }, store: { size_in_bytes: bytes, total_data_set_size_in_bytes: bytes, reserved_in_bytes: 0 } };
    };
    const total = indices.reduce((n, i) => n + i.count, 0);
    return {
      // One primary per index and no replicas: total = successful = the number of indices.
      _shards: { total: indices.length, successful: indices.length, failed: 0 },
      _all: { primaries: part(total), total: part(total) },
      indices: Object.fromEntries(indices.map((i) => [i.name, { uuid: indexUuid(meta, i.name), health: 'green', status: 'open', primaries: part(i.count), total: part(i.count) }])),
    };
  };
  app.get('/_stats', indexStats);
  app.get('/:index/_stats', indexStats);

  // ---------------------------------------------------------------- _cat, _cat/aliases

  app.get('/_cat', async (_req, reply) => {
    reply.type('text/plain; charset=UTF-8');
    const endpoints = ['/_cat/aliases', '/_cat/aliases/{alias}', '/_cat/count', '/_cat/count/{index}', '/_cat/health', '/_cat/indices', '/_cat/indices/{index}', '/_cat/nodes', '/_cat/templates'];
    return `=^.^=\n${endpoints.join('\n')}\n`;
  });

  const catAliases = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const aliasExpr = (req.params as Params).alias;
    const res = aliasExpr === undefined ? null : aliasExpr.split(',').map((a) => globRe(a.trim()));
    const rows: CatRow[] = [];
    for (const [index, m] of [...meta.indices].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [alias, def] of Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b))) {
        if (res && !res.some((re) => re.test(alias))) continue;
        const routing = (k: string): string => (typeof def[k] === 'string' ? (def[k] as string) : typeof def.routing === 'string' ? def.routing : '-');
        rows.push({
          alias,
          index,
          filter: def.filter !== undefined ? '*' : '-',
          'routing.index': routing('index_routing'),
          'routing.search': routing('search_routing'),
          is_write_index: typeof def.is_write_index === 'boolean' ? String(def.is_write_index) : '-',
        });
      }
    }
    const columns: CatColumn[] = [
      { name: 'alias', aliases: ['a'], desc: 'alias name' },
      { name: 'index', aliases: ['i', 'idx'], desc: 'index alias points to' },
      { name: 'filter', aliases: ['f', 'fi'], desc: 'filter' },
      { name: 'routing.index', aliases: ['ri', 'routingIndex'], desc: 'index routing' },
      { name: 'routing.search', aliases: ['rs', 'routingSearch'], desc: 'search routing' },
      { name: 'is_write_index', aliases: ['w', 'isWriteIndex'], desc: 'write index' },
    ];
    return catAnswer(req, reply, columns, rows);
  };
  app.get('/_cat/aliases', catAliases);
  app.get('/_cat/aliases/:alias', catAliases);

  // ---------------------------------------------------------------- _update_by_query, _delete_by_query, _tasks

  const tasks = new Map<string, TaskEntry>();
  let nextTask = 1;
  const node = meta.identity.node_id;

  const taskAnswer = (t: TaskEntry): Obj => {
    const task = {
      node: t.node,
      id: t.id,
      type: 'transport',
      action: t.action,
      status: t.status,
      description: t.description,
      start_time_in_millis: t.started,
      running_time_in_nanos: (Date.now() - t.started) * 1e6,
      cancellable: true,
      cancelled: false,
      headers: {},
    };
    const out: Obj = { completed: t.response !== null || t.error !== null, task };
    if (t.response) out.response = t.response;
    if (t.error) out.error = t.error;
    return out;
  };

  const byQuery = (kind: 'update' | 'delete') => async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const started = Date.now();
    const expr = decodeURIComponent((req.params as Params).index);
    const q = req.query as Query;
    const body = jsonBody(req, kind === 'delete');
    for (const key of Object.keys(body)) {
      if (!['query', 'script', 'max_docs', 'conflicts', 'size', 'slice'].includes(key) || (key === 'script' && kind === 'delete') || key === 'slice') {
        throw new EsError(400, 'parsing_exception', `[1:2] [${kind === 'update' ? 'UpdateByQueryRequest' : 'DeleteByQueryRequest'}] unknown field [${key}]`);
      }
    }
    if (kind === 'delete' && body.query === undefined) throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: query is missing;');
    const conflicts = q.conflicts ?? (typeof body.conflicts === 'string' ? body.conflicts : 'abort');
    if (conflicts !== 'abort' && conflicts !== 'proceed') throw illegalArgument(`conflicts may only be "proceed" or "abort" but was [${conflicts}]`);
    const maxRaw = q.max_docs ?? body.max_docs ?? body.size;
    let maxDocs = Infinity;
    if (maxRaw !== undefined) {
      maxDocs = Number(maxRaw);
      if (!Number.isInteger(maxDocs) || maxDocs <= 0) throw new EsError(400, 'action_request_validation_exception', `Validation Failed: 1: maxDocs should be greater than 0 if provided, was [${String(maxRaw)}];`);
    }
    const scrollSize = q.scroll_size === undefined ? BATCH : Math.min(BATCH, Math.max(1, Number(q.scroll_size) || BATCH));
    const statements = kind === 'update' && body.script !== undefined ? parseScript(body.script) : [];

    // Wildcards skip closed indices; concrete closed names were refused by the hook.
    const indices = (await resolveIndices(ctx, meta, expr, { ignoreMissing: hasWildcards(expr) })).filter((i) => !i.meta?.closed);
    const nowMs = Date.now();
    const list = await ctx.store.fields({ fromMicros: 0, toMicros: Date.UTC(10000, 0, 1) * 1000 });
    const types = new Map<string, FieldType>(list.map((f) => [f.name, f.type]));
    types.set('@timestamp', 'timestamp');
    const options = {
      nowMs,
      resolveField: (name: string): string => (types.has(name) ? name : name.endsWith('.keyword') && types.has(name.slice(0, -8)) ? name.slice(0, -8) : name),
      fieldType: (name: string): FieldType | undefined => types.get(name),
    };
    const query = q.q !== undefined ? translateQueryString(q.q, { ...options, defaultField: q.df }) : translateQuery(body.query, options);
    const indexFilter: FilterNode = indices.length === 0 ? orOf([]) : orOf(indices.map((i) => term('_index', i.name)));
    const { range, filter } = splitTimeRange(andOf([indexFilter, query]), nowMs);

    const status: ByQueryStatus = { total: 0, updated: 0, created: 0, deleted: 0, batches: 0, version_conflicts: 0, noops: 0 };
    const run = async (): Promise<Obj> => {
      let after: unknown[] | undefined;
      while (indices.length > 0 && status.total < maxDocs) {
        const limit = Math.min(scrollSize, maxDocs - status.total);
        // By _id: a changed document keeps its id, so it is behind the cursor and not seen twice.
        const page = await ctx.store.find({ filter, range, sort: [{ field: '_id', desc: false }], limit, searchAfter: after, nowMs });
        if (page.hits.length === 0) break;
        status.batches++;
        status.total += page.hits.length;
        after = page.hits[page.hits.length - 1]._sort;
        const byIndex = new Map<string, string[]>();
        const writes: LogEvent[] = [];
        for (const hit of page.hits) {
          const index = typeof hit._index === 'string' ? hit._index : '';
          if (kind === 'update') {
            const event = hitToEvent(hit);
            const changed = applyScript(event, statements, index, hit._id);
            if (statements.length > 0 && sameEvent(event, changed)) {
              status.noops++;
              continue;
            }
            writes.push({ ...changed, id: hit._id, index, ts: event.ts });
          }
          let ids = byIndex.get(index);
          if (!ids) byIndex.set(index, (ids = []));
          ids.push(hit._id);
        }
        for (const [index, ids] of byIndex) {
          const idFilter = orOf(ids.map((id) => term('_id', id)));
          await ctx.store.deleteWhere(andOf([term('_index', index), idFilter]));
          forgetIndexFields(ctx.store, [index]);
        }
        if (writes.length > 0) await ctx.store.write(writes);
        if (kind === 'update') status.updated += writes.length;
        else status.deleted += page.hits.length;
        if (page.hits.length < limit) break;
      }
      const out: Obj = {
        took: Date.now() - started,
        timed_out: false,
        total: status.total,
        ...(kind === 'update' ? { updated: status.updated } : { deleted: status.deleted }),
        batches: status.batches,
        version_conflicts: status.version_conflicts,
        noops: status.noops,
        retries: { bulk: 0, search: 0 },
        throttled_millis: 0,
        requests_per_second: -1.0,
        throttled_until_millis: 0,
        failures: [],
      };
      return out;
    };

    if (q.wait_for_completion !== 'false') return run();
    const id = nextTask++;
    const entry: TaskEntry = {
      node,
      id,
      action: `indices:data/write/${kind}/byquery`,
      description: `${kind}-by-query [${expr}]`,
      started,
      status,
      response: null,
      error: null,
    };
    tasks.set(`${node}:${id}`, entry);
    // Forget the oldest finished tasks beyond the limit (running ones are kept: each is bounded work).
    if (tasks.size > MAX_TASKS) {
      for (const [k, t] of tasks) {
        if (tasks.size <= MAX_TASKS) break;
        if (t.response !== null || t.error !== null) tasks.delete(k);
      }
    }
    run().then(
      (r) => void (entry.response = r),
      (err: unknown) => {
        entry.error = err instanceof EsError ? err.asCause() : { type: 'exception', reason: err instanceof Error ? err.message : String(err) };
      },
    );
    return reply.send({ task: `${node}:${id}` });
  };
  app.post('/:index/_update_by_query', byQuery('update'));
  app.post('/:index/_delete_by_query', byQuery('delete'));

  app.get('/_tasks/:id', async (req) => {
    const id = decodeURIComponent((req.params as Params).id);
    const t = tasks.get(id);
    if (!t) {
      if (!/^[^:]+:\d+$/.test(id)) throw illegalArgument(`malformed task id ${id}`);
      throw resourceNotFound(`task [${id}] isn't running and hasn't stored its results`);
    }
    return taskAnswer(t);
  });
  app.get('/_tasks', async () => {
    const running: Obj = {};
    for (const [k, t] of tasks) if (t.response === null && t.error === null) running[k] = taskAnswer(t).task;
    return { nodes: { [node]: { name: 'logmill', tasks: running } } };
  });
}

function term(field: string, value: string): FilterNode {
  return { kind: 'term', field, value, span: SPAN };
}
