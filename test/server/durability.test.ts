/**
 * What was acknowledged survives: a clean restart, and kill -9 in the middle
 * of concurrent ingest (twice), with no loss and no duplicates.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiGet,
  countAll,
  fieldsInfo,
  ingestOk,
  removeDir,
  search,
  sleep,
  spawnServer,
  startTestServer,
  stopChild,
  table,
  tempDir,
  type ChildServer,
} from '../helpers/server.js';

describe('restart', () => {
  it('finds the same events, with the same _ids and types, after a restart on the same directory', async () => {
    const dir = tempDir();
    try {
      const day = 86_400_000;
      // Noon yesterday and the two days before: three partitions, far from any midnight.
      const now = Math.floor(Date.now() / day) * day - day / 2;
      let s = await startTestServer({}, dir);
      const events = Array.from({ length: 120 }, (_, k) => ({
        '@timestamp': new Date(now - (k % 3) * day - k * 1000).toISOString(),
        message: `persist ${k}`,
        k,
        ratio: k / 4,
        flag: k % 2 === 0,
        host: `h${k % 5}`,
      }));
      await ingestOk(s.url, events);
      await ingestOk(s.url, [{ message: 'persist given id', _id: 'given-1', k: 1000 }]);
      const before = await search(s.url, 'persist', { from: 'now-4d' });
      assert.equal(before.total, 121);
      const fieldsBefore = await fieldsInfo(s.url);
      await s.close();

      s = await startTestServer({}, dir);
      try {
        const afterRestart = await search(s.url, 'persist', { from: 'now-4d' });
        assert.deepEqual(afterRestart, before, 'the same hits, ids and values in the same order');
        assert.deepEqual(await fieldsInfo(s.url), fieldsBefore);
        assert.equal((await search(s.url, '_id:given-1', { from: 'now-4d' })).hits[0].k, 1000);
        const one = before.hits[57];
        assert.equal((await search(s.url, `_id:"${one._id}"`, { from: 'now-4d' })).hits[0].k, one.k);
        // Three days of timestamped events, and today's for the event without a timestamp.
        assert.equal((await apiGet(s.url, '/api/v1/health')).body.partitions, 4);

        // New events after the restart get ids of their own, in every partition.
        await ingestOk(
          s.url,
          Array.from({ length: 30 }, (_, k) => ({ '@timestamp': new Date(now - (k % 3) * day).toISOString(), message: `persist new ${k}` })),
        );
        const all = await search(s.url, 'persist', { from: 'now-4d' });
        assert.equal(all.total, 151);
        assert.equal(new Set(all.hits.map((h) => h._id)).size, 151, 'no _id is reused after a restart');
        // Typed queries still work on the reopened columns.
        assert.equal((await search(s.url, 'ratio:>29', { from: 'now-4d' })).total, 3);
        assert.equal((await search(s.url, 'flag:true AND k:<10', { from: 'now-4d' })).total, 5);
      } finally {
        await s.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});

describe('kill -9 during ingest', () => {
  const children: ChildServer[] = [];
  const dir = tempDir();
  after(async () => {
    for (const c of children) await stopChild(c, 'SIGKILL');
    removeDir(dir);
  });

  const BATCH = 500;
  const LOOPS = 4;

  /** Runs LOOPS concurrent ingest loops until the server dies; returns the `n` of every acknowledged event. */
  async function ingestUntilKilled(child: ChildServer, round: number, killAfterMs: number): Promise<{ acked: number[]; failed: number }> {
    const acked: number[] = [];
    let failed = 0;
    let stop = false;
    const loop = async (loopId: number): Promise<void> => {
      for (let req = 0; !stop; req++) {
        const base = ((round * LOOPS + loopId) * 100_000 + req) * BATCH;
        const ns = Array.from({ length: BATCH }, (_, k) => base + k);
        const body = ns.map((n) => JSON.stringify({ message: `durable r${round} l${loopId} q${req}`, n, round })).join('\n') + '\n';
        try {
          const res = await fetch(`${child.url}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
          const answer = (await res.json()) as { accepted: number; rejected: unknown[] };
          if (res.status === 200) {
            assert.equal(answer.accepted, BATCH);
            assert.deepEqual(answer.rejected, []);
            for (const n of ns) acked.push(n);
          } else {
            failed++;
          }
        } catch {
          failed++; // the server died under this request: not acknowledged
          return;
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, (_, l) => loop(l));
    await sleep(killAfterMs);
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');
    stop = true;
    await Promise.all(loops);
    return { acked, failed };
  }

  /**
   * Every stored `n`, via a pipe (a search page is capped at 10,000 hits),
   * one ingest loop's range at a time so that no answer nears the pipe's cap.
   */
  async function storedNs(url: string, rounds: number): Promise<number[]> {
    const out: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (let l = 0; l < LOOPS; l++) {
        const lo = (r * LOOPS + l) * 100_000 * BATCH;
        const t = await table(url, `n:[${lo} TO ${lo + 100_000 * BATCH - 1}] | fields n | head 1000000`, { from: 'now-2d', to: 'now+1d' });
        assert.ok(t.rows.length < 1_000_000);
        for (const row of t.rows) out.push(row[0] as number);
      }
    }
    return out;
  }

  it('keeps every acknowledged event, without duplicates, across two kills', async (t) => {
    const allAcked: number[] = [];
    let child = await spawnServer(dir);
    children.push(child);
    for (let round = 0; round < 2; round++) {
      const { acked, failed } = await ingestUntilKilled(child, round, 3000);
      assert.ok(acked.length >= BATCH * LOOPS, `round ${round}: the server acknowledged ${acked.length} events before the kill`);
      for (const n of acked) allAcked.push(n);

      child = await spawnServer(dir);
      children.push(child);
      const count = await countAll(child.url, '*', { from: 'now-2d', to: 'now+1d' });
      t.diagnostic(`round ${round}: ${acked.length} events acknowledged, ${failed} requests cut by the kill, ${count} stored in all`);
      const ns = await storedNs(child.url, round + 1);
      assert.equal(ns.length, count, 'the fields pipe sees every stored event');
      const stored = new Set(ns);
      assert.equal(stored.size, ns.length, `round ${round}: ${ns.length - stored.size} events are stored twice`);
      const lost = allAcked.filter((n) => !stored.has(n));
      assert.deepEqual(lost.slice(0, 20), [], `round ${round}: ${lost.length} acknowledged events are missing`);
      assert.ok(count >= allAcked.length);
      // Unacknowledged requests may or may not have landed; nothing else may appear.
      assert.ok(ns.every((n) => Number.isInteger(n)));
      const ids = await table(child.url, '* | stats count_distinct(_id), count()', { from: 'now-2d', to: 'now+1d' });
      assert.deepEqual(ids.rows, [[count, count]], 'every stored event has its own _id');
      // A few acknowledged events by value, through ordinary queries.
      for (const n of [allAcked[0], allAcked[Math.floor(allAcked.length / 2)], allAcked[allAcked.length - 1]]) {
        const found = await search(child.url, `n:${n}`, { from: 'now-2d', to: 'now+1d' });
        assert.equal(found.total, 1, `n:${n}`);
      }
    }
    const done = await stopChild(child);
    assert.equal(done.code, 0, `graceful stop: ${child.output()}`);
  });
});
