/**
 * Building query text from values the user clicked (filter for / filter out), escaped as the
 * query language wants (docs/query-language.md), so a value never changes the query's meaning.
 */

/** Characters a field name may hold unescaped; anything else gets a backslash. */
const FIELD_CHAR = /^[\p{L}\p{N}_.@-]$/u;

export function escapeField(field: string): string {
  let out = '';
  let first = true;
  for (const ch of field) {
    // A leading "-" would read as NOT, so it is escaped too.
    out += FIELD_CHAR.test(ch) && !(first && ch === '-') ? ch : '\\' + ch;
    first = false;
  }
  return out;
}

/** A quoted phrase: inside quotes only `\` and `"` are escapes. */
export function quoteValue(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** `host:"web-1"`, `NOT host:"web-1"`; a null/undefined value means "the field is missing". */
export function filterClause(field: string, value: unknown, negate: boolean): string {
  const f = escapeField(field);
  if (value === null || value === undefined) return negate ? `_exists_:${f}` : `NOT _exists_:${f}`;
  const clause = `${f}:${quoteValue(valueText(value))}`;
  return negate ? `NOT ${clause}` : clause;
}

/**
 * `q AND clause`, keeping q's pipes after the new filter. An empty or `*` query becomes the
 * clause alone; a query with OR is parenthesised so the clause narrows all of it.
 */
export function andQuery(q: string, clause: string): string {
  const { filter, pipes } = splitPipes(q);
  const f = filter.trim();
  let combined: string;
  if (f === '' || f === '*') combined = clause;
  else if (/\bOR\b|\|\|/.test(f)) combined = `(${f}) AND ${clause}`;
  else combined = `${f} AND ${clause}`;
  return pipes ? `${combined} ${pipes}` : combined;
}

/** Splits a query at its first unquoted, unescaped `|`: the filter and the pipes (starting with `|`). */
export function splitPipes(q: string): { filter: string; pipes: string } {
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === '|' && !quoted) {
      if (q[i + 1] === '|') {
        i++; // `||` is OR, not a pipe
        continue;
      }
      return { filter: q.slice(0, i), pipes: q.slice(i).trim() };
    }
  }
  return { filter: q, pipes: '' };
}

/** True if the query has a pipe (its answer is a table). */
export function isPiped(q: string): boolean {
  return splitPipes(q).pipes !== '';
}
