/**
 * The `geoip` filter: looks an IP address up in a MaxMind DB (.mmdb) file and writes where it is
 * (country, region, city, location, time zone) or who routes it (ASN) under `target`, with Logstash's
 * legacy (non-ECS) field names.
 *
 * Logmill ships no database (GeoLite2's licence asks each user to accept MaxMind's terms), so
 * `database` is required unless LOGMILL_GEOIP_DIR names a directory holding GeoLite2-City.mmdb /
 * GeoLite2-ASN.mmdb. A database is read once per path and shared by every geoip filter that names it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Reader } from 'maxmind';
import { filterDecoration } from '../common.js';
import type { PipelineEvent, PipelineObject, PipelineValue } from '../event.js';
import type { FilterFactory } from '../plugin.js';
import type { Settings } from '../settings.js';
import { formatIp, isUnroutable, parseIp } from './ip-address.js';
import { geoFields, GEO_FIELDS, type GeoField } from './geoip-record.js';
import { LruCache } from './lru.js';
import { boundedWarn } from './warn-limit.js';

type GeoResult = Partial<Record<GeoField, PipelineValue>>;
/** A record for an address; null when the database has none, or cannot hold one of that version. */
type Lookup = (ip: string, version: 4 | 6) => unknown;

/** A .mmdb larger than this is refused: the reader keeps the whole file in memory. */
const MAX_DATABASE_BYTES = 1024 * 1024 * 1024;
const DATABASE_TYPES = ['City', 'ASN'] as const;
const DEFAULT_FILES: Record<(typeof DATABASE_TYPES)[number], string> = { City: 'GeoLite2-City.mmdb', ASN: 'GeoLite2-ASN.mmdb' };

/**
 * Readers by real path: many filters (one per pipeline, or per branch) name the same database. The
 * file's size and mtime go with it, so that a pipeline built after the file was updated (MaxMind
 * publishes twice a week) reads the new one, and the old reader is let go.
 */
const openDatabases = new Map<string, { stamp: string; lookup: Lookup }>();
/** How many times a database file was read whole: for tests that check the sharing. */
export const geoipDatabaseReads = { count: 0 };

export const geoipFilter: FilterFactory = (settings, context) => {
  const label = `filter geoip (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const sourceName = settings.string('source');
  if (sourceName === undefined) throw settings.error('source', 'is required: the field holding the IP address');
  const source = settings.fieldPath('source', sourceName);
  const target = settings.fieldPath('target', settings.string('target', 'geoip'));
  const databaseType = settings.choice('default_database_type', DATABASE_TYPES, 'City');
  const lookup = openDatabase(settings, databaseType);
  const fields = wantedFields(settings);
  const cache = new LruCache<string, GeoResult | null>(settings.number('cache_size', 1000, { integer: true, min: 0 }));
  const failureTags = settings.has('tag_on_failure') ? settings.strings('tag_on_failure') : ['_geoip_lookup_failure'];
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);

  const resolve = (ip: string, version: 4 | 6): GeoResult | null => {
    const cached = cache.get(ip);
    if (cached !== undefined) return cached;
    let found: GeoResult | null = null;
    try {
      found = geoFields(ip, lookup(ip, version));
    } catch (error) {
      // An IPv6 address in an IPv4-only database, or a damaged file: this event fails, the rest go on.
      warn(`lookup of ${ip} failed: ${(error as Error).message}`);
    }
    cache.set(ip, found);
    return found;
  };

  const enrich = (event: PipelineEvent): boolean => {
    const text = firstText(event.get(source));
    if (text === undefined) return false;
    const address = parseIp(text.trim());
    if (!address || isUnroutable(address)) return false;
    const found = resolve(formatIp(address), address.version);
    if (!found) return false;
    let wrote = false;
    for (const field of fields) {
      const value = found[field];
      if (value === undefined) continue;
      event.set([...target, field], structuredCloneIfObject(value));
      wrote = true;
    }
    return wrote;
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        if (enrich(event)) decorate(event);
        else for (const tag of failureTags) event.addTag(tag);
      }
      return events;
    },
  };
};

/** Logstash takes the first value of a list. */
function firstText(value: PipelineValue | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function structuredCloneIfObject(value: PipelineValue): PipelineValue {
  // `location` is a hash shared by the cache: each event gets its own, so a later mutate cannot change another's.
  if (typeof value !== 'object' || value === null) return value;
  // The only hash is location {lat, lon}: copied by hand, since structuredClone costs a serialization.
  if (!Array.isArray(value)) {
    const copy: PipelineObject = {};
    for (const key of Object.keys(value)) {
      const inner = value[key];
      copy[key] = typeof inner === 'object' && inner !== null ? structuredClone(inner) : inner;
    }
    return copy;
  }
  return structuredClone(value);
}

function wantedFields(settings: Settings): readonly GeoField[] {
  const named = settings.strings('fields');
  if (named.length === 0) return GEO_FIELDS;
  return named.map((name) => {
    const field = name.toLowerCase();
    if (!(GEO_FIELDS as readonly string[]).includes(field)) throw settings.error('fields', `names an unknown field "${name}"; known: ${GEO_FIELDS.join(', ')}`);
    return field as GeoField;
  });
}

function openDatabase(settings: Settings, type: (typeof DATABASE_TYPES)[number]): Lookup {
  let file = settings.string('database');
  if (file === undefined) {
    const dir = process.env.LOGMILL_GEOIP_DIR;
    if (!dir) {
      throw settings.error(
        'database',
        `is required: Logmill ships no GeoIP database. Download ${DEFAULT_FILES[type]} from MaxMind ` +
          '(free GeoLite2 account: https://dev.maxmind.com/geoip/geolite2-free-geolocation-data) and set database => "/path/to/it.mmdb", ' +
          'or set LOGMILL_GEOIP_DIR to the directory that holds it',
      );
    }
    file = path.join(dir, DEFAULT_FILES[type]);
  }
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (error) {
    throw settings.error('database', `names ${file}, which cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(real);
  } catch (error) {
    throw settings.error('database', `names ${file}, which cannot be read: ${(error as Error).message}`);
  }
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = openDatabases.get(real);
  if (known && known.stamp === stamp) return known.lookup;
  try {
    const size = stat.size;
    if (size > MAX_DATABASE_BYTES) throw new Error(`it is ${size} bytes, more than the ${MAX_DATABASE_BYTES} allowed`);
    geoipDatabaseReads.count++;
    const reader = new Reader<Record<string, unknown>>(fs.readFileSync(real));
    // An IPv4-only database walks an IPv6 address's first 32 bits and answers for some other place.
    const v4Only = reader.metadata.ipVersion === 4;
    const lookup: Lookup = (ip, version) => (v4Only && version === 6 ? null : reader.get(ip));
    openDatabases.set(real, { stamp, lookup });
    return lookup;
  } catch (error) {
    throw settings.error('database', `names ${file}, which is not a MaxMind DB file: ${(error as Error).message}`);
  }
}
