/**
 * `_seq_no` and `_primary_term` as Elasticsearch answers them: what a write
 * answers is what GET, _mget and _search?seq_no_primary_term read for the
 * same document, each write of a document gets a larger number, and
 * `if_seq_no` + `if_primary_term` make writes conditional (optimistic
 * concurrency), through the official client and raw `_bulk` items.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, errors } from '@elastic/elasticsearch';
import { http, ndjson, startEs, type EsTestServer } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 8);

/** A write answer's `_seq_no` (the client's types make it optional; Logmill always answers one). */
function seqOf(answer: { _seq_no?: number }): number {
  assert.ok(Number.isSafeInteger(answer._seq_no), `a _seq_no: ${JSON.stringify(answer)}`);
  return answer._seq_no as number;
}

/** The 409 the client throws for a failed if_seq_no, with Elasticsearch's reason. */
function conflict(id: string, required: number, current: number | null): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof errors.ResponseError);
    assert.equal(err.statusCode, 409);
    const e = (err.body as { error: { type: string; reason: string } }).error;
    assert.equal(e.type, 'version_conflict_engine_exception');
    const head = `[${id}]: version conflict, required seqNo [${required}], primary term [1]`;
    assert.equal(e.reason, current === null ? `${head} but no document was found` : `${head}. current document has seqNo [${current}] and primary term [1]`);
    return true;
  };
}

