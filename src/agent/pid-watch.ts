// Between polls, the pids the process probes already know are watched for their death.
// A pid that is gone or a zombie asks for a poll at once: the process probe then sees
// it missing and the policy counts it down without waiting for `fall`.
//
// From the kernel where it can (os/exit-wait.ts): each known process gets a helper
// blocked on its pidfd (procps's pidwait), whose exit is the notice. An idle agent
// then spends nothing on watching: no wake-up at all between polls. A process whose
// helper could not start or failed is watched by timer instead, every 250 ms (plain
// timers, not node-cron: this is faster than any poll).
//
// The timer shares the scheduler's wake-ups (a timer firing in an idle node process
// costs more CPU than the check itself, bench item 2c): ticks fall on whole multiples
// of the period, like node-cron's, and the one that coincides with a scheduled poll is
// run by the scheduler's tick (`due()`) instead of by a timer of its own. With nothing
// to read by timer (no known pid, or every one has its helper) it does not wake up.
//
// Only each service's top processes: not those whose parent is another of the same
// match (`child`: nginx's workers, keepalived's VRRP and checker children). Their parent
// respawns them, the next poll still confirms every pid, and a host with 16 nginx workers
// would otherwise watch 16 processes more for nothing.
//
// Cheap by design: each known process's /proc/<pid>/stat is opened once and re-read in
// place (one pread into a reused buffer, no open/close, no string). The open file stays
// bound to that process: once it is gone the read fails with ESRCH, even if its pid is
// reused meanwhile, so the start time is checked only when the file is opened.
import { closeSync } from 'node:fs';
import type { ExitWaiter, ExitWaitHooks } from '../os/exit-wait.js';
import { openStat, statAlive } from '../os/stat-file.js';
import type { KnownPids } from '../probes/index.js';

export const PID_WATCH_MS = 250;
/** Helpers that fail (the process still alive) before the watch stops starting them. */
const WAITER_FAILURES = 3;

export interface Vanished {
  /** The process probe that knew it: a service name or "keepalived". */
  owner: string;
  pid: number;
}

export interface PidWatchSchedule {
  /** When the scheduler's next tick is due (ms since the epoch); that tick calls due(). */
  nextPollAt?: () => number | undefined;
}

export interface PidWatchOptions {
  everyMs?: number;
  /** Starts a helper waiting for a process's exit (os/exit-wait.ts); none: by timer only. */
  waitForExit?: (pid: number, hooks: ExitWaitHooks) => ExitWaiter | Error;
  /** A helper could not start or failed while its process lived: it is watched by timer. */
  onFallback?: (owner: string, pid: number, reason: string) => void;
}

export class PidWatch {
  private timer?: NodeJS.Timeout;
  private started = false;
  private nextPollAt?: () => number | undefined;
  private readonly everyMs: number;
  /** pid:startTime -> the open /proc/<pid>/stat, or null once it read as dead. */
  private readonly files = new Map<string, number | null>();
  /** pid:startTime -> its exit helper; 'timer' once that failed (watched by timer). */
  private readonly waiters = new Map<string, ExitWaiter | 'timer'>();
  private failures = 0;
  /** Reported already: one report per death, until the probes forget the pid. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly known: () => KnownPids,
    private readonly onVanished: (gone: Vanished[]) => void,
    private readonly opts: PidWatchOptions = {},
  ) {
    this.everyMs = opts.everyMs ?? PID_WATCH_MS;
  }

  start(schedule: PidWatchSchedule = {}): void {
    this.started = true;
    this.nextPollAt = schedule.nextPollAt;
    this.resume();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.values()) if (w !== 'timer') w.stop();
    this.waiters.clear();
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

  /** After a poll: helpers for the pids it found, and the timer if some are left to it. */
  resume(): void {
    if (!this.started) return;
    this.watchNew();
    this.arm();
  }

  /** How the deaths of owner's top processes are noticed now: all by helpers, or (some) by the timer; null with none known alive. */
  how(owner: string): 'kernel' | 'timer' | null {
    let any = false;
    for (const t of this.tops()) {
      if (t.owner !== owner || this.files.get(t.key) === null) continue;
      if (!this.helped(t.key)) return 'timer';
      any = true;
    }
    return any ? 'kernel' : null;
  }

  /** How many known processes a helper watches now (the rest are read by timer). */
  get armed(): number {
    let n = 0;
    for (const key of this.waiters.keys()) if (this.helped(key)) n++;
    return n;
  }

