// keepalived's step: give up the VIP when a critical service has failed (or, with
// handover-first, as soon as it goes down and the peer is healthy), take it back when
// every critical service is healthy; never pull the VIP onto a broken host. Two ways to
// give it up: stop keepalived (the design card's), or write 1 into its track file
// (keepalived keeps running in FAULT).
import type { ServiceConfig } from '../config/load.js';
import { failoverVerdict, handoverVerdict, type GuardConfig } from './guard.js';
import { KEEPALIVED_STABLE_MS, nextBackoff } from './limits.js';
import { countRelease, mayRelease } from './flap.js';
import { chooseOrder, handoverCost, type FailoverOrder } from './order.js';
import type { Action, ActionOutcome, KeepalivedMemory, KeepalivedObservation, PeerObservation, PolicyEvent, ServiceMemory } from './types.js';
import { serviceHealthy } from './predicates.js';

export interface KeepalivedPolicy {
  control: 'stop' | 'track-file';
  order: FailoverOrder;
  guard: GuardConfig;
  peer?: PeerObservation;
  /** Maintenance: observe, act on nothing. */
  paused: boolean;
  /** This host has the VIP on an interface (undefined: cannot tell). */
  vipHeld?: boolean;
  /** `switchover`: paused, and the VIP held on the peer (released, kept released) until `takeback`. */
  switchover?: string;
  /** At most this many VIP releases an hour (the flap limit). */
  flapLimit?: number;
}

export const DEFAULT_KEEPALIVED_POLICY: KeepalivedPolicy = { control: 'stop', order: 'restart-first', guard: { configured: false, required: false }, paused: false };

export function freshKeepalivedMemory(): KeepalivedMemory {
  return { phase: 'idle', failedOver: false };
}

/** This host has let go of the VIP (as far as the agent can tell). */
export function released(mem: KeepalivedMemory, obs: KeepalivedObservation, control: KeepalivedPolicy['control']): boolean {
  return mem.failedOver && (control === 'track-file' ? obs.track === 1 : !obs.running);
}

type Services = Record<string, { cfg: ServiceConfig; mem: ServiceMemory }>;

