// Prometheus metrics of the agent, fed once per poll from its PollResult and memory.
// Its own Registry (never prom-client's global one) so tests and a reload never
// collide, and no collectDefaultMetrics: the daemon polls every 1-3 s and must stay
// cheap; the two process gauges operators look for are computed only at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { handoverCost } from '../policy/order.js';
import type { Memory } from '../policy/types.js';
import type { PollResult } from '../agent/agent.js';
import { pausedAt } from '../policy/predicates.js';

// 1 ms .. 5 s: a process probe through /proc is well under 1 ms, an HTTP timeout is 500 ms by default.
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const KEEPALIVED_ACTIONS = { 'keepalived.start': 'start', 'keepalived.stop': 'stop', 'vip.release': 'release', 'vip.reclaim': 'reclaim' } as const;
const RESULTS = ['ok', 'failed'] as const;


export class Metrics {
  readonly registry = new Registry();
  private readonly serviceUp: Gauge<'service'>;
  private readonly serviceFailed: Gauge<'service'>;
  private readonly startSeconds: Gauge<'service'>;
  private readonly handoverSeconds: Gauge<'measured'>;
  private readonly probeDuration: Histogram<'service' | 'probe'>;
  private readonly probeFailures: Counter<'service' | 'probe'>;
  private readonly restarts: Counter<'service' | 'result'>;
  private readonly restartFailures: Counter<'service'>;
  private readonly failovers: Counter;
  private readonly failoverHeld: Counter;
  private readonly handovers: Counter;
  private readonly failedOver: Gauge;
  private readonly onHold: Gauge;
  private readonly vipSplit: Gauge;
  private readonly vipOrphaned: Gauge;
  private readonly flapping: Gauge;
  private readonly keepalivedActions: Counter<'action' | 'result'>;
  private readonly keepalivedRunning: Gauge;
  private readonly pollDuration: Histogram;
  private readonly paused: Gauge;
  private readonly lastPoll: Gauge;
  /** Every service with series, and the probe kinds seen for it, so a reload that drops it can remove them all. */
  private readonly known = new Map<string, Set<string>>();

