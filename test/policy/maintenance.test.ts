// Maintenance (pause/resume) as the policy sees it: observe everything, act on nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pause, resume } from '../../src/policy/maintenance.js';
import { eventNames, healthy, kinds, ok, play, T } from './play.js';

const down = { tomcat: false };

describe('policy: maintenance', () => {
  it('paused for a deploy, tomcat stops -> service.down logged, no restart, no failover; resumed while still down -> restart', () => {
    const paused = pause(play(T, healthy).memory, 1500, { reason: 'deploy' });
    const during = play(T, [{ t: 2, up: down }, { t: 3, up: down }, { t: 4, up: down, keepalived: true }], paused);
    assert.deepEqual(kinds(during), ['', '', '']);
    assert.ok(eventNames(during).includes('service.down'), 'health is still followed while paused');
    assert.deepEqual(eventNames(during).filter((e) => e === 'failover' || e === 'service.failed'), []);
    const after = play(T, [{ t: 5, up: down }], resume(during.memory));
    assert.deepEqual(kinds(after), ['restart:tomcat']);
  });

  it('paused, keepalived not running and everything healthy -> keepalived is not started', () => {
    const p = play(T, [{ t: 2, keepalived: false }, { t: 3, keepalived: false }], pause(play(T, healthy).memory, 1500));
    assert.deepEqual(kinds(p), ['', '']);
    const after = play(T, [{ t: 4, keepalived: false }], resume(p.memory));
    assert.deepEqual(kinds(after), ['keepalived.start:keepalived']);
  });

  it('paused while a restart is in flight -> its outcome still counts (restart.ok), nothing new is started', () => {
    const restarting = play(T, [...healthy, { t: 2, up: down }, { t: 3, up: down }]);
    assert.deepEqual(kinds(restarting).at(-1), 'restart:tomcat');
    const p = play(T, [{ t: 4, outcomes: [ok('tomcat')] }, { t: 5 }], pause(restarting.memory, 3500));
    assert.deepEqual(kinds(p), ['', '']);
    assert.ok(eventNames(p).includes('restart.ok'));
  });

  it('every poll while paused -> at most one reminder a minute', () => {
    const p = play(T, [10, 30, 61, 62, 90, 121, 122].map((t) => ({ t, up: down })), pause(play(T, healthy).memory, 1000));
    const reminders = p.events.map((e, i) => (e.some((x) => x.event === 'maintenance.reminder') ? [10, 30, 61, 62, 90, 121, 122][i] : null)).filter((t) => t !== null);
    assert.deepEqual(reminders, [61, 121]);
    assert.match(String(p.events[2]!.find((e) => e.event === 'maintenance.reminder')!.reason), /taking no action; not healthy: tomcat down/);
  });

  it('pause --for 10s -> expires by itself: maintenance.expired, then the policy acts in the same poll', () => {
    const p = play(T, [{ t: 5, up: down }, { t: 6, up: down }, { t: 11, up: down }], pause(play(T, healthy).memory, 1000, { forMs: 10_000 }));
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.ok(p.events[2]!.some((e) => e.event === 'maintenance.expired'));
    assert.equal(p.memory.maintenance, undefined);
  });

  it('pause survives a JSON round trip (state.json across an agent restart)', () => {
    const m = JSON.parse(JSON.stringify(pause(play(T, healthy).memory, 1000, { reason: 'deploy' })));
    const p = play(T, [{ t: 2, up: down }, { t: 3, up: down }], m);
    assert.deepEqual(kinds(p), ['', '']);
    assert.equal(p.memory.maintenance?.reason, 'deploy');
  });
});
