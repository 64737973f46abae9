/**
 * Each index's own mapping, as Elasticsearch keeps one: what its templates and
 * `PUT idx` / `PUT idx/_mapping` declared, plus a dynamic mapping taken from
 * the first document that brings each field (long, float, boolean, date for
 * strings in the dynamic date formats, text with a keyword sub-field for other
 * strings, object). A document whose field conflicts with it is refused with
 * Elasticsearch's error, and never reaches the store; the store itself keeps
 * one forgiving schema for every index.
 *
 * Kept in memory per server. An index met for the first time is seeded from
 * the store (the fields its documents have, mappings.ts), so indices written
 * before a restart or through other paths are covered; deleting the index
 * forgets it. Fields are looked up by their flattened dotted name, one Map
 * look-up per field of a document; only a field not yet mapped takes the
 * slower way that checks its parent objects and adds it.
 */
import type { FieldInfo } from '../../store/store.js';
import { KIND, type ScannedDocument } from '../../core/json-fields.js';
import { parseIsoMicros } from '../../core/time.js';
import type { EsContext } from './context.js';
import type { EsMeta } from './admin.js';
import { itemError, type EsErrorCause } from './errors.js';
import { fieldsByIndex } from './mappings.js';
import { UNINDEXED } from './search.js';
import { matchingIndexTemplate, templateMappings } from './templates.js';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What a field's mapping accepts, by family. */
const CODE = {
  textKeyword: 1,
  keyword: 2,
  text: 3,
  integer: 4,
  float: 5,
  boolean: 6,
  date: 7,
  object: 8,
  /** A type this layer does not check (ip, geo_point, flattened, a date with its own format …): anything goes. */
  any: 9,
} as const;
type Code = (typeof CODE)[keyof typeof CODE];

export interface FieldMapping {
  readonly code: Code;
  /** Elasticsearch's type name, as errors and `_mapping` show it. */
  readonly type: string;
  /** The mapping as declared (template, PUT, dynamic template); undefined for a dynamic one. */
  readonly declared?: Json;
  /** Inclusive bounds of an integer type. */
  readonly min?: number;
  readonly max?: number;
  /** How many fields it counts for `index.mapping.total_fields.limit` (a multi-field counts its sub-fields). */
  readonly weight: number;
}

export type StringFieldKind = 'text+keyword' | 'keyword' | 'text';

const LONG_BOUND = 2 ** 63;
const DYNAMIC: Record<'textKeyword' | 'long' | 'float' | 'boolean' | 'date' | 'object', FieldMapping> = {
  textKeyword: { code: CODE.textKeyword, type: 'text', weight: 2 },
  long: { code: CODE.integer, type: 'long', min: -LONG_BOUND, max: LONG_BOUND, weight: 1 },
  float: { code: CODE.float, type: 'float', weight: 1 },
  boolean: { code: CODE.boolean, type: 'boolean', weight: 1 },
  date: { code: CODE.date, type: 'date', weight: 1 },
  object: { code: CODE.object, type: 'object', weight: 1 },
};

const INTEGER_BOUNDS: Record<string, [number, number]> = {
  byte: [-128, 127],
  short: [-32768, 32767],
  integer: [-(2 ** 31), 2 ** 31 - 1],
  long: [-LONG_BOUND, LONG_BOUND],
  unsigned_long: [0, 2 ** 64],
};
const FLOAT_TYPES = new Set(['float', 'double', 'half_float', 'scaled_float']);
const KEYWORD_TYPES = new Set(['keyword', 'constant_keyword', 'wildcard']);
const TEXT_TYPES = new Set(['text', 'match_only_text']);
/** The default date format; a date declared with another one is not checked here (its format is Java's). */
const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

