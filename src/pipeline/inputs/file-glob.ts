/**
 * Expanding the file input's `path` globs: `*`, `?`, `[abc]`, `[!abc]`, `{a,b}` within a path segment
 * and `**` for any depth of directories, as Logstash's file input (Ruby's Dir.glob) allows.
 * Directories are walked at most MAX_DEPTH deep and at most MAX_MATCHES files are returned, so a
 * pattern such as `/**` cannot run away.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const MAX_MATCHES = 10_000;
const MAX_DEPTH = 32;

export function hasMagic(segment: string): boolean {
  return /[*?[{]/.test(segment);
}

/** A regular expression for one path segment (or a bare file name, for `exclude`). */
export function segmentRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        const negate = body.startsWith('!') || body.startsWith('^');
        if (negate) body = body.slice(1);
        out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = close;
      }
    } else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) out += '\\{';
      else {
        out += `(?:${glob.slice(i + 1, close).split(',').map((alt) => segmentRegExp(alt).source.slice(1, -1)).join('|')})`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** The regular files an absolute glob names now, sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/').filter((s) => s !== '');
  const found = new Set<string>();
  await walk('/', segments, 0, found);
  return [...found].sort();
}

async function walk(dir: string, segments: readonly string[], depth: number, found: Set<string>): Promise<void> {
  if (found.size >= MAX_MATCHES || depth > MAX_DEPTH) return;
  if (segments.length === 0) {
    if (await isFile(dir)) found.add(dir);
    return;
  }
  const [segment, ...rest] = segments;
  if (segment === '**') {
    // Zero directories, then each directory below (dot-directories left out, as Dir.glob does).
    await walk(dir, rest, depth, found);
    for (const entry of await directories(dir)) await walk(path.join(dir, entry), segments, depth + 1, found);
    return;
  }
  if (!hasMagic(segment)) {
    await walk(path.join(dir, segment), rest, depth, found);
    return;
  }
  const pattern = segmentRegExp(segment);
  for (const name of await names(dir)) {
    if (name.startsWith('.') && !segment.startsWith('.')) continue;
    if (pattern.test(name)) await walk(path.join(dir, name), rest, depth + 1, found);
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch {
    return [];
  }
}

async function directories(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
