// Config regexes run on RE2 (linear time): what it refuses, named; what it keeps of RegExp.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { compileRegex, MAX_PATTERN_LENGTH, regexProblem } from '../../src/config/regex.js';
import { KEEPALIVED, problems } from '../helpers/config.js';

const withArgs = (args: string) => `services:\n  tomcat:\n    process: { name: java, args: '${args}' }\n${KEEPALIVED}`;
const withBody = (re: string) => `services:\n  tomcat:\n    http:\n      url: http://127.0.0.1:8080/\n      bodyMatches: '${re}'\n${KEEPALIVED}`;


describe('config: regexes run on RE2', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['a backreference', '(a)\\1', /the backreference "\\1" \(at character 4 of the pattern\) is not supported by RE2/],
    ['a backreference before a non-octal digit', '(a)\\18', /the backreference "\\18"/],
    ['a named backreference', '(?<x>a)\\k<x>', /the named backreference "\\k<\.\.\.>" \(at character 8/],
    ['a lookahead', 'foo(?=bar)', /the lookahead "\(\?=" \(at character 4 of the pattern\) is not supported by RE2/],
    ['a negative lookahead', '^(?!tail)', /the negative lookahead "\(\?!"/],
    ['a lookbehind', '(?<=-D)catalina', /the lookbehind "\(\?<="/],
    ['a negative lookbehind', '(?<!x)y', /the negative lookbehind "\(\?<!"/],
    ['an atomic group', '(?>a+)b', /the atomic group "\(\?>"/],
    ['a possessive quantifier', 'a++b', /the possessive quantifier "\+\+"/],
    ['a \\u escape', '\\u0041', /the escape "\\u" .*write a code point as \\x\{263A\}/],
    ['an unterminated group', '(x', /invalid regular expression \(RE2 syntax\): missing closing \): `\(x`/],
    ['a repeat count over 1000', 'a{1001}', /invalid regular expression \(RE2 syntax\): invalid repeat count/],
  ];
  for (const [what, source, re] of refused) {
    it(`refuses ${what}, naming it: ${source}`, () => {
      assert.match(regexProblem(source) ?? '', re);
      assert.throws(() => compileRegex(source), re);
    });
  }

  it('a refused regex names file:line:column and the key, for process.args and http.bodyMatches', () => {
    assert.deepEqual(problems(withArgs('(?=java)')), [
      'w.yaml:3:34: services.tomcat.process.args: the lookahead "(?=" (at character 1 of the pattern) is not supported by RE2 (the linear-time engine config regexes run on); match the text itself instead of looking ahead',
    ]);
    assert.deepEqual(problems(withBody('(ok)\\1')), [
      'w.yaml:5:20: services.tomcat.http.bodyMatches: the backreference "\\1" (at character 5 of the pattern) is not supported by RE2 (the linear-time engine config regexes run on); match the repeated text explicitly, or drop the repetition check',
    ]);
    assert.match(problems(withBody('x'.repeat(MAX_PATTERN_LENGTH + 1)))[0]!, /^w\.yaml:5:20: services\.tomcat\.http\.bodyMatches: expected a regular expression of at most 1000 characters, got 1001$/);
  });

  it("catastrophic patterns are accepted and harmless: '^(a+)+$' and friends", () => {
    for (const source of ['^(a+)+$', '(a|aa)+$', '(.*a){12}$', '^(\\w+\\s?)*$']) {
      assert.equal(regexProblem(source), null, source);
      assert.equal(compileRegex(source).test(`${'a'.repeat(5000)}!`), false, source);
    }
  });

  it('constructs that look like the refused ones but are fine stay accepted', () => {
    for (const source of ['[(?=]x', '\\(?=', '\\123', '\\012', '\\0', '(?:a)+', '(?i)Tomcat', '(?P<n>a)', '(?<n>a)b', '[]a]', '\\x{263A}', 'a{2,3}?', 'a+?b']) {
      assert.equal(regexProblem(source), null, source);
    }
  });

  it('matching keeps RegExp.test semantics: unanchored search, anchors, classes, alternation', () => {
    const cmd = '/usr/lib/jvm/java-17/bin/java -Djava.util.logging.config.file=/x org.apache.catalina.startup.Bootstrap start';
    const cases: Array<[string, string]> = [
      ['org\\.apache\\.catalina\\.startup\\.Bootstrap', cmd],
      ['Bootstrap start$', cmd],
      ['^/usr/lib/jvm/', cmd],
      ['^java', cmd],
      ['catalina\\.(base|home)=', cmd],
      ['\\bstart\\b', cmd],
      ['\\d+', cmd],
      ['host=A', 'host=A\n<html>ok</html>\n'],
      ['^<html>', 'host=A\n<html>ok</html>\n'],
      ['ok</html>$', 'host=A\n<html>ok</html>\n'],
      ['ok</html>\\n$', 'host=A\n<html>ok</html>\n'],
      ['A.<html>', 'host=A\n<html>ok</html>\n'],
      ['[[:alpha:]]', '123'],
      ['fake-service\\.mjs 8080 ', 'node fake-service.mjs 8080 tomcat'],
      ['', 'anything'],
    ];
    for (const [source, input] of cases) {
      const expected = source.includes('[[:') ? false : new RegExp(source).test(input);
      assert.equal(compileRegex(source).test(input), expected, `/${source}/ on ${JSON.stringify(input)}`);
    }
  });

  it('compiles each pattern once (probes rebuilt on reload reuse it)', () => {
    assert.equal(compileRegex('tomcat-\\d+'), compileRegex('tomcat-\\d+'));
  });
});
