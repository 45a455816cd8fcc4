// The effective config (defaults filled in) rendered back into the file's own syntax.
import { formatDuration } from './duration.js';
import type { Config } from './load.js';

export function effectiveConfig(c: Config): unknown {
  const cmd = (s: { command: string[]; timeout: number }) => ({ command: s.command, timeout: formatDuration(s.timeout) });
  return {
    interval: formatDuration(c.interval),
    stateDir: c.stateDir,
    services: Object.fromEntries(
      Object.entries(c.services).map(([name, s]) => [
        name,
        {
          critical: s.critical,
          ...(s.process && { process: s.process }),
          ...(s.http && { http: { ...s.http, timeout: formatDuration(s.http.timeout) } }),
          ...(s.tcp && { tcp: { address: s.tcp.host.includes(':') ? `[${s.tcp.host}]:${s.tcp.port}` : `${s.tcp.host}:${s.tcp.port}`, timeout: formatDuration(s.tcp.timeout) } }),
          fall: s.fall,
          rise: s.rise,
          ...(s.restart && { restart: { ...cmd(s.restart), grace: formatDuration(s.restart.grace), attempts: s.restart.attempts } }),
        },
      ]),
    ),
    keepalived: {
      process: c.keepalived.process,
      start: cmd(c.keepalived.start),
      ...(c.keepalived.stop ? { stop: cmd(c.keepalived.stop) } : {}),
      ...(c.keepalived.vip ? { vip: { ...c.keepalived.vip, timeout: formatDuration(c.keepalived.vip.timeout) } } : {}),
    },
  };
}
