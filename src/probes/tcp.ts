// TCP probe, like keepalived's TCP_CHECK: a connect within the timeout, then close.
import { connect } from 'node:net';
import type { TcpCheck } from '../config/load.js';
import type { ProbeResult } from '../policy/types.js';

export function checkTcp(cfg: TcpCheck): Promise<ProbeResult> {
  const started = performance.now();
  const target = cfg.host.includes(':') ? `[${cfg.host}]:${cfg.port}` : `${cfg.host}:${cfg.port}`;
  return new Promise((resolve) => {
    const socket = connect({ host: cfg.host, port: cfg.port });
    const finish = (ok: boolean, reason?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ probe: 'tcp', ok, reason, durationMs: Math.round((performance.now() - started) * 10) / 10 });
    };
    const timer = setTimeout(() => finish(false, `${target}: no connection within ${cfg.timeout} ms`), cfg.timeout);
    socket.once('connect', () => finish(true));
    socket.once('error', (e: NodeJS.ErrnoException) => finish(false, `${target}: ${e.code ?? e.message}`));
  });
}
