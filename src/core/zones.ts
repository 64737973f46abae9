/**
 * IANA time zones through Intl (no dependency): the offset of a zone at an
 * instant, cached per 15-minute bucket, and wall-clock to instant. Shared by
 * the syslog parser (year-less local dates) and the Elasticsearch API
 * (`time_zone` of ranges and date histograms).
 */

const MS_PER_DAY = 86_400_000;
const MS_400_YEARS = 146097 * MS_PER_DAY;

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, sec: number): number {
  if (y >= 100 || y < 0) return Date.UTC(y, mo - 1, d, h, mi, sec);
  return Date.UTC(y + 400, mo - 1, d, h, mi, sec) - MS_400_YEARS;
}

export interface Zone {
  /** null: UTC (or an unknown zone name, treated as UTC) */
  dtf: Intl.DateTimeFormat | null;
  /** 15-minute bucket -> offset in ms; NaN marks a bucket containing a transition */
  cache: Map<number, number>;
}

const BUCKET_MS = 15 * 60 * 1000;
const MIN_INTL_MS = -62135596800000 + 2 * MS_PER_DAY; // 0001-01-03T00:00:00Z
const MAX_CACHED_BUCKETS = 8192;
const MAX_ZONES = 256;
const UTC_ZONE: Zone = { dtf: null, cache: new Map() };
const zones = new Map<string, Zone>();

/** The zone of an IANA name; unknown names (and UTC) give UTC. */
export function getZone(name: string | undefined): Zone {
  if (name === undefined || name === 'UTC' || name === 'Etc/UTC' || typeof name !== 'string') return UTC_ZONE;
  let z = zones.get(name);
  if (z !== undefined) return z;
  let dtf: Intl.DateTimeFormat | null = null;
  try {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const resolved = dtf.resolvedOptions().timeZone;
    if (resolved === 'UTC' || resolved === 'Etc/UTC') dtf = null;
  } catch {
    dtf = null;
  }
  z = dtf === null ? UTC_ZONE : { dtf, cache: new Map() };
  if (zones.size >= MAX_ZONES) zones.clear();
  zones.set(name, z);
  return z;
}

/** Offset (local - UTC, ms) of the zone at instant t, computed by Intl. */
function offsetExact(dtf: Intl.DateTimeFormat, t: number): number {
  // Before year 1 ICU switches to eras; such offsets are meaningless anyway.
  if (!(t >= MIN_INTL_MS && t <= 8.64e15)) return 0;
  let y = 0;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let sec = 0;
  for (const p of dtf.formatToParts(t)) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': sec = Number(p.value); break;
      default: break;
    }
  }
  const off = utcMs(y, mo, d, h % 24, mi, sec) - Math.floor(t / 1000) * 1000;
  // Guard against an ICU answer that does not describe the same instant.
  return off === off && off > -30 * 3600000 && off < 30 * 3600000 ? off : 0;
}

export function offsetAt(zone: Zone, t: number): number {
  const dtf = zone.dtf;
  if (dtf === null) return 0;
  const b = Math.floor(t / BUCKET_MS);
  const cached = zone.cache.get(b);
  if (cached !== undefined) return cached === cached ? cached : offsetExact(dtf, t);
  const start = b * BUCKET_MS;
  const o1 = offsetExact(dtf, start);
  const o2 = offsetExact(dtf, start + BUCKET_MS - 1000);
  if (zone.cache.size >= MAX_CACHED_BUCKETS) zone.cache.clear();
  if (o1 === o2) {
    zone.cache.set(b, o1);
    return o1;
  }
  zone.cache.set(b, NaN);
  return offsetExact(dtf, t);
}

/** Wall-clock time (as if UTC) in the zone -> instant. Gaps and overlaps resolve like most libraries (earlier offset wins). */
export function wallToUtc(zone: Zone, wall: number): number {
  if (zone.dtf === null || wall !== wall) return wall;
  const o1 = offsetAt(zone, wall);
  const t = wall - o1;
  const o2 = offsetAt(zone, t);
  return o2 === o1 ? t : wall - o2;
}

/** Offset in ms (local - UTC) of an IANA zone at an instant; unknown zones are UTC. */
export function zoneOffsetMs(timeZone: string, at: number): number {
  return offsetAt(getZone(timeZone), at);
}

const knownZones = new Map<string, boolean>();

/** Whether Intl knows this zone name (cached: request parameters name the same zones again and again). */
export function isTimeZone(name: string): boolean {
  let known = knownZones.get(name);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      known = true;
    } catch {
      known = false;
    }
    if (knownZones.size >= 1024) knownZones.clear();
    knownZones.set(name, known);
  }
  return known;
}
