// A death notice for a process that is not the agent's child, from the kernel rather
// than by looking: procps's `pidwait` (pidfd_open + epoll) blocks until the process
// exits, costing nothing meanwhile; its own exit is the notice. Node offers no pidfd
// and the agent loads nothing native, so the helper is the system's (procps is on
// every Debian host; without it the caller keeps watching by timer).
//
// - Exact: pidwait takes the pid from a pidfile (`-F`; pgrep's patterns would match by
//   name). The file is the agent's own: created O_EXCL|O_NOFOLLOW in its state
//   directory (root's alone), handed over read-only as stdin (`-F /dev/stdin` reopens
//   it), removed when the helper ends (a killed agent's: with the stale temp files, by
//   the next agent that takes the lock). Between the agent's check and the helper's pidfd_open the
//   pid could die and be reused: `armed` is reported only once the helper holds a pidfd
//   for that pid AND the agent's open /proc/<pid>/stat (bound to the process it knew)
//   still reads alive, so the pidfd is that process's.
// - Least privilege: as root, the helper runs as nobody with no new privileges
//   (pidfd_open needs no permission) and is SIGKILLed if the agent dies
//   (`setpriv --pdeathsig`), so a killed agent leaves no waiters behind.
// - The notice is only "look now": the caller re-reads the process's stat file, so a
//   helper that failed (no pidwait, /proc mounted hidepid, killed) is told apart from a
//   death, and that process goes back to being watched by timer.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fchmodSync, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createTemp, unlinkQuietly } from './safe-write.js';

export const SETPRIV = '/usr/bin/setpriv';
export const PIDWAIT = '/usr/bin/pidwait';
/** How often, and how many times, the helper is looked at until it holds its pidfd. */
const ARM_CHECK_MS = 10;
const ARM_CHECKS = 200;
const NOBODY = 65534;

export interface ExitWaitHooks {
  /** The helper holds a pidfd for the process, and the process is still the one known. */
  armed: () => void;
  /** The helper ended: the process exited, or the helper failed (the caller looks which). */
  ended: (why: string) => void;
  /** Is the process known still alive? (the caller's open /proc/<pid>/stat) */
  alive: () => boolean;
}

export interface ExitWaiter {
  readonly pid: number;
  readonly armed: boolean;
  /** Ends the helper; no hook is called after this. */
  stop(): void;
}

export interface ExitWaitOptions {
  /** A private directory of the agent's (its state directory) for the pidfile. */
  dir: string;
  setpriv?: string;
  pidwait?: string;
}

/** Starts a helper waiting for pid's exit, or says why it cannot. */
export function waitForExit(pid: number, hooks: ExitWaitHooks, o: ExitWaitOptions): ExitWaiter | Error {
  let path: string;
  let fd: number;
  try {
    const t = createTemp(join(o.dir, `pidwait-${pid}`), 0o600);
    path = t.path;
    try {
      writeSync(t.fd, `${pid}\n`);
      // Readable by all (after the umask, UMask=0077 under the shipped unit): the helper
      // (nobody) reopens it through /dev/stdin, which checks the file's mode, not the
      // directory's (root's alone: no one else can reach it by its path).
      fchmodSync(t.fd, 0o444);
      // The helper's stdin is read-only, and the file stays linked while the helper lives:
      // a file open for writing, or deleted but still open, would keep stateDir's
      // filesystem from being remounted read-only (EBUSY). Reopened without following a
      // symlink, and checked to be the very file just written.
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const [a, b] = [fstatSync(t.fd), fstatSync(fd)];
      if (a.dev !== b.dev || a.ino !== b.ino) {
        closeSync(fd);
        throw new Error(`${path} was replaced`);
      }
    } catch (e) {
      unlinkQuietly(path);
      throw e;
    } finally {
      closeSync(t.fd);
    }
  } catch (e) {
    return new Error(`pidfile in ${o.dir}: ${(e as Error).message}`);
  }
  const drop = process.geteuid?.() === 0 ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : [];
  let child: ChildProcess;
  try {
    child = spawn(o.setpriv ?? SETPRIV, [...drop, '--no-new-privs', '--pdeathsig', 'KILL', '--', o.pidwait ?? PIDWAIT, '-F', '/dev/stdin'], {
      stdio: [fd, 'ignore', 'ignore'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      // Its own process group: a Ctrl-C meant for a foreground agent is not a death notice.
      detached: true,
    });
  } catch (e) {
    unlinkQuietly(path);
    return new Error(`${o.setpriv ?? SETPRIV}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  return new Waiter(pid, child, hooks, path);
}

class Waiter implements ExitWaiter {
  armed = false;
  private done = false;
  private checks = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    private readonly child: ChildProcess,
    private readonly hooks: ExitWaitHooks,
    private readonly pidfile: string,
  ) {
    child.unref(); // never what keeps the agent alive
    child.once('error', (e) => this.end(`helper: ${e.message}`));
    child.once('exit', (code, signal) => {
      unlinkQuietly(pidfile);
      this.end(signal ? `helper killed by ${signal}` : `helper exited ${code}`);
    });
    child.once('spawn', () => this.look());
  }

  stop(): void {
    this.done = true;
    clearTimeout(this.timer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    unlinkQuietly(this.pidfile); // its open stdin still reads it, if it is not dead yet
  }

  private end(why: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.hooks.ended(why);
  }

  /** Until the helper holds its pidfd: then the process must still be the one known. */
  private look(): void {
    if (this.done) return;
    if (holdsPidfd(this.child.pid!, this.pid)) {
      if (!this.hooks.alive()) {
        this.stop();
        this.hooks.ended('gone before the helper held it');
        return;
      }
      this.armed = true;
      this.hooks.armed();
      return;
    }
    if (++this.checks >= ARM_CHECKS) {
      this.stop();
      this.hooks.ended(`helper held no pidfd for pid ${this.pid} after ${(ARM_CHECK_MS * ARM_CHECKS) / 1000} s`);
      return;
    }
    this.timer = setTimeout(() => this.look(), ARM_CHECK_MS);
    this.timer.unref();
  }
}

/** Does process `holder` have a pidfd open for `pid`? (its fdinfo says `Pid: <pid>`) */
export function holdsPidfd(holder: number, pid: number, procRoot = '/proc'): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${holder}/fd`);
  } catch {
    return false;
  }
  for (const n of fds) {
    try {
      if (readlinkSync(`${procRoot}/${holder}/fd/${n}`) !== 'anon_inode:[pidfd]') continue;
      const m = /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`${procRoot}/${holder}/fdinfo/${n}`, 'latin1'));
      if (m && Number(m[1]) === pid) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** An earlier agent's pidfiles in dir (its helpers died with it): removed; how many. Called by the agent that holds the lock. */
export function removeOldPidfiles(dir: string, self = process.pid): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = /^pidwait-\d+\.tmp-(\d+)-[0-9a-f]{12}$/.exec(name);
    if (!m || Number(m[1]) === self) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // gone meanwhile, or a read-only directory
    }
  }
  return removed;
}
