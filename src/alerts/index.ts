// Alerts for the events that need a human (`notify:` in the config): a webhook and/or a
// command, deduplicated, delivered in the background. send() is called from the poll
// loop, so it returns at once and never throws; what goes wrong is logged as alert.*.
import { hostname } from 'node:os';
import { formatDuration } from '../config/duration.js';
import type { NotifyConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import type { PolicyEvent } from '../policy/types.js';
import { AlertCommand } from './command.js';
import { Deduper, dedupeKey } from './dedupe.js';
import { buildPayload } from './payload.js';
import { DeliveryQueue } from './queue.js';
import type { Delivery } from './webhook.js';
import { Webhook } from './webhook.js';

export type { AlertPayload } from './payload.js';

/** Alerts waiting per destination before the oldest is dropped. */
export const MAX_PENDING = 100;
/** After close() gives up, how long aborted deliveries get to report how they ended. */
const SETTLE_MS = 200;

export interface AlertOptions {
  log: Logger;
  /** In the payload; defaults to os.hostname(). */
  host?: string;
  now?: () => number;
  /** Where the command's output file goes (stateDir/output/alert.command.log). */
  stateDir?: string;
  /** For tests: waiting alerts per destination (default 100), first retry backoff (default 1 s). */
  maxPending?: number;
  backoffMs?: number;
}

export interface Alerts {
  /** Queues an alert for `e` if it is one of `notify.events`; returns at once, never throws. */
  send(e: PolicyEvent): void;
  /** Stops taking alerts and waits up to `timeoutMs` for those queued or in flight; then abandons the rest. */
  close(timeoutMs: number): Promise<void>;
}

interface Job {
  event: string;
  service?: string;
  body: string;
}

interface Destination {
  name: string;
  deliver(body: string): Promise<Delivery>;
  close(): Promise<void>;
}

export function createAlerts(cfg: NotifyConfig, opts: AlertOptions): Alerts {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const host = opts.host ?? hostname();
  const wanted = new Set<string>(cfg.events);
  const deduper = new Deduper(cfg.dedupe);
  // Aborted when close() runs out of time: pending retries and requests give up at once.
  const stopping = new AbortController();
  let closing: Promise<void> | undefined;

  const destinations: Destination[] = [];
  if (cfg.webhook) {
    const webhook = new Webhook(cfg.webhook, { backoffMs: opts.backoffMs });
    destinations.push({ name: webhook.destination, deliver: (body) => webhook.post(body, stopping.signal), close: () => webhook.close() });
  }
  if (cfg.command) {
    const command = new AlertCommand(cfg.command, { stateDir: opts.stateDir ?? '/var/lib/ha-watchdog' });
    destinations.push({ name: command.destination, deliver: (body) => command.run(body), close: async () => undefined });
  }

  const about = (job: { event: string; service?: string }) => `${job.event}${job.service ? ` (${job.service})` : ''}`;
  // The logger is the last thing that may throw here; a log line lost is better than a poll loop broken.
  const safely = (f: () => void) => {
    try {
      f();
    } catch {
      // nothing better to do
    }
  };

  const queues = destinations.map((d) => {
    const queue = new DeliveryQueue<Job>(
      async (job) => {
        const r = await d.deliver(job.body);
        const fields = { alert: job.event, service: job.service, destination: d.name, attempts: r.attempts, durationMs: r.durationMs };
        safely(() => {
          if (r.ok) log.debug({ event: 'alert.sent', ...fields }, `alert ${about(job)} sent to ${d.name}`);
          else log.warn({ event: 'alert.failed', ...fields, reason: r.reason }, `alert ${about(job)} not sent to ${d.name}: ${r.reason}`);
        });
      },
      opts.maxPending ?? MAX_PENDING,
      {
        // One warning when a backlog starts dropping, one summary when it clears: not one per alert.
        onDrop: (job, n) => {
          if (n > 1) return;
          safely(() =>
            log.warn(
              { event: 'alert.dropped', alert: job.event, service: job.service, destination: d.name, dropped: 1 },
              `${d.name} is behind (${opts.maxPending ?? MAX_PENDING} alerts waiting): dropping the oldest, ${about(job)}, and more until it catches up`,
            ),
          );
        },
        onDrained: (n) => {
          if (n > 1) safely(() => log.warn({ event: 'alert.dropped', destination: d.name, dropped: n }, `${d.name} caught up; ${n} alerts were dropped in all`));
        },
      },
    );
    return { destination: d, queue };
  });

  return {
    send(e) {
      try {
        if (!wanted.has(e.event)) return;
        if (closing) {
          safely(() => log.warn({ event: 'alert.dropped', alert: e.event, service: e.service, dropped: 1 }, `alert ${about(e)} dropped: alerts are closed (the agent is stopping)`));
          return;
        }
        const at = now();
        const verdict = deduper.check(dedupeKey(e), at);
        if (!verdict.send) {
          safely(() => log.debug({ event: 'alert.suppressed', alert: e.event, service: e.service, suppressed: verdict.suppressed, window: cfg.dedupe }, `alert ${about(e)} suppressed: a repeat within the ${formatDuration(cfg.dedupe)} dedupe window`));
          return;
        }
        const body = JSON.stringify(buildPayload(e, { host, now: at, suppressed: verdict.suppressed }));
        for (const { queue } of queues) queue.push({ event: e.event, service: e.service, body });
      } catch (err) {
        safely(() => log.warn({ event: 'alert.failed', alert: e?.event, service: e?.service, reason: `internal error: ${(err as Error)?.message}` }, `alert not queued: ${(err as Error)?.message}`));
      }
    },

    close(timeoutMs) {
      closing ??= (async () => {
        const drained = Promise.all(queues.map(({ queue }) => queue.idle())).then(() => true);
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        const done = await Promise.race([drained, expired]);
        clearTimeout(timer);
        if (!done) {
          for (const { destination, queue } of queues) {
            const left = queue.outstanding;
            queue.clear();
            if (left > 0) {
              safely(() => log.warn({ event: 'alert.dropped', destination: destination.name, dropped: left }, `${left} alert(s) for ${destination.name} not delivered within the ${timeoutMs} ms allowed at shutdown`));
            }
          }
          stopping.abort();
          // Let the aborted requests log how they ended; a command keeps its own timeout.
          let settle: NodeJS.Timeout | undefined;
          await Promise.race([drained, new Promise((resolve) => (settle = setTimeout(resolve, SETTLE_MS)))]);
          clearTimeout(settle);
        }
        await Promise.all(destinations.map((d) => d.close().catch(() => undefined)));
      })();
      return closing;
    },
  };
}
