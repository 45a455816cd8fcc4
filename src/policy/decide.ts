// decide(observations, memory, config, now) -> { actions, memory, events }: the whole policy, no I/O.
import type { Config } from '../config/load.js';
import { freshKeepalivedMemory, stepKeepalived } from './keepalived.js';
import { freshServiceMemory, stepService } from './service.js';
import { stepVip } from './vip.js';
import type { Decision, Memory, Observations, PolicyEvent } from './types.js';

export function freshMemory(): Memory {
  return { version: 1, services: {}, keepalived: freshKeepalivedMemory() };
}

export function decide(obs: Observations, memory: Memory, config: Pick<Config, 'services'>, now: number): Decision {
  const next: Memory = structuredClone(memory);
  const actions: Decision['actions'] = [];
  const events: PolicyEvent[] = [];
  const services: Record<string, { cfg: Config['services'][string]; mem: Memory['services'][string] }> = {};
  const kept: Memory['services'] = {};

  for (const [name, cfg] of Object.entries(config.services)) {
    const mem = next.services[name] ?? freshServiceMemory();
    kept[name] = mem;
    services[name] = { cfg, mem };
    const step = stepService(name, cfg, mem, obs.services[name], obs.outcomes, now);
    actions.push(...step.actions);
    events.push(...step.events);
  }
  next.services = kept; // services removed from the config are forgotten

  const k = stepKeepalived(next.keepalived, obs.keepalived, obs.outcomes, services, now);
  actions.push(...k.actions);
  events.push(...k.events, ...stepVip(next.keepalived, obs.vip));
  return { actions, memory: next, events };
}

/**
 * After the agent was stopped or killed mid-action: a restart that was in flight
 * is not repeated (it may have completed); the service gets its grace instead.
 */
export function resumeMemory(memory: Memory, config: Pick<Config, 'services'>, now: number): { memory: Memory; events: PolicyEvent[] } {
  const next: Memory = structuredClone(memory);
  const events: PolicyEvent[] = [];
  for (const [name, mem] of Object.entries(next.services)) {
    const cfg = config.services[name];
    if (mem.phase !== 'restarting' || !cfg?.restart) continue;
    const startedAt = mem.attemptStartedAt ?? now;
    mem.phase = 'grace';
    mem.graceUntil = Math.max(now, startedAt + cfg.restart.timeout + cfg.restart.grace);
    events.push({
      level: 'warn',
      event: 'state.resumed',
      service: name,
      reason: `a restart started at ${new Date(startedAt).toISOString()} was in flight when the agent stopped; not repeating it, waiting for the service until ${new Date(mem.graceUntil).toISOString()}`,
    });
  }
  if (next.keepalived.phase !== 'idle') next.keepalived.phase = 'idle'; // the process table will tell
  return { memory: next, events };
}
