// A command's output goes to a file, not a pipe: a restart script that leaves a daemon
// running (holding its stdout) must not keep the action open. The log gets head and tail.
import { mkdirSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEEP = 2048;

export function outputFile(stateDir: string, name: string): { path: string; fd: number } {
  for (const dir of [join(stateDir, 'output'), join(tmpdir(), 'ha-watchdog-output')]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${name}.log`);
      return { path, fd: openSync(path, 'w', 0o600) };
    } catch {
      // stateDir not writable (e.g. a read-only check): fall back to the temp dir
    }
  }
  throw new Error(`cannot create an output file for ${name}`);
}

/** The first and last 2 KB of a file, with a marker for what was left out. */
export function headAndTail(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const read = (pos: number, len: number) => {
      const buf = Buffer.alloc(len);
      return buf.subarray(0, readSync(fd, buf, 0, len, pos)).toString('utf8');
    };
    if (size <= 2 * KEEP) return read(0, size).trimEnd();
    return `${read(0, KEEP)}\n[... ${size - 2 * KEEP} bytes left out ...]\n${read(size - KEEP, KEEP)}`.trimEnd();
  } finally {
    closeSync(fd);
  }
}
