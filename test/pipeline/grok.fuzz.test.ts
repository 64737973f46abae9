/**
 * Fuzzing grok, seeded so every run is the same: (1) real log lines, mutated, through grok filters
 * built from configuration text with the library's big patterns; (2) random grok expressions and
 * pattern definitions through the Oniguruma reader and compiler. Nothing may throw out of the filter,
 * every event comes out either tagged or with well-formed captures, and a bad expression is a
 * GrokError (a configuration error through the filter), never a crash. Loop counts are generous
 * rather than timed: a run-away regular expression shows up as a test that does not finish.
 *
 * The fuzzing found two such: URIPROTO's `([…]+)+` (now flattened by the compiler) and SYSLOGLINE's
 * `%{SYSLOGHOST:logsource}+`, which backtracks exponentially on a host name of many "-" parts
 * repeated ("ip-10-77-20-ip-10-77-20-…": seconds in V8; Perl's engine escapes it with its cache of
 * failed positions). That one is the pattern's own hazard, left to timeout_millis and the worker
 * watchdog; these seeds do not make such a line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildFilterSteps, runFilterSteps } from '../../src/pipeline/runtime.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { UNWATCHED, type PipelineLogger } from '../../src/pipeline/plugin.js';
import { compileStandardGrok, GrokError, GrokMatcher } from '../../src/pipeline/grok/index.js';
import { Gen } from '../helpers/prng.js';
import { sharedData } from '../helpers/shared-data.js';

const quiet: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

function filterOf(body: string) {
  const context = { logger: quiet, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() };
  return buildFilterSteps(parseConfig(`filter { ${body} }`), context);
}

const apache = readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').filter(Boolean);
const auth = readFileSync(sharedData('auth.log'), 'utf8').split('\n').filter(Boolean);

const ALPHABET = [...'aZ09 -_./:[]()"\'\\{}<>=,;|#%+*?^$@!~`\t\n\r', 'é', 'ß', '中', '😀', '\u0000', '\u2028', '\ufeff'];

/** A filter's output is well formed: tagged as failed, or every capture a string (or strings) and message kept. */
function assertWellFormed(fields: Record<string, unknown>, input: string, captures: readonly string[]): void {
  const tags = fields.tags as string[] | undefined;
  if (tags?.includes('_grokparsefailure')) {
    for (const name of captures) assert.equal(fields[name], undefined, `a failed event has no ${name}`);
  } else {
    assert.equal(tags, undefined);
    for (const name of captures) {
      const value = fields[name];
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) assert.equal(typeof v, 'string', `${name}: ${JSON.stringify(value)}`);
    }
  }
  const message = fields.message;
  assert.ok(message === input || (Array.isArray(message) && message[0] === input), 'the original message is kept');
}

const CASES: Array<{ pattern: string; lines: string[]; captures: string[] }> = [
  { pattern: '%{COMBINEDAPACHELOG}', lines: apache, captures: ['clientip', 'ident', 'auth', 'timestamp', 'verb', 'request', 'httpversion', 'rawrequest', 'response', 'bytes', 'referrer', 'agent'] },
  { pattern: '%{SYSLOGLINE}', lines: auth, captures: ['timestamp', 'timestamp8601', 'facility', 'priority', 'logsource', 'program', 'pid'] },
  { pattern: '%{SYSLOGBASE} %{GREEDYDATA:rest}', lines: auth, captures: ['timestamp', 'logsource', 'program', 'pid', 'rest'] },
  { pattern: '^%{IPORHOST:host} %{USER:ident} %{USER:auth} \\[%{HTTPDATE:ts}\\] %{QS:request} %{NUMBER:status} %{NOTSPACE:size} %{QS:ref} %{QS:agent}$', lines: apache, captures: ['host', 'ident', 'auth', 'ts', 'request', 'status', 'size', 'ref', 'agent'] },
  { pattern: '%{URI:uri}', lines: apache, captures: ['uri', 'port'] },
  { pattern: '%{TIMESTAMP_ISO8601:t}|%{HTTPDATE:t}|%{SYSLOGTIMESTAMP:t}', lines: [...apache.slice(0, 200), ...auth.slice(0, 200)], captures: ['t'] },
];