/** The mapping of one declared property (`{type: …, fields: …}`). */
export function declaredMapping(spec: Json): FieldMapping {
  const type = typeof spec.type === 'string' ? spec.type : isObj(spec.properties) ? 'object' : 'object';
  const subFields = isObj(spec.fields) ? Object.keys(spec.fields).length : 0;
  const weight = 1 + subFields;
  if (spec.enabled === false) return { code: CODE.any, type, declared: spec, weight };
  if (type === 'object' || type === 'nested') return { code: CODE.object, type, declared: spec, weight };
  if (TEXT_TYPES.has(type)) {
    const keywordSub = isObj(spec.fields) && Object.values(spec.fields).some((f) => isObj(f) && f.type === 'keyword');
    return { code: keywordSub ? CODE.textKeyword : CODE.text, type, declared: spec, weight };
  }
  if (KEYWORD_TYPES.has(type)) return { code: CODE.keyword, type, declared: spec, weight };
  const bounds = INTEGER_BOUNDS[type];
  if (bounds) return { code: CODE.integer, type, declared: spec, min: bounds[0], max: bounds[1], weight };
  if (FLOAT_TYPES.has(type)) return { code: CODE.float, type, declared: spec, weight };
  if (type === 'boolean') return { code: CODE.boolean, type, declared: spec, weight };
  if ((type === 'date' || type === 'date_nanos') && (spec.format === undefined || spec.format === DEFAULT_DATE_FORMAT)) return { code: CODE.date, type, declared: spec, weight };
  return { code: CODE.any, type, declared: spec, weight };
}

/** The store's type of a field (seeding an index that was written before): what Elasticsearch's dynamic mapping made of such values. */
function storeMapping(f: FieldInfo): FieldMapping {
  if (f.conflicts.length > 0) {
    // The store cannot say which of its types this index had: the most forgiving one, so that nothing stored before is refused.
    const numeric = [f.type, ...f.conflicts].every((t) => t === 'integer' || t === 'float');
    return numeric ? DYNAMIC.float : DYNAMIC.textKeyword;
  }
  switch (f.type) {
    case 'integer':
      return DYNAMIC.long;
    case 'float':
      return DYNAMIC.float;
    case 'boolean':
      return DYNAMIC.boolean;
    case 'timestamp':
      return DYNAMIC.date;
    default:
      return DYNAMIC.textKeyword;
  }
}

// ------------------------------------------------------------ values

/** `strict_date_optional_time` (4-digit year, then optional month, day, time, zone) or `yyyy/MM/dd[ HH:mm:ss][ Z]`. */
const ISO_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;
const SLASH_DATE = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?(?: ?[+-]\d{4}| ?Z)?$/;

function validParts(m: RegExpExecArray): boolean {
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate()) return false;
  return (m[4] === undefined || Number(m[4]) < 24) && (m[5] === undefined || Number(m[5]) < 60) && (m[6] === undefined || Number(m[6]) < 60);
}

/** Whether dynamic date detection takes this string for a date (Elasticsearch's default `dynamic_date_formats`). */
export function looksLikeDate(s: string): boolean {
  if (s.length < 4 || s.length > 40) return false;
  const c = s.charCodeAt(0);
  if (c < 0x30 || c > 0x39) return false;
  const m = ISO_DATE.exec(s) ?? SLASH_DATE.exec(s);
  return m !== null && validParts(m);
}

/** Whether a date field of the default format takes this string: a date as above, or epoch milliseconds. */
function parsesAsDate(s: string): boolean {
  if (/^-?\d+(\.\d+)?$/.test(s)) return true;
  return looksLikeDate(s) || parseIsoMicros(s) !== null;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type Scalar = string | number | boolean;

/** What Elasticsearch shows of a value in "Preview of field's value" (Java's toString of maps and lists). */
function javaPreview(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(javaPreview).join(', ')}]`;
  if (isObj(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${javaPreview(x)}`).join(', ')}}`;
  return String(v);
}

function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

export interface Refusal {
  status: number;
  cause: EsErrorCause;
}

function refusal(type: string, reason: string, causedBy?: { type: string; reason: string }): Refusal {
  return { status: 400, cause: itemError(type, reason, causedBy ? { caused_by: causedBy } : {}) };
}

/** Elasticsearch 8's error for a value a field cannot take (`mapper_parsing_exception` before 8.8). */
export const PARSING_ERROR = 'document_parsing_exception';

function fieldRefusal(name: string, m: FieldMapping, value: unknown, id: string | null, causedBy: { type: string; reason: string }): Refusal {
  const where = id === null ? '' : ` in document with id '${id}'`;
  return refusal(PARSING_ERROR, `failed to parse field [${name}] of type [${m.type}]${where}. Preview of field's value: '${clip(javaPreview(value))}'`, causedBy);
}

