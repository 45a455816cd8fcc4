// keepalived's step: give up the VIP when a critical service has failed (or, by
// failover.order, as soon as it goes down and the peer is healthy), take it back when
// every critical service is healthy; never pull the VIP onto a broken host. This
// decision is the same whichever way the VIP is given up; the two ways (stop keepalived,
// the design card's, or write 1 into its track file) are handlers in ./control/.
import type { ServiceConfig } from '../config/load.js';
import { failoverVerdict, handoverVerdict, type GuardConfig } from './guard.js';
import { KEEPALIVED_STABLE_MS, nextBackoff } from './limits.js';
import { countRelease, mayRelease } from './flap.js';
import { chooseOrder, handoverCost, type FailoverOrder } from './order.js';
import type { ControlMode, ModeContext } from './control/mode.js';
import { stopMode } from './control/stop.js';
import { trackFileMode } from './control/track-file.js';
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
  return { phase: 'idle', release: { active: false }, guard: {}, vip: {}, backoff: { stop: {}, again: {}, start: {} } };
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
  const mode = MODES[policy.control];
  const ctx: ModeContext = {
    mem,
    obs,
    now,
    actions: [],
    events: [],
    release: (reason) => {
      mem.backoff.stop.ms = nextBackoff(mem.backoff.stop.ms);
      mem.backoff.stop.nextAt = now + mem.backoff.stop.ms;
      mem.phase = 'stopping';
      ctx.actions.push(mode.releaseAction(mem, obs, now, reason));
    },
    start: (reason) => {
      if (now < (mem.backoff.start.nextAt ?? 0)) return;
      mem.backoff.start.ms = nextBackoff(mem.backoff.start.ms);
      mem.backoff.start.nextAt = now + mem.backoff.start.ms;
      mem.phase = 'starting';
      mem.last = { kind: 'keepalived.start', startedAt: now };
      ctx.actions.push({ kind: 'keepalived.start', target: 'keepalived', reason });
    },
  };
  const done = () => ({ actions: ctx.actions, events: ctx.events });
  absorbOutcomes(mem, obs, outcomes, now);
  if (mem.phase !== 'idle') return done();
  if (policy.switchover !== undefined) {
    holdAway(ctx, mode, policy.switchover);
    return done();
  }
  if (policy.paused) return done();

  const critical = Object.entries(services).filter(([, s]) => s.cfg.critical);
  // A service whose restart command still runs is not back yet, even if something answers
  // (a hung JVM being stopped may answer the requests it had queued).
  const notUp = critical.filter(([, s]) => !serviceHealthy(s.mem) || s.mem.phase === 'restarting').map(([n]) => n);
  const want = wantRelease(critical, mem, policy, ctx.events);
  if (want) {
    giveUp(ctx, mode, want, policy);
    return done();
  }
  // Nothing to give up: whatever paced or held a release is over.
  mem.backoff.stop = {};
  mem.backoff.again = {};
  mem.release.stopPids = undefined;
  mem.guard.held = false;
  mem.guard.reason = undefined;
  if (!notUp.length) {
    mem.guard.handoverSkipped = undefined;
    mem.release.at = undefined; // taken back before the VIP was seen answering elsewhere: nothing measured
  }
  mode.restore(ctx, notUp, critical.map(([n]) => n).join(', ') || 'no critical services configured');
  return done();
}

const MODES: Record<KeepalivedPolicy['control'], ControlMode> = { stop: stopMode, 'track-file': trackFileMode };

/** This host has let go of the VIP (as far as the agent can tell). */
export function released(mem: KeepalivedMemory, obs: KeepalivedObservation, control: KeepalivedPolicy['control']): boolean {
  return MODES[control].released(mem, obs);
}

/** How the last keepalived action ended, and how long keepalived has run (a stable one resets the start backoff). */
function absorbOutcomes(mem: KeepalivedMemory, obs: KeepalivedObservation, outcomes: ActionOutcome[], now: number): void {
  for (const o of outcomes) {
    if (o.target !== 'keepalived') continue;
    mem.phase = 'idle';
    mem.last = { kind: o.kind, startedAt: o.startedAt, finishedAt: o.finishedAt, ok: o.ok, reason: o.reason };
  }
  if (obs.running) mem.runningSince ??= now;
  else mem.runningSince = undefined;
  if (mem.runningSince !== undefined && now - mem.runningSince >= KEEPALIVED_STABLE_MS) mem.backoff.start.ms = undefined;
}

interface Want {
  kind: 'failover' | 'handover';
  names: string[];
  reason: string;
  /** auto chose the handover (its reason already says why the peer may take it). */
  auto: boolean;
}

