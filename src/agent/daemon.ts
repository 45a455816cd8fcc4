// `ha-watchdog run`: the long-running agent, as start / reload / stop over a PollLoop.
// node-cron ticks the polls (a first poll at once); SIGHUP reloads; SIGTERM/SIGINT
// finish what is in flight, save the memory and exit 0.
import { KILL_AFTER_MS } from '../actions/command.js';
import { formatDuration } from '../config/duration.js';
import { formatProblem } from '../config/errors.js';
import { cronExpression } from '../config/interval.js';
import { loadConfigApart } from '../config/load-apart.js';
import type { Config } from '../config/load.js';
import { serveControl } from '../control/serve.js';
import type { ControlServer } from '../control/server.js';
import { localSide } from '../doctor/side.js';
import type { Logger } from '../log.js';
import { vipHeld } from '../probes/vip-held.js';
import { hostHealth } from '../serve/healthz.js';
import { Outlets } from '../serve/outlets.js';
import { watchUnits, type UnitNotices } from '../systemd/notices.js';
import { createNotifier, type Notifier } from '../systemd/notify.js';
import type { KnownPids } from '../probes/index.js';
import { removeOldPidfiles, waitForExit } from '../os/exit-wait.js';
import type { SelfCommand } from '../os/self.js';
import { Agent, criticalOf, logEvent } from './agent.js';
import { cheapenTask } from './cron-time.js';
import { acquireLock, type LockResult } from './lock.js';
import { PID_WATCH_MS, PidWatch } from './pid-watch.js';
import { healthzAliveMs, PollLoop, watchdogAliveMs, type PollHow } from './poll-loop.js';
import { restoreStateApart, type Restored } from './state-apart.js';

type Lock = Extract<LockResult, { ok: true }>;

/**
 * A poll waits this long for its probes' answers, then decides on those it has; a
 * slower answer (a hung service's HTTP check) is taken by a poll of its own when it
 * comes, so it never holds up the other services or the ticks. Healthy probes answer
 * in a few milliseconds.
 */
export const POLL_WAIT_MS = 250;

export interface DaemonOptions {
  configPath: string;
  dryRun: boolean;
  log: Logger;
  version: string;
  /** How to run this program again: its helpers read the config and the state (src/os/self.ts). */
  self: SelfCommand;
}

/** Resolves with the exit code once the agent has stopped. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const daemon = await Daemon.start(opts);
  if (typeof daemon === 'number') return daemon;
  return new Promise<number>((resolve) => {
    const onHup = () => void daemon.reload();
    const onStop = (signal: string) =>
      void daemon.stop(signal).then((stopped) => {
        if (!stopped) return; // a second signal while stopping
        process.off('SIGHUP', onHup);
        resolve(0);
      });
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => onStop('SIGTERM'));
    process.once('SIGINT', () => onStop('SIGINT'));
  });
}

type Cron = typeof import('node-cron').default;
type CronTask = ReturnType<Cron['schedule']>;

/**
 * The config (read by a helper process: src/config/load-apart.ts), or the exit-worthy
 * problem logged as `config.invalid`; its warnings logged either way.
 */
async function loadAndSay(opts: DaemonOptions, refused: string): Promise<Config | undefined> {
  const r = await loadConfigApart(opts.self, opts.configPath);
  if (!r.ok) {
    opts.log.error({ event: 'config.invalid', file: opts.configPath, errors: r.problems }, `${refused}:\n${r.message}`);
    return undefined;
  }
  const { config } = r;
  for (const w of config.warnings ?? []) opts.log.warn({ event: 'config.warning', file: config.file, key: w.key, reason: w.message }, formatProblem(w));
  return config;
}

class Daemon {
  private stopping = false;
  private task?: CronTask;
  private stopKeepAlive = () => {};
  private readonly loop: PollLoop;
  private readonly agent: Agent;
  private readonly pidWatch: PidWatch;
  private readonly outlets: Outlets;
  private readonly notify: Notifier;
  private control: ControlServer | null = null;
  /** systemd's death notices for services that are units (`process.unit`), over D-Bus. */
  private units?: UnitNotices;

