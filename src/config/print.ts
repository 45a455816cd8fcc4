// The effective config (defaults filled in) rendered back into the file's own syntax.
import { formatDuration } from './duration.js';
import type { Config } from './load.js';

export function effectiveConfig(c: Config): unknown {
  const cmd = (s: { command?: string[]; unit?: string; timeout: number }) => ({ ...(s.unit !== undefined ? { unit: s.unit } : { command: s.command }), timeout: formatDuration(s.timeout) });
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
          ...(s.tcp && { tcp: { address: hostPort(s.tcp), timeout: formatDuration(s.tcp.timeout) } }),
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
      control: c.keepalived.control,
      ...(c.keepalived.control === 'track-file' ? { trackFile: c.keepalived.trackFile } : {}),
    },
    failover: c.failover,
    ...(c.metrics ? { metrics: { listen: hostPort(c.metrics.listen) } } : {}),
    ...(c.notify
      ? {
          notify: {
            ...(c.notify.webhook ? { webhook: { ...c.notify.webhook, timeout: formatDuration(c.notify.webhook.timeout) } } : {}),
            ...(c.notify.command ? { command: cmd(c.notify.command) } : {}),
            events: c.notify.events,
            dedupe: formatDuration(c.notify.dedupe),
          },
        }
      : {}),
    ...(c.peer ? { peer: { ...c.peer, timeout: formatDuration(c.peer.timeout) } } : {}),
  };
}

const hostPort = (t: { host: string; port: number }) => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);
