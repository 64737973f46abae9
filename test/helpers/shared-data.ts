/** The shared samples beside the repository (`../shared/data`), as CI lays them out on a fresh clone. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/test/helpers/shared-data.js). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');

export function sharedData(name: string): string {
  return path.join(SHARED_DATA, name);
}
