// UnitWatch: systemd tells the agent when a watched unit's main process dies, over one
// D-Bus connection, with no polling. systemd learns of the death from SIGCHLD and
// publishes the unit's new properties (PropertiesChanged of the Service interface:
// MainPID, ExecMain*, Result; then of the Unit interface: ActiveState, SubState); the
// watch turns that into one `death` per main process, saying whether systemd restarts
// the unit by itself (then the agent must leave it alone). The same connection runs
// start/stop/restart jobs and reads a unit on demand.
//
// Idle cost: one socket and no timer. Only the watched units' signals reach the
// process (one match rule per unit object), and only when they change.
import { connectSystemBus, type ConnectOptions, type Signal, type SystemBus } from './bus.js';
import { fail, ok, type Result, type SystemdError } from './errors.js';
import { Jobs, type JobOp, type JobOptions, type JobOutcome } from './jobs.js';
import { getAll, loadUnit, MANAGER_IFACE, PROPS_IFACE, propertiesRule, SERVICE_IFACE, subscribe, UNIT_IFACE, unwrap } from './manager.js';
import { isService, readUnit } from './read.js';
import { mayBePassingThrough, systemdRestarts, type RestartJudgement } from './restart.js';
import { applyProps, emptyState, followsAny, type UnitState } from './unit-state.js';

/** A watched unit's main process is gone. */
export interface UnitDeath {
  unit: string;
  /** The main pid that died. */
  pid: number;
  /** Date.now() when systemd's signal arrived. */
  at: number;
  /** The unit right after (MainPID 0 or its successor, how the process ended). */
  state: UnitState;
  /** Whether systemd brings it back by itself: then the agent only records it. */
  systemd: RestartJudgement;
  /** A start/stop/restart job of this watch on the unit was running: an expected end. */
  duringOwnJob: boolean;
}

/** Any change of a watched unit's state (also after a death: auto-restart, the new pid). */
export interface UnitChange {
  unit: string;
  at: number;
  state: UnitState;
  previous: UnitState;
  systemd: RestartJudgement;
}

interface Events {
  death: UnitDeath;
  change: UnitChange;
  /** The bus connection ended without close(): fall back to the pid watch, reopen later. */
  lost: SystemdError;
}

interface Watched {
  unit: string;
  path: string;
  rule: string;
  /** Newest known state, signals applied in arrival order. */
  state: UnitState;
  /** What the listeners were last told. */
  told: UnitState;
  loading: boolean;
  /** Arrival time of the first signal of a batch not yet settled. */
  batchAt?: number;
  /** A job of this watch on the unit was in flight when a signal of the batch came. */
  batchOwnJob: boolean;
  /** The batch's state may be one systemd only passes through: read again before telling. */
  rereading?: boolean;
  reread?: boolean;
}

export class UnitWatch {
  private readonly byUnit = new Map<string, Watched>();
  private readonly byPath = new Map<string, Watched>();
  private readonly listeners: { [K in keyof Events]: Set<(e: Events[K]) => void> } = { death: new Set(), change: new Set(), lost: new Set() };
  private readonly jobs: Jobs;
  /** Jobs of this watch in flight, per unit (their deaths are expected ones). */
  private readonly ownJobs = new Map<string, number>();
  /** watch() calls in progress, so that two for one unit share one set-up. */
  private readonly starting = new Map<string, Promise<Result<UnitState>>>();
  private closing = false;

  /** Connects to the system bus and subscribes to systemd's signals. */
  static async open(opts: ConnectOptions = {}): Promise<Result<UnitWatch>> {
    const c = await connectSystemBus(opts);
    if (!c.ok) return c;
    const w = new UnitWatch(c.value);
    const s = await subscribe(c.value);
    if (!s.ok) {
      await w.close();
      return s;
    }
    return ok(w);
  }

