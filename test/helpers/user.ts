// A real unprivileged user for the tests that play an attacker: created with useradd
// (unique name, no home, no shell), removed with everything it still runs.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Runs argv as this user to completion; throws on a non-zero exit. */
  run(argv: string[], opts?: { cwd?: string }): string;
  /** Starts argv as this user (a long-running process; stopped by remove()). */
  spawn(argv: string[]): ChildProcess;
  remove(): void;
}

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };

/** A fresh system user with a unique name and no home; remove() deletes it. */
export function createUser(prefix = 'hawt'): TestUser {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  const children: ChildProcess[] = [];
  return {
    name,
    uid,
    gid,
    run(argv, opts = {}) {
      const r = spawnSync(argv[0]!, argv.slice(1), { uid, gid, cwd: opts.cwd ?? '/', env: ENV, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`as ${name}: ${argv.join(' ')}: exit ${r.status}: ${r.stderr}${r.error ? r.error.message : ''}`);
      return r.stdout;
    },
    spawn(argv) {
      const child = spawn(argv[0]!, argv.slice(1), { uid, gid, cwd: '/', env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    remove() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      // Anything else this user still runs (it is this test's own user, created above).
      spawnSync('pkill', ['-KILL', '-u', String(uid)]);
      spawnSync('userdel', [name], { stdio: 'ignore' });
    },
  };
}
