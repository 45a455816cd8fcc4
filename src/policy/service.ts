// One service's step: hysteresis, then restart -> grace -> ok / failed, within budget and backoff.
import { formatDuration, human } from '../config/duration.js';
import type { ServiceConfig } from '../config/load.js';
import { applyHysteresis, failureSummary } from './health.js';
import { budgetFreeAt, nextBackoff, RESTART_BUDGET, RESTART_WINDOW_MS, recentRestarts } from './limits.js';
import type { Action, ActionOutcome, PolicyEvent, ServiceMemory, ServiceObservation } from './types.js';

export function freshServiceMemory(): ServiceMemory {
  return { health: 'unknown', good: 0, bad: 0, phase: 'idle', attempt: 0, failed: false, restarts: [] };
}

export function stepService(
  name: string,
  cfg: ServiceConfig,
  mem: ServiceMemory,
  obs: ServiceObservation | undefined,
  outcomes: ActionOutcome[],
  now: number,
  /** Maintenance: follow health and outcomes, start nothing. */
  paused = false,
): { actions: Action[]; events: PolicyEvent[] } {
  const actions: Action[] = [];
  const events: PolicyEvent[] = [];
  const base = { service: name, critical: cfg.critical };
  mem.restarts = recentRestarts(mem.restarts, now);

  const giveUp = (reason: string) => {
    mem.failed = true;
    mem.failedReason = reason;
    mem.attempt = 0;
    mem.backoffMs = nextBackoff(mem.backoffMs);
    mem.nextHealAt = Math.max(now + mem.backoffMs, budgetFreeAt(mem.restarts, now));
    events.push({ level: 'error', event: 'service.failed', ...base, reason, nextTryInMs: mem.nextHealAt - now });
  };

  const attemptFailed = (reason: string) => {
    mem.phase = 'idle';
    events.push({
      level: 'error',
      event: 'restart.failed',
      ...base,
      attempt: mem.attempt,
      reason,
      durationMs: mem.attemptStartedAt !== undefined ? now - mem.attemptStartedAt : undefined,
    });
    const attempts = cfg.restart?.attempts ?? 0;
    if (mem.failed || mem.attempt >= attempts) {
      giveUp(mem.failed ? `still failing after a healing restart: ${reason}` : `${mem.attempt} restart attempt(s) failed, last: ${reason}`);
    }
  };

  const healthy = (how: 'restart.ok' | 'service.recovered') => {
    if (how === 'restart.ok' && mem.attemptStartedAt !== undefined) learnStart(mem, 'restart', mem.attemptStartedAt, now);
    events.push({
      level: 'info',
      event: how,
      ...base,
      attempt: how === 'restart.ok' ? mem.attempt : undefined,
      durationMs: how === 'restart.ok' && mem.attemptStartedAt !== undefined ? now - mem.attemptStartedAt : undefined,
      startMs: how === 'restart.ok' ? mem.startMs : undefined,
      reason: mem.failed ? `healthy again after failure (${mem.failedReason})` : undefined,
    });
    mem.phase = 'idle';
    mem.order = undefined;
    mem.leftToSystemd = undefined;
    mem.attempt = 0;
    mem.failed = false;
    mem.failedReason = undefined;
    mem.backoffMs = undefined;
    mem.nextHealAt = undefined;
    mem.graceUntil = undefined;
  };

  const maybeRestart = () => {
    // Two supervisors must not race: a unit systemd restarts by itself (Restart=) is left
    // to it; the process it started then gets the grace the agent's own restart would.
    if (obs?.systemd?.restarting) {
      if (!mem.leftToSystemd) events.push({ level: 'info', event: 'restart.left_to_systemd', ...base, reason: `systemd restarts it by itself: ${obs.systemd.reason}; not restarting it a second time` });
      mem.leftToSystemd = true;
      mem.graceUntil = undefined;
      return;
    }
    if (mem.leftToSystemd) {
      // systemd's word first: the process probe may not have seen the new pid yet.
      const started = obs?.systemd?.running || obs?.probes.some((p) => p.probe === 'process' && p.ok);
      if (started) {
        mem.graceUntil ??= now + (cfg.restart?.grace ?? 0);
        if (now < mem.graceUntil) return;
      }
      // systemd gave up (no process), or what it started is not healthy within the grace.
      mem.leftToSystemd = undefined;
      mem.graceUntil = undefined;
    }
    if (!cfg.restart) {
      if (!mem.failed) giveUp('down, and no restart command is configured');
      return;
    }
    if (mem.failed && now < (mem.nextHealAt ?? 0) && !mem.retryAsked) return;
    const freeAt = budgetFreeAt(mem.restarts, now);
    if (freeAt > now && !mem.retryAsked) {
      if (!mem.failed) giveUp(`restart budget spent: ${RESTART_BUDGET} restarts within ${formatDuration(RESTART_WINDOW_MS)}`);
      else mem.nextHealAt = freeAt;
      return;
    }
    mem.attempt += 1;
    mem.phase = 'restarting';
    mem.attemptStartedAt = now;
    mem.graceUntil = undefined;
    mem.restarts.push(now);
    mem.sightedAt = undefined;
    mem.retryAsked = undefined;
    // Count rise afresh from the restart, so "up" means up after it.
    mem.good = 0;
    mem.bad = 0;
    mem.last = { kind: 'restart', startedAt: now };
    const reason = mem.failed ? `healing a failed service: ${failureSummary(obs)}` : failureSummary(obs);
    const alive = obs?.probes.find((p) => p.probe === 'process' && p.ok)?.pids;
    actions.push({ kind: 'restart', target: name, attempt: mem.attempt, reason, ...(alive?.length && { pids: alive }) });
  };

  for (const o of outcomes) {
    if (o.target !== name || o.kind !== 'restart' || mem.phase !== 'restarting') continue;
    mem.last = { kind: 'restart', startedAt: o.startedAt, finishedAt: o.finishedAt, ok: o.ok, reason: o.reason };
    if (o.ok) {
      mem.phase = 'grace';
      mem.graceUntil = o.finishedAt + (cfg.restart?.grace ?? 0);
    } else {
      attemptFailed(`command failed: ${o.reason ?? 'unknown error'}`);
    }
  }

  if (obs) {
    watchStart(mem, obs, now);
    const change = applyHysteresis(mem, obs, cfg.fall, cfg.rise, now);
    if (change?.to === 'down') events.push({ level: 'warn', event: 'service.down', ...base, reason: failureSummary(obs) });
    if (change?.to === 'up') {
      // A process we saw starting (not our restart): how long it took.
      const sighted = mem.sightedAt !== undefined && mem.phase === 'idle';
      if (sighted) learnStart(mem, 'sighting', mem.sightedAt!, now);
      mem.sightedAt = undefined;
      events.push({
        level: 'info',
        event: 'service.up',
        ...base,
        startMs: sighted ? mem.startMs : undefined,
        reason: sighted ? `started in ${human(mem.startMs!)} (from its first sighting)` : change.from === 'unknown' ? 'first healthy polls' : undefined,
      });
    }
  }

  if (mem.phase === 'grace') {
    if (mem.health === 'up') healthy('restart.ok');
    else if (now >= (mem.graceUntil ?? now)) {
      attemptFailed(`not healthy within the ${formatDuration(cfg.restart?.grace ?? 0)} grace: ${failureSummary(obs)}`);
    }
  }
  if (mem.phase === 'idle' && mem.health === 'up' && (mem.failed || mem.attempt > 0 || mem.leftToSystemd)) healthy('service.recovered');
  if (mem.phase === 'idle' && mem.health === 'down' && !paused) maybeRestart();
  return { actions, events };
}

