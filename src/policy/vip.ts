// After this host gave up the VIP, is anyone serving it? If nothing answers on the VIP
// for a few polls, no healthy host remains: say so clearly, once (and when it is back).
// It changes no action: starting keepalived on a broken host would not serve anyone.
import type { KeepalivedMemory, PolicyEvent, VipObservation } from './types.js';

export const VIP_FALL = 3;

export function stepVip(mem: KeepalivedMemory, vip: VipObservation | undefined, released: boolean, now: number): PolicyEvent[] {
  if (!vip) return [];
  // Only once this host has let go of the VIP does a silent VIP mean "nobody": before,
  // this host's own broken service answers it (502s while the failover is decided).
  if (!released) {
    mem.vip.bad = 0;
    if (!vip.ok || !mem.vip.unserved) return [];
  }
  if (vip.ok) {
    mem.vip.bad = 0;
    // The VIP answers from the peer: what this handover cost (failover.order auto weighs it).
    if (mem.release.at !== undefined) {
      mem.vip.handoverMs = now - mem.release.at;
      mem.release.at = undefined;
    }
    if (!mem.vip.unserved) return [];
    mem.vip.unserved = false;
    return [{ level: 'info', event: 'vip.served', reason: 'the VIP answers again' }];
  }
  mem.vip.bad = Math.min((mem.vip.bad ?? 0) + 1, VIP_FALL);
  if (mem.vip.bad < VIP_FALL || mem.vip.unserved) return [];
  mem.vip.unserved = true;
  return [
    {
      level: 'error',
      event: 'vip.unserved',
      reason: `no healthy host remains: this host gave up the VIP (${mem.release.reason ?? 'failover'}) and nothing answers on it (${vip.reason ?? 'failed'})`,
    },
  ];
}
