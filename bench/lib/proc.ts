// Reading a process's CPU time and memory from /proc (host pids).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck: number | undefined;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux we know). */
export function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export interface CpuTimes {
  /** user + system of the process itself (all threads), ms */
  self: number;
  /** user + system of its reaped children (and their reaped children), ms */
  children: number;
}

export function cpuTimes(pid: number | 'self'): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // After "(comm)": field 3 is rest[0], so field N is rest[N - 3].
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const tick = 1000 / ticksPerSecond();
  const f = (n: number) => Number(rest[n - 3]) * tick;
  return { self: f(14) + f(15), children: f(16) + f(17) };
}

/** Resident set size in MB (VmRSS), or NaN when the process is gone. */
export function rssMB(pid: number | 'self'): number {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pids whose parent is `pid` (host pids), with their command name. */
export function childrenOf(pid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'latin1');
      const close = text.lastIndexOf(')');
      if (Number(text.slice(close + 2).split(' ')[1]) === pid) out.push({ pid: Number(name), comm: text.slice(text.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Proportional set size in MB (Pss of smaps_rollup: shared pages divided among their users), or NaN. */
export function pssMB(pid: number): number {
  try {
    const kb = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
