/**
 * Saved searches and dashboards: small JSON documents the web UI keeps in the server's data
 * directory (`saved-objects.json`), written whole to a temporary file, synced and renamed over
 * the old one, so that a crash leaves either the old file or the new one, never half of one.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export const SAVED_OBJECT_TYPES = ['dashboard', 'search'] as const;
export type SavedObjectType = (typeof SAVED_OBJECT_TYPES)[number];

export interface SavedObject {
  id: string;
  type: SavedObjectType;
  title: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export const SAVED_OBJECT_LIMITS = { objects: 1000, attributeBytes: 256 * 1024, titleChars: 200 } as const;

/** A saved object refused for a reason the caller can fix (answered as HTTP 400). */
export class SavedObjectError extends Error {
  override name = 'SavedObjectError';
}

export class SavedObjects {
  private readonly file: string;
  private objects = new Map<string, SavedObject>();
  private loaded: Promise<void> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'saved-objects.json');
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      let text: string;
      try {
        text = await fs.readFile(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      const parsed = JSON.parse(text) as { objects?: SavedObject[] };
      for (const o of parsed.objects ?? []) this.objects.set(o.id, o);
    })();
    return this.loaded;
  }

  async list(type?: SavedObjectType): Promise<SavedObject[]> {
    await this.load();
    return [...this.objects.values()].filter((o) => type === undefined || o.type === type).sort((a, b) => a.title.localeCompare(b.title));
  }

  async get(id: string): Promise<SavedObject | null> {
    await this.load();
    return this.objects.get(id) ?? null;
  }

  async create(input: { type: unknown; title: unknown; attributes: unknown }): Promise<SavedObject> {
    await this.load();
    const type = checkType(input.type);
    const title = checkTitle(input.title);
    const attributes = checkAttributes(input.attributes ?? {});
    if (this.objects.size >= SAVED_OBJECT_LIMITS.objects) {
      throw new SavedObjectError(`there are ${SAVED_OBJECT_LIMITS.objects} saved objects already, the most this server keeps; delete some first`);
    }
    const now = new Date().toISOString();
    const object: SavedObject = { id: randomUUID(), type, title, attributes, createdAt: now, updatedAt: now };
    this.objects.set(object.id, object);
    await this.persist();
    return object;
  }

  async update(id: string, change: { title?: unknown; attributes?: unknown }): Promise<SavedObject | null> {
    await this.load();
    const old = this.objects.get(id);
    if (!old) return null;
    const next: SavedObject = {
      ...old,
      title: change.title === undefined ? old.title : checkTitle(change.title),
      attributes: change.attributes === undefined ? old.attributes : checkAttributes(change.attributes),
      updatedAt: new Date().toISOString(),
    };
    this.objects.set(id, next);
    await this.persist();
    return next;
  }

  async remove(id: string): Promise<boolean> {
    await this.load();
    if (!this.objects.delete(id)) return false;
    await this.persist();
    return true;
  }

  /** Writes the whole set; writes are chained so that the last state always wins. */
  private persist(): Promise<void> {
    const text = JSON.stringify({ objects: [...this.objects.values()] });
    this.writing = this.writing.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      const handle = await fs.open(tmp, 'w');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, this.file);
    });
    return this.writing;
  }
}

function checkType(v: unknown): SavedObjectType {
  if (typeof v !== 'string' || !(SAVED_OBJECT_TYPES as readonly string[]).includes(v)) {
    throw new SavedObjectError(`"type" must be one of ${SAVED_OBJECT_TYPES.map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as SavedObjectType;
}

function checkTitle(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new SavedObjectError('"title" must be a non-empty string');
  if (v.length > SAVED_OBJECT_LIMITS.titleChars) throw new SavedObjectError(`"title" is ${v.length} characters; the most is ${SAVED_OBJECT_LIMITS.titleChars}`);
  return v.trim();
}

function checkAttributes(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SavedObjectError('"attributes" must be a JSON object');
  const size = Buffer.byteLength(JSON.stringify(v));
  if (size > SAVED_OBJECT_LIMITS.attributeBytes) {
    throw new SavedObjectError(`"attributes" is ${size} bytes of JSON; the most is ${SAVED_OBJECT_LIMITS.attributeBytes}`);
  }
  return v as Record<string, unknown>;
}
