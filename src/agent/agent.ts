// One poll: probes observe, decide() chooses, actions act (in the background: a slow
// restart never blocks the next poll), the memory is saved when it changed.
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { diagnosePlan, execute } from '../actions/execute.js';
import type { UnitJobs } from '../actions/unit-job.js';
import { Probes, type KnownPids } from '../probes/index.js';
import type { ListedProcess } from '../probes/process.js';
import { decide, recordJob, recordSpawn, wantsPeer } from '../policy/decide.js';
import { pause as pauseMemory, resume as resumeMemory, switchover as switchoverMemory } from '../policy/maintenance.js';
import { retryNow } from '../policy/retry.js';
import { stepService } from '../policy/service.js';
import { readStat } from '../os/proc.js';
import type { Action, ActionOutcome, Maintenance, Memory, Observations, PolicyEvent } from '../policy/types.js';
import { RecentActions } from './recent-actions.js';
import { retryIn } from './retry-delay.js';
import { loadPids, savePids } from './pids-file.js';
import { saveState } from './state-save.js';
import { keepalivedPhrase, serviceState, unhealthyCritical } from '../policy/predicates.js';
import { actionEvent } from '../catalogue/events.js';

export interface AgentOptions {
  log: Logger;
  /** Decide and log "would ...", run nothing. */
  dryRun: boolean;
  /** Observe and decide only (a `check` that did not get the lock). */
  readOnly?: boolean;
  /** Save the memory to stateDir after each poll. */
  persist: boolean;
  /** state.json as it is on disk (restoreState's `saved`): a memory equal to it is not written again. */
  saved?: string;
  list?: () => Promise<ListedProcess[]>;
  /** Every event worth telling someone (policy events, actions started, pause/resume): notifications. */
  onEvent?: (e: PolicyEvent) => void;
  /** An action finished: the daemon polls at once instead of waiting for the next tick. */
  onOutcome?: () => void;
  /** How long a poll waits for its probes' answers before deciding on those it has (default: all). */
  waitMs?: number;
  /** A probe answered after its poll had decided: the daemon polls at once to take it. */
  onLate?: () => void;
  /** What systemd says it does about a service's unit (the daemon's D-Bus watch), for the policy. */
  systemd?: (service: string) => { restarting: boolean; running: boolean; reason: string } | undefined;
  /** systemd jobs over the daemon's D-Bus connection, for actions on units (`restart.unit`); none: they fork systemctl. */
  jobs?: () => UnitJobs | undefined;
}

export interface PollResult {
  observations: Observations;
  actions: Action[];
  events: PolicyEvent[];
  durationMs: number;
  /** Full process-table scans this poll needed (0 when every known pid was confirmed). */
  scans: number;
  /**
   * A service failed a probe but is not down yet (fewer than `fall` failures in a row):
   * probe again this soon rather than at the next tick.
   */
  retryInMs?: number;
}

