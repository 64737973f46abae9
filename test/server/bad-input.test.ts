/**
 * Hostile and broken input over HTTP ingest: every bad line is named in the
 * answer, the good lines around it are stored, and the server never answers 500.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {
  apiGet,
  fieldsInfo,
  ingest,
  ingestOk,
  prng,
  queryField,
  queryPhrase,
  removeDir,
  search,
  startTestServer,
  table,
  withServer,
  type TestServer,
} from '../helpers/server.js';

const MiB = 1024 * 1024;

/** Asserts that the messages of `q`'s hits are exactly `expected` (any order). */
async function assertMessages(base: string, q: string, expected: string[]): Promise<void> {
  const found = await search(base, q);
  assert.deepEqual(found.hits.map((h) => h.message).sort(), [...expected].sort(), `query ${q}`);
  assert.equal(found.total, expected.length, `total of ${q}`);
}

describe('bad input over HTTP', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startTestServer();
  });
  afterEach(async () => {
    await s.close();
    removeDir(s.dir);
  });

  it('rejects malformed JSON lines by line number and stores the good lines around them', async () => {
    const lines = [
      '{"message":"good a"}', // 1
      '{"message":', // 2 cut short
      '{"message":"good b"}', // 3
      '{message: "unquoted key"}', // 4
      '{"a":1}}', // 5 trailing garbage
      '{"a":1,}', // 6 trailing comma
      '{"message":"good c"}', // 7
      '[1,2]', // 8 an array, not an object
      '"just a string"', // 9
      '42', // 10
      'null', // 11
      '{"a": tru}', // 12
      'plain text line', // 13
      "{'single':'quotes'}", // 14
      '{"message":"good d"}', // 15
    ];
    const r = await ingest(s.url, lines.join('\n') + '\n');
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 4);
    assert.deepEqual(
      r.body.rejected.map((x) => x.line),
      [2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14],
    );
    for (const x of r.body.rejected) assert.ok(typeof x.error === 'string' && x.error.length > 0, JSON.stringify(x));
    await assertMessages(s.url, '*', ['good a', 'good b', 'good c', 'good d']);
  });

  it('answers a malformed JSON-array body with a rejection, not a 500', async () => {
    const r = await ingest(s.url, '[{"message":"in array"},', { 'content-type': 'application/json' });
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 0);
    assert.equal(r.body.rejected.length, 1);
    assert.equal(r.body.rejected[0].line, 1);
    assert.equal((await search(s.url, '*')).total, 0);
  });

  it('keeps lines with invalid UTF-8, repaired with U+FFFD and tagged _invalidutf8', async () => {
    const body = Buffer.concat([
      Buffer.from('{"message":"utf good 1"}\n'),
      Buffer.from('{"message":"broken '),
      Buffer.from([0xff, 0xfe, 0xc3]), // two invalid bytes and a cut 2-byte sequence
      Buffer.from(' bytes","n":7}\n'),
      Buffer.from([0xff, 0x80, 0x0a]), // a line of nothing but invalid bytes
      Buffer.from('{"message":"utf good 2 \u00e9\u65e5"}\n'),
    ]);
    const r = await ingest(s.url, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 3);
    assert.deepEqual(
      r.body.rejected.map((x) => x.line),
      [3],
    );
    assert.deepEqual(
      (r.body.warnings ?? []).map((w) => w.line),
      [2],
    );
    const hits = (await search(s.url, '*')).hits;
    assert.equal(hits.length, 3);
    const broken = hits.find((h) => h.n === 7);
    assert.ok(broken, 'the line with invalid bytes is stored');
    assert.ok(String(broken.message).startsWith('broken '));
    assert.ok(String(broken.message).endsWith(' bytes'));
    assert.ok(String(broken.message).includes('\uFFFD'));
    assert.deepEqual(broken.tags, ['_invalidutf8']);
    assert.ok(hits.some((h) => h.message === 'utf good 1'));
    assert.ok(hits.some((h) => h.message === 'utf good 2 \u00e9\u65e5'), 'valid multi-byte text is kept intact');
    assert.equal((await search(s.url, 'broken')).total, 1);
  });

  it('skips empty and blank lines without rejecting them, and still numbers lines as sent', async () => {
    const r = await ingest(s.url, '\n\n{"message":"blank a"}\n   \n\t\r\n{"message":"blank b"}\nnot json\n\n');
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 2);
    assert.deepEqual(r.body.rejected.map((x) => x.line), [7]);
    await assertMessages(s.url, '*', ['blank a', 'blank b']);

    const only = await ingest(s.url, '\n \n\r\n\t\n');
    assert.equal(only.status, 200);
    assert.deepEqual(only.body, { accepted: 0, rejected: [] });
    const empty = await ingest(s.url, '');
    assert.ok(empty.status === 200 || empty.status === 400, `an empty body answers ${empty.status}`);
    assert.equal((await search(s.url, '*')).total, 2);
  });

  it('truncates a 2 MiB line to the 1 MiB default, tags it _truncated and stores it', async () => {
    const huge = JSON.stringify({ message: 'hugeline ' + 'x'.repeat(2 * MiB) });
    const r = await ingest(s.url, `{"message":"around 1"}\n${huge}\n{"message":"around 2"}\n`);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 3);
    assert.deepEqual(r.body.rejected, []);
    assert.deepEqual((r.body.warnings ?? []).map((w) => w.line), [2]);
    assert.match(r.body.warnings?.[0].warning ?? '', /_truncated/);

    const found = await search(s.url, 'hugeline');
    assert.equal(found.total, 1);
    const hit = found.hits[0];
    const message = String(hit.message);
    assert.ok(Buffer.byteLength(message) <= MiB, `stored ${Buffer.byteLength(message)} bytes, more than the limit`);
    assert.ok(Buffer.byteLength(message) >= MiB - 3, `stored only ${Buffer.byteLength(message)} bytes`);
    assert.ok(message.startsWith('{"message":"hugeline xxx'), 'the start of the line is kept');
    assert.deepEqual(hit.tags, ['_truncated']);
    await assertMessages(s.url, 'around', ['around 1', 'around 2']);
    assert.equal((await search(s.url, 'tags:_truncated')).total, 1);
  });

  it('cuts a long line of multi-byte text without leaving a broken character', async () => {
    const huge = JSON.stringify({ message: 'mbline ' + '\u00e9\u65e5'.repeat(MiB / 2) });
    const r = await ingest(s.url, huge + '\n');
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 1);
    const [hit] = (await search(s.url, 'mbline')).hits;
    const message = String(hit.message);
    assert.ok(Buffer.byteLength(message) <= MiB);
    assert.ok(!message.includes('\uFFFD'), 'no replacement character from a cut sequence');
    assert.deepEqual(hit.tags, ['_truncated']);
  });

  it('answers 413 for a body over --max-body-bytes and for a gzip body that inflates past it', async () => {
    const limit = 64 * 1024;
    await withServer({ maxBodyBytes: limit }, async (small) => {
      const big = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ message: `too big ${i}` })).join('\n');
      assert.ok(big.length > limit);
      const r1 = await ingest(small.url, big);
      assert.equal(r1.status, 413);
      const bomb = zlib.gzipSync(Buffer.alloc(10 * MiB, 0x20));
      assert.ok(bomb.length < limit);
      const r2 = await ingest(small.url, bomb, { 'content-encoding': 'gzip' });
      assert.equal(r2.status, 413);
      const ok = await ingest(small.url, '{"message":"fits"}\n');
      assert.equal(ok.status, 200);
      assert.equal((await search(small.url, '*')).total, 1);
    });
  });

  it('stores strings holding NUL characters and lone surrogates', async () => {
    const body = [
      '{"message":"nul \\u0000 inside","k":"a\\u0000b"}',
      '{"message":"lone \\ud800 high","s":"\\udfff"}',
      '{"message":"after odd strings"}',
    ].join('\n');
    const r = await ingest(s.url, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, 3);
    const hits = (await search(s.url, '*')).hits;
    assert.equal(hits.length, 3);
    const nul = hits.find((h) => String(h.message).startsWith('nul'));
    assert.ok(nul);
    assert.equal(nul.message, 'nul \u0000 inside');
    assert.equal(nul.k, 'a\u0000b');
    assert.equal((await search(s.url, 'inside')).total, 1);
    assert.equal((await search(s.url, 'high')).total, 1);
  });

  it('survives random binary garbage between good lines', async () => {
    const rand = prng(1234);
    const parts: Buffer[] = [];
    const good: string[] = [];
    let garbage = 0;
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) {
        const m = `binary good ${i}`;
        good.push(m);
        parts.push(Buffer.from(JSON.stringify({ message: m }) + '\n'));
      } else {
        const len = 5 + Math.floor(rand() * 200);
        const b = Buffer.alloc(len);
        for (let j = 0; j < len; j++) {
          let x = Math.floor(rand() * 256);
          if (x === 0x0a) x = 0x0b;
          b[j] = x;
        }
        // A first byte that is neither blank nor the start of JSON: the line can be nothing but garbage.
        b[0] = 0x80 + Math.floor(rand() * 0x40);
        garbage++;
        parts.push(b, Buffer.from('\n'));
      }
    }
    const r = await ingest(s.url, Buffer.concat(parts));
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted, good.length);
    assert.equal(r.body.rejected.length, garbage);
    assert.equal((await search(s.url, '*')).total, good.length);
    await assertMessages(s.url, 'binary', good);
  });

  it('stores and finds field names that are not identifiers, each as its own field', async () => {
    const long300 = 'n'.repeat(300);
    const cases: { sent: string; stored: string }[] = [
      { sent: 'with space', stored: 'with space' },
      { sent: 'dq"uote', stored: 'dq"uote' },
      { sent: "sq'uote", stored: "sq'uote" },
      { sent: 'semi;colon', stored: 'semi;colon' },
      { sent: 'select', stored: 'select' },
      { sent: 'SELECT', stored: 'SELECT' },
      { sent: 'from', stored: 'from' },
      { sent: 'drop table events; --', stored: 'drop table events; --' },
      { sent: 'ünïcödé', stored: 'ünïcödé' },
      { sent: '日本語', stored: '日本語' },
      { sent: 'emoji😀', stored: 'emoji😀' },
      { sent: 'back\\slash', stored: 'back\\slash' },
      { sent: 'Host', stored: 'Host' },
      { sent: 'host', stored: 'host' },
      { sent: 'Status', stored: 'Status' },
      { sent: 'status', stored: 'status' },
      { sent: 'STATUS', stored: 'STATUS' },
      { sent: 'f1', stored: 'f1' },
      { sent: '_overflow', stored: '_overflow' },
      { sent: 'ts', stored: 'ts' },
      { sent: '_seq', stored: '_seq' },
      // Repaired, and the event is tagged _fieldnamesanitized:
      { sent: 'ctl\u0001char', stored: 'ctl_char' },
      { sent: '', stored: '_empty' },
      { sent: long300, stored: 'n'.repeat(256) },
    ];
    const event: Record<string, unknown> = { message: 'oddnames' };
    cases.forEach((c, i) => (event[c.sent] = `val${i}`));
    await ingestOk(s.url, [{ message: 'plain before' }, event, { message: 'plain after', status: 'other' }]);

    const [hit] = (await search(s.url, 'oddnames')).hits;
    assert.ok((hit.tags as string[]).includes('_fieldnamesanitized'));
    const fields = (await fieldsInfo(s.url)).map((f) => f.name);
    for (const [i, c] of cases.entries()) {
      const value = `val${i}`;
      assert.equal(hit[c.stored], value, `hit[${JSON.stringify(c.stored)}]`);
      assert.ok(fields.includes(c.stored), `/api/v1/fields lists ${JSON.stringify(c.stored)}`);
      const q = `${queryField(c.stored)}:${value}`;
      const found = await search(s.url, q);
      assert.equal(found.total, 1, `${q} finds the event`);
      assert.equal(found.hits[0].message, 'oddnames');
      // Another field's value must not match: names differing only in case are different fields.
      const other = `val${(i + 1) % cases.length}`;
      assert.equal((await search(s.url, `${queryField(c.stored)}:${other}`)).total, 0, `${queryField(c.stored)}:${other}`);
      const t = await table(s.url, `oddnames | fields ${queryPhrase(c.stored)}`);
      assert.deepEqual(t.columns, [c.stored]);
      assert.deepEqual(t.rows, [[value]], `| fields ${queryPhrase(c.stored)}`);
    }
    assert.ok(!fields.includes(long300));
    await assertMessages(s.url, 'plain', ['plain before', 'plain after']);
    await assertMessages(s.url, 'status:other', ['plain after']);
  });

  it('keeps both values of a type conflict and lists the conflict', async () => {
    await ingestOk(s.url, [{ message: 'conflict one', status: 200 }]);
    await ingestOk(s.url, [{ message: 'conflict two', status: 'abc' }]);
    await ingestOk(s.url, [{ message: 'conflict three', status: 404 }]);

    const hits = (await search(s.url, 'conflict')).hits;
    assert.equal(hits.length, 3);
    assert.equal(hits.find((h) => h.message === 'conflict one')?.status, 200);
    assert.equal(hits.find((h) => h.message === 'conflict two')?.status, 'abc');
    assert.equal(hits.find((h) => h.message === 'conflict three')?.status, 404);

    await assertMessages(s.url, 'status:abc', ['conflict two']);
    await assertMessages(s.url, 'status:ABC', ['conflict two']);
    await assertMessages(s.url, 'status:200', ['conflict one']);
    await assertMessages(s.url, 'status:>100', ['conflict one', 'conflict three']);
    await assertMessages(s.url, 'NOT status:abc', ['conflict one', 'conflict three']);

    const info = (await fieldsInfo(s.url)).find((f) => f.name === 'status');
    assert.ok(info);
    assert.equal(info.type, 'integer');
    assert.deepEqual(info.conflicts, ['string']);
    const top = await apiGet(s.url, '/api/v1/fields', { field: 'status', from: 'now-1h' });
    assert.equal(top.status, 200);
    assert.deepEqual(top.body.conflicts, ['string']);
    // Every event has a status, whatever its type.
    await assertMessages(s.url, '_exists_:status', ['conflict one', 'conflict two', 'conflict three']);
  });

  it('widens an integer field to float when a fraction arrives, keeping both values', async () => {
    await ingestOk(s.url, [{ message: 'widen a', dur: 3 }]);
    await ingestOk(s.url, [{ message: 'widen b', dur: 2.5 }]);
    assert.equal((await fieldsInfo(s.url)).find((f) => f.name === 'dur')?.type, 'float');
    await assertMessages(s.url, 'dur:3', ['widen a']);
    await assertMessages(s.url, 'dur:2.5', ['widen b']);
    await assertMessages(s.url, 'dur:[2 TO 2.9]', ['widen b']);
    const t = await table(s.url, 'widen | stats sum(dur)');
    assert.equal(t.rows[0][0], 5.5);
  });

  it('keeps a value of the wrong type for boolean and timestamp fields too', async () => {
    await ingestOk(s.url, [
      { message: 'kinds 1', flag: true, when: '2026-01-01T00:00:00Z' },
      { message: 'kinds 2', flag: 'maybe', when: 'soon' },
    ]);
    const fields = await fieldsInfo(s.url);
    assert.deepEqual(fields.find((f) => f.name === 'flag')?.conflicts, ['string']);
    assert.deepEqual(fields.find((f) => f.name === 'when')?.conflicts, ['string']);
    await assertMessages(s.url, 'flag:true', ['kinds 1']);
    await assertMessages(s.url, 'flag:maybe', ['kinds 2']);
    await assertMessages(s.url, 'when:>2025-12-31T00:00:00Z', ['kinds 1']);
    const hits = (await search(s.url, 'kinds')).hits;
    assert.equal(hits.find((h) => h.message === 'kinds 2')?.flag, 'maybe');
    assert.equal(hits.find((h) => h.message === 'kinds 2')?.when, 'soon');
    // Like status:abc on an integer field: the conflicting text value is searchable.
    await assertMessages(s.url, 'when:soon', ['kinds 2']);
  });
});

