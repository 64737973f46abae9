/**
 * Shapes (core/shape.ts): a scanned document gets the shape its parsed self
 * gets, and a shape with the fields normalize.ts stores gives back the
 * document as JSON.parse reads it. Random documents, as json-fields.test.ts
 * makes them, and the cases that must be kept as literals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldScanner } from '../../src/core/json-fields.js';
import { eventFromObject } from '../../src/core/normalize.js';
import { documentOfShape, shapeOfObject, shapeOfScanned, textMayChange } from '../../src/core/shape.js';
import { microsToIso } from '../../src/core/time.js';
import { esTimestampMicros } from '../../src/api/es/write.js';
import { prng } from '../helpers/prng.js';
import { randomObject as randomJsonObject } from '../helpers/random-json.js';

const KEYS = ['message', 'host', 'a', 'b', 'log', 'x.y', 'tags', '1', 'user agent', 'é', 'when', 'n'];
const STRINGS = ['', 'plain text', 'say "hi"', 'tab\there', 'ünï', '2026-11-21T10:00:00.123Z', '2026-11-21 10:00', '42', '042', 'true', '[x]', ' 5', '/p'];
const TIMES: unknown[] = ['2026-11-21T10:00:00.123Z', '2026-11-21T10:00:00Z', '2026-11-21T11:00:00+01:00', null, 1763720000123, '1763720000123'];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (r < 0.35) return STRINGS[Math.floor(rand() * STRINGS.length)];
  if (r < 0.5) return Math.floor((rand() - 0.5) * 10 ** Math.floor(rand() * 12));
  if (r < 0.55) return [0.5, 1.25e-7, 2.5][Math.floor(rand() * 3)];
  if (r < 0.6) return rand() < 0.5;
  if (r < 0.65) return null;
  if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => (rand() < 0.8 ? STRINGS[Math.floor(rand() * STRINGS.length)] : rand() < 0.5 ? { k: 1 } : null));
  if (depth > 3) return 'deep';
  return randomObject(rand, depth + 1);
}

function randomObject(rand: () => number, depth: number): Record<string, unknown> {
  return randomJsonObject(rand, depth, KEYS, randomValue);
}

/** The document as stored and read back without a store: normalize.ts's fields under the shape. */
function roundTrip(doc: Record<string, unknown>, shape: string, ts: number): Record<string, unknown> | undefined {
  const copy = structuredClone(doc);
  copy['@timestamp'] = null;
  const fields = eventFromObject(copy, ts).fields;
  return documentOfShape(shape, (name) => fields[name], microsToIso(ts));
}

describe('shapes of documents', () => {
  it('gives a scanned document the shape of the same document parsed, and both give the document back (20,000 random documents)', () => {
    const rand = prng(11);
    const scanner = new FieldScanner();
    let scanned = 0;
    for (let i = 0; i < 20_000; i++) {
      const obj = randomObject(rand, 0);
      if (rand() < 0.6) obj['@timestamp'] = TIMES[Math.floor(rand() * TIMES.length)];
      const text = JSON.stringify(obj);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const ts = parsed['@timestamp'] === undefined || parsed['@timestamp'] === null ? 1_700_000_000_000_000 : esTimestampMicros(parsed['@timestamp']);
      assert.ok(ts !== null, text);
      const shape = shapeOfObject(structuredClone(parsed), ts);
      assert.equal(JSON.stringify(roundTrip(parsed, shape, ts)), JSON.stringify(parsed), `round trip of ${text} with ${shape}`);
      const body = Buffer.from(text);
      const doc = scanner.scan(body, null, 0, body.length);
      if (doc === null) continue;
      scanned++;
      assert.equal(shapeOfScanned(doc, ts), shape, `scanned shape of ${text}`);
    }
    assert.ok(scanned > 3000, `only ${scanned} documents were scanned`);
  });

  it('shares one shape among documents of one stream, and keeps as literals only what storage would change', () => {
    const a = shapeOfObject({ '@timestamp': '2026-11-21T10:00:00.123Z', host: 'a', n: 1 }, Date.parse('2026-11-21T10:00:00.123Z') * 1000);
    const b = shapeOfObject({ '@timestamp': '2026-11-22T10:00:00.456Z', host: 'b', n: 2 }, Date.parse('2026-11-22T10:00:00.456Z') * 1000);
    assert.equal(a, b);
    assert.equal(a, '{"@timestamp":4,"host":0,"n":1}');
    assert.equal(shapeOfObject({ n: '0200', m: '200', d: '2026-11-21 10:00' }, 0), '{"n":["0200"],"m":0,"d":["2026-11-21 10:00"]}');
    assert.equal(shapeOfObject({ '@timestamp': '2026-11-21T11:00:00+01:00' }, Date.parse('2026-11-21T10:00:00Z') * 1000), '{"@timestamp":["2026-11-21T11:00:00+01:00"]}');
    assert.equal(shapeOfObject({ 'a.b': 1, a: { b: 2 } }, 0), '[{"a.b":1,"a":{"b":2}}]');
  });

  it('tells which texts storage could give back changed', () => {
    for (const s of ['0200', ' 5', '+5', '1e3', '0x1F', '2026-11-21', '2026-11-21 10:00:00', '[a]', '\t1']) assert.equal(textMayChange(s), true, s);
    for (const s of ['200', '-5', '1.5', 'plain', '2026-11-21T10:00:00.000Z', '10.0.0.1', 'GET /x', '', '[a']) assert.equal(textMayChange(s), false, s);
  });
});