/**
 * Before hysteresis: remember the first good poll of a run (clients are served from
 * then on), and a new process seen while the service is not healthy (it is starting).
 * A sighting needs a process that replaced one seen before: the processes found at the
 * agent's first poll were not seen starting (a first probe slowed by a loaded host
 * would otherwise read as a start of a few milliseconds). The first sighting counts,
 * later pid changes before healthy do not move it. Nothing changes while a service is
 * steady, so its memory is not rewritten.
 */
function watchStart(mem: ServiceMemory, obs: ServiceObservation, now: number): void {
  if (obs.ok && mem.good === 0) mem.firstGoodAt = now;
  const pids = obs.probes.find((p) => p.probe === 'process' && p.ok)?.pids;
  if (!pids?.length || samePids(mem.pids, pids)) return;
  const before = mem.pids;
  mem.pids = [...pids];
  if (before !== undefined && !obs.ok && mem.phase === 'idle' && mem.sightedAt === undefined) mem.sightedAt = now;
}

function learnStart(mem: ServiceMemory, from: 'restart' | 'sighting', since: number, now: number): void {
  mem.startMs = Math.max(0, (mem.firstGoodAt ?? now) - since);
  mem.startFrom = from;
  mem.startAt = now;
}

const samePids = (a: number[] | undefined, b: number[]) => a !== undefined && a.length === b.length && a.every((p, i) => p === b[i]);