  private constructor(private readonly bus: SystemBus) {
    this.jobs = new Jobs(bus);
    bus.onSignal((s) => this.onSignal(s));
    bus.onClosed((e) => {
      if (!this.closing) this.emit('lost', e);
    });
  }

  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /** Starts following a unit; resolves with its current state. Idempotent. */
  watch(unit: string): Promise<Result<UnitState>> {
    const known = this.byUnit.get(unit);
    if (known && !known.loading) return Promise.resolve(ok(known.state));
    let p = this.starting.get(unit);
    if (!p) {
      p = this.startWatch(unit).finally(() => this.starting.delete(unit));
      this.starting.set(unit, p);
    }
    return p;
  }

  private async startWatch(unit: string): Promise<Result<UnitState>> {
    const op = 'watch';
    const p = await loadUnit(this.bus, unit, op);
    if (!p.ok) return p;
    const w: Watched = { unit, path: p.value, rule: propertiesRule(p.value), state: emptyState(unit), told: emptyState(unit), loading: true, batchOwnJob: false };
    this.byUnit.set(unit, w);
    this.byPath.set(w.path, w);
    // Match first, then read: a change between the two is then in a signal after the
    // read's reply, and signals and replies are applied in the order they arrive.
    const m = await this.bus.addMatch(w.rule, { op, unit });
    const loaded = m.ok ? await this.load(w, op) : m;
    if (loaded.ok && w.state.loadState !== 'loaded') {
      await this.unwatch(unit);
      return fail({ op, unit, expected: 'LoadState loaded', seen: `LoadState ${w.state.loadState}` });
    }
    if (!loaded.ok) {
      await this.unwatch(unit);
      return loaded;
    }
    w.told = w.state;
    w.loading = false;
    return ok(w.state);
  }

  async unwatch(unit: string): Promise<void> {
    const w = this.byUnit.get(unit);
    if (!w) return;
    this.byUnit.delete(unit);
    this.byPath.delete(w.path);
    if (!this.bus.closed) await this.bus.removeMatch(w.rule, { op: 'unwatch', unit });
  }

  /** This connection's unique name on the bus (":1.42"), for logs. */
  get busName(): string {
    return this.bus.name;
  }

  /** The connection is gone (closed, or lost: dbus-daemon died); jobs and reads then fail at once. */
  get closed(): boolean {
    return this.bus.closed;
  }

  /** The watched units. */
  units(): string[] {
    return [...this.byUnit.keys()];
  }

  /** The watched unit's state as the signals left it (no bus round trip). */
  state(unit: string): UnitState | undefined {
    const w = this.byUnit.get(unit);
    return w && !w.loading ? w.state : undefined;
  }

  /** The watched unit's main pid (0: none), or undefined when not watched. */
  mainPid(unit: string): number | undefined {
    return this.state(unit)?.mainPid;
  }

  /** Whether systemd is restarting the watched unit by itself, from its current state. */
  restartingBySystemd(unit: string): RestartJudgement | undefined {
    const s = this.state(unit);
    return s && systemdRestarts(s);
  }

  /** Reads any unit from systemd now (watched or not). */
  read(unit: string): Promise<Result<UnitState>> {
    return readUnit(this.bus, unit);
  }

  start(unit: string, opts?: JobOptions): Promise<JobOutcome> {
    return this.job('start', unit, opts);
  }

  stop(unit: string, opts?: JobOptions): Promise<JobOutcome> {
    return this.job('stop', unit, opts);
  }

  restart(unit: string, opts?: JobOptions): Promise<JobOutcome> {
    return this.job('restart', unit, opts);
  }

  /** Ends the connection; no handle or timer of the watch is left. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    this.byUnit.clear();
    this.byPath.clear();
    await this.bus.close();
  }

  /** A failed job says in what state it left the unit (e.g. failed (failed), exit 203). */
  private async job(op: JobOp, unit: string, opts?: JobOptions): Promise<JobOutcome> {
    this.ownJobs.set(unit, (this.ownJobs.get(unit) ?? 0) + 1);
    const r = await this.jobs.run(op, unit, opts).finally(() => {
      const n = (this.ownJobs.get(unit) ?? 1) - 1;
      if (n > 0) this.ownJobs.set(unit, n);
      else this.ownJobs.delete(unit);
    });
    if (r.ok || !r.error || this.bus.closed) return r;
    const now = await readUnit(this.bus, unit, op);
    if (now.ok) r.error.seen += `; unit ${now.value.activeState} (${now.value.subState}), result ${now.value.result || '-'}`;
    return r;
  }

