// Acceptance scenarios (issue 3), part 1: faults that ha-watchdog heals in place,
// without moving the VIP (1: tomcat killed, 3: tomcat hung, 7: nginx killed) or
// by starting keepalived again (4). One fresh two-host lab per scenario, the
// agent on both hosts (interval 1s, keepalived.vip on the VIP), the client in C
// polling the VIP every 50 ms. Asserts what the client saw, where the VIP was
// (sampled every 200 ms) and what the agents logged. Time bounds are generous:
// the point is where the VIP ends up and what the client saw.
//
// Needs root, Linux, the lab packages (lab/prereqs.sh) and `npm run build`;
// skipped with a reason otherwise (with CI=true: fails instead).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { labSkip } from '../../lab/lab.js';
import { endsOn } from '../../lab/measure.js';
import type { PlayResult } from '../../lab/scenarios.js';
import { eventsOf, expectThat, first, KEEPALIVED_MOVES, lastVipHolder, playScenario, samplesFrom, vipHoldersFrom } from './helpers.js';

const opts = { skip: labSkip(), timeout: 180_000 };

describe('scenario kill-restart-works (1): tomcat killed (SIGKILL) on A, restart works', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('kill-restart-works');
  });

  it('A restarts tomcat: service.down (process and http) then restart.ok, no failover', () =>
    expectThat(r, (r) => {
      const down = first(r, 'A', 'service.down', 'tomcat');
      assert.ok(down, 'no service.down for tomcat on A');
      assert.match(down.reason ?? '', /process: no running process "java"/);
      const ok = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(ok, 'no restart.ok for tomcat on A');
      assert.ok((ok.t ?? 0) - r.fault < 12_000, `restart.ok ${(ok.t ?? 0) - r.fault} ms after the kill`);
      assert.equal(eventsOf(r, 'A', 'restart.start', 'tomcat').length, 1, 'one restart');
      assert.deepEqual(eventsOf(r, 'A').filter((e) => KEEPALIVED_MOVES.includes(e.event)).map((e) => e.event), []);
      assert.deepEqual(eventsOf(r, 'A', 'restart.failed'), []);
      assert.deepEqual(eventsOf(r, 'B').map((e) => e.event).filter((e) => !e.startsWith('poll.')), [], 'B has nothing to do');
    }));

  it('the VIP never leaves A (sampled every 200 ms)', () =>
    expectThat(r, (r) => {
      assert.ok(r.vip.filter((s) => s.t >= r.fault).length >= 30, 'too few VIP samples');
      assert.deepEqual(vipHoldersFrom(r, r.start), ['A']);
    }));

  it('the client never sees B, and A serves again (a new tomcat)', () =>
    expectThat(r, (r) => {
      assert.deepEqual(samplesFrom(r, r.start).filter((s) => s.who === 'B'), []);
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.ok(r.metrics.settledMs !== undefined && r.metrics.settledMs < 12_000, `A serves again after ${r.metrics.settledMs} ms`);
      assert.equal(r.facts.tomcatAfter.length, 1);
      assert.notDeepEqual(r.facts.tomcatAfter, r.facts.tomcatBefore, 'tomcat was not restarted');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));
});

describe('scenario hang-restart-works (3): tomcat hung (SIGSTOP) on A, restart works', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('hang-restart-works');
  });

  it('is detected through HTTP, not the process table', () =>
    expectThat(r, (r) => {
      const down = first(r, 'A', 'service.down', 'tomcat');
      assert.ok(down, 'no service.down for tomcat on A');
      assert.match(down.reason ?? '', /\bhttp\b/);
      assert.doesNotMatch(down.reason ?? '', /process/, 'the hung JVM is a live process; only HTTP can tell');
    }));

  it('is restarted: restart.ok, the hung pid is gone, a new JVM serves', () =>
    expectThat(r, (r) => {
      const ok = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(ok, 'no restart.ok for tomcat on A');
      assert.ok((ok.t ?? 0) - r.fault < 15_000, `restart.ok ${(ok.t ?? 0) - r.fault} ms after the SIGSTOP`);
      assert.ok(r.facts.hungPid, 'no hung pid recorded');
      assert.equal(r.facts.hungPidGone, true, `the hung JVM (pid ${r.facts.hungPid}) is still there`);
      assert.equal(r.facts.tomcatAfter.length, 1);
      assert.ok(!r.facts.tomcatAfter.includes(r.facts.hungPid), 'the JVM now running is the hung one');
      assert.deepEqual(eventsOf(r, 'A').filter((e) => KEEPALIVED_MOVES.includes(e.event)).map((e) => e.event), []);
    }));

  it('the VIP never leaves A and the client ends on A, never seeing B', () =>
    expectThat(r, (r) => {
      assert.deepEqual(vipHoldersFrom(r, r.start), ['A']);
      assert.deepEqual(samplesFrom(r, r.start).filter((s) => s.who === 'B'), []);
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));
});

describe('scenario keepalived-killed (4): keepalived killed (SIGKILL) on A, tomcat fine', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('keepalived-killed');
  });

  it('the agent starts keepalived again (keepalived.start), nothing else', () =>
    expectThat(r, (r) => {
      const start = first(r, 'A', 'keepalived.start');
      assert.ok(start, 'no keepalived.start on A');
      assert.ok((start.t ?? 0) - r.fault < 8_000, `keepalived.start ${(start.t ?? 0) - r.fault} ms after the kill`);
      assert.match(start.reason ?? '', /critical services healthy/);
      assert.equal(eventsOf(r, 'A', 'keepalived.start').length, 1);
      assert.deepEqual(eventsOf(r, 'A').filter((e) => ['failover', 'keepalived.stop', 'restart.start'].includes(e.event)), []);
      assert.deepEqual(eventsOf(r, 'B').filter((e) => KEEPALIVED_MOVES.includes(e.event)), []);
    }));

  it('A takes the VIP back (A alone holds it) and the client ends on A', () =>
    expectThat(r, (r) => {
      assert.equal(lastVipHolder(r), 'A');
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.ok(r.metrics.settledMs !== undefined && r.metrics.settledMs < 12_000, `A serves again after ${r.metrics.settledMs} ms`);
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));
});

describe('scenario nginx-killed (7): nginx killed (SIGKILL) on A', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('nginx-killed');
  });

  it('A restarts nginx (restart.ok for nginx), no failover', () =>
    expectThat(r, (r) => {
      const down = first(r, 'A', 'service.down', 'nginx');
      assert.ok(down, 'no service.down for nginx on A');
      const ok = first(r, 'A', 'restart.ok', 'nginx');
      assert.ok(ok, 'no restart.ok for nginx on A');
      assert.ok((ok.t ?? 0) - r.fault < 12_000, `restart.ok ${(ok.t ?? 0) - r.fault} ms after the kill`);
      assert.deepEqual(eventsOf(r, 'A', 'service.down', 'tomcat'), [], 'tomcat itself was fine');
      assert.deepEqual(eventsOf(r, 'A').filter((e) => KEEPALIVED_MOVES.includes(e.event)).map((e) => e.event), []);
    }));

  it('A serves again; the VIP never leaves A', () =>
    expectThat(r, (r) => {
      assert.deepEqual(vipHoldersFrom(r, r.start), ['A']);
      assert.deepEqual(samplesFrom(r, r.start).filter((s) => s.who === 'B'), []);
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));
});
