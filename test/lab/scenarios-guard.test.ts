// Acceptance scenarios of the peer guard (`peer:` + `metrics.listen` on both hosts,
// lab option `guard`): tomcat dead on BOTH hosts, both restarts failing. Without the
// guard (scenario 8) both hosts give the VIP up and nobody serves; with it, the host
// holding the VIP keeps it (failover.held: the peer is unhealthy too), so the client
// keeps reaching a host (nginx answers 502 rather than nothing). Then one host is
// repaired:
//   9:  the one WITHOUT the VIP (B): A re-asks B every poll while held, and hands the
//       VIP over once B is healthy: the telling case (re-evaluation);
//   9b: the holder (A): it heals in place and never lets go of the VIP.
// One fresh two-host lab per scenario, ha-watchdog on both hosts; see
// scenarios-heal.test.ts for the setup and lab/scenarios.ts for the plays.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { labSkip } from '../../lab/lab.js';
import { endsOn } from '../../lab/measure.js';
import type { PlayResult } from '../../lab/scenarios.js';
import { eventsOf, expectThat, first, lastVipHolder, playScenario, samplesFrom } from './helpers.js';

const opts = { skip: labSkip(), timeout: 180_000 };

const markAt = (r: PlayResult, label: string): number => {
  const m = r.marks.find((k) => k.label === label);
  assert.ok(m, `no mark "${label}"`);
  return m.t;
};

/** What 9 and 9b share, from the kill to the repair: both give up on tomcat, A holds the VIP and says why. */
function assertHeld(r: PlayResult): void {
  const kill = markAt(r, 'kill');
  const repair = r.fault;
  for (const h of ['A', 'B'] as const) {
    const failed = first(r, h, 'service.failed', 'tomcat', kill);
    assert.ok(failed && (failed.t ?? 0) < repair, `${h}: no service.failed for tomcat before the repair`);
  }
  const held = first(r, 'A', 'failover.held', undefined, kill);
  assert.ok(held, 'A never logged failover.held');
  assert.ok((held.t ?? 0) < repair);
  assert.ok((held.t ?? 0) - kill < 15_000, `failover.held ${(held.t ?? 0) - kill} ms after the kill`);
  assert.match(held.reason ?? '', /peer/, 'failover.held says nothing of the peer');
  assert.match(held.reason ?? '', /unhealthy/);
  assert.deepEqual(held.services, ['tomcat']);
  // Held, not flapping: said once (again only if the reason changes), and keepalived untouched.
  const before = (e: { t?: number }) => (e.t ?? 0) < repair;
  assert.ok(eventsOf(r, 'A', 'failover.held', undefined, kill).filter(before).length <= 2, 'failover.held repeated');
  for (const ev of ['failover', 'keepalived.stop', 'vip.release', 'keepalived.start', 'keepalived.running_again']) {
    assert.deepEqual(eventsOf(r, 'A', ev, undefined, kill).filter(before), [], `A: ${ev} before the repair although held`);
  }
  // B is broken too and its peer (A) is unhealthy: B does not give up on being a backup either.
  assert.deepEqual(eventsOf(r, 'B', 'failover', undefined, kill).filter(before), [], 'B failed over although A is unhealthy too');
}

/**
 * The VIP stays on A from the kill to the repair, and while held the client keeps
 * reaching A's nginx (502s: tomcat is dead), never a host-less VIP (timeouts), until
 * A lets go (9) or serves again (9b).
 */
function assertVipKept(r: PlayResult, until: number): void {
  const kill = markAt(r, 'kill');
  const holders = new Set(r.vip.filter((s) => s.t >= kill && s.t < r.fault).map((s) => s.holder));
  assert.deepEqual([...holders], ['A'], 'the VIP left A before the repair');
  const held = markAt(r, 'held on A');
  const whileHeld = r.samples.filter((s) => s.t >= held && s.t < until);
  assert.ok(whileHeld.length >= 80, `${whileHeld.length} client samples while held`);
  const notA = whileHeld.filter((s) => s.lb !== 'A');
  assert.deepEqual(notA.slice(0, 5), [], `${notA.length} of ${whileHeld.length} requests not answered by A's nginx while held (no host with the VIP?)`);
  assert.deepEqual(whileHeld.filter((s) => s.who === 'B'), []);
  console.log(`scenario ${r.spec.name}: held ${((until - held) / 1000).toFixed(1)} s, ${whileHeld.length} requests, all answered by A's nginx (${whileHeld.filter((s) => s.status === 502).length} × 502)`);
}