/** Mode-free: does a critical service want the VIP elsewhere? A failed one: failover; one just down, by failover.order: handover. */
function wantRelease(critical: Array<[string, { mem: ServiceMemory }]>, mem: KeepalivedMemory, policy: KeepalivedPolicy, events: PolicyEvent[]): Want | null {
  const failed = critical.filter(([, s]) => s.mem.failed);
  if (failed.length) return { kind: 'failover', names: failed.map(([n]) => n), reason: failed.map(([n, s]) => `${n}: ${s.mem.failedReason ?? 'failed'}`).join('; '), auto: false };
  const down = critical.filter(([, s]) => s.mem.health === 'down' && !s.mem.failed);
  // auto without a peer guard is restart-first: nothing to weigh, nothing to say.
  const auto = policy.order === 'auto' && policy.guard.configured ? autoHandover(down, mem, policy, events) : null;
  if (auto) return { kind: 'handover', ...auto, auto: true };
  if (policy.order === 'handover-first' && down.length) {
    return { kind: 'handover', names: down.map(([n]) => n), reason: `${down.map(([n]) => n).join(', ')} down; restarting it with the VIP on the peer`, auto: false };
  }
  return null;
}

/** Mode-free: give the VIP up for `want`, if the guard and the flap limit let it go; or keep it given up. */
function giveUp(ctx: ModeContext, mode: ControlMode, want: Want, policy: KeepalivedPolicy): void {
  const { mem, obs, now, events } = ctx;
  if (mem.release.active) return mode.keepReleased(ctx, want.names);
  if (mode.nothingToRelease(obs)) {
    // Nothing to give up: the VIP is not here. Said once.
    mem.release.active = true;
    mem.release.reason = want.reason;
    if (want.kind === 'failover') events.push({ level: 'error', event: 'failover', services: want.names, reason: `${want.reason}; keepalived was already not running` });
    return;
  }
  const verdict = want.kind === 'failover' ? failoverVerdict(policy.guard, policy.peer) : handoverVerdict(policy.guard, policy.peer, policy.vipHeld);
  if (!verdict.go) return hold(mem, want, verdict.reason, policy.peer, events);
  const flap = mayRelease(mem, now, policy.flapLimit);
  if (!flap.go) {
    events.push(...flap.events);
    return;
  }
  countRelease(mem, now);
  const wasHeld = mem.guard.held;
  mem.guard.held = false;
  mem.guard.reason = undefined;
  mem.release.active = true;
  mem.release.handover = want.kind === 'handover';
  mem.release.reason = want.reason;
  const why = policy.guard.configured && !want.auto ? `; ${verdict.reason}${wasHeld ? ' (held until now)' : ''}` : '';
  events.push({ level: want.kind === 'failover' ? 'error' : 'warn', event: want.kind, services: want.names, reason: `${want.reason}${why}` });
  mem.release.at = now;
  ctx.release(`${want.kind}: ${want.reason}`);
}

/** The peer guard says no: a failover is held (said again when the reason changes), a handover skipped (said once). */
function hold(mem: KeepalivedMemory, want: Want, reason: string, peer: PeerObservation | undefined, events: PolicyEvent[]): void {
  if (want.kind === 'failover') {
    if (!mem.guard.held || mem.guard.reason !== reason) {
      events.push({ level: 'error', event: 'failover.held', services: want.names, reason: `keeping the VIP here: ${reason}; this host: ${want.reason}`, peer });
    }
    mem.guard.held = true;
    mem.guard.reason = reason;
  } else if (!mem.guard.handoverSkipped) {
    mem.guard.handoverSkipped = true;
    events.push({ level: 'warn', event: 'handover.skipped', services: want.names, reason, peer });
  }
}

/**
 * failover.order auto: for each critical service that went down, chosen once per
 * episode (restart in place is said as `restart.in_place`). The services to restart
 * with the VIP on the peer, or null.
 */
function autoHandover(down: Array<[string, { mem: ServiceMemory }]>, mem: KeepalivedMemory, policy: KeepalivedPolicy, events: PolicyEvent[]): { names: string[]; reason: string } | null {
  const reasons: string[] = [];
  for (const [name, s] of down) {
    if (s.mem.order !== undefined || mem.release.active) continue;
    const choice = chooseOrder(name, s.mem, handoverCost(mem.vip.handoverMs), policy.guard, policy.peer, policy.vipHeld);
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
function holdAway(ctx: ModeContext, mode: ControlMode, reason: string): void {
  const { mem, obs, now } = ctx;
  const why = `switchover: ${reason}`;
  // Planned: released again as soon as it comes back, no backoff.
  const release = (r: string) => {
    mem.phase = 'stopping';
    ctx.actions.push(mode.releaseAction(mem, obs, now, r));
  };
  if (mem.release.active) return mode.keepReleased({ ...ctx, release }, ['switchover']);
  mem.release.active = true;
  mem.release.handover = true;
  mem.release.reason = why;
  mem.release.at = now;
  if (!mode.nothingToRelease(obs)) release(why);
}