export function stepKeepalived(
  mem: KeepalivedMemory,
  obs: KeepalivedObservation,
  outcomes: ActionOutcome[],
  services: Services,
  now: number,
  policy: KeepalivedPolicy = DEFAULT_KEEPALIVED_POLICY,
): { actions: Action[]; events: PolicyEvent[] } {
  const actions: Action[] = [];
  const events: PolicyEvent[] = [];
  const trackFile = policy.control === 'track-file';

  for (const o of outcomes) {
    if (o.target !== 'keepalived') continue;
    mem.phase = 'idle';
    mem.last = { kind: o.kind, startedAt: o.startedAt, finishedAt: o.finishedAt, ok: o.ok, reason: o.reason };
  }

  if (obs.running) mem.runningSince ??= now;
  else mem.runningSince = undefined;
  if (mem.runningSince !== undefined && now - mem.runningSince >= KEEPALIVED_STABLE_MS) mem.startBackoffMs = undefined;
  if (mem.phase !== 'idle') return { actions, events };
  if (policy.switchover !== undefined) return holdAway(mem, obs, now, trackFile, policy.switchover, actions, events);
  if (policy.paused) return { actions, events };

  const critical = Object.entries(services).filter(([, s]) => s.cfg.critical);
  const failed = critical.filter(([, s]) => s.mem.failed);
  const notUp = critical.filter(([, s]) => !serviceHealthy(s.mem));
  const down = critical.filter(([, s]) => s.mem.health === 'down' && !s.mem.failed);

  const release = (reason: string) => {
    mem.stopBackoffMs = nextBackoff(mem.stopBackoffMs);
    mem.nextStopAt = now + mem.stopBackoffMs;
    releaseAction(mem, obs, now, trackFile, reason, actions);
  };

  const start = (reason: string) => {
    if (now < (mem.nextStartAt ?? 0)) return;
    mem.startBackoffMs = nextBackoff(mem.startBackoffMs);
    mem.nextStartAt = now + mem.startBackoffMs;
    mem.phase = 'starting';
    mem.last = { kind: 'keepalived.start', startedAt: now };
    actions.push({ kind: 'keepalived.start', target: 'keepalived', reason });
  };

  // auto without a peer guard is restart-first: nothing to weigh, nothing to say.
  const auto = policy.order === 'auto' && policy.guard.configured && !failed.length ? autoHandover(down, mem, policy, events) : null;
  const want = failed.length
    ? { kind: 'failover' as const, names: failed.map(([n]) => n), reason: failed.map(([n, s]) => `${n}: ${s.mem.failedReason ?? 'failed'}`).join('; ') }
    : auto
      ? { kind: 'handover' as const, ...auto }
      : policy.order === 'handover-first' && down.length
        ? { kind: 'handover' as const, names: down.map(([n]) => n), reason: `${down.map(([n]) => n).join(', ')} down; restarting it with the VIP on the peer` }
        : null;

  if (want) {
    if (mem.failedOver) {
      keepReleased(mem, obs, want.names, now, trackFile, events, release);
      return { actions, events };
    }
    if (!trackFile && !obs.running) {
      // Nothing to give up: the VIP is not here. Said once.
      mem.failedOver = true;
      mem.failoverReason = want.reason;
      if (want.kind === 'failover') events.push({ level: 'error', event: 'failover', services: want.names, reason: `${want.reason}; keepalived was already not running` });
      return { actions, events };
    }
    const verdict = want.kind === 'failover' ? failoverVerdict(policy.guard, policy.peer) : handoverVerdict(policy.guard, policy.peer, policy.vipHeld);
    if (!verdict.go) {
      if (want.kind === 'failover') {
        // Re-asked every poll; said again only when the reason changes.
        if (!mem.held || mem.heldReason !== verdict.reason) {
          events.push({ level: 'error', event: 'failover.held', services: want.names, reason: `keeping the VIP here: ${verdict.reason}; this host: ${want.reason}`, peer: policy.peer });
        }
        mem.held = true;
        mem.heldReason = verdict.reason;
      } else if (!mem.handoverSkipped) {
        mem.handoverSkipped = true;
        events.push({ level: 'warn', event: 'handover.skipped', services: want.names, reason: verdict.reason, peer: policy.peer });
      }
      return { actions, events };
    }
    const flap = mayRelease(mem, now, policy.flapLimit);
    if (!flap.go) {
      events.push(...flap.events);
      return { actions, events };
    }
    countRelease(mem, now);
    const wasHeld = mem.held;
    mem.held = false;
    mem.heldReason = undefined;
    mem.failedOver = true;
    mem.handedOver = want.kind === 'handover';
    mem.failoverReason = want.reason;
    events.push({
      level: want.kind === 'failover' ? 'error' : 'warn',
      event: want.kind,
      services: want.names,
      reason: `${want.reason}${policy.guard.configured && !auto ? `; ${verdict.reason}${wasHeld ? ' (held until now)' : ''}` : ''}`,
    });
    mem.releasedAt = now;
    release(`${want.kind}: ${want.reason}`);
    return { actions, events };
  }

  mem.stopBackoffMs = undefined;
  mem.nextStopAt = undefined;
  mem.againBackoffMs = undefined;
  mem.nextAgainAt = undefined;
  mem.stopPids = undefined;
  mem.held = false;
  mem.heldReason = undefined;
  if (!notUp.length) {
    mem.handoverSkipped = undefined;
    mem.releasedAt = undefined; // taken back before the VIP was seen answering elsewhere: nothing measured
  }
  const healthy = critical.map(([n]) => n).join(', ') || 'no critical services configured';

  if (trackFile) {
    if (!obs.running) {
      // keepalived is watched and started even when the host is not healthy: the track
      // file (1) keeps it out of the VIP. Written first, so it never starts as master.
      if (notUp.length && obs.track !== 1) {
        mem.failedOver = true;
        mem.failoverReason = `${notUp.map(([n]) => n).join(', ')} not healthy while keepalived is not running`;
        release(`keeping this host out of the VIP before keepalived starts: ${mem.failoverReason}`);
        return { actions, events };
      }
      start(`keepalived not running${notUp.length ? ' (the track file keeps it out of the VIP)' : ` and critical services healthy (${healthy})`}`);
      return { actions, events };
    }
    if (notUp.length) {
      if (obs.track === 1) mem.failedOver = true; // released before this agent knew (restart, state lost)
      return { actions, events };
    }
    if (obs.track === 0) {
      mem.failedOver = false;
      mem.handedOver = false;
      mem.failoverReason = undefined;
      return { actions, events };
    }
    if (now < (mem.nextStartAt ?? 0)) return { actions, events };
    mem.startBackoffMs = nextBackoff(mem.startBackoffMs);
    mem.nextStartAt = now + mem.startBackoffMs;
    mem.phase = 'starting';
    mem.last = { kind: 'vip.reclaim', startedAt: now };
    actions.push({ kind: 'vip.reclaim', target: 'keepalived', reason: `critical services healthy (${healthy})${obs.track === null ? '; the track file is missing' : ''}` });
    return { actions, events };
  }

  if (obs.running) {
    mem.failedOver = false;
    mem.handedOver = false;
    mem.failoverReason = undefined;
    return { actions, events };
  }
  // Starting keepalived here would pull the VIP onto a host whose services are not (yet) healthy.
  if (notUp.length) return { actions, events };
  start(mem.failedOver ? `critical services healthy again (${healthy})` : `keepalived not running and critical services healthy (${healthy})`);
  return { actions, events };
}

