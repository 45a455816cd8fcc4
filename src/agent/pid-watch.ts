// Between polls, the pids the process probes already know are confirmed every 250 ms
// through /proc/<pid>/stat (start time included, so a reused pid is not mistaken for
// the old process). A pid that is gone or a zombie asks for a poll at once: the process
// probe then sees it missing and the policy counts it down without waiting for `fall`.
// Plain timers, not node-cron: this is faster than any poll and costs a stat per pid.
import { isAlive } from '../probes/proc.js';
import type { KnownPids } from '../probes/index.js';

export const PID_WATCH_MS = 250;

export interface Vanished {
  /** The process probe that knew it: a service name or "keepalived". */
  owner: string;
  pid: number;
}

export class PidWatch {
  private timer?: NodeJS.Timeout;
  /** Reported already (pid:startTime): one report per death, until the probes forget the pid. */
  private reported = new Set<string>();

  constructor(
    private readonly known: () => KnownPids,
    private readonly onVanished: (gone: Vanished[]) => void,
    private readonly everyMs = PID_WATCH_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.everyMs);
    this.timer.unref(); // never what keeps the agent alive
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The known pids that are dead right now (no report, no state change): /healthz asks this. */
  gone(): Vanished[] {
    const out: Vanished[] = [];
    for (const [owner, set] of Object.entries(this.known())) {
      for (const k of set?.pids ?? []) if (!isAlive(k.pid, k.startTime)) out.push({ owner, pid: k.pid });
    }
    return out;
  }

  /** One round of checks (also called directly by tests and the bench). */
  tick(): Vanished[] {
    const gone: Vanished[] = [];
    const seen = new Set<string>();
    for (const [owner, set] of Object.entries(this.known())) {
      for (const k of set?.pids ?? []) {
        const key = `${k.pid}:${k.startTime}`;
        seen.add(key);
        if (this.reported.has(key) || isAlive(k.pid, k.startTime)) continue;
        this.reported.add(key);
        gone.push({ owner, pid: k.pid });
      }
    }
    for (const key of this.reported) if (!seen.has(key)) this.reported.delete(key);
    if (gone.length) this.onVanished(gone);
    return gone;
  }
}
