// `ha-watchdog retry SERVICE`, as table cases named after the situation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryNow } from '../../src/policy/retry.js';
import { bad, healthy, kinds, play, type Poll, T } from './play.js';

const gone = { tomcat: true };
/** tomcat killed at t=2, its restart fails: failed and backing off 10 s from t=3. */
const failedAt3: Poll[] = [...healthy, { t: 2, gone }, { t: 3, gone, keepalived: false, outcomes: [bad('tomcat')] }];

describe('policy: retry', () => {
  it('tomcat failed, backing off 10 s, the operator repaired it and asks -> a restart at the next poll, not after the backoff', () => {
    const p = play(T, failedAt3);
    assert.equal(p.memory.services.tomcat!.failed, true);
    assert.equal(p.memory.services.tomcat!.nextHealAt, 13_000);
    const r = retryNow(p.memory, 'tomcat', true, 4000);
    assert.ok(r.ok);
    assert.match(r.what, /a restart attempt at the next poll \(the backoff and the restart budget waived once\)/);
    const after = play(T, [{ t: 4, gone, keepalived: false }], r.memory);
    assert.deepEqual(kinds(after), ['restart:tomcat']);
    assert.equal(after.memory.services.tomcat!.retryAsked, undefined, 'waived once only');
  });

  it('without asking -> nothing until the backoff ends', () => {
    const p = play(T, [...failedAt3, { t: 4, gone, keepalived: false }, { t: 12, gone, keepalived: false }, { t: 13, gone, keepalived: false }]);
    assert.deepEqual(kinds(p).slice(4), ['', '', 'restart:tomcat']);
  });

  it('the retried restart fails too -> backing off again, longer', () => {
    const p = play(T, failedAt3);
    const r = retryNow(p.memory, 'tomcat', true, 4000);
    assert.ok(r.ok);
    const after = play(T, [{ t: 4, gone, keepalived: false }, { t: 5, gone, keepalived: false, outcomes: [bad('tomcat')] }, { t: 6, gone, keepalived: false }], r.memory);
    assert.deepEqual(kinds(after), ['restart:tomcat', '', '']);
    assert.equal(after.memory.services.tomcat!.backoffMs, 20_000);
  });

  it('restart budget spent (5 in 10 min) -> retry waives it once', () => {
    const p = play(T, failedAt3);
    p.memory.services.tomcat!.restarts = [0, 500, 1000, 1500, 2000];
    p.memory.services.tomcat!.nextHealAt = 600_000;
    const r = retryNow(p.memory, 'tomcat', true, 4000);
    assert.ok(r.ok);
    assert.deepEqual(kinds(play(T, [{ t: 4, gone, keepalived: false }], r.memory)), ['restart:tomcat']);
  });

  it('healthy, being restarted, or no restart command -> refused with the reason', () => {
    const up = play(T, healthy).memory;
    assert.deepEqual(retryNow(up, 'tomcat', true, 2000), { ok: false, error: 'tomcat is healthy; nothing to retry' });
    const restarting = play(T, [...healthy, { t: 2, gone }]).memory;
    assert.match(String((retryNow(restarting, 'tomcat', true, 2500) as { error: string }).error), /being restarted already \(the command runs\)/);
    assert.match(String((retryNow(play(T, failedAt3).memory, 'tomcat', false, 4000) as { error: string }).error), /no restart command configured/);
    assert.match(String((retryNow(up, 'nginx', true, 2000) as { error: string }).error), /nginx has not been polled yet/);
  });

  it('asked while paused -> accepted, and says nothing happens until resume', () => {
    const m = play(T, failedAt3).memory;
    m.maintenance = { since: 3500 };
    const r = retryNow(m, 'tomcat', true, 4000);
    assert.ok(r.ok);
    assert.match(r.what, /maintenance is on: nothing is done until `ha-watchdog resume`/);
  });
});
