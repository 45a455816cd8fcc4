// When the agent polls. A tick (the scheduler's, every interval) or a kick (out of
// schedule: a known pid vanished, an action finished, a late probe answer) starts a
// poll; polls never overlap, and ticks or kicks that arrive during one coalesce into a
// single poll right after it (never skipped). A poll started only by late answers
// decides on them without probing anew (`probe: false`): what answered late was just
// asked, and fresh probes would make the decision wait for them. A poll that leaves a
// failing service not yet down asks to be re-run after its retry delay (fall counts
// probes, not ticks): one timer, owned here. The loop never dies: a poll that throws is
// reported and the next one runs. Time comes in through `Clock`, so a test drives it by
// hand.

/** What one poll says back to the loop. */
export interface PollOutcome {
  /** Probe again after this long (a failing service not yet down). */
  retryInMs?: number;
}

export interface Clock {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** How a poll is run: `probe: false` decides on the answers that came late, starting no probe. */
export interface PollHow {
  probe: boolean;
}

export interface PollLoopOptions {
  poll: (how: PollHow) => Promise<PollOutcome>;
  /** After each poll, thrown or not (the daemon feeds systemd's watchdog here). */
  onPolled?: () => void;
  /** A poll threw: the last net, the loop goes on. */
  onError?: (e: unknown) => void;
  /** A tick found the previous poll still running after a whole interval. */
  onOverrun?: (runningMs: number) => void;
  interval: number;
  clock?: Clock;
}

/** /healthz says "alive" while a poll ended within this: three intervals plus the longest a poll may take (its probe timeouts). */
export const healthzAliveMs = (interval: number): number => 3 * interval + 10_000;
/** systemd's watchdog is fed while a poll ended within this: a stuck loop gets the agent restarted, a slow disk does not. */
export const watchdogAliveMs = (interval: number): number => 2 * interval + 60_000;

export class PollLoop {
  /** End of the last poll (or the loop's creation), for the liveness checks above. */
  lastEnd: number;
  private current: Promise<void> | null = null;
  private startedAt = 0;
  private again = false;
  /** Some kick waiting for the next poll wants probes (not only late answers taken). */
  private againProbe = false;
  private stopped = false;
  private retryTimer: unknown;
  private readonly clock: Clock;

  constructor(private readonly opts: PollLoopOptions) {
    this.clock = opts.clock ?? systemClock;
    this.lastEnd = this.clock.now();
  }

  set interval(ms: number) {
    this.opts.interval = ms;
  }

  /** The scheduler's tick. */
  tick(): void {
    if (this.stopped) return;
    if (this.current && this.clock.now() - this.startedAt >= this.opts.interval) this.opts.onOverrun?.(this.clock.now() - this.startedAt);
    this.kick();
  }

  /**
   * Poll now, or right after the poll in progress (several kicks meanwhile: one poll).
   * `probe: false`: only to decide on answers that came late (the poll starts no probe,
   * unless another kick before it wants one).
   */
  kick(how: PollHow = { probe: true }): void {
    if (this.stopped) return;
    if (this.current) {
      this.again = true;
      this.againProbe ||= how.probe;
    } else this.current = this.run(how);
  }

  /** Whether a poll is running. */
  get polling(): boolean {
    return this.current !== null;
  }

  /** No new poll from now on; resolves once the one in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
    await this.current;
  }

  private async run(how: PollHow): Promise<void> {
    this.startedAt = this.clock.now();
    try {
      const r = await this.opts.poll(how);
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (r.retryInMs !== undefined && !this.stopped) this.retryTimer = this.clock.setTimeout(() => this.kick(), r.retryInMs);
    } catch (e) {
      this.opts.onError?.(e);
    }
    this.lastEnd = this.clock.now();
    this.opts.onPolled?.();
    this.current = null;
    if (this.again && !this.stopped) {
      const probe = this.againProbe;
      this.again = false;
      this.againProbe = false;
      this.current = this.run({ probe });
    }
  }
}
