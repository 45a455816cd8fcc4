// Unit tests of src/serve/metrics.ts: PollResults built by hand (and one sequence
// played through the real decide()) are fed to Metrics, and the values are read back
// by scraping /metrics over real HTTP on 127.0.0.1.
import type { EventName } from '../../src/catalogue/events.js';
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import type { PollResult } from '../../src/agent/agent.js';
import { Metrics } from '../../src/serve/metrics.js';
import { startStatusServer } from '../../src/serve/listener.js';
import type { Config } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { decide, freshMemory } from '../../src/policy/decide.js';
import { freshServiceMemory } from '../../src/policy/service.js';
import type { ActionOutcome, Memory, PolicyEvent, ProbeResult, ServiceMemory } from '../../src/policy/types.js';
import { find, parseExposition, value, type Sample } from '../helpers/exposition.js';

const NOW = Date.parse('2026-11-25T13:32:05Z');

function memory(services: Record<string, Partial<ServiceMemory>>, extra: Partial<Memory> = {}): Memory {
  const m = freshMemory();
  for (const [n, s] of Object.entries(services)) m.services[n] = { ...freshServiceMemory(), ...s };
  return { ...m, ...extra };
}

function poll(opts: { probes?: Record<string, ProbeResult[]>; outcomes?: ActionOutcome[]; events?: PolicyEvent[]; keepalived?: boolean; durationMs?: number } = {}): PollResult {
  const probes = opts.probes ?? {};
  return {
    observations: {
      services: Object.fromEntries(Object.entries(probes).map(([n, p]) => [n, { ok: p.every((x) => x.ok), probes: p }])),
      keepalived: { running: opts.keepalived ?? true, pids: [] },
      outcomes: opts.outcomes ?? [],
    },
    actions: [],
    events: opts.events ?? [],
    durationMs: opts.durationMs ?? 4,
    scans: 0,
  };
}

const outcome = (target: string, kind: ActionOutcome['kind'], ok: boolean, extra: Partial<ActionOutcome> = {}): ActionOutcome => ({
  target,
  kind,
  ok,
  ...(ok ? {} : { reason: 'exit code 1' }),
  startedAt: NOW - 1000,
  finishedAt: NOW,
  ...extra,
});

const event = (name: EventName, service?: string): PolicyEvent => ({ level: 'error', event: name, ...(service && { service }), reason: 'test' });

/** Serves `m` on a free loopback port for the test, and returns a scrape function. */
async function served(t: TestContext, m: Metrics): Promise<() => Promise<Sample[]>> {
  const server = await startStatusServer({ host: '127.0.0.1', port: 0 }, { metrics: m, health: () => ({ alive: true, body: {} }), log: createLogger({ write: () => {} }) });
  t.after(() => server.close());
  return async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    return parseExposition(await res.text());
  };
}