/** Why `value` does not fit `m`, or null when it does (with Elasticsearch's coercions: "200" into a long, 200 into a keyword). */
function scalarProblem(m: FieldMapping, value: Scalar): { type: string; reason: string } | null {
  switch (m.code) {
    case CODE.integer:
    case CODE.float: {
      if (typeof value === 'boolean') return { type: 'illegal_argument_exception', reason: `Current token (VALUE_${value ? 'TRUE' : 'FALSE'}) not numeric, can not use numeric value accessors` };
      let n: number;
      if (typeof value === 'string') {
        // An empty string is taken as no value, as Elasticsearch's numeric fields do.
        if (value === '') return null;
        if (!NUMERIC.test(value)) return { type: 'illegal_argument_exception', reason: `For input string: "${clip(value)}"` };
        n = Number(value);
      } else n = value;
      if (!Number.isFinite(n)) return { type: 'illegal_argument_exception', reason: `[${m.type}] supports only finite values, but got [${value}]` };
      if (m.code === CODE.integer && (Math.trunc(n) < (m.min ?? -LONG_BOUND) || Math.trunc(n) > (m.max ?? LONG_BOUND) || (m.max === LONG_BOUND && Math.trunc(n) >= LONG_BOUND))) {
        return { type: 'illegal_argument_exception', reason: `Value [${value}] is out of range for ${m.type === 'integer' ? 'an' : 'a'} ${m.type}` };
      }
      return null;
    }
    case CODE.boolean:
      if (typeof value === 'boolean' || value === 'true' || value === 'false' || value === '') return null;
      return { type: 'illegal_argument_exception', reason: `Failed to parse value [${clip(String(value))}] as only [true] or [false] are allowed.` };
    case CODE.date:
      if (typeof value === 'number' || (typeof value === 'string' && parsesAsDate(value))) return null;
      return { type: 'illegal_argument_exception', reason: `failed to parse date field [${clip(String(value))}] with format [${DEFAULT_DATE_FORMAT}]` };
    default:
      return null;
  }
}

// ------------------------------------------------------------ one index

/** What new fields do: added (true), ignored (false, runtime), refused (strict). */
type Dynamic = 'true' | 'false' | 'strict';

/** Logmill's default for `index.mapping.total_fields.limit` (Elasticsearch's is 1,000; see docs/elasticsearch.md). */
export const DEFAULT_TOTAL_FIELDS_LIMIT = 100_000;

interface DynamicTemplate {
  name: string;
  matchType?: string;
  match?: RegExp;
  unmatch?: RegExp;
  pathMatch?: RegExp;
  pathUnmatch?: RegExp;
  mapping: Json;
}

function wildcard(p: unknown): RegExp | undefined {
  const list = typeof p === 'string' ? [p] : Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
  if (list.length === 0) return undefined;
  return new RegExp(`^(?:${list.map((s) => s.split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')).join('|')})$`);
}

function dynamicTemplates(mappings: Json): DynamicTemplate[] {
  const out: DynamicTemplate[] = [];
  if (!Array.isArray(mappings.dynamic_templates)) return out;
  for (const entry of mappings.dynamic_templates) {
    if (!isObj(entry)) continue;
    for (const [name, t] of Object.entries(entry)) {
      // Runtime-field templates make no indexed field: new fields they match are mapped as usual here.
      if (!isObj(t) || !isObj(t.mapping)) continue;
      out.push({
        name,
        matchType: typeof t.match_mapping_type === 'string' ? t.match_mapping_type : undefined,
        match: wildcard(t.match),
        unmatch: wildcard(t.unmatch),
        pathMatch: wildcard(t.path_match),
        pathUnmatch: wildcard(t.path_unmatch),
        mapping: t.mapping,
      });
    }
  }
  return out;
}

