/**
 * Scanned documents must mean what the same documents parsed mean: the
 * scanner's fields equal normalize.ts's (names, values and their order), its
 * segment lines equal encodeRow's byte for byte, and it never takes what
 * JSON.parse refuses. Checked on random documents, on damaged ones, and on
 * the cases that make a document not plain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { FieldType, FieldValue, LogEvent } from '../../src/core/event.js';
import { FieldNames, FieldScanner, ScannedEvent, type ScannedDocument } from '../../src/core/json-fields.js';
import { eventFromObject } from '../../src/core/normalize.js';
import { parseEventTime } from '../../src/core/time.js';
import { Catalog, type FieldEntry } from '../../src/store/duckdb/catalog.js';
import { LineWriter, encodeRow, encodeScannedRow } from '../../src/store/duckdb/rows.js';
import { prng } from '../helpers/prng.js';
import { randomObject as randomJsonObject } from '../helpers/random-json.js';

/**
 * What the JSON path makes of a document's fields (as the Elasticsearch writer calls it: `@timestamp` taken
 * out), read from the document's UTF-8 bytes as a server reads it.
 */
function parsedFields(text: string): Record<string, FieldValue> {
  const obj = JSON.parse(utf8(text)) as Record<string, unknown>;
  obj['@timestamp'] = null;
  return eventFromObject(obj, 0).fields;
}

/** `text` as its UTF-8 bytes read back: what a server sees of it (a lone surrogate becomes U+FFFD). */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * Scans `text`, as UTF-8, as a body of its own; `withText`: given the body's latin1 text too when it is
 * ASCII (as _bulk gives it; the line inputs do not).
 */
function scan(scanner: FieldScanner, text: string, withText = true): ScannedDocument | null {
  const body = Buffer.from(text, 'utf8');
  const ascii = !/[^\x00-\x7f]/.test(text);
  return scanner.scan(body, withText && ascii ? body.toString('latin1') : null, 0, body.length);
}

function fieldsOf(doc: ScannedDocument): Record<string, unknown> {
  return new ScannedEvent(0, doc.batch, doc.first, doc.count).fields;
}

/** Same names, same values, same order. */
function assertSameFields(actual: Record<string, unknown>, expected: Record<string, unknown>, doc: string): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `names and their order, for ${doc}`);
  for (const k of Object.keys(expected)) assert.deepEqual(actual[k], expected[k], `field ${k} of ${doc}`);
}

// ------------------------------------------------------------ random documents

const TIMES: unknown[] = ['2026-11-21T10:00:00.123Z', null, 1763720000123, 1.7637e9, 'yesterday', '2026-11-21 10:00', true];
const KEYS = ['message', 'host', 'source', 'level', 'a', 'b', 'log', 'file', 'path', 'offset', 'x.y', '', '@timestamp', 'timestamp', 'tags', '1', '07', '_x', '_id', 'A', 'user agent', 'k\\"q', 'k\tq', 'é'];
const STRINGS = ['', 'plain text', 'say "hi"', 'back\\slash', 'tab\there', 'line\nbreak', 'cr\r', 'bell\u0007', 'slash/', 'ünï', '2026-11-21T10:00:00.123Z', '42', 'true', 'x'.repeat(300)];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (r < 0.3) return STRINGS[Math.floor(rand() * STRINGS.length)];
  if (r < 0.45) return Math.floor((rand() - 0.5) * 10 ** Math.floor(rand() * 18));
  if (r < 0.52) return [0.5, -0, 1.25e-7, 3e21, 1e300, 2.0, 123456789012345678][Math.floor(rand() * 7)];
  if (r < 0.58) return rand() < 0.5;
  if (r < 0.62) return null;
  if (r < 0.72) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  if (depth > 3) return 'deep';
  return randomObject(rand, depth + 1);
}

function randomObject(rand: () => number, depth: number): Record<string, unknown> {
  return randomJsonObject(rand, depth, KEYS, randomValue);
}

