/**
 * The administrative half of the Elasticsearch-compatible API: the handshake
 * clients and shippers make before they send anything (`GET /`, cluster
 * health, license, xpack, nodes), the set-up calls they make (templates, ILM
 * policies, ingest pipelines — accepted, stored and returned, not applied),
 * and index management over the store (exists, create, delete, mappings,
 * field capabilities, _cat).
 *
 * What Elasticsearch keeps in its cluster state — created indices, templates,
 * policies, pipelines, aliases — is kept here as JSON files under
 * `${data}/es/`, so that it survives restarts.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldInfo } from '../../store/store.js';
import type { FilterNode } from '../../query/ast.js';
import type { EsContext } from './context.js';
import { UNINDEXED } from './search.js';
import { fieldsByIndex, forgetIndexFields } from './mappings.js';
import { BUILTIN_LOGS_TEMPLATE, matchingIndexTemplate, mergeMappings, normaliseComponentTemplate, normaliseIndexTemplate, normaliseLegacyTemplate, templateMappings } from './templates.js';
import {
  EsError,
  illegalArgument,
  indexNotFound,
  invalidIndexName,
  noHandler,
  parsingException,
  resourceAlreadyExists,
  resourceNotFound,
} from './errors.js';

export const ES_VERSION = {
  number: '8.17.0',
  build_flavor: 'default',
  build_type: 'tar',
  build_hash: '2b6a7fed44faa321997703718f07ee0420804b41',
  build_date: '2024-12-11T12:08:05.663969764Z',
  build_snapshot: false,
  lucene_version: '9.12.0',
  minimum_wire_compatibility_version: '7.17.0',
  minimum_index_compatibility_version: '7.0.0',
} as const;

/** `index.version.created` for 8.17.0 */
const INDEX_VERSION_CREATED = '8521000';

// ------------------------------------------------------------ index names

/** Why a name cannot be an index name (Elasticsearch's rules), or null if it can. */
export function indexNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (name === '.' || name === '..') return 'must not be \'.\' or \'..\'';
  if (/^[_\-+]/.test(name)) return "must not start with '_', '-', or '+'";
  const bad = /[\\/*?"<>| ,#:]/.exec(name);
  if (bad) return `must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]`;
  if (Buffer.byteLength(name) > 255) return 'index name is too long, (' + Buffer.byteLength(name) + ' > 255)';
  return null;
}

/** Throws invalid_index_name_exception unless `name` is a valid index name. */
export function checkIndexName(name: string): void {
  const problem = indexNameProblem(name);
  if (problem) throw invalidIndexName(name, problem);
}

/**
 * Resolves Elasticsearch date math in an index name: `<logstash-{now/d}>` →
 * `logstash-2026.11.21`, `<logs-{now/M{yyyy.MM}}>` → `logs-2026.11`. Other names
 * are returned as they are.
 */
export function resolveDateMath(name: string, nowMs = Date.now()): string {
  if (!(name.startsWith('<') && name.endsWith('>'))) return name;
  const inner = name.slice(1, -1);
  return inner.replace(/\{now([^{}]*)(?:\{([^{}|]*)(?:\|([^{}]*))?\})?\}/g, (_m, math: string, format: string | undefined) => {
    let ms = nowMs;
    let rest = math;
    while (rest.length > 0) {
      const m = /^([+-])(\d+)([yMwdhHms])|^\/([yMwdhHms])/.exec(rest);
      if (!m) break;
      const d = new Date(ms);
      if (m[1]) {
        const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
        const unit = m[3];
        if (unit === 'y') d.setUTCFullYear(d.getUTCFullYear() + n);
        else if (unit === 'M') d.setUTCMonth(d.getUTCMonth() + n);
        else d.setTime(ms + n * ({ w: 604_800_000, d: 86_400_000, h: 3_600_000, H: 3_600_000, m: 60_000, s: 1000 } as Record<string, number>)[unit]);
      } else {
        const unit = m[4];
        const parts = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
        const keep = ({ y: 1, M: 2, w: 3, d: 3, h: 4, H: 4, m: 5, s: 6 } as Record<string, number>)[unit];
        let t = Date.UTC(parts[0], keep > 1 ? parts[1] : 0, keep > 2 ? parts[2] : 1, keep > 3 ? parts[3] : 0, keep > 4 ? parts[4] : 0, keep > 5 ? parts[5] : 0);
        if (unit === 'w') t -= ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000;
        d.setTime(t);
      }
      ms = d.getTime();
      rest = rest.slice(m[0].length);
    }
    return formatDate(new Date(ms), format && format.trim() !== '' ? format : 'yyyy.MM.dd');
  });
}

function formatDate(d: Date, format: string): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return format.replace(/yyyy|YYYY|uuuu|yy|MM|dd|HH|mm|ss/g, (t) => {
    switch (t) {
      case 'yyyy':
      case 'YYYY':
      case 'uuuu':
        return String(d.getUTCFullYear());
      case 'yy':
        return pad(d.getUTCFullYear() % 100);
      case 'MM':
        return pad(d.getUTCMonth() + 1);
      case 'dd':
        return pad(d.getUTCDate());
      case 'HH':
        return pad(d.getUTCHours());
      case 'mm':
        return pad(d.getUTCMinutes());
      default:
        return pad(d.getUTCSeconds());
    }
  });
}

/** One part of an index expression: a name or a wildcard pattern, possibly an exclusion (`-name`). */
interface PatternPart {
  exclude: boolean;
  re: RegExp | null;
  name: string;
}

function patternParts(expr: string): PatternPart[] {
  const parts: PatternPart[] = [];
  for (const raw of decodeIndexExpr(expr).split(',')) {
    let p = raw.trim();
    if (p === '') continue;
    let exclude = false;
    if (p.startsWith('-') && parts.length > 0) {
      exclude = true;
      p = p.slice(1);
    }
    p = resolveDateMath(p);
    if (p === '_all') p = '*';
    const re = p.includes('*') ? new RegExp('^' + p.split('*').map(escapeRe).join('.*') + '$') : null;
    parts.push({ exclude, re, name: p });
  }
  return parts;
}

