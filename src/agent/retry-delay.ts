// When a failing service that is not down yet is probed again (fall counts probes,
// not ticks). Probes of such a service are `retryDelay` apart start to start, as a
// re-asked question: one that failed fast (connection refused) is asked again after
// the delay, one that failed by its timeout has waited longer than that already and
// is asked again at once, so a hung service is down after about fall x timeout.
import type { Config } from '../config/load.js';
import type { Memory, ServiceObservation } from '../policy/types.js';

/** The soonest re-probe any such service asks for, in ms; undefined when none does. */
export function retryIn(
  fresh: Record<string, ServiceObservation>,
  services: Config['services'],
  memory: Memory['services'],
  probing: (service: string) => boolean,
): number | undefined {
  let soonest: number | undefined;
  for (const [name, obs] of Object.entries(fresh)) {
    const cfg = services[name];
    const mem = memory[name];
    if (obs.ok || !cfg || !mem || mem.health === 'down' || probing(name)) continue;
    const took = Math.max(0, ...obs.probes.filter((p) => !p.ok).map((p) => p.durationMs));
    soonest = Math.min(soonest ?? Infinity, Math.max(0, cfg.retryDelay - took));
  }
  return soonest;
}
