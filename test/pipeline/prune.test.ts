/** The prune filter: keeping and dropping top-level fields by name and by value, as Logstash's examples show. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { refuses, runOne, runEvents as runPipeline } from '../helpers/pipeline.js';

describe('prune filter', () => {
  it('whitelist_names matches anywhere in the name unless anchored (the example of Logstash)', () => {
    const loose = runOne(`prune { whitelist_names => ["msg"] }`, { msg: 'hello world', msg_short: 'hw', other: 1, tags: ['t'] });
    assert.deepEqual(Object.keys(loose).sort(), ['@timestamp', '@version', 'msg', 'msg_short']);
    const exact = runOne(`prune { whitelist_names => ["^msg$", "^tags$"] }`, { msg: 'hello world', msg_short: 'hw', tags: ['t'] });
    assert.deepEqual(Object.keys(exact).sort(), ['@timestamp', '@version', 'msg', 'tags'], 'tags are pruned unless whitelisted, as in Logstash');
  });

  it('never removes @timestamp or @version, whatever the lists say', () => {
    const e = runOne(`prune { blacklist_names => ["^@", "timestamp", "version"] }`, { a: 1 });
    assert.equal(e['@timestamp'], '2000-01-01T00:00:00.000Z');
    assert.equal(e['@version'], '1');
    assert.equal(e.a, 1);
  });

  it('by default removes fields whose names hold an unresolved %{…}', () => {
    const e = runOne(`prune { }`, { firstname: 'Borat', '%{hmm}': 'doh', status: '200' });
    assert.equal(e['%{hmm}'], undefined);
    assert.equal(e.firstname, 'Borat');
    assert.equal(e.status, '200');
  });

  it('blacklist_names removes what matches; add_tag applies after pruning', () => {
    const e = runOne(`prune { blacklist_names => ["^(referrer|agent)$", "_tmp$"] add_tag => ["pruned"] }`, { referrer: 'x', agent: 'y', agent_name: 'z', a_tmp: 1, keep: 2 });
    assert.deepEqual(Object.keys(e).sort(), ['@timestamp', '@version', 'agent_name', 'keep', 'tags']);
    assert.deepEqual(e.tags, ['pruned']);
  });

  it('whitelist_values keeps a field only if its value matches; list items are kept one by one', () => {
    const e = runOne(`prune { whitelist_values => { "method" => "^(GET|POST)$" "status" => "^[^2]" "codes" => "^4" "n" => "^1" } }`, {
      method: 'DELETE',
      status: '404',
      codes: ['200', '404', 410],
      n: 123,
      other: 'x',
    });
    assert.equal(e.method, undefined);
    assert.equal(e.status, '404');
    assert.deepEqual(e.codes, ['404', 410], 'numbers are matched as text');
    assert.equal(e.n, 123);
    assert.equal(e.other, 'x', 'fields without a rule stay');
    const all = runOne(`prune { whitelist_values => { "codes" => "^5" } }`, { codes: ['200', '404'] });
    assert.equal(all.codes, undefined, 'no item matches: the field goes');
  });

  it('blacklist_values removes matching values and list items; the flat array form works too', () => {
    const e = runOne(`prune { blacklist_values => ["uripath", "/index.php", "method", "(HEAD|OPTIONS)", "tags", "^debug$"] }`, {
      uripath: '/index.php?x=1',
      method: 'GET',
      tags: ['debug', 'web'],
    });
    assert.equal(e.uripath, undefined);
    assert.equal(e.method, 'GET');
    assert.deepEqual(e.tags, ['web']);
  });

  it('with interpolate, names and patterns take values from the event', () => {
    const e = runOne(`prune { interpolate => true whitelist_names => ["^%{keep}$", "^keep$"] }`, { keep: 'b', a: 1, b: 2, c: 3 });
    assert.deepEqual(Object.keys(e).sort(), ['@timestamp', '@version', 'b', 'keep']);
    const v = runOne(`prune { interpolate => true blacklist_values => { "%{which}" => "^%{bad}$" } }`, { which: 'level', bad: 'debug', level: 'debug', other: 'debug' });
    assert.equal(v.level, undefined);
    assert.equal(v.other, 'debug');
  });

  it('refuses a pattern that is not a regular expression', () => {
    refuses(`prune { whitelist_names => ["(unclosed"] }`, /"whitelist_names".*not a valid regular expression/);
    refuses(`prune { blacklist_values => { "f" => "[a-" } }`, /"blacklist_values"/);
    refuses(`prune { whitelist_name => ["x"] }`, /unknown setting "whitelist_name"/);
  });

  it('runs in a pipeline', async () => {
    const events = await runPipeline(`prune { whitelist_names => ["^message$"] }`, [{ message: 'm', noise: 1 }]);
    assert.deepEqual(Object.keys(events[0]).sort(), ['@timestamp', '@version', 'message']);
  });
});
