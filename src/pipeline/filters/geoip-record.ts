/**
 * Turns a MaxMind DB record into the geoip filter's legacy (non-ECS) fields.
 *
 * Two record shapes are read, told apart by their keys rather than by the database's type string:
 * - MaxMind's own GeoIP2 / GeoLite2 City, Country and ASN records (`country.iso_code`, `city.names.en`,
 *   `location.latitude`, `autonomous_system_number`, …), the databases Logstash ships;
 * - the flat records of ip-location-db's GeoLite2-derived files (`country_code`, `state1`, `city`,
 *   `postcode`, `latitude`, `timezone`), which carry no continent and no names: the country's
 *   English name comes from the runtime's ICU (Intl.DisplayNames), and continent_code stays absent.
 */
import type { PipelineObject, PipelineValue } from '../event.js';

export const GEO_FIELDS = [
  'ip', 'country_code2', 'country_code3', 'country_name', 'continent_code', 'region_name', 'region_code', 'city_name',
  'postal_code', 'latitude', 'longitude', 'location', 'timezone', 'dma_code', 'asn', 'as_org',
] as const;
export type GeoField = (typeof GEO_FIELDS)[number];

type Unknown = Record<string, unknown>;

function objectAt(record: unknown, key: string): Unknown | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const value = (record as Unknown)[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Unknown) : undefined;
}

function textAt(record: unknown, key: string): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const value = (record as Unknown)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberAt(record: unknown, key: string): number | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const value = (record as Unknown)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function englishName(record: unknown): string | undefined {
  return textAt(objectAt(record, 'names'), 'en');
}

let regionNames: Intl.DisplayNames | null | undefined;
function countryNameOf(code: string): string | undefined {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  // ICU's lookup costs microseconds and there are some 250 codes: each is asked once.
  const known = countryNames.get(code);
  if (known !== undefined || countryNames.has(code)) return known;
  let name: string | undefined;
  try {
    const found = regionNames?.of(code);
    name = found && found !== code ? found : undefined;
  } catch {
    name = undefined;
  }
  if (countryNames.size < 1024) countryNames.set(code, name);
  return name;
}
const countryNames = new Map<string, string | undefined>();

/** All legacy fields a record yields (absent ones left out); null when the record holds nothing usable. */
export function geoFields(ip: string, record: unknown): Partial<Record<GeoField, PipelineValue>> | null {
  if (typeof record !== 'object' || record === null) return null;
  const out: Partial<Record<GeoField, PipelineValue>> = {};
  const put = (field: GeoField, value: PipelineValue | undefined): void => {
    if (value !== undefined) out[field] = value;
  };
  if ('country_code' in record || 'state1' in record) {
    const code = textAt(record, 'country_code');
    put('country_code2', code);
    put('country_name', code ? countryNameOf(code) : undefined);
    put('region_name', textAt(record, 'state1'));
    put('city_name', textAt(record, 'city'));
    put('postal_code', textAt(record, 'postcode'));
    put('timezone', textAt(record, 'timezone'));
    putLocation(put, numberAt(record, 'latitude'), numberAt(record, 'longitude'));
  } else {
    const country = objectAt(record, 'country') ?? objectAt(record, 'registered_country');
    const subdivision = firstSubdivision(record);
    const location = objectAt(record, 'location');
    put('country_code2', textAt(country, 'iso_code'));
    put('country_code3', textAt(country, 'iso_code3'));
    put('country_name', englishName(country));
    put('continent_code', textAt(objectAt(record, 'continent'), 'code'));
    put('region_name', englishName(subdivision));
    put('region_code', textAt(subdivision, 'iso_code'));
    put('city_name', englishName(objectAt(record, 'city')));
    put('postal_code', textAt(objectAt(record, 'postal'), 'code'));
    put('timezone', textAt(location, 'time_zone'));
    put('dma_code', numberAt(location, 'metro_code'));
    putLocation(put, numberAt(location, 'latitude'), numberAt(location, 'longitude'));
  }
  put('asn', numberAt(record, 'autonomous_system_number'));
  put('as_org', textAt(record, 'autonomous_system_organization'));
  if (Object.keys(out).length === 0) return null;
  out.ip = ip;
  return out;
}

function firstSubdivision(record: unknown): Unknown | undefined {
  const list = (record as Unknown).subdivisions;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const first: unknown = list[0];
  return typeof first === 'object' && first !== null ? (first as Unknown) : undefined;
}

function putLocation(put: (field: GeoField, value: PipelineValue | undefined) => void, lat: number | undefined, lon: number | undefined): void {
  put('latitude', lat);
  put('longitude', lon);
  if (lat !== undefined && lon !== undefined) {
    const location: PipelineObject = { lat, lon };
    put('location', location);
  }
}
