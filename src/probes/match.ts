// Does a process look like the service? Exact executable name, args as a regex over the
// full command line; never a substring of a `ps` line (the seed loop's bug).
import type { ProcessMatch } from '../config/load.js';

export interface Candidate {
  pid: number;
  /** Basename of /proc/<pid>/exe when readable. */
  exe: string | null;
  comm: string | null;
  cmd: string;
}

export function compileMatch(m: ProcessMatch): (c: Candidate) => boolean {
  const args = m.args !== undefined ? new RegExp(m.args) : null;
  return (c) => (c.exe === m.name || c.comm === m.name) && (args === null || args.test(c.cmd));
}

export function describeMatch(m: ProcessMatch): string {
  const what = m.args !== undefined ? `"${m.name}" with args matching /${m.args}/` : `"${m.name}"`;
  return m.unit !== undefined ? `${what} in unit ${m.unit}` : what;
}
