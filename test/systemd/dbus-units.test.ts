// src/systemd's UnitWatch against a real systemd (Debian 12, systemd 252, the
// container of container.ts) and its real dbus-daemon: the watch runs in the container
// as the agent would (dbus-driver.ts, bundled with src/systemd and the D-Bus client),
// over real units (dbus-harness.ts UNITS): a main process SIGKILLed is reported with
// its pid, the moment systemd publishes it (latency printed, not asserted); a
// Restart=on-failure unit is reported as systemd's to restart; start/stop/restart as
// D-Bus jobs, and the failures (ExecStartPre fails, no such program, no such unit, a job
// outliving its timeout) as failed result values; forged signals ignored; idle = no
// timer, no event; close() lets the process end by itself; a lost bus is reported.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOOT_HOOK_TIMEOUT_MS, bootContainer, hostLeftovers, props, requirementsGate, type Container } from './container.js';
import { Driver, installDriver, installUnits, type Event } from './dbus-harness.js';
import type { UnitState } from '../../src/systemd/unit-state.js';

const gate = requirementsGate();
const say = (line: string) => process.stdout.write(`dbus-units.test: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the driver sends back of a unit (src/systemd/unit-state.ts, as JSON). */
type State = UnitState;
interface Outcome {
  ok: boolean;
  result: string;
  timedOut?: boolean;
  error?: { op: string; unit?: string; expected: string; seen: string };
}
type Res<T> = { ok: true; value: T } | { ok: false; error: { op: string; unit?: string; expected: string; seen: string } };

describe('D-Bus unit watch (src/systemd) in a real systemd', { skip: gate.skip ?? false }, () => {
  let ct: Container;
  let d: Driver;
  const show = async (unit: string, ...p: string[]) => props(await ct.systemctl('show', '-p', p.join(','), unit));
  const value = <T>(r: Record<string, unknown>): T => {
    const res = r.result as Res<T>;
    assert.ok(res.ok, `expected ok, got ${JSON.stringify(res)}`);
    return res.value;
  };
  const outcome = (r: Record<string, unknown>) => r.result as Outcome;
  const isDeath = (pid: number) => (e: Event) => e.event === 'death' && e.pid === pid;
  const change = (unit: string, pred: (s: State) => boolean) => (e: Event) => e.event === 'change' && e.unit === unit && pred(e.state as State);

  before(
    async () => {
      ct = await bootContainer({ failure: gate.failure });
      await installUnits(ct);
      const { bytes } = await installDriver(ct);
      say(`driver bundle ${(bytes / 1024).toFixed(0)} KB (src/systemd + the D-Bus client)`);
      await ct.systemctl('start', 'hwt-norestart.service', 'hwt-onfailure.service');
      d = await Driver.start(ct);
    },
    { timeout: BOOT_HOOK_TIMEOUT_MS },
  );

  after(async () => {
    d?.kill();
    if (!ct) return;
    const report = await ct.stop();
    assert.deepEqual(report.problems, [], 'stop() had to force something');
    assert.deepEqual(hostLeftovers(ct.name), []);
  });

  it('watch: the current state, the same as systemctl show; a unit that does not exist is an error value', async () => {
    for (const unit of ['hwt-norestart.service', 'hwt-onfailure.service']) {
      const s = value<State>(await d.request('watch', { unit }));
      const sc = await show(unit, 'MainPID', 'ActiveState', 'SubState', 'Restart');
      assert.equal(s.activeState, 'active');
      assert.equal(s.subState, 'running');
      assert.equal(String(s.mainPid), sc.MainPID);
      assert.ok(s.mainPid > 0);
      assert.equal(s.restart, sc.Restart);
    }
    const r = (await d.request('watch', { unit: 'hwt-nope.service' })).result as Res<State>;
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.error, { op: 'watch', unit: 'hwt-nope.service', expected: 'LoadState loaded', seen: 'LoadState not-found' });
  });

  it('SIGKILL of the main pid (Restart=no): one death notice with that pid at once; not systemd\'s to restart', async () => {
    const from = d.events.length;
    const { pid } = await d.request('kill', { unit: 'hwt-norestart.service' });
    assert.equal(typeof pid, 'number');
    const death = await d.waitEvent(isDeath(pid as number), 10_000, from);
    say(`SIGKILL -> death notice (Restart=no): ${(death.latencyMs as number).toFixed(2)} ms (Date.now() difference ${String(death.wallLatencyMs)} ms)`);
    assert.equal(death.unit, 'hwt-norestart.service');
    const st = death.state as State;
    assert.equal(st.mainPid, 0);
    assert.equal(st.execMainCode, 2, 'CLD_KILLED');
    assert.equal(st.execMainStatus, 9, 'SIGKILL');
    assert.deepEqual((death.systemd as { bySystemd: boolean }).bySystemd, false);
    assert.equal(death.duringOwnJob, false);
    await d.waitEvent(change('hwt-norestart.service', (s) => s.activeState === 'failed'), 10_000, from);
    await sleep(300);
    assert.equal(d.events.slice(from).filter((e) => e.event === 'death').length, 1, 'one notice per death');
    assert.equal((await show('hwt-norestart.service', 'ActiveState')).ActiveState, 'failed');
  });

  it('Restart=on-failure: the death is reported as systemd\'s own restart (auto-restart), then the new main pid', async () => {
    const unit = 'hwt-onfailure.service';
    const from = d.events.length;
    const { pid } = await d.request('kill', { unit });
    const death = await d.waitEvent(isDeath(pid as number), 10_000, from);
    say(`SIGKILL -> death notice (Restart=on-failure): ${(death.latencyMs as number).toFixed(2)} ms; systemd: ${JSON.stringify(death.systemd)}`);
    // systemd 252 signals failed (failed) on its way to auto-restart; when that signal came
    // alone (once in a full CI run) the watch used to judge it settled. It reads again now.
    assert.equal((death.systemd as { bySystemd: boolean }).bySystemd, true, JSON.stringify(death));
    const ar = await d.waitEvent(change(unit, (s) => s.subState === 'auto-restart'), 10_000, from);
    assert.equal((ar.systemd as { bySystemd: boolean }).bySystemd, true);
    assert.equal((ar.state as State).activeState, 'activating');
    // RestartSec=1500ms later systemd starts it again.
    const back = await d.waitEvent(change(unit, (s) => s.activeState === 'active' && s.mainPid > 0), 10_000, from);
    const st = back.state as State;
    assert.notEqual(st.mainPid, pid);
    assert.equal(st.nRestarts, 1);
    assert.equal(String(st.mainPid), (await show(unit, 'MainPID')).MainPID);
    assert.equal((back.systemd as { bySystemd: boolean }).bySystemd, false, 'running again: nothing left to restart');
  });

  it('SIGKILL from another process (kill -9 in the container) is seen the same way', async () => {
    const unit = 'hwt-onfailure.service';
    const pid = Number((await show(unit, 'MainPID')).MainPID);
    const from = d.events.length;
    const t0 = Date.now();
    await ct.execOk(['kill', '-KILL', String(pid)]);
    const death = await d.waitEvent(isDeath(pid), 10_000, from);
    say(`kill -9 via nsenter -> death notice: <= ${(death.at as number) - t0} ms after the exec started`);
    assert.equal(death.unit, unit);
    await d.waitEvent(change(unit, (s) => s.activeState === 'active' && s.mainPid > 0 && s.mainPid !== pid), 10_000, from);
  });

  it('start / restart / stop over D-Bus: job result done, and the unit as asked', async () => {
    const unit = 'hwt-norestart.service'; // failed since the kill above
    const start = outcome(await d.request('start', { unit }));
    assert.deepEqual([start.ok, start.result], [true, 'done'], JSON.stringify(start));
    const pid1 = Number((await show(unit, 'MainPID')).MainPID);
    assert.ok(pid1 > 0);
    const restart = outcome(await d.request('restart', { unit }));
    assert.deepEqual([restart.ok, restart.result], [true, 'done'], JSON.stringify(restart));
    const s2 = value<State>(await d.request('read', { unit }));
    assert.equal(s2.activeState, 'active');
    assert.ok(s2.mainPid > 0 && s2.mainPid !== pid1, `a new main pid after restart (${pid1} -> ${s2.mainPid})`);
    const from = d.events.length;
    const stop = outcome(await d.request('stop', { unit }));
    assert.deepEqual([stop.ok, stop.result], [true, 'done'], JSON.stringify(stop));
    // The stop ends the main process too: reported, but as the watch's own job's doing.
    const stopped = await d.waitEvent(isDeath(s2.mainPid), 5000, from);
    assert.equal(stopped.duringOwnJob, true);
    assert.equal((stopped.state as State).execMainStatus, 15, 'SIGTERM');
    const s3 = value<State>(await d.request('read', { unit }));
    assert.deepEqual([s3.activeState, s3.mainPid], ['inactive', 0]);
    assert.equal(outcome(await d.request('start', { unit })).ok, true);
  });

  it('failing jobs are failed results naming unit, expected and seen', async () => {
    const pre = outcome(await d.request('start', { unit: 'hwt-prefail.service' }));
    assert.deepEqual([pre.ok, pre.result], [false, 'failed'], JSON.stringify(pre));
    assert.equal(pre.error?.unit, 'hwt-prefail.service');
    assert.equal(pre.error?.expected, 'job result done');
    assert.match(pre.error?.seen ?? '', /^job result failed; unit failed \(failed\), result exit-code$/);

    const noexec = outcome(await d.request('start', { unit: 'hwt-noexec.service' }));
    assert.deepEqual([noexec.ok, noexec.result], [false, 'failed'], JSON.stringify(noexec));

    const nope = outcome(await d.request('restart', { unit: 'hwt-nope.service' }));
    assert.equal(nope.ok, false);
    assert.equal(nope.result, '');
    assert.equal(nope.error?.op, 'restart');
    assert.match(nope.error?.seen ?? '', /NoSuchUnit/);

    // The caller's timeout: the job is still running after 300 ms.
    const slow = outcome(await d.request('start', { unit: 'hwt-slowstart.service', timeoutMs: 300 }));
    assert.equal(slow.ok, false);
    assert.match(slow.error?.seen ?? '', /no JobRemoved for \/org\/freedesktop\/systemd1\/job\/\d+ in 300 ms/);
    assert.equal(slow.timedOut, true, 'timed out, not ended: the action reports "timed out after"');
    const stop = outcome(await d.request('stop', { unit: 'hwt-slowstart.service' }));
    assert.equal(stop.ok, true, JSON.stringify(stop));
  });

  it('forged PropertiesChanged (addressed to the watch, or broadcast by another sender) do not count', async () => {
    const unit = 'hwt-onfailure.service';
    const before = (await d.request('cached', { unit })).state as State;
    assert.ok(before.mainPid > 0);
    const from = d.events.length;
    const f = await d.request('forge', { unit });
    assert.equal(f.sent, 4, JSON.stringify(f));
    await sleep(500);
    assert.deepEqual(d.events.slice(from), [], 'the forged signals made events');
    const after = (await d.request('cached', { unit })).state as State;
    assert.deepEqual(after, before);
    assert.equal(String(after.mainPid), (await show(unit, 'MainPID')).MainPID);
  });

  it('idle: no timer or immediate in the process, and no event while nothing changes', async () => {
    await sleep(500);
    const from = d.events.length;
    await sleep(2000);
    assert.deepEqual(d.events.slice(from), [], 'events while idle');
    const { resources } = await d.request('resources');
    say(`resources at idle: ${JSON.stringify(resources)}`);
    assert.ok(!(resources as string[]).some((r) => r === 'Timeout' || r === 'Immediate'), JSON.stringify(resources));
  });

  it('close: no handle left, the process ends by itself', async () => {
    const r = await d.request('close');
    assert.equal(r.closed, true);
    const ended = await Promise.race([d.exited, sleep(5000).then(() => 'still running')]);
    assert.deepEqual(ended, { code: 0, signal: null }, `the driver did not exit after close(); resources then: ${JSON.stringify(r.resources)}`);
  });

  it('dbus-daemon killed: a lost event (fall back to the pid watch), later calls fail as values', async () => {
    const d2 = await Driver.start(ct);
    try {
      value<State>(await d2.request('watch', { unit: 'hwt-onfailure.service' }));
      await ct.execOk(['systemctl', 'kill', '-s', 'KILL', 'dbus.service']);
      const lost = await d2.waitEvent((e) => e.event === 'lost', 10_000);
      assert.equal((lost.error as { op: string }).op, 'bus');
      const r = (await d2.request('read', { unit: 'hwt-onfailure.service' })).result as Res<State>;
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.op, 'read');
      const c = await d2.request('close');
      assert.equal(c.closed, true);
      assert.deepEqual(await Promise.race([d2.exited, sleep(5000).then(() => 'still running')]), { code: 0, signal: null });
    } finally {
      d2.kill();
    }
  });
});