  /** A helper holds this process's pidfd: its death will be told, nothing to read. */
  private helped(key: string): boolean {
    const w = this.waiters.get(key);
    return w !== undefined && w !== 'timer' && w.armed;
  }

  /** The next round on a timer: the next multiple of the period not taken by a scheduled poll; none while nothing needs reading. */
  private arm(after = Date.now()): void {
    if (!this.started || this.timer || !this.needsTimer()) return;
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

  /** A known top process that is alive as far as the watch knows and has no armed helper. */
  private needsTimer(): boolean {
    for (const { key } of this.tops()) {
      if (this.files.get(key) !== null && !this.helped(key)) return true; // null: dead, reported
    }
    return false;
  }

  private *tops(): Generator<{ owner: string; pid: number; startTime: number; key: string }> {
    for (const [owner, set] of Object.entries(this.known())) {
      for (const k of set?.pids ?? []) if (!k.child) yield { owner, pid: k.pid, startTime: k.startTime, key: `${k.pid}:${k.startTime}` };
    }
  }

  /** Opens the stat file of each newly known process and starts its helper. */
  private watchNew(): void {
    for (const { owner, pid, startTime, key } of this.tops()) {
      if (!this.files.has(key)) this.files.set(key, openStat(pid, startTime));
      if (this.files.get(key) !== null && !this.waiters.has(key)) this.startWaiter(owner, pid, key);
    }
  }

  private startWaiter(owner: string, pid: number, key: string): void {
    const start = this.opts.waitForExit;
    if (!start || this.failures >= WAITER_FAILURES) {
      this.waiters.set(key, 'timer');
      return;
    }
    const failed = (reason: string) => {
      this.failures++;
      this.waiters.set(key, 'timer');
      this.opts.onFallback?.(owner, pid, reason);
    };
    const w = start(pid, {
      alive: () => {
        const fd = this.files.get(key);
        return fd !== undefined && fd !== null && statAlive(fd);
      },
      // Every process helped: the timer has nothing left to read.
      armed: () => {
        if (this.needsTimer()) return;
        clearTimeout(this.timer);
        this.timer = undefined;
      },
      ended: (why) => {
        if (!this.started || this.waiters.get(key) !== w) return;
        this.waiters.set(key, 'timer'); // read by stat from now on: this round tells death from failure
        this.tick();
        if (this.files.get(key) !== null && this.files.has(key)) failed(why);
        this.arm();
      },
    });
    if (w instanceof Error) failed(w.message);
    else this.waiters.set(key, w);
  }

  /** The known pids that are dead right now (no report): /healthz asks this. */
  gone(): Vanished[] {
    return this.check(true).gone;
  }

  /** One round of checks (also called directly by tests and the bench). */
  tick(): Vanished[] {
    if (this.started) this.watchNew();
    const { gone, keys } = this.check(false);
    const fresh = gone.filter((g, i) => !this.reported.has(keys[i]!));
    for (const k of keys) this.reported.add(k);
    for (const k of this.reported) if (!this.files.has(k)) this.reported.delete(k);
    if (fresh.length) this.onVanished(fresh);
    return fresh;
  }

  /** Reads each known process's stat file; a process with an armed helper only if `all`. */
  private check(all: boolean): { gone: Vanished[]; keys: string[] } {
    const gone: Vanished[] = [];
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const { owner, pid, startTime, key } of this.tops()) {
      seen.add(key);
      if (!this.files.has(key)) this.files.set(key, openStat(pid, startTime));
      const fd = this.files.get(key)!;
      if (fd !== null && !all && this.helped(key)) continue;
      if (fd !== null && statAlive(fd)) continue;
      if (fd !== null) {
        closeSync(fd);
        this.files.set(key, null);
      }
      const w = this.waiters.get(key);
      if (w !== undefined && w !== 'timer') w.stop();
      gone.push({ owner, pid });
      keys.push(key);
    }
    // Pids the probes no longer know (replaced after a restart): files closed, helpers ended.
    for (const [key, fd] of this.files) {
      if (seen.has(key)) continue;
      if (fd !== null) closeSync(fd);
      this.files.delete(key);
    }
    for (const [key, w] of this.waiters) {
      if (seen.has(key)) continue;
      if (w !== 'timer') w.stop();
      this.waiters.delete(key);
    }
    return { gone, keys };
  }
}
