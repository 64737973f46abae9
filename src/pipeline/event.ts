/**
 * The pipeline's event: nested fields as Logstash has them, `@timestamp` and `@version` at the top
 * and a hidden `@metadata` hash that filters and outputs can use but no output ships.
 */
import type { FieldPath } from './field-ref.js';

export type PipelineValue = string | number | boolean | null | PipelineValue[] | PipelineObject;
export interface PipelineObject {
  [field: string]: PipelineValue;
}

export const TIMESTAMP = '@timestamp';
export const METADATA = '@metadata';

export function isObject(value: PipelineValue | undefined): value is PipelineObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class PipelineEvent {
  /** Fields, `@timestamp` (ISO-8601 text) among them. */
  readonly fields: PipelineObject;
  readonly metadata: PipelineObject = {};
  /** Set by the drop filter: the event goes no further. */
  cancelled = false;

  constructor(fields: PipelineObject = {}, now: Date = new Date()) {
    this.fields = fields;
    if (typeof fields[TIMESTAMP] !== 'string') fields[TIMESTAMP] = now.toISOString();
    if (fields['@version'] === undefined) fields['@version'] = '1';
  }

  /** The event's time in milliseconds; the current time when `@timestamp` is not a readable date. */
  timeMs(): number {
    const text = this.fields[TIMESTAMP];
    const ms = typeof text === 'string' ? Date.parse(text) : NaN;
    return Number.isFinite(ms) ? ms : Date.now();
  }

  get(path: FieldPath): PipelineValue | undefined {
    let node: PipelineValue | undefined = this.rootOf(path);
    for (let i = path[0] === METADATA ? 1 : 0; i < path.length; i++) {
      if (isObject(node)) node = node[path[i]];
      else if (Array.isArray(node) && /^-?\d+$/.test(path[i])) node = node.at(Number(path[i]));
      else return undefined;
    }
    return node;
  }

  has(path: FieldPath): boolean {
    return this.get(path) !== undefined;
  }

  /** Sets a field, making the hashes on its way; a scalar on the way is replaced by a hash, as in Logstash. */
  set(path: FieldPath, value: PipelineValue): void {
    if (path.length === 1 && path[0] === METADATA) {
      if (!isObject(value)) throw new TypeError('@metadata can only be set to a hash');
      for (const key of Object.keys(this.metadata)) delete this.metadata[key];
      Object.assign(this.metadata, value);
      return;
    }
    let node = this.rootOf(path);
    const first = path[0] === METADATA ? 1 : 0;
    for (let i = first; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (isObject(next)) node = next;
      else node = node[path[i]] = {};
    }
    node[path[path.length - 1]] = value;
  }

  /** Removes a field and returns what it held. */
  remove(path: FieldPath): PipelineValue | undefined {
    const parentPath = path.slice(0, -1);
    const parent = parentPath.length === 0 || (parentPath.length === 1 && parentPath[0] === METADATA) ? this.rootOf(path) : this.get(parentPath);
    if (!isObject(parent)) return undefined;
    const key = path[path.length - 1];
    if (!(key in parent)) return undefined;
    const value = parent[key];
    delete parent[key];
    return value;
  }

  tags(): string[] {
    const tags = this.fields.tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : typeof tags === 'string' ? [tags] : [];
  }

  addTag(tag: string): void {
    const tags = this.tags();
    if (!tags.includes(tag)) this.fields.tags = [...tags, tag];
  }

  /** The event as shipped: every field but `@metadata`. */
  toJSON(): PipelineObject {
    return this.fields;
  }

  private rootOf(path: FieldPath): PipelineObject {
    return path[0] === METADATA ? this.metadata : this.fields;
  }
}