  private constructor(
    private config: Config,
    private readonly opts: DaemonOptions,
    private readonly lock: Lock | null,
    private readonly cron: Cron,
    restored: Restored,
  ) {
    const { log } = opts;
    for (const e of restored.events) logEvent(log, e);
    const kick = () => this.loop.kick();
    this.outlets = new Outlets({
      log,
      alive: () => Date.now() - this.loop.lastEnd < healthzAliveMs(this.config.interval),
      health: () => this.health(),
      // `doctor` on the peer: this host's keepalived.conf, summarized (read on each ask).
      pair: (nonce) => localSide(this.config, nonce),
    });
    this.agent = new Agent(config, restored.memory, {
      log,
      dryRun: opts.dryRun,
      persist: true,
      saved: restored.saved,
      onEvent: (e) => this.outlets.send(e),
      onOutcome: kick,
      waitMs: POLL_WAIT_MS,
      // A late answer is decided on at once, without probing anew (poll-loop.ts).
      onLate: () => this.loop.kick({ probe: false }),
      systemd: (service) => this.units?.view(service),
      // Actions on units (restart.unit, ...) as systemd jobs over the watch's connection.
      jobs: () => this.units?.jobs,
    });
    this.pidWatch = new PidWatch(
      // The pids of units systemd reports on are not polled.
      () => withoutServices(this.agent.knownPids(), this.units?.services),
      (gone) => {
        log.debug({ event: 'pid.vanished', gone }, `gone: ${gone.map((g) => `${g.owner} pid ${g.pid}`).join(', ')}; polling now`);
        kick();
      },
      {
        // The kernel's notice through pidwait (its pidfile in the state directory, which
        // only the agent in charge holds: a dry run watches by timer).
        waitForExit: lock ? (pid, hooks) => waitForExit(pid, hooks, { dir: config.stateDir }) : undefined,
        onFallback: (service, pid, reason) => log.info({ event: 'pid.watch_timer', service, pid, reason }, `${service} pid ${pid}: no exit helper (${reason}); watched every ${PID_WATCH_MS} ms instead`),
      },
    );
    this.notify = createNotifier(process.env, { onError: (e) => log.warn({ event: 'notify.failed', reason: e.message }, `sd_notify: ${e.message}`) });
    this.loop = new PollLoop({
      interval: config.interval,
      poll: (how) => this.poll(how),
      onPolled: () => this.polled(),
      // The loop never dies on a probe or action failure; this is the last net.
      onError: (e) => log.error({ event: 'poll.error', reason: (e as Error).stack ?? String(e) }, `poll failed: ${(e as Error).message}`),
      // Never skipped: the tick runs right after the poll in progress (a poll waits at most
      // POLL_WAIT_MS for probes, so only a stuck peer or a slow disk makes it long).
      onOverrun: () => log.warn({ event: 'poll.slow', interval: this.config.interval }, 'previous poll still running; this tick runs after it'),
    });
  }

  /** The daemon running, or the exit code when it cannot start. */
  static async start(opts: DaemonOptions): Promise<Daemon | number> {
    const { log } = opts;
    const config = await loadAndSay(opts, 'invalid config, not starting');
    if (!config) return 1;
    // A dry run acts on nothing, so it neither takes the lock nor writes the state.
    const lock = opts.dryRun ? null : acquireLock(config.stateDir, 'ha-watchdog run');
    if (lock && !lock.ok) {
      if (lock.unsafe) log.error({ event: 'statedir.refused', reason: lock.reason }, `not starting: ${lock.reason}`);
      else log.error({ event: 'lock.held', reason: lock.reason, owner: lock.owner }, `another agent is in charge: lock ${lock.reason}`);
      return 1;
    }
    if (lock?.ok && lock.tookOverFrom) log.warn({ event: 'lock.stale', owner: lock.tookOverFrom }, `took over a stale lock from pid ${lock.tookOverFrom.pid}`);
    const { default: cron } = await import('node-cron');
    // After the lock: no other agent writes the state meanwhile.
    const restored = await restoreStateApart(opts.self, config);
    // The pid watch's pidfiles of an agent that was killed (its helpers died with it).
    if (lock?.ok) removeOldPidfiles(config.stateDir);
    const d = new Daemon(config, opts, lock?.ok ? lock : null, cron, restored);
    await d.outlets.apply(config);
    // After the lock: only the agent in charge answers `status` and takes `pause`. A dry
    // run takes no lock, so it serves no socket (it must not hold the real agent's).
    if (!opts.dryRun) d.control = await serveControl({ agent: d.agent, config: () => d.config, log, version: opts.version, startedAt: Date.now(), dryRun: opts.dryRun, pollNow: () => d.loop.kick(), deathNotice: (owner) => (d.units?.services.has(owner) ? 'systemd' : d.pidWatch.how(owner)) });
    log.info(
      { event: 'agent.start', version: opts.version, config: config.file, interval: formatDuration(config.interval), dryRun: opts.dryRun || undefined, services: Object.keys(config.services), control: d.control?.path },
      `ha-watchdog ${opts.version} started${opts.dryRun ? ' (dry run)' : ''}`,
    );
    // systemd's watchdog is fed by a timer while polls keep completing: a blocked event
    // loop (no timer) or a poll loop that stopped (no recent poll) gets the agent restarted.
    d.stopKeepAlive = d.notify.keepAlive(() => Date.now() - d.loop.lastEnd < watchdogAliveMs(d.config.interval));
    d.units = await d.openUnits(config);
    d.schedule();
    // Its ticks share the scheduler's wake-ups: the one due with a poll runs in the cron tick.
    d.pidWatch.start({ nextPollAt: () => d.task?.getNextRun()?.getTime() });
    d.loop.tick(); // the first poll at once, not at the first cron tick
    return d;
  }

