// Maintenance: while paused the agent probes and reports but acts on nothing (a deploy
// that stops tomcat must not restart it or move the VIP). The pause is in the memory,
// so it survives an agent restart; `until` ends it by itself.
import { formatDuration } from '../config/duration.js';
import { clearFlapping } from './flap.js';
import type { Memory, PolicyEvent } from './types.js';

export const REMINDER_EVERY_MS = 60_000;

/** Applies expiry and the once-a-minute reminder; true while the pause holds. */
export function stepMaintenance(memory: Memory, now: number): { paused: boolean; events: PolicyEvent[] } {
  const m = memory.maintenance;
  if (!m) return { paused: false, events: [] };
  if (m.until !== undefined && now >= m.until) {
    memory.maintenance = undefined;
    return {
      paused: false,
      events: [{ level: 'info', event: 'maintenance.expired', reason: `the pause set at ${new Date(m.since).toISOString()}${m.reason ? ` (${m.reason})` : ''} ran out; acting again from this poll` }],
    };
  }
  if (now - (m.remindedAt ?? m.since) < REMINDER_EVERY_MS) return { paused: true, events: [] };
  m.remindedAt = now;
  const unhealthy = Object.entries(memory.services)
    .filter(([, s]) => s.health !== 'up')
    .map(([n, s]) => `${n} ${s.health}`);
  const left = m.until !== undefined ? `, ${formatDuration(Math.max(0, m.until - now))} left` : ', until `ha-watchdog resume`';
  return {
    paused: true,
    events: [
      {
        level: 'warn',
        event: 'maintenance.reminder',
        reason: `paused for ${formatDuration(now - m.since)}${m.reason ? ` (${m.reason})` : ''}${left}; taking no action${unhealthy.length ? `; not healthy: ${unhealthy.join(', ')}` : ''}`,
      },
    ],
  };
}

/** The pause itself (set over the control socket), as a pure memory change. */
export function pause(memory: Memory, now: number, opts: { forMs?: number; reason?: string; by?: string } = {}): Memory {
  return {
    ...memory,
    maintenance: { since: now, ...(opts.forMs !== undefined && { until: now + opts.forMs }), ...(opts.reason && { reason: opts.reason }), ...(opts.by && { by: opts.by }), remindedAt: now },
  };
}

/** `ha-watchdog switchover`: maintenance that also holds the VIP on the peer until `takeback`. */
export function switchover(memory: Memory, now: number, opts: { reason?: string; by?: string } = {}): Memory {
  const m = pause(memory, now, { reason: opts.reason ?? 'switchover', by: opts.by });
  return { ...m, maintenance: { ...m.maintenance!, switchover: true } };
}

/** `ha-watchdog resume`: maintenance off, and a flap hold lifted (the count starts over). */
export function resume(memory: Memory): Memory {
  const { maintenance: _, ...rest } = memory;
  const keepalived = { ...rest.keepalived };
  clearFlapping(keepalived);
  return { ...rest, keepalived };
}
