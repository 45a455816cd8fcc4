// decide(observations, memory, config, now) -> { actions, memory, events }: the whole policy, no I/O.
import type { Config } from '../config/load.js';
import { needsPeer } from './guard.js';
import { freshKeepalivedMemory, released, stepKeepalived } from './keepalived.js';
import { stepMaintenance } from './maintenance.js';
import { stepPair } from './pair.js';
import { freshServiceMemory, stepService } from './service.js';
import { stepVip } from './vip.js';
import type { Action, Decision, Memory, Observations, PolicyEvent } from './types.js';
import { serviceHealthy } from './predicates.js';

/** The parts of the config the policy reads (the rest is for probes and actions). */
export type PolicyConfig = Pick<Config, 'services'> & {
  failover?: Partial<Config['failover']>;
  keepalived?: Pick<Config['keepalived'], 'control' | 'vip'>;
  peer?: Pick<NonNullable<Config['peer']>, 'required'>;
};

export function freshMemory(): Memory {
  return { version: 1, services: {}, keepalived: freshKeepalivedMemory() };
}

export function decide(obs: Observations, memory: Memory, config: PolicyConfig, now: number): Decision {
  const next: Memory = structuredClone(memory);
  const actions: Decision['actions'] = [];
  const events: PolicyEvent[] = [];
  const services: Record<string, { cfg: Config['services'][string]; mem: Memory['services'][string] }> = {};
  const kept: Memory['services'] = {};
  const maintenance = stepMaintenance(next, now);
  events.push(...maintenance.events);

  for (const [name, cfg] of Object.entries(config.services)) {
    const mem = next.services[name] ?? freshServiceMemory();
    kept[name] = mem;
    services[name] = { cfg, mem };
    const step = stepService(name, cfg, mem, obs.services[name], obs.outcomes, now, maintenance.paused);
    actions.push(...step.actions);
    events.push(...step.events);
  }
  next.services = kept; // services removed from the config are forgotten

  const control = config.keepalived?.control ?? 'stop';
  const k = stepKeepalived(next.keepalived, obs.keepalived, obs.outcomes, services, now, {
    control,
    order: config.failover?.order ?? 'auto',
    guard: { configured: config.peer !== undefined, required: config.peer?.required ?? false },
    peer: obs.peer,
    paused: maintenance.paused,
    flapLimit: config.failover?.flapLimit,
    vipHeld: obs.vipHeld,
    ...(maintenance.paused && next.maintenance?.switchover && { switchover: next.maintenance.reason ?? 'planned work' }),
  });
  // Giving the VIP up goes first: clients wait on it, a restart started a moment later loses nothing.
  const releases: Action[] = k.actions.filter((a) => a.kind === 'keepalived.stop' || a.kind === 'vip.release');
  actions.unshift(...releases);
  actions.push(...k.actions.filter((a) => !releases.includes(a)));
  events.push(...k.events, ...stepVip(next.keepalived, obs.vip, released(next.keepalived, obs.keepalived, control), now));
  const thisHealthy = Object.values(services).every((s) => !s.cfg.critical || serviceHealthy(s.mem));
  events.push(...stepPair(next.keepalived, obs.vipHeld, obs.peer, thisHealthy));
  return { actions, memory: next, events };
}

/**
 * Whether, and how, the loop asks the peer's /healthz for this poll's decide(). 'fresh':
 * a decision may hinge on it (something is wrong here): the poll waits for the answer.
 * 'latest': only to compare who holds the VIP (keepalived.vip set): the newest answer
 * to a request made in the background is enough, so a dead peer never slows a poll.
 * A critical service failing but not down yet asks nothing that waits: its retry goes
 * out at once, and the poll that finds it down asks.
 */
