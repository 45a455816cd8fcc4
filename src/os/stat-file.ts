// A process's /proc/<pid>/stat kept open and re-read in place (one pread per check,
// no open/fstat/close, no string for a healthy pid): how the pid watch and the process
// probe confirm that a known pid is still the same living process. The fd identifies
// the process: after it exits, a read gives ESRCH even if the pid is reused.
import { closeSync, openSync, readSync } from 'node:fs';

const buf = Buffer.alloc(1024);
const CLOSE_PAREN = 0x29;
// Z (zombie), X and x (dead): the process no longer runs.
const isDeadState = (c: number | undefined) => c === 0x5a || c === 0x58 || c === 0x78;

function read(fd: number): number {
  try {
    return readSync(fd, buf, 0, buf.length, 0);
  } catch {
    return -1;
  }
}

/** The open stat file of pid if it is the process that started at startTime and still runs, else null. */
export function openStat(pid: number, startTime: number): number | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return null;
  }
  // Read from the file just opened (not again by path): state is the first field after
  // the ")" that ends comm, starttime (field 22) the 20th after it.
  const n = read(fd);
  const close = n < 0 ? -1 : buf.lastIndexOf(CLOSE_PAREN, n - 1);
  const fields = close < 0 ? [] : buf.toString('latin1', close + 2, n).split(' ');
  if (fields[0] === undefined || Number(fields[19]) !== startTime || isDeadState(fields[0].charCodeAt(0))) {
    closeSync(fd);
    return null;
  }
  return fd;
}

/** The process behind an open stat file still runs (not gone: ESRCH, not a zombie). */
export function statAlive(fd: number): boolean {
  const n = read(fd);
  if (n < 0) return false;
  const close = buf.lastIndexOf(CLOSE_PAREN, n - 1);
  return close >= 0 && !isDeadState(buf[close + 2]);
}
