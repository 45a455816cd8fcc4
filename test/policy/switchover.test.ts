// switchover / takeback (planned work), as table cases named after the situation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resume, switchover } from '../../src/policy/maintenance.js';
import { eventNames, healthy, kinds, ok, play, T } from './play.js';

const guard = { peer: { required: false } };
const trackFile = { ...guard, keepalived: { control: 'track-file' as const } };

describe('policy: switchover and takeback', () => {
  it('switchover on a healthy host -> keepalived stopped at the next poll and kept stopped; no restart meanwhile; takeback -> started again', () => {
    const before = play(T, healthy, undefined, guard);
    const p = play(
      T,
      [
        { t: 2 },
        { t: 3, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 4, keepalived: false },
        { t: 5, keepalived: false, gone: { tomcat: true } },
        { t: 6, keepalived: false, gone: { tomcat: true } },
      ],
      switchover(before.memory, 1500, { reason: 'kernel upgrade', by: 'alice' }),
      guard,
    );
    assert.deepEqual(kinds(p), ['keepalived.stop:keepalived', '', '', '', ''], 'released once, then held away; tomcat dying meanwhile is not restarted');
    assert.match(String(p.memory.keepalived.release.reason), /switchover: kernel upgrade/);
    const back = play(T, [{ t: 7, keepalived: false }, { t: 8, keepalived: false }], resume(p.memory), guard);
    assert.deepEqual(kinds(back), ['restart:tomcat', ''], 'after takeback the policy acts again (tomcat first: no VIP onto a broken host)');
    const healthyBack = play(T, [{ t: 7, keepalived: false }], resume(play(T, [{ t: 2 }, { t: 3, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] }], switchover(before.memory, 1500)).memory), guard);
    assert.deepEqual(kinds(healthyBack), ['keepalived.start:keepalived']);
  });

  it('switched over, someone starts keepalived -> stopped again (keepalived.running_again)', () => {
    const before = play(T, healthy, undefined, guard);
    const p = play(T, [{ t: 2 }, { t: 3, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] }, { t: 4, keepalived: true, kpids: [77] }], switchover(before.memory, 1500), guard);
    assert.deepEqual(kinds(p), ['keepalived.stop:keepalived', '', 'keepalived.stop:keepalived']);
    assert.ok(eventNames(p).includes('keepalived.running_again'));
  });

  it('track-file control: switchover writes 1, keepalived keeps running; takeback writes 0', () => {
    const before = play(T, [{ t: 0, track: 0 }, { t: 1, track: 0 }], undefined, trackFile);
    const p = play(T, [{ t: 2, track: 0 }, { t: 3, track: 1, outcomes: [ok('keepalived', 'vip.release')] }, { t: 4, track: 1 }], switchover(before.memory, 1500), trackFile);
    assert.deepEqual(kinds(p), ['vip.release:keepalived', '', '']);
    const back = play(T, [{ t: 5, track: 1 }], resume(p.memory), trackFile);
    assert.deepEqual(kinds(back), ['vip.reclaim:keepalived']);
  });
});
