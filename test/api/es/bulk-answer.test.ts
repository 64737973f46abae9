/**
 * The bulk answer writes created items from the store's keys at the end, in
 * runs laid down from templates: whatever the days, the digits of the
 * sequence numbers and the items between runs, the JSON must be exactly the
 * items in order. A filter_path written into the answer must give what the
 * server's generic filter gives for the whole answer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { answerFilter, BulkAnswer, type ItemResult } from '../../../src/api/es/bulk-answer.js';
import { filterPath } from '../../../src/api/es/server.js';
import { rowPosition, RowKeys } from '../../../src/store/store.js';
import { prng } from '../../helpers/prng.js';

type Expected = Record<string, Record<string, unknown>>;

describe('bulk answer', () => {
  it('writes every item in order: runs across days and digit counts, errors and slots between them', () => {
    const random = prng(3);
    // Sequence numbers that cross a digit count, and some past 2^31 (a day's stay below 2^32: store.ts rowPosition).
    const starts = [0, 5, 95, 998, 99_995, 999_999_990, 2_147_483_640, 4_294_966_990];
    for (let round = 0; round < 200; round++) {
      const answer = new BulkAnswer();
      const expected: Expected[] = [];
      const slots: ItemResult[] = [];
      const chunks = 1 + Math.floor(random() * 3);
      for (let c = 0; c < chunks; c++) {
        const size = 1 + Math.floor(random() * 40);
        const keys = new RowKeys(size + 5);
        let seq = starts[Math.floor(random() * starts.length)];
        for (let i = 0; i < size; i++) {
          keys.days[i] = random() < 0.8 ? 20261121 : 20261120;
          keys.seqs[i] = seq;
          seq += random() < 0.9 ? 1 : 7;
        }
        for (let i = 0; i < size; i++) {
          const roll = random();
          if (roll < 0.08) {
            answer.item({ action: 'create', index: 'x', id: null, status: 400, error: { type: 'mapper_parsing_exception', reason: `bad ${i}` } });
            expected.push({ create: { _index: 'x', _id: null, status: 400, error: { type: 'mapper_parsing_exception', reason: `bad ${i}` } } });
          } else if (roll < 0.12) {
            answer.slot();
            const r: ItemResult = { action: 'index', index: 'x', id: `k${i}`, status: 200, result: 'updated', version: 2 };
            slots.push(r);
            expected.push({ index: { _index: 'x', _id: `k${i}`, _version: 2, result: 'updated', status: 200 } });
          }
          const action = random() < 0.7 ? 'create' : 'index';
          const index = random() < 0.9 ? 'logs-a' : 'logs-"b"';
          answer.created(action, index, keys, i);
          const seqNo = rowPosition(keys.days[i], keys.seqs[i]);
          expected.push({ [action]: { _index: index, _id: `${keys.days[i]}-${keys.seqs[i]}`, _version: 1, result: 'created', _seq_no: seqNo, _primary_term: 1, status: 201 } });
        }
      }
      answer.fill(slots, 5);
      const body = JSON.parse(answer.bytes().toString()) as { took: number; errors: boolean; items: Expected[] };
      assert.equal(body.took, 5);
      assert.equal(body.errors, expected.some((e) => Object.values(e)[0].error !== undefined));
      assert.deepEqual(body.items, expected, `round ${round}`);
      assert.equal(answer.size, expected.length);
    }
  });

  /** A random bulk answer's calls, to be replayed into answers with different filters. */
  function randomCalls(seed: number): ((answer: BulkAnswer) => void)[] {
    const random = prng(seed);
    const calls: ((answer: BulkAnswer) => void)[] = [];
    const slots: ItemResult[] = [];
    const size = 1 + Math.floor(random() * 30);
    const keys = new RowKeys(size);
    for (let i = 0; i < size; i++) {
      keys.days[i] = 20261121;
      keys.seqs[i] = 95 + i;
      const roll = random();
      if (roll < 0.15) {
        const r: ItemResult = { action: 'index', index: 'x', id: null, status: 400, error: { type: 'mapper_parsing_exception', reason: `bad ${i}` } };
        calls.push((a) => a.item(r));
      } else if (roll < 0.3) {
        slots.push(random() < 0.5 ? { action: 'index', index: 'x', id: `k${i}`, status: 200, result: 'updated', version: 2 } : { action: 'delete', index: 'x', id: `k${i}`, status: 404, result: 'not_found', version: 1 });
        calls.push((a) => a.slot());
      } else {
        const action = random() < 0.5 ? 'create' : 'index';
        calls.push((a) => a.created(action, 'logs-a', keys, i));
      }
    }
    calls.push((a) => a.fill(slots, 7));
    return calls;
  }

  it('writes a filter_path as the generic filter applies it to the whole answer', () => {
    const filters = [
      'errors,items.*.error,items.*.status',
      'items.*.error',
      'items.*._id',
      'took,items.*._index,items.*.result',
      'errors',
      'items',
      'items.*',
      'items.*.*',
      'took,nothing',
      'items.*.nothing',
      ' errors , items.*.status ',
      '',
    ];
    for (let seed = 1; seed <= 60; seed++) {
      const calls = randomCalls(seed);
      const whole = new BulkAnswer();
      for (const call of calls) call(whole);
      const wholeJson = JSON.parse(whole.bytes().toString()) as unknown;
      for (const expr of filters) {
        const filter = answerFilter(expr);
        assert.ok(filter !== null, expr);
        const filtered = new BulkAnswer(filter);
        for (const call of calls) call(filtered);
        const expected = expr.trim() === '' ? wholeJson : filterPath(wholeJson, expr);
        assert.deepEqual(JSON.parse(filtered.bytes().toString()), expected, `seed ${seed}, filter_path=${expr}`);
        assert.equal(filtered.size, whole.size);
      }
    }
  });

  it('leaves the filters it cannot write to the generic one', () => {
    for (const expr of ['-items', 'items.**', '**.status', 'item*', 'items.index.status', 'items.*.error.type', 'items.*.st*', 'took.x', '*']) {
      assert.equal(answerFilter(expr), null, expr);
    }
  });
});

