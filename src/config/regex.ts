// Every regex a config names (process.args, http.bodyMatches) runs on RE2 (re2js, a
// pure-JS port): matching takes time linear in the input, whatever the pattern. A
// backtracking engine (JS RegExp) spends minutes on '^(a+)+$' against 37 bytes of
// 'aaa...!', and a command line is written by whichever local user started the
// process: with RegExp any user could stop the daemon's event loop.
//
// RE2 has no backreferences or lookaround (they are what needs backtracking); those
// are refused with the construct named, not with RE2's terse parser message.
import { RE2JS } from 're2js';

/** A compiled config regex: unanchored search, like RegExp.prototype.test. */
export interface SafeRegex {
  readonly source: string;
  test(input: string): boolean;
}

/**
 * Longest pattern accepted. Matching is linear in the input, but the constant grows
 * with the pattern (a 1000-character case-folded pattern scans 2 MiB in ~0.1 s); a
 * health-check regex is a few dozen characters.
 */
export const MAX_PATTERN_LENGTH = 1000;

const ENGINE = 'RE2 (the linear-time engine config regexes run on)';

interface Unsupported {
  at: number;
  what: string;
  hint: string;
}

/** The first construct RE2 does not support, found by a scan that skips escapes and classes. */
function unsupported(source: string): Unsupported | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1];
      // "\1" to "\9" alone are backreferences; RE2 reads "\12" and "\012" as octal, like JS
      const octal = /^[0-7]{2,3}/.test(source.slice(i + 1)) || n === '0';
      if (!inClass && n !== undefined && n >= '1' && n <= '9' && !octal) {
        const digits = /^\d+/.exec(source.slice(i + 1))![0];
        return { at: i, what: `the backreference "\\${digits}"`, hint: 'match the repeated text explicitly, or drop the repetition check' };
      }
      if (!inClass && n === 'k' && source[i + 2] === '<') {
        return { at: i, what: 'the named backreference "\\k<...>"', hint: 'match the repeated text explicitly' };
      }
      if (n === 'u') {
        return { at: i, what: 'the escape "\\u"', hint: 'write a code point as \\x{263A}' };
      }
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // "[]a]" and "[^]a]": a "]" first in a class is a literal
      if (source[i + 1] === '^') i += 1;
      if (source[i + 1] === ']') i += 1;
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const rest = source.slice(i + 2, i + 4);
      if (rest.startsWith('=')) return { at: i, what: 'the lookahead "(?="', hint: 'match the text itself instead of looking ahead' };
      if (rest.startsWith('!')) return { at: i, what: 'the negative lookahead "(?!"', hint: 'use a negated character class, or a second check' };
      if (rest === '<=') return { at: i, what: 'the lookbehind "(?<="', hint: 'match the text itself instead of looking behind' };
      if (rest === '<!') return { at: i, what: 'the negative lookbehind "(?<!"', hint: 'use a negated character class, or a second check' };
      if (rest.startsWith('>')) return { at: i, what: 'the atomic group "(?>"', hint: 'use a plain group "(?:...)": RE2 never backtracks anyway' };
      continue;
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && source[i + 1] === '+') {
      return { at: i + 1, what: `the possessive quantifier "${c}+"`, hint: `drop the second "+": RE2 never backtracks anyway` };
    }
  }
  return null;
}

// Compiled once per pattern (validation, then every probe built from the config).
const cache = new Map<string, SafeRegex>();
const CACHE_LIMIT = 1000;

/** The compiled pattern, or why a config may not use it. */
export function tryCompileRegex(source: string): SafeRegex | string {
  const hit = cache.get(source);
  if (hit) return hit;
  if (source.length > MAX_PATTERN_LENGTH) {
    return `expected a regular expression of at most ${MAX_PATTERN_LENGTH} characters, got ${source.length}`;
  }
  const u = unsupported(source);
  if (u) return `${u.what} (at character ${u.at + 1} of the pattern) is not supported by ${ENGINE}; ${u.hint}`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    return `invalid regular expression (RE2 syntax): ${(e as Error).message.replace(/^error parsing regexp: /, '')}`;
  }
  const compiled: SafeRegex = { source, test: (input: string) => re.test(input) };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(source, compiled);
  return compiled;
}

/** Why a config may not use this pattern, or null if it may. */
export function regexProblem(source: string): string | null {
  const r = tryCompileRegex(source);
  return typeof r === 'string' ? r : null;
}

/** Compiles a pattern the config schema accepted; throws (with the reason) on any other. */
export function compileRegex(source: string): SafeRegex {
  const r = tryCompileRegex(source);
  if (typeof r === 'string') throw new Error(`/${source}/: ${r}`);
  return r;
}
