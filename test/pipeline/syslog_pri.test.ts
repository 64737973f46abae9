/** The syslog_pri filter: PRI split into facility and severity with Logstash's labels, using the RFC examples. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineEvent } from '../../src/pipeline/event.js';

import { readFileSync } from 'node:fs';
import { sharedData } from '../helpers/shared-data.js';
import { filterOf, refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

describe('syslog_pri filter', () => {
  it('splits the PRI of every RFC 3164 and RFC 5424 example as the RFCs decompose it', () => {
    const rfc = JSON.parse(readFileSync(sharedData('syslog-rfc-examples.json'), 'utf8'));
    const examples = [...rfc.rfc3164, ...rfc.rfc5424] as Array<{ expect: { pri?: number; facility?: number; severity?: number } }>;
    const filter = filterOf(`syslog_pri { }`);
    let checked = 0;
    for (const { expect } of examples) {
      if (typeof expect.pri !== 'number') continue;
      const [event] = filter.process([new PipelineEvent({ syslog_pri: String(expect.pri) })]);
      assert.equal(event.fields.syslog_facility_code, expect.facility);
      assert.equal(event.fields.syslog_severity_code, expect.severity);
      checked++;
    }
    assert.ok(checked >= 5, `${checked} examples`);
  });

  it('names facilities and severities with Logstash labels', () => {
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: '34' })), [4, 2, 'security/authorization', 'critical']);
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: 0 })), [0, 0, 'kernel', 'emergency']);
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: 191 })), [23, 7, 'local7', 'debug']);
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: 165 })), [20, 5, 'local4', 'notice']);
  });

  it('reads a missing field as 13 and text as Ruby\'s to_i does', () => {
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { message: 'no pri' })), [1, 5, 'user-level', 'notice']);
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: ['11', '99'] })), [1, 3, 'user-level', 'error'], 'a list: its first item');
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: '86abc' })), [10, 6, 'security/authorization', 'informational']);
    assert.deepEqual(pick(runOne(`syslog_pri { }`, { syslog_pri: 'abc' })), [0, 0, 'kernel', 'emergency']);
    const beyond = runOne(`syslog_pri { }`, { syslog_pri: 200 });
    assert.equal(beyond.syslog_facility_code, 25);
    assert.equal(beyond.syslog_facility, undefined, 'no label beyond the list');
    assert.equal(beyond.syslog_severity, 'emergency', '200 = 25 * 8 + 0');
  });

  it('takes another field, custom labels, and use_labels => false; add_tag applies', () => {
    const e = runOne(`syslog_pri { syslog_pri_field_name => "[log][pri]" severity_labels => ["E","A","C","R","W","N","I","D"] add_tag => ["pri"] }`, { log: { pri: 27 } });
    assert.deepEqual(pick(e), [3, 3, 'daemon', 'R']);
    assert.deepEqual(e.tags, ['pri']);
    const bare = runOne(`syslog_pri { use_labels => false }`, { syslog_pri: 27 });
    assert.equal(bare.syslog_facility, undefined);
    assert.equal(bare.syslog_severity, undefined);
    assert.equal(bare.syslog_severity_code, 3);
    refuses(`syslog_pri { use_labels => "maybe" }`, /"use_labels" must be true or false/);
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`syslog_pri { }`, [{ syslog_pri: '78' }]);
    assert.deepEqual(pick(events[0]), [9, 6, 'clock', 'informational']);
  });
});

function pick(e: Record<string, any>): unknown[] {
  return [e.syslog_facility_code, e.syslog_severity_code, e.syslog_facility, e.syslog_severity];
}