/** One index's mapping: every mapped field by its dotted name. */
export class IndexMapping {
  readonly fields = new Map<string, FieldMapping>();
  /** Fields counted as `index.mapping.total_fields.limit` counts them. */
  private total = 0;
  /** Fields a document being checked would add, applied by commit(). */
  private readonly pendingNames: string[] = [];
  private readonly pendingMappings: FieldMapping[] = [];
  private pendingTotal = 0;
  dynamic: Dynamic = 'true';
  dateDetection = true;
  numericDetection = false;
  totalFieldsLimit = DEFAULT_TOTAL_FIELDS_LIMIT;
  private templates: DynamicTemplate[] = [];
  /** The text of the number being mapped when the scan saw a fraction or an exponent (`1.0` is a float, though JavaScript's 1 is not). */
  private numberText: string | null = null;

  constructor(readonly index: string) {}

  /** Applies declared mappings (a template's, or a PUT's): explicit wins over what was mapped dynamically. */
  declare(mappings: Json, settings: Json | undefined): void {
    const d = mappings.dynamic;
    if (d === false || d === 'false' || d === 'runtime') this.dynamic = 'false';
    else if (d === 'strict') this.dynamic = 'strict';
    else if (d === true || d === 'true') this.dynamic = 'true';
    if (typeof mappings.date_detection === 'boolean') this.dateDetection = mappings.date_detection;
    if (typeof mappings.numeric_detection === 'boolean') this.numericDetection = mappings.numeric_detection;
    if (Array.isArray(mappings.dynamic_templates)) this.templates = dynamicTemplates(mappings);
    if (isObj(mappings.properties)) this.declareProperties(mappings.properties, '');
    const limit = Number(settingOf(settings, 'mapping.total_fields.limit'));
    if (Number.isInteger(limit) && limit > 0) this.totalFieldsLimit = limit;
  }

  private declareProperties(props: Json, prefix: string): void {
    for (const [key, spec] of Object.entries(props)) {
      if (!isObj(spec)) continue;
      const name = prefix + key;
      this.put(name, declaredMapping(spec));
      if (isObj(spec.properties)) this.declareProperties(spec.properties, `${name}.`);
    }
  }

  private put(name: string, m: FieldMapping): void {
    const old = this.fields.get(name);
    this.total += m.weight - (old?.weight ?? 0);
    this.fields.set(name, m);
  }

  /** Adds a field the store has for this index (seeding), unless mapped already. */
  seed(name: string, m: FieldMapping): void {
    if (!this.fields.has(name)) this.put(name, m);
  }

  /**
   * After seeding: a name that is both a leaf and the parent of other names
   * in the store (`v` and `v.inner`, written before mappings were checked) is
   * left unchecked, so that neither kind of document is refused.
   */
  relaxSeededParents(): void {
    for (const name of this.fields.keys()) {
      for (let dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
        const parent = this.fields.get(name.slice(0, dot));
        if (parent !== undefined && parent.code !== CODE.object && parent.code !== CODE.any) this.put(name.slice(0, dot), { code: CODE.any, type: parent.type, weight: parent.weight });
      }
    }
  }

  /** What kind of string field `field` is here (undefined: not a string field, or not mapped). */
  stringFieldKind(field: string): StringFieldKind | undefined {
    const code = this.fields.get(field)?.code;
    return code === CODE.textKeyword ? 'text+keyword' : code === CODE.keyword ? 'keyword' : code === CODE.text ? 'text' : undefined;
  }

  private lookup(name: string): FieldMapping | undefined {
    const m = this.fields.get(name);
    if (m !== undefined || this.pendingNames.length === 0) return m;
    const at = this.pendingNames.indexOf(name);
    return at < 0 ? undefined : this.pendingMappings[at];
  }