describe('agent: metrics', () => {
  it('service up/failed and keepalived running follow the memory and the observations', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    m.observePoll(poll({ keepalived: false }), memory({ tomcat: { health: 'down', failed: true }, nginx: { health: 'up' }, redis: { health: 'unknown' } }), NOW);
    const s = await scrape();
    assert.equal(value(s, 'ha_watchdog_service_up', { service: 'tomcat' }), 0);
    assert.equal(value(s, 'ha_watchdog_service_up', { service: 'nginx' }), 1);
    assert.equal(value(s, 'ha_watchdog_service_up', { service: 'redis' }), 0, 'unknown is not up');
    assert.equal(value(s, 'ha_watchdog_service_failed', { service: 'tomcat' }), 1);
    assert.equal(value(s, 'ha_watchdog_service_failed', { service: 'nginx' }), 0);
    assert.equal(value(s, 'ha_watchdog_keepalived_running'), 0);
    assert.equal(value(s, 'ha_watchdog_last_poll_timestamp_seconds'), NOW / 1000);

    m.observePoll(poll({ keepalived: true }), memory({ tomcat: { health: 'up' }, nginx: { health: 'up' }, redis: { health: 'up' } }), NOW + 3000);
    const s2 = await scrape();
    assert.equal(value(s2, 'ha_watchdog_service_up', { service: 'tomcat' }), 1);
    assert.equal(value(s2, 'ha_watchdog_service_failed', { service: 'tomcat' }), 0);
    assert.equal(value(s2, 'ha_watchdog_keepalived_running'), 1);
    assert.equal(value(s2, 'ha_watchdog_last_poll_timestamp_seconds'), (NOW + 3000) / 1000);
  });

  it('two failed restart outcomes -> restarts_total{result="failed"} 2; restart.failed events counted apart (grace expiries too)', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const mem = memory({ tomcat: { health: 'down' }, nginx: { health: 'up' } });
    m.observePoll(poll(), mem, NOW);
    let s = await scrape();
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'failed' }), 0, 'present at 0 before the first restart');
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'ok' }), 0);
    assert.equal(value(s, 'ha_watchdog_restart_failures_total', { service: 'tomcat' }), 0);

    m.observePoll(poll({ outcomes: [outcome('tomcat', 'restart', false)], events: [event('restart.failed', 'tomcat')] }), mem, NOW + 1000);
    m.observePoll(poll({ outcomes: [outcome('tomcat', 'restart', false)], events: [event('restart.failed', 'tomcat')] }), mem, NOW + 2000);
    // The command worked, but tomcat was not healthy within grace: a failed attempt, not a failed command.
    m.observePoll(poll({ outcomes: [outcome('tomcat', 'restart', true)] }), mem, NOW + 3000);
    m.observePoll(poll({ events: [event('restart.failed', 'tomcat')] }), mem, NOW + 4000);
    s = await scrape();
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'failed' }), 2);
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'ok' }), 1);
    assert.equal(value(s, 'ha_watchdog_restart_failures_total', { service: 'tomcat' }), 3);
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'nginx', result: 'failed' }), 0);
  });

  it('dry-run outcomes ran nothing and are not counted', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    m.observePoll(poll({ outcomes: [outcome('tomcat', 'restart', true, { dryRun: true }), outcome('keepalived', 'keepalived.stop', true, { dryRun: true })] }), memory({ tomcat: {} }), NOW);
    const s = await scrape();
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'ok' }), 0);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'stop', result: 'ok' }), 0);
  });

  it('keepalived starts, stops, releases and reclaims are counted by result; failovers, held failovers, handovers from events; failed_over and on_hold from the memory', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const mem = memory({ tomcat: {} });
    m.observePoll(
      poll({
        outcomes: [outcome('keepalived', 'keepalived.stop', true), outcome('keepalived', 'keepalived.start', false), outcome('keepalived', 'vip.release', true)],
        events: [event('failover'), event('failover.held'), event('failover.held'), event('keepalived.running_again')],
      }),
      mem,
      NOW,
    );
    assert.equal(value(await scrape(), 'ha_watchdog_failover_on_hold'), 0);
    const held = { ...mem, keepalived: { ...mem.keepalived, guard: { held: true } } };
    m.observePoll(poll({ events: [event('handover')] }), held, NOW + 500);
    assert.equal(value(await scrape(), 'ha_watchdog_failover_on_hold'), 1);
    const gone = { ...mem, keepalived: { ...mem.keepalived, release: { active: true } } };
    m.observePoll(poll({ outcomes: [outcome('keepalived', 'keepalived.stop', true)], events: [event('failover')] }), gone, NOW + 1000);
    const s = await scrape();
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'stop', result: 'ok' }), 2);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'start', result: 'failed' }), 1);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'start', result: 'ok' }), 0);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'release', result: 'ok' }), 1);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'reclaim', result: 'ok' }), 0);
    assert.equal(value(s, 'ha_watchdog_failovers_total'), 2);
    assert.equal(value(s, 'ha_watchdog_failover_held_total'), 2);
    assert.equal(value(s, 'ha_watchdog_handovers_total'), 1);
    assert.equal(value(s, 'ha_watchdog_failover_on_hold'), 0);
    assert.equal(value(s, 'ha_watchdog_failed_over'), 1);
  });

  it('probe durations land in the right buckets; probe failures are counted per probe', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const mem = memory({ tomcat: {} });
    const probes = (httpOk: boolean, httpMs: number) => ({
      tomcat: [
        { probe: 'process' as const, ok: true, durationMs: 0.4 },
        { probe: 'http' as const, ok: httpOk, durationMs: httpMs, ...(!httpOk && { reason: 'status 503, expected 200' }) },
      ],
    });
    m.observePoll(poll({ probes: probes(true, 12), durationMs: 15 }), mem, NOW);
    m.observePoll(poll({ probes: probes(false, 3000), durationMs: 3002 }), mem, NOW + 3000);
    const s = await scrape();
    const bucket = (probe: string, le: string) => value(s, 'ha_watchdog_probe_duration_seconds_bucket', { service: 'tomcat', probe, le });
    assert.equal(bucket('process', '0.001'), 2);
    assert.equal(bucket('http', '0.01'), 0);
    assert.equal(bucket('http', '0.025'), 1);
    assert.equal(bucket('http', '2.5'), 1);
    assert.equal(bucket('http', '5'), 2);
    assert.equal(value(s, 'ha_watchdog_probe_duration_seconds_count', { service: 'tomcat', probe: 'http' }), 2);
    assert.ok(Math.abs(value(s, 'ha_watchdog_probe_duration_seconds_sum', { service: 'tomcat', probe: 'http' })! - 3.012) < 1e-9);
    assert.equal(value(s, 'ha_watchdog_probe_failures_total', { service: 'tomcat', probe: 'http' }), 1);
    assert.equal(value(s, 'ha_watchdog_probe_failures_total', { service: 'tomcat', probe: 'process' }), 0);
    assert.equal(value(s, 'ha_watchdog_poll_duration_seconds_count'), 2);
    assert.equal(value(s, 'ha_watchdog_poll_duration_seconds_bucket', { le: '0.025' }), 1);
    assert.ok(Math.abs(value(s, 'ha_watchdog_poll_duration_seconds_sum')! - 3.017) < 1e-9);
  });

  it('learned start times and the last handover: absent until seen, then in seconds', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    m.observePoll(poll(), memory({ tomcat: { health: 'up' }, nginx: { health: 'up' } }), NOW);
    let s = await scrape();
    assert.equal(find(s, 'ha_watchdog_service_start_seconds', {}).length, 0, 'nothing learned yet: no series');
    assert.equal(value(s, 'ha_watchdog_handover_seconds', { measured: 'false' }), 1, 'the estimate until one is measured');
    const mem = memory({ tomcat: { health: 'up', startMs: 21_400, startFrom: 'restart' }, nginx: { health: 'up', startMs: 120, startFrom: 'restart' } });
    mem.keepalived.vip.handoverMs = 850;
    m.observePoll(poll(), mem, NOW + 1000);
    s = await scrape();
    assert.equal(value(s, 'ha_watchdog_service_start_seconds', { service: 'tomcat' }), 21.4);
    assert.equal(value(s, 'ha_watchdog_service_start_seconds', { service: 'nginx' }), 0.12);
    assert.equal(value(s, 'ha_watchdog_handover_seconds', { measured: 'true' }), 0.85);
    assert.equal(find(s, 'ha_watchdog_handover_seconds', { measured: 'false' }).length, 0, 'one series at a time');
  });

  it('a service removed by a reload disappears from every series; one added appears', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const probes = { tomcat: [{ probe: 'process' as const, ok: false, durationMs: 1 }], nginx: [{ probe: 'http' as const, ok: true, durationMs: 2 }] };
    m.observePoll(poll({ probes, outcomes: [outcome('tomcat', 'restart', false)], events: [event('restart.failed', 'tomcat')] }), memory({ tomcat: { health: 'down', startMs: 5000 }, nginx: { health: 'up' } }), NOW);
    let s = await scrape();
    assert.ok(find(s, 'ha_watchdog_service_up', { service: 'tomcat' }).length === 1);

    // The reload dropped tomcat and added redis; this poll's probes are already the new config's.
    m.observePoll(poll({ probes: { nginx: probes.nginx, redis: [{ probe: 'tcp', ok: true, durationMs: 1 }] } }), memory({ nginx: { health: 'up' }, redis: { health: 'unknown' } }), NOW + 3000);
    s = await scrape();
    assert.deepEqual(
      s.filter((x) => x.labels.service === 'tomcat').map((x) => x.name),
      [],
      'no series for tomcat is left',
    );
    assert.equal(value(s, 'ha_watchdog_service_up', { service: 'nginx' }), 1);
    assert.equal(value(s, 'ha_watchdog_service_up', { service: 'redis' }), 0);
    assert.equal(value(s, 'ha_watchdog_probe_duration_seconds_count', { service: 'nginx', probe: 'http' }), 2, 'a kept service keeps its history');
    assert.equal(value(s, 'ha_watchdog_probe_failures_total', { service: 'redis', probe: 'tcp' }), 0);
  });

  it('paused: 1 while maintenance is set and not expired, 0 otherwise', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const paused = async (mem: Memory, now: number) => {
      m.observePoll(poll(), mem, now);
      return value(await scrape(), 'ha_watchdog_paused');
    };
    assert.equal(await paused(memory({}), NOW), 0);
    assert.equal(await paused(memory({}, { maintenance: { since: NOW } }), NOW), 1, 'until resume');
    assert.equal(await paused(memory({}, { maintenance: { since: NOW, until: NOW + 60_000 } }), NOW + 59_000), 1);
    assert.equal(await paused(memory({}, { maintenance: { since: NOW, until: NOW + 60_000 } }), NOW + 60_000), 0, 'expired');
    assert.equal(await paused(memory({}), NOW + 61_000), 0);
  });

  it('the events counted are the ones the real policy emits: a failed restart of a critical service is a failover', async (t) => {
    const m = new Metrics();
    const scrape = await served(t, m);
    const config: Pick<Config, 'services'> = {
      services: { tomcat: { critical: true, process: { name: 'java', namespace: 'own' }, fall: 2, rise: 2, retryDelay: 100, restart: { command: ['/bin/true'], timeout: 60_000, grace: 30_000, attempts: 1 } } },
    };
    let mem = freshMemory();
    let pending: ActionOutcome[] = [];
    let keepalived = true;
    for (let i = 0; i < 5; i++) {
      const now = NOW + i * 1000;
      const probes = { tomcat: [{ probe: 'process' as const, ok: false, durationMs: 1, reason: 'no java process' }] };
      if (pending.some((o) => o.kind === 'keepalived.stop' && o.ok)) keepalived = false;
      const r = poll({ probes, outcomes: pending, keepalived });
      const d = decide(r.observations, mem, config, now);
      mem = d.memory;
      // The restart fails, as on a broken host; the keepalived stop works.
      pending = d.actions.map((a) => outcome(a.target, a.kind, a.kind !== 'restart'));
      m.observePoll({ ...r, actions: d.actions, events: d.events }, mem, now);
    }
    const s = await scrape();
    assert.equal(value(s, 'ha_watchdog_restarts_total', { service: 'tomcat', result: 'failed' }), 1);
    assert.equal(value(s, 'ha_watchdog_restart_failures_total', { service: 'tomcat' }), 1);
    assert.equal(value(s, 'ha_watchdog_failovers_total'), 1);
    assert.equal(value(s, 'ha_watchdog_keepalived_actions_total', { action: 'stop', result: 'ok' }), 1);
    assert.equal(value(s, 'ha_watchdog_service_failed', { service: 'tomcat' }), 1);
    assert.equal(value(s, 'ha_watchdog_keepalived_running'), 0);
    assert.equal(value(s, 'ha_watchdog_probe_failures_total', { service: 'tomcat', probe: 'process' }), 5);
  });

  it('owns its registry: two instances coexist, nothing lands in the global one, no default metrics', async (t) => {
    const a = new Metrics();
    const b = new Metrics();
    a.observePoll(poll(), memory({ tomcat: {} }), NOW);
    assert.doesNotMatch(await globalRegistry.metrics(), /ha_watchdog_/);
    assert.match(await b.text(), /ha_watchdog_paused 0/);
    const s = await (await served(t, a))();
    assert.deepEqual(
      [...new Set(s.map((x) => x.name).filter((n) => !n.startsWith('ha_watchdog_')))].sort(),
      ['process_resident_memory_bytes', 'process_start_time_seconds'],
    );
    assert.ok(value(s, 'process_resident_memory_bytes')! > 1_000_000);
    const started = value(s, 'process_start_time_seconds')!;
    assert.ok(Math.abs(started - (Date.now() / 1000 - process.uptime())) < 2, `start time ${started}`);
    assert.equal(a.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });
});
