// sd_notify through the systemd-notify tool (placeholder until the full module lands).
import { execFile } from 'node:child_process';

export interface Notifier {
  ready(status: string): void;
  status(status: string): void;
  watchdog(): void;
  stopping(): void;
  reloading(): void;
  readonly watchdogIntervalMs: number | null;
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env): Notifier {
  const enabled = Boolean(env.NOTIFY_SOCKET);
  const usec = Number(env.WATCHDOG_USEC);
  const watchdogIntervalMs = enabled && usec > 0 ? usec / 1000 : null;
  let lastPing = 0;
  const send = (...fields: string[]) => {
    if (!enabled) return;
    execFile('systemd-notify', [`--pid=${process.pid}`, ...fields], () => undefined);
  };
  return {
    watchdogIntervalMs,
    ready: (s) => send('READY=1', `STATUS=${s}`),
    status: (s) => send(`STATUS=${s}`),
    watchdog: () => {
      if (watchdogIntervalMs === null || Date.now() - lastPing < watchdogIntervalMs / 4) return;
      lastPing = Date.now();
      send('WATCHDOG=1');
    },
    stopping: () => send('STOPPING=1'),
    reloading: () => send('RELOADING=1'),
  };
}