/**
 * failover.order auto: for each critical service that went down, chosen once per
 * episode (restart in place is said as `restart.in_place`). The services to restart
 * with the VIP on the peer, or null.
 */
function autoHandover(down: Array<[string, { mem: ServiceMemory }]>, mem: KeepalivedMemory, policy: KeepalivedPolicy, events: PolicyEvent[]): { names: string[]; reason: string } | null {
  const reasons: string[] = [];
  for (const [name, s] of down) {
    if (s.mem.order !== undefined || mem.failedOver) continue;
    const choice = chooseOrder(name, s.mem, handoverCost(mem.handoverMs), policy.guard, policy.peer, policy.vipHeld);
    s.mem.order = choice.handover ? 'handover' : 'in-place';
    if (choice.handover) reasons.push(choice.reason);
    else events.push({ level: 'info', event: 'restart.in_place', service: name, reason: choice.reason, startMs: s.mem.startMs });
  }
  const names = down.filter(([, s]) => s.mem.order === 'handover').map(([n]) => n);
  if (!names.length) return null;
  return { names, reason: reasons.length ? `${names.join(', ')} down: ${reasons.join('; ')}` : `${names.join(', ')} down; restarting it with the VIP on the peer` };
}

/**
 * `switchover`: planned work on this host. The VIP is released (whatever the services
 * say: the operator asked, after the peer said it is healthy) and kept released until
 * `takeback`; then the usual rule takes it back once every critical service is up.
 */
function holdAway(mem: KeepalivedMemory, obs: KeepalivedObservation, now: number, trackFile: boolean, reason: string, actions: Action[], events: PolicyEvent[]): { actions: Action[]; events: PolicyEvent[] } {
  const why = `switchover: ${reason}`;
  if (!mem.failedOver) {
    mem.failedOver = true;
    mem.handedOver = true;
    mem.failoverReason = why;
    mem.releasedAt = now;
    if (trackFile || obs.running) releaseAction(mem, obs, now, trackFile, why, actions); // else nothing to give up
    return { actions, events };
  }
  keepReleased(mem, obs, ['switchover'], now, trackFile, events, (r) => releaseAction(mem, obs, now, trackFile, r, actions));
  return { actions, events };
}

/** The action that gives the VIP up: write 1 into the track file, or stop keepalived. */
function releaseAction(mem: KeepalivedMemory, obs: KeepalivedObservation, now: number, trackFile: boolean, reason: string, actions: Action[]): void {
  mem.phase = 'stopping';
  if (trackFile) {
    mem.last = { kind: 'vip.release', startedAt: now };
    actions.push({ kind: 'vip.release', target: 'keepalived', reason });
  } else {
    mem.stopPids = obs.pids;
    mem.last = { kind: 'keepalived.stop', startedAt: now };
    actions.push({ kind: 'keepalived.stop', target: 'keepalived', reason });
  }
}

/** After giving the VIP up: keep it given up while the services are not healthy. */
function keepReleased(
  mem: KeepalivedMemory,
  obs: KeepalivedObservation,
  names: string[],
  now: number,
  trackFile: boolean,
  events: PolicyEvent[],
  release: (reason: string) => void,
): void {
  if (trackFile) {
    if (obs.track === 1 || now < (mem.nextStopAt ?? 0)) return;
    events.push({ level: 'warn', event: 'keepalived.running_again', services: names, reason: `the track file reads ${obs.track ?? 'nothing'} while ${names.join(', ')} is not healthy; writing 1 again` });
    release(`the VIP must stay away: ${mem.failoverReason ?? names.join(', ')}`);
    return;
  }
  if (!obs.running) return;
  // The processes we stopped may take a moment to exit (a stop command that only
  // signals): give them until nextStopAt. A new keepalived, started behind our back
  // (a package upgrade, an operator), pulls the VIP onto this broken host: stop it at
  // once, backing off only if it keeps coming back.
  const lingering = obs.pids.length > 0 && obs.pids.every((p) => mem.stopPids?.includes(p));
  if (now < ((lingering ? mem.nextStopAt : mem.nextAgainAt) ?? 0)) return;
  const why = lingering ? `keepalived (pid ${obs.pids.join(', ')}) still runs after the stop` : 'keepalived runs again (started by someone else)';
  events.push({ level: 'warn', event: 'keepalived.running_again', services: names, reason: `${why} while ${names.join(', ')} has failed; stopping it again` });
  if (!lingering) {
    mem.againBackoffMs = nextBackoff(mem.againBackoffMs);
    mem.nextAgainAt = now + mem.againBackoffMs;
  }
  release(`failover: ${mem.failoverReason ?? names.join(', ')}`);
}
