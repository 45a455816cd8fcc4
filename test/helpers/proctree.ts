// Walking the process tree from the host through /proc: children, descendants, and the
// host pid of a pid seen inside a pid namespace. Shared by the tests' and the bench's
// namespace helpers.
import { readFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function childrenOf(pid: number): number[] {
  return safeRead(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
}

export function descendants(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  for (let guard = 0; stack.length && guard < 100_000; guard++) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...childrenOf(p));
  }
  return out;
}

/** The host pid of the process that has pid `inner` inside the namespace whose init is initPid (via NSpid). */
export function hostPidOf(initPid: number, inner: number): number | null {
  for (const pid of descendants(initPid)) {
    const nspid = /NSpid:\s+(.*)/.exec(safeRead(`/proc/${pid}/status`))?.[1]?.trim().split(/\s+/);
    if (nspid && Number(nspid[nspid.length - 1]) === inner) return pid;
  }
  return null;
}

/** SIGKILL a process and its descendants (deepest first), by pid. */
export function killTree(root: number): void {
  for (const p of descendants(root).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
