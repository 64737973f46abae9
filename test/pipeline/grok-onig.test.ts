/**
 * The Oniguruma → V8 translation under the grok compiler: each construct the pattern files use that
 * JavaScript spells otherwise (or lacks) matches what Oniguruma matches, and what cannot be translated
 * is refused with a GrokError that says why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGrok, compileStandardGrok, GrokError, GrokMatcher, PatternLibrary } from '../../src/pipeline/grok/index.js';

/** The whole-text match of an expression, or null. */
function whole(expression: string, text: string): string | null {
  const m = compileStandardGrok(expression).regex.exec(text);
  return m === null ? null : m[0];
}

function captures(expression: string, text: string): Record<string, string | number | Array<string | number>> {
  const matcher = new GrokMatcher(compileStandardGrok(expression));
  const m = matcher.exec(text);
  assert.ok(m, `${expression} should match ${JSON.stringify(text)}`);
  const out: Record<string, string | number | Array<string | number>> = {};
  matcher.eachCapture(m, false, (capture, value) => {
    const had = out[capture.field];
    out[capture.field] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  });
  return out;
}

describe('grok Oniguruma translation', () => {
  it('makes atomic groups and possessive repeats atomic: no backtracking into them', () => {
    assert.equal(whole('^(?>a+)a$', 'aaa'), null, 'Oniguruma: (?>a+) keeps every a');
    assert.equal(whole('^(?:a+)a$', 'aaa'), 'aaa');
    assert.equal(whole('^a++a$', 'aaa'), null);
    assert.equal(whole('^(?>ab|a)c$', 'ac'), 'ac', 'the other alternative is still tried before the atomic group commits');
    assert.equal(whole('^(?>a|ab)c$', 'abc'), null, 'once "a" matched, "ab" is not tried');
    assert.equal(whole('%{YEAR:y}', '1995')?.length, 4, 'a repeat of an atomic group repeats all of it: (?>\\d\\d){1,2}');
  });

  it('scopes (?i) to the rest of its group, and (?i:…) to its own', () => {
    assert.equal(whole('^(?:(?i)ab)C$', 'ABC'), 'ABC');
    assert.equal(whole('^(?:(?i)ab)C$', 'ABc'), null);
    assert.equal(whole('^a(?i:b)c$', 'aBc'), 'aBc');
    assert.equal(whole('^a(?i:b)c$', 'aBC'), null);
    assert.equal(whole('^(?i)[a-c]+$', 'AbC'), 'AbC');
  });

  it('reads POSIX classes (Unicode-aware), \\h as a hex digit, and Ruby\'s anchors', () => {
    assert.equal(whole('^[[:alpha:]]+$', 'Čierný'), 'Čierný');
    assert.equal(whole('^[[[:alnum:]]_]+$', 'a_1'), 'a_1', 'a class inside a class is a union');
    assert.equal(whole('^\\h+$', 'c0ffee'), 'c0ffee');
    assert.equal(whole('^\\h+$', 'coffee'), null);
    assert.equal(whole('\\Aab', 'x\nab'), null, '\\A is the start of the text, not of a line');
    assert.equal(whole('^ab', 'x\nab'), 'ab', '^ is the start of any line, as in Ruby');
    assert.equal(whole('ab\\z', 'ab\n'), null);
    assert.equal(whole('ab\\Z', 'ab\n'), 'ab', '\\Z allows one final newline');
    assert.equal(whole('a.b', 'a\nb'), 'a\nb', '"." matches a newline, as grok\'s Oniguruma does with (?m)');
  });

  it('allows Oniguruma\'s repeat of a repeat and numbered-free named groups with \\k', () => {
    assert.equal(whole('^a.?*b$', 'axxb'), 'axxb');
    assert.equal(whole('^a{2}+$', 'aaaa'), 'aaaa', 'a{2}+ is (a{2})+ in Ruby');
    assert.deepEqual(captures('(?<q>["\'])%{WORD:w}\\k<q>', `say 'hi' "x'`), { q: "'", w: 'hi' });
    assert.equal(whole('a(?#a comment)b', 'ab'), 'ab');
  });

  it('flattens (?:X+)+ over one character, so a long word does not hang %{URI}', () => {
    const proto = compileStandardGrok('%{URIPROTO}');
    assert.ok(!/\+\)\+/.test(proto.source), proto.source);
    assert.equal(proto.regex.exec('a'.repeat(5000) + '!')?.[0].length, 5000);
    // Unflattened, this search takes some 2^200 steps: the test would never finish.
    assert.equal(compileStandardGrok('%{URI}').regex.exec('x'.repeat(200)), null);
  });

  it('keeps the captures of earlier iterations of a repeat, and only unrolls where that matters', () => {
    assert.deepEqual(captures('^(?:(?:k=%{WORD:k}|v=%{INT:v:int}) ?)+$', 'k=a v=1 k=b'), { k: 'b', v: 1 });
    assert.deepEqual(captures('^(?: ?(?:k=%{WORD:k}|v=%{INT:v:int}))*$', ' v=1 v=2'), { v: 2 });
    const plain = compileStandardGrok('%{SYSLOGHOST:logsource}+');
    assert.deepEqual(plain.captures.map((c) => c.later.length), [0], 'a capture set by every iteration needs no copies');
    const syslog = compileStandardGrok('%{SYSLOGLINE}');
    assert.ok(syslog.source.length < 5000, `SYSLOGLINE stays small (${syslog.source.length})`);
  });

  it('names what it refuses', () => {
    const refuse = (expression: string, reason: RegExp): void => {
      assert.throws(() => compileStandardGrok(expression), (error: unknown) => error instanceof GrokError && reason.test(error.message), expression);
    };
    refuse('(?x) a b', /extended option/);
    refuse('a\\1', /numbered back-references/);
    refuse('[a-z&&b]', /intersection/);
    refuse('[[:^alpha:]]', /negated POSIX/);
    refuse('\\K', /not supported/);
    refuse('(', /never closed/);
    refuse('a)', /unmatched/);
    refuse('*a', /nothing to repeat/);
    refuse('\\k<nope>', /refers to no earlier group/);
    refuse('%{NOTHING}', /unknown pattern %\{NOTHING\}/);
    refuse('%{WORD:[a}', /capture name/);
  });

  it('compiles against any library, with named_captures_only off making every %{NAME} a field', () => {
    const library = PatternLibrary.empty();
    library.addText('# a comment\nDIGITS [0-9]+\nPAIR %{DIGITS:a}-%{DIGITS}\n');
    const compiled = compileGrok('%{PAIR}', library, { namedCapturesOnly: false });
    assert.deepEqual(compiled.captures.map((c) => c.field), ['PAIR', 'a', 'DIGITS']);
    assert.throws(() => library.define('bad-name', 'x'), GrokError);
  });
});
