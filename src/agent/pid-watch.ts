// Between polls, the pids the process probes already know are confirmed every 250 ms.
// A pid that is gone or a zombie asks for a poll at once: the process probe then sees
// it missing and the policy counts it down without waiting for `fall`.
// Plain timers, not node-cron: this is faster than any poll.
//
// Its timer shares the scheduler's wake-ups (a timer firing in an idle node process
// costs more CPU than the check itself, bench item 2c): ticks fall on whole multiples
// of the period, like node-cron's, and the one that coincides with a scheduled poll is
// run by the scheduler's tick (`due()`) instead of by a timer of its own. With no known
// pid (nothing to watch) it does not wake up at all until a poll finds some (`resume()`).
//
// Only each service's top processes: not those whose parent is another of the same
// match (`child`: nginx's workers, keepalived's VRRP and checker children). Their parent
// respawns them, the next poll still confirms every pid, and a host with 16 nginx workers
// would otherwise read 16 files more every round for nothing.
//
// Cheap by design (it runs 14,400 times an hour): each known process's
// /proc/<pid>/stat is opened once and re-read in place (one pread into a reused
// buffer, no open/close, no string). The open file stays bound to that process: once
// it is gone the read fails with ESRCH, even if its pid is reused meanwhile, so the
// start time is checked only when the file is opened.
import { closeSync } from 'node:fs';
import { openStat, statAlive } from '../os/stat-file.js';
import type { KnownPids } from '../probes/index.js';

export const PID_WATCH_MS = 250;

export interface Vanished {
  /** The process probe that knew it: a service name or "keepalived". */
  owner: string;
  pid: number;
}


export interface PidWatchSchedule {
  /** When the scheduler's next tick is due (ms since the epoch); that tick calls due(). */
  nextPollAt?: () => number | undefined;
}

export class PidWatch {
  private timer?: NodeJS.Timeout;
  private started = false;
  private nextPollAt?: () => number | undefined;
  /** pid:startTime -> the open /proc/<pid>/stat, or null once it read as dead. */
  private readonly files = new Map<string, number | null>();
  /** Reported already: one report per death, until the probes forget the pid. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly known: () => KnownPids,
    private readonly onVanished: (gone: Vanished[]) => void,
    private readonly everyMs = PID_WATCH_MS,
  ) {}

  start(schedule: PidWatchSchedule = {}): void {
    this.started = true;
    this.nextPollAt = schedule.nextPollAt;
    this.arm();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const fd of this.files.values()) if (fd !== null) closeSync(fd);
    this.files.clear();
  }

  /** The scheduler's tick: the watch's round for this moment, on the same wake-up. */
  due(): void {
    if (!this.started) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.tick();
    this.arm();
  }

  /** After a poll: wake up again if the poll found pids to watch while there were none. */
  resume(): void {
    if (this.started && !this.timer) this.arm();
  }

  /** The next round on a timer: the next multiple of the period not taken by a scheduled poll; none while no pid is known. */
  private arm(after = Date.now()): void {
    if (!this.started || this.timer || !hasPids(this.known())) return;
    const now = Date.now();
    // After the round just run (a timer may fire a millisecond early: never the same round twice).
    let at = (Math.floor(Math.max(now, after) / this.everyMs) + 1) * this.everyMs;
    const poll = this.nextPollAt?.();
    if (poll !== undefined && Math.abs(poll - at) < this.everyMs / 10) at += this.everyMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
      this.arm(at);
    }, at - now);
    this.timer.unref(); // never what keeps the agent alive
  }

  /** The known pids that are dead right now (no report): /healthz asks this. */
  gone(): Vanished[] {
    return this.check().gone;
  }

  /** One round of checks (also called directly by tests and the bench). */
  tick(): Vanished[] {
    const { gone, keys } = this.check();
    const fresh = gone.filter((g, i) => !this.reported.has(keys[i]!));
    for (const k of keys) this.reported.add(k);
    for (const k of this.reported) if (!this.files.has(k)) this.reported.delete(k);
    if (fresh.length) this.onVanished(fresh);
    return fresh;
  }

  private check(): { gone: Vanished[]; keys: string[] } {
    const gone: Vanished[] = [];
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const [owner, set] of Object.entries(this.known())) {
      for (const k of set?.pids ?? []) {
        if (k.child) continue;
        const key = `${k.pid}:${k.startTime}`;
        seen.add(key);
        if (!this.files.has(key)) this.files.set(key, openStat(k.pid, k.startTime));
        const fd = this.files.get(key)!;
        if (fd !== null && statAlive(fd)) continue;
        if (fd !== null) {
          closeSync(fd);
          this.files.set(key, null);
        }
        gone.push({ owner, pid: k.pid });
        keys.push(key);
      }
    }
    // Pids the probes no longer know (replaced after a restart): their files are closed.
    for (const [key, fd] of this.files) {
      if (seen.has(key)) continue;
      if (fd !== null) closeSync(fd);
      this.files.delete(key);
    }
    return { gone, keys };
  }
}

function hasPids(known: KnownPids): boolean {
  for (const owner in known) if (known[owner]?.pids.some((k) => !k.child)) return true;
  return false;
}

// Z (zombie), X and x (dead): the process no longer runs.
