// The questions several parts ask of the memory, answered once: is a service healthy,
// is the host healthy, is maintenance on, what one word says a service's state.
import type { KeepalivedMemory, Maintenance, ServiceMemory } from './types.js';

/** Up after fall/rise, and not given up on. */
export function serviceHealthy(m: Pick<ServiceMemory, 'health' | 'failed'> | undefined): boolean {
  return m !== undefined && m.health === 'up' && !m.failed;
}

/** The critical services that are not healthy (unknown, down, or failed), in config order. */
export function unhealthyCritical(critical: Record<string, boolean>, services: Record<string, Pick<ServiceMemory, 'health' | 'failed'> | undefined>): string[] {
  return Object.entries(critical)
    .filter(([name, isCritical]) => isCritical && !serviceHealthy(services[name]))
    .map(([name]) => name);
}

/** Maintenance set and not expired: probing goes on, no action is taken. */
export function pausedAt(m: Maintenance | undefined, now: number): boolean {
  return m !== undefined && (m.until === undefined || m.until > now);
}

export type ServiceState = 'up' | 'down' | 'unknown' | 'restarting' | 'waiting' | 'failed';

/** One word for `status`, STATUS= and the peer: what the agent is doing about it first, then its health. */
export function serviceState(m: Pick<ServiceMemory, 'health' | 'failed' | 'phase'> | undefined): ServiceState {
  if (!m) return 'unknown';
  if (m.failed) return 'failed';
  if (m.phase === 'restarting') return 'restarting';
  if (m.phase === 'grace') return 'waiting';
  return m.health;
}

/** "keepalived running" / "keepalived stopped (failover)" / ...: how STATUS= and `status` say it. */
export function keepalivedPhrase(running: boolean | undefined, mem: Pick<KeepalivedMemory, 'release'>): string {
  if (running === undefined) return 'keepalived unknown';
  if (running) return 'keepalived running';
  return mem.release.active ? 'keepalived stopped (failover)' : 'keepalived not running';
}
