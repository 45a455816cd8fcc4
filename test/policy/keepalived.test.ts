// keepalived.control track-file: the VIP moves by writing 1/0 into keepalived's track
// file while keepalived keeps running; keepalived itself is still watched and started.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bad, eventNames, kinds, ok, play, type Poll, T } from './play.js';

const down = { tomcat: false };
const tf = { keepalived: { control: 'track-file' as const } };
const healthy0: Poll[] = [{ t: 0, track: 0 }, { t: 1, track: 0 }];
/** tomcat dies, its one restart fails at t=4 -> released with track file control. */
const released: Poll[] = [
  ...healthy0,
  { t: 2, up: down, track: 0 },
  { t: 3, up: down, track: 0 },
  { t: 4, up: down, track: 0, outcomes: [bad('tomcat')] },
  { t: 5, up: down, track: 1, outcomes: [ok('keepalived', 'vip.release')] },
];

describe('policy: keepalived.control track-file', () => {
  it('tomcat failed -> writes 1 (vip.release); keepalived keeps running, never stopped', () => {
    const p = play(T, released, undefined, tf);
    assert.deepEqual(kinds(p), ['', '', '', 'restart:tomcat', 'vip.release:keepalived', '']);
    assert.ok(eventNames(p).includes('failover'));
    assert.ok(!kinds(p).some((k) => k.includes('keepalived.stop')));
  });

  it('released, tomcat repaired -> after rise writes 0 (vip.reclaim); the file reading 0 ends the failover', () => {
    const p = play(
      T,
      [...released, { t: 14, up: down, track: 1 }, { t: 15, track: 1, outcomes: [ok('tomcat')] }, { t: 16, track: 1 }, { t: 17, track: 0, outcomes: [ok('keepalived', 'vip.reclaim')] }],
      undefined,
      tf,
    );
    assert.deepEqual(kinds(p).slice(6), ['restart:tomcat', '', 'vip.reclaim:keepalived', '']);
    assert.equal(p.memory.keepalived.release.active, false);
  });

  it('released, but the track file reads 0 again (rewritten behind our back) -> written again, with backoff', () => {
    const p = play(T, [...released, { t: 6, up: down, track: 0 }, { t: 16, up: down, track: 0 }], undefined, tf);
    assert.deepEqual(kinds(p).slice(6), ['', 'vip.release:keepalived,restart:tomcat'], 'not at once (10 s backoff); the healing restart runs too');
    assert.ok(eventNames(p).includes('keepalived.running_again'));
  });

  it('keepalived died while tomcat is down -> writes 1 first, then starts keepalived (it comes up in FAULT)', () => {
    const p = play(
      T,
      [...healthy0, { t: 2, gone: { tomcat: true }, keepalived: false, track: 0 }, { t: 3, gone: { tomcat: true }, keepalived: false, track: 1, outcomes: [ok('keepalived', 'vip.release')] }],
      undefined,
      tf,
    );
    assert.deepEqual(kinds(p), ['', '', 'vip.release:keepalived,restart:tomcat', 'keepalived.start:keepalived']);
  });

  it('keepalived died, everything healthy -> started again at once', () => {
    const p = play(T, [...healthy0, { t: 2, keepalived: false, track: 0 }], undefined, tf);
    assert.deepEqual(kinds(p), ['', '', 'keepalived.start:keepalived']);
  });

  it('agent restarted with its memory lost while the file reads 1 and tomcat is down -> adopts the release, no reclaim onto a broken host', () => {
    const p = play(T, [{ t: 0, up: down, track: 1 }, { t: 1, up: down, track: 1 }], undefined, tf);
    assert.ok(!kinds(p).some((k) => k.includes('vip.reclaim')));
    assert.equal(p.memory.keepalived.release.active, true);
  });

  it('healthy host, track file missing -> writes 0 (keepalived would otherwise read nothing)', () => {
    const p = play(T, [{ t: 0, track: null }, { t: 1, track: null }], undefined, tf);
    assert.deepEqual(kinds(p), ['', 'vip.reclaim:keepalived']);
  });
});
