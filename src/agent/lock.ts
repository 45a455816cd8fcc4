// One actor per host: `run` holds stateDir/lock for its lifetime; a `check` that cannot
// take it does not act. The lock names its owner (pid + start time, so a reused pid is
// not mistaken for the owner); a lock whose owner is gone is taken over.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, readStat } from '../probes/proc.js';

export interface LockOwner {
  pid: number;
  startTime: number | null;
  command: string;
}

export type LockResult = { ok: true; release: () => void; tookOverFrom?: LockOwner } | { ok: false; owner: LockOwner | null; reason: string };

export const lockFile = (stateDir: string) => join(stateDir, 'lock');

const ownerAlive = (o: LockOwner | null): boolean => o !== null && isAlive(o.pid, o.startTime);

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) ? o : null;
  } catch {
    return null;
  }
}

export function acquireLock(stateDir: string, command: string): LockResult {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = lockFile(stateDir);
  const me: LockOwner = { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? null, command };
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, JSON.stringify(me), { mode: 0o600 });
  let tookOverFrom: LockOwner | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      try {
        linkSync(mine, file); // atomic: fails if a lock exists
        const release = () => {
          if (readOwner(file)?.pid === me.pid) unlinkSync(file);
        };
        return { ok: true, release, tookOverFrom };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readOwner(file);
      if (ownerAlive(owner)) return { ok: false, owner, reason: `held by ${owner!.command} (pid ${owner!.pid})` };
      // Stale. Move it out of the way atomically; if what we moved turns out to be a
      // live owner's (it replaced the stale one meanwhile), put it back.
      const grave = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, grave);
      } catch {
        continue;
      }
      const moved = readOwner(grave);
      if (ownerAlive(moved)) {
        try {
          linkSync(grave, file);
        } catch {
          // someone else holds it now; either way it is not ours
        }
        unlinkSync(grave);
        return { ok: false, owner: moved, reason: `held by ${moved!.command} (pid ${moved!.pid})` };
      }
      unlinkSync(grave);
      tookOverFrom = moved ?? undefined;
    }
    return { ok: false, owner: readOwner(file), reason: 'lock contended; gave up after 3 tries' };
  } finally {
    unlinkSync(mine);
  }
}
