// Acceptance scenarios of `failover.order: handover-first` (lab options order
// handover-first + guard): a critical service that goes down makes the host release
// the VIP at once when the peer's /healthz says it is healthy, restart the service
// with the VIP elsewhere, and take the VIP back once healthy.
//   10: the peer is healthy: A releases (keepalived stopped), B serves, A restarts
//       tomcat, A takes the VIP back; the return costs no failed request;
//   11: the peer is unhealthy (B's tomcat broken first): A does not hand the VIP to
//       a broken host, it restarts in place (restart-first) and says why.
// One fresh two-host lab per scenario, ha-watchdog on both hosts; see
// scenarios-heal.test.ts for the setup and lab/scenarios.ts for the plays.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { labSkip } from '../../lab/lab.js';
import { endsOn, errorCount } from '../../lab/measure.js';
import type { PlayResult } from '../../lab/scenarios.js';
import { eventsOf, expectThat, first, KEEPALIVED_MOVES, lastVipHolder, playScenario, samplesFrom, vipHoldersFrom } from './helpers.js';

const opts = { skip: labSkip(), timeout: 180_000 };

describe('scenario handover-peer-healthy (10): handover-first, peer healthy: tomcat killed on A, restart works', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('handover-peer-healthy');
  });

  it('A hands over at once (handover, keepalived.stop), restarts tomcat, then starts keepalived again', () =>
    expectThat(r, (r) => {
      const down = first(r, 'A', 'service.down', 'tomcat');
      assert.ok(down, 'no service.down for tomcat on A');
      const handover = first(r, 'A', 'handover');
      assert.ok(handover, 'no handover on A');
      assert.deepEqual(handover.services, ['tomcat']);
      assert.match(handover.reason ?? '', /peer is healthy/);
      assert.ok((handover.t ?? 0) - (down.t ?? 0) < 1_500, `handover ${(handover.t ?? 0) - (down.t ?? 0)} ms after service.down (not at once)`);
      const stop = first(r, 'A', 'keepalived.stop');
      assert.ok(stop, 'no keepalived.stop on A');
      assert.ok((stop.t ?? 0) >= (handover.t ?? 0));
      const restart = first(r, 'A', 'restart.start', 'tomcat');
      const ok = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(restart && ok, 'no restart.start + restart.ok for tomcat on A');
      assert.ok((stop.t ?? 0) <= (ok.t ?? 0), 'the VIP was released only after the restart had worked (restart-first)');
      const start = first(r, 'A', 'keepalived.start');
      assert.ok(start, 'A never took the VIP back (no keepalived.start)');
      assert.ok((start.t ?? 0) >= (ok.t ?? 0), 'keepalived.start before tomcat was back');
      assert.match(start.reason ?? '', /critical services healthy again/);
      assert.equal(eventsOf(r, 'A', 'handover').length, 1, 'one handover');
      assert.equal(eventsOf(r, 'A', 'keepalived.stop').length, 1, 'keepalived stopped once');
      assert.equal(eventsOf(r, 'A', 'keepalived.start').length, 1, 'keepalived started once');
      assert.deepEqual(eventsOf(r, 'A', 'failover'), [], 'a handover is not a failover');
      assert.deepEqual(eventsOf(r, 'A', 'restart.failed'), []);
      assert.deepEqual(eventsOf(r, 'B').filter((e) => KEEPALIVED_MOVES.includes(e.event) || e.event === 'handover'), [], 'B has nothing to do');
    }));

  it('the VIP goes to B while A restarts, and comes back to A', () =>
    expectThat(r, (r) => {
      const holders = vipHoldersFrom(r);
      assert.ok(holders.includes('B'), `the VIP never went to B (${r.metrics.vipPath})`);
      assert.equal(lastVipHolder(r), 'A');
      assert.ok(samplesFrom(r).some((s) => s.who === 'B'), 'the client never saw B');
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
      // No flapping: once A answers again after B, B never answers again.
      const firstB = samplesFrom(r).find((s) => s.who === 'B')!;
      const backOnA = samplesFrom(r, firstB.t).find((s) => s.who === 'A');
      assert.ok(backOnA, 'A never answered again after B');
      assert.deepEqual(samplesFrom(r, backOnA.t).filter((s) => s.who === 'B'), [], 'B answered again after A was back');
    }));

  it('failed requests: a short outage at the handover, none on the way back to A', () =>
    expectThat(r, (r) => {
      const start = first(r, 'A', 'keepalived.start')!;
      assert.ok(start);
      console.log(
        `scenario 10: ${r.metrics.errors} failed requests, ${(r.metrics.errorMs / 1000).toFixed(2)} s of errors from the kill; VIP ${r.metrics.vipPath}; client ${r.metrics.path}`,
      );
      // Detection (fall 2, ~1-2 s of 502s from A) + the VRRP handover (~1 s): bounded generously.
      assert.ok(r.metrics.errorMs < 6_000, `${r.metrics.errorMs} ms of errors`);
      // The return: A's keepalived starts in BACKUP and preempts ~3 s later, while B serves.
      // At most one request may time out at the instant of the preemption (see lab/README.md).
      const back = samplesFrom(r, start.t ?? 0).filter((s) => s.who === 'error');
      assert.deepEqual(back.filter((s) => s.status !== undefined || s.error !== 'timeout'), [], 'HTTP errors on the way back to A');
      assert.ok(back.length <= 1, `${back.length} failed requests on the way back to A`);
      assert.ok(errorCount(r.samples, start.t ?? 0, r.end) <= 1);
    }));
});