export class Agent {
  private probes: Probes;
  private outcomes: ActionOutcome[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private lastSaved = '';
  private lastSavedPids = '';
  private keepalivedPids: number[] = [];
  last?: PollResult;
  /** When the last poll finished (epoch ms). */
  lastPollAt?: number;
  /** The newest answer of every probe (a poll decides on the fresh ones only), for `status`. */
  seen?: Omit<Observations, 'outcomes'>;
  /** The last few actions and how they ended, for `status`. */
  readonly recent: RecentActions;

  constructor(
    private config: Config,
    public memory: Memory,
    private readonly opts: AgentOptions,
  ) {
    this.probes = new Probes(config, opts.list);
    this.probes.onLate = opts.onLate;
    this.recent = RecentActions.fromMemory(memory);
    if (opts.persist && !opts.dryRun) {
      const known = loadPids(config.stateDir);
      this.probes.seedPids(known);
      // What is on disk already: a healthy `check` from cron writes (and fsyncs) nothing.
      this.lastSavedPids = JSON.stringify(known);
      this.lastSaved = opts.saved ?? '';
    }
  }

  get busy(): boolean {
    return this.inFlight.size > 0 || this.outcomes.length > 0;
  }

  /** One poll; `probe: false` decides on the answers that came late without starting probes (poll-loop.ts). */
  async poll(how: { probe: boolean } = { probe: true }): Promise<PollResult> {
    const started = performance.now();
    // Outcomes first, then the probes: an action that finishes while we probe is paired
    // with a process table taken after it, never before.
    const outcomes = this.outcomes.splice(0);
    const observed: Omit<Observations, 'outcomes'> = await this.probes.observe(this.opts.waitMs, how.probe);
    this.keepalivedPids = observed.keepalived.pids;
    for (const [name, o] of Object.entries(observed.services)) {
      const view = this.opts.systemd?.(name);
      if (view) o.systemd = view;
    }
    // The peer guard is asked only when this poll's decision may hinge on it.
    const peer = wantsPeer(observed, this.memory, this.config);
    if (peer === 'fresh') observed.peer = await this.probes.askPeer();
    else if (peer === 'latest') observed.peer = this.probes.peerInBackground();
    const observations: Observations = { ...observed, outcomes };
    const d = decide(observations, this.memory, this.config, Date.now());
    this.memory = d.memory;
    for (const e of d.events) this.emit(e);
    if (!this.opts.readOnly) for (const a of d.actions) this.start(a);
    this.persist();
    this.seen = {
      services: { ...this.seen?.services, ...observed.services },
      keepalived: observed.keepalived,
      ...((observed.vip ?? this.seen?.vip) && { vip: observed.vip ?? this.seen?.vip }),
    };
    const retryInMs = this.retryIn(observed.services);
    this.last = { observations, actions: d.actions, events: d.events, durationMs: Math.round(performance.now() - started), scans: this.probes.lastScans, ...(retryInMs !== undefined && { retryInMs }) };
    this.lastPollAt = Date.now();
    return this.last;
  }

  /** The soonest re-probe a failing, not yet down, service asks for (retry-delay.ts). */
  private retryIn(fresh: Observations['services']): number | undefined {
    return retryIn(fresh, this.config.services, this.memory.services, (name) => this.probes.probing(name));
  }

  /** The pids the process probes confirm each poll (for the 250 ms pid watch). */
  knownPids(): KnownPids {
    return this.probes.knownPids();
  }

  private emit(e: PolicyEvent): void {
    logEvent(this.opts.log, e);
    this.opts.onEvent?.(e);
  }

  private start(action: Action): void {
    const rec = this.recent.started(action, Date.now(), this.opts.dryRun);
    // execute() logs the start itself; notifications hear of it here.
    const diagnose = diagnosePlan(action, this.config).map((d) => d.file);
    this.opts.onEvent?.({ level: 'info', event: actionEvent(action.kind), service: action.kind === 'restart' ? action.target : undefined, reason: action.reason, ...(diagnose.length && { diagnose }) });
    const ctx = {
      config: this.config,
      log: this.opts.log,
      dryRun: this.opts.dryRun,
      keepalivedPids: this.keepalivedPids,
      onSpawn: (a: Action, pid: number) => {
        this.memory = recordSpawn(this.memory, a.target, pid, readStat(pid)?.startTime);
        this.persist();
      },
      jobs: this.opts.jobs?.(),
      onQueued: (a: Action, job: string) => {
        this.memory = recordJob(this.memory, a.target, job);
        this.persist();
      },
    };
    const p: Promise<void> = execute(action, ctx)
      .then((o) => {
        this.recent.finished(rec, o);
        this.outcomes.push(o);
        this.opts.onOutcome?.();
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits for the actions in flight, at most timeoutMs; true when none is left. */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    return this.inFlight.size === 0;
  }

  /**
   * At shutdown, after settle(): the outcomes of restarts that ended while stopping go
   * into the memory through the policy's own step (no observation, as if paused: nothing
   * is started), so the state saved at exit does not say "restarting" for a restart
   * whose command has finished. keepalived's phase is resolved by the next start.
   */
  absorbOutcomes(now = Date.now()): void {
    const outcomes = this.outcomes.splice(0);
    if (outcomes.length === 0) return;
    const next: Memory = structuredClone(this.memory);
    for (const [name, cfg] of Object.entries(this.config.services)) {
      const mem = next.services[name];
      if (mem) for (const e of stepService(name, cfg, mem, undefined, outcomes, now, true).events) this.emit(e);
    }
    this.memory = next;
  }

  /** A new config applies from the next poll; the memory carries over by service name. */
  async reload(config: Config): Promise<void> {
    const old = this.probes;
    this.probes = new Probes(config, this.opts.list);
    this.probes.onLate = this.opts.onLate;
    this.probes.seedPids(old.knownPids());
    this.config = config;
    await old.close();
  }

  /** Saves the memory (and the known pids) if they changed; false if it could not. */
  persist(): boolean {
    if (!this.opts.persist || this.opts.readOnly || this.opts.dryRun) return false;
    const text = JSON.stringify(this.memory);
    const pids = JSON.stringify(this.probes.knownPids());
    if (text === this.lastSaved && pids === this.lastSavedPids) return true;
    try {
      if (text !== this.lastSaved) saveState(this.config.stateDir, this.memory);
      this.lastSaved = text;
      if (pids !== this.lastSavedPids) savePids(this.config.stateDir, JSON.parse(pids));
      this.lastSavedPids = pids;
      return true;
    } catch (e) {
      this.opts.log.error({ event: 'state.write_failed', reason: (e as Error).message }, `cannot save state: ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * Maintenance on (`ha-watchdog pause`): the polls go on probing and reporting, decide()
   * takes no action. Saved at once, so the pause survives an agent restart. A pause
   * while paused replaces it (new `until`, reason).
   */
  pause(opts: { forMs?: number; reason?: string; by?: string }, now = Date.now()): { maintenance: Maintenance; persisted: boolean } {
    this.memory = pauseMemory(this.memory, now, opts);
    const maintenance = this.memory.maintenance!;
    const persisted = this.persist();
    const until = maintenance.until !== undefined ? new Date(maintenance.until).toISOString() : undefined;
    this.emit({
      level: 'warn',
      event: 'maintenance.paused',
      reason: `${until ? `until ${until}` : 'until `ha-watchdog resume`'}${opts.reason ? `: ${opts.reason}` : ''}; probing and reporting only, no action is taken`,
      until,
      forMs: opts.forMs,
      pauseReason: opts.reason,
      by: opts.by,
      persisted: persisted ? undefined : false,
    });
    return { maintenance, persisted };
  }

  /** Maintenance off (`ha-watchdog resume`); acting again from the next poll. */
  resume(opts: { by?: string } = {}, now = Date.now()): { wasPaused: boolean; wasFlapping: boolean; persisted: boolean } {
    const was = this.memory.maintenance;
    const flapping = this.memory.keepalived.release.flapping === true;
    if (!was && !flapping) return { wasPaused: false, wasFlapping: false, persisted: true };
    this.memory = resumeMemory(this.memory);
    const persisted = this.persist();
    if (was) {
      this.emit({
        level: 'info',
        event: 'maintenance.resumed',
        reason: `paused for ${Math.round((now - was.since) / 1000)} s${was.reason ? ` (${was.reason})` : ''}; acting again from the next poll`,
        pausedMs: now - was.since,
        by: opts.by,
      });
    }
    if (flapping) this.emit({ level: 'info', event: 'failover.flapping_cleared', reason: 'the flap limit is lifted: this host may release the VIP again', by: opts.by });
    return { wasPaused: was !== undefined, wasFlapping: flapping, persisted };
  }

  /**
   * `ha-watchdog switchover`: planned work. Only when the peer's agent says it is
   * healthy; then maintenance that also holds the VIP on the peer (released at the next
   * poll, kept released) until `takeback`.
   */
  async switchover(opts: { reason?: string; by?: string } = {}, now = Date.now()): Promise<{ ok: true; persisted: boolean } | { ok: false; error: string }> {
    if (!this.config.peer) return { ok: false, error: 'switchover needs peer.url: the VIP is handed only to a peer whose agent says it is healthy' };
    if (!this.config.keepalived.vip) return { ok: false, error: 'switchover needs keepalived.vip, to tell when the peer serves the VIP' };
    if (this.memory.maintenance?.switchover) return { ok: false, error: `switched over already since ${new Date(this.memory.maintenance.since).toISOString()}; \`ha-watchdog takeback\` ends it` };
    const peer = await this.probes.askPeer();
    if (!peer?.reachable || !peer.healthy) return { ok: false, error: `the peer is not fit to take the VIP: ${peer?.reason ?? 'not asked'}` };
    this.memory = switchoverMemory(this.memory, now, opts);
    const persisted = this.persist();
    this.emit({ level: 'warn', event: 'switchover.start', reason: `handing the VIP to the peer (${peer.reason ?? 'healthy'}) and holding it there until \`ha-watchdog takeback\`${opts.reason ? `: ${opts.reason}` : ''}; no action on this host meanwhile`, by: opts.by });
    return { ok: true, persisted };
  }

  /** `ha-watchdog takeback`: ends a switchover once every critical service here is up; the VIP comes back at the next poll. */
  takeback(opts: { by?: string } = {}, now = Date.now()): { ok: true; persisted: boolean } | { ok: false; error: string } {
    const m = this.memory.maintenance;
    if (!m?.switchover) return { ok: false, error: 'no switchover in progress (for a pause, use resume)' };
    const notUp = unhealthyCritical(criticalOf(this.config), this.memory.services).map((n) => `${n} ${this.memory.services[n]?.health ?? 'unknown'}`);
    if (notUp.length) return { ok: false, error: `this host is not healthy: ${notUp.join(', ')}; the VIP stays on the peer` };
    this.memory = resumeMemory(this.memory);
    const persisted = this.persist();
    this.emit({ level: 'info', event: 'switchover.takeback', reason: `taking the VIP back after ${Math.round((now - m.since) / 1000)} s on the peer${m.reason ? ` (${m.reason})` : ''}`, by: opts.by });
    return { ok: true, persisted };
  }

  /**
   * `ha-watchdog retry SERVICE`: a restart attempt at the next poll, backoff and budget
   * waived once (the daemon polls at once). Refused with the reason when there is
   * nothing to retry.
   */
  retry(service: string, opts: { by?: string } = {}, now = Date.now()): { ok: true; what: string; persisted: boolean } | { ok: false; error: string } {
    const cfg = this.config.services[service];
    if (!cfg) return { ok: false, error: `no service "${service}" in the config; configured: ${Object.keys(this.config.services).join(', ')}` };
    const r = retryNow(this.memory, service, cfg.restart !== undefined, now);
    if (!r.ok) return r;
    this.memory = r.memory;
    const persisted = this.persist();
    this.emit({ level: 'info', event: 'retry.asked', service, reason: r.what, by: opts.by });
    return { ok: true, what: r.what, persisted };
  }

  /** One line for systemd's STATUS=: "tomcat up, nginx down (restarting), keepalived running". */
  summary(): string {
    const NOTE = { failed: ' (failed)', restarting: ' (restarting)', waiting: ' (waiting after restart)' } as Record<string, string>;
    const parts = Object.entries(this.memory.services).map(([name, m]) => `${name} ${m.health}${NOTE[serviceState(m)] ?? ''}`);
    parts.push(keepalivedPhrase(this.last?.observations.keepalived.running, this.memory.keepalived));
    return parts.join(', ');
  }

  async close(): Promise<void> {
    await this.probes.close();
  }
}

export function logEvent(log: Logger, e: PolicyEvent): void {
  const { level, ...fields } = e;
  const msg = [e.event, e.service, e.reason].filter(Boolean).join(': ');
  log[level](fields, msg);
}

/** Each service's `critical`, by name (config order). */
export const criticalOf = (c: Config): Record<string, boolean> => Object.fromEntries(Object.entries(c.services).map(([n, s]) => [n, s.critical]));
