import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSyntaxError } from '../../src/pipeline/parser/ast.js';
import type { Position } from '../../src/pipeline/parser/ast.js';
import { MAX_CONFIG_BYTES, MAX_NESTING, parseConfig } from '../../src/pipeline/parser/parse.js';

// --- helpers -----------------------------------------------------------------

/** A deep copy without `at` properties, so expected trees stay readable. */
function strip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'at' ? undefined : v)));
}

/** The sections of `text`, positions stripped. */
function sections(text: string): unknown {
  return strip(parseConfig(text).sections);
}

/** The body of the only section of `text`, positions stripped. */
function body(text: string): unknown {
  const tree = parseConfig(text);
  assert.equal(tree.sections.length, 1);
  return strip(tree.sections[0].body);
}

/** The first branch's condition of `filter { if COND {} }`, positions stripped. */
function condition(cond: string): unknown {
  const statement = parseConfig(`filter { if ${cond} {} }`).sections[0].body[0];
  assert.equal(statement.kind, 'if');
  return strip(statement.branches[0].condition);
}

/** The value of setting `v` in `filter { p { v => VALUE } }`, positions stripped. */
function value(text: string): unknown {
  const statement = parseConfig(`filter { p { v => ${text} } }`).sections[0].body[0];
  assert.equal(statement.kind, 'plugin');
  return strip(statement.plugin.attributes[0].value);
}

