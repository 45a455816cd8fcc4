// What the daemon serves and sends besides its log: the metrics + /healthz listener
// and the notifications. Both optional, both loaded only when configured (prom-client
// alone is ~10 MiB), both rebuilt on reload when their section changed. A failure to
// start either is logged and the agent goes on supervising without it.
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Alerts } from '../alerts/index.js';
import type { PolicyEvent } from '../policy/types.js';
import type { PollResult } from '../agent/agent.js';
import type { Metrics } from './metrics.js';
import type { StatusServer } from './listener.js';

/** How long SIGTERM waits for notifications still in flight. */
export const ALERTS_DRAIN_MS = 10_000;

export interface OutletSources {
  log: Logger;
  /** The poll loop is completing polls. */
  alive: () => boolean;
  /** This host's health (the /healthz body). */
  health: () => unknown;
  /** What `doctor` on the peer is told (/pair), given its nonce. */
  pair?: (nonce: string) => unknown;
}

export class Outlets {
  private metrics?: Metrics;
  private server?: StatusServer;
  private alerts?: Alerts;
  private metricsKey = '';
  private notifyKey = '';

  constructor(private readonly src: OutletSources) {}

  async apply(config: Config): Promise<void> {
    const metricsKey = JSON.stringify([config.metrics ?? null, config.peer?.url ?? null]);
    if (metricsKey !== this.metricsKey) {
      this.metricsKey = metricsKey;
      await this.server?.close();
      this.server = undefined;
      this.metrics = undefined;
      if (config.metrics) await this.startMetrics(config.metrics.listen, config.peer?.url);
    }
    const notifyKey = JSON.stringify(config.notify ?? null);
    if (notifyKey !== this.notifyKey) {
      this.notifyKey = notifyKey;
      await this.alerts?.close(1000);
      this.alerts = undefined;
      if (config.notify) {
        const { createAlerts } = await import('../alerts/index.js');
        this.alerts = createAlerts(config.notify, { log: this.src.log, stateDir: config.stateDir });
      }
    }
  }

  private async startMetrics(listen: { host: string; port: number }, peerUrl?: string): Promise<void> {
    const [{ Metrics }, { startStatusServer, formatAddress }] = await Promise.all([import('./metrics.js'), import('./listener.js')]);
    const metrics = new Metrics();
    try {
      const pair = peerUrl && this.src.pair ? { from: new URL(peerUrl).hostname.replace(/^\[|\]$/g, ''), answer: this.src.pair } : undefined;
      this.server = await startStatusServer(listen, { metrics, log: this.src.log, health: () => ({ alive: this.src.alive(), body: this.src.health() }), ...(pair && { pair }) });
      this.metrics = metrics;
      this.src.log.info({ event: 'metrics.listen', address: formatAddress(listen) }, `serving /metrics and /healthz on ${formatAddress(listen)}`);
    } catch (e) {
      this.src.log.error({ event: 'metrics.failed', reason: (e as Error).message }, `${(e as Error).message}; going on without metrics`);
    }
  }

  observe(r: PollResult, memory: Parameters<Metrics['observePoll']>[1]): void {
    this.metrics?.observePoll(r, memory, Date.now());
  }

  send(e: PolicyEvent): void {
    this.alerts?.send(e);
  }

  async close(alertsDrainMs = ALERTS_DRAIN_MS): Promise<void> {
    await Promise.all([this.server?.close(), this.alerts?.close(alertsDrainMs)]);
  }
}
