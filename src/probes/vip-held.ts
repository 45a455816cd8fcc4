// Does this host hold the VIP right now? The address of keepalived.vip's URL among this
// host's own interface addresses (what `ip addr` shows; keepalived adds the VIP there
// while it is MASTER). Read by `status`, served on /healthz, compared with the peer's.
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface VipHeld {
  url: string | null;
  address: string | null;
  /** "unknown": no keepalived.vip, or its URL names a host rather than an address. */
  held: boolean | 'unknown';
  note: string | null;
}

/** Whether this host has the VIP: the host of keepalived.vip.url among its own addresses. */
export function vipHeld(url: string | undefined, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): VipHeld {
  if (!url) return { url: null, address: null, held: 'unknown', note: 'no keepalived.vip configured' };
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return { url, address: null, held: 'unknown', note: 'keepalived.vip.url is not a URL' };
  }
  if (!isIP(host)) return { url, address: null, held: 'unknown', note: `keepalived.vip.url names a host (${host}), not an address` };
  const want = host.toLowerCase();
  const held = Object.values(interfaces).some((list) => list?.some((a) => a.address.toLowerCase() === want));
  return { url, address: host, held, note: null };
}
