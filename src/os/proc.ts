// Cheap facts about one pid straight from /proc (a few syscalls, no child process).
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

export interface PidStat {
  pid: number;
  comm: string;
  /** R, S, D, T, t, Z (zombie), X (dead), I ... */
  state: string;
  ppid: number;
  /** Clock ticks after boot: with the pid, identifies one process even if the pid is reused. */
  startTime: number;
}

export function readStat(pid: number, procRoot = '/proc'): PidStat | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces and ")".
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

export const isDead = (s: PidStat | null): boolean => s === null || s.state === 'Z' || s.state === 'X' || s.state === 'x';

/** The process pid still runs, and is the same process (same start time, when given). */
export function isAlive(pid: number, startTime?: number | null): boolean {
  const s = readStat(pid);
  return !isDead(s) && (startTime === undefined || startTime === null || s!.startTime === startTime);
}

export function readCmdline(pid: number, procRoot = '/proc'): string | null {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
  } catch {
    return null;
  }
}

export function exeName(pid: number, procRoot = '/proc'): string | null {
  try {
    return basename(readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    return null;
  }
}

/** The pid namespace a process lives in ("pid:[4026531836]"); null if it cannot be read. */
export function pidNamespace(pid: number | 'self', procRoot = '/proc'): string | null {
  try {
    return readlinkSync(`${procRoot}/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

/**
 * Whether the process is in the cgroup of systemd unit `unit` (or below it): its
 * /proc/<pid>/cgroup path has the unit as one of its components, on the unified
 * hierarchy (cgroup v2) or systemd's own (v1 "name=systemd").
 */
export function inUnit(pid: number, unit: string, procRoot = '/proc'): boolean {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return false;
  }
  for (const line of text.split('\n')) {
    const [id, controllers, path] = line.split(':', 3) as [string, string?, string?];
    if (path === undefined || !((id === '0' && controllers === '') || controllers === 'name=systemd')) continue;
    if (path.split('/').includes(unit)) return true;
  }
  return false;
}