describe('many field names over time', () => {
  it('stores 600 new fields arriving 6 per request over 100 requests (default settings)', async () => {
    await withServer({}, async (s) => {
      const statuses: number[] = [];
      for (let req = 0; req < 100; req++) {
        const event: Record<string, unknown> = { message: `manyfields ${req}` };
        for (let k = 0; k < 6; k++) event[`mf_${req}_${k}`] = req * 6 + k;
        const r = await ingest(s.url, [event]);
        statuses.push(r.status);
      }
      const failed = statuses.map((st, i) => [i, st]).filter(([, st]) => st !== 200);
      assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of 100 requests failed, the first at request ${failed[0]?.[0]}`);
      const found = await search(s.url, 'manyfields');
      assert.equal(found.total, 100);
      const last = found.hits.find((h) => h.message === 'manyfields 99');
      assert.equal(last?.mf_99_5, 599);
      assert.equal((await search(s.url, 'mf_99_5:599')).total, 1);
      assert.equal((await search(s.url, 'mf_0_0:0')).total, 1);
      const fields = await fieldsInfo(s.url);
      assert.equal(fields.filter((f) => f.name.startsWith('mf_')).length, 600);
    });
  });
});

describe('an event with 10,000 fields', () => {
  /** Field i holds a string for i % 3 == 0, else the integer i. */
  const wide = (): Record<string, unknown> => {
    const e: Record<string, unknown> = { message: 'wideevent' };
    for (let i = 0; i < 10_000; i++) e[`w_${i}`] = i % 3 === 0 ? `v${i}` : i;
    return e;
  };

  it('is accepted with maxColumns 50: later fields overflow and stay searchable with field:value', async () => {
    await withServer({ maxColumns: 50 }, async (s) => {
      const r = await ingest(s.url, [{ message: 'wide before' }, wide(), { message: 'wide after' }]);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { accepted: 3, rejected: [] });

      const fields = await fieldsInfo(s.url);
      const dynamic = fields.filter((f) => f.name.startsWith('w_'));
      assert.equal(dynamic.length, 10_000);
      assert.equal(dynamic.filter((f) => f.storage === 'column').length, 50);
      assert.equal(dynamic.filter((f) => f.storage === 'overflow').length, 9_950);
      assert.equal(fields.find((f) => f.name === 'w_9001')?.type, 'integer');
      assert.equal(fields.find((f) => f.name === 'w_9999')?.type, 'string');

      const [hit] = (await search(s.url, 'wideevent')).hits;
      assert.equal(Object.keys(hit).filter((k) => k.startsWith('w_')).length, 10_000);
      assert.equal(hit.w_0, 'v0');
      assert.equal(hit.w_1, 1);
      assert.equal(hit.w_9999, 'v9999');
      assert.equal(String(hit.w_9001), '9001');

      for (const q of [
        'w_0:v0', // a column
        'w_1:1',
        'w_9001:>9000', // overflow, integer
        'w_9001:[9000 TO 9002]',
        '_exists_:w_7777',
        'w_9999:v9999', // overflow, string
        'w_9000:V9000',
        'w_9001:9001', // overflow, integer
        'w_5000:5000',
        'w_9998:9998 AND w_9999:v9999',
      ]) {
        const found = await search(s.url, q);
        assert.equal(found.total, 1, `${q} finds the wide event`);
        assert.equal(found.hits[0].message, 'wideevent');
      }
      for (const q of ['w_9999:v9998', 'w_9001:9002', 'w_9001:>9001', 'w_5000:abc']) {
        assert.equal((await search(s.url, q)).total, 0, `${q} finds nothing`);
      }
      const t = await table(s.url, 'wideevent | fields w_0, w_9999, w_9001');
      assert.deepEqual(t.rows.map((r) => r.map(String)), [['v0', 'v9999', '9001']]);
      const all = await search(s.url, 'wide');
      assert.deepEqual(all.hits.map((h) => h.message).sort(), ['wide after', 'wide before']);
    });
  });

  it('returns overflowed numbers as numbers, as they were sent', async () => {
    await withServer({ maxColumns: 2 }, async (s) => {
      await ingestOk(s.url, [{ message: 'ovtypes', a: 1, b: 2, c: 3, d: 4.5, e: true }]);
      const [hit] = (await search(s.url, 'ovtypes')).hits;
      assert.deepEqual(
        { a: hit.a, b: hit.b, c: hit.c, d: hit.d, e: hit.e },
        { a: 1, b: 2, c: 3, d: 4.5, e: true },
      );
    });
  });

  it('is accepted with the default settings', async () => {
    await withServer({}, async (s) => {
      const r = await ingest(s.url, [{ message: 'wide before' }, wide(), { message: 'wide after' }]);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { accepted: 3, rejected: [] });
      const [hit] = (await search(s.url, 'wideevent')).hits;
      assert.equal(Object.keys(hit).filter((k) => k.startsWith('w_')).length, 10_000);
      assert.equal(hit.w_9999, 'v9999');
      assert.equal(hit.w_10, 10);
      assert.equal((await search(s.url, 'w_10:10')).total, 1);
      assert.equal((await search(s.url, 'w_9999:v9999')).total, 1);
      const all = await search(s.url, 'wide');
      assert.deepEqual(all.hits.map((h) => h.message).sort(), ['wide after', 'wide before']);
    });
  });
});
