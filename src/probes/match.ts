// Does a process look like the service? Exact executable name, args as a regex (RE2,
// linear time) over the full command line; never a substring of a `ps` line (the seed loop's bug).
import type { ProcessMatch } from '../config/load.js';
import { compileRegex } from '../config/regex.js';

export interface Candidate {
  pid: number;
  /** Basename of /proc/<pid>/exe when readable. */
  exe: string | null;
  comm: string | null;
  cmd: string;
}

export function compileMatch(m: ProcessMatch): (c: Candidate) => boolean {
  // RE2: linear in the command line, which any local user writes (a decoy named java).
  const args = m.args !== undefined ? compileRegex(m.args) : null;
  return (c) => (c.exe === m.name || c.comm === m.name) && (args === null || args.test(c.cmd));
}

export function describeMatch(m: ProcessMatch): string {
  const what = m.args !== undefined ? `"${m.name}" with args matching /${m.args}/` : `"${m.name}"`;
  return m.unit !== undefined ? `${what} in unit ${m.unit}` : what;
}
