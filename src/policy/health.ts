// fall/rise hysteresis: a service changes state only after enough polls agree.
import type { ServiceObservation, ServiceMemory } from './types.js';

export interface HealthChange {
  to: 'up' | 'down';
  from: ServiceMemory['health'];
}

export function applyHysteresis(
  mem: ServiceMemory,
  obs: ServiceObservation,
  fall: number,
  rise: number,
  now: number,
): HealthChange | null {
  // Capped, so a steady service leaves the memory unchanged (and the state file unwritten).
  if (obs.ok) {
    mem.good = Math.min(mem.good + 1, rise);
    mem.bad = 0;
  } else {
    // A process that no longer exists cannot flicker back: no fall for it. fall stays
    // for what can (a slow HTTP answer, a refused connection).
    mem.bad = obs.probes.some((p) => p.gone) ? fall : Math.min(mem.bad + 1, fall);
    mem.good = 0;
  }
  const from = mem.health;
  if (mem.health !== 'up' && mem.good >= rise) mem.health = 'up';
  else if (mem.health !== 'down' && mem.bad >= fall) mem.health = 'down';
  if (mem.health === from) return null;
  mem.since = now;
  return { to: mem.health as 'up' | 'down', from };
}

/** The failing probes of one poll, as one line: "http: status 503, expected 200; process: no java process". */
export function failureSummary(obs: ServiceObservation | undefined): string {
  if (!obs) return 'not observed';
  const bad = obs.probes.filter((p) => !p.ok).map((p) => `${p.probe}: ${p.reason ?? 'failed'}`);
  return bad.length ? bad.join('; ') : 'all probes pass';
}
