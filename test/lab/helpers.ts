// Shared by the lab scenario tests: one fresh lab per scenario (ha-watchdog on
// both hosts), the scenario played by lab/scenarios.ts, and readable failures.
import { AssertionError } from 'node:assert';
import { type AgentEvent, Lab, type HostName } from '../../lab/lab.js';
import { type PlayResult, play, report, scenario, type ScenarioKey } from '../../lab/scenarios.js';

/**
 * Brings a lab up with the agent on both hosts (configured as the scenario needs:
 * its entry's `lab`, e.g. the peer guard), plays the scenario (by name, or by its id
 * as an alias), tears the lab down (always), and returns what happened. With
 * HALAB_KEEP_LOGS=<dir> the lab's logs are kept there.
 */
export async function playScenario(key: ScenarioKey): Promise<PlayResult> {
  const lab = await Lab.up({ agent: 'watchdog', ...scenario(key).lab });
  try {
    const r = await play(lab, key);
    console.log(report(r));
    return r;
  } finally {
    await lab.down();
  }
}

/** Runs assertions; on failure, the message carries the scenario's whole account. */
export function expectThat(r: PlayResult | undefined, fn: (r: PlayResult) => void): void {
  if (!r) throw new Error('the scenario did not run (see the before hook)');
  try {
    fn(r);
  } catch (e) {
    if (e instanceof AssertionError) {
      throw new AssertionError({ message: `${e.message}\n\n${report(r)}`, actual: e.actual, expected: e.expected, operator: e.operator });
    }
    throw e;
  }
}

/** Agent events of a host from the fault (fromRepair scenarios: the repair) on, optionally from `since`. */
export function eventsOf(r: PlayResult, h: HostName, event?: string, service?: string, since = r.fault): AgentEvent[] {
  return r.events[h].filter(
    (e) => (e.t ?? 0) >= since && (event === undefined || e.event === event) && (service === undefined || e.service === service),
  );
}

export function first(r: PlayResult, h: HostName, event: string, service?: string, since = r.fault): AgentEvent | undefined {
  return eventsOf(r, h, event, service, since)[0];
}

/** Client samples from `from` (default: the fault) to the end. */
export function samplesFrom(r: PlayResult, from = r.fault) {
  return r.samples.filter((s) => s.t >= from && s.t <= r.end);
}

/** Distinct VIP holders sampled from `from` (default: the fault) to the end, in order of appearance. */
export function vipHoldersFrom(r: PlayResult, from = r.fault): string[] {
  return [...new Set(r.vip.filter((s) => s.t >= from && s.t <= r.end).map((s) => s.holder))];
}

export function lastVipHolder(r: PlayResult): string | undefined {
  return r.vip[r.vip.length - 1]?.holder;
}

/** Events that move keepalived (failover, stop, start, running_again) on a host. */
export const KEEPALIVED_MOVES = ['failover', 'keepalived.stop', 'keepalived.start', 'keepalived.running_again'];
