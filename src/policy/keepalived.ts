// keepalived's step: stop it when a critical service has failed (the VIP moves to the peer),
// start it when every critical service is healthy; never start it onto a broken host.
import type { ServiceConfig } from '../config/load.js';
import { KEEPALIVED_STABLE_MS, nextBackoff } from './limits.js';
import type { Action, ActionOutcome, KeepalivedMemory, KeepalivedObservation, PolicyEvent, ServiceMemory } from './types.js';

export function freshKeepalivedMemory(): KeepalivedMemory {
  return { phase: 'idle', failedOver: false };
}

export function stepKeepalived(
  mem: KeepalivedMemory,
  obs: KeepalivedObservation,
  outcomes: ActionOutcome[],
  services: Record<string, { cfg: ServiceConfig; mem: ServiceMemory }>,
  now: number,
): { actions: Action[]; events: PolicyEvent[] } {
  const actions: Action[] = [];
  const events: PolicyEvent[] = [];

  for (const o of outcomes) {
    if (o.target !== 'keepalived') continue;
    mem.phase = 'idle';
    mem.last = { kind: o.kind, startedAt: o.startedAt, finishedAt: o.finishedAt, ok: o.ok, reason: o.reason };
  }

  if (obs.running) mem.runningSince ??= now;
  else mem.runningSince = undefined;
  if (mem.runningSince !== undefined && now - mem.runningSince >= KEEPALIVED_STABLE_MS) mem.startBackoffMs = undefined;
  if (mem.phase !== 'idle') return { actions, events };

  const critical = Object.entries(services).filter(([, s]) => s.cfg.critical);
  const failed = critical.filter(([, s]) => s.mem.failed);
  const notUp = critical.filter(([, s]) => s.mem.health !== 'up' || s.mem.failed);

  if (failed.length) {
    const reason = failed.map(([n, s]) => `${n}: ${s.mem.failedReason ?? 'failed'}`).join('; ');
    const names = failed.map(([n]) => n);
    if (!obs.running) {
      if (!mem.failedOver) {
        mem.failedOver = true;
        mem.failoverReason = reason;
        events.push({ level: 'error', event: 'failover', services: names, reason: `${reason}; keepalived was already not running` });
      }
      return { actions, events };
    }
    if (mem.failedOver) {
      // The processes we stopped may take a moment to exit (a stop command that only
      // signals): give them until nextStopAt. A new keepalived, started behind our back
      // (a package upgrade, an operator), pulls the VIP onto this broken host: stop it at
      // once, backing off only if it keeps coming back.
      const lingering = obs.pids.length > 0 && obs.pids.every((p) => mem.stopPids?.includes(p));
      if (now < ((lingering ? mem.nextStopAt : mem.nextAgainAt) ?? 0)) return { actions, events };
      const why = lingering ? `keepalived (pid ${obs.pids.join(', ')}) still runs after the stop` : 'keepalived runs again (started by someone else)';
      events.push({ level: 'warn', event: 'keepalived.running_again', services: names, reason: `${why} while ${names.join(', ')} has failed; stopping it again` });
      if (!lingering) {
        mem.againBackoffMs = nextBackoff(mem.againBackoffMs);
        mem.nextAgainAt = now + mem.againBackoffMs;
      }
    } else {
      events.push({ level: 'error', event: 'failover', services: names, reason });
    }
    mem.stopPids = obs.pids;
    mem.stopBackoffMs = nextBackoff(mem.stopBackoffMs);
    mem.nextStopAt = now + mem.stopBackoffMs;
    mem.failedOver = true;
    mem.failoverReason = reason;
    mem.phase = 'stopping';
    mem.last = { kind: 'keepalived.stop', startedAt: now };
    actions.push({ kind: 'keepalived.stop', target: 'keepalived', reason: `failover: ${reason}` });
    return { actions, events };
  }

  mem.stopBackoffMs = undefined;
  mem.nextStopAt = undefined;
  mem.againBackoffMs = undefined;
  mem.nextAgainAt = undefined;
  mem.stopPids = undefined;
  if (obs.running) {
    mem.failedOver = false;
    mem.failoverReason = undefined;
    return { actions, events };
  }
  // Starting keepalived here would pull the VIP onto a host whose services are not (yet) healthy.
  if (notUp.length) return { actions, events };
  if (now < (mem.nextStartAt ?? 0)) return { actions, events };
  mem.startBackoffMs = nextBackoff(mem.startBackoffMs);
  mem.nextStartAt = now + mem.startBackoffMs;
  mem.phase = 'starting';
  mem.last = { kind: 'keepalived.start', startedAt: now };
  const healthy = critical.map(([n]) => n).join(', ') || 'no critical services configured';
  actions.push({
    kind: 'keepalived.start',
    target: 'keepalived',
    reason: mem.failedOver ? `critical services healthy again (${healthy})` : `keepalived not running and critical services healthy (${healthy})`,
  });
  return { actions, events };
}