  /** Starts checking a document: what an earlier, refused document would have added is dropped. */
  private begin(): void {
    if (this.pendingNames.length > 0) {
      this.pendingNames.length = 0;
      this.pendingMappings.length = 0;
    }
    this.pendingTotal = 0;
  }

  /** Keeps what the last document checked adds to the mapping: call once it is accepted. */
  commit(): void {
    for (let i = 0; i < this.pendingNames.length; i++) this.put(this.pendingNames[i], this.pendingMappings[i]);
    this.pendingNames.length = 0;
    this.pendingMappings.length = 0;
    this.pendingTotal = 0;
  }

  /** Notes that the document checked has a `@timestamp` (checked as a date by the writer itself). */
  noteTimestamp(): void {
    if (!this.fields.has('@timestamp') && this.lookup('@timestamp') === undefined) this.add('@timestamp', DYNAMIC.date);
  }

  private add(name: string, m: FieldMapping): void {
    this.pendingNames.push(name);
    this.pendingMappings.push(m);
    this.pendingTotal += m.weight;
  }

  /** Checks a document scanned from its bytes (see FieldScanner): the refusal, or null (then commit() when it is stored). */
  checkScanned(doc: ScannedDocument, id: string | null): Refusal | null {
    this.begin();
    const batch = doc.batch;
    const names = batch.names;
    const end = doc.first + doc.count;
    for (let i = doc.first; i < end; i++) {
      const kind = batch.kinds[i];
      if (kind === KIND.null) continue;
      const name = names[batch.ids[i]].name;
      const m = this.lookup(name);
      if (m !== undefined) {
        // The common cases answered from the kind alone: no value is made.
        const code = m.code;
        if (code === CODE.any) continue;
        if (kind === KIND.array) {
          const problem = this.checkValue(name, JSON.parse(batch.slice(batch.starts[i], batch.ends[i])) as unknown, id);
          if (problem) return problem;
          continue;
        }
        if (code <= CODE.text || (code === CODE.integer && kind === KIND.integer) || (code === CODE.float && kind === KIND.integer) || (code === CODE.boolean && (kind === KIND.true || kind === KIND.false))) continue;
        const problem = this.checkLeaf(name, m, batch.value(i) as Scalar, id);
        if (problem) return problem;
        continue;
      }
      const value = kind === KIND.array ? (JSON.parse(batch.slice(batch.starts[i], batch.ends[i])) as unknown) : batch.value(i);
      if (kind === KIND.float) this.numberText = batch.slice(batch.starts[i], batch.ends[i]);
      const problem = this.checkValue(name, value, id);
      this.numberText = null;
      if (problem) return problem;
    }
    if (doc.time !== null) this.noteTimestamp();
    return null;
  }

  /** Checks a parsed document (`@timestamp` is the writer's: only noted). The refusal, or null (then commit()). */
  checkSource(source: Json, id: string | null): Refusal | null {
    this.begin();
    for (const key of Object.keys(source)) {
      if (key === '@timestamp') {
        if (source[key] !== null && source[key] !== undefined) this.noteTimestamp();
        continue;
      }
      const problem = this.checkValue(key, source[key], id);
      if (problem) return problem;
    }
    return null;
  }

