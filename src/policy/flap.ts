// The pair's flap limit: two half-broken hosts can hand the VIP back and forth all day,
// each release costing clients a handover. At most FLAP_LIMIT releases by this host in
// FLAP_WINDOW_MS; past that the VIP stays where it is (`failover.flapping`, said once)
// until the oldest release leaves the window or an operator runs `ha-watchdog resume`.
import { human } from '../config/duration.js';
import type { KeepalivedMemory, PolicyEvent } from './types.js';

export const FLAP_LIMIT = 6;
export const FLAP_WINDOW_MS = 3_600_000;

/** May this host release the VIP now? Otherwise the event to say (once per hold). */
export function mayRelease(mem: KeepalivedMemory, now: number, limit = FLAP_LIMIT): { go: true } | { go: false; events: PolicyEvent[] } {
  const recent = (mem.release.history ?? []).filter((t) => now - t < FLAP_WINDOW_MS);
  if (recent.length < limit) {
    if (mem.release.flapping) mem.release.flapping = undefined;
    return { go: true };
  }
  if (mem.release.flapping) return { go: false, events: [] };
  mem.release.flapping = true;
  const until = Math.min(...recent) + FLAP_WINDOW_MS;
  return {
    go: false,
    events: [
      {
        level: 'error',
        event: 'failover.flapping',
        reason: `this host released the VIP ${recent.length} times in the last ${human(FLAP_WINDOW_MS)} (limit ${limit}): keeping it where it is until ${new Date(until).toISOString()} or \`ha-watchdog resume\``,
        releases: recent.length,
        until: new Date(until).toISOString(),
      },
    ],
  };
}

/** A release happened: counted (only those inside the window are kept). */
export function countRelease(mem: KeepalivedMemory, now: number): void {
  mem.release.history = [...(mem.release.history ?? []).filter((t) => now - t < FLAP_WINDOW_MS), now];
}

/** `ha-watchdog resume`: the operator has looked; the count starts over. */
export function clearFlapping(mem: KeepalivedMemory): boolean {
  const was = mem.release.flapping === true;
  mem.release.flapping = undefined;
  mem.release.history = undefined;
  return was;
}
