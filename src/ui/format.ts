/**
 * Numbers and times as every view shows them: thousands separators, and times in the browser's
 * zone (with the zone named) or in UTC, chosen once by the user and shared by all views.
 */
import { useEffect, useState } from 'preact/hooks';

export type Zone = 'local' | 'utc';

const ZONE_KEY = 'logmill.zone';
const numberFormat = new Intl.NumberFormat('en-US');

export function formatNumber(n: number): string {
  return Number.isFinite(n) ? numberFormat.format(n) : String(n);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2015-05-17 10:05:03.123` in the zone asked (ISO-like, so columns line up and sort by eye). */
export function formatTime(t: string | number, zone: Zone): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const utc = zone === 'utc';
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const mo = utc ? d.getUTCMonth() : d.getMonth();
  const day = utc ? d.getUTCDate() : d.getDate();
  const h = utc ? d.getUTCHours() : d.getHours();
  const mi = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const ms = utc ? d.getUTCMilliseconds() : d.getMilliseconds();
  return `${y}-${pad(mo + 1)}-${pad(day)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`;
}

/** "UTC", or the browser's zone with its current offset, e.g. "Europe/Paris (UTC+01:00)". */
export function zoneLabel(zone: Zone): string {
  if (zone === 'utc') return 'UTC';
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  const offset = -new Date().getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const text = `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return name === 'UTC' || name === 'Etc/UTC' ? `${name}` : `${name} (${text})`;
}

function storedZone(): Zone {
  try {
    return localStorage.getItem(ZONE_KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}

const zoneListeners = new Set<(z: Zone) => void>();

/** The zone chosen by the user (localStorage); every component using it re-renders on a change. */
export function useZone(): [Zone, (z: Zone) => void] {
  const [zone, setZoneState] = useState<Zone>(storedZone);
  useEffect(() => {
    const fn = (z: Zone) => setZoneState(z);
    zoneListeners.add(fn);
    return () => void zoneListeners.delete(fn);
  }, []);
  const setZone = (z: Zone) => {
    try {
      localStorage.setItem(ZONE_KEY, z);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
    zoneListeners.forEach((fn) => fn(z));
  };
  return [zone, setZone];
}