describe('scenario handover-peer-unhealthy (11): handover-first, peer unhealthy: tomcat killed on A, restart works', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('handover-peer-unhealthy');
  });

  it('B was broken first (its tomcat given up on)', () =>
    expectThat(r, (r) => {
      const broken = r.marks.find((m) => m.label === 'B broken')!.t;
      const failed = first(r, 'B', 'service.failed', 'tomcat', broken);
      assert.ok(failed && (failed.t ?? 0) < r.fault, 'B never gave up on tomcat before A was faulted');
      assert.ok(r.marks.some((m) => m.label === 'B gave up'));
    }));

  it('A does not hand the VIP to the broken B: handover.skipped (the peer is unhealthy), restarts in place', () =>
    expectThat(r, (r) => {
      const down = first(r, 'A', 'service.down', 'tomcat');
      assert.ok(down, 'no service.down for tomcat on A');
      const skipped = first(r, 'A', 'handover.skipped');
      assert.ok(skipped, 'A did not say why it keeps the VIP (no handover.skipped)');
      assert.match(skipped.reason ?? '', /peer is unhealthy/);
      assert.match(skipped.reason ?? '', /restarting first/);
      assert.ok((skipped.t ?? 0) - (down.t ?? 0) < 1_500);
      assert.equal(eventsOf(r, 'A', 'handover.skipped').length, 1, 'said once');
      const ok = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(ok, 'no restart.ok for tomcat on A');
      assert.ok((ok.t ?? 0) - r.fault < 12_000);
      for (const ev of ['handover', 'failover', 'keepalived.stop', 'keepalived.start', 'failover.held']) {
        assert.deepEqual(eventsOf(r, 'A', ev), [], `A: ${ev}`);
      }
      assert.deepEqual(r.facts.ctlA?.filter((l) => / keepalived /.test(l)) ?? [], [], 'A controlled keepalived');
    }));

  it('the VIP never leaves A, the client never sees B and ends on A', () =>
    expectThat(r, (r) => {
      assert.deepEqual(vipHoldersFrom(r, r.start), ['A']);
      assert.deepEqual(samplesFrom(r, r.start).filter((s) => s.who === 'B'), []);
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
      console.log(`scenario 11: ${r.metrics.errors} failed requests, ${(r.metrics.errorMs / 1000).toFixed(2)} s of errors (restart in place)`);
    }));
});
