/** Logstash's sprintf format: field placeholders and the event's time in Joda and Java patterns. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { Template } from '../../src/pipeline/sprintf.js';

const at = (iso: string, fields: Record<string, any> = {}): PipelineEvent => new PipelineEvent({ '@timestamp': iso, ...fields });

describe('sprintf templates', () => {
  it('formats the event time in UTC with Joda letters', () => {
    const e = at('2026-01-02T03:04:05.678Z');
    assert.equal(new Template('logstash-%{+YYYY.MM.dd}').render(e), 'logstash-2026.01.02');
    assert.equal(new Template('%{+yyyy-MM-dd HH:mm:ss.SSS}').render(e), '2026-01-02 03:04:05.678');
    assert.equal(new Template("%{{yyyy-MM-dd'T'HH}}").render(e), '2026-01-02T03');
    assert.equal(new Template('%{+MMM EEE D}').render(e), 'Jan Fri 2');
    assert.equal(new Template('%{+%s}').render(e), String(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000));
  });

  it('numbers ISO weeks and their years as Joda does (xxxx.ww)', () => {
    // 2027-01-01 is a Friday: it belongs to week 53 of 2026.
    assert.equal(new Template('%{+xxxx.ww}').render(at('2027-01-01T12:00:00Z')), '2026.53');
    assert.equal(new Template('%{+xxxx.ww}').render(at('2026-12-28T00:00:00Z')), '2026.53');
    assert.equal(new Template('%{+xxxx.ww}').render(at('2027-01-04T00:00:00Z')), '2027.01');
  });

  it('puts in fields, nested fields, lists and hashes; leaves a missing field as written', () => {
    const e = at('2026-01-02T00:00:00Z', { a: 'x', n: { b: 2 }, list: ['p', 'q'], h: { k: 1 } });
    assert.equal(new Template('%{a}/%{[n][b]}/%{list}/%{h}/%{nope}/%{[n][nope]}').render(e), 'x/2/p,q/{"k":1}/%{nope}/%{[n][nope]}');
    assert.equal(new Template('100%{ not closed').render(e), '100%{ not closed');
    assert.ok(new Template('plain').constant);
  });
});