  /** The D-Bus connection: systemd's death notices for the units, and the actions' jobs. */
  private openUnits(config: Config): Promise<UnitNotices | undefined> {
    const { log } = this.opts;
    return watchUnits(
      unitsOf(config),
      {
        death: (service, death) => {
          log.info({ event: 'unit.died', service, unit: death.unit, pid: death.pid, bySystemd: death.systemd.bySystemd, reason: death.systemd.why }, `systemd: ${death.unit} main pid ${death.pid} died; polling now`);
          if (!death.duringOwnJob) this.loop.kick();
        },
        problem: (reason) => log.warn({ event: 'systemd.unavailable', reason }, reason),
      },
      { jobs: () => hasUnitJobs(this.config) },
    );
  }

  private reloads: Promise<void> = Promise.resolve();

  /**
   * SIGHUP: a valid config replaces the running one from the next poll; an invalid one is
   * refused, the old one kept. Reloads run one after the other, in the order asked.
   */
  reload(): Promise<void> {
    this.reloads = this.reloads.then(() => this.reloadOnce());
    return this.reloads;
  }

  private async reloadOnce(): Promise<void> {
    const { log } = this.opts;
    if (this.stopping) return;
    const next = await loadAndSay(this.opts, 'reload refused, keeping the running config');
    if (!next || this.stopping) return;
    if (next.stateDir !== this.config.stateDir) {
      log.error({ event: 'config.invalid', file: this.opts.configPath, reason: `stateDir changed from ${this.config.stateDir} to ${next.stateDir}; that needs a restart` }, 'reload refused: stateDir cannot change on reload');
      return;
    }
    this.notify.reloading();
    const intervalChanged = next.interval !== this.config.interval;
    this.config = next;
    // A reload that brings the first unit job opens the connection for it (one that only
    // adds a process.unit is watched from the next start, as before).
    if (!this.units && hasUnitJobs(next)) this.units = await this.openUnits(next);
    await this.agent.reload(next);
    await this.outlets.apply(next);
    if (intervalChanged) {
      this.loop.interval = next.interval;
      await this.task?.stop();
      this.schedule();
    }
    log.info({ event: 'config.reload', file: next.file, interval: formatDuration(next.interval), services: Object.keys(next.services) }, 'config reloaded; applies from the next poll');
    this.notify.ready(this.agent.summary());
  }