  /** GetAll of the unit's interfaces, each applied to the newest state when its reply comes. */
  private async load(w: Watched, op: string): Promise<Result<void>> {
    for (const iface of isService(w.unit) ? [UNIT_IFACE, SERVICE_IFACE] : [UNIT_IFACE]) {
      const r = await getAll(this.bus, w.path, iface, { op, unit: w.unit });
      if (!r.ok) return r;
      w.state = applyProps(w.state, r.value);
    }
    return ok(undefined);
  }

  private onSignal(s: Signal): void {
    if (s.interface === MANAGER_IFACE && s.member === 'Reloading' && s.body[0] === false) {
      void this.reloaded(s.at);
      return;
    }
    if (s.interface !== PROPS_IFACE || s.member !== 'PropertiesChanged') return;
    const w = this.byPath.get(s.path);
    if (!w) return;
    const [iface, changed] = s.body as [string, unknown, string[]];
    if (iface !== UNIT_IFACE && iface !== SERVICE_IFACE) return;
    const props = unwrap(changed);
    if (!followsAny(props)) return;
    w.state = applyProps(w.state, props);
    this.batch(w, s.at);
  }

  /**
   * The two interfaces' signals of one change come back to back; settling after the
   * current I/O callbacks (setImmediate, not a timer) reports them as one.
   */
  private batch(w: Watched, at: number): void {
    if (w.loading) return;
    // Noted now: JobRemoved may end the job before the batch settles.
    if (this.ownJobs.has(w.unit)) w.batchOwnJob = true;
    if (w.batchAt !== undefined) return;
    w.batchAt = at;
    setImmediate(() => this.settle(w));
  }

  private settle(w: Watched): void {
    if (w.rereading) return; // the read's reply settles the batch
    if (this.byUnit.get(w.unit) !== w) return; // unwatched meanwhile
    // failed -> auto-restart can come as two signals (systemd < 254). systemd answers a
    // read after its state machine has settled, so the reply says which it was; signals
    // meanwhile join this batch (batchAt stays set).
    if (!w.reread && mayBePassingThrough(w.state) && !sameState(w.told, w.state)) {
      w.rereading = true;
      void this.load(w, 'settle').finally(() => {
        w.rereading = false;
        w.reread = true;
        this.settle(w);
      });
      return;
    }
    w.reread = false;
    const at = w.batchAt ?? Date.now();
    const duringOwnJob = w.batchOwnJob;
    w.batchAt = undefined;
    w.batchOwnJob = false;
    const previous = w.told;
    const state = w.state;
    if (sameState(previous, state)) return;
    w.told = state;
    const systemd = systemdRestarts(state);
    // A new main pid with no exit in between is a swap (a reload, nginx's binary
    // upgrade), not a death.
    const died = previous.mainPid !== 0 && state.mainPid !== previous.mainPid && (state.mainPid === 0 || state.execMainExitUsec !== previous.execMainExitUsec);
    if (died) this.emit('death', { unit: w.unit, pid: previous.mainPid, at, state, systemd, duringOwnJob });
    this.emit('change', { unit: w.unit, at, state, previous, systemd });
  }

  /** After a daemon-reload (Restart= may have changed) every watched unit is read again. */
  private async reloaded(at: number): Promise<void> {
    for (const w of [...this.byUnit.values()]) {
      if (w.loading) continue;
      const r = await this.load(w, 'reload');
      if (r.ok) this.batch(w, at);
    }
  }

  private emit<K extends keyof Events>(event: K, e: Events[K]): void {
    for (const fn of this.listeners[event]) {
      try {
        fn(e);
      } catch (err) {
        // A listener's bug must not stop the others or the watch; it is said, not lost.
        process.emitWarning(`UnitWatch ${event} listener threw: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }
}

function sameState(a: UnitState, b: UnitState): boolean {
  return (Object.keys(a) as Array<keyof UnitState>).every((k) => a[k] === b[k]);
}