export function decodeIndexExpr(expr: string): string {
  try {
    return decodeURIComponent(expr);
  } catch {
    return expr;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether an index expression names everything (`_all`, `*`, empty). */
export function isAllIndices(expr: string | undefined): boolean {
  if (expr === undefined) return true;
  const parts = patternParts(expr);
  return parts.length === 0 || (parts.length === 1 && parts[0].name === '*');
}

/** Whether an index expression has wildcards (then names matching nothing are not an error). */
export function hasWildcards(expr: string): boolean {
  return patternParts(expr).some((p) => p.re !== null);
}

/** The names among `names` an index expression selects, in the order of `names`. */
export function matchIndices(expr: string, names: Iterable<string>): string[] {
  const parts = patternParts(expr);
  const out: string[] = [];
  for (const name of names) {
    let selected = parts.length === 0;
    for (const p of parts) {
      const hit = p.re ? p.re.test(name) : p.name === name;
      if (hit) selected = !p.exclude;
    }
    if (selected) out.push(name);
  }
  return out;
}

const SPAN = { start: 0, end: 0 };

/** The filter selecting exactly these concrete index names. */
export function namesFilter(names: string[]): FilterNode {
  if (names.length === 1) return { kind: 'term', field: '_index', value: names[0], span: SPAN };
  return { kind: 'or', children: names.map((n) => ({ kind: 'term', field: '_index', value: n, span: SPAN })) };
}

// ------------------------------------------------------------ metadata

export interface IndexMeta {
  /** Creation time, epoch milliseconds. */
  created: number;
  uuid: string;
  settings: Record<string, unknown>;
  mappings: Record<string, unknown>;
  aliases: Record<string, Record<string, unknown>>;
  /** Created as a data stream. */
  dataStream?: boolean;
  /** Closed with `POST idx/_close` (indices.ts): reads and writes refuse it until `_open`. */
  closed?: boolean;
}

interface PolicyEntry {
  version: number;
  modified: number;
  body: Record<string, unknown>;
}

interface ClusterIdentity {
  cluster_uuid: string;
  node_id: string;
  created: number;
}

type Collection = 'indices' | 'index_templates' | 'component_templates' | 'templates' | 'ilm_policies' | 'pipelines';

/**
 * Elasticsearch's cluster-state objects, kept in JSON files under `dir`
 * (one file per kind, replaced atomically on every change).
 */
export class EsMeta {
  readonly identity: ClusterIdentity;
  readonly indices: Map<string, IndexMeta>;
  readonly indexTemplates: Map<string, Record<string, unknown>>;
  readonly componentTemplates: Map<string, Record<string, unknown>>;
  readonly legacyTemplates: Map<string, Record<string, unknown>>;
  readonly ilmPolicies: Map<string, PolicyEntry>;
  readonly pipelines: Map<string, Record<string, unknown>>;

  private constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const id = this.load<ClusterIdentity | null>('cluster', null);
    this.identity = id ?? { cluster_uuid: randomBytes(16).toString('base64url').slice(0, 22), node_id: randomBytes(16).toString('base64url').slice(0, 22), created: Date.now() };
    if (!id) this.save('cluster', this.identity);
    this.indices = new Map(Object.entries(this.load<Record<string, IndexMeta>>('indices', {})));
    this.indexTemplates = new Map(Object.entries(this.load<Record<string, Record<string, unknown>>>('index_templates', {})));
    this.componentTemplates = new Map(Object.entries(this.load<Record<string, Record<string, unknown>>>('component_templates', {})));
    this.legacyTemplates = new Map(Object.entries(this.load<Record<string, Record<string, unknown>>>('templates', {})));
    // Elasticsearch installs this itself; deleted, it comes back at the next start, as there.
    if (!this.indexTemplates.has('logs')) this.indexTemplates.set('logs', BUILTIN_LOGS_TEMPLATE);
    this.ilmPolicies = new Map(Object.entries(this.load<Record<string, PolicyEntry>>('ilm_policies', {})));
    this.pipelines = new Map(Object.entries(this.load<Record<string, Record<string, unknown>>>('pipelines', {})));
  }

  static open(dir: string): EsMeta {
    return new EsMeta(dir);
  }

  private file(name: string): string {
    return path.join(this.dir, `${name}.json`);
  }

  private load<T>(name: string, fallback: T): T {
    let text: string;
    try {
      text = fs.readFileSync(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${this.file(name)} is not valid JSON (${(err as Error).message}); fix or remove it`);
    }
  }

  private save(name: string, value: unknown): void {
    const file = this.file(name);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, JSON.stringify(value, null, 1));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }

  persist(which: Collection): void {
    const map: Record<Collection, Map<string, unknown>> = {
      indices: this.indices,
      index_templates: this.indexTemplates,
      component_templates: this.componentTemplates,
      templates: this.legacyTemplates,
      ilm_policies: this.ilmPolicies,
      pipelines: this.pipelines,
    };
    this.save(which, Object.fromEntries(map[which]));
  }

  /** Creates an index's metadata (explicitly created, or a data stream). */
  createIndex(name: string, body: Record<string, unknown>, dataStream = false): IndexMeta {
    const meta: IndexMeta = {
      created: Date.now(),
      uuid: randomUUID().replace(/-/g, '').slice(0, 22),
      settings: isObject(body.settings) ? body.settings : {},
      // Templates apply once, when the index is made (as in Elasticsearch); the body's mappings win.
      mappings: mergeMappings(templateMappings(this, name), isObject(body.mappings) ? body.mappings : {}),
      aliases: isObject(body.aliases) ? (body.aliases as Record<string, Record<string, unknown>>) : {},
    };
    if (dataStream) meta.dataStream = true;
    this.indices.set(name, meta);
    this.persist('indices');
    return meta;
  }

  /** The index a write to `name` lands in: the write index of an alias, else `name` itself. */
  writeTarget(name: string): string {
    if (this.indices.has(name)) return name;
    let single: string | null = null;
    let count = 0;
    for (const [index, meta] of this.indices) {
      const alias = meta.aliases[name];
      if (!alias) continue;
      if (alias.is_write_index === true) return index;
      single = index;
      count++;
    }
    return count === 1 && single !== null ? single : name;
  }

  /**
   * Rewrites an index expression for searching: date math resolved, and each
   * part naming an alias replaced by the alias's indices (`-alias` excludes them).
   */
  expandAliases(expr: string): string {
    const out: string[] = [];
    for (const raw of decodeIndexExpr(expr).split(',')) {
      const part = raw.trim();
      if (part === '') continue;
      const exclude = part.startsWith('-') && out.length > 0;
      const name = resolveDateMath(exclude ? part.slice(1) : part);
      const targets: string[] = [];
      if (!name.includes('*') && !this.indices.has(name)) {
        for (const [index, meta] of this.indices) if (meta.aliases[name]) targets.push(index);
      }
      for (const t of targets.length > 0 ? targets : [name]) out.push(exclude ? `-${t}` : t);
    }
    return out.join(',');
  }

  /** Whether a data stream template (index template with `data_stream`) or a built-in pattern matches the name. */
  isDataStreamName(name: string): boolean {
    const meta = this.indices.get(name);
    if (meta) return meta.dataStream === true;
    for (const t of this.indexTemplates.values()) {
      if (!isObject(t.data_stream)) continue;
      const patterns = Array.isArray(t.index_patterns) ? t.index_patterns : typeof t.index_patterns === 'string' ? [t.index_patterns] : [];
      if (patterns.some((p) => typeof p === 'string' && matchIndices(p, [name]).length === 1)) return true;
    }
    return /^(logs|metrics|traces|synthetics|profiling)-[^-]+-.+$/.test(name);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A stable uuid-like id for an index that exists only through its events. */
export function indexUuid(meta: EsMeta, name: string): string {
  return meta.indices.get(name)?.uuid ?? createHash('sha1').update(name).digest('base64url').slice(0, 22);
}

// ------------------------------------------------------------ the known indices

export interface KnownIndex {
  name: string;
  count: number;
  meta: IndexMeta | undefined;
}

/**
 * Every index: those with events in the store and those created (maybe still
 * empty), sorted by name. Events stored without an index (through Logmill's
 * own API) appear as the index `logmill`, as searches show them.
 */
export async function knownIndices(ctx: EsContext, meta: EsMeta): Promise<KnownIndex[]> {
  const counts = new Map<string, number>();
  let indexed = 0;
  for (const { index, count } of await ctx.store.indices()) {
    counts.set(index, count);
    indexed += count;
  }
  const total = (await ctx.store.group({ filter: { kind: 'all' }, keys: [], metrics: [{ fn: 'count' }] }))[0]?.metrics[0] ?? 0;
  if (total > indexed) counts.set(UNINDEXED, (counts.get(UNINDEXED) ?? 0) + (total - indexed));
  const names = new Set<string>([...counts.keys(), ...meta.indices.keys()]);
  return [...names].sort().map((name) => ({ name, count: counts.get(name) ?? 0, meta: meta.indices.get(name) }));
}

/**
 * The indices an expression names. A concrete name that does not exist is
 * index_not_found_exception unless `ignoreMissing`; aliases resolve to their indices.
 */
export async function resolveIndices(ctx: EsContext, meta: EsMeta, expr: string | undefined, opts: { ignoreMissing?: boolean } = {}): Promise<KnownIndex[]> {
  const all = await knownIndices(ctx, meta);
  if (expr === undefined || isAllIndices(expr)) return all;
  const byName = new Map(all.map((i) => [i.name, i]));
  // Aliases: a name that is an alias of known indices stands for them.
  const aliasOf = new Map<string, string[]>();
  for (const [name, m] of meta.indices) for (const alias of Object.keys(m.aliases)) aliasOf.set(alias, [...(aliasOf.get(alias) ?? []), name]);
  const selected = new Set<string>(matchIndices(expr, byName.keys()));
  for (const alias of matchIndices(expr, aliasOf.keys())) for (const n of aliasOf.get(alias) ?? []) selected.add(n);
  if (!opts.ignoreMissing) {
    for (const p of patternParts(expr)) {
      if (!p.exclude && p.re === null && !byName.has(p.name) && !aliasOf.has(p.name)) throw indexNotFound(p.name);
    }
  }
  return all.filter((i) => selected.has(i.name));
}

// ------------------------------------------------------------ mappings

const ES_TYPE: Record<FieldInfo['type'], string> = {
  string: 'keyword',
  integer: 'long',
  float: 'double',
  boolean: 'boolean',
  timestamp: 'date',
};

const METADATA_FIELDS = new Set(['_id', '_index', '_source', '_routing', '_seq_no', '_version', '_primary_term', '_ignored', '_tier', '_doc_count', '_field_names', '_data_stream_timestamp', '_feature']);

export function esFieldType(f: { name: string; type: FieldInfo['type'] }): string {
  if (f.name === 'message') return 'text';
  return ES_TYPE[f.type];
}

/** The store's fields (every index's), without metadata fields, plus `@timestamp`. */
async function storeFields(ctx: EsContext): Promise<FieldInfo[]> {
  const fields = await ctx.store.fields({ fromMicros: 0, toMicros: Number.MAX_SAFE_INTEGER });
  const out = fields.filter((f) => !METADATA_FIELDS.has(f.name));
  if (!out.some((f) => f.name === '@timestamp')) out.unshift({ name: '@timestamp', type: 'timestamp', conflicts: [], storage: 'column' });
  return out;
}

/** Flat field names → Elasticsearch's nested `properties`; explicit mappings (from PUT) win. */
export function toProperties(fields: { name: string; type: string }[], explicit?: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const f of fields) {
    const parts = f.name.split('.').filter((p) => p !== '');
    if (parts.length === 0) continue;
    let level = root;
    for (let i = 0; i < parts.length - 1; i++) {
      let node = level[parts[i]] as Record<string, unknown> | undefined;
      if (!node) level[parts[i]] = node = {};
      if (!isObject(node.properties)) node.properties = {};
      level = node.properties as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1];
    const existing = (level[leaf] as Record<string, unknown> | undefined) ?? {};
    level[leaf] = { type: f.type, ...existing };
  }
  if (explicit && isObject(explicit.properties)) mergeProperties(root, explicit.properties);
  return root;
}

function mergeProperties(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    if (!isObject(v)) continue;
    const cur = into[k];
    if (isObject(cur) && isObject(v.properties) && isObject(cur.properties)) {
      const { properties, ...rest } = v;
      Object.assign(cur, rest);
      mergeProperties(cur.properties as Record<string, unknown>, properties);
    } else {
      into[k] = v;
    }
  }
}

/**
 * An index's mappings: the fields its documents have (see fieldsByIndex), with the mappings given when
 * the index was created (templates included) on top; an index that exists only through its events
 * shows what the templates matching its name declare.
 */
function mappingsOf(meta: EsMeta, index: KnownIndex, fields: FieldInfo[]): Record<string, unknown> {
  const explicit = index.meta?.mappings ?? nonEmpty(templateMappings(meta, index.name));
  const properties = toProperties(
    fields.map((f) => ({ name: f.name, type: esFieldType(f) })),
    explicit,
  );
  const out: Record<string, unknown> = {};
  if (explicit) for (const [k, v] of Object.entries(explicit)) if (k !== 'properties') out[k] = v;
  if (meta.isDataStreamName(index.name)) out._data_stream_timestamp = { enabled: true };
  out.properties = properties;
  return out;
}

function nonEmpty(m: Record<string, unknown>): Record<string, unknown> | undefined {
  return Object.keys(m).length > 0 ? m : undefined;
}

/** Each index's own fields (plus `@timestamp`, which every document has). */
async function indexFields(ctx: EsContext, indices: KnownIndex[]): Promise<Map<string, FieldInfo[]>> {
  const all = await storeFields(ctx);
  const byIndex = await fieldsByIndex(ctx.store, indices.filter((i) => i.count > 0).map((i) => i.name), all, UNINDEXED);
  const ts = all.find((f) => f.name === '@timestamp');
  for (const i of indices) {
    const list = byIndex.get(i.name) ?? [];
    if (ts && i.count > 0 && !list.includes(ts)) list.unshift(ts);
    byIndex.set(i.name, list);
  }
  return byIndex;
}

export function settingsOf(meta: EsMeta, index: KnownIndex): Record<string, unknown> {
  const created = index.meta?.created ?? meta.identity.created;
  const given = index.meta?.settings ?? {};
  const givenIndex = isObject(given.index) ? given.index : given;
  return {
    index: {
      number_of_shards: '1',
      number_of_replicas: '1',
      ...stringifyLeaves(givenIndex),
      creation_date: String(created),
      uuid: indexUuid(meta, index.name),
      provided_name: index.name,
      version: { created: INDEX_VERSION_CREATED },
    },
  };
}

function stringifyLeaves(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (isObject(v)) out[k] = stringifyLeaves(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else out[k] = v;
  }
  return out;
}

// ------------------------------------------------------------ _cat

export interface CatColumn {
  name: string;
  aliases?: string[];
  numeric?: boolean;
  desc: string;
}

export type CatRow = Record<string, string | number | null>;

export function catAnswer(req: FastifyRequest, reply: FastifyReply, columns: CatColumn[], rows: CatRow[], defaults?: string[]): unknown {
  const q = req.query as Record<string, string | undefined>;
  if (q.help !== undefined && q.help !== 'false') {
    reply.type('text/plain; charset=UTF-8');
    const w = Math.max(...columns.map((c) => c.name.length));
    return columns.map((c) => `${c.name.padEnd(w)} | ${(c.aliases ?? []).join(',').padEnd(10)} | ${c.desc}`).join('\n') + '\n';
  }
  const find = (h: string): CatColumn | undefined => columns.find((c) => c.name === h || (c.aliases ?? []).includes(h));
  let chosen = defaults ? defaults.map((d) => find(d)!).filter(Boolean) : columns;
  if (q.h) {
    chosen = [];
    for (const h of q.h.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (h.includes('*')) {
        const re = new RegExp('^' + h.split('*').map(escapeRe).join('.*') + '$');
        chosen.push(...columns.filter((c) => re.test(c.name)));
      } else {
        const c = find(h);
        if (!c) throw illegalArgument(`header [${h}] is not valid; known: ${columns.map((x) => x.name).join(', ')}`);
        chosen.push(c);
      }
    }
  }
  let sorted = rows;
  if (q.s) {
    const keys = q.s.split(',').map((s) => {
      const [name, dir] = s.trim().split(':');
      const col = find(name);
      if (!col) throw illegalArgument(`Unable to sort by unknown sort key \`${name}\``);
      return { col, desc: dir === 'desc' };
    });
    sorted = [...rows].sort((a, b) => {
      for (const { col, desc } of keys) {
        const x = a[col.name];
        const y = b[col.name];
        let c = 0;
        if (col.numeric) c = Number(x ?? -Infinity) - Number(y ?? -Infinity);
        else c = String(x ?? '').localeCompare(String(y ?? ''));
        if (c !== 0) return desc ? -c : c;
      }
      return 0;
    });
  }
  if (q.format === 'json' || (q.format === undefined && /json/.test(String(req.headers.accept ?? '')) && !/text\/plain/.test(String(req.headers.accept ?? '')))) {
    return sorted.map((r) => Object.fromEntries(chosen.map((c) => [c.name, r[c.name] === null || r[c.name] === undefined ? null : String(r[c.name])])));
  }
  if (q.format !== undefined && q.format !== 'text' && q.format !== 'txt') throw illegalArgument(`format [${q.format}] is not supported; use text or json`);
  const verbose = q.v !== undefined && q.v !== 'false';
  const table: string[][] = [];
  if (verbose) table.push(chosen.map((c) => c.name));
  for (const r of sorted) table.push(chosen.map((c) => (r[c.name] === null || r[c.name] === undefined ? '' : String(r[c.name]))));
  const widths = chosen.map((_, i) => Math.max(0, ...table.map((row) => row[i].length)));
  reply.type('text/plain; charset=UTF-8');
  return table.map((row) => row.map((cell, i) => (chosen[i].numeric && !(verbose && row === table[0]) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' ').trimEnd() + '\n').join('');
}

export function humanBytes(n: number, unit: string | undefined): string | number {
  const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };
  if (unit && units[unit] !== undefined) return Math.floor(n / units[unit]);
  for (const u of ['pb', 'tb', 'gb', 'mb', 'kb']) {
    if (n >= units[u]) return `${(n / units[u]).toFixed(1).replace(/\.0$/, '')}${u}`;
  }
  return `${n}b`;
}