/** Spellings JSON allows beyond JSON.stringify's: spaces, `\/`, `\u` escapes, duplicate keys. */
function respell(text: string, rand: () => number): string {
  let t = text;
  if (rand() < 0.3) t = t.replace(/,"/g, () => (rand() < 0.5 ? ', "' : ',\n"')).replace(/":/g, () => (rand() < 0.5 ? '" : ' : '":'));
  if (rand() < 0.15) t = t.replace(/\//g, '\\/');
  if (rand() < 0.15) t = t.replace(/A/g, '\\u0041');
  if (rand() < 0.1) t = t.replace(/\\u0007/g, '\\u0007'.toUpperCase());
  if (rand() < 0.15 && t.length > 2) t = t.replace(/^\{/, '{"a":1,').replace(/\{"a":1,\}$/, '{"a":1}');
  if (rand() < 0.1) t = `  ${t}\t`;
  return t;
}

describe('json-fields: scanned documents mean what parsed ones mean', () => {
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  });
  after(() => {
    conn.closeSync();
    instance.closeSync();
  });

  it('gives the fields normalize.ts gives, in the same order, for 20,000 random documents', () => {
    const rand = prng(7);
    const scanner = new FieldScanner();
    let taken = 0;
    for (let i = 0; i < 20_000; i++) {
      const obj = randomObject(rand, 0);
      if (rand() < 0.5) obj['@timestamp'] = TIMES[Math.floor(rand() * TIMES.length)];
      const text = respell(JSON.stringify(obj), rand);
      const doc = scan(scanner, text);
      if (doc === null) continue;
      taken++;
      assertSameFields(fieldsOf(doc), parsedFields(text), text);
      const ts = (JSON.parse(utf8(text)) as Record<string, unknown>)['@timestamp'];
      assert.equal(doc.time, ts ?? null, `the timestamp of ${text}`);
    }
    // The fuzz must reach the scanner's way often, or it proves little.
    assert.ok(taken > 5000, `only ${taken} documents were plain`);
  });

  it('under the logmill rules, gives the event eventFromObject gives: time, id, index and fields', () => {
    const rand = prng(19);
    const scanner = new FieldScanner(new FieldNames(), 'logmill');
    let taken = 0;
    for (let i = 0; i < 20_000; i++) {
      const obj = randomObject(rand, 0);
      const roll = rand();
      if (roll < 0.3) obj['@timestamp'] = TIMES[Math.floor(rand() * TIMES.length)];
      else if (roll < 0.6) obj.timestamp = rand() < 0.2 ? { at: 'x' } : TIMES[Math.floor(rand() * TIMES.length)];
      if (rand() < 0.3) obj._id = rand() < 0.8 ? `id-${i}` : i;
      if (rand() < 0.3) obj._index = rand() < 0.8 ? 'logs-x' : { a: 1 };
      const text = respell(JSON.stringify(obj), rand);
      const doc = scan(scanner, text);
      if (doc === null) continue;
      const parsed = eventFromObject(JSON.parse(utf8(text)) as Record<string, unknown>, 5);
      const ts = doc.time === null ? 5 : parseEventTime(doc.time);
      if (ts === null) {
        // The caller leaves such a document to the JSON path, which keeps the bad time as a field and tags it.
        assert.ok(parsed.fields.tags, text);
        continue;
      }
      taken++;
      assert.equal(ts, parsed.ts, `time of ${text}`);
      assert.equal(doc.id ?? undefined, parsed.id, `id of ${text}`);
      assert.equal(doc.index ?? undefined, parsed.index, `index of ${text}`);
      assertSameFields(fieldsOf(doc), parsed.fields, text);
    }
    assert.ok(taken > 3000, `only ${taken} documents were plain`);
  });

  it('writes the segment line encodeRow writes, byte for byte, whatever the fields\' types and columns', async () => {
    const rand = prng(11);
    const scanner = new FieldScanner();
    const types: FieldType[] = ['string', 'integer', 'float', 'boolean', 'timestamp'];
    let fast = 0;
    for (let round = 0; round < 40; round++) {
      // A catalog of its own each round: fields typed at random, some without a column (past maxColumns).
      await conn.run('DROP TABLE IF EXISTS fields');
      const catalog = new Catalog(conn, 6);
      await catalog.load();
      const fresh = new Map<string, FieldType>();
      for (let i = 0; i < 400; i++) {
        const text = respell(JSON.stringify(randomObject(rand, 0)), rand);
          const doc = scan(scanner, text, i % 2 === 0);
        if (doc === null) continue;
        for (const name of Object.keys(fieldsOf(doc))) if (!fresh.has(name)) fresh.set(name, types[Math.floor(rand() * types.length)]);
        await catalog.addAll(fresh);
        const scanned = new ScannedEvent(1_763_720_000_123_456, doc.batch, doc.first, doc.count);
        scanned.index = 'logs-test';
        const parsed: LogEvent = { ts: scanned.ts, fields: parsedFields(text), index: 'logs-test' };
        const a = new LineWriter();
        const aColumns = new Set<string>();
        const wrote = encodeScannedRow(a, scanned, 42, catalog, aColumns);
        const b = new LineWriter();
        const bColumns = new Set<string>();
        const dirty = new Set<FieldEntry>();
        encodeRow(b, parsed, 42, catalog, bColumns, dirty);
        if (!wrote) {
          assert.equal(a.pos, 0, 'a refused row writes nothing');
          continue;
        }
        fast++;
        assert.equal(a.take().toString('latin1'), b.take().toString('latin1'), text);
        assert.deepEqual([...aColumns].sort(), [...bColumns].sort(), `columns of ${text}`);
        assert.equal(dirty.size, 0, `a row written from its bytes has no conflict to note: ${text}`);
      }
    }
    assert.ok(fast > 1000, `only ${fast} rows were written from their bytes`);
  });

  it('never takes a document JSON.parse refuses (50,000 damaged documents)', () => {
    const rand = prng(3);
    const scanner = new FieldScanner();
    const junk = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\x01', '\t', '-', '.', 'e', '0', 'n', 't', 'u', 'x'];
    let taken = 0;
    for (let i = 0; i < 50_000; i++) {
      const text = JSON.stringify(randomObject(rand, 0));
      if (text.length < 3) continue;
      const at = Math.floor(rand() * text.length);
      const roll = rand();
      const damaged =
        roll < 0.3 ? text.slice(0, at) : roll < 0.6 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + junk[Math.floor(rand() * junk.length)] + text.slice(at + (rand() < 0.5 ? 1 : 0));
      let valid = true;
      try {
        JSON.parse(utf8(damaged));
      } catch {
        valid = false;
      }
      const doc = scan(scanner, damaged);
      if (doc === null) continue;
      taken++;
      assert.ok(valid, `took a document that is not JSON: ${JSON.stringify(damaged)}`);
      assertSameFields(fieldsOf(doc), parsedFields(damaged), damaged);
    }
    assert.ok(taken > 1000);
  });

  it('leaves to the JSON parser what is not plain', () => {
    const scanner = new FieldScanner();
    const notPlain = [
      '{"a":1,"a":2}', // a key twice: JSON.parse keeps the last, in the first's place
      '{"a":{"b":1},"a":{"c":2}}',
      '{"a.b":1,"a":{"b":2}}', // two spellings of one name
      '{"1":"x","a":"y"}', // digit keys come first in JavaScript
      '{"a":{"2":"x"}}',
      '{"_id":"x"}', // metadata: the JSON path words the refusal
      '{"_source":{}}',
      '{"tags":"x"}', // normalize makes it a list
      '{"message":5}', // normalize makes it text
      '{"message":["a"]}',
      '{"@timestamp":true}',
      '{"@timestamp":{"a":1}}',
      '{"@timestamp":"2026\\u002d01"}',
      '{"a\\"b":1}', // escaped keys
      '{"\\u0041":1}',
      '{"a":"\\u0041"}', // a value JSON.stringify would write otherwise
      '{"a":"x\\/y"}',
      '{"a\u0001":1}',
      `{"${'k'.repeat(300)}":1}`, // normalize cuts long names
      `{"a":"x"}${' '}x`,
      '[1,2]',
      '"x"',
      '{"a":' + '{"b":'.repeat(20) + '1' + '}'.repeat(21),
    ];
    for (const text of notPlain) assert.equal(scan(scanner, text), null, text);
  });

  it('takes what is plain, nested objects, arrays and numbers of every kind included', () => {
    const scanner = new FieldScanner();
    const plain = [
      '{}',
      '{"@timestamp":null,"a":null}',
      '{"@timestamp":1763720000123,"a":1}',
      '{"é":"ünï ✓ 日本","message":"café"}',
      ' { "message" : "say \\"hi\\"\\n" , "host" : { "name" : "web-1" , "ip" : [ "10.0.0.1" , "\\u00e9" ] } } ',
      '{"log":{"offset":0,"file":{"path":"/var/log/x"}},"n":-12,"f":1.50,"e":1e400,"z":-0,"big":123456789012345678}',
      '{"":{"host":"x"},"b":true,"c":false,"d":[],"e":[{"x":[1,{"y":null}]}],"timestamp":"t"}',
    ];
    for (const text of plain) {
      const doc = scan(scanner, text);
      assert.notEqual(doc, null, text);
      assertSameFields(fieldsOf(doc as ScannedDocument), parsedFields(text), text);
    }
  });

  it('leaves keys made to collide to the JSON parser after a bounded search', () => {
    // Top-level keys whose slot in the names table is the same (the table's hash, as FieldNames.find computes it).
    const slotOf = (key: string): number => {
      let h = 0x811c9dc5;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
      return (h ^ Math.imul(-1 + 2, 0x9e3779b1)) & (4096 * 2 - 1);
    };
    const crowd: string[] = [];
    for (let i = 0; crowd.length < 80; i++) if (slotOf(`k${i}`) === 77) crowd.push(`k${i}`);
    const few = JSON.stringify(Object.fromEntries(crowd.slice(0, 20).map((k) => [k, 1])));
    const many = JSON.stringify(Object.fromEntries(crowd.map((k) => [k, 1])));
    const scanner = new FieldScanner();
    const doc = scan(scanner, few);
    assert.notEqual(doc, null, 'a few keys sharing a slot are found');
    assertSameFields(fieldsOf(doc as ScannedDocument), parsedFields(few), few);
    assert.equal(scan(scanner, many), null, 'eighty are not searched for');
  });

  it('starts a new batch when one is full, and a new names table after a flood of keys', () => {
    const scanner = new FieldScanner();
    const batches = new Set<unknown>();
    for (let i = 0; i < 5000; i++) {
      // Every document brings two keys never seen: past 4,096 names the table starts again.
      const text = JSON.stringify({ message: `m${i}`, [`k${i}`]: i, [`j${i}`]: { z: 'x' } });
      const doc = scan(scanner, text);
      assert.notEqual(doc, null, text);
      batches.add((doc as ScannedDocument).batch);
      assertSameFields(fieldsOf(doc as ScannedDocument), parsedFields(text), text);
    }
    assert.ok(batches.size > 1);
    assert.ok(scanner.names.entries.length <= 4096);
    // The names a batch was filled with stay its own after the table started again.
    const names = new FieldNames();
    const before = names.entries;
    names.reset();
    assert.notEqual(names.entries, before);
  });
});
