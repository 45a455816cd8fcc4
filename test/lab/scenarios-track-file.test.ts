// Acceptance scenarios of `keepalived.control: track-file` (lab option control
// track-file): keepalived.conf tracks `track_file ha_watchdog { file
// <host>/run/keepalived.track weight 0 init_file 0 }`; the agent moves the VIP by
// writing 1 into that file (keepalived goes to FAULT and drops the VIP, but keeps
// running) and takes it back by writing 0.
//   12: tomcat killed on A, restart fails -> A writes 1, keepalived on A keeps
//       running, the VIP moves to B; A repaired -> A writes 0, the VIP comes back;
//   13: keepalived killed on A (SIGKILL, all processes) -> the agent starts it again.
// One fresh two-host lab per scenario, ha-watchdog on both hosts; see
// scenarios-heal.test.ts for the setup and lab/scenarios.ts for the plays.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { labSkip } from '../../lab/lab.js';
import { endsOn, errorCount, errorMs } from '../../lab/measure.js';
import type { PlayResult } from '../../lab/scenarios.js';
import { eventsOf, expectThat, first, lastVipHolder, playScenario, samplesFrom } from './helpers.js';

const opts = { skip: labSkip(), timeout: 180_000 };

/** The track file values of A, in order, runs collapsed (e.g. ['0', '1', '0']). */
function trackPathA(r: PlayResult): string[] {
  const out: string[] = [];
  for (const s of r.facts.track ?? []) if (out[out.length - 1] !== s.A) out.push(s.A);
  return out;
}

describe('scenario track-file-repair (12): track-file control: tomcat killed on A, restart fails, then A repaired', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('track-file-repair');
  });

  it('A fails over by writing 1 (vip.release), never stopping keepalived', () =>
    expectThat(r, (r) => {
      const kill = r.marks.find((m) => m.label === 'kill')!.t;
      const failed = first(r, 'A', 'restart.failed', 'tomcat', kill);
      const failover = first(r, 'A', 'failover', undefined, kill);
      const release = first(r, 'A', 'vip.release', undefined, kill);
      assert.ok(failed, 'no restart.failed for tomcat on A');
      assert.ok(failover, 'no failover on A');
      assert.deepEqual(failover.services, ['tomcat']);
      assert.ok(release, 'no vip.release on A');
      assert.ok((failed.t ?? 0) <= (failover.t ?? 0) && (failover.t ?? 0) <= (release.t ?? 0), 'order: restart.failed, failover, vip.release');
      assert.ok((release.t ?? 0) < r.fault, 'released only after the repair');
      assert.equal(eventsOf(r, 'A', 'vip.release', undefined, kill).length, 1, 'released once');
      assert.equal(eventsOf(r, 'A', 'failover', undefined, kill).length, 1, 'one failover');
      for (const ev of ['keepalived.stop', 'keepalived.start', 'keepalived.running_again']) {
        assert.deepEqual(eventsOf(r, 'A', ev, undefined, kill), [], `A: ${ev} (track-file control never stops or starts keepalived here)`);
      }
    }));

  it("keepalived on A keeps running throughout (same pids), and A's ctl.log has no keepalived action", () =>
    expectThat(r, (r) => {
      const snaps = r.facts.snapshots ?? [];
      assert.deepEqual(snaps.map((s) => s.label), ['steady', 'client on B', 'end']);
      const pids = snaps.map((s) => s.keepalived.A);
      assert.ok(pids[0]!.length >= 2, `keepalived on A at the start: ${JSON.stringify(pids[0])}`);
      for (const p of pids) assert.deepEqual(p, pids[0], `keepalived pids on A changed: ${JSON.stringify(pids)}`);
      assert.deepEqual(r.facts.ctlA?.filter((l) => / keepalived /.test(l)) ?? [], [], 'keepalived was stopped/started/killed on A');
    }));

  it('the track file on A goes 0 -> 1 -> 0; B never writes its own', () =>
    expectThat(r, (r) => {
      assert.deepEqual(trackPathA(r), ['0', '1', '0']);
      const snaps = r.facts.snapshots ?? [];
      assert.equal(snaps.find((s) => s.label === 'client on B')?.track?.A, '1');
      assert.equal(snaps.find((s) => s.label === 'end')?.track?.A, '0');
      assert.deepEqual([...new Set((r.facts.track ?? []).map((s) => s.B))], ['0'], "B's track file changed");
      assert.deepEqual(eventsOf(r, 'B').filter((e) => e.event.startsWith('vip.re') || e.event.startsWith('keepalived.') || e.event === 'failover'), []);
    }));

  it('the VIP moves to B (the client is served by B) while A is broken', () =>
    expectThat(r, (r) => {
      assert.ok(r.marks.some((m) => m.label === 'client on B'), 'the client never settled on B');
      const kill = r.marks.find((m) => m.label === 'kill')!.t;
      assert.ok(r.vip.some((s) => s.t >= kill && s.t < r.fault && s.holder === 'B'), 'the VIP never went to B');
      const release = first(r, 'A', 'vip.release', undefined, kill)!;
      const onB = samplesFrom(r, kill).find((s) => s.who === 'B');
      assert.ok(onB && onB.t - (release.t ?? 0) < 3_000, `B answered ${onB ? onB.t - (release.t ?? 0) : '?'} ms after the release`);
    }));

  it('A heals after the backoff, writes 0 (vip.reclaim) once tomcat answers, and the VIP comes back with no HTTP error', () =>
    expectThat(r, (r) => {
      const ok = first(r, 'A', 'restart.ok', 'tomcat');
      const reclaim = first(r, 'A', 'vip.reclaim');
      assert.ok(ok, 'no restart.ok for tomcat after the repair');
      assert.ok(reclaim, 'no vip.reclaim');
      assert.ok((reclaim.t ?? 0) >= (ok.t ?? 0), 'vip.reclaim before tomcat was back');
      assert.equal(eventsOf(r, 'A', 'vip.reclaim').length, 1);
      assert.deepEqual(eventsOf(r, 'A', 'failover'), [], 'no second failover after the repair');
      assert.equal(lastVipHolder(r), 'A');
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      const failed = samplesFrom(r).filter((s) => s.who === 'error');
      assert.deepEqual(failed.filter((s) => s.status !== undefined || s.error !== 'timeout'), [], 'HTTP errors after the repair');
      assert.ok(failed.length <= 1, `${failed.length} failed requests after the repair (at most 1 handover timeout)`);
      assert.ok(errorCount(r.samples, reclaim.t ?? 0, r.end) <= 1);
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
      const kill = r.marks.find((m) => m.label === 'kill')!.t;
      console.log(
        `scenario 12: ${errorCount(r.samples, kill, r.fault)} failed requests (${(errorMs(r.samples, kill, r.fault) / 1000).toFixed(2)} s) at the failover, ` +
          `${r.metrics.errors} after the repair; vip.reclaim +${(((reclaim.t ?? 0) - r.fault) / 1000).toFixed(2)} s, A serves again +${((r.metrics.settledMs ?? NaN) / 1000).toFixed(2)} s after the repair; VIP ${r.metrics.vipPath}`,
      );
    }));
});

