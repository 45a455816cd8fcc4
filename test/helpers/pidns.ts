// A private process table for integration tests: a pid namespace (unshare) whose init
// is a bash loop that reaps orphans. Processes started in it see only each other, so
// a process probe there sees only what the test started; destroy() kills them all.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { childrenOf, hostPidOf, sleep } from './proctree.js';

export { childrenOf, sleep };

export class PidNamespace {
  private constructor(
    private readonly unshare: ChildProcess,
    /** Host pid of the namespace's init. */
    readonly initPid: number,
  ) {}

  static async create(): Promise<PidNamespace> {
    const unshare = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', '--', '/bin/bash', '-c', 'while :; do sleep 1 & wait $!; done'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      await sleep(20);
      const init = childrenOf(unshare.pid!)[0];
      if (init) return new PidNamespace(unshare, init);
      if (unshare.exitCode !== null) break;
    }
    unshare.kill('SIGKILL');
    throw new Error('unshare --pid did not start (needs root and util-linux)');
  }

  /** Starts argv inside the namespace; `pid()` gives its host pid (for signals). */
  spawn(argv: string[], opts: SpawnOptions = {}): { proc: ChildProcess; pid: () => Promise<number> } {
    const proc = spawn('nsenter', ['-t', String(this.initPid), '-p', '-m', '--', ...argv], opts);
    const pid = async () => {
      for (let i = 0; i < 200; i++) {
        const c = childrenOf(proc.pid!)[0];
        if (c) return c;
        await sleep(10);
      }
      throw new Error(`no child of nsenter ${proc.pid} for ${argv.join(' ')}`);
    };
    return { proc, pid };
  }

  /** Runs argv inside the namespace to completion. */
  run(argv: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const { proc } = this.spawn(argv, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      proc.stdout!.on('data', (d) => (stdout += d));
      proc.stderr!.on('data', (d) => (stderr += d));
      proc.on('error', reject);
      proc.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Host pids of the processes in the namespace whose command line matches. */
  async pids(pattern: RegExp): Promise<number[]> {
    const r = await this.run(['ps', '-eo', 'pid=,args=']);
    const inside = r.stdout
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && pattern.test(m[2]!))
      .map((m) => Number(m[1]));
    return inside.map((p) => this.hostPid(p)).filter((p): p is number => p !== null);
  }

  /** Translates a pid inside the namespace to the host's pid. */
  hostPid(inner: number): number | null {
    return hostPidOf(this.initPid, inner);
  }

  destroy(): void {
    try {
      process.kill(this.initPid, 'SIGKILL'); // init gone: the kernel kills the whole namespace
    } catch {
      // already gone
    }
    this.unshare.kill('SIGKILL');
  }
}