  constructor() {
    const registers = [this.registry];
    const p = 'ha_watchdog_';
    this.serviceUp = new Gauge({ name: `${p}service_up`, help: 'The service is up after fall/rise (1), or down or not yet known (0).', labelNames: ['service'], registers });
    this.serviceFailed = new Gauge({ name: `${p}service_failed`, help: 'Restart attempts are exhausted or the budget spent: the service counts as failed (1).', labelNames: ['service'], registers });
    this.startSeconds = new Gauge({ name: `${p}service_start_seconds`, help: 'How long the service took to start last time (restart or first sighting to healthy); absent until seen.', labelNames: ['service'], registers });
    this.handoverSeconds = new Gauge({ name: `${p}handover_seconds`, help: 'What a handover costs, as failover.order auto weighs it: the last one measured (release to the VIP answering from the peer, measured="true"), else the 1 s estimate (measured="false").', labelNames: ['measured'], registers });
    this.probeDuration = new Histogram({ name: `${p}probe_duration_seconds`, help: 'Time one probe took.', labelNames: ['service', 'probe'], buckets: SECONDS_BUCKETS, registers });
    this.probeFailures = new Counter({ name: `${p}probe_failures_total`, help: 'Probes that failed (before fall/rise).', labelNames: ['service', 'probe'], registers });
    this.restarts = new Counter({ name: `${p}restarts_total`, help: 'Restart commands that finished, by whether the command succeeded.', labelNames: ['service', 'result'], registers });
    this.restartFailures = new Counter({ name: `${p}restart_failures_total`, help: 'Failed restart attempts: the command failed, or the service was not healthy within grace.', labelNames: ['service'], registers });
    this.failovers = new Counter({ name: `${p}failovers_total`, help: 'Failovers: a critical service failed and keepalived is stopped so the VIP moves.', registers });
    this.failoverHeld = new Counter({ name: `${p}failover_held_total`, help: 'Failovers held back because the peer is unhealthy too.', registers });
    this.handovers = new Counter({ name: `${p}handovers_total`, help: 'Handovers (failover.order auto or handover-first): the VIP given to the peer while a service restarts.', registers });
    this.failedOver = new Gauge({ name: `${p}failed_over`, help: 'This host has given the VIP away (failover or handover) and not taken it back yet (1).', registers });
    this.vipSplit = new Gauge({ name: `${p}vip_split`, help: 'Both hosts hold the VIP (split brain), said after 3 polls in a row (1).', registers });
    this.vipOrphaned = new Gauge({ name: `${p}vip_orphaned`, help: 'Neither host holds the VIP while one is healthy, said after 3 polls in a row (1).', registers });
    this.flapping = new Gauge({ name: `${p}failover_flapping`, help: 'The flap limit holds the VIP where it is: too many releases by this host in an hour (1).', registers });
    this.onHold = new Gauge({ name: `${p}failover_on_hold`, help: 'A failover is due but held because the peer is unhealthy too (1).', registers });
    this.keepalivedActions = new Counter({ name: `${p}keepalived_actions_total`, help: 'keepalived starts and stops, and VIP releases and reclaims through the track file, that finished.', labelNames: ['action', 'result'], registers });
    this.keepalivedRunning = new Gauge({ name: `${p}keepalived_running`, help: 'keepalived was running at the last poll (1).', registers });
    this.pollDuration = new Histogram({ name: `${p}poll_duration_seconds`, help: 'Time one poll took (probe, decide, start actions, save).', buckets: SECONDS_BUCKETS, registers });
    this.paused = new Gauge({ name: `${p}paused`, help: 'Maintenance: the agent probes but takes no action (1).', registers });
    this.lastPoll = new Gauge({ name: `${p}last_poll_timestamp_seconds`, help: 'When the last poll completed (Unix time).', registers });
    for (const action of Object.values(KEEPALIVED_ACTIONS)) for (const result of RESULTS) this.keepalivedActions.inc({ action, result }, 0);

    // Scrape-time only: nothing of these runs per poll.
    const started = Math.round(Date.now() / 1000 - process.uptime());
    new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers, collect() { this.set(started); } });
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers, collect() { this.set(process.memoryUsage.rss()); } });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Called after each poll with the memory decide() left (its services are the configured ones). */
  observePoll(r: PollResult, memory: Memory, now: number): void {
    for (const [service, m] of Object.entries(memory.services)) {
      if (!this.known.has(service)) this.addService(service);
      this.serviceUp.set({ service }, m.health === 'up' ? 1 : 0);
      this.serviceFailed.set({ service }, m.failed ? 1 : 0);
      if (m.startMs !== undefined) this.startSeconds.set({ service }, m.startMs / 1000);
    }
    const measured = memory.keepalived.vip.handoverMs !== undefined;
    this.handoverSeconds.remove({ measured: String(!measured) });
    this.handoverSeconds.set({ measured: String(measured) }, handoverCost(memory.keepalived.vip.handoverMs) / 1000);
    for (const service of this.known.keys()) if (!Object.hasOwn(memory.services, service)) this.removeService(service);

    for (const [service, obs] of Object.entries(r.observations.services)) {
      const probes = this.known.get(service);
      if (!probes) continue; // observed but no longer configured (a reload between probe and decide)
      for (const p of obs.probes) {
        const labels = { service, probe: p.probe };
        if (!probes.has(p.probe)) {
          probes.add(p.probe);
          this.probeFailures.inc(labels, 0);
        }
        this.probeDuration.observe(labels, p.durationMs / 1000);
        if (!p.ok) this.probeFailures.inc(labels);
      }
    }

    for (const o of r.observations.outcomes) {
      if (o.dryRun) continue; // nothing ran
      const result = o.ok ? 'ok' : 'failed';
      if (o.kind === 'restart') {
        if (this.known.has(o.target)) this.restarts.inc({ service: o.target, result });
      } else {
        this.keepalivedActions.inc({ action: KEEPALIVED_ACTIONS[o.kind], result });
      }
    }

    for (const e of r.events) {
      if (e.event === 'restart.failed' && e.service !== undefined && this.known.has(e.service)) this.restartFailures.inc({ service: e.service });
      else if (e.event === 'failover') this.failovers.inc();
      else if (e.event === 'failover.held') this.failoverHeld.inc();
      else if (e.event === 'handover') this.handovers.inc();
    }

    this.keepalivedRunning.set(r.observations.keepalived.running ? 1 : 0);
    this.failedOver.set(memory.keepalived.release.active ? 1 : 0);
    this.onHold.set(memory.keepalived.guard.held ? 1 : 0);
    this.vipSplit.set(memory.keepalived.vip.split?.said ? 1 : 0);
    this.vipOrphaned.set(memory.keepalived.vip.orphaned?.said ? 1 : 0);
    this.flapping.set(memory.keepalived.release.flapping ? 1 : 0);
    this.pollDuration.observe(r.durationMs / 1000);
    this.paused.set(pausedAt(memory.maintenance, now) ? 1 : 0);
    this.lastPoll.set(now / 1000);
  }

  // Counters start at 0, so the first restart is a visible increase to rate()/increase().
  private addService(service: string): void {
    this.known.set(service, new Set());
    for (const result of RESULTS) this.restarts.inc({ service, result }, 0);
    this.restartFailures.inc({ service }, 0);
  }

  // A service dropped by a reload: all its series go, so nothing reports a service that is no longer watched.
  private removeService(service: string): void {
    for (const probe of this.known.get(service) ?? []) {
      this.probeDuration.remove({ service, probe });
      this.probeFailures.remove({ service, probe });
    }
    for (const result of RESULTS) this.restarts.remove({ service, result });
    this.restartFailures.remove({ service });
    this.serviceUp.remove({ service });
    this.serviceFailed.remove({ service });
    this.startSeconds.remove({ service });
    this.known.delete(service);
  }
}
