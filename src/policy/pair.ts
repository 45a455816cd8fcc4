// The pair's VIP, seen from both sides every poll: this host's interfaces and the peer's
// /healthz. Both hold it: a split brain (VRRP adverts lost, protocol 112 firewalled, a
// VM frozen and thawed) - clients reach either host at random. Neither holds it while
// one of them is healthy: an orphaned VIP - nobody answers. Both are said once, after
// PAIR_POLLS polls in a row (a handover passes through either state for a moment), and
// once more when they end. No action: which host should keep the VIP is a human's call.
import type { KeepalivedMemory, PeerObservation, PolicyEvent } from './types.js';

export const PAIR_POLLS = 3;

export function stepPair(mem: KeepalivedMemory, vipHeld: boolean | undefined, peer: PeerObservation | undefined, thisHealthy: boolean): PolicyEvent[] {
  // No answer yet this poll (asked in the background): nothing changes.
  if (peer === undefined) return [];
  const known = vipHeld !== undefined && peer?.reachable === true && peer.vipHeld !== undefined;
  const split = known && vipHeld && peer.vipHeld === true;
  const orphaned = known && !vipHeld && peer.vipHeld === false && (thisHealthy || peer.healthy);
  const views = known ? { thisHost: { holdsVip: vipHeld, healthy: thisHealthy }, peer: { holdsVip: peer.vipHeld, healthy: peer.healthy, says: peer.reason } } : undefined;
  return [
    ...track(mem, 'split', split, () => ({
      level: 'error',
      event: 'vip.split',
      reason: `both hosts hold the VIP (split brain): this host and the peer (${peer?.reason ?? 'peer'}); clients reach either at random. Check VRRP between them (protocol 112, advert loss) and which keepalived should step down`,
      ...views,
    })),
    ...track(mem, 'orphaned', orphaned, () => ({
      level: 'error',
      event: 'vip.orphaned',
      reason: `neither host holds the VIP although ${thisHealthy ? 'this host' : 'the peer'} is healthy: nobody answers on it. Check both keepalived (running? FAULT? the track file?)`,
      ...views,
    })),
  ];
}

/** Counts polls in a row; says `start` once at PAIR_POLLS, and the end once. Steady and fine: nothing written. */
function track(mem: KeepalivedMemory, what: 'split' | 'orphaned', now: boolean, start: () => PolicyEvent): PolicyEvent[] {
  const cur = mem.vip[what];
  if (!now) {
    if (!cur) return [];
    mem.vip[what] = undefined;
    return cur.said ? [{ level: 'info', event: `vip.${what === 'split' ? 'split_ended' : 'orphan_ended'}`, reason: `the VIP is held by one host again (after ${what === 'split' ? 'a split brain' : 'being orphaned'})` }] : [];
  }
  const polls = (cur?.polls ?? 0) + 1;
  if (cur?.said) return [];
  if (polls < PAIR_POLLS) {
    mem.vip[what] = { polls };
    return [];
  }
  mem.vip[what] = { polls, said: true };
  return [start()];
}
