/** Conditions of if / else if, as parsed from real config text and run against events. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { compileCondition } from '../../src/pipeline/condition.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';

function holds(condition: string, fields: Record<string, any>): boolean {
  const tree = parseConfig(`filter { if ${condition} { drop {} } }`);
  const statement = tree.sections[0].body[0];
  assert.equal(statement.kind, 'if');
  if (statement.kind !== 'if') throw new Error('unreachable');
  return compileCondition(statement.branches[0].condition)(new PipelineEvent(structuredClone(fields)));
}

describe('pipeline conditions', () => {
  const event = { status: 503, code: '503', method: 'GET', tags: ['a', 'b'], host: { name: 'web-1' }, flag: false, nothing: null, list: [1, 2], msg: 'disk full on /var' };

  it('compares values of the same type only, as Logstash does', () => {
    assert.equal(holds('[status] == 503', event), true);
    assert.equal(holds('[code] == 503', event), false, 'text is not a number');
    assert.equal(holds('[code] == "503"', event), true);
    assert.equal(holds('[status] > 500 and [status] <= 503', event), true);
    assert.equal(holds('[code] > 400', event), false, 'text against a number is false');
    assert.equal(holds('[method] < "POST"', event), true, 'texts compare as texts');
    assert.equal(holds('[missing] != 1', event), true);
    assert.equal(holds('[missing] == 1', event), false);
    assert.equal(holds('[host][name] == "web-1"', event), true);
    assert.equal(holds('[list] == [1, 2]', event), true, 'lists compare by content');
  });

  it('reads a lone field as true when it exists and is neither null nor false', () => {
    assert.equal(holds('[status]', event), true);
    assert.equal(holds('[flag]', event), false);
    assert.equal(holds('[nothing]', event), false);
    assert.equal(holds('[missing]', event), false);
    assert.equal(holds('![missing]', event), true);
    assert.equal(holds('[host]', event), true);
  });

  it('finds values in lists, texts inside texts and keys in hashes', () => {
    assert.equal(holds('"a" in [tags]', event), true);
    assert.equal(holds('"c" not in [tags]', event), true);
    assert.equal(holds('[method] in ["GET", "HEAD"]', event), true);
    assert.equal(holds('[status] in [500, 503]', event), true);
    assert.equal(holds('"full" in [msg]', event), true);
    assert.equal(holds('"name" in [host]', event), true);
    assert.equal(holds('"x" in [missing]', event), false);
    assert.equal(holds('"x" not in [missing]', event), true);
  });

  it('matches regular expressions against text, with Ruby anchors read as JavaScript ones', () => {
    assert.equal(holds('[msg] =~ /^disk \\w+/', event), true);
    assert.equal(holds('[msg] !~ /memory/', event), true);
    assert.equal(holds('[msg] =~ /\\Adisk/', event), true);
    assert.equal(holds('[status] =~ /503/', event), false, 'a number is not text');
    assert.equal(holds('[msg] =~ "on /var$"', event), true);
    assert.throws(() => holds('[msg] =~ /(unclosed/', event), PipelineConfigError);
  });

  it('groups and/nand before xor before or, each left to right', () => {
    const t = { t: true };
    // or (b and c): with a true, b false, c false: true; (a or b) and c would be false.
    assert.equal(holds('[t] or [f] and [f]', t), true);
    assert.equal(holds('([t] or [f]) and [f]', t), false);
    assert.equal(holds('[t] xor [t] or [t]', t), true);
    assert.equal(holds('[t] xor [t]', t), false);
    assert.equal(holds('[t] xor [f] xor [t]', t), false);
    assert.equal(holds('[t] nand [t]', t), false);
    assert.equal(holds('[t] nand [f]', t), true);
    // left to right: ([t] nand [t]) nand [t] = (false) nand true = true
    assert.equal(holds('[t] nand [t] nand [t]', t), true);
    assert.equal(holds('!([t] and [f]) and !([f])', t), true);
  });

  it('runs a chain of 100,000 operators without overflowing the stack', () => {
    const terms = Array.from({ length: 100_000 }, (_, i) => `[n] == ${i}`);
    assert.equal(holds(terms.join(' or '), { n: 99_999 }), true);
    assert.equal(holds(terms.join(' or '), { n: -1 }), false);
    assert.equal(holds(terms.map((t) => `!(${t.replace('==', '==')})`).slice(0, 50_000).join(' and '), { n: 100_001 }), true);
  });
});