  /**
   * SIGTERM/SIGINT: finish what is in flight, save, release. Nothing here may end the
   * process early: a read-only or vanished stateDir (or any step failing) is a logged
   * warning, and the agent still exits 0. False when already stopping.
   */
  async stop(signal: string): Promise<boolean> {
    if (this.stopping) return false;
    this.stopping = true;
    const { log } = this.opts;
    const step = async (what: string, f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        log.warn({ event: 'agent.stop_problem', step: what, reason: (e as Error).message }, `stopping: ${what}: ${(e as Error).message}`);
      }
    };
    this.notify.stopping(`stopping (${signal}): finishing what is in flight`);
    log.info({ event: 'agent.stopping', signal }, `${signal}: finishing what is in flight`);
    await step('control socket', () => this.control?.close());
    this.pidWatch.stop();
    await step('scheduler', () => this.task?.stop());
    await this.loop.stop();
    // Each command is bounded by its own timeout (then TERM, then KILL), a systemd job by its timeout.
    const settled = await this.agent.settle(longestCommand(this.config) + KILL_AFTER_MS + 1000);
    // After the actions: a systemd job in flight waits for its end on this connection.
    await step('systemd', () => this.units?.close());
    // What ended while stopping is saved as ended (not "restarting").
    await step('outcomes', () => this.agent.absorbOutcomes());
    await step('state', () => this.agent.persist());
    await step('outlets', () => this.outlets.close());
    await step('probes', () => this.agent.close());
    const released = this.lock?.release();
    if (released && !released.released) log.warn({ event: 'lock.release_failed', reason: released.reason }, `${released.reason ?? 'cannot remove the lock'}; the next agent takes it over (its owner is gone)`);
    this.stopKeepAlive();
    await step('sd_notify', () => this.notify.flush());
    log.info({ event: 'agent.stop', signal, settled }, 'stopped');
    return true;
  }

  private async poll(how: PollHow): Promise<{ retryInMs?: number }> {
    const r = await this.agent.poll(how);
    this.pidWatch.resume(); // pids found by this poll, if the watch had none
    this.outlets.observe(r, this.agent.memory);
    if (r.durationMs > this.config.interval) {
      this.opts.log.warn({ event: 'poll.slow', durationMs: r.durationMs, interval: this.config.interval }, `poll took ${r.durationMs} ms, longer than the ${formatDuration(this.config.interval)} interval`);
    }
    return r;
  }

  private ready = false;
  private polled(): void {
    if (!this.ready) {
      this.ready = true;
      this.notify.ready(this.agent.summary());
    } else this.notify.status(this.agent.summary());
    this.notify.watchdog();
  }

  private schedule(): void {
    const { log } = this.opts;
    // node-cron would print its own warnings (a missed tick when the event loop was
    // blocked) to the console; they go into the JSON log instead.
    const logger = {
      info: (m: string) => log.debug({ event: 'cron' }, m),
      debug: (m: string | Error) => log.debug({ event: 'cron' }, String(m)),
      warn: (m: string) => log.warn({ event: 'poll.missed', reason: m }, `scheduler: ${m}`),
      error: (m: string | Error) => log.error({ event: 'poll.error', reason: String(m) }, `scheduler: ${String(m)}`),
    };
    const expression = cronExpression(this.config.interval)!;
    const task = this.cron.createTask(
      expression,
      () => {
        this.pidWatch.due(); // the pid watch's round for this moment, on this wake-up
        this.loop.tick();
      },
      { name: 'ha-watchdog-poll', logger },
    );
    // node-cron ticks as before; its next-match walk and per-tick contexts are plain
    // Date arithmetic instead of Intl (src/agent/cron-time.ts).
    cheapenTask(task, expression);
    this.task = task;
    void task.start();
  }

  /** /healthz: this host's health as the peer and load balancers read it. */
  private health() {
    const a = this.agent;
    return hostHealth(a.memory, criticalOf(this.config), a.last?.observations.keepalived.running, a.lastPollAt, Date.now(), this.pidWatch.gone().map((g) => g.owner), vipNow(this.config));
  }
}

/** Services whose processes are a systemd unit: service -> unit. */
function unitsOf(c: Config): Record<string, string> {
  return Object.fromEntries(Object.entries(c.services).flatMap(([n, s]) => (s.process?.unit ? [[n, s.process.unit]] : [])));
}

function withoutServices(pids: KnownPids, skip: ReadonlySet<string> | undefined): KnownPids {
  return skip?.size ? Object.fromEntries(Object.entries(pids).filter(([n]) => !skip.has(n))) : pids;
}

/** Whether an action is a systemd job (restart.unit, keepalived start/stop unit): the bus is opened for it. */
function hasUnitJobs(c: Config): boolean {
  return c.keepalived.start.unit !== undefined || c.keepalived.stop?.unit !== undefined || Object.values(c.services).some((s) => s.restart?.unit !== undefined);
}

/** The longest any configured command may run before it is killed. */
function longestCommand(c: Config): number {
  return Math.max(c.keepalived.start.timeout, c.keepalived.stop?.timeout ?? 10_000, ...Object.values(c.services).map((s) => s.restart?.timeout ?? 0));
}

/** Whether this host has the VIP right now, for /healthz (the peer compares it with its own). */
function vipNow(c: Config): { address: string; held: boolean } | undefined {
  const v = c.keepalived.vip ? vipHeld(c.keepalived.vip.url) : undefined;
  return v && v.held !== 'unknown' && v.address ? { address: v.address, held: v.held } : undefined;
}