  /** A value of any JSON kind under `name`. */
  private checkValue(name: string, value: unknown, id: string | null): Refusal | null {
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) {
      for (const v of value) {
        const problem = this.checkValue(name, v, id);
        if (problem) return problem;
      }
      return null;
    }
    let m = this.lookup(name);
    if (isObj(value)) {
      if (m === undefined) {
        const added = this.addNew(name, value, id);
        if (added !== null) return typeof added === 'object' && 'cause' in added ? added : null;
        m = this.lookup(name);
        if (m === undefined) return null; // not mapped (dynamic false): its members are not either
      }
      if (m.code === CODE.any) return null;
      if (m.code !== CODE.object) return fieldRefusal(name, m, value, id, { type: 'illegal_state_exception', reason: 'Can\'t get text on a START_OBJECT' });
      for (const key of Object.keys(value)) {
        const problem = this.checkValue(`${name}.${key}`, value[key], id);
        if (problem) return problem;
      }
      return null;
    }
    const scalar = value as Scalar;
    if (m === undefined) {
      const added = this.addNew(name, scalar, id);
      return added !== null && typeof added === 'object' && 'cause' in added ? added : null;
    }
    return this.checkLeaf(name, m, scalar, id);
  }

  private checkLeaf(name: string, m: FieldMapping, value: Scalar, id: string | null): Refusal | null {
    if (m.code === CODE.object) return refusal(PARSING_ERROR, `object mapping for [${name}] tried to parse field [${name}] as object, but found a concrete value`);
    const problem = scalarProblem(m, value);
    return problem === null ? null : fieldRefusal(name, m, value, id, problem);
  }

  /**
   * A field not mapped yet: its parent objects checked (and added), then the
   * field as dynamic mapping makes it. A refusal, 'skip' when the field is not
   * to be mapped (dynamic false, or under an unchecked parent), or null once added.
   */
  private addNew(name: string, value: Scalar | Json, id: string | null): Refusal | 'skip' | null {
    const nameProblem = fieldNameProblem(name);
    if (nameProblem !== null) return refusal(PARSING_ERROR, nameProblem);
    for (let dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
      const parentName = name.slice(0, dot);
      const parent = this.lookup(parentName);
      if (parent === undefined) {
        const made = this.dynamicField(parentName, DYNAMIC.object, id);
        if (made !== null) return made;
        continue;
      }
      if (parent.code === CODE.any) return 'skip';
      if (parent.code !== CODE.object) {
        return refusal(PARSING_ERROR, `Could not dynamically add mapping for field [${name}]. Existing mapping for [${parentName}] must be of type object but found [${parent.type}].`);
      }
    }
    return this.dynamicField(name, this.dynamicMappingOf(name, value), id);
  }

  /** Adds `name` with `m` (or a dynamic template's mapping) as this index's `dynamic` setting says. */
  private dynamicField(name: string, m: FieldMapping, _id: string | null): Refusal | 'skip' | null {
    if (this.dynamic === 'strict') {
      const dot = name.lastIndexOf('.');
      return refusal('strict_dynamic_mapping_exception', `mapping set to strict, dynamic introduction of [${name.slice(dot + 1)}] within [${dot < 0 ? '_doc' : name.slice(0, dot)}] is not allowed`);
    }
    if (this.dynamic === 'false') return 'skip';
    if (this.total + this.pendingTotal + m.weight > this.totalFieldsLimit) {
      return refusal('illegal_argument_exception', `Limit of total fields [${this.totalFieldsLimit}] has been exceeded while adding new fields [${this.pendingNames.length + 1}]`);
    }
    this.add(name, m);
    return null;
  }

  /** Elasticsearch's dynamic mapping of a first value (dynamic templates first). */
  private dynamicMappingOf(name: string, value: Scalar | Json): FieldMapping {
    let matchType: string;
    let fallback: FieldMapping;
    if (isObj(value)) [matchType, fallback] = ['object', DYNAMIC.object];
    else if (typeof value === 'boolean') [matchType, fallback] = ['boolean', DYNAMIC.boolean];
    else if (typeof value === 'number') {
      const whole = this.numberText === null ? Number.isInteger(value) : /^-?\d+$/.test(this.numberText);
      [matchType, fallback] = whole ? ['long', DYNAMIC.long] : ['double', DYNAMIC.float];
    }
    else if (this.dateDetection && looksLikeDate(value)) [matchType, fallback] = ['date', DYNAMIC.date];
    else if (this.numericDetection && NUMERIC.test(value)) [matchType, fallback] = /^[+-]?\d+$/.test(value) ? ['long', DYNAMIC.long] : ['double', DYNAMIC.float];
    else [matchType, fallback] = ['string', DYNAMIC.textKeyword];
    if (this.templates.length === 0) return fallback;
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    for (const t of this.templates) {
      if (t.matchType !== undefined && t.matchType !== '*' && t.matchType !== matchType) continue;
      if (t.match && !t.match.test(leaf)) continue;
      if (t.unmatch && t.unmatch.test(leaf)) continue;
      if (t.pathMatch && !t.pathMatch.test(name)) continue;
      if (t.pathUnmatch && t.pathUnmatch.test(name)) continue;
      const spec = JSON.parse(JSON.stringify(t.mapping).replace(/\{dynamic_type\}/g, fallback.type === 'text' ? 'text' : fallback.type)) as Json;
      if (typeof spec.type !== 'string') spec.type = fallback === DYNAMIC.textKeyword ? 'text' : fallback.type;
      return declaredMapping(spec);
    }
    return fallback;
  }

  /** The dynamic fields as Elasticsearch's nested `properties` (declared ones are shown as declared by the caller). */
  properties(): Json {
    const root: Json = {};
    for (const name of [...this.fields.keys()].sort()) {
      const m = this.fields.get(name) as FieldMapping;
      const parts = name.split('.');
      let level = root;
      for (let i = 0; i < parts.length - 1; i++) {
        let node = level[parts[i]] as Json | undefined;
        if (!isObj(node)) level[parts[i]] = node = {};
        if (!isObj(node.properties)) node.properties = {};
        level = node.properties as Json;
      }
      const leaf = parts[parts.length - 1];
      if (m.code === CODE.object) {
        const node = isObj(level[leaf]) ? (level[leaf] as Json) : {};
        if (m.declared) for (const [k, v] of Object.entries(m.declared)) if (k !== 'properties') node[k] = v;
        if (!isObj(node.properties)) node.properties = {};
        level[leaf] = node;
      } else level[leaf] = renderLeaf(m);
    }
    pruneEmptyObjects(root);
    return root;
  }
}

