/**
 * The `fingerprint` filter: a consistent hash of one or more fields in `target`, for document ids that make a
 * repeated event overwrite itself rather than pile up. SHA1/SHA256/SHA384/SHA512/MD5 (an HMAC when `key` is
 * given; hex, or base64 with `base64encode`), MURMUR3 (32-bit, a number), MURMUR3_128 (hex or base64),
 * PUNCTUATION (the punctuation and symbols of the text) and UUID (random, not a hash).
 *
 * As in Logstash: several sources without `concatenate_sources` each overwrite `target`, so the last present
 * one wins; a list value gives a list of fingerprints; `concatenate_sources` hashes `|name|value|name|value|`
 * over the sorted source names, `concatenate_all_fields` the same over every field.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { filterDecoration } from '../common.js';
import { isObject, METADATA, type PipelineEvent, type PipelineValue } from '../event.js';
import type { FieldPath } from '../field-ref.js';
import type { FilterFactory } from '../plugin.js';
import { murmur3x64_128, murmur3x86_32 } from './murmur3.js';

const METHODS = ['SHA1', 'SHA256', 'SHA384', 'SHA512', 'MD5', 'MURMUR3', 'MURMUR3_128', 'UUID', 'PUNCTUATION'] as const;
type Method = (typeof METHODS)[number];
const DIGESTS: Partial<Record<Method, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512', MD5: 'md5' };
const PUNCTUATION_REMOVED = /[^\p{P}\p{S}]/gu;

type Hash = (text: string) => PipelineValue;

export const fingerprintFilter: FilterFactory = (settings) => {
  const label = `filter fingerprint (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const sourceNames = settings.has('source') ? settings.strings('source') : ['message'];
  const sources: Array<{ name: string; path: FieldPath }> = sourceNames.map((name) => ({ name, path: settings.fieldPath('source', name) }));
  const target = settings.fieldPath('target', settings.string('target', 'fingerprint'));
  const method = settings.choice('method', METHODS, 'SHA1');
  const key = settings.string('key');
  const base64 = settings.boolean('base64encode', false);
  const concatenateSources = settings.boolean('concatenate_sources', false);
  const concatenateAll = settings.boolean('concatenate_all_fields', false);
  const decorate = filterDecoration(settings);
  settings.done();
  const hash = hashOf(method, key, base64);
  const sortedSources = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const fingerprint = (event: PipelineEvent): void => {
    if (method === 'UUID') {
      event.set(target, randomUUID());
      return;
    }
    if (method === 'PUNCTUATION') {
      for (const source of sortedSources) {
        const value = event.get(source.path);
        if (typeof value === 'string') event.set(target, value.replace(PUNCTUATION_REMOVED, ''));
      }
      return;
    }
    if (concatenateSources || concatenateAll) {
      let text = '';
      if (concatenateAll) {
        for (const name of Object.keys(event.fields).sort()) text += `|${name}|${plainText(event.fields[name])}`;
      } else {
        for (const source of sortedSources) {
          const value = event.get(source.path);
          text += `|${source.name}|${value === undefined ? '' : plainText(value)}`;
        }
      }
      event.set(target, hash(text + '|'));
      return;
    }
    for (const source of sources) {
      const value = event.get(source.path);
      if (value === undefined) continue;
      event.set(target, Array.isArray(value) ? value.map((v) => hash(plainText(v))) : hash(plainText(value)));
    }
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        fingerprint(event);
        decorate(event);
      }
      return events;
    },
  };
};

function hashOf(method: Method, key: string | undefined, base64: boolean): Hash {
  const encoding = base64 ? 'base64' : 'hex';
  const digest = DIGESTS[method];
  if (digest !== undefined) {
    if (key !== undefined) return (text) => createHmac(digest, key).update(text, 'utf8').digest(encoding);
    return (text) => createHash(digest).update(text, 'utf8').digest(encoding);
  }
  if (method === 'MURMUR3') return (text) => murmur3x86_32(Buffer.from(text, 'utf8'));
  if (method === 'MURMUR3_128') return (text) => Buffer.from(murmur3x64_128(Buffer.from(text, 'utf8'))).toString(encoding);
  return (text) => text;
}

/**
 * A value as the text hashed: strings as they are, null as "", hashes with their keys sorted (so the
 * same content gives the same fingerprint, as Logstash's deep sort does), written as JSON.
 */
function plainText(value: PipelineValue): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value !== 'object') return String(value);
  return JSON.stringify(sortedDeep(value));
}

/** Deeper than this, a value is hashed as a marker: a pathological event must not overflow the stack. */
const MAX_DEPTH = 64;

function sortedDeep(value: PipelineValue, depth = 0): PipelineValue {
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => sortedDeep(v, depth + 1));
  if (!isObject(value)) return value;
  const out: Record<string, PipelineValue> = {};
  for (const key of Object.keys(value).sort()) if (key !== METADATA) out[key] = sortedDeep(value[key], depth + 1);
  return out;
}