export function wantsPeer(obs: Pick<Observations, 'services'>, memory: Memory, config: PolicyConfig): 'fresh' | 'latest' | null {
  if (!config.peer) return null;
  const pair = config.keepalived?.vip ? 'latest' : null;
  if (memory.maintenance) return pair;
  const view = Object.fromEntries(
    Object.entries(config.services).map(([n, cfg]) => [n, { critical: cfg.critical, fall: cfg.fall, mem: memory.services[n], obs: obs.services[n] }]),
  );
  return needsPeer(view, memory.keepalived.guard.held ?? false) ? 'fresh' : pair;
}

/** The restart command of `target` now has a process: remembered, so a crash after this point does not repeat it. */
export function recordSpawn(memory: Memory, target: string, pid: number, pidStartTime: number | undefined): Memory {
  const mem = memory.services[target];
  if (!mem || mem.phase !== 'restarting' || !mem.last) return memory;
  const next: Memory = structuredClone(memory);
  next.services[target]!.last = { ...mem.last, pid, pidStartTime };
  return next;
}

/** The restart job of `target` (restart.unit) is queued in systemd: remembered as a spawned command's pid is. */
export function recordJob(memory: Memory, target: string, job: string): Memory {
  const mem = memory.services[target];
  if (!mem || mem.phase !== 'restarting' || !mem.last) return memory;
  const next: Memory = structuredClone(memory);
  next.services[target]!.last = { ...mem.last, job };
  return next;
}

/**
 * After the agent was stopped or killed mid-action. A restart whose command had
 * started is not repeated (it may have done its job): the service gets its grace,
 * counted from the command's start plus its timeout while it still runs, or from now
 * if it ended unseen. A restart that was decided but whose command never started is
 * forgotten, so it is tried again at once. `alive` tells whether a recorded pid
 * (with its start time) still runs. A systemd job (restart.unit) systemd had queued
 * is not repeated either; whether it still runs is not known here, so it counts as
 * running (its timeout, then the grace): a job outlives the agent that asked for it.
 */
export function resumeMemory(
  memory: Memory,
  config: Pick<Config, 'services'>,
  now: number,
  alive: (pid: number, startTime: number | undefined) => boolean = () => false,
): { memory: Memory; events: PolicyEvent[] } {
  const next: Memory = structuredClone(memory);
  const events: PolicyEvent[] = [];
  for (const [name, mem] of Object.entries(next.services)) {
    const cfg = config.services[name];
    if (mem.phase !== 'restarting' || !cfg?.restart) continue;
    const startedAt = mem.attemptStartedAt ?? now;
    const at = new Date(startedAt).toISOString();
    const pid = mem.last?.pid;
    const job = mem.last?.job;
    if (pid === undefined && job === undefined) {
      mem.phase = 'idle';
      mem.attempt = Math.max(0, mem.attempt - 1);
      mem.restarts = mem.restarts.filter((t) => t !== mem.attemptStartedAt);
      events.push({ level: 'warn', event: 'state.resumed', service: name, reason: `a restart decided at ${at} never started before the agent stopped; trying it now` });
      continue;
    }
    mem.phase = 'grace';
    const running = pid === undefined || alive(pid, mem.last?.pidStartTime);
    mem.graceUntil = running ? Math.max(now, startedAt + cfg.restart.timeout) + cfg.restart.grace : now + cfg.restart.grace;
    events.push({
      level: 'warn',
      event: 'state.resumed',
      service: name,
      reason:
        pid === undefined
          ? `a restart started at ${at} (systemd job ${job}) was in flight when the agent stopped and may still run; not repeating it, waiting for the service until ${new Date(mem.graceUntil).toISOString()}`
          : `a restart started at ${at} (pid ${pid}) was in flight when the agent stopped and ${running ? 'still runs' : 'has ended'}; not repeating it, waiting for the service until ${new Date(mem.graceUntil).toISOString()}`,
    });
  }
  if (next.keepalived.phase !== 'idle') next.keepalived.phase = 'idle'; // the process table will tell
  return { memory: next, events };
}
