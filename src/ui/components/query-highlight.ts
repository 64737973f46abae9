/**
 * A small tokenizer for highlighting Logmill queries in the query bar: field names, operators
 * (AND/OR/NOT, -, +, &&, ||, !), quoted strings, comparisons/ranges, pipes and pipe commands.
 * It never fails: it only colours; the server is the judge of syntax.
 */
export type QueryTokenKind = 'field' | 'operator' | 'string' | 'pipe' | 'command' | 'paren' | 'range' | 'word' | 'wildcard';

export interface QueryToken {
  kind: QueryTokenKind;
  from: number;
  to: number;
}

const FIELD_WORD = /^(?:\\.|[\p{L}\p{N}_.@-])+/u;
const OPERATORS = new Set(['AND', 'OR', 'NOT', 'TO']);
const COMMANDS = new Set(['stats', 'top', 'fields', 'sort', 'head', 'limit', 'by', 'as']);

export function tokenizeQuery(text: string): QueryToken[] {
  const tokens: QueryToken[] = [];
  let i = 0;
  let inPipes = false;
  let expectCommand = false;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, text.length);
      tokens.push({ kind: 'string', from: i, to: j });
      i = j;
      continue;
    }
    if (text.startsWith('||', i) || text.startsWith('&&', i)) {
      tokens.push({ kind: 'operator', from: i, to: i + 2 });
      i += 2;
      continue;
    }
    if (c === '|') {
      tokens.push({ kind: 'pipe', from: i, to: i + 1 });
      inPipes = true;
      expectCommand = true;
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: 'paren', from: i, to: i + 1 });
      i++;
      continue;
    }
    if (!inPipes && (c === '[' || c === ']' || c === '{' || c === '}' || ((c === '>' || c === '<') && text[i + 1] !== undefined))) {
      const len = (c === '>' || c === '<') && text[i + 1] === '=' ? 2 : 1;
      tokens.push({ kind: 'range', from: i, to: i + len });
      i += len;
      continue;
    }
    if (!inPipes && (c === '!' || ((c === '-' || c === '+') && (i === 0 || /[\s(]/.test(text[i - 1]))))) {
      tokens.push({ kind: 'operator', from: i, to: i + 1 });
      i++;
      continue;
    }
    // A word: up to whitespace or a special character (a backslash escapes).
    let j = i;
    while (j < text.length && !/[\s()"|[\]{}:,]/.test(text[j])) j += text[j] === '\\' ? 2 : 1;
    j = Math.min(j, text.length);
    if (j === i) {
      i++; // ':' or ',' on their own
      continue;
    }
    const word = text.slice(i, j);
    if (!inPipes && text[j] === ':' && FIELD_WORD.exec(word)?.[0].length === word.length) {
      tokens.push({ kind: 'field', from: i, to: j + 1 });
      i = j + 1;
      continue;
    }
    let kind: QueryTokenKind = 'word';
    if (OPERATORS.has(word) && !inPipes) kind = 'operator';
    else if (inPipes && (expectCommand || COMMANDS.has(word.toLowerCase()))) kind = 'command';
    else if (/[*?]/.test(word.replace(/\\./g, ''))) kind = 'wildcard';
    expectCommand = false;
    tokens.push({ kind, from: i, to: j });
    i = j;
  }
  return tokens;
}

/**
 * What the cursor is completing: a field name (a word at the start of a term) or the value
 * of `field:` (the text after the colon, without a leading quote). `from` is where the
 * completion replaces text.
 */
export type CompletionContext =
  | { kind: 'field'; from: number; prefix: string }
  | { kind: 'value'; field: string; from: number; prefix: string; quoted: boolean }
  | null;

export function completionAt(text: string, pos: number): CompletionContext {
  const before = text.slice(0, pos);
  // Inside the pipes there is nothing to complete (yet).
  let quoted = false;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '\\') i++;
    else if (before[i] === '"') quoted = !quoted;
    else if (!quoted && before[i] === '|' && before[i + 1] !== '|' && before[i - 1] !== '|') return null;
  }
  const value = /((?:\\.|[\p{L}\p{N}_.@-])+):("?)((?:\\.|[^\s"()])*)$/u.exec(before);
  if (value) {
    const field = value[1].replace(/\\(.)/g, '$1');
    const q = value[2] === '"';
    if (quoted && !q) return null;
    return { kind: 'value', field, from: pos - value[3].length - value[2].length, prefix: value[3].replace(/\\(.)/g, '$1'), quoted: q };
  }
  if (quoted) return null;
  const word = /(^|[\s(!+-])((?:\\.|[\p{L}\p{N}_.@])*)$/u.exec(before);
  if (!word) return null;
  const prefix = word[2];
  if (/^(AND|OR|NOT|TO)$/.test(prefix)) return null;
  return { kind: 'field', from: pos - prefix.length, prefix };
}