/** Dynamic objects never given a member show as `{type: object}` would not: Elasticsearch shows `{}`-less objects with no properties as `{"type":"object"}`. */
function pruneEmptyObjects(props: Json): void {
  for (const v of Object.values(props)) {
    if (!isObj(v) || !isObj(v.properties)) continue;
    if (Object.keys(v.properties).length === 0 && v.type === undefined) {
      delete v.properties;
      v.type = 'object';
    } else pruneEmptyObjects(v.properties);
  }
}

function renderLeaf(m: FieldMapping): Json {
  if (m.declared) return structuredClone(m.declared);
  if (m === DYNAMIC.textKeyword) return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
  return { type: m.type };
}

/** Elasticsearch's refusals of a field name (dots split objects, so a name cannot start or end with one, nor hold two in a row). */
function fieldNameProblem(name: string): string | null {
  if (name === '') return 'field name cannot be an empty string';
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) return `object field starting or ending with a [.] makes object resolution ambiguous: [${clip(name, 100)}]`;
  if (name.trim() === '') return `field name cannot contain only whitespace: ['${name}']`;
  return null;
}

/** A setting given nested (`{index:{mapping:{…}}}`) or flat (`index.mapping.…`), with or without `index.`. */
function settingOf(settings: Json | undefined, key: string): unknown {
  if (!settings) return undefined;
  const index = isObj(settings.index) ? settings.index : settings;
  for (const root of [index, settings]) {
    if (root[key] !== undefined) return root[key];
    if (root[`index.${key}`] !== undefined) return root[`index.${key}`];
    let at: unknown = root;
    for (const part of key.split('.')) at = isObj(at) ? at[part] : undefined;
    if (at !== undefined) return at;
  }
  return undefined;
}

// ------------------------------------------------------------ every index of a server

const METADATA = /^_/;

/** The indices' mappings of one server (one EsMeta). */
export class IndexMappings {
  private readonly byIndex = new Map<string, IndexMapping>();
  private readonly loading = new Map<string, Promise<IndexMapping>>();
  /** Bumped by forget: a seed that began before must not store what it read. */
  private generation = 0;

