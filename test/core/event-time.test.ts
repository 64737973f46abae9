/**
 * The shipper's time (issue 25, outcome 4): which of a document's keys gives
 * an event its time, and what is plausible, in the one function every ingest
 * path asks (core/time.ts shipperTime), and through each path's own reading:
 * normalize.ts's eventFromObject (native JSON), the scanner under both rules,
 * and the Elasticsearch writer's documentToEvent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldNames, FieldScanner, scannedShipperTime } from '../../src/core/json-fields.js';
import { eventFromObject } from '../../src/core/normalize.js';
import { plausibleShipperTime, shipperTime } from '../../src/core/time.js';
import { documentToEvent } from '../../src/api/es/write.js';

const ARRIVAL_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const ARRIVAL = ARRIVAL_MS * 1000;
const HOUR_MS = 3_600_000;

describe('plausibleShipperTime', () => {
  it('reads epoch seconds, milliseconds, microseconds and nanoseconds by magnitude', () => {
    const ms = ARRIVAL_MS - HOUR_MS;
    assert.equal(plausibleShipperTime(ms / 1000, ARRIVAL), ms * 1000, 'seconds');
    assert.equal(plausibleShipperTime((ms + 250) / 1000, ARRIVAL), (ms + 250) * 1000, 'seconds with a fraction');
    assert.equal(plausibleShipperTime(ms, ARRIVAL), ms * 1000, 'milliseconds');
    assert.equal(plausibleShipperTime(ms * 1000 + 7, ARRIVAL), ms * 1000 + 7, 'microseconds');
    assert.equal(plausibleShipperTime(ms * 1e6, ARRIVAL), ms * 1000, 'nanoseconds');
    assert.equal(plausibleShipperTime(String(ms), ARRIVAL), ms * 1000, 'milliseconds as digits');
  });

  it('reads ISO 8601 text with zones, and without one as UTC', () => {
    assert.equal(plausibleShipperTime('2026-12-07T10:00:00.123Z', ARRIVAL), Date.UTC(2026, 11, 7, 10, 0, 0, 123) * 1000);
    assert.equal(plausibleShipperTime('2026-12-07T11:00:00+01:00', ARRIVAL), Date.UTC(2026, 11, 7, 10) * 1000);
    assert.equal(plausibleShipperTime('2026-12-07T05:30:00-0430', ARRIVAL), Date.UTC(2026, 11, 7, 10) * 1000);
    assert.equal(plausibleShipperTime('2026-12-07 10:00:00', ARRIVAL), Date.UTC(2026, 11, 7, 10) * 1000);
    assert.equal(plausibleShipperTime('2026-12-07T10:00:00.123456Z', ARRIVAL), Date.UTC(2026, 11, 7, 10) * 1000 + 123456);
  });

  it('refuses what is not a time: durations, 1989, a year ahead, negatives, loose or bad text, other types', () => {
    for (const v of [0.12, 0, 12, 120_000, -1, -ARRIVAL_MS, 600_000_000 /* 1989 in seconds */, Date.UTC(1989, 11, 31) /* in ms */]) {
      assert.equal(plausibleShipperTime(v, ARRIVAL), null, String(v));
    }
    for (const v of ['1989-12-31T23:59:59Z', '2027-12-07T12:00:00Z', '0.12', '12', 'yesterday', 'Mon, 07 Dec 2026 10:00:00 GMT', 'v1.2', '', '2026-02-31T00:00:00Z', '-1765150000']) {
      assert.equal(plausibleShipperTime(v, ARRIVAL), null, v);
    }
    for (const v of [null, undefined, true, {}, [ARRIVAL_MS], Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(plausibleShipperTime(v, ARRIVAL), null, String(v));
    }
  });

  it('allows a day ahead of the arrival time and no more', () => {
    assert.equal(plausibleShipperTime(ARRIVAL_MS + 24 * HOUR_MS, ARRIVAL), (ARRIVAL_MS + 24 * HOUR_MS) * 1000);
    assert.equal(plausibleShipperTime(ARRIVAL_MS + 24 * HOUR_MS + 1, ARRIVAL), null);
    assert.equal(plausibleShipperTime(Date.UTC(1990, 0, 1), ARRIVAL), Date.UTC(1990, 0, 1) * 1000);
  });
});

describe('shipperTime', () => {
  const hourAgo = ARRIVAL_MS - HOUR_MS;
  it('takes timestamp, then time, then ts: the first plausible one', () => {
    assert.equal(shipperTime(hourAgo, hourAgo - 1000, hourAgo - 2000, ARRIVAL), hourAgo * 1000);
    assert.equal(shipperTime(undefined, hourAgo - 1000, hourAgo - 2000, ARRIVAL), (hourAgo - 1000) * 1000);
    assert.equal(shipperTime('not a time', 0.12, (hourAgo - 2000) / 1000, ARRIVAL), (hourAgo - 2000) * 1000);
    assert.equal(shipperTime('2099-01-01T00:00:00Z', -5, 'soon', ARRIVAL), null);
  });
});

