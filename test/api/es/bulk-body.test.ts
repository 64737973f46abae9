/**
 * The bulk body reader decodes only the lines it must: a document line is
 * decoded to be checked as an action line only when its first bytes could
 * start one, and an action line with the bytes of the one before is not
 * decoded again. Neither shortcut may change what is read.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkReader, isActionLine, mayBeActionLine } from '../../../src/api/es/bulk-body.js';
import { prng } from '../../helpers/prng.js';

describe('_bulk body reader', () => {
  it('never passes over a line that is an action line (generated lines, spaces of every kind)', () => {
    const random = prng(11);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const spaces = ['', ' ', '\t', '\r', '\u00a0', '\u2003', '\ufeff', '\u3000', '\u0001', '\n'];
    const names = ['index', 'create', 'delete', 'update', 'index', 'create', 'indexed', 'i', 'Index', 'upsert', '@timestamp', 'c'];
    const values = ['{}', '{"_index":"x"}', '{ }', '{}', '5', '"x"', '[]', '{"_id":"1"}', '{"bad":1}'];
    let actions = 0;
    for (let i = 0; i < 20_000; i++) {
      const line = `${pick(spaces)}{${pick(spaces)}"${pick(names)}"${pick(spaces)}:${pick(spaces)}${pick(values)}${random() < 0.3 ? ',"more":1' : ''}}`;
      const bytes = Buffer.from(line);
      const action = isActionLine(line, new Map());
      if (action) actions++;
      if (action) assert.ok(mayBeActionLine(bytes, 0, bytes.length), JSON.stringify(line));
    }
    assert.ok(actions > 200, `enough action lines generated: ${actions}`);
  });

  it('tells an action line with spaces before and inside it from a document', () => {
    const body = Buffer.from('{"index":{}}\n \t{ \r"index" : {}}\n{"a":1}\n{"index":{}}\n{"indexed":{}}\n');
    const reader = new BulkReader(body, 'logs');
    const first = reader.next();
    assert.match(String(first?.error?.cause.reason), /source is missing/);
    const second = reader.next();
    assert.deepEqual(second?.source, { a: 1 });
    const third = reader.next();
    assert.deepEqual(third?.source, { indexed: {} });
    assert.equal(reader.next(), null);
  });

  it('reads repeated and changing action lines as they are written', () => {
    const lines: string[] = [];
    const expected: { index: string | null; id: string | null; action: string }[] = [];
    for (let i = 0; i < 300; i++) {
      const variant = i % 7 === 0 ? { create: { _index: `idx-${i % 3}` } } : i % 5 === 0 ? { index: { _id: `id-${i}` } } : { index: {} };
      lines.push(JSON.stringify(variant), JSON.stringify({ n: i }));
      const [action, meta] = Object.entries(variant)[0] as [string, { _index?: string; _id?: string }];
      expected.push({ action, index: meta._index ?? 'default', id: meta._id ?? null });
    }
    const reader = new BulkReader(Buffer.from(lines.join('\n') + '\n'), 'default');
    for (let i = 0; i < expected.length; i++) {
      const op = reader.next();
      assert.ok(op && !op.error, `action ${i}: ${JSON.stringify(op?.error)}`);
      assert.deepEqual({ action: op.action, index: op.index, id: op.id }, expected[i], `action ${i}`);
      assert.deepEqual(op.source, { n: i });
    }
    assert.equal(reader.next(), null);
  });

  it('reads the same documents from ASCII bodies (decoded whole) and from bodies with other text (decoded line by line)', () => {
    const random = prng(5);
    const texts = ['plain', 'tab\tand "quotes" \\ slash', 'café', '日本語', '😀 emoji', '\u00e9 escaped', 'mixed é and ascii'];
    for (let round = 0; round < 50; round++) {
      const docs = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => ({ n: i, message: texts[Math.floor(random() * texts.length)] }));
      // Half the rounds ASCII only: JSON.stringify keeps non-ASCII as UTF-8 bytes unless escaped here.
      const ascii = round % 2 === 0;
      const line = (d: object): string => (ascii ? JSON.stringify(d).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : JSON.stringify(d));
      const body = Buffer.from(docs.map((d) => `{"index":{}}\r\n${line(d)}\n`).join(''));
      const reader = new BulkReader(body, 'x');
      for (const d of docs) assert.deepEqual(reader.next()?.source, d, `round ${round}`);
      assert.equal(reader.next(), null);
    }
  });
});