  constructor(
    private readonly ctx: EsContext,
    private readonly meta: EsMeta,
    private readonly unindexed: string,
  ) {}

  /** The mapping of an index already met, or undefined (then `load`). */
  loaded(index: string): IndexMapping | undefined {
    return this.byIndex.get(index);
  }

  /** The mapping of `index`, seeded from the store the first time. */
  load(index: string): Promise<IndexMapping> {
    const m = this.byIndex.get(index);
    if (m) return Promise.resolve(m);
    let p = this.loading.get(index);
    if (!p) {
      p = this.refresh([index]).then((all) => all.get(index) as IndexMapping);
      this.loading.set(index, p);
      const clear = (): void => void this.loading.delete(index);
      p.then(clear, clear);
    }
    return p;
  }

  /**
   * The mappings of `indices`, with the fields the store has for each added
   * where not mapped yet (documents written by other paths than this API).
   * The store is asked only for rows written since it was last asked (mappings.ts).
   */
  async refresh(indices: readonly string[]): Promise<Map<string, IndexMapping>> {
    const generation = this.generation;
    const all = (await this.ctx.store.fields({ fromMicros: 0, toMicros: Number.MAX_SAFE_INTEGER })).filter((f) => !METADATA.test(f.name));
    const stored = await fieldsByIndex(this.ctx.store, [...indices], all, this.unindexed);
    const out = new Map<string, IndexMapping>();
    for (const index of indices) {
      let m = this.byIndex.get(index);
      const fields = stored.get(index) ?? [];
      const fresh = m === undefined;
      if (m === undefined) m = this.create(index);
      for (const f of fields) {
        // `@timestamp` is every stored row's time: shown for an index first met with documents (whether they had one
        // cannot be told from the store), and afterwards only once a document brings it.
        if (f.name === '@timestamp' && !fresh) continue;
        m.seed(f.name, f.name === '@timestamp' ? DYNAMIC.date : storeMapping(f));
      }
      if (fresh) m.relaxSeededParents();
      if (fresh && generation === this.generation) this.byIndex.set(index, m);
      out.set(index, m);
    }
    return out;
  }

  private create(index: string): IndexMapping {
    const m = new IndexMapping(index);
    const own = this.meta.indices.get(index);
    const declared = own?.mappings ?? templateMappings(this.meta, index);
    const template = matchingIndexTemplate(this.meta, index)?.[1];
    const templateSettings = isObj(template?.template) && isObj(template.template.settings) ? template.template.settings : undefined;
    m.declare(declared, own?.settings ?? templateSettings);
    return m;
  }

  /** Re-applies what is declared for `index` (after `PUT idx/_mapping`): explicit wins. */
  redeclare(index: string): void {
    const m = this.byIndex.get(index);
    const own = this.meta.indices.get(index);
    if (m && own) m.declare(own.mappings, own.settings);
  }

  /** Forgets these indices' mappings (all, without `indices`): after an index is deleted. */
  forget(indices?: readonly string[]): void {
    this.generation++;
    if (indices === undefined) this.byIndex.clear();
    else for (const i of indices) this.byIndex.delete(i);
  }
}

const registries = new WeakMap<EsMeta, IndexMappings>();

/** The mappings of the server `meta` belongs to (made on first use). */
export function indexMappings(ctx: EsContext, meta: EsMeta): IndexMappings {
  let r = registries.get(meta);
  if (!r) registries.set(meta, (r = new IndexMappings(ctx, meta, UNINDEXED)));
  return r;
}

/**
 * For the query side: whether `field` of `index` is searched by word and by whole value (`text+keyword`, the
 * dynamic default for strings), by whole value only (`keyword`) or by word only (`text`); undefined for a
 * field that is not a string field there (or unknown).
 */
export async function stringFieldKind(ctx: EsContext, meta: EsMeta, index: string, field: string): Promise<StringFieldKind | undefined> {
  return (await indexMappings(ctx, meta).load(index)).stringFieldKind(field);
}