describe('the ingest paths', () => {
  const hourAgo = ARRIVAL_MS - HOUR_MS;

  it('native JSON: `time` and `ts` give the time and stay fields; `@timestamp` and `timestamp` decide alone', () => {
    const pino = eventFromObject({ level: 30, time: hourAgo, msg: 'hi' }, ARRIVAL);
    assert.equal(pino.ts, hourAgo * 1000);
    assert.deepEqual(Object.entries(pino.fields), [['level', 30], ['time', hourAgo], ['msg', 'hi']]);
    assert.equal(eventFromObject({ ts: hourAgo / 1000, msg: 'x' }, ARRIVAL).ts, hourAgo * 1000);
    assert.equal(eventFromObject({ time: 0.12, msg: 'a duration' }, ARRIVAL).ts, ARRIVAL);
    const ahead = eventFromObject({ time: ARRIVAL_MS + 366 * 24 * HOUR_MS, msg: 'a year ahead' }, ARRIVAL);
    assert.equal(ahead.ts, ARRIVAL);
    assert.equal(ahead.fields.time, ARRIVAL_MS + 366 * 24 * HOUR_MS, 'kept as sent');
    assert.equal(ahead.fields.tags, undefined, 'no tag');
    assert.equal(eventFromObject({ time: -5 }, ARRIVAL).fields.tags, undefined);
    // The native API's `timestamp` is an alias of `@timestamp`, as before: it decides, and is the time, not a field.
    assert.equal(eventFromObject({ timestamp: hourAgo - 5000, time: hourAgo }, ARRIVAL).ts, (hourAgo - 5000) * 1000);
    assert.equal(eventFromObject({ '@timestamp': null, time: hourAgo }, ARRIVAL).ts, ARRIVAL, 'a null @timestamp: the arrival time');
    assert.equal(eventFromObject({ '@timestamp': hourAgo - 9000, time: hourAgo }, ARRIVAL).ts, (hourAgo - 9000) * 1000);
  });

  it('Elasticsearch documents: timestamp, time and ts, all kept in the document', () => {
    const built = documentToEvent({ msg: 'bunyan', time: '2026-12-07T11:00:00.000Z', timestamp: 'junk' }, 'logs', null, ARRIVAL);
    assert.ok('event' in built);
    assert.equal(built.event.ts, Date.UTC(2026, 11, 7, 11) * 1000);
    assert.equal(built.event.fields.time, '2026-12-07T11:00:00.000Z');
    assert.equal(built.event.fields.timestamp, 'junk');
    const ts = documentToEvent({ ts: hourAgo / 1000 }, 'logs', null, ARRIVAL);
    assert.ok('event' in ts);
    assert.equal(ts.event.ts, hourAgo * 1000);
    const own = documentToEvent({ '@timestamp': '2026-12-01T00:00:00Z', time: hourAgo }, 'logs', null, ARRIVAL);
    assert.ok('event' in own);
    assert.equal(own.event.ts, Date.UTC(2026, 11, 1) * 1000);
  });

  it('the scanner gives the JSON path\'s time under both rules', () => {
    const docs: Record<string, unknown>[] = [
      { time: hourAgo, msg: 'pino' },
      { msg: 'bunyan', time: '2026-12-07T11:00:00.000Z', v: 0 },
      { ts: hourAgo / 1000, level: 'info' },
      { timestamp: 'junk', time: 0.12, ts: String(hourAgo), nested: { time: hourAgo - 1 } },
      { time: ARRIVAL_MS + 400 * 24 * HOUR_MS },
      { nested: { time: hourAgo }, message: 'only nested' },
      { '@timestamp': null, time: hourAgo },
      { timestamp: hourAgo - 3000, time: hourAgo },
      { timestamp: null, time: hourAgo },
    ];
    for (const rules of ['elasticsearch', 'logmill'] as const) {
      const scanner = new FieldScanner(new FieldNames(), rules);
      for (const doc of docs) {
        const body = Buffer.from(JSON.stringify(doc));
        const scanned = scanner.scan(body, body.toString('latin1'), 0, body.length);
        assert.ok(scanned, `${rules}: ${body}`);
        const ts = scanned.time === null ? (scannedShipperTime(scanned, ARRIVAL) ?? ARRIVAL) : null;
        const expected =
          rules === 'logmill'
            ? eventFromObject(JSON.parse(String(body)) as Record<string, unknown>, ARRIVAL).ts
            : (() => {
                const built = documentToEvent(JSON.parse(String(body)) as Record<string, unknown>, 'i', null, ARRIVAL);
                assert.ok('event' in built);
                return built.event.ts;
              })();
        if (ts === null) {
          // A time key of the rules' own (the logmill `timestamp`): the caller parses it as before.
          assert.equal(rules, 'logmill', String(body));
          continue;
        }
        assert.equal(ts, expected, `${rules}: ${body}`);
      }
    }
  });
});