/** The ConfigSyntaxError that parsing `text` throws (fails the test if none). */
function error(text: string, source?: string): ConfigSyntaxError {
  try {
    parseConfig(text, source);
  } catch (e) {
    assert.ok(e instanceof ConfigSyntaxError, `expected a ConfigSyntaxError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(text)} not to parse`);
}

const pos = (line: number, column: number): Position => ({ line, column });

// Values
const str = (value: string) => ({ kind: 'string', value });
const num = (text: string) => ({ kind: 'number', value: Number(text), text });
const bare = (value: string) => ({ kind: 'bareword', value });
const arr = (...items: unknown[]) => ({ kind: 'array', items });
const hash = (...entries: [string, unknown][]) => ({ kind: 'hash', entries: entries.map(([key, v]) => ({ key, value: v })) });
const attr = (name: string, v: unknown) => ({ name, value: v });
const pluginNode = (name: string, ...attributes: unknown[]) => ({ name, attributes });
const pluginValue = (name: string, ...attributes: unknown[]) => ({ kind: 'plugin', plugin: pluginNode(name, ...attributes) });
// Statements
const plugin = (name: string, ...attributes: unknown[]) => ({ kind: 'plugin', plugin: pluginNode(name, ...attributes) });
const branch = (cond: unknown, ...statements: unknown[]) => ({ condition: cond, body: statements });
const ifs = (branches: unknown[], otherwise: unknown[] | null = null) => ({ kind: 'if', branches, otherwise });
const section = (kind: string, ...statements: unknown[]) => ({ kind, body: statements });
// Operands
const field = (...path: string[]) => ({ kind: 'field', field: { path, text: path.map((p) => `[${p}]`).join('') } });
const ostr = (value: string) => ({ kind: 'string', value });
const onum = (value: number) => ({ kind: 'number', value });
const re = (source: string) => ({ kind: 'regexp', source });
const list = (...items: unknown[]) => ({ kind: 'list', items });
// Conditions
const truthy = (operand: unknown) => ({ kind: 'truthy', operand });
const cmp = (operator: string, left: unknown, right: unknown) => ({ kind: 'compare', operator, left, right });
const match = (left: unknown, pattern: unknown, negated = false) => ({ kind: 'match', negated, left, pattern });
const isIn = (needle: unknown, haystack: unknown, negated = false) => ({ kind: 'in', negated, needle, haystack });
const not = (operand: unknown) => ({ kind: 'not', operand });
const bool = (operator: string) => (left: unknown, right: unknown) => ({ kind: 'boolean', operator, left, right });
const and = bool('and');
const or = bool('or');
const xor = bool('xor');
const nand = bool('nand');
const t = (name: string) => truthy(field(name));

// --- a realistic configuration ----------------------------------------------

const FILEBEAT_TO_ES = `# Filebeat -> Logstash -> Elasticsearch
input {
  beats {
    port => 5044   # the Filebeat default
    ssl => false
  }
}

filter {
  if [fileset][module] == "apache" or [type] == "apache_access" {
    grok {
      match => { "message" => "%{COMBINEDAPACHELOG}" }
      tag_on_failure => ["_grokparsefailure", "apache"]
    }
    date {
      match => ["timestamp", "dd/MMM/yyyy:HH:mm:ss Z"]
      remove_field => "timestamp"
    }
    # 5xx responses, unless marked internal
    if [response] =~ /^5\\d\\d$/ and "internal" not in [tags] {
      mutate { add_tag => ["server_error"] }
    } else if [response] in ["401", "403"] {
      mutate {
        add_field => { "[@metadata][auth]" => "denied" }
      }
    } else {
      mutate { remove_tag => ["_grokparsefailure"] }
    }
  }
  if !("debug" in [tags]) and ![skip] or [level] != "trace" and [bytes] >= 1024 {
    mutate {
      convert => { "bytes" => "integer" }
      gsub => ["agent", "\\/", "_"]
    }
  }
}

output {
  if [@metadata][auth] {
    stdout { codec => rubydebug }
  }
  elasticsearch {
    hosts => ["http://localhost:9200"]
    index => "logstash-%{+YYYY.MM.dd}"
    codec => json { charset => "UTF-8" }
  }
}
`;

describe('a Filebeat to Elasticsearch configuration', () => {
  const tree = parseConfig(FILEBEAT_TO_ES, 'beats.conf');

  it('has the exact tree', () => {
    assert.deepEqual(strip(tree), {
      sections: [
        section('input', plugin('beats', attr('port', num('5044')), attr('ssl', bare('false')))),
        section(
          'filter',
          ifs([
            branch(
              or(cmp('==', field('fileset', 'module'), ostr('apache')), cmp('==', field('type'), ostr('apache_access'))),
              plugin(
                'grok',
                attr('match', hash(['message', str('%{COMBINEDAPACHELOG}')])),
                attr('tag_on_failure', arr(str('_grokparsefailure'), str('apache'))),
              ),
              plugin(
                'date',
                attr('match', arr(str('timestamp'), str('dd/MMM/yyyy:HH:mm:ss Z'))),
                attr('remove_field', str('timestamp')),
              ),
              ifs(
                [
                  branch(
                    and(match(field('response'), re('^5\\d\\d$')), isIn(ostr('internal'), field('tags'), true)),
                    plugin('mutate', attr('add_tag', arr(str('server_error')))),
                  ),
                  branch(
                    isIn(field('response'), list(ostr('401'), ostr('403'))),
                    plugin('mutate', attr('add_field', hash(['[@metadata][auth]', str('denied')]))),
                  ),
                ],
                [plugin('mutate', attr('remove_tag', arr(str('_grokparsefailure'))))],
              ),
            ),
          ]),
          ifs([
            branch(
              or(
                and(not(isIn(ostr('debug'), field('tags'))), not(t('skip'))),
                and(cmp('!=', field('level'), ostr('trace')), cmp('>=', field('bytes'), onum(1024))),
              ),
              plugin(
                'mutate',
                attr('convert', hash(['bytes', str('integer')])),
                attr('gsub', arr(str('agent'), str('\\/'), str('_'))),
              ),
            ),
          ]),
        ),
        section(
          'output',
          ifs([branch(truthy(field('@metadata', 'auth')), plugin('stdout', attr('codec', bare('rubydebug'))))]),
          plugin(
            'elasticsearch',
            attr('hosts', arr(str('http://localhost:9200'))),
            attr('index', str('logstash-%{+YYYY.MM.dd}')),
            attr('codec', pluginValue('json', attr('charset', str('UTF-8')))),
          ),
        ),
      ],
    });
  });

  it('keeps the position of sections, plugins, settings and values', () => {
    const [input, filter, output] = tree.sections;
    assert.deepEqual(input.at, pos(2, 1));
    assert.deepEqual(filter.at, pos(9, 1));
    assert.deepEqual(output.at, pos(38, 1));
    const beats = input.body[0];
    assert.equal(beats.kind, 'plugin');
    assert.deepEqual(beats.plugin.at, pos(3, 3));
    assert.deepEqual(beats.plugin.attributes[0].at, pos(4, 5));
    assert.deepEqual(beats.plugin.attributes[0].value.at, pos(4, 13));

    const outer = filter.body[0];
    assert.equal(outer.kind, 'if');
    assert.deepEqual(outer.at, pos(10, 3));
    assert.deepEqual(outer.branches[0].at, pos(10, 3));
    const grok = outer.branches[0].body[0];
    assert.equal(grok.kind, 'plugin');
    const matchValue = grok.plugin.attributes[0].value;
    assert.equal(matchValue.kind, 'hash');
    assert.deepEqual(matchValue.at, pos(12, 16));
    assert.deepEqual(matchValue.entries[0].at, pos(12, 18));
    assert.deepEqual(matchValue.entries[0].value.at, pos(12, 31));

    const inner = outer.branches[0].body[2];
    assert.equal(inner.kind, 'if');
    assert.deepEqual(inner.at, pos(20, 5));
    // An `else if` arm starts at its `else`.
    assert.deepEqual(inner.branches[1].at, pos(22, 7));
    const cond = inner.branches[0].condition;
    assert.equal(cond.kind, 'boolean');
    assert.equal(cond.left.kind, 'match');
    assert.deepEqual(cond.left.left.at, pos(20, 8));
    assert.deepEqual(cond.left.pattern.at, pos(20, 22));

    const es = output.body[1];
    assert.equal(es.kind, 'plugin');
    const codec = es.plugin.attributes[2];
    assert.deepEqual(codec.at, pos(45, 5));
    assert.equal(codec.value.kind, 'plugin');
    assert.deepEqual(codec.value.at, pos(45, 14));
    assert.deepEqual(codec.value.plugin.at, pos(45, 14));
    assert.deepEqual(codec.value.plugin.attributes[0].at, pos(45, 21));
  });
});

// --- files and sections -------------------------------------------------------

describe('files and sections', () => {
  it('an empty file, or one of comments and whitespace, has no sections', () => {
    assert.deepEqual(parseConfig(''), { sections: [] });
    assert.deepEqual(parseConfig(' \t\r\n# only a comment\n\n#another'), { sections: [] });
  });

  it('sections may be empty and may repeat, in order', () => {
    assert.deepEqual(sections('input{}filter { } output {\n}\nfilter{}input {}'), [
      section('input'),
      section('filter'),
      section('output'),
      section('filter'),
      section('input'),
    ]);
  });

  it('comments are allowed wherever whitespace is', () => {
    const text = [
      '# head',
      'input # after the section name',
      '{ # after {',
      '  stdin # after a plugin name',
      '  { # after {',
      '    tags # after a name',
      '    => # after =>',
      '    [ # in an array',
      '      "a" # after an item',
      '      , # after a comma',
      '      "b"',
      '    ] # after ]',
      '    add_field => { # in a hash',
      '      k # after a key',
      '      => v # after a value',
      '    }',
      '  } # after }',
      '}#no space',
      'filter { if # c',
      '  [a] # c',
      '  == # c',
      '  1 # c',
      '  and # c',
      '  ( # c',
      '  [b] # c',
      '  ) # c',
      '  { } # c',
      '  else # c',
      '  { } }',
      '# tail without newline',
    ].join('\n');
    assert.deepEqual(sections(text), [
      section('input', plugin('stdin', attr('tags', arr(str('a'), str('b'))), attr('add_field', hash(['k', bare('v')])))),
      section('filter', ifs([branch(and(cmp('==', field('a'), onum(1)), t('b')))], [])),
    ]);
  });

  it('\\r\\n line ends and tabs are whitespace, and lines count \\n', () => {
    const tree = parseConfig('input {\r\n\tstdin {\r\n\t\tcodec => line\r\n\t}\r\n}\r\n');
    const stdin = tree.sections[0].body[0];
    assert.equal(stdin.kind, 'plugin');
    assert.deepEqual(stdin.plugin.at, pos(2, 2));
    assert.deepEqual(stdin.plugin.attributes[0].at, pos(3, 3));
    assert.deepEqual(strip(stdin), plugin('stdin', attr('codec', bare('line'))));
  });

  it('a byte order mark at the start is skipped', () => {
    assert.deepEqual(sections('\ufeffinput {}'), [section('input')]);
  });

  it('the same setting given twice is kept twice, in order', () => {
    assert.deepEqual(body('filter { mutate { add_tag => "a" add_tag => "b" } }'), [
      plugin('mutate', attr('add_tag', str('a')), attr('add_tag', str('b'))),
    ]);
  });
});

// --- plugins and values -------------------------------------------------------

describe('plugins and settings', () => {
  it('plugin and setting names may use letters, digits, _ and -, or be quoted', () => {
    assert.deepEqual(body('filter { my-plugin_2 { key-1 => 1 "odd name" => 2 } "quoted plugin" { \'s\' => 3 } }'), [
      plugin('my-plugin_2', attr('key-1', num('1')), attr('odd name', num('2'))),
      plugin('quoted plugin', attr('s', num('3'))),
    ]);
  });

  it('plugins need no whitespace between them, settings need some', () => {
    assert.deepEqual(body('filter{a{}b{x=>1\ny=>2}}'), [plugin('a'), plugin('b', attr('x', num('1')), attr('y', num('2')))]);
  });

  it('a word starting with "if" or "else" is a plugin name', () => {
    assert.deepEqual(body('filter { ifx {} elsewhere {} if-then {} }'), [plugin('ifx'), plugin('elsewhere'), plugin('if-then')]);
  });
});

describe('values', () => {
  it('barewords, including one-character ones', () => {
    assert.deepEqual(value('rubydebug'), bare('rubydebug'));
    assert.deepEqual(value('x'), bare('x'));
    assert.deepEqual(value('_a1'), bare('_a1'));
    assert.deepEqual(value('true'), bare('true'));
  });

  it('numbers: negative, decimal, with a trailing point', () => {
    assert.deepEqual(value('42'), num('42'));
    assert.deepEqual(value('-7'), num('-7'));
    assert.deepEqual(value('3.25'), num('3.25'));
    assert.deepEqual(value('-0.5'), num('-0.5'));
    assert.deepEqual(value('10.'), { kind: 'number', value: 10, text: '10.' });
    assert.deepEqual(value('007'), { kind: 'number', value: 7, text: '007' });
  });

  it('double- and single-quoted strings, verbatim with no escape processing', () => {
    assert.deepEqual(value('"a b"'), str('a b'));
    assert.deepEqual(value("'it is'"), str('it is'));
    assert.deepEqual(value('""'), str(''));
    assert.deepEqual(value(String.raw`"tab\there"`), str(String.raw`tab\there`));
    assert.deepEqual(value(String.raw`"say \"hi\""`), str(String.raw`say \"hi\"`));
    assert.deepEqual(value(String.raw`'it\'s'`), str(String.raw`it\'s`));
    assert.deepEqual(value(`"it's"`), str("it's"));
    assert.deepEqual(value(`'say "hi"'`), str('say "hi"'));
    assert.deepEqual(value('"# not a comment"'), str('# not a comment'));
    assert.deepEqual(value(String.raw`"C:\dir\x"`), str(String.raw`C:\dir\x`));
  });

  it('strings may span lines, and positions after them stay right', () => {
    const tree = parseConfig('filter { p {\n  v => "line 1\nline 2\r\n  line 3"\n  w => 1\n} }');
    const p = tree.sections[0].body[0];
    assert.equal(p.kind, 'plugin');
    assert.deepEqual(strip(p.plugin.attributes[0].value), str('line 1\nline 2\r\n  line 3'));
    assert.deepEqual(p.plugin.attributes[1].at, pos(5, 3));
  });

  it('arrays: empty, mixed, nested, with a trailing comma', () => {
    assert.deepEqual(value('[]'), arr());
    assert.deepEqual(value('[ ]'), arr());
    assert.deepEqual(value('[1, "a", b, [c], {k => v}]'), arr(num('1'), str('a'), bare('b'), arr(bare('c')), hash(['k', bare('v')])));
    assert.deepEqual(value('["a",]'), arr(str('a')));
    assert.deepEqual(value('[\n  "a",\n  "b",\n]'), arr(str('a'), str('b')));
  });

  it('hashes: keys are barewords, numbers or strings; entries need no separator, commas are tolerated', () => {
    assert.deepEqual(value('{}'), hash());
    assert.deepEqual(
      value('{ a => 1 "b c" => "d" \'e\' => [f] 200 => ok -1.5 => neg }'),
      hash(['a', num('1')], ['b c', str('d')], ['e', arr(bare('f'))], ['200', bare('ok')], ['-1.5', bare('neg')]),
    );
    assert.deepEqual(value('{ a => 1, b => 2, }'), hash(['a', num('1')], ['b', num('2')]));
    assert.deepEqual(value('{a=>"x"b=>{c=>{}}}'), hash(['a', str('x')], ['b', hash(['c', hash()])]));
  });

  it('a name followed by "{" is a plugin, with options or without', () => {
    assert.deepEqual(value('json { charset => "UTF-8" }'), pluginValue('json', attr('charset', str('UTF-8'))));
    assert.deepEqual(value('json{}'), pluginValue('json'));
    assert.deepEqual(value('multi-line # comment\n { }'), pluginValue('multi-line'));
    assert.deepEqual(value('"json" {}'), pluginValue('json'));
    assert.deepEqual(value('[ plain {}, line { format => "%{message}" } ]'), arr(pluginValue('plain'), pluginValue('line', attr('format', str('%{message}')))));
  });
});

// --- conditionals ----------------------------------------------------------------

describe('branches', () => {
  it('if, else if chains and else', () => {
    assert.deepEqual(body('filter { if [a] { x {} } else if [b] { y {} } else if [c] {} else { z {} } w {} }'), [
      ifs([branch(t('a'), plugin('x')), branch(t('b'), plugin('y')), branch(t('c'))], [plugin('z')]),
      plugin('w'),
    ]);
  });

  it('an if without else has otherwise null, an empty else an empty list', () => {
    assert.deepEqual(body('output { if [a] {} }'), [ifs([branch(t('a'))])]);
    assert.deepEqual(body('output { if [a] {} else {} }'), [ifs([branch(t('a'))], [])]);
  });

  it('keywords need no whitespace next to brackets and quotes', () => {
    assert.deepEqual(body('filter{if[a]{}else if"x"{}else{}}'), [ifs([branch(t('a')), branch(truthy(ostr('x')))], [])]);
  });

  it('branches nest', () => {
    assert.deepEqual(body('filter { if [a] { if [b] { if [c] { x {} } } } }'), [
      ifs([branch(t('a'), ifs([branch(t('b'), ifs([branch(t('c'), plugin('x'))]))]))]),
    ]);
  });
});

describe('conditions', () => {
  it('comparisons', () => {
    assert.deepEqual(condition('[a] == "x"'), cmp('==', field('a'), ostr('x')));
    assert.deepEqual(condition("[a]!='x'"), cmp('!=', field('a'), ostr('x')));
    assert.deepEqual(condition('[a] < 5'), cmp('<', field('a'), onum(5)));
    assert.deepEqual(condition('[a]>-5.5'), cmp('>', field('a'), onum(-5.5)));
    assert.deepEqual(condition('[a] <= [b][c]'), cmp('<=', field('a'), field('b', 'c')));
    assert.deepEqual(condition('1 >= [a]'), cmp('>=', onum(1), field('a')));
  });

  it('regexp matches, with a regexp or a string on the right', () => {
    assert.deepEqual(condition('[msg] =~ /^err(or)?\\/x/'), match(field('msg'), re('^err(or)?\\/x')));
    assert.deepEqual(condition('[msg] !~ "timeout"'), match(field('msg'), ostr('timeout'), true));
    assert.deepEqual(condition('[m] =~ /a\nb # not a comment/'), match(field('m'), re('a\nb # not a comment')));
  });

  it('in and not in, with lists and fields', () => {
    assert.deepEqual(condition('"x" in [tags]'), isIn(ostr('x'), field('tags')));
    assert.deepEqual(condition('[a] not in ["x", "y"]'), isIn(field('a'), list(ostr('x'), ostr('y')), true));
    assert.deepEqual(condition('[a] not # comment\n in [b]'), isIn(field('a'), field('b'), true));
    assert.deepEqual(condition('[a] in [1, 2.5, -3]'), isIn(field('a'), list(onum(1), onum(2.5), onum(-3))));
    assert.deepEqual(condition('[a] in [foo, bar]'), isIn(field('a'), list(ostr('foo'), ostr('bar'))));
  });

  it('[name] is a field reference, [...] with quotes or commas is a list', () => {
    assert.deepEqual(condition('[tags]'), t('tags'));
    assert.deepEqual(condition('["a"]'), truthy(list(ostr('a'))));
    assert.deepEqual(condition('[]'), truthy(list()));
    assert.deepEqual(condition('[ ]'), truthy(list()));
    assert.deepEqual(condition('[1,]'), truthy(list(onum(1))));
    assert.deepEqual(condition('[["a"], []]'), truthy(list(list(ostr('a')), list())));
    // As in Logstash, a name is anything up to "]" but "[" and ",": spaces, dots and @ included.
    assert.deepEqual(condition('[@metadata][a b.c-d]'), truthy(field('@metadata', 'a b.c-d')));
    assert.deepEqual(condition('[1]'), truthy(field('1')));
  });

  it('truthiness of any operand', () => {
    assert.deepEqual(condition('"x"'), truthy(ostr('x')));
    assert.deepEqual(condition('0'), truthy(onum(0)));
    assert.deepEqual(condition('/re/'), truthy(re('re')));
  });

  it('negation of a field or of a parenthesised condition', () => {
    assert.deepEqual(condition('![a]'), not(t('a')));
    assert.deepEqual(condition('! [a][b]'), not(truthy(field('a', 'b'))));
    assert.deepEqual(condition('!([a] == 1)'), not(cmp('==', field('a'), onum(1))));
    assert.deepEqual(condition('!(!([a]))'), not(not(t('a'))));
  });

  it('parentheses group and add no node', () => {
    assert.deepEqual(condition('([a])'), t('a'));
    assert.deepEqual(condition('((([a] or [b])))'), or(t('a'), t('b')));
  });

  it('and and nand bind tighter than xor, which binds tighter than or', () => {
    assert.deepEqual(condition('[a] or [b] and [c]'), or(t('a'), and(t('b'), t('c'))));
    assert.deepEqual(condition('[a] and [b] or [c]'), or(and(t('a'), t('b')), t('c')));
    assert.deepEqual(condition('[a] or [b] xor [c] and [d]'), or(t('a'), xor(t('b'), and(t('c'), t('d')))));
    assert.deepEqual(condition('[a] nand [b] xor [c] or [d] and [e]'), or(xor(nand(t('a'), t('b')), t('c')), and(t('d'), t('e'))));
    assert.deepEqual(condition('[a] xor [b] or [c] xor [d]'), or(xor(t('a'), t('b')), xor(t('c'), t('d'))));
  });

  it('operators of one level group left to right', () => {
    assert.deepEqual(condition('[a] and [b] nand [c] and [d]'), and(nand(and(t('a'), t('b')), t('c')), t('d')));
    assert.deepEqual(condition('[a] or [b] or [c]'), or(or(t('a'), t('b')), t('c')));
    assert.deepEqual(condition('[a] and ([b] or [c])'), and(t('a'), or(t('b'), t('c'))));
  });

  it('a long chain of operators does not recurse', () => {
    const n = 20_000;
    const cond = Array.from({ length: n }, (_, i) => `[f${i}]`).join(' or ');
    const statement = parseConfig(`filter { if ${cond} {} }`).sections[0].body[0];
    assert.equal(statement.kind, 'if');
    let node = statement.branches[0].condition;
    let depth = 0;
    while (node.kind === 'boolean') {
      node = node.left;
      depth++;
    }
    assert.equal(depth, n - 1);
  });
});

// --- errors -------------------------------------------------------------------------

describe('errors', () => {
  const cases: [text: string, fragment: string, line: number, column: number][] = [
    // sections
    ['inptu { }', 'unknown section "inptu": expected input, filter or output', 1, 1],
    ['input { }\n{', 'expected a section (input, filter or output), found "{"', 2, 1],
    ['input [', 'expected "{" after "input", found "["', 1, 7],
    ['inputs {}', 'unknown section "inputs"', 1, 1],
    ['input {', 'expected "}" to close the "{" at 1:7, found end of input', 1, 8],
    ['input { }\n}', 'expected a section (input, filter or output), found "}"', 2, 1],
    // plugins and settings
    ['input { beats port => 5044 }', 'expected "{" after plugin name "beats", found "port"', 1, 15],
    ['output { es { hosts { } } }', 'expected "=>" after setting name "hosts", found "{"', 1, 21],
    ['output { es { hosts = "a" } }', 'expected "=>" after setting name "hosts", found "="', 1, 21],
    ['output { es { hosts => } }', 'expected a value for setting "hosts", found "}"', 1, 24],
    ['filter { x { a => 1, b => 2 } }', 'unexpected "," after setting "a": settings are separated by whitespace, not commas', 1, 20],
    ['filter { x { a => "1"b => 2 } }', 'expected whitespace or "}" after the value of setting "a", found "b"', 1, 22],
    ['filter { x { a => [1]b => 2 } }', 'expected whitespace or "}" after the value of setting "a", found "b"', 1, 22],
    ['filter { x { => 1 } }', 'expected a setting name or "}", found "=>"', 1, 14],
    // The last "}" closes the plugin, so the section is what is left open.
    ['filter { x { a => 1 }', 'expected "}" to close the "{" at 1:8, found end of input', 1, 22],
    ['filter { x {\n  a => 1\n', 'expected "}" to close the "{" at 1:12, found end of input', 3, 1],
    ['filter { { } }', 'expected a plugin, "if" or "}", found "{"', 1, 10],
    ['filter { else { } }', '"else" without a preceding "if" block', 1, 10],
    ['filter { x {} else { } }', '"else" without a preceding "if" block', 1, 15],
    // values
    ['filter { x {\n  a => "abc\n} }', 'unterminated string starting at 2:8', 3, 4],
    ["filter { x { a => 'it\\' } }", 'unterminated string starting at 1:19', 1, 28],
    ['filter { x { a => foo-bar } }', 'invalid value "foo-bar": neither a number nor a bareword', 1, 19],
    ['filter { x { a => 12abc } }', 'invalid value "12abc"', 1, 19],
    ['filter { x { a => 1.2.3 } }', 'expected whitespace or "}" after the value of setting "a", found "."', 1, 22],
    ['filter { x { a => .5 } }', 'expected a value for setting "a", found "."', 1, 19],
    ['filter { x { a => [1 2] } }', 'expected "," or "]" in the array at 1:19, found "2"', 1, 22],
    ['filter { x { a => [1, } }', 'expected an array item, found "}"', 1, 23],
    ['filter { x { a => [,] } }', 'expected an array item, found ","', 1, 20],
    ['filter { x { a => [1,', 'expected "]" to close the "[" at 1:19, found end of input', 1, 22],
    ['filter { x { a => { b } } }', 'expected "=>" after hash key "b", found "}"', 1, 23],
    ['filter { x { a => { b-c => 1 } } }', 'invalid hash key "b-c"', 1, 21],
    ['filter { x { a => { [b] => 1 } } }', 'expected a hash key (bareword, number or string) or "}", found "["', 1, 21],
    ['filter { x { a => { b => } } }', 'expected a value for hash key "b", found "}"', 1, 26],
    ['filter { x { a => { b => 1,, } } }', 'expected a hash key (bareword, number or string) or "}", found ","', 1, 28],
    [`filter { x { a => ${'9'.repeat(400)} } }`, 'is out of range', 1, 19],
    ['filter { x { a => b { c } } }', 'expected "=>" after setting name "c", found "}"', 1, 25],
    // branches
    ['filter { if [a] AND [b] {} }', 'expected "{" or a boolean operator (and, or, xor, nand) after the condition, found "AND"', 1, 17],
    ['filter { if {} }', 'expected a condition (a value, a field reference, "(" or "!"), found "{"', 1, 13],
    ['filter { if [a] {} else [b] {} }', 'expected "{" or "if" after "else", found "["', 1, 25],
    ['filter { if [a] {} elseif [b] {} }', 'expected "{" after plugin name "elseif", found "["', 1, 27],
    ['filter { if [a] { x {} }', 'expected "}" to close the "{" at 1:8, found end of input', 1, 25],
    ['filter { if [a] { x {}', 'expected "}" to close the "{" at 1:17, found end of input', 1, 23],
    // conditions
    ['filter { if foo {} }', 'unexpected bareword "foo" in a condition: quote it as a string, or write a field reference as [foo]', 1, 13],
    ['filter { if [a] == foo {} }', 'unexpected bareword "foo" in a condition', 1, 20],
    ['filter { if len([a]) > 1 {} }', 'method calls are not supported: "len"(...)', 1, 13],
    ['filter { if [a] =~ 5 {} }', 'expected a regexp or string after "=~", found "5"', 1, 20],
    ['filter { if [a] !~ [b] {} }', 'expected a regexp or string after "!~", found "["', 1, 20],
    ['filter { if [a] == {} }', 'expected a value after "==", found "{"', 1, 20],
    ['filter { if [a] not [b] {} }', 'expected "in" after "not", found "["', 1, 21],
    ['filter { if [a] in {} }', 'expected a value after "in", found "{"', 1, 20],
    ['filter { if ([a] {} }', 'expected ")" to close the "(" at 1:13, or a boolean operator, found "{"', 1, 18],
    ['filter { if [a]) {} }', 'found ")"', 1, 16],
    ['filter { if ! "x" {} }', 'expected "(" or a field reference after "!", found \'"\'', 1, 15],
    ['filter { if !["x"] {} }', 'expected "(" or a field reference after "!", found a list', 1, 14],
    ['filter { if ![a] == 1 {} }', '"!" applies only to [a] here, not to a comparison: write !([a] ...) to negate one', 1, 18],
    ['filter { if ![a][b] in [c] {} }', '"!" applies only to [a][b] here', 1, 21],
    ['filter { if [a] =~ /abc {} }', 'unterminated regexp starting at 1:20', 1, 29],
    // A field name may hold spaces and braces, so the name only ends at the end of the line.
    ['filter { if [a][b {} }\n', 'expected "]" to end the field name in a field reference, found end of line', 1, 23],
    ['filter { if [a][b,c] {} }', 'expected "]" to end the field name in a field reference, found ","', 1, 18],
    ['filter { if [a][] {} }', 'empty field name in a field reference', 1, 17],
    ['filter { if [a][ ] {} }', 'empty field name in a field reference', 1, 17],
    // A line break ends a field name, so this is a list holding the bareword a.
    ['filter { if [a\n {} }', 'expected "," or "]" in the list at 1:13, found "{"', 2, 2],
    ['filter { if [a] in ["x" "y"] {} }', 'expected "," or "]" in the list at 1:20, found \'"\'', 1, 25],
    ['filter { if [a] in ["x", {}] {} }', 'expected a list item (a string, a number or a list), found "{"', 1, 26],
    ['filter { if [a] in [a-b, c] {} }', 'invalid list item "a-b": quote it', 1, 21],
    ['filter { if [a] == - {} }', 'expected a value after "==", found "-"', 1, 20],
    // characters shown by code point
    ['input {\u00a0}', 'expected a plugin, "if" or "}", found U+00A0', 1, 8],
    ['input { é {} }', 'found "é" (U+00E9)', 1, 9],
    ['input { \u0001 }', 'found U+0001', 1, 9],
  ];

  for (const [text, fragment, line, column] of cases) {
    it(`${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)}: ${fragment}`, () => {
      const e = error(text);
      assert.ok(e.reason.includes(fragment), `reason ${JSON.stringify(e.reason)} lacks ${JSON.stringify(fragment)}`);
      assert.deepEqual(e.at, pos(line, column), `${e.message}`);
    });
  }

  it('the message names the source, line and column', () => {
    const e = error('input {\n  x { y => }\n}', 'pipelines/main.conf');
    assert.equal(e.source, 'pipelines/main.conf');
    assert.equal(e.message, 'pipelines/main.conf:2:12: expected a value for setting "y", found "}"');
    assert.equal(e.name, 'ConfigSyntaxError');
    assert.equal(error('x').message, 'config:1:1: unknown section "x": expected input, filter or output');
  });

  it('a long name is cut short in the message', () => {
    const e = error(`${'a'.repeat(100)} {}`);
    assert.equal(e.reason, `unknown section "${'a'.repeat(40)}…": expected input, filter or output`);
  });
});

describe('limits', () => {
  /** `filter { p { v => OPEN^n CLOSE^n } }` style nesting of setting values. */
  function nestedValue(open: string, close: string, n: number, middle = ''): string {
    return `filter { p { v => ${open.repeat(n)}${middle}${close.repeat(n)} } }`;
  }

  it(`values nest up to ${MAX_NESTING} levels`, () => {
    assert.doesNotThrow(() => parseConfig(nestedValue('[', ']', MAX_NESTING)));
    assert.doesNotThrow(() => parseConfig(nestedValue('{a=>', '}', MAX_NESTING, '1')));
    assert.doesNotThrow(() => parseConfig(nestedValue('c { v => ', '}', MAX_NESTING, '1')));
    const e = error(nestedValue('[', ']', MAX_NESTING + 1));
    assert.equal(e.reason, `nesting deeper than ${MAX_NESTING} levels`);
    assert.deepEqual(e.at, pos(1, 19 + MAX_NESTING));
  });

  it(`conditions and branches nest up to ${MAX_NESTING} levels`, () => {
    const parens = (n: number) => `filter { if ${'('.repeat(n)}[a]${')'.repeat(n)} {} }`;
    const nots = (n: number) => `filter { if ${'!('.repeat(n)}[a]${')'.repeat(n)} {} }`;
    const lists = (n: number) => `filter { if [a] in ${'['.repeat(n)}${']'.repeat(n)} {} }`;
    // The branch bodies count as levels themselves, so n ifs are n levels.
    const ifs = (n: number) => `filter { ${'if [a] { '.repeat(n)}${'} '.repeat(n)}}`;
    for (const make of [parens, nots, lists, ifs]) {
      assert.doesNotThrow(() => parseConfig(make(MAX_NESTING - 1)), make(2));
      assert.match(error(make(MAX_NESTING + 1)).reason, /^nesting deeper than/, make(2));
    }
  });

  it('100,000 open brackets are an error, not a stack overflow', () => {
    for (const text of [
      nestedValue('[', '', 100_000),
      nestedValue('{a=>', '', 100_000),
      `filter { if ${'('.repeat(100_000)}`,
      `filter { if ${'!('.repeat(100_000)}`,
      `filter { if [a] in ${'['.repeat(100_000)}`,
      `filter { ${'if [a] {'.repeat(100_000)}`,
    ]) {
      assert.match(error(text).reason, /^nesting deeper than/);
    }
  });

  it(`the text may take up to ${MAX_CONFIG_BYTES} bytes of UTF-8`, () => {
    const head = 'input { stdin {} }\n#';
    const fits = head + 'x'.repeat(MAX_CONFIG_BYTES - head.length);
    assert.deepEqual(sections(fits), [section('input', plugin('stdin'))]);
    const e = error(fits + 'x');
    assert.match(e.reason, /larger than the limit of 4194304 bytes/);
    assert.deepEqual(e.at, pos(2, MAX_CONFIG_BYTES - head.length + 2));
  });

  it('the limit counts UTF-8 bytes, not characters', () => {
    // Two bytes each: half the limit in characters is already too much with the section around it.
    const e = error(`input { x { a => "${'é'.repeat(MAX_CONFIG_BYTES / 2)}" } }`);
    assert.match(e.reason, /larger than the limit/);
    assert.equal(e.at.line, 1);
    assert.ok(e.at.column < MAX_CONFIG_BYTES / 2 + 20);
  });
});
