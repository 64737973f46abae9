/**
 * `POST /api/v1/ingest` bodies: JSON lines of a body of valid UTF-8 are
 * scanned (src/core/json-fields.ts) rather than parsed; a body with a byte
 * that is not UTF-8 parses every line. Both must give the same events,
 * rejections and warnings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '../../../src/core/event.js';
import { ScannedEvent } from '../../../src/core/json-fields.js';
import { decodeIngestBody } from '../../../src/ingest/http/body.js';
import { prng } from '../../helpers/prng.js';

/** What an event says: its time, id, index and fields (names, values, order). */
function meaning(e: LogEvent): unknown {
  return { ts: e.ts, id: e.id, index: e.index, fields: Object.entries(e.fields) };
}

const LINES = [
  '{"message":"plain","host":"web-1"}',
  '{"message":"café ✓ 日本","ünï":"é"}',
  '{"@timestamp":"2026-11-21T10:00:00.123Z","message":"say \\"hi\\"","log":{"offset":12,"file":{"path":"/var/log/x"}}}',
  '{"timestamp":1763720000123,"message":"epoch millis in timestamp"}',
  '{"timestamp":"2026-11-21T10:00:00Z","@timestamp":"2026-11-20T10:00:00Z","message":"both: timestamp stays a field"}',
  '{"timestamp":{"at":"x"},"message":"an object timestamp"}',
  '{"_id":"a-1","_index":"logs-app","message":"id and index"}',
  '{"_id":7,"message":"a numeric id"}',
  '{"_index":{"x":1},"message":"an object index"}',
  '{"_other":"kept as a field","n":-3,"f":2.50,"b":false,"z":null,"list":["a",1,{"k":"v"}]}',
  '{"@timestamp":"yesterday","message":"a time that does not parse"}',
  '{"message":"\\u0041 escaped","path":"a\\/b"}',
  '{"message":5}',
  '{"tags":"one","message":"tags"}',
  '{"a":1,"a":2}',
  '{"message":"broken"',
  '[1,2]',
  'not json',
  '   ',
  '{"message":"x"} trailing',
];

describe('ingest body: scanned and parsed lines', () => {
  it('give the same events, rejections and warnings (500 random bodies)', () => {
    const rand = prng(5);
    let scanned = 0;
    for (let round = 0; round < 500; round++) {
      // The first line an object: a body that starts with `[` is read as one JSON array.
      const lines = [LINES[0], ...Array.from({ length: Math.floor(rand() * 30) }, () => LINES[Math.floor(rand() * LINES.length)])];
      const ascii = Buffer.from(lines.join('\n') + '\n');
      // One byte that is not UTF-8 sends every line of its body through JSON.parse (its own line is kept, tagged).
      const mixed = Buffer.concat([Buffer.from(lines.join('\n') + '\n{"message":"x'), Buffer.from([0xff]), Buffer.from('"}\n')]);
      const opts = { maxLineBytes: 1 << 20, arrivalMicros: 5_000_000 };
      const a = decodeIngestBody(ascii, opts);
      const b = decodeIngestBody(mixed, opts);
      scanned += a.events.filter((e) => e instanceof ScannedEvent).length;
      assert.ok(!b.events.some((e) => e instanceof ScannedEvent));
      assert.deepEqual(a.events.map(meaning), b.events.slice(0, -1).map(meaning), lines.join('\n'));
      assert.deepEqual(a.rejected, b.rejected);
      assert.deepEqual(a.warnings, b.warnings.slice(0, -1));
    }
    assert.ok(scanned > 1000, `only ${scanned} lines were scanned`);
  });
});
