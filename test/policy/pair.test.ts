// Split brain and an orphaned VIP, seen from both sides every poll, as table cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsPeer } from '../../src/policy/decide.js';
import { eventNames, kinds, play, type Poll, T } from './play.js';

const guard = { peer: { required: false } };
const peer = (vipHeld: boolean, healthy = true) => ({ reachable: true, healthy, reason: healthy ? 'B reports healthy' : 'B: tomcat down', vipHeld });
const polls = (n: number, p: Omit<Poll, 't'>, from = 0): Poll[] => Array.from({ length: n }, (_, i) => ({ t: from + i, ...p }));

describe('policy: the pair\'s VIP', () => {
  it('both hosts hold the VIP for 3 polls -> vip.split once, with both sides\' view; no action', () => {
    const p = play(T, polls(5, { held: true, peer: peer(true) }), undefined, guard);
    const split = p.events.flat().filter((e) => e.event === 'vip.split');
    assert.equal(split.length, 1);
    assert.equal(p.events.findIndex((e) => e.some((x) => x.event === 'vip.split')), 2, 'said at the third poll');
    assert.deepEqual(split[0]!.thisHost, { holdsVip: true, healthy: true });
    assert.equal((split[0]!.peer as { holdsVip: boolean }).holdsVip, true);
    assert.deepEqual(kinds(p).filter(Boolean), [], 'no action: which host keeps it is a human\'s call');
    assert.equal(p.memory.keepalived.vip.split?.said, true);
  });

  it('then the peer lets go -> vip.split_ended, once', () => {
    const p = play(T, [...polls(3, { held: true, peer: peer(true) }), ...polls(3, { held: true, peer: peer(false) }, 3)], undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), ['vip.split', 'vip.split_ended']);
    assert.equal(p.memory.keepalived.vip.split, undefined);
  });

  it('both hold it for 2 polls only (a preemption passing through) -> nothing said', () => {
    const p = play(T, [...polls(2, { held: true, peer: peer(true) }), ...polls(3, { held: true, peer: peer(false) }, 2)], undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), []);
  });

  it('neither holds it while this host is healthy -> vip.orphaned after 3 polls', () => {
    const p = play(T, polls(4, { held: false, peer: peer(false, false) }), undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), ['vip.orphaned']);
  });

  it('neither holds it and both are unhealthy -> not orphaned (nobody could serve it)', () => {
    const p = play(T, [{ t: 0, up: { tomcat: false }, held: false, peer: peer(false, false) }, ...polls(4, { up: { tomcat: false }, held: false, peer: peer(false, false) }, 1)], undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), []);
  });

  it('no answer yet this poll (asked in the background) -> the count goes on from where it was', () => {
    const p = play(T, [...polls(2, { held: true, peer: peer(true) }), { t: 2, held: true }, { t: 3, held: true, peer: peer(true) }], undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), ['vip.split']);
  });

  it('the peer cannot be asked, or does not say -> no verdict, the count starts over', () => {
    const silent = { reachable: false, healthy: false, reason: 'ECONNREFUSED' };
    const p = play(T, [...polls(2, { held: true, peer: peer(true) }), { t: 2, held: true, peer: silent }, ...polls(2, { held: true, peer: peer(true) }, 3)], undefined, guard);
    assert.deepEqual(eventNames(p).filter((e) => e.startsWith('vip.')), []);
    const mute = play(T, polls(5, { held: true, peer: { reachable: true, healthy: true } }), undefined, guard);
    assert.deepEqual(eventNames(mute).filter((e) => e.startsWith('vip.')), [], 'an older peer agent that does not report the VIP');
  });

  it('one host holds it, steady -> the memory is not rewritten', () => {
    const p = play(T, polls(4, { held: true, peer: peer(false) }), undefined, guard);
    const before = JSON.stringify(p.memory);
    const q = play(T, polls(3, { held: true, peer: peer(false) }, 4), p.memory, guard);
    assert.equal(JSON.stringify(q.memory), before);
  });

  it('the peer is asked every poll when keepalived.vip is set (to compare), otherwise only when something is wrong', () => {
    const mem = play(T, polls(2, {})).memory;
    const obs = { services: { tomcat: { ok: true, probes: [] } } };
    const vip = { control: 'stop' as const, vip: { url: 'http://10.0.0.70/', timeout: 1000, tlsVerify: true } };
    assert.equal(wantsPeer(obs, mem, { services: T, peer: { required: false } }), null);
    assert.equal(wantsPeer(obs, mem, { services: T, peer: { required: false }, keepalived: vip }), 'latest', 'to compare: the newest answer, never waited for');
    const failing = { services: { tomcat: { ok: false, probes: [] } } };
    assert.equal(wantsPeer(failing, mem, { services: T, peer: { required: false }, keepalived: vip }), 'latest', 'failing, not down yet: only compared, never waited for');
    const oneBad = play(T, [...polls(2, {}), { t: 2, up: { tomcat: false } }]).memory;
    assert.equal(wantsPeer(failing, oneBad, { services: T, peer: { required: false }, keepalived: vip }), 'fresh', 'a decision may hinge on it: waited for');
  });
});
