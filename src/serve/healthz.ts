// This host's health in one small object: served read-only at /healthz, read by the
// peer guard of the other host, and shown by `status`.
import { hostname } from 'node:os';
import type { Memory } from '../policy/types.js';
import { pausedAt, unhealthyCritical } from '../policy/predicates.js';

export interface HostHealth {
  /** Every critical service is up and none has been given up on. */
  healthy: boolean;
  host: string;
  /** The last completed poll (ISO time); absent before the first. */
  polledAt?: string;
  paused: boolean;
  services: Record<string, { health: 'unknown' | 'up' | 'down'; critical: boolean; failed: boolean; phase: string }>;
  keepalived: { running?: boolean; failedOver: boolean; held: boolean };
  /** Whether this host has the VIP on an interface right now (absent without keepalived.vip as an address). */
  vip?: { address: string; held: boolean };
}

/**
 * `vanished`: services whose known process is dead right now, before any poll has seen
 * it. The peer asks exactly when something just broke (both tomcats killed at once):
 * an answer from the last poll alone could call this host healthy a few hundred ms
 * after its tomcat died, and both hosts would give the VIP away.
 */
export function hostHealth(
  memory: Memory,
  critical: Record<string, boolean>,
  keepalivedRunning: boolean | undefined,
  polledAt: number | undefined,
  now = Date.now(),
  vanished: string[] = [],
  vip?: { address: string; held: boolean },
): HostHealth {
  const services: HostHealth['services'] = {};
  for (const [name, m] of Object.entries(memory.services)) {
    services[name] = { health: vanished.includes(name) ? 'down' : m.health, critical: critical[name] ?? true, failed: m.failed, phase: m.phase };
  }
  const healthy = unhealthyCritical(critical, services).length === 0;
  const paused = pausedAt(memory.maintenance, now);
  return {
    healthy,
    host: hostname(),
    ...(polledAt !== undefined && { polledAt: new Date(polledAt).toISOString() }),
    paused,
    services,
    keepalived: { running: keepalivedRunning, failedOver: memory.keepalived.release.active, held: memory.keepalived.guard.held ?? false },
    ...(vip && { vip }),
  };
}
