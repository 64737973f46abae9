/** The uuid filter: random version-4 UUIDs, kept or overwritten. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { filterOf, refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid filter', () => {
  it('sets target to a distinct version-4 UUID per event', () => {
    const filter = filterOf(`uuid { target => "[event][id]" add_tag => ["id"] }`);
    const events = filter.process(Array.from({ length: 1000 }, () => new PipelineEvent({})));
    const ids = events.map((e) => (e.fields.event as Record<string, string>).id);
    for (const id of ids) assert.match(id, V4);
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual(events[0].tags(), ['id']);
  });

  it('keeps a value already there unless overwrite is true', () => {
    assert.equal(runOne(`uuid { target => "id" }`, { id: 'mine' }).id, 'mine');
    assert.match(runOne(`uuid { target => "id" }`, { id: null }).id, V4, 'null counts as empty, as nil does');
    assert.match(runOne(`uuid { target => "id" overwrite => true }`, { id: 'mine' }).id, V4);
  });

  it('refuses to run without a target', () => {
    refuses(`uuid { }`, /"target" is required/);
    refuses(`uuid { target => "id" overwrite => "sometimes" }`, /"overwrite"/);
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`uuid { target => "uuid" }`, [{ message: 'a' }, { message: 'b' }]);
    assert.equal(events.length, 2);
    assert.notEqual(events[0].uuid, events[1].uuid);
    for (const e of events) assert.match(e.uuid, V4);
  });
});
