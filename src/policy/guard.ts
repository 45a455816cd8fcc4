// The peer guard: before this host gives up the VIP, is the other host fit to take it?
// A degraded host serving something beats no host at all, so the VIP is kept here when
// the peer says it is unhealthy too.
import type { PeerObservation, ServiceMemory, ServiceObservation } from './types.js';

export interface GuardConfig {
  /** A peer is configured (its /healthz is asked). */
  configured: boolean;
  /** A peer that cannot be asked counts as unhealthy. */
  required: boolean;
}

export type Verdict = { go: true; reason: string } | { go: false; reason: string };

/** May a failover (a critical service given up on) move the VIP to the peer? */
export function failoverVerdict(guard: GuardConfig, peer: PeerObservation | undefined): Verdict {
  if (!guard.configured) return { go: true, reason: 'no peer guard configured' };
  if (!peer) return { go: false, reason: 'the peer was not asked' };
  if (peer.reachable && peer.healthy) return { go: true, reason: `the peer is healthy${peer.reason ? ` (${peer.reason})` : ''}` };
  if (peer.reachable) return { go: false, reason: `the peer is unhealthy too: ${peer.reason ?? 'it says so'}` };
  if (guard.required) return { go: false, reason: `the peer cannot be asked and peer.required is true: ${peer.reason ?? 'no answer'}` };
  return { go: true, reason: `the peer cannot be asked (${peer.reason ?? 'no answer'}); peer.required is false` };
}

/**
 * May a handover release the VIP before restarting? Only from the host that holds it
 * (`vipHeld`, when known), and only to a peer known to be healthy. A host without the
 * VIP has nothing to hand over: were it to release anyway, two hosts failing at the
 * same moment would both let go (each asked the other a moment before its own failure
 * showed), and nobody would hold the VIP.
 */
export function handoverVerdict(guard: GuardConfig, peer: PeerObservation | undefined, vipHeld?: boolean): Verdict {
  if (!guard.configured) return { go: false, reason: 'handover-first needs a peer guard (peer.url) to know the peer is healthy; restarting first' };
  if (vipHeld === false) return { go: false, reason: 'the VIP is not on this host: nothing to hand over; restarting in place' };
  if (peer?.reachable && peer.healthy) return { go: true, reason: 'the peer is healthy' };
  if (peer?.reachable) return { go: false, reason: `the peer is unhealthy (${peer.reason ?? 'it says so'}); restarting first` };
  return { go: false, reason: `the peer cannot be asked (${peer?.reason ?? 'no answer'}); restarting first` };
}

/**
 * Whether this poll's decision may hinge on the peer, so the loop asks it (only when
 * something is wrong): a critical service goes down with this poll (fall reached, or its
 * process is gone), is down or was given up on, or a failover is held. A first failed
 * probe that is not yet `fall` asks nothing: its retry goes out at once.
 */
export function needsPeer(
  services: Record<string, { critical: boolean; fall: number; mem?: ServiceMemory; obs?: ServiceObservation }>,
  held: boolean,
): boolean {
  if (held) return true;
  return Object.values(services).some(
    (s) =>
      s.critical &&
      (s.mem?.failed === true || s.mem?.health === 'down' || (s.obs?.ok === false && (s.obs.probes.some((p) => p.gone) || (s.mem?.bad ?? 0) + 1 >= s.fall))),
  );
}
