// Pure parts of the D-Bus unit watch: properties applied to a unit's state, and the
// judgement "systemd restarts it by itself" (systemd.service(5)'s Restart= table).
// No systemd needed; dbus-units.test.ts checks the same against a real one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectSystemBus } from '../../src/systemd/bus.js';
import { describeError } from '../../src/systemd/errors.js';
import { mayBePassingThrough, systemdRestarts } from '../../src/systemd/restart.js';
import { applyProps, emptyState, followsAny, type UnitState } from '../../src/systemd/unit-state.js';

const dead = (over: Partial<UnitState>): UnitState => ({
  ...emptyState('x.service'),
  loadState: 'loaded',
  activeState: 'active', // the Unit interface's signal not seen yet
  subState: 'running',
  mainPid: 0,
  ...over,
});

describe('unit state from D-Bus properties', () => {
  it('applies the followed properties, bigint and Variant-free values, and ignores the rest', () => {
    const s = applyProps(emptyState('t.service'), {
      ActiveState: 'active',
      SubState: 'running',
      MainPID: 4242,
      ExecMainExitTimestampMonotonic: 123456789n,
      Restart: 'on-failure',
      Description: 'not followed',
    });
    assert.equal(s.activeState, 'active');
    assert.equal(s.mainPid, 4242);
    assert.equal(s.execMainExitUsec, 123456789);
    assert.equal(s.restart, 'on-failure');
    assert.equal(applyProps(s, { MainPID: 'nonsense' }).mainPid, 4242);
    assert.equal(followsAny({ Description: 'x', Id: 'y' }), false);
    assert.equal(followsAny({ SubState: 'dead' }), true);
  });
});

describe('systemd restarts the unit by itself', () => {
  const cases: Array<[string, Partial<UnitState>, boolean]> = [
    ['SubState auto-restart', { restart: 'on-failure', activeState: 'activating', subState: 'auto-restart' }, true],
    ['systemd >= 254: SubState failed-before-auto-restart', { restart: 'on-failure', activeState: 'failed', subState: 'failed-before-auto-restart', execMainCode: 2, execMainStatus: 9 }, true],
    ['systemd >= 254: SubState dead-before-auto-restart', { restart: 'always', activeState: 'inactive', subState: 'dead-before-auto-restart', execMainCode: 1, execMainStatus: 0 }, true],
    ['main process running', { restart: 'always', mainPid: 12 }, false],
    ['Restart=no, SIGKILL', { restart: 'no', execMainCode: 2, execMainStatus: 9 }, false],
    ['Restart=on-failure, SIGKILL (before SubState arrives)', { restart: 'on-failure', execMainCode: 2, execMainStatus: 9, result: 'signal' }, true],
    ['Restart=on-failure, SIGTERM is clean', { restart: 'on-failure', execMainCode: 2, execMainStatus: 15 }, false],
    ['Restart=on-failure, exit 1', { restart: 'on-failure', execMainCode: 1, execMainStatus: 1 }, true],
    ['Restart=on-failure, exit 0', { restart: 'on-failure', execMainCode: 1, execMainStatus: 0 }, false],
    ['Restart=on-success, exit 0', { restart: 'on-success', execMainCode: 1, execMainStatus: 0 }, true],
    ['Restart=on-abnormal, exit 1', { restart: 'on-abnormal', execMainCode: 1, execMainStatus: 1 }, false],
    ['Restart=on-abnormal, core dump', { restart: 'on-abnormal', execMainCode: 3, execMainStatus: 11 }, true],
    ['Restart=on-watchdog, watchdog', { restart: 'on-watchdog', execMainCode: 2, execMainStatus: 6, result: 'watchdog' }, true],
    ['Restart=on-watchdog, SIGKILL', { restart: 'on-watchdog', execMainCode: 2, execMainStatus: 9 }, false],
    ['Restart=always, settled failed (no auto-restart: e.g. stopped)', { restart: 'always', activeState: 'failed', subState: 'failed', execMainCode: 2, execMainStatus: 9 }, false],
    ['Restart=always, start limit hit', { restart: 'always', result: 'start-limit-hit', execMainCode: 1, execMainStatus: 1 }, false],
    ['Restart=always, no exit seen', { restart: 'always' }, false],
  ];
  for (const [name, over, want] of cases) {
    it(`${name}: ${want}`, () => {
      const j = systemdRestarts(dead(over));
      assert.equal(j.bySystemd, want, j.why);
      assert.ok(j.why.length > 0);
    });
  }
});

describe('a failed or dead unit that systemd (< 254) may only be passing through on its way to auto-restart', () => {
  const cases: Array<[string, Partial<UnitState>, boolean]> = [
    ['Restart=on-failure, SIGKILL, failed (failed): read again', { restart: 'on-failure', activeState: 'failed', subState: 'failed', execMainCode: 2, execMainStatus: 9, result: 'signal' }, true],
    ['Restart=always, exit 0, inactive (dead): read again', { restart: 'always', activeState: 'inactive', subState: 'dead', execMainCode: 1, execMainStatus: 0 }, true],
    ['Restart=on-failure, exit 0, inactive (dead): settled, not covered', { restart: 'on-failure', activeState: 'inactive', subState: 'dead', execMainCode: 1, execMainStatus: 0 }, false],
    ['Restart=no, SIGKILL, failed: settled', { restart: 'no', activeState: 'failed', subState: 'failed', execMainCode: 2, execMainStatus: 9 }, false],
    ['Restart=always, start limit hit: settled', { restart: 'always', activeState: 'failed', subState: 'failed', result: 'start-limit-hit', execMainCode: 1, execMainStatus: 1 }, false],
    ['Restart=always, main process running: not dead', { restart: 'always', activeState: 'active', subState: 'running', mainPid: 7 }, false],
    ['Restart=always, already in auto-restart: nothing to ask', { restart: 'always', activeState: 'activating', subState: 'auto-restart', execMainCode: 2, execMainStatus: 9 }, false],
  ];
  for (const [name, over, want] of cases) {
    it(`${name}: ${want}`, () => assert.equal(mayBePassingThrough(dead(over)), want));
  }
});

describe('connecting', () => {
  it('a missing bus socket is an error value naming the socket, not a throw', async () => {
    const r = await connectSystemBus({ socketPath: '/nonexistent/hwt/system_bus_socket', timeoutMs: 2000 });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.op, 'connect');
    assert.match(describeError(r.error), /\/nonexistent\/hwt\/system_bus_socket.*ENOENT/);
  });
});
