// A command's output goes to a file, not a pipe: a restart script that leaves a daemon
// running (holding its stdout) must not keep the action open. The log gets head and tail.
// The file is stateDir/output/<name>.log, created fresh (exclusive, no-follow temp name,
// renamed into place) in a checked directory. When it cannot be (stateDir full,
// read-only, refused, missing), the command still runs, its output going to /dev/null:
// a restart that works must never fail for want of a log file. Said once per cause,
// in the action's log line; never a fallback to a shared temp directory.
import { closeSync, openSync, readSync, fstatSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { createReplacing, errnoReason, safeDir, UnsafePathError } from '../os/safe-write.js';

const KEEP = 2048;
/** Below this much free space the output is not written: a script writing into a full disk fails (ENOSPC on its stdout). */
export const MIN_FREE_BYTES = 1024 * 1024;

export interface OutputFile {
  /** null: the output is discarded (/dev/null). */
  path: string | null;
  fd: number;
  /** Why the output is discarded, the first time for this cause (then undefined until it recovers). */
  note?: string;
}

const said = new Set<string>();

export function outputFile(stateDir: string, name: string): OutputFile {
  const dir = join(stateDir, 'output');
  const path = join(dir, `${name}.log`);
  let cause: string;
  let key: string;
  try {
    safeDir(stateDir, { create: true });
    safeDir(dir, { create: true, what: 'output directory' });
    const fs = statfsSync(dir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < MIN_FREE_BYTES) {
      key = `${dir}:ENOSPC`;
      cause = `${dir} has ${free} bytes free, less than ${MIN_FREE_BYTES}`;
    } else {
      const fd = createReplacing(path);
      for (const k of said) if (k.startsWith(`${dir}:`)) said.delete(k);
      return { path, fd };
    }
  } catch (e) {
    key = `${dir}:${e instanceof UnsafePathError ? 'unsafe' : ((e as NodeJS.ErrnoException).code ?? 'error')}`;
    cause = e instanceof UnsafePathError ? e.message : `cannot create ${path}: ${errnoReason(e)}`;
  }
  const fd = openSync('/dev/null', 'w');
  if (said.has(key)) return { path: null, fd };
  said.add(key);
  return { path: null, fd, note: `[output not kept: ${cause}; the command runs with its output discarded (said once until it can be written again)]` };
}

/** The first and last 2 KB of the output file (read from the descriptor the command wrote to), with a marker for what was left out. */
export function headAndTail(fd: number): string {
  try {
    const size = fstatSync(fd).size;
    const read = (pos: number, len: number) => {
      const buf = Buffer.alloc(len);
      return buf.subarray(0, readSync(fd, buf, 0, len, pos)).toString('utf8');
    };
    if (size <= 2 * KEEP) return read(0, size).trimEnd();
    return `${read(0, KEEP)}\n[... ${size - 2 * KEEP} bytes left out ...]\n${read(size - KEEP, KEEP)}`.trimEnd();
  } catch {
    return '';
  }
}

