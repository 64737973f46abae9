/**
 * What bench/run.ts plants in its generated events and bench/search.ts looks for: one place, so that the
 * two agree on the values, their positions and the names of the cached files.
 */
import path from 'node:path';

/** A word no sample line holds, appended to one event's message. */
export const NEEDLE = 'zq7needle4x';
/** Where the needle goes, as a share of the events. */
export const NEEDLE_AT = 0.37;
/**
 * A client address from TEST-NET-2 (RFC 5737), given to one access line. The generator keeps its own
 * addresses out of 198.51.100.0/24, so this one is in exactly one raw line (search.ts checks it with grep).
 */
export const PLANTED_ADDRESS = '198.51.100.77';
/** The request_id of that same event (ids are otherwise drawn from the generator's prng). */
export const PLANTED_REQUEST_ID = 'bad3e66365154cd4';
/** Where the planted access line goes: the first access line from this share of the events on. */
export const PLANTED_AT = 0.61;

/**
 * The cached data files for `events` events in `dir`. `v2`: events carry a request_id and the planted
 * access line; caches of the first layout are not reused.
 */
export function dataFiles(dir: string, events: number): { ndjson: string; raw: string } {
  return { ndjson: path.join(dir, `events-${events}-v2.ndjson`), raw: path.join(dir, `raw-${events}-v2.log`) };
}

/**
 * Plants the needle and the planted access line into a stream of generated events, by index. Kept as
 * a small state machine because the planted line waits for the first access line at or after its index.
 */
export class Planter {
  private readonly needleAt: number;
  private readonly plantAt: number;
  private planted = false;

  constructor(events: number) {
    this.needleAt = Math.floor(events * NEEDLE_AT);
    this.plantAt = Math.floor(events * PLANTED_AT);
  }

  /** The event at index `i`, changed if something is planted there. */
  apply(i: number, line: string, json: string): { line: string; json: string } {
    if (i === this.needleAt) {
      return { line: `${line} ${NEEDLE}`, json: json.replace(/"message":"/, `"message":"${NEEDLE} `) };
    }
    if (!this.planted && i >= this.plantAt && i !== this.needleAt) {
      const client = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?= )/;
      if (!json.includes('"source":"/var/log/apache2/access.log"') || !client.test(line)) return { line, json };
      this.planted = true;
      const changed = line.replace(client, PLANTED_ADDRESS);
      // Parsed and written again: the key order stays, and the message is escaped as the generator does.
      const event = JSON.parse(json) as Record<string, unknown>;
      event.message = changed;
      event.request_id = PLANTED_REQUEST_ID;
      return { line: changed, json: JSON.stringify(event) };
    }
    return { line, json };
  }

  /** Whether the planted line went in (false only when no access line followed its index). */
  get done(): boolean {
    return this.planted;
  }
}
