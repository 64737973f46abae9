/**
 * Where pipelines' configurations come from, as Logstash reads them: `-f` a file, a directory whose
 * `*.conf` files are read in name order, or a glob; `-e` text; or a `pipelines.yml` listing several
 * pipelines, each with `pipeline.id`, `path.config` or `config.string`, `pipeline.workers` and
 * `pipeline.batch.size`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigSyntaxError, type ConfigTree } from './parser/ast.js';
import { parseConfig } from './parser/parse.js';
import { BATCH_SIZE } from './batch.js';

/** A configuration that cannot be read: a missing file, a syntax error, a bad pipelines.yml. */
export class PipelineLoadError extends Error {
  override name = 'PipelineLoadError';
}

export interface PipelineSpec {
  readonly id: string;
  readonly tree: ConfigTree;
  /** Where the configuration came from, for messages: a path, or `config.string`. */
  readonly source: string;
  /** The configuration's text when it came inline (`config.string`); files are read again when asked (configText). */
  readonly text?: string;
  /** Filter workers (threads); Logstash's default is the number of cores. */
  readonly workers: number;
  readonly batchSize: number;
}

export const DEFAULT_WORKERS = Math.max(1, os.availableParallelism());

/** A file, a directory of `*.conf` files (name order) or a glob such as `/etc/logmill/conf.d/*.conf`, joined. */
export function readConfigPath(where: string): ConfigTree {
  const files = configFiles(where);
  const trees = files.map((file) => parseText(fs.readFileSync(file, 'utf8'), file));
  return { sections: trees.flatMap((t) => t.sections) };
}

/** A spec's configuration as written: its inline text, or its files' texts joined in the order they are read. */
export function configText(spec: PipelineSpec): string | null {
  if (spec.text !== undefined) return spec.text;
  try {
    const files = configFiles(spec.source);
    if (files.length === 1) return fs.readFileSync(files[0], 'utf8');
    return files.map((f) => `# ---- ${f}\n${fs.readFileSync(f, 'utf8')}`).join('\n');
  } catch {
    return null;
  }
}

export function parseText(text: string, source: string): ConfigTree {
  try {
    return parseConfig(text, source);
  } catch (error) {
    if (error instanceof ConfigSyntaxError) throw new PipelineLoadError(error.message);
    throw error;
  }
}

function configFiles(where: string): string[] {
  if (/[*?[]/.test(path.basename(where))) {
    const dir = path.dirname(where);
    const pattern = globToRegExp(path.basename(where));
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      throw new PipelineLoadError(`no such directory: ${dir} (from ${where})`);
    }
    const files = names.filter((n) => pattern.test(n)).sort().map((n) => path.join(dir, n));
    if (files.length === 0) throw new PipelineLoadError(`${where} matches no file`);
    return files;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(where);
  } catch {
    throw new PipelineLoadError(`no such file or directory: ${where}`);
  }
  if (!stat.isDirectory()) return [where];
  const files = fs
    .readdirSync(where)
    .filter((name) => name.endsWith('.conf'))
    .sort()
    .map((name) => path.join(where, name));
  if (files.length === 0) throw new PipelineLoadError(`${where} holds no .conf file`);
  return files;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (const c of glob) out += c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${out}$`);
}

/** One pipeline from `-f`/`-e`, with Logstash's defaults. */
export function singlePipeline(tree: ConfigTree, source: string, id = 'main'): PipelineSpec {
  return { id, tree, source, workers: DEFAULT_WORKERS, batchSize: BATCH_SIZE };
}

/** A Logstash `pipelines.yml`. Relative `path.config` paths are taken from the file's own directory. */
export function readPipelinesYml(file: string): PipelineSpec[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new PipelineLoadError(`cannot read ${file}: no such file`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new PipelineLoadError(`${file}: not YAML: ${(error as Error).message}`);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new PipelineLoadError(`${file}: must be a list of pipelines, as in:\n- pipeline.id: main\n  path.config: "conf.d/*.conf"`);
  const seen = new Set<string>();
  return doc.map((entry: unknown, i) => {
    const where = `${file}: pipeline ${i + 1}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new PipelineLoadError(`${where} must be a mapping with pipeline.id and path.config or config.string`);
    const settings = flatten(entry as Record<string, unknown>);
    const known = new Set(['pipeline.id', 'path.config', 'config.string', 'pipeline.workers', 'pipeline.batch.size', 'pipeline.batch.delay', 'pipeline.ordered', 'pipeline.ecs_compatibility', 'queue.type', 'config.reload.automatic', 'config.reload.interval']);
    for (const key of Object.keys(settings)) if (!known.has(key)) throw new PipelineLoadError(`${where}: unknown setting "${key}"; known: ${[...known].join(', ')}`);
    const id = settings['pipeline.id'];
    if (typeof id !== 'string' || id === '') throw new PipelineLoadError(`${where} needs a pipeline.id`);
    if (seen.has(id)) throw new PipelineLoadError(`${file}: pipeline.id "${id}" is given twice`);
    seen.add(id);
    const configPath = settings['path.config'];
    const configString = settings['config.string'];
    if ((configPath === undefined) === (configString === undefined)) throw new PipelineLoadError(`${where} ("${id}") needs one of path.config and config.string`);
    let tree: ConfigTree;
    let source: string;
    let inline: string | undefined;
    if (typeof configString === 'string') {
      inline = configString;
      tree = parseText(configString, `${file} (${id}: config.string)`);
      source = `${file} (${id})`;
    } else if (typeof configPath === 'string') {
      source = path.resolve(path.dirname(file), configPath);
      tree = readConfigPath(source);
    } else throw new PipelineLoadError(`${where} ("${id}"): path.config and config.string must be text`);
    return { id, tree, source, text: inline, workers: positive(settings['pipeline.workers'], DEFAULT_WORKERS, `${where} ("${id}"): pipeline.workers`), batchSize: positive(settings['pipeline.batch.size'], BATCH_SIZE, `${where} ("${id}"): pipeline.batch.size`) };
  });
}

/** `{pipeline: {id: x}}` and `{"pipeline.id": x}` are the same setting in Logstash's YAML. */
function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix + key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, flatten(value as Record<string, unknown>, `${name}.`));
    else out[name] = value;
  }
  return out;
}

function positive(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new PipelineLoadError(`${what} must be a whole number of at least 1, not ${JSON.stringify(value)}`);
  return n;
}