describe('scenario track-file-keepalived-killed (13): track-file control: keepalived killed on A (SIGKILL), tomcat fine', opts, () => {
  let r: PlayResult | undefined;
  before(async () => {
    r = await playScenario('track-file-keepalived-killed');
  });

  it('A starts keepalived again (keepalived.start), nothing else', () =>
    expectThat(r, (r) => {
      const start = first(r, 'A', 'keepalived.start');
      assert.ok(start, 'no keepalived.start on A');
      assert.ok((start.t ?? 0) - r.fault < 8_000, `keepalived.start ${(start.t ?? 0) - r.fault} ms after the kill`);
      assert.match(start.reason ?? '', /keepalived not running/);
      assert.equal(eventsOf(r, 'A', 'keepalived.start').length, 1);
      for (const ev of ['failover', 'vip.release', 'vip.reclaim', 'keepalived.stop', 'restart.start', 'handover']) {
        assert.deepEqual(eventsOf(r, 'A', ev), [], `A: ${ev}`);
      }
      assert.deepEqual(trackPathA(r), ['0'], 'the track file on A changed');
      const end = r.facts.snapshots?.find((s) => s.label === 'end');
      assert.ok((end?.keepalived.A.length ?? 0) >= 2, 'keepalived not running on A at the end');
      assert.notDeepEqual(end?.keepalived.A, r.facts.snapshots?.[0]?.keepalived.A, 'the same keepalived as before the kill?');
    }));

  it('A holds the VIP alone at the end and the client ends on A', () =>
    expectThat(r, (r) => {
      assert.equal(lastVipHolder(r), 'A');
      assert.ok(endsOn(r.samples, 'A', 20, r.fault, r.end), 'the client does not end on A');
      assert.equal(r.metrics.right, true, r.metrics.wrong.join('; '));
      console.log(`scenario 13: ${r.metrics.errors} failed requests (${(r.metrics.errorMs / 1000).toFixed(2)} s); VIP ${r.metrics.vipPath}`);
    }));
});
