// The containers' cgroups: one per container (and hierarchy: cgroup2, v1 name=systemd)
// under this process's own, for nspawn --keep-unit; whatever is left in them at the end
// is killed and they are removed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Log, sleep } from './host.js';

export interface CgroupMount {
  mountpoint: string;
  /** this process's path in that hierarchy */
  own: string;
}

/** The hierarchies nspawn --keep-unit uses: cgroup2 and v1 name=systemd. */
export function cgroupHierarchies(): CgroupMount[] {
  const self = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const ownV2 = self.find((l) => l.startsWith('0::'))?.slice(3);
  const ownNamed = self.find((l) => l.split(':')[1] === 'name=systemd')?.split(':')[2];
  const out: CgroupMount[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountpoint = pre.split(' ')[4];
    const [fstype, , superOpts] = post.split(' ');
    if (!mountpoint) continue;
    if (fstype === 'cgroup2' && ownV2 !== undefined) out.push({ mountpoint, own: ownV2 });
    if (fstype === 'cgroup' && ownNamed !== undefined && superOpts?.split(',').includes('name=systemd')) {
      out.push({ mountpoint, own: ownNamed });
    }
  }
  return out;
}

export function makeCgroups(name: string, log?: Log): string[] {
  const dirs: string[] = [];
  for (const h of cgroupHierarchies()) {
    const dir = path.join(h.mountpoint, h.own, name);
    try {
      fs.mkdirSync(dir);
      dirs.push(dir);
    } catch (err) {
      log?.(`cannot create cgroup ${dir}: ${(err as Error).message} (nspawn will use the shared parent)`);
    }
  }
  return dirs;
}

function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.push(Number(p));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      /* gone */
    }
  };
  walk(dir);
  return pids;
}

/** Kills whatever is left in the cgroups and removes them (deepest first). */
export async function removeCgroups(dirs: string[], problems: string[]): Promise<void> {
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    const left = cgroupPids(dir);
    if (left.length > 0) {
      problems.push(`processes left in ${dir}: ${left.join(' ')} (killed)`);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    const subdirs: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      subdirs.push(d);
    };
    try {
      walk(dir);
    } catch {
      continue;
    }
    for (const d of subdirs) {
      // A cgroup can be busy for a moment after its last process was reaped.
      for (let i = 0; ; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (i >= 50) {
            problems.push(`cannot remove cgroup ${d}: ${code}`);
            break;
          }
          await sleep(100);
        }
      }
    }
  }
}
