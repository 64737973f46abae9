/** The csv filter, run in pipelines built from config text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { CsvError, MAX_COLUMNS, parseCsvRow } from '../../src/pipeline/filters/csv.js';
import { runLines as run, runEvents, buildWithFilter as build } from '../helpers/pipeline.js';

/** Runs the filter over JSON-lines input, so that a message can hold newlines. */
function runJson(filter: string, messages: unknown[]): Promise<Array<Record<string, any>>> {
  return runEvents(filter, messages.map((m) => ({ message: m })));
}

describe('csv filter', () => {
  it('reads quoted commas, doubled quotes and newlines inside quotes (RFC 4180)', async () => {
    const [e] = await runJson(`csv { columns => ["id", "name", "note", "city"] add_tag => ["csv"] }`, ['17,"Smith, John","He said ""hi""\nand left",Paris\r\n']);
    assert.equal(e.id, '17');
    assert.equal(e.name, 'Smith, John');
    assert.equal(e.note, 'He said "hi"\nand left');
    assert.equal(e.city, 'Paris');
    assert.deepEqual(e.tags, ['csv']);
  });

  it('names extra columns column1…, or drops them without autogenerate_column_names', async () => {
    const [auto] = await run(`csv { columns => ["a"] }`, ['1,2,3']);
    assert.deepEqual([auto.a, auto.column2, auto.column3], ['1', '2', '3']);
    const [none] = await run(`csv { columns => ["a"] autogenerate_column_names => false }`, ['1,2,3']);
    assert.equal(none.a, '1');
    assert.equal(none.column2, undefined);
  });

  it('takes the names from the first row with autodetect_column_names, and drops repeated headers with skip_header', async () => {
    const events = await run(`csv { autodetect_column_names => true skip_header => true }`, ['host,status,bytes', 'web1,200,512', 'host,status,bytes', 'web2,404,0']);
    assert.equal(events.length, 2, 'the header rows are dropped');
    assert.deepEqual(events.map((e) => [e.host, e.status, e.bytes]), [['web1', '200', '512'], ['web2', '404', '0']]);
  });

  it('keeps empty values as null (unquoted) or "" (quoted), skips them with skip_empty_columns, drops empty rows with skip_empty_rows', async () => {
    const [e] = await run(`csv { columns => ["a", "b", "c"] }`, ['x,,""']);
    assert.equal(e.a, 'x');
    assert.equal(e.b, null);
    assert.equal(e.c, '');
    const [skipped] = await run(`csv { columns => ["a", "b", "c"] skip_empty_columns => true }`, ['x,,""']);
    assert.equal('b' in skipped, false);
    assert.equal('c' in skipped, false);
    const rows = await runJson(`csv { skip_empty_rows => true }`, ['', 'a,b']);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].column1, 'a');
  });

  it('converts columns, leaving a value that does not convert as text', async () => {
    const [e] = await run(`csv { columns => ["n", "f", "b", "d", "t", "bad"] convert => { "n" => "integer" "f" => "float" "b" => "boolean" "d" => "date" "t" => "date_time" "bad" => "integer" } }`, ['-42,3.5e2,TRUE,2024-02-29,2024-02-29T10:11:12Z,12abc']);
    assert.equal(e.n, -42);
    assert.equal(e.f, 350);
    assert.equal(e.b, true);
    assert.equal(e.d, '2024-02-29');
    assert.equal(e.t, '2024-02-29T10:11:12.000Z');
    assert.equal(e.bad, '12abc');
  });

  it('uses other separators and quote characters, and puts the values under target', async () => {
    const [tab] = await run(`csv { separator => "\t" columns => ["a", "b"] target => "[row]" }`, ['1\t"two\tparts"']);
    assert.deepEqual(tab.row, { a: '1', b: 'two\tparts' });
    const [multi] = await run(`csv { separator => "||" quote_char => "'" }`, [`a||'b||c'||'it''s'`]);
    assert.deepEqual([multi.column1, multi.column2, multi.column3], ['a', 'b||c', "it's"]);
  });

  it('tags _csvparsefailure for broken quoting and leaves the event, while the batch goes on', async () => {
    const events = await runJson(`csv { columns => ["a", "b"] add_field => { "ok" => "1" } }`, ['1,"open', 'x"y,2', '"a"b,2', 'fine,2']);
    assert.equal(events.length, 4);
    for (const e of events.slice(0, 3)) {
      assert.deepEqual(e.tags, ['_csvparsefailure'], e.message);
      assert.equal(e.a, undefined);
      assert.equal(e.ok, undefined);
    }
    assert.deepEqual([events[3].a, events[3].b, events[3].ok], ['fine', '2', '1']);
    const [custom] = await runJson(`csv { tag_on_failure => ["broken"] }`, ['"x']);
    assert.deepEqual(custom.tags, ['broken']);
  });

  it('reads only the first row of a text, as Logstash does', async () => {
    const [e] = await runJson(`csv {}`, ['a,b\nc,d']);
    assert.deepEqual([e.column1, e.column2, e.column3], ['a', 'b', undefined]);
  });

  it(`refuses a row of more than ${MAX_COLUMNS} values`, async () => {
    const [e] = await run(`csv {}`, [Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => String(i)).join(',')]);
    assert.deepEqual(e.tags, ['_csvparsefailure']);
    assert.equal(e.column1, undefined);
  });

  it('reads rows directly, as the parser the filter uses', () => {
    assert.deepEqual(parseCsvRow('a,"b,c",', ',', '"'), ['a', 'b,c', null]);
    assert.deepEqual(parseCsvRow('', ',', '"'), []);
    assert.throws(() => parseCsvRow('"a" ,b', ',', '"'), CsvError);
  });

  it('refuses bad settings, naming them', () => {
    const cases: Array<[string, RegExp]> = [
      [`csv { convert => { "a" => "long" } }`, /setting "convert" names an unknown type "long"/],
      [`csv { quote_char => "ab" }`, /setting "quote_char" must be a single character/],
      [`csv { separator => "" }`, /setting "separator" must not be empty/],
      [`csv { skip_header => "maybe" }`, /setting "skip_header" must be true or false/],
    ];
    for (const [config, expected] of cases) assert.throws(() => build(config), (e: unknown) => e instanceof PipelineConfigError && expected.test(e.message), config);
  });
});
