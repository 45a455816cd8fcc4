// One poll: probes observe, decide() chooses, actions act (in the background: a slow
// restart never blocks the next poll), the memory is saved when it changed.
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { execute } from '../actions/execute.js';
import { Probes } from '../probes/index.js';
import type { ListedProcess } from '../probes/process.js';
import { decide, recordSpawn } from '../policy/decide.js';
import { readStat } from '../probes/proc.js';
import type { Action, ActionOutcome, Memory, Observations, PolicyEvent } from '../policy/types.js';
import { loadPids, savePids, saveState } from './state.js';

export interface AgentOptions {
  log: Logger;
  /** Decide and log "would ...", run nothing. */
  dryRun: boolean;
  /** Observe and decide only (a `check` that did not get the lock). */
  readOnly?: boolean;
  /** Save the memory to stateDir after each poll. */
  persist: boolean;
  list?: () => Promise<ListedProcess[]>;
}

export interface PollResult {
  observations: Observations;
  actions: Action[];
  events: PolicyEvent[];
  durationMs: number;
  /** Full process-table scans this poll needed (0 when every known pid was confirmed). */
  scans: number;
}

export class Agent {
  private probes: Probes;
  private outcomes: ActionOutcome[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private lastSaved = '';
  private lastSavedPids = '';
  private keepalivedPids: number[] = [];
  last?: PollResult;

  constructor(
    private config: Config,
    public memory: Memory,
    private readonly opts: AgentOptions,
  ) {
    this.probes = new Probes(config, opts.list);
    if (opts.persist && !opts.dryRun) this.probes.seedPids(loadPids(config.stateDir));
  }

  get busy(): boolean {
    return this.inFlight.size > 0 || this.outcomes.length > 0;
  }

  async poll(): Promise<PollResult> {
    const started = performance.now();
    // Outcomes first, then the probes: an action that finishes while we probe is paired
    // with a process table taken after it, never before.
    const outcomes = this.outcomes.splice(0);
    const observed = await this.probes.observe();
    this.keepalivedPids = observed.keepalived.pids;
    const observations: Observations = { ...observed, outcomes };
    const d = decide(observations, this.memory, this.config, Date.now());
    this.memory = d.memory;
    for (const e of d.events) logEvent(this.opts.log, e);
    if (!this.opts.readOnly) for (const a of d.actions) this.start(a);
    this.persist();
    this.last = { observations, actions: d.actions, events: d.events, durationMs: Math.round(performance.now() - started), scans: this.probes.lastScans };
    return this.last;
  }

  private start(action: Action): void {
    const ctx = {
      config: this.config,
      log: this.opts.log,
      dryRun: this.opts.dryRun,
      keepalivedPids: this.keepalivedPids,
      onSpawn: (a: Action, pid: number) => {
        this.memory = recordSpawn(this.memory, a.target, pid, readStat(pid)?.startTime);
        this.persist();
      },
    };
    const p: Promise<void> = execute(action, ctx)
      .then((o) => {
        this.outcomes.push(o);
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

  /** A new config applies from the next poll; the memory carries over by service name. */
  async reload(config: Config): Promise<void> {
    const old = this.probes;
    this.probes = new Probes(config, this.opts.list);
    this.probes.seedPids(old.knownPids());
    this.config = config;
    await old.close();
  }

  persist(): void {
    if (!this.opts.persist || this.opts.readOnly || this.opts.dryRun) return;
    const text = JSON.stringify(this.memory);
    const pids = JSON.stringify(this.probes.knownPids());
    if (text === this.lastSaved && pids === this.lastSavedPids) return;
    try {
      if (text !== this.lastSaved) saveState(this.config.stateDir, this.memory);
      this.lastSaved = text;
      if (pids !== this.lastSavedPids) savePids(this.config.stateDir, JSON.parse(pids));
      this.lastSavedPids = pids;
    } catch (e) {
      this.opts.log.error({ event: 'state.write_failed', reason: (e as Error).message }, `cannot save state: ${(e as Error).message}`);
    }
  }

  /** One line for systemd's STATUS=: "tomcat up, nginx down (restarting), keepalived running". */
  summary(): string {
    const parts = Object.entries(this.memory.services).map(([name, m]) => {
      const note = m.failed ? ' (failed)' : m.phase === 'restarting' ? ' (restarting)' : m.phase === 'grace' ? ' (waiting after restart)' : '';
      return `${name} ${m.health}${note}`;
    });
    const k = this.last?.observations.keepalived.running;
    parts.push(k === undefined ? 'keepalived unknown' : k ? 'keepalived running' : this.memory.keepalived.failedOver ? 'keepalived stopped (failover)' : 'keepalived not running');
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