describe('scenario guard-repair-backup (9): peer guard, tomcat dead on both hosts, then B (without the VIP) repaired', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('guard-repair-backup');
  });

  it('both give up on tomcat; A keeps the VIP and logs failover.held (the peer is unhealthy too)', () => expectThat(r, assertHeld));
  it('meanwhile the VIP stays on A and the client is answered by A (502s), never left without a host', () =>
    expectThat(r, (r) => assertVipKept(r, first(r, 'A', 'failover')?.t ?? r.end)));

  it('B heals; A, re-asking B while held, then gives the VIP to B (failover, keepalived.stop once)', () =>
    expectThat(r, (r) => {
      const healed = first(r, 'B', 'restart.ok', 'tomcat');
      assert.ok(healed, 'B did not heal tomcat after the repair');
      const failover = first(r, 'A', 'failover');
      assert.ok(failover, 'A never failed over after B was repaired');
      assert.ok((failover.t ?? 0) >= (healed.t ?? 0), 'A failed over before B was healthy');
      assert.ok((failover.t ?? 0) - (healed.t ?? 0) < 10_000, `A failed over ${(failover.t ?? 0) - (healed.t ?? 0)} ms after B healed`);
      assert.match(failover.reason ?? '', /peer is healthy/);
      const stop = first(r, 'A', 'keepalived.stop');
      assert.ok(stop && (stop.t ?? 0) >= (failover.t ?? 0), 'no keepalived.stop after the failover');
      assert.equal(eventsOf(r, 'A', 'failover').length, 1, 'one failover');
      assert.equal(eventsOf(r, 'A', 'keepalived.stop').length, 1, 'keepalived stopped once');
      assert.deepEqual(eventsOf(r, 'A', 'keepalived.start'), []);
      assert.deepEqual(eventsOf(r, 'B', 'keepalived.stop'), [], 'B stopped keepalived');
      const onB = samplesFrom(r).find((s) => s.who === 'B');
      console.log(
        `scenario 9: B healthy at +${(((healed.t ?? 0) - r.fault) / 1000).toFixed(2)} s after the repair, A failed over ${(failover.t ?? 0) - (healed.t ?? 0)} ms later, ` +
          `the client on B ${onB ? onB.t - (failover.t ?? 0) : '?'} ms after that; VIP ${r.metrics.vipPath}`,
      );
    }));

  it('the VIP ends on B and the client ends on B', () =>
    expectThat(r, (r) => {
      assert.equal(lastVipHolder(r), 'B');
      assert.ok(endsOn(r.samples, 'B', 20, r.fault, r.end), 'the client does not end on B');
      const firstB = samplesFrom(r).find((s) => s.who === 'B');
      assert.ok(firstB);
      assert.deepEqual(samplesFrom(r, firstB.t).filter((s) => s.who === 'A'), [], 'A answered again after B took over');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));
});

describe('scenario guard-repair-holder (9b): peer guard, tomcat dead on both hosts, then A (the VIP holder) repaired', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('guard-repair-holder');
  });

  it('both give up on tomcat; A keeps the VIP and logs failover.held (the peer is unhealthy too)', () => expectThat(r, assertHeld));
  it('meanwhile the VIP stays on A and the client is answered by A (502s), never left without a host', () =>
    // Until A restarts its repaired tomcat: while a tomcat starts, its port is bound and
    // requests wait for it (as a real one does), which is the restart, not a host-less VIP.
    expectThat(r, (r) => assertVipKept(r, Math.min(samplesFrom(r).find((s) => s.who === 'A')?.t ?? r.end, eventsOf(r, 'A', 'restart.start', 'tomcat', r.fault)[0]?.t ?? r.end))));

  it('A heals in place and never lets go of the VIP', () =>
    expectThat(r, (r) => {
      const kill = markAt(r, 'kill');
      const healed = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(healed, 'A did not heal tomcat after the repair');
      for (const ev of ['failover', 'keepalived.stop', 'vip.release']) {
        assert.deepEqual(eventsOf(r, 'A', ev, undefined, kill), [], `A: ${ev}`);
      }
      assert.deepEqual(
        r.vip.filter((s) => s.t >= kill && s.holder !== 'A').map((s) => s.holder),
        [],
        'the VIP left A',
      );
    }));

  it('the client ends on A and never saw B', () =>
    expectThat(r, (r) => {
      assert.equal(lastVipHolder(r), 'A');
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.deepEqual(samplesFrom(r, r.start).filter((s) => s.who === 'B'), []);
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
    }));

  it('B, still broken, now has a healthy peer: it fails over (stops keepalived) instead of staying a candidate', () =>
    expectThat(r, (r) => {
      const healed = first(r, 'A', 'restart.ok', 'tomcat');
      assert.ok(healed);
      const f = first(r, 'B', 'failover', undefined, healed.t ?? 0);
      assert.ok(f, 'B did not fail over once A was healthy');
      assert.match(f.reason ?? '', /peer is healthy/);
    }));
});
