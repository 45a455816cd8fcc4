// Helpers for the stateDir hardening tests: a real unprivileged user (useradd, removed
// after), commands run as that user, a root-owned file to prove untouched, a small real
// tmpfs, and the stage's config pointed at another stateDir.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../helpers/pidns.js';
import type { Stage } from '../helpers/stage.js';

export { createUser, type TestUser } from '../helpers/user.js';

/** A root-owned file in a root-only directory, with what it holds now, to prove nothing wrote to it. */
export class RootFile {
  readonly path: string;
  readonly content: string;
  private readonly before: { mtimeMs: number; size: number; ino: number };

  constructor(dir: string, name = 'shadow', content = 'root:$y$j9T$SECRETSALT$SECRETHASHSECRETHASH:19000:0:99999:7:::\n') {
    this.path = join(dir, name);
    this.content = content;
    writeFileSync(this.path, content, { mode: 0o600 });
    const st = statSync(this.path);
    this.before = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
  }

  /** Throws unless content, size, mtime and inode are as they were. */
  assertUntouched(): void {
    const st = statSync(this.path);
    const now = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    if (readFileSync(this.path, 'utf8') !== this.content || JSON.stringify(now) !== JSON.stringify(this.before)) {
      throw new Error(`root file ${this.path} was touched: ${JSON.stringify({ before: this.before, now, content: readFileSync(this.path, 'utf8').slice(0, 200) })}`);
    }
  }
}

/** A root-only (0700) directory under /tmp. */
export function rootDir(prefix = 'haw-hard-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o700);
  return d;
}

/** A directory others can traverse (0755), for a stateDir another user owns inside it. */
export function openDir(prefix = 'haw-hard-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

/** A real tmpfs of `size` (e.g. "64k") mounted at a fresh directory; mount it before Stage.create() so the stage's namespace shares it. */
export class Tmpfs {
  readonly dir: string;
  private mounted = false;

  constructor(readonly size = '64k') {
    this.dir = mkdtempSync(join(tmpdir(), 'haw-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700,uid=0,gid=0`, 'tmpfs', this.dir]);
    this.mounted = true;
  }

  /** Read-only from now on, on the host and inside the stage's mount namespace. */
  async readOnly(stage?: Stage): Promise<void> {
    execFileSync('mount', ['-o', 'remount,ro', this.dir]);
    if (stage) await stage.ns.run(['mount', '-o', 'remount,ro', this.dir]);
  }

  /** Fills it up: a file written until ENOSPC. */
  fill(): void {
    spawnSync('dd', ['if=/dev/zero', `of=${join(this.dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  }

  freeBytes(): number {
    const out = execFileSync('df', ['-B1', '--output=avail', this.dir]).toString().trim().split('\n').pop()!;
    return Number(out.trim());
  }

  cleanup(): void {
    if (this.mounted) {
      spawnSync('umount', ['-l', this.dir]);
      this.mounted = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The stage's watchdog.yaml with another stateDir. */
export function configWithStateDir(stage: Stage, stateDir: string, over: Parameters<Stage['config']>[0] = {}): string {
  const file = stage.config(over);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^stateDir: .*$/m, `stateDir: ${stateDir}`));
  return file;
}

/** The ha-watchdog state directory the test hands to the agent: mkdir with an owner and mode. */
export function makeDir(path: string, mode: number, uid = 0, gid = 0): string {
  mkdirSync(path, { recursive: true });
  execFileSync('chown', [`${uid}:${gid}`, path]);
  chmodSync(path, mode);
  return path;
}

/** SIGKILL to the fake tomcat once its pidfile names a live process (under load a slow poll may have it being restarted). */
export async function killTomcat(stage: Stage): Promise<void> {
  for (const end = Date.now() + 10_000; ; await sleep(50)) {
    try {
      const pid = stage.tomcatPid();
      if (pid > 0) {
        process.kill(pid, 'SIGKILL');
        return;
      }
    } catch {
      // no pidfile yet, or the process just went
    }
    if (Date.now() > end) throw new Error('no fake tomcat to kill within 10 s');
  }
}
