// One actor per host: `run` holds stateDir/lock for its lifetime; a `check` that cannot
// take it does not act. The lock names its owner (pid + start time, so a reused pid is
// not mistaken for the owner); a lock whose owner is gone is taken over.
// Taking the lock is where stateDir is first checked (src/os/safe-write.ts): created 0700
// if missing, refused if another user could write to it. The lock's own file is created
// exclusive and no-follow (src/os/safe-write.ts); releasing it never throws (a read-only or vanished stateDir).
import { linkSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeTemp, errnoReason, readFileSafe, removeStaleTemps, safeDir, unlinkQuietly, UnsafePathError } from '../os/safe-write.js';
import { isAlive, readStat } from '../os/proc.js';

export interface LockOwner {
  pid: number;
  startTime: number | null;
  command: string;
}

export type LockResult =
  /** release() never throws; it says why when the lock could not be removed (a read-only stateDir). */
  | { ok: true; release: () => { released: boolean; reason?: string }; tookOverFrom?: LockOwner }
  /** unsafe: stateDir itself is refused (another user could write to it), or the lock cannot be written there. */
  | { ok: false; owner: LockOwner | null; reason: string; unsafe?: boolean };

export const lockFile = (stateDir: string) => join(stateDir, 'lock');

const ownerAlive = (o: LockOwner | null): boolean => o !== null && isAlive(o.pid, o.startTime);

function readOwner(file: string): LockOwner | null {
  const r = readFileSafe(file, { maxBytes: 4096 });
  if (!r.ok) return null;
  try {
    const o = JSON.parse(r.text) as LockOwner;
    return Number.isInteger(o?.pid) && o.pid > 0 ? { pid: o.pid, startTime: typeof o.startTime === 'number' ? o.startTime : null, command: String(o.command ?? '?').slice(0, 200) } : null;
  } catch {
    return null;
  }
}

/** Our candidate lock file: a fresh private file (exclusive, no-follow, unpredictable name), linked to `lock` to take it. */
function writeMine(file: string, text: string): string {
  // Not fsynced: a lock is about live processes; after a crash its owner is gone anyway.
  return writeTemp(file, text, 0o600, false);
}

export function acquireLock(stateDir: string, command: string): LockResult {
  const file = lockFile(stateDir);
  const me: LockOwner = { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? null, command };
  let mine: string;
  try {
    safeDir(stateDir, { create: true });
    mine = writeMine(file, JSON.stringify(me));
  } catch (e) {
    const reason = e instanceof UnsafePathError ? `refused: ${e.message}` : `cannot write a lock file in ${stateDir}: ${errnoReason(e)}`;
    return { ok: false, owner: null, reason, unsafe: true };
  }
  let tookOverFrom: LockOwner | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      try {
        linkSync(mine, file); // atomic: fails if a lock exists
        // In charge now: temp files a killed agent left behind go.
        removeStaleTemps(stateDir);
        removeStaleTemps(join(stateDir, 'output'));
        // Never throws: a read-only or vanished stateDir must not crash a shutdown. The
        // lock left behind names a dead pid: the next agent takes it over.
        const release = () => {
          try {
            if (readOwner(file)?.pid === me.pid) unlinkSync(file);
            return { released: true };
          } catch (e) {
            return { released: false, reason: `cannot remove ${file}: ${errnoReason(e)}` };
          }
        };
        return { ok: true, release, tookOverFrom };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, owner: null, reason: `cannot take ${file}: ${errnoReason(e)}`, unsafe: true };
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
        unlinkQuietly(grave);
        return { ok: false, owner: moved, reason: `held by ${moved!.command} (pid ${moved!.pid})` };
      }
      unlinkQuietly(grave);
      tookOverFrom = moved ?? undefined;
    }
    return { ok: false, owner: readOwner(file), reason: 'lock contended; gave up after 3 tries' };
  } finally {
    unlinkQuietly(mine);
  }
}