// ------------------------------------------------------------ routes

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;

export function jsonBody(req: FastifyRequest, required: boolean): Record<string, unknown> {
  const raw = req.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  if (text.trim() === '') {
    if (required) throw parsingException('request body is required');
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EsError(400, 'x_content_parse_exception', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw parsingException('request body must be a JSON object');
  return parsed;
}

function flag(q: Query, name: string): boolean {
  const v = q[name];
  return v !== undefined && v !== 'false';
}

/** Reads `name1,name2,pat*` for GET of named objects: the selected names, or 404 if a concrete name is missing. */
function selectNamed<T>(map: Map<string, T>, expr: string | undefined, missing: (name: string) => EsError): [string, T][] {
  if (expr === undefined || expr === '' || expr === '*' || expr === '_all') return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
  const names = matchIndices(expr, [...map.keys()].sort());
  if (names.length === 0) {
    const first = decodeIndexExpr(expr).split(',')[0];
    throw missing(first);
  }
  return names.map((n) => [n, map.get(n) as T]);
}

export function registerEsAdminRoutes(app: FastifyInstance, ctx: EsContext, meta: EsMeta): void {
  const clusterName = 'logmill';
  const nodeName = 'logmill';

  // ---------------------------------------------------------------- handshake

  const info = (): Record<string, unknown> => ({
    name: nodeName,
    cluster_name: clusterName,
    cluster_uuid: meta.identity.cluster_uuid,
    version: { ...ES_VERSION },
    tagline: 'You Know, for Search',
  });
  app.head('/', async (_req, reply) => reply.code(200).header('content-type', 'application/json; charset=UTF-8').send(''));
  app.get('/', async () => info());

  const health = async (indexExpr: string | undefined): Promise<Record<string, unknown>> => {
    const indices = await resolveIndices(ctx, meta, indexExpr, { ignoreMissing: true });
    return {
      cluster_name: clusterName,
      status: 'green',
      timed_out: false,
      number_of_nodes: 1,
      number_of_data_nodes: 1,
      active_primary_shards: indices.length,
      active_shards: indices.length,
      relocating_shards: 0,
      initializing_shards: 0,
      unassigned_shards: 0,
      unassigned_primary_shards: 0,
      delayed_unassigned_shards: 0,
      number_of_pending_tasks: 0,
      number_of_in_flight_fetch: 0,
      task_max_waiting_in_queue_millis: 0,
      active_shards_percent_as_number: 100.0,
    };
  };
  app.get('/_cluster/health', async () => health(undefined));
  app.get('/_cluster/health/:index', async (req) => health((req.params as Params).index));
  app.get('/_cluster/settings', async () => ({ persistent: {}, transient: {} }));
  app.put('/_cluster/settings', async () => ({ acknowledged: true, persistent: {}, transient: {} }));

  const license = (): Record<string, unknown> => ({
    status: 'active',
    uid: meta.identity.cluster_uuid,
    type: 'basic',
    issue_date: new Date(meta.identity.created).toISOString(),
    issue_date_in_millis: meta.identity.created,
    max_nodes: 1000,
    max_resource_units: null,
    issued_to: clusterName,
    issuer: 'elasticsearch',
    start_date_in_millis: -1,
  });
  app.get('/_license', async () => ({ license: license() }));
  app.get('/_license/basic_status', async () => ({ eligible_to_start_basic: false }));

  app.get('/_xpack', async () => {
    const feature = (available: boolean, enabled: boolean): Record<string, boolean> => ({ available, enabled });
    return {
      build: { hash: ES_VERSION.build_hash, date: ES_VERSION.build_date },
      license: { uid: meta.identity.cluster_uuid, type: 'basic', mode: 'basic', status: 'active' },
      features: {
        aggregate_metric: feature(true, true),
        analytics: feature(true, true),
        archive: feature(false, true),
        ccr: feature(false, true),
        data_streams: feature(true, true),
        data_tiers: feature(true, true),
        enrich: feature(true, true),
        enterprise_search: feature(false, true),
        eql: feature(true, true),
        esql: feature(true, true),
        frozen_indices: feature(true, true),
        graph: feature(false, true),
        ilm: feature(true, true),
        logsdb: feature(false, true),
        logstash: feature(false, true),
        ml: feature(false, true),
        monitoring: feature(true, true),
        rollup: feature(true, true),
        searchable_snapshots: feature(false, true),
        security: feature(true, false),
        slm: feature(true, true),
        spatial: feature(true, true),
        sql: feature(true, true),
        transform: feature(true, true),
        universal_profiling: feature(true, true),
        voting_only: feature(true, true),
        watcher: feature(false, true),
      },
      tagline: 'You know, for X',
    };
  });

  const nodes = (req: FastifyRequest): Record<string, unknown> => {
    const local = req.socket.localAddress ?? '127.0.0.1';
    const hostHeader = String(req.headers.host ?? `${local}:${req.socket.localPort ?? 9200}`);
    const ip = local.replace(/^::ffff:/, '');
    return {
      _nodes: { total: 1, successful: 1, failed: 0 },
      cluster_name: clusterName,
      nodes: {
        [meta.identity.node_id]: {
          name: nodeName,
          transport_address: `${ip}:9300`,
          host: ip,
          ip,
          version: ES_VERSION.number,
          transport_version: INDEX_VERSION_CREATED,
          build_flavor: ES_VERSION.build_flavor,
          build_type: ES_VERSION.build_type,
          build_hash: ES_VERSION.build_hash,
          roles: ['data', 'data_content', 'data_hot', 'ingest', 'master'],
          attributes: {},
          http: {
            bound_address: [hostHeader],
            publish_address: hostHeader,
            max_content_length_in_bytes: ctx.config.maxBodyBytes,
          },
          ingest: { processors: [] },
        },
      },
    };
  };
  app.get('/_nodes', async (req) => nodes(req));
  app.get('/_nodes/:a', async (req) => nodes(req));
  app.get('/_nodes/:a/:b', async (req) => nodes(req));

  // ---------------------------------------------------------------- templates, policies, pipelines

  const templateRoutes = (
    prefix: string,
    map: Map<string, Record<string, unknown>>,
    collection: Collection,
    shapeAll: (entries: [string, Record<string, unknown>][]) => unknown,
    missing: (name: string) => EsError,
    missingBodyEmpty: boolean,
    normalise: (name: string, body: Record<string, unknown>) => Record<string, unknown> = (_n, b) => b,
  ): void => {
    app.get(prefix, async () => shapeAll(selectNamed(map, undefined, missing)));
    app.head(`${prefix}/:name`, async (req, reply) => {
      const name = (req.params as Params).name;
      const found = matchIndices(name, map.keys()).length > 0;
      return reply.code(found ? 200 : 404).send('');
    });
    app.get(`${prefix}/:name`, async (req, reply) => {
      const name = (req.params as Params).name;
      if (missingBodyEmpty && matchIndices(name, map.keys()).length === 0) {
        // Elasticsearch answers a missing legacy template or pipeline with 404 and an empty object.
        return reply.code(404).send({});
      }
      return shapeAll(selectNamed(map, name, missing));
    });
    const put = async (req: FastifyRequest): Promise<unknown> => {
      const name = decodeIndexExpr((req.params as Params).name);
      if (name.startsWith('_')) throw noHandler(req.method, req.url.split('?')[0]); // _simulate and other APIs not served here
      const body = jsonBody(req, true);
      const q = req.query as Query;
      if (flag(q, 'create') && map.has(name)) throw illegalArgument(`${collection.replace(/s$/, '').replace('_', ' ')} [${name}] already exists`);
      map.set(name, normalise(name, body));
      meta.persist(collection);
      return { acknowledged: true };
    };
    app.put(`${prefix}/:name`, put);
    app.post(`${prefix}/:name`, put);
    app.delete(`${prefix}/:name`, async (req) => {
      const name = (req.params as Params).name;
      const names = matchIndices(name, map.keys());
      if (names.length === 0) throw missing(decodeIndexExpr(name));
      for (const n of names) map.delete(n);
      meta.persist(collection);
      return { acknowledged: true };
    });
  };

  templateRoutes(
    '/_index_template',
    meta.indexTemplates,
    'index_templates',
    (entries) => ({ index_templates: entries.map(([name, body]) => ({ name, index_template: body })) }),
    (name) => resourceNotFound(`index template matching [${name}] not found`),
    false,
    (name, body) => normaliseIndexTemplate(name, body, meta.indexTemplates, meta.componentTemplates),
  );
  templateRoutes(
    '/_component_template',
    meta.componentTemplates,
    'component_templates',
    (entries) => ({ component_templates: entries.map(([name, body]) => ({ name, component_template: body })) }),
    (name) => resourceNotFound(`component template matching [${name}] not found`),
    false,
    (_name, body) => normaliseComponentTemplate(body),
  );
  templateRoutes(
    '/_template',
    meta.legacyTemplates,
    'templates',
    (entries) => Object.fromEntries(entries.map(([name, body]) => [name, { order: 0, index_patterns: [], settings: {}, mappings: {}, aliases: {}, ...body }])),
    (name) => resourceNotFound(`index_template [${name}] missing`),
    true,
    (_name, body) => normaliseLegacyTemplate(body),
  );
  templateRoutes(
    '/_ingest/pipeline',
    meta.pipelines,
    'pipelines',
    (entries) => Object.fromEntries(entries),
    (name) => resourceNotFound(`pipeline [${name}] is missing`),
    true,
  );

  // ILM policies keep a version and a modification date.
  const policyShape = (entries: [string, PolicyEntry][]): Record<string, unknown> =>
    Object.fromEntries(
      entries.map(([name, p]) => [
        name,
        { version: p.version, modified_date: new Date(p.modified).toISOString(), policy: p.body.policy ?? {}, in_use_by: { indices: [], data_streams: [], composable_templates: [] } },
      ]),
    );
  const policyMissing = (name: string): EsError => resourceNotFound(`Lifecycle policy not found: ${name}`);
  app.head('/_ilm/policy/:name', async (req, reply) => reply.code(meta.ilmPolicies.has(decodeIndexExpr((req.params as Params).name)) ? 200 : 404).send(''));
  app.get('/_ilm/policy', async () => policyShape(selectNamed(meta.ilmPolicies, undefined, policyMissing)));
  app.get('/_ilm/policy/:name', async (req) => policyShape(selectNamed(meta.ilmPolicies, (req.params as Params).name, policyMissing)));
  app.put('/_ilm/policy/:name', async (req) => {
    const name = decodeIndexExpr((req.params as Params).name);
    const body = jsonBody(req, true);
    if (!isObject(body.policy)) throw parsingException('[put_lifecycle_request] policy is required: send {"policy": {...}}');
    const prev = meta.ilmPolicies.get(name);
    meta.ilmPolicies.set(name, { version: (prev?.version ?? 0) + 1, modified: Date.now(), body });
    meta.persist('ilm_policies');
    return { acknowledged: true };
  });
  app.delete('/_ilm/policy/:name', async (req) => {
    const name = decodeIndexExpr((req.params as Params).name);
    if (!meta.ilmPolicies.delete(name)) throw policyMissing(name);
    meta.persist('ilm_policies');
    return { acknowledged: true };
  });
  app.get('/_ilm/status', async () => ({ operation_mode: 'RUNNING' }));

  // ---------------------------------------------------------------- data streams

  const dataStreamShape = (name: string, known: KnownIndex): Record<string, unknown> => {
    const created = known.meta?.created ?? meta.identity.created;
    const day = new Date(created).toISOString().slice(0, 10).replace(/-/g, '.');
    const template = matchingIndexTemplate(meta, name)?.[0] ?? '';
    return {
      name,
      timestamp_field: { name: '@timestamp' },
      indices: [{ index_name: `.ds-${name}-${day}-000001`, index_uuid: indexUuid(meta, name), prefer_ilm: true, managed_by: 'Unmanaged' }],
      generation: 1,
      status: 'GREEN',
      template: template || `${name.split('-')[0]}`,
      next_generation_managed_by: 'Unmanaged',
      prefer_ilm: true,
      hidden: false,
      system: false,
      allow_custom_routing: false,
      replicated: false,
      rollover_on_write: false,
    };
  };
  app.put('/_data_stream/:name', async (req) => {
    const name = decodeIndexExpr((req.params as Params).name);
    checkIndexName(name);
    const existing = await resolveIndices(ctx, meta, name, { ignoreMissing: true });
    if (existing.some((i) => i.name === name)) throw resourceAlreadyExists(name);
    // As Elasticsearch: the name's highest-priority template must say `data_stream` (the built-in prefixes stand in when none matches).
    const template = matchingIndexTemplate(meta, name);
    if (template ? !isObject(template[1].data_stream) : !meta.isDataStreamName(name)) throw illegalArgument(`no matching index template found for data stream [${name}]`);
    meta.createIndex(name, {}, true);
    return { acknowledged: true };
  });
  const getDataStreams = async (expr: string | undefined): Promise<unknown> => {
    const indices = (await resolveIndices(ctx, meta, expr, { ignoreMissing: true })).filter((i) => meta.isDataStreamName(i.name));
    if (expr !== undefined && !hasWildcards(expr) && !isAllIndices(expr) && indices.length === 0) throw indexNotFound(decodeIndexExpr(expr));
    return { data_streams: indices.map((i) => dataStreamShape(i.name, i)) };
  };
  app.get('/_data_stream', async () => getDataStreams(undefined));
  app.get('/_data_stream/:name', async (req) => getDataStreams((req.params as Params).name));
  app.delete('/_data_stream/:name', async (req) => {
    const expr = (req.params as Params).name;
    const indices = (await resolveIndices(ctx, meta, expr, { ignoreMissing: hasWildcards(expr) })).filter((i) => meta.isDataStreamName(i.name));
    if (indices.length === 0 && !hasWildcards(expr)) throw indexNotFound(decodeIndexExpr(expr));
    await deleteIndices(indices);
    return { acknowledged: true };
  });

  // ---------------------------------------------------------------- indices

  // Events stored without an index (shown as `logmill`) are never deleted here: only events written with `_index`
  // match the filter, so DELETE /logmill removes what was written to an index named `logmill`, nothing else.
  const deleteIndices = async (indices: KnownIndex[]): Promise<void> => {
    const withEvents = indices.filter((i) => i.count > 0).map((i) => i.name);
    // Bounded filters: a delete of thousands of daily indices goes in slices.
    for (let i = 0; i < withEvents.length; i += 200) await ctx.store.deleteWhere(namesFilter(withEvents.slice(i, i + 200)));
    forgetIndexFields(ctx.store, withEvents);
    let changed = false;
    for (const i of indices) if (meta.indices.delete(i.name)) changed = true;
    if (changed) meta.persist('indices');
  };

  /** `/{index}` routes see every unknown `/_something` too: those are endpoints this server lacks. */
  const notAnEndpoint = (req: FastifyRequest, index: string): void => {
    if (index.startsWith('_') && !index.startsWith('_all')) throw noHandler(req.method, req.url);
  };

  app.head('/:index', async (req, reply) => {
    const index = (req.params as Params).index;
    if (index.startsWith('_') && !index.startsWith('_all')) return reply.code(404).send('');
    let found: KnownIndex[];
    try {
      found = await resolveIndices(ctx, meta, index);
    } catch (err) {
      if (err instanceof EsError && err.status === 404) return reply.code(404).send('');
      throw err;
    }
    return reply.code(found.length > 0 ? 200 : 404).send('');
  });

  app.get('/:index', async (req) => {
    const index = (req.params as Params).index;
    notAnEndpoint(req, index);
    const q = req.query as Query;
    const indices = await resolveIndices(ctx, meta, index, { ignoreMissing: flag(q, 'ignore_unavailable') });
    const fields = await indexFields(ctx, indices);
    const out: Record<string, unknown> = {};
    for (const i of indices) {
      const entry: Record<string, unknown> = {
        aliases: i.meta?.aliases ?? {},
        mappings: mappingsOf(meta, i, fields.get(i.name) ?? []),
        settings: settingsOf(meta, i),
      };
      if (meta.isDataStreamName(i.name)) entry.data_stream = i.name;
      out[i.name] = entry;
    }
    return out;
  });

  app.put('/:index', async (req) => {
    const raw = (req.params as Params).index;
    notAnEndpoint(req, raw);
    const name = resolveDateMath(decodeIndexExpr(raw));
    checkIndexName(name);
    const body = jsonBody(req, false);
    const existing = await resolveIndices(ctx, meta, name, { ignoreMissing: true });
    if (existing.some((i) => i.name === name)) throw resourceAlreadyExists(name);
    meta.createIndex(name, body);
    return { acknowledged: true, shards_acknowledged: true, index: name };
  });

  app.delete('/:index', async (req) => {
    const expr = (req.params as Params).index;
    notAnEndpoint(req, expr);
    const q = req.query as Query;
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: flag(q, 'ignore_unavailable') });
    await deleteIndices(indices);
    return { acknowledged: true };
  });

  const getMapping = async (expr: string | undefined, q: Query): Promise<unknown> => {
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: flag(q, 'ignore_unavailable') });
    const fields = await indexFields(ctx, indices);
    const out: Record<string, unknown> = {};
    for (const i of indices) out[i.name] = { mappings: mappingsOf(meta, i, fields.get(i.name) ?? []) };
    return out;
  };
  // GET idx/_mapping/field/a,b* : each index's matching leaf fields, as Elasticsearch shapes them.
  const getFieldMapping = async (expr: string | undefined, fieldExpr: string, q: Query): Promise<unknown> => {
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: flag(q, 'ignore_unavailable') });
    const fields = await indexFields(ctx, indices);
    const out: Record<string, unknown> = {};
    for (const i of indices) {
      const leaves = flattenProperties((mappingsOf(meta, i, fields.get(i.name) ?? []).properties ?? {}) as Record<string, unknown>);
      const selected = matchFieldNames(decodeIndexExpr(fieldExpr), [...leaves.keys()]);
      const mappings: Record<string, unknown> = {};
      for (const [name, mapping] of leaves) {
        if (!selected.has(name)) continue;
        const leaf = name.slice(name.lastIndexOf('.') + 1);
        mappings[name] = { full_name: name, mapping: { [leaf]: mapping } };
      }
      out[i.name] = { mappings };
    }
    return out;
  };
  app.get('/_mapping/field/:fields', async (req) => getFieldMapping(undefined, (req.params as Params).fields, req.query as Query));
  app.get('/:index/_mapping/field/:fields', async (req) => getFieldMapping((req.params as Params).index, (req.params as Params).fields, req.query as Query));
  app.get('/_mapping', async (req) => getMapping(undefined, req.query as Query));
  app.get('/:index/_mapping', async (req) => getMapping((req.params as Params).index, req.query as Query));
  const putMapping = async (req: FastifyRequest): Promise<unknown> => {
    const expr = (req.params as Params).index;
    const body = jsonBody(req, true);
    const indices = await resolveIndices(ctx, meta, expr);
    for (const i of indices) {
      const m = meta.indices.get(i.name) ?? meta.createIndex(i.name, {});
      const properties = isObject(m.mappings.properties) ? m.mappings.properties : {};
      if (isObject(body.properties)) mergeProperties(properties, body.properties);
      m.mappings = { ...m.mappings, ...body, properties };
    }
    meta.persist('indices');
    return { acknowledged: true };
  };
  app.put('/:index/_mapping', putMapping);
  app.post('/:index/_mapping', putMapping);

  // _settings: indices.ts.

  // ---------------------------------------------------------------- aliases

  const aliasesOf = (indices: KnownIndex[], aliasExpr: string | undefined): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const i of indices) {
      const all = i.meta?.aliases ?? {};
      const names = aliasExpr === undefined ? Object.keys(all) : matchIndices(aliasExpr, Object.keys(all));
      if (aliasExpr !== undefined && names.length === 0) continue;
      out[i.name] = { aliases: Object.fromEntries(names.map((n) => [n, all[n]])) };
    }
    return out;
  };
  app.head('/_alias/:name', async (req, reply) => {
    const out = aliasesOf(await knownIndices(ctx, meta), (req.params as Params).name);
    return reply.code(Object.keys(out).length > 0 ? 200 : 404).send('');
  });
  app.get('/_alias', async () => aliasesOf(await knownIndices(ctx, meta), undefined));
  app.get('/_aliases', async () => aliasesOf(await knownIndices(ctx, meta), undefined));
  app.get('/_alias/:name', async (req, reply) => {
    const name = (req.params as Params).name;
    const out = aliasesOf(await knownIndices(ctx, meta), name);
    if (Object.keys(out).length === 0) return reply.code(404).send({ error: `alias [${decodeIndexExpr(name)}] missing`, status: 404 });
    return out;
  });
  app.get('/:index/_alias', async (req) => aliasesOf(await resolveIndices(ctx, meta, (req.params as Params).index), undefined));
  app.get('/:index/_alias/:name', async (req, reply) => {
    const p = req.params as Params;
    const out = aliasesOf(await resolveIndices(ctx, meta, p.index), p.name);
    if (Object.keys(out).length === 0) return reply.code(404).send({ error: `alias [${decodeIndexExpr(p.name)}] missing`, status: 404 });
    return out;
  });
  const putAlias = async (req: FastifyRequest): Promise<unknown> => {
    const p = req.params as Params;
    const body = jsonBody(req, false);
    const indices = await resolveIndices(ctx, meta, p.index);
    for (const i of indices) {
      const m = meta.indices.get(i.name) ?? meta.createIndex(i.name, {});
      m.aliases[decodeIndexExpr(p.name)] = body;
    }
    meta.persist('indices');
    return { acknowledged: true };
  };
  app.put('/:index/_alias/:name', putAlias);
  app.post('/:index/_alias/:name', putAlias);
  app.put('/:index/_aliases/:name', putAlias);
  app.delete('/:index/_alias/:name', async (req) => {
    const p = req.params as Params;
    const indices = await resolveIndices(ctx, meta, p.index);
    let removed = false;
    for (const i of indices) {
      const m = meta.indices.get(i.name);
      if (!m) continue;
      for (const a of matchIndices(p.name, Object.keys(m.aliases))) {
        delete m.aliases[a];
        removed = true;
      }
    }
    if (!removed) throw new EsError(404, 'aliases_not_found_exception', `aliases [${decodeIndexExpr(p.name)}] missing`, { 'resource.type': 'aliases', 'resource.id': p.name });
    meta.persist('indices');
    return { acknowledged: true };
  });
  app.post('/_aliases', async (req) => {
    const body = jsonBody(req, true);
    if (!Array.isArray(body.actions)) throw parsingException('[aliases] actions are required');
    const all = await knownIndices(ctx, meta);
    for (const action of body.actions) {
      if (!isObject(action)) throw parsingException('[aliases] each action must be an object');
      const [kind] = Object.keys(action);
      const spec = action[kind];
      if (!isObject(spec)) throw parsingException(`[aliases] action [${kind}] must be an object`);
      const indexExprs = [spec.index, ...(Array.isArray(spec.indices) ? spec.indices : [])].filter((x): x is string => typeof x === 'string');
      const aliasNames = [spec.alias, ...(Array.isArray(spec.aliases) ? spec.aliases : [])].filter((x): x is string => typeof x === 'string');
      const targets = indexExprs.flatMap((e) => (hasWildcards(e) ? matchIndices(e, all.map((i) => i.name)) : [e]));
      if (kind === 'add') {
        for (const t of targets) {
          const m = meta.indices.get(t) ?? meta.createIndex(t, {});
          const { index: _i, indices: _is, alias: _a, aliases: _as, ...props } = spec;
          for (const a of aliasNames) m.aliases[a] = props;
        }
      } else if (kind === 'remove') {
        for (const t of targets) {
          const m = meta.indices.get(t);
          if (m) for (const a of aliasNames) for (const n of matchIndices(a, Object.keys(m.aliases))) delete m.aliases[n];
        }
      } else if (kind === 'remove_index') {
        await deleteIndices(all.filter((i) => targets.includes(i.name)));
      } else {
        throw illegalArgument(`[aliases] unknown action [${kind}]; use add, remove or remove_index`);
      }
    }
    meta.persist('indices');
    return { acknowledged: true, errors: false };
  });

  app.get('/_resolve/index/:name', async (req) => {
    const indices = await resolveIndices(ctx, meta, (req.params as Params).name, { ignoreMissing: true });
    const plain = indices.filter((i) => !meta.isDataStreamName(i.name));
    const streams = indices.filter((i) => meta.isDataStreamName(i.name));
    const aliases = new Map<string, string[]>();
    for (const i of indices) for (const a of Object.keys(i.meta?.aliases ?? {})) aliases.set(a, [...(aliases.get(a) ?? []), i.name]);
    return {
      indices: plain.map((i) => ({ name: i.name, ...(Object.keys(i.meta?.aliases ?? {}).length ? { aliases: Object.keys(i.meta!.aliases) } : {}), attributes: ['open'] })),
      aliases: [...aliases].map(([name, idx]) => ({ name, indices: idx })),
      data_streams: streams.map((i) => ({ name: i.name, backing_indices: [`.ds-${i.name}-000001`], timestamp_field: '@timestamp' })),
    };
  });

  // ---------------------------------------------------------------- field capabilities

  const fieldCaps = async (req: FastifyRequest): Promise<unknown> => {
    const q = req.query as Query;
    let fieldsExpr = q.fields;
    if (fieldsExpr === undefined && req.method === 'POST') {
      const body = jsonBody(req, false);
      if (Array.isArray(body.fields)) fieldsExpr = body.fields.filter((f) => typeof f === 'string').join(',');
      else if (typeof body.fields === 'string') fieldsExpr = body.fields;
    }
    if (fieldsExpr === undefined || fieldsExpr.trim() === '') throw illegalArgument('specified fields can\'t be null or empty');
    const expr = (req.params as Params).index;
    const declaredTypes = new Map<string, string>();
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: flag(q, 'ignore_unavailable') || (expr !== undefined && hasWildcards(expr)) });
    const names = indices.map((i) => i.name);
    // Only the fields the selected indices have (and their templates declare).
    const perIndex = await indexFields(ctx, indices);
    const seen = new Map<string, FieldInfo>();
    for (const list of perIndex.values()) for (const f of list) seen.set(f.name, f);
    const stored = [...seen.values()];
    for (const i of indices) {
      const declared = flattenProperties((mappingsOf(meta, i, []).properties ?? {}) as Record<string, unknown>);
      for (const [name, m] of declared) if (!seen.has(name) && typeof m.type === 'string') declaredTypes.set(name, m.type);
    }
    const all: { name: string; types: string[]; metadata: boolean }[] = [
      { name: '_id', types: ['_id'], metadata: true },
      { name: '_index', types: ['_index'], metadata: true },
      ...stored.map((f) => ({
        name: f.name,
        types: [...new Set([esFieldType(f), ...f.conflicts.map((t) => esFieldType({ name: f.name, type: t }))])],
        metadata: false,
      })),
      ...[...declaredTypes].map(([name, type]) => ({ name, types: [type], metadata: false })),
    ];
    const selected = matchFieldNames(fieldsExpr, all.map((f) => f.name));
    const fields: Record<string, Record<string, unknown>> = {};
    if (indices.length > 0) {
      for (const f of all) {
        if (!selected.has(f.name)) continue;
        const caps: Record<string, unknown> = {};
        for (const t of f.types) {
          caps[t] = {
            type: t,
            metadata_field: f.metadata,
            searchable: true,
            aggregatable: t !== 'text',
            ...(f.types.length > 1 ? { indices: names } : {}),
          };
        }
        fields[f.name] = caps;
        // Object parents, as Elasticsearch lists them.
        const parts = f.name.split('.');
        for (let i = 1; i < parts.length; i++) {
          const parent = parts.slice(0, i).join('.');
          if (selected.has(parent) && !fields[parent] && !all.some((x) => x.name === parent)) {
            fields[parent] = { object: { type: 'object', metadata_field: false, searchable: false, aggregatable: false } };
          }
        }
      }
    }
    return { indices: names, fields };
  };
  app.get('/_field_caps', fieldCaps);
  app.post('/_field_caps', fieldCaps);
  app.get('/:index/_field_caps', fieldCaps);
  app.post('/:index/_field_caps', fieldCaps);

  // _stats: indices.ts.

  // ---------------------------------------------------------------- refresh, flush

  const refresh = async (req: FastifyRequest): Promise<unknown> => {
    const expr = (req.params as Params).index;
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: expr === undefined || hasWildcards(expr) });
    const n = indices.length;
    return { _shards: { total: n * 2, successful: n, failed: 0 } };
  };
  for (const op of ['_refresh', '_flush']) {
    app.post(`/${op}`, refresh);
    app.get(`/${op}`, refresh);
    app.post(`/:index/${op}`, refresh);
    app.get(`/:index/${op}`, refresh);
  }

  // ---------------------------------------------------------------- _cat

  const catIndices = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const expr = (req.params as Params).index;
    const q = req.query as Query;
    const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: expr === undefined || hasWildcards(expr) });
    const stats = await ctx.store.stats();
    const total = (await ctx.store.indices()).reduce((s, i) => s + i.count, 0);
    const rows: CatRow[] = indices.map((i) => {
      const bytes = total > 0 ? Math.round((stats.bytesOnDisk * i.count) / total) : 0;
      return {
        health: 'green',
        status: i.meta?.closed ? 'close' : 'open',
        index: i.name,
        uuid: indexUuid(meta, i.name),
        pri: 1,
        rep: 0,
        'docs.count': i.count,
        'docs.deleted': 0,
        'creation.date': i.meta?.created ?? meta.identity.created,
        'creation.date.string': new Date(i.meta?.created ?? meta.identity.created).toISOString(),
        'store.size': humanBytes(bytes, q.bytes),
        'pri.store.size': humanBytes(bytes, q.bytes),
        'dataset.size': humanBytes(bytes, q.bytes),
      };
    });
    const columns: CatColumn[] = [
      { name: 'health', aliases: ['h'], desc: 'current health status' },
      { name: 'status', aliases: ['s'], desc: 'open/close status' },
      { name: 'index', aliases: ['i', 'idx'], desc: 'index name' },
      { name: 'uuid', aliases: ['id'], desc: 'index uuid' },
      { name: 'pri', aliases: ['p', 'shards.primary'], numeric: true, desc: 'number of primary shards' },
      { name: 'rep', aliases: ['r', 'shards.replica'], numeric: true, desc: 'number of replica shards' },
      { name: 'docs.count', aliases: ['dc', 'docsCount'], numeric: true, desc: 'available docs' },
      { name: 'docs.deleted', aliases: ['dd', 'docsDeleted'], numeric: true, desc: 'deleted docs' },
      { name: 'creation.date', aliases: ['cd'], numeric: true, desc: 'index creation date (millisecond value)' },
      { name: 'creation.date.string', aliases: ['cds'], desc: 'index creation date (as string)' },
      { name: 'store.size', aliases: ['ss', 'storeSize'], numeric: true, desc: 'store size of primaries & replicas (estimated: the index\'s share of the store)' },
      { name: 'pri.store.size', numeric: true, desc: 'store size of primaries' },
      { name: 'dataset.size', numeric: true, desc: 'total size of dataset' },
    ];
    return catAnswer(req, reply, columns, rows, ['health', 'status', 'index', 'uuid', 'pri', 'rep', 'docs.count', 'docs.deleted', 'store.size', 'pri.store.size', 'dataset.size']);
  };
  app.get('/_cat/indices', catIndices);
  app.get('/_cat/indices/:index', catIndices);

  const catCount = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const expr = (req.params as Params).index;
    const now = new Date();
    let count: number;
    if (expr === undefined || isAllIndices(expr)) {
      // Every event, including those written through the native API.
      const rows = await ctx.store.group({ filter: { kind: 'all' }, keys: [], metrics: [{ fn: 'count' }] });
      count = rows[0]?.metrics[0] ?? 0;
    } else {
      const indices = await resolveIndices(ctx, meta, expr, { ignoreMissing: hasWildcards(expr) });
      count = indices.reduce((s, i) => s + i.count, 0);
    }
    const columns: CatColumn[] = [
      { name: 'epoch', aliases: ['t', 'time'], numeric: true, desc: 'seconds since 1970-01-01 00:00:00' },
      { name: 'timestamp', aliases: ['ts', 'hms', 'hhmmss'], desc: 'time in HH:MM:SS' },
      { name: 'count', aliases: ['dc', 'docs.count', 'docsCount'], numeric: true, desc: 'the document count' },
    ];
    return catAnswer(req, reply, columns, [{ epoch: Math.floor(now.getTime() / 1000), timestamp: now.toISOString().slice(11, 19), count }]);
  };
  app.get('/_cat/count', catCount);
  app.get('/_cat/count/:index', catCount);

  app.get('/_cat/health', async (req, reply) => {
    const now = new Date();
    const n = (await knownIndices(ctx, meta)).length;
    const columns: CatColumn[] = [
      { name: 'epoch', aliases: ['t', 'time'], numeric: true, desc: 'seconds since 1970-01-01 00:00:00' },
      { name: 'timestamp', aliases: ['ts', 'hms', 'hhmmss'], desc: 'time in HH:MM:SS' },
      { name: 'cluster', aliases: ['cl'], desc: 'cluster name' },
      { name: 'status', aliases: ['st'], desc: 'health status' },
      { name: 'node.total', aliases: ['nt', 'nodeTotal'], numeric: true, desc: 'total number of nodes' },
      { name: 'node.data', aliases: ['nd', 'nodeData'], numeric: true, desc: 'number of nodes that can store data' },
      { name: 'shards', aliases: ['t', 'sh', 'shards.total', 'shardsTotal'], numeric: true, desc: 'total number of shards' },
      { name: 'pri', aliases: ['p', 'shards.primary', 'shardsPrimary'], numeric: true, desc: 'number of primary shards' },
      { name: 'relo', aliases: ['r', 'shards.relocating', 'shardsRelocating'], numeric: true, desc: 'number of relocating nodes' },
      { name: 'init', aliases: ['i', 'shards.initializing', 'shardsInitializing'], numeric: true, desc: 'number of initializing nodes' },
      { name: 'unassign', aliases: ['u', 'shards.unassigned', 'shardsUnassigned'], numeric: true, desc: 'number of unassigned shards' },
      { name: 'unassign.pri', aliases: ['up', 'shards.unassigned.primary'], numeric: true, desc: 'number of unassigned primary shards' },
      { name: 'pending_tasks', aliases: ['pt', 'pendingTasks'], numeric: true, desc: 'number of pending tasks' },
      { name: 'max_task_wait_time', aliases: ['mtwt', 'maxTaskWaitTime'], numeric: true, desc: 'wait time of longest task pending' },
      { name: 'active_shards_percent', aliases: ['asp', 'activeShardsPercent'], numeric: true, desc: 'active number of shards in percent' },
    ];
    const row: CatRow = {
      epoch: Math.floor(now.getTime() / 1000),
      timestamp: now.toISOString().slice(11, 19),
      cluster: clusterName,
      status: 'green',
      'node.total': 1,
      'node.data': 1,
      shards: n,
      pri: n,
      relo: 0,
      init: 0,
      unassign: 0,
      'unassign.pri': 0,
      pending_tasks: 0,
      max_task_wait_time: '-',
      active_shards_percent: '100.0%',
    };
    const q = req.query as Query;
    const ts = q.ts === undefined || q.ts !== 'false';
    const defaults = columns.map((c) => c.name).filter((c) => ts || (c !== 'epoch' && c !== 'timestamp'));
    return catAnswer(req, reply, columns, [row], defaults);
  });

  app.get('/_cat/nodes', async (req, reply) => {
    const ip = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const columns: CatColumn[] = [
      { name: 'ip', aliases: ['i'], desc: 'ip address' },
      { name: 'id', aliases: ['nodeId'], desc: 'unique node id' },
      { name: 'heap.percent', aliases: ['hp', 'heapPercent'], numeric: true, desc: 'used heap ratio' },
      { name: 'ram.percent', aliases: ['rp', 'ramPercent'], numeric: true, desc: 'used machine memory ratio' },
      { name: 'cpu', numeric: true, desc: 'recent cpu usage' },
      { name: 'load_1m', aliases: ['l'], numeric: true, desc: '1m load avg' },
      { name: 'node.role', aliases: ['r', 'role', 'nodeRole'], desc: 'node roles' },
      { name: 'master', aliases: ['m'], desc: '*:current master' },
      { name: 'name', aliases: ['n'], desc: 'node name' },
      { name: 'version', aliases: ['v'], desc: 'es version' },
    ];
    const mem = process.memoryUsage();
    const row: CatRow = {
      ip,
      id: meta.identity.node_id.slice(0, 4),
      'heap.percent': Math.round((mem.heapUsed / mem.heapTotal) * 100),
      'ram.percent': null,
      cpu: null,
      load_1m: null,
      'node.role': 'dhim',
      master: '*',
      name: nodeName,
      version: ES_VERSION.number,
    };
    return catAnswer(req, reply, columns, [row], ['ip', 'heap.percent', 'ram.percent', 'cpu', 'load_1m', 'node.role', 'master', 'name']);
  });

  app.get('/_cat/templates', async (req, reply) => {
    const columns: CatColumn[] = [
      { name: 'name', aliases: ['n'], desc: 'template name' },
      { name: 'index_patterns', aliases: ['t'], desc: 'template index patterns' },
      { name: 'order', aliases: ['o', 'p'], numeric: true, desc: 'template application order/priority number' },
      { name: 'version', aliases: ['v'], desc: 'version' },
      { name: 'composed_of', aliases: ['c'], desc: 'component templates comprising index template' },
    ];
    const rows: CatRow[] = [];
    const patterns = (t: Record<string, unknown>): string => `[${(Array.isArray(t.index_patterns) ? t.index_patterns : [t.index_patterns]).join(', ')}]`;
    for (const [name, t] of meta.indexTemplates) {
      rows.push({ name, index_patterns: patterns(t), order: Number(t.priority ?? 0), version: t.version === undefined ? null : String(t.version), composed_of: `[${(Array.isArray(t.composed_of) ? t.composed_of : []).join(', ')}]` });
    }
    for (const [name, t] of meta.legacyTemplates) {
      rows.push({ name, index_patterns: patterns(t), order: Number(t.order ?? 0), version: t.version === undefined ? null : String(t.version), composed_of: '' });
    }
    rows.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    return catAnswer(req, reply, columns, rows);
  });
}

/** Nested `properties` → leaf field path → its mapping (objects with `properties` are walked, not listed). */
function flattenProperties(props: Record<string, unknown>, prefix = '', out = new Map<string, Record<string, unknown>>()): Map<string, Record<string, unknown>> {
  for (const [k, v] of Object.entries(props)) {
    if (!isObject(v)) continue;
    const name = prefix + k;
    if (isObject(v.properties)) flattenProperties(v.properties, `${name}.`, out);
    else out.set(name, v);
  }
  return out;
}

/** Field names selected by a `fields` expression (`*`, `host*`, `a,b`). */
function matchFieldNames(expr: string, names: string[]): Set<string> {
  const out = new Set<string>();
  const parts = expr.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) {
    const re = new RegExp('^' + p.split('*').map(escapeRe).join('.*') + '$');
    for (const n of names) if (re.test(n)) out.add(n);
    // Object parents are selectable too (`http` selects nothing stored but `http.*` does).
    if (!p.includes('*')) out.add(p);
    else for (const n of names) {
      const segs = n.split('.');
      for (let i = 1; i < segs.length; i++) {
        const parent = segs.slice(0, i).join('.');
        if (re.test(parent)) out.add(parent);
      }
    }
  }
  return out;
}
