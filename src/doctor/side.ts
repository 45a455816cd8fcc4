// One host's side of `doctor`: its keepalived.conf summarized (the VRRP password only as
// a hash keyed by the asker's nonce) and what its agent config says about the pair.
// Read by `ha-watchdog doctor` for this host, and served to the peer on /pair.
import type { Config } from '../config/load.js';
import { parseConf } from '../keepalived/conf.js';
import { summarize } from '../keepalived/summary.js';
import type { AgentSide, Side } from './checks.js';

export const DEFAULT_KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';

/** keepalived.config (keepalived's own default path unless set). */
export const keepalivedConfPath = (c: Config): string => c.keepalived.config ?? DEFAULT_KEEPALIVED_CONF;

export function agentSide(c: Config): AgentSide {
  const hostPort = (u: string) => {
    const url = new URL(u);
    return `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  };
  return {
    ...(c.metrics && { listen: `${c.metrics.listen.host}:${c.metrics.listen.port}` }),
    ...(c.peer && { peer: hostPort(c.peer.url) }),
    control: c.keepalived.control,
    trackFile: c.keepalived.trackFile,
    ...(c.keepalived.vip && { vipHost: new URL(c.keepalived.vip.url).hostname.replace(/^\[|\]$/g, '') }),
  };
}

export function localSide(c: Config, nonce: string): Side {
  return { keepalived: summarize(parseConf(keepalivedConfPath(c)), nonce), agent: agentSide(c) };
}

/** A nonce as the peer may send it: 16 to 64 hex digits. */
export const isNonce = (n: unknown): n is string => typeof n === 'string' && /^[0-9a-f]{16,64}$/.test(n);
