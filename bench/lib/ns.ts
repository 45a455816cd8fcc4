// A private host for the bench: a pid namespace (its own process table, so `ps` and
// the process probes see only what the bench started) with its own network namespace
// (its own loopback, so the stand-ins listen on 127.0.0.1:8080 and :80 as on a real
// host, and no bench traffic ever shares the machine's loopback). Its init is a bash
// loop that reaps orphans. destroy() SIGKILLs init: the kernel then kills every
// process in the namespace, so nothing the bench started can outlive it.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { childrenOf, descendants, hostPidOf, killTree, sleep } from '../../test/helpers/proctree.js';

export { childrenOf, descendants, killTree, sleep };

const live = new Set<BenchNamespace>();

export class BenchNamespace {
  private readonly nsenters = new Set<ChildProcess>();

  private constructor(
    private readonly unshare: ChildProcess,
    /** Host pid of the namespace's init. */
    readonly initPid: number,
  ) {
    live.add(this);
  }

  static async create(): Promise<BenchNamespace> {
    const init = 'ip link set lo up || { echo "cannot bring lo up (iproute2 missing?)" >&2; exit 1; }; while :; do sleep 3600 & wait $!; done';
    const unshare = spawn('unshare', ['--pid', '--net', '--fork', '--mount-proc', '--kill-child', '--', '/bin/bash', '-c', init], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    unshare.stderr!.on('data', (d) => (stderr += d));
    unshare.on('error', (e) => (stderr += String(e)));
    for (let i = 0; i < 200; i++) {
      await sleep(20);
      const init = childrenOf(unshare.pid!)[0];
      // Ready once init has started its first `sleep` (so lo is up).
      if (init && childrenOf(init).length) return new BenchNamespace(unshare, init);
      if (unshare.exitCode !== null) break;
    }
    if (unshare.pid) unshare.kill('SIGKILL');
    throw new Error(`unshare --pid --net did not start (needs root, util-linux and iproute2): ${stderr.trim()}`);
  }

  /** Starts argv inside the namespace; pid() resolves to its host pid. */
  spawn(argv: string[], opts: SpawnOptions = {}): { proc: ChildProcess; pid: () => Promise<number> } {
    const proc = spawn('nsenter', ['-t', String(this.initPid), '-p', '-m', '-n', '--', ...argv], opts);
    this.nsenters.add(proc);
    proc.on('close', () => this.nsenters.delete(proc));
    const pid = async () => {
      for (let i = 0; i < 500; i++) {
        const c = childrenOf(proc.pid!)[0];
        if (c) return c;
        if (proc.exitCode !== null) break;
        await sleep(10);
      }
      throw new Error(`no child of nsenter ${proc.pid} for ${argv.join(' ')}`);
    };
    return { proc, pid };
  }

  /** Runs argv inside the namespace to completion (bounded by timeoutMs: SIGKILL). */
  run(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const { proc } = this.spawn(argv, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        stderr += `\n[bench] killed after ${opts.timeoutMs ?? 600_000} ms`;
        killTree(proc.pid!);
      }, opts.timeoutMs ?? 600_000);
      proc.stdout!.on('data', (d) => (stdout += d));
      proc.stderr!.on('data', (d) => (stderr += d));
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Host pid of a pid as seen inside the namespace (via NSpid), or null. */
  hostPid(inner: number): number | null {
    return hostPidOf(this.initPid, inner);
  }

  /** Number of processes in the namespace (its /proc as seen from the host). */
  processCount(): number {
    return descendants(this.initPid).length;
  }

  destroy(): void {
    live.delete(this);
    try {
      process.kill(this.initPid, 'SIGKILL'); // init gone: the kernel kills the whole namespace
    } catch {
      // already gone
    }
    for (const p of this.nsenters) if (p.exitCode === null) p.kill('SIGKILL');
    if (this.unshare.exitCode === null) this.unshare.kill('SIGKILL');
  }
}

/** Kills every namespace still alive (on exit, error or Ctrl-C). */
export function destroyAll(): void {
  for (const ns of [...live]) ns.destroy();
}
