/**
 * Logstash field references: `message`, `[host][name]`, `[@metadata][index]`.
 *
 * A reference names a path into an event's nested fields. A bare name is one top-level field, even
 * if it holds dots (`host.name` is one field called "host.name", as in Logstash).
 */

export type FieldPath = readonly string[];

/** Thrown for a reference that cannot name a field; settings turn it into a config error. */
export class FieldReferenceError extends Error {
  constructor(readonly reference: string, reason: string) {
    super(`invalid field reference "${reference}": ${reason}`);
    this.name = 'FieldReferenceError';
  }
}

const cache = new Map<string, FieldPath>();
const CACHE_LIMIT = 10_000;

export function parseFieldReference(text: string): FieldPath {
  const known = cache.get(text);
  if (known !== undefined) return known;
  const path = readReference(text);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, path);
  return path;
}

function readReference(text: string): FieldPath {
  if (text.length === 0) throw new FieldReferenceError(text, 'it is empty');
  if (text[0] !== '[') {
    if (text.includes('[') || text.includes(']')) throw new FieldReferenceError(text, 'brackets must enclose every part, as in [a][b]');
    return [text];
  }
  const path: string[] = [];
  let at = 0;
  while (at < text.length) {
    if (text[at] !== '[') throw new FieldReferenceError(text, `expected "[" at character ${at + 1}`);
    const close = text.indexOf(']', at + 1);
    if (close < 0) throw new FieldReferenceError(text, 'a "[" is never closed');
    const name = text.slice(at + 1, close);
    if (name.length === 0) throw new FieldReferenceError(text, 'a part is empty ([])');
    if (name.includes('[')) throw new FieldReferenceError(text, 'a part holds "["');
    path.push(name);
    at = close + 1;
  }
  return path;
}

/** A reference made from an event's data (`%{…}` in a field name): null when it names no field, so the event goes on untouched. */
export function fieldPathOrNull(text: string): FieldPath | null {
  try {
    return parseFieldReference(text);
  } catch (error) {
    if (error instanceof FieldReferenceError) return null;
    throw error;
  }
}
