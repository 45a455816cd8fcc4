// `ha-watchdog run`: the long-running agent. node-cron ticks the polls (a first poll at
// once); polls never overlap; SIGHUP reloads; SIGTERM/SIGINT finish what is in flight,
// save the memory and exit 0.
import { KILL_AFTER_MS } from '../actions/command.js';
import { formatDuration } from '../config/duration.js';
import { ConfigError, formatProblem } from '../config/errors.js';
import { cronExpression } from '../config/interval.js';
import { loadConfig, type Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { Agent, criticalOf, logEvent } from './agent.js';
import { serveControl } from '../control/serve.js';
import { hostHealth } from '../serve/healthz.js';
import { acquireLock } from './lock.js';
import { Outlets } from '../serve/outlets.js';
import { PidWatch } from './pid-watch.js';
import { createNotifier } from '../systemd/notify.js';
import { restoreState } from './state.js';
import { localSide } from '../doctor/side.js';
import { vipHeld } from '../probes/vip-held.js';

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
}

/** Resolves with the exit code once the agent has stopped. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { log } = opts;
  let config: Config;
  try {
    config = loadConfig(opts.configPath);
  } catch (e) {
    const errors = e instanceof ConfigError ? e.problems : [{ message: (e as Error).message }];
    log.error({ event: 'config.invalid', file: opts.configPath, errors }, `invalid config, not starting:\n${(e as Error).message}`);
    return 1;
  }
  // A dry run acts on nothing, so it neither takes the lock nor writes the state.
  const lock = opts.dryRun ? null : acquireLock(config.stateDir, 'ha-watchdog run');
  if (lock && !lock.ok) {
    if (lock.unsafe) log.error({ event: 'statedir.refused', reason: lock.reason }, `not starting: ${lock.reason}`);
    else log.error({ event: 'lock.held', reason: lock.reason, owner: lock.owner }, `another agent is in charge: lock ${lock.reason}`);
    return 1;
  }
  if (lock?.ok && lock.tookOverFrom) {
    log.warn({ event: 'lock.stale', owner: lock.tookOverFrom }, `took over a stale lock from pid ${lock.tookOverFrom.pid}`);
  }

  const restored = restoreState(config);
  for (const e of restored.events) logEvent(log, e);
  let lastPollEnd = Date.now();
  let kick = () => {};
  const outlets = new Outlets({
    log,
    // /healthz: alive while polls complete (a poll is bounded by its probe timeouts).
    alive: () => Date.now() - lastPollEnd < 3 * config.interval + 10_000,
    health: () => hostHealth(agent.memory, criticalOf(config), agent.last?.observations.keepalived.running, agent.lastPollAt, Date.now(), pidWatch.gone().map((g) => g.owner), vipNow(config)),
    // `doctor` on the peer: this host's keepalived.conf, summarized (read on each ask).
    pair: (nonce) => localSide(config, nonce),
  });
  const agent: Agent = new Agent(config, restored.memory, {
    log,
    dryRun: opts.dryRun,
    persist: true,
    onEvent: (e) => outlets.send(e),
    onOutcome: () => kick(),
    waitMs: POLL_WAIT_MS,
    onLate: () => kick(),
  });
  const pidWatch = new PidWatch(
    () => agent.knownPids(),
    (gone) => {
      log.debug({ event: 'pid.vanished', gone }, `gone: ${gone.map((g) => `${g.owner} pid ${g.pid}`).join(', ')}; polling now`);
      kick();
    },
  );
  for (const w of config.warnings ?? []) log.warn({ event: 'config.warning', file: config.file, key: w.key, reason: w.message }, formatProblem(w));
  await outlets.apply(config);
  // After the lock: only the agent in charge answers `status` and takes `pause`. A dry
  // run takes no lock, so it serves no socket (it must not hold the real agent's).
  const control = opts.dryRun ? null : await serveControl({ agent, config: () => config, log, version: opts.version, startedAt: Date.now(), dryRun: opts.dryRun, pollNow: () => kick() });
  const notify = createNotifier(process.env, { onError: (e) => log.warn({ event: 'notify.failed', reason: e.message }, `sd_notify: ${e.message}`) });
  log.info(
    { event: 'agent.start', version: opts.version, config: config.file, interval: formatDuration(config.interval), dryRun: opts.dryRun || undefined, services: Object.keys(config.services), control: control?.path },
    `ha-watchdog ${opts.version} started${opts.dryRun ? ' (dry run)' : ''}`,
  );

  const { default: cron } = await import('node-cron');
  let polling: Promise<void> | null = null;
  let stopping = false;
  let ready = false;
  let again = false;
  // systemd's watchdog is fed by a timer while polls keep completing: a blocked event
  // loop (no timer) or a poll loop that stopped (no recent poll) gets the agent restarted.
  const stopKeepAlive = notify.keepAlive(() => Date.now() - lastPollEnd < 2 * config.interval + 60_000);

  // A failing service not yet down is probed again after its retryDelay, not at the
  // next tick: fall counts probes. One timer, owned by the loop.
  let retryTimer: NodeJS.Timeout | undefined;
  const pollOnce = async () => {
    try {
      const r = await agent.poll();
      clearTimeout(retryTimer);
      if (r.retryInMs !== undefined) retryTimer = setTimeout(() => kick(), r.retryInMs);
      outlets.observe(r, agent.memory);
      if (r.durationMs > config.interval) {
        log.warn({ event: 'poll.slow', durationMs: r.durationMs, interval: config.interval }, `poll took ${r.durationMs} ms, longer than the ${formatDuration(config.interval)} interval`);
      }
    } catch (e) {
      // The loop never dies on a probe or action failure; this is the last net.
      log.error({ event: 'poll.error', reason: (e as Error).stack ?? String(e) }, `poll failed: ${(e as Error).message}`);
    }
    lastPollEnd = Date.now();
    if (!ready) {
      ready = true;
      notify.ready(agent.summary());
    } else notify.status(agent.summary());
    notify.watchdog();
  };

  const tick = () => {
    if (stopping) return;
    if (polling) {
      // Never skipped: run this tick right after the poll in progress (a poll waits at
      // most POLL_WAIT_MS for probes, so only a stuck peer or a slow disk makes it long).
      again = true;
      if (Date.now() - pollStartedAt >= config.interval) log.warn({ event: 'poll.slow', interval: config.interval }, 'previous poll still running; this tick runs after it');
      return;
    }
    polling = run();
  };

  let pollStartedAt = 0;
  const run = (): Promise<void> => {
    pollStartedAt = Date.now();
    return pollOnce().finally(() => {
      polling = null;
      if (again && !stopping) {
        again = false;
        polling = run();
      }
    });
  };

  // Out of schedule: a known pid vanished, or an action finished. Acted on now, not at
  // the next tick (after the current poll if one is running; never two at once).
  kick = () => {
    if (stopping) return;
    if (polling) again = true;
    else polling = run();
  };
  pidWatch.start();

  // node-cron would print its own warnings (a missed tick when the event loop was
  // blocked) to the console; they go into the JSON log instead.
  const cronLog = {
    info: (m: string) => log.debug({ event: 'cron' }, m),
    debug: (m: string | Error) => log.debug({ event: 'cron' }, String(m)),
    warn: (m: string) => log.warn({ event: 'poll.missed', reason: m }, `scheduler: ${m}`),
    error: (m: string | Error) => log.error({ event: 'poll.error', reason: String(m) }, `scheduler: ${String(m)}`),
  };
  const schedule = (c: Config) => cron.schedule(cronExpression(c.interval)!, tick, { name: 'ha-watchdog-poll', logger: cronLog });
  let task = schedule(config);
  tick(); // the first poll at once, not at the first cron tick

  const reload = async () => {
    let next: Config;
    try {
      next = loadConfig(opts.configPath);
    } catch (e) {
      const errors = e instanceof ConfigError ? e.problems : [{ message: (e as Error).message }];
      log.error({ event: 'config.invalid', file: opts.configPath, errors }, `reload refused, keeping the running config:\n${(e as Error).message}`);
      return;
    }
    if (next.stateDir !== config.stateDir) {
      log.error({ event: 'config.invalid', file: opts.configPath, reason: `stateDir changed from ${config.stateDir} to ${next.stateDir}; that needs a restart` }, 'reload refused: stateDir cannot change on reload');
      return;
    }
    notify.reloading();
    const intervalChanged = next.interval !== config.interval;
    config = next;
    await agent.reload(next);
    for (const w of next.warnings ?? []) log.warn({ event: 'config.warning', file: next.file, key: w.key, reason: w.message }, formatProblem(w));
    await outlets.apply(next);
    if (intervalChanged) {
      await task.stop();
      task = schedule(next);
    }
    log.info({ event: 'config.reload', file: next.file, interval: formatDuration(next.interval), services: Object.keys(next.services) }, 'config reloaded; applies from the next poll');
    notify.ready(agent.summary());
  };

  return new Promise<number>((resolve) => {
    const onHup = () => void reload();
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      // Nothing here may end the process early: a read-only or vanished stateDir (or any
      // step failing) is a logged warning, and the agent still exits 0.
      const step = async (what: string, f: () => unknown) => {
        try {
          await f();
        } catch (e) {
          log.warn({ event: 'agent.stop_problem', step: what, reason: (e as Error).message }, `stopping: ${what}: ${(e as Error).message}`);
        }
      };
      notify.stopping(`stopping (${signal}): finishing what is in flight`);
      log.info({ event: 'agent.stopping', signal }, `${signal}: finishing what is in flight`);
      await step('control socket', () => control?.close());
      pidWatch.stop();
      clearTimeout(retryTimer);
      await step('scheduler', () => task.stop());
      await polling;
      // Each command is bounded by its own timeout (then TERM, then KILL).
      const longest = Math.max(config.keepalived.start.timeout, config.keepalived.stop?.timeout ?? 10_000, ...Object.values(config.services).map((s) => s.restart?.timeout ?? 0));
      const settled = await agent.settle(longest + KILL_AFTER_MS + 1000);
      // What ended while stopping is saved as ended (not "restarting").
      await step('outcomes', () => agent.absorbOutcomes());
      await step('state', () => agent.persist());
      await step('outlets', () => outlets.close());
      await step('probes', () => agent.close());
      if (lock?.ok) {
        const r = lock.release();
        if (!r.released) log.warn({ event: 'lock.release_failed', reason: r.reason }, `${r.reason ?? 'cannot remove the lock'}; the next agent takes it over (its owner is gone)`);
      }
      stopKeepAlive();
      await step('sd_notify', () => notify.flush());
      log.info({ event: 'agent.stop', signal, settled }, 'stopped');
      process.off('SIGHUP', onHup);
      resolve(0);
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

/** Whether this host has the VIP right now, for /healthz (the peer compares it with its own). */
function vipNow(c: Config): { address: string; held: boolean } | undefined {
  const v = c.keepalived.vip ? vipHeld(c.keepalived.vip.url) : undefined;
  return v && v.held !== 'unknown' && v.address ? { address: v.address, held: v.held } : undefined;
}

