// The containers' run dirs (RUN_ROOT/hwt-<id>: mount points, console log, state.json
// with the owner's pid), their removal, the reaping of runs whose test process died,
// and what of a container is still visible on the host.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { cgroupHierarchies, removeCgroups } from './cgroups.js';
import { alive, type Log, mountsUnder, safeReaddir, sleep, startTime } from './host.js';
import { CACHE_DIR } from './rootfs.js';

/** Where per-container run dirs live (mount points, console log, state). */
export const RUN_ROOT = process.env.HA_WATCHDOG_TEST_RUNS ?? '/var/tmp/ha-watchdog-test';

export interface RunState {
  name: string;
  ownerPid: number;
  ownerStart?: string;
  nspawnPid?: number;
  leaderPid?: number;
  cgroups: string[];
}

export async function removeRunDir(dir: string, problems: string[]): Promise<void> {
  const mounts = mountsUnder(dir);
  if (mounts.length > 0) {
    // Cannot happen (all mounts are in nspawn's private namespace); never
    // rm -rf through a mount point.
    problems.push(`mounts left under ${dir}: ${mounts.join(' ')}; run dir kept`);
    return;
  }
  await fsp.rm(dir, { recursive: true, force: true });
}

/** Cleans up after test processes that died without calling stop(). */
export async function reapStaleRuns(log?: Log): Promise<string[]> {
  const problems: string[] = [];
  let entries: string[];
  try {
    entries = await fsp.readdir(RUN_ROOT);
  } catch {
    return problems;
  }
  for (const e of entries) {
    if (!e.startsWith('hwt-')) continue;
    const dir = path.join(RUN_ROOT, e);
    let st: RunState | undefined;
    try {
      st = JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8')) as RunState;
    } catch {
      st = undefined;
    }
    if (st && alive(st.ownerPid) && startTime(st.ownerPid) === st.ownerStart) continue;
    if (!st) {
      // state.json is written right after mkdir; give a just-created dir a chance.
      const age = Date.now() - (await fsp.stat(dir)).mtimeMs;
      if (age < 60_000) continue;
    }
    log?.(`reaping stale container run dir ${dir}`);
    for (const pid of [st?.leaderPid, st?.nspawnPid]) {
      if (pid && alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await sleep(200);
    await removeCgroups(st?.cgroups ?? [], problems);
    await removeRunDir(dir, problems);
  }
  return problems;
}

/**
 * What of a container (by name; default: any of ours) is visible on the host:
 * mounts, run dirs, cgroups. Empty after a clean stop().
 */
export function hostLeftovers(name = 'hwt-'): string[] {
  const found: string[] = [];
  for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = m.split(' ')[4];
    if (mp && (mp.startsWith(path.join(RUN_ROOT, name)) || mp.startsWith(CACHE_DIR) || mp === '/run/systemd/nspawn')) found.push(`mount ${mp}`);
  }
  for (const e of safeReaddir(RUN_ROOT)) if (e.startsWith(name)) found.push(`run dir ${path.join(RUN_ROOT, e)}`);
  for (const h of cgroupHierarchies()) {
    for (const e of safeReaddir(path.join(h.mountpoint, h.own))) if (e.startsWith(name)) found.push(`cgroup ${path.join(h.mountpoint, h.own, e)}`);
  }
  return found;
}
