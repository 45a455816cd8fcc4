// failover.order: when a critical service goes down, restart it in place, or first hand
// the VIP to the peer and restart it with nobody waiting on it? `auto` (the default)
// weighs what clients would see: the service's start time, learned from its last start,
// against what a handover costs (measured, or about a second until measured). A start
// never seen is taken as slow: it may cost a minute, a handover costs a second.
import { human } from '../config/duration.js';
import { handoverVerdict, type GuardConfig } from './guard.js';
import { HANDOVER_COST_MS } from './limits.js';
import type { PeerObservation, ServiceMemory } from './types.js';

export type FailoverOrder = 'auto' | 'restart-first' | 'handover-first';

export interface OrderChoice {
  handover: boolean;
  reason: string;
}

/** What a handover costs clients: the last one measured, else the constant. */
export const handoverCost = (measuredMs: number | undefined): number => measuredMs ?? HANDOVER_COST_MS;

/** failover.order auto, for one service that just went down. */
export function chooseOrder(
  name: string,
  mem: Pick<ServiceMemory, 'startMs' | 'startFrom'>,
  handoverMs: number,
  guard: GuardConfig,
  peer: PeerObservation | undefined,
  vipHeld?: boolean,
): OrderChoice {
  const cost = `about ${human(handoverMs)}`;
  if (!guard.configured) return { handover: false, reason: 'no peer guard (peer.url) to tell whether the peer could take the VIP; restarting in place first' };
  const verdict = handoverVerdict(guard, peer, vipHeld);
  if (!verdict.go) return { handover: false, reason: verdict.reason };
  if (mem.startMs === undefined) {
    return { handover: true, reason: `no start time known yet for ${name} (an unknown start may take a minute, a handover ${cost}); handing the VIP to the healthy peer first` };
  }
  const took = `${name} took ${human(mem.startMs)} to start last time${mem.startFrom === 'sighting' ? ' (seen starting)' : ''}`;
  if (mem.startMs > handoverMs) return { handover: true, reason: `${took}, longer than a handover (${cost}); handing the VIP to the healthy peer first` };
  return { handover: false, reason: `${took}, no longer than a handover (${cost}); restarting in place` };
}
