// The pair's flap limit, as table cases named after the situation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshMemory } from '../../src/policy/decide.js';
import { FLAP_LIMIT, FLAP_WINDOW_MS } from '../../src/policy/flap.js';
import { resume } from '../../src/policy/maintenance.js';
import type { Memory } from '../../src/policy/types.js';
import { bad, eventNames, kinds, play, type Poll, T } from './play.js';

const gone = { tomcat: true };
/** tomcat healthy, then killed at `t` with its restart failing: a failover due at t+1. */
const failure = (t: number): Poll[] => [{ t }, { t: t + 1 }, { t: t + 2, gone }, { t: t + 3, gone, outcomes: [bad('tomcat')] }];
/** This host released the VIP `n` times in the last hour, the oldest `ageMs` ago. */
function released(n: number, now: number, ageMs = 30 * 60_000): Memory {
  const m = freshMemory();
  m.keepalived.release.history = Array.from({ length: n }, (_, i) => now - ageMs + i * 1000);
  return m;
}

describe('policy: the flap limit', () => {
  it(`${FLAP_LIMIT} releases in the last hour, a 7th failover due -> failover.flapping once, the VIP stays`, () => {
    const p = play(T, [...failure(10_000), { t: 10_004, gone }, { t: 10_005, gone }], released(FLAP_LIMIT, 10_000_000));
    assert.deepEqual(kinds(p).filter(Boolean), ['restart:tomcat'], 'restarted, but keepalived not stopped');
    assert.equal(eventNames(p).filter((e) => e === 'failover.flapping').length, 1);
    assert.ok(!eventNames(p).includes('failover'));
    assert.equal(p.memory.keepalived.release.flapping, true);
    assert.match(String(p.events.flat().find((e) => e.event === 'failover.flapping')?.reason), /released the VIP 6 times in the last 1h \(limit 6\): keeping it where it is until .* or `ha-watchdog resume`/);
  });

  it(`${FLAP_LIMIT - 1} releases -> the failover goes ahead and is counted`, () => {
    const p = play(T, failure(10_000), released(FLAP_LIMIT - 1, 10_000_000));
    assert.deepEqual(kinds(p).filter(Boolean), ['restart:tomcat', 'keepalived.stop:keepalived']);
    assert.equal(p.memory.keepalived.release.history!.length, FLAP_LIMIT);
  });

  it('the oldest release leaves the hour -> the next failover goes ahead', () => {
    const p = play(T, failure(10_000), released(FLAP_LIMIT, 10_000_000, FLAP_WINDOW_MS + 5_000));
    assert.ok(kinds(p).includes('keepalived.stop:keepalived'));
  });

  it('held by the flap limit, the operator runs resume -> the failover goes ahead at the next poll', () => {
    const held = play(T, failure(10_000), released(FLAP_LIMIT, 10_000_000));
    assert.equal(held.memory.keepalived.release.flapping, true);
    const after = play(T, [{ t: 10_004, gone }], resume(held.memory));
    assert.deepEqual(kinds(after), ['keepalived.stop:keepalived']);
  });

  it('a steady host never writes a release count', () => {
    const p = play(T, [{ t: 0 }, { t: 1 }, { t: 2 }]);
    assert.equal(p.memory.keepalived.release.history, undefined);
  });
});