describe('_seq_no and _primary_term', () => {
  let s: EsTestServer;
  let client: Client;
  before(async () => {
    s = await startEs();
    client = new Client({ node: s.url });
  });
  after(async () => {
    await client.close();
    await s.close();
  });

  it('a write answers the _seq_no that GET, _mget and _search read, larger with each write of the document', async () => {
    const created = await client.index({ index: 'seq-a', id: 'one', document: { '@timestamp': new Date(T0).toISOString(), message: 'first' } });
    assert.equal(created.result, 'created');
    assert.equal(created._primary_term, 1);
    assert.ok(Number.isSafeInteger(seqOf(created)) && seqOf(created) > 0);

    const got = await client.get({ index: 'seq-a', id: 'one' });
    assert.equal(got._seq_no, seqOf(created));
    assert.equal(got._primary_term, 1);

    const replaced = await client.index({ index: 'seq-a', id: 'one', document: { '@timestamp': new Date(T0 + 1000).toISOString(), message: 'second' } });
    assert.equal(replaced.result, 'updated');
    assert.ok(seqOf(replaced) > seqOf(created), `${seqOf(replaced)} > ${seqOf(created)}`);
    const updated = await client.update({ index: 'seq-a', id: 'one', doc: { user: 'alice' } });
    assert.equal(updated.result, 'updated');
    assert.ok(seqOf(updated) > seqOf(replaced));
    // A noop changes nothing and answers the current number.
    const noop = await client.update({ index: 'seq-a', id: 'one', doc: { user: 'alice' } });
    assert.equal(noop.result, 'noop');
    assert.equal(seqOf(noop), seqOf(updated));

    assert.equal((await client.get({ index: 'seq-a', id: 'one' }))._seq_no, seqOf(updated));
    const mget = await client.mget({ index: 'seq-a', ids: ['one'] });
    assert.equal((mget.docs[0] as { _seq_no: number })._seq_no, seqOf(updated));
    const found = await client.search({ index: 'seq-a', seq_no_primary_term: true, query: { ids: { values: ['one'] } } });
    assert.equal(found.hits.hits[0]._seq_no, seqOf(updated));
    assert.equal(found.hits.hits[0]._primary_term, 1);

    const deleted = await client.delete({ index: 'seq-a', id: 'one' });
    assert.equal(deleted.result, 'deleted');
    assert.ok(seqOf(deleted) > seqOf(updated));
  });

  it('_bulk items carry _seq_no and _primary_term, the numbers GET reads, generated ids included', async () => {
    const r = await http(
      s.url,
      'POST',
      '/seq-b/_bulk',
      ndjson([{ index: { _id: 'k1' } }, { message: 'keyed' }, { index: {} }, { message: 'fresh 1' }, { create: {} }, { message: 'fresh 2' }, { delete: { _id: 'never' } }]),
    );
    assert.equal(r.status, 200);
    const items = r.body.items.map((item: Record<string, Record<string, any>>) => Object.values(item)[0]);
    for (const item of items.slice(0, 3)) {
      assert.equal(item._primary_term, 1);
      const got = await client.get({ index: 'seq-b', id: item._id });
      assert.equal(got._seq_no, item._seq_no, item._id);
    }
    assert.equal(new Set(items.slice(0, 3).map((i: { _seq_no: number }) => i._seq_no)).size, 3);
    assert.equal(items[3].result, 'not_found');
    assert.equal(typeof items[3]._seq_no, 'number');
  });

  it('several actions on one id in one _bulk: increasing numbers, the last one stored', async () => {
    const r = await http(s.url, 'POST', '/seq-c/_bulk', ndjson([{ index: { _id: 'x' } }, { n: 1 }, { update: { _id: 'x' } }, { doc: { n: 2 } }, { index: { _id: 'x' } }, { n: 3 }]));
    const seqNos = r.body.items.map((item: Record<string, { _seq_no: number }>) => Object.values(item)[0]._seq_no);
    assert.ok(seqNos[0] < seqNos[1] && seqNos[1] < seqNos[2], JSON.stringify(seqNos));
    const got = await client.get<{ n: number }>({ index: 'seq-c', id: 'x' });
    assert.equal(got._source?.n, 3);
    assert.equal(got._seq_no, seqNos[2]);
  });

  it('if_seq_no + if_primary_term: a match writes, a mismatch is a 409 version conflict (index, update, delete)', async () => {
    const first = await client.index({ index: 'seq-d', id: 'doc', document: { message: 'v1' } });
    // Two writers read the same version; the first to write wins.
    const won = await client.index({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(first), if_primary_term: 1, document: { message: 'v2' } });
    assert.equal(won.result, 'updated');
    await assert.rejects(client.index({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(first), if_primary_term: 1, document: { message: 'lost' } }), conflict('doc', seqOf(first), seqOf(won)));
    assert.equal((await client.get<{ message: string }>({ index: 'seq-d', id: 'doc' }))._source?.message, 'v2');

    await assert.rejects(client.update({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(first), if_primary_term: 1, doc: { message: 'lost' } }), conflict('doc', seqOf(first), seqOf(won)));
    const upd = await client.update({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(won), if_primary_term: 1, doc: { message: 'v3' } });
    assert.equal(upd.result, 'updated');

    // The wrong primary term conflicts too.
    await assert.rejects(client.delete({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(upd), if_primary_term: 2 }), (err: unknown) => {
      assert.ok(err instanceof errors.ResponseError);
      assert.equal(err.statusCode, 409);
      assert.match(JSON.stringify(err.body), /required seqNo \[\d+\], primary term \[2\]\. current document has seqNo/);
      return true;
    });
    await assert.rejects(client.delete({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(won), if_primary_term: 1 }), conflict('doc', seqOf(won), seqOf(upd)));
    const del = await client.delete({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(upd), if_primary_term: 1 });
    assert.equal(del.result, 'deleted');
    await assert.rejects(client.index({ index: 'seq-d', id: 'doc', if_seq_no: seqOf(upd), if_primary_term: 1, document: { message: 'gone' } }), conflict('doc', seqOf(upd), null));
  });

  it('if_seq_no per _bulk item: each item is checked alone', async () => {
    const a = await client.index({ index: 'seq-e', id: 'a', document: { n: 1 } });
    const b = await client.index({ index: 'seq-e', id: 'b', document: { n: 1 } });
    const r = await http(
      s.url,
      'POST',
      '/seq-e/_bulk',
      ndjson([{ index: { _id: 'a', if_seq_no: seqOf(a), if_primary_term: 1 } }, { n: 2 }, { index: { _id: 'b', if_seq_no: seqOf(b) + 1, if_primary_term: 1 } }, { n: 2 }]),
    );
    assert.equal(r.body.errors, true);
    assert.equal(r.body.items[0].index.status, 200);
    assert.equal(r.body.items[1].index.status, 409);
    assert.equal(r.body.items[1].index.error.type, 'version_conflict_engine_exception');
    assert.equal(r.body.items[1].index.error.reason, `[b]: version conflict, required seqNo [${seqOf(b) + 1}], primary term [1]. current document has seqNo [${seqOf(b)}] and primary term [1]`);
    assert.equal((await client.get<{ n: number }>({ index: 'seq-e', id: 'a' }))._source?.n, 2);
    assert.equal((await client.get<{ n: number }>({ index: 'seq-e', id: 'b' }))._source?.n, 1);
  });

  it('refuses what Elasticsearch refuses: if_seq_no without a term, on create, with an upsert, not a number', async () => {
    const noTerm = await http(s.url, 'PUT', '/seq-f/_doc/x?if_seq_no=1', { n: 1 });
    assert.equal(noTerm.status, 400);
    assert.equal(noTerm.body.error.type, 'action_request_validation_exception');
    assert.match(noTerm.body.error.reason, /ifSeqNo is set, but primary term is \[0\]/);
    const create = await http(s.url, 'PUT', '/seq-f/_create/x?if_seq_no=1&if_primary_term=1', { n: 1 });
    assert.equal(create.status, 400);
    assert.match(create.body.error.reason, /create operations do not support compare and set/);
    const upsert = await http(s.url, 'POST', '/seq-f/_update/x?if_seq_no=1&if_primary_term=1', { doc: { n: 1 }, doc_as_upsert: true });
    assert.equal(upsert.status, 400);
    assert.match(upsert.body.error.reason, /doc_as_upsert does not support `if_seq_no`/);
    const word = await http(s.url, 'PUT', '/seq-f/_doc/x?if_seq_no=abc&if_primary_term=1', { n: 1 });
    assert.equal(word.status, 400);
    assert.equal(word.body.error.type, 'illegal_argument_exception');
    const negative = await http(s.url, 'POST', '/seq-f/_bulk', ndjson([{ index: { _id: 'x', if_seq_no: -1, if_primary_term: 1 } }, { n: 1 }]));
    assert.equal(negative.body.items[0].index.status, 400);
    assert.match(negative.body.items[0].index.error.reason, /sequence numbers must be non negative/);
    assert.equal((await http(s.url, 'GET', '/seq-f/_doc/x')).status, 404);
  });

  it('keeps the numbers across a restart (they are where the rows are)', async () => {
    const w = await client.index({ index: 'seq-g', id: 'kept', document: { message: 'kept' }, refresh: true });
    await s.stop();
    const again = await startEs({}, s.dir);
    const c = new Client({ node: again.url });
    try {
      assert.equal((await c.get({ index: 'seq-g', id: 'kept' }))._seq_no, seqOf(w));
      const next = await c.index({ index: 'seq-g', id: 'kept', if_seq_no: seqOf(w), if_primary_term: 1, document: { message: 'next' } });
      assert.ok(seqOf(next) > seqOf(w));
    } finally {
      await c.close();
      s = again;
    }
  });
});