describe('grok fuzz', () => {
  for (const { pattern, lines, captures } of CASES) {
    it(`never throws on mutated lines for ${pattern.slice(0, 60)}`, () => {
      const gen = new Gen(pattern.length * 7919);
      const steps = filterOf(`grok { match => { "message" => '${pattern}' } }`);
      let matched = 0;
      const rounds = 40;
      for (let round = 0; round < rounds; round++) {
        const inputs = Array.from({ length: 50 }, () => gen.damage(gen.pick(lines), ALPHABET, apache));
        const out = runFilterSteps(steps, inputs.map((message) => new PipelineEvent({ message })));
        assert.equal(out.length, inputs.length);
        out.forEach((event, i) => {
          assertWellFormed(event.toJSON() as Record<string, unknown>, inputs[i], captures);
          if (!event.tags().includes('_grokparsefailure')) matched++;
        });
      }
      // Mutations leave many lines whole enough to match, and break many: both paths ran.
      assert.ok(matched > 0 && matched < rounds * 50, `matched ${matched} of ${rounds * 50}`);
    });
  }

  it('never throws on random text for COMBINEDAPACHELOG and SYSLOGLINE', () => {
    const gen = new Gen(20261207);
    const steps = filterOf(`grok { match => { "message" => ["%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}"] } }`);
    for (let round = 0; round < 40; round++) {
      const inputs = Array.from({ length: 50 }, () => gen.text(ALPHABET, 300));
      const out = runFilterSteps(steps, inputs.map((message) => new PipelineEvent({ message })));
      out.forEach((event, i) => assertWellFormed(event.toJSON() as Record<string, unknown>, inputs[i], ['clientip', 'timestamp', 'logsource']));
    }
  });

  const PIECES = [
    '%{WORD:w}', '%{INT:n:int}', '%{NUMBER:f:float}', '%{IP}', '%{NOTSPACE:[a][b]}', '%{GREEDYDATA:rest}', '%{DATA}', '%{QS:q}', '%{NOPE}', '%{', '%{WORD:',
    '(?<named>x+)', '\\k<named>', '(?>a|ab)', 'a++', 'b*+', '.?*', '(?i)abc', '(?i:x)', '(?-i)', '(?m)', '(?x)', '(?#c)', '[[:alpha:]]', '[[:^alpha:]]', '[a-z&&b]', '[^\\]]',
    '\\h', '\\A', '\\z', '\\Z', '\\G', '\\R', '\\p{L}', '\\P{Alnum}', '\\x41', '\\x{263a}', '\\u00e9', '\\0', '\\cA', '\\1', '\\K', '\\q',
    '(', ')', '[', ']', '{2,1}', '{3}', '{,5}', '|', '^', '$', '\\', '?', '*', '+', 'a{2}+', '(?<=ab)', '(?<!c)', '(?=d)', '(?!e)', ' ', 'é', '😀',
  ];

  it('compiles random expressions or refuses them with a GrokError, and the compiled ones run', () => {
    const gen = new Gen(4242);
    let compiled = 0;
    for (let i = 0; i < 3000; i++) {
      const n = 1 + gen.int(6);
      let expression = '';
      for (let j = 0; j < n; j++) expression += gen.pick(PIECES);
      let matcher: GrokMatcher;
      try {
        matcher = new GrokMatcher(compileStandardGrok(expression));
      } catch (error) {
        assert.ok(error instanceof GrokError, `${JSON.stringify(expression)} threw ${String(error)}`);
        continue;
      }
      compiled++;
      assert.ok(matcher.compiled.captures.every((c) => c.group > 0 && c.later.every((g) => g > c.group)));
      for (let k = 0; k < 5; k++) {
        // Short texts: a random expression may well be a catastrophic one (`%{DATA}*` is `(?:.*?)*`),
        // whose time doubles with each character; guarding those is the watchdog's work, not the compiler's.
        const text = gen.text(ALPHABET, 12);
        const m = matcher.exec(text);
        if (m) matcher.eachCapture(m, gen.chance(0.5), (capture, value) => assert.ok(typeof value === 'string' || (capture.type !== null && Number.isFinite(value))));
      }
    }
    assert.ok(compiled > 300, `compiled ${compiled}`);
  });

  it('refuses random pattern_definitions with a configuration error, never a crash', () => {
    const gen = new Gen(99);
    for (let i = 0; i < 400; i++) {
      let definition = '';
      for (let j = 0, n = 1 + gen.int(5); j < n; j++) definition += gen.pick(PIECES);
      // The config text keeps a string's backslashes; a single quote, or a backslash before the closing one, would end it.
      const text = definition.replace(/'/g, '') + 'x';
      try {
        filterOf(`grok { match => { "message" => "%{MINE}" } pattern_definitions => { "MINE" => '${text}' } }`);
      } catch (error) {
        assert.ok(error instanceof PipelineConfigError, `${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
  });
});
