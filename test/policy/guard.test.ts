// The peer guard and the handover-first order, as table cases named after the situation.
import type { EventName } from '../../src/catalogue/events.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsPeer } from '../../src/policy/decide.js';
import { bad, eventNames, healthy, kinds, ok, play, type Poll, T } from './play.js';

const down = { tomcat: false };
const gone = { tomcat: true };
const peerOk = { reachable: true, healthy: true };
const peerSick = { reachable: true, healthy: false, reason: 'tomcat down' };
const peerSilent = { reachable: false, healthy: false, reason: 'connect ECONNREFUSED' };
const guard = { peer: { required: false } };
const handover = { ...guard, failover: { order: 'handover-first' as const } };

/** tomcat dies, its one restart fails at t=4 (restart-first), with what the peer says then. */
const failedAt4 = (peer: Poll['peer']): Poll[] => [...healthy, { t: 2, up: down }, { t: 3, up: down }, { t: 4, up: down, outcomes: [bad('tomcat')], peer }];

describe('policy: peer guard', () => {
  const cases: Array<{ name: string; config: object; polls: Poll[]; actions: string[]; events?: EventName[]; noEvents?: EventName[] }> = [
    {
      name: 'tomcat failed, no peer guard -> failover as before',
      config: {},
      polls: failedAt4(undefined),
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived'],
      events: ['failover'],
    },
    {
      name: 'tomcat failed, the peer says it is healthy -> failover',
      config: guard,
      polls: failedAt4(peerOk),
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived'],
      events: ['failover'],
      noEvents: ['failover.held'],
    },
    {
      name: 'tomcat failed, the peer is unhealthy too -> failover.held, the VIP stays here',
      config: guard,
      polls: [...failedAt4(peerSick), { t: 5, up: down, peer: peerSick }, { t: 6, up: down, peer: peerSick }],
      actions: ['', '', '', 'restart:tomcat', '', '', ''],
      events: ['failover.held'],
      noEvents: ['failover'],
    },
    {
      name: 'failover held, then the peer heals -> failover at the next poll',
      config: guard,
      polls: [...failedAt4(peerSick), { t: 5, up: down, peer: peerOk }],
      actions: ['', '', '', 'restart:tomcat', '', 'keepalived.stop:keepalived'],
      events: ['failover.held', 'failover'],
    },
    {
      name: 'tomcat failed, the peer cannot be asked, peer.required false -> failover',
      config: guard,
      polls: failedAt4(peerSilent),
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived'],
      events: ['failover'],
    },
    {
      name: 'tomcat failed, the peer cannot be asked, peer.required true -> held',
      config: { peer: { required: true } },
      polls: failedAt4(peerSilent),
      actions: ['', '', '', 'restart:tomcat', ''],
      events: ['failover.held'],
      noEvents: ['failover'],
    },
    {
      name: 'failover held, then tomcat heals here -> nothing moved, the hold is over',
      config: guard,
      polls: [...failedAt4(peerSick), { t: 14, up: down, peer: peerSick }, { t: 15, outcomes: [ok('tomcat')] }, { t: 16 }],
      actions: ['', '', '', 'restart:tomcat', '', 'restart:tomcat', '', ''],
      events: ['failover.held', 'restart.ok'],
      noEvents: ['failover', 'keepalived.stop'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = play(T, c.polls, undefined, c.config);
      assert.deepEqual(kinds(p), c.actions);
      for (const e of c.events ?? []) assert.ok(eventNames(p).includes(e), `expected event ${e}, got ${eventNames(p).join(', ')}`);
      for (const e of c.noEvents ?? []) assert.ok(!eventNames(p).includes(e), `unexpected event ${e}`);
    });
  }

  it('a held failover says so once per reason, with both sides', () => {
    const p = play(T, [...failedAt4(peerSick), { t: 5, up: down, peer: peerSick }, { t: 6, up: down, peer: peerSilent }], undefined, { peer: { required: true } });
    const held = p.events.flat().filter((e) => e.event === 'failover.held');
    assert.equal(held.length, 2, 'once for "unhealthy", once for "cannot be asked"');
    assert.match(String(held[0]!.reason), /the peer is unhealthy too: tomcat down; this host: tomcat: 1 restart attempt\(s\) failed/);
    assert.deepEqual(held[0]!.peer, peerSick);
    assert.equal(p.memory.keepalived.guard.held, true);
  });

  it('the peer is asked only when a failover may hinge on it', () => {
    const cfg = { services: T, peer: { required: false } };
    const healthyMem = play(T, healthy).memory;
    const obs = (ok: boolean) => ({ services: { tomcat: { ok, probes: [] } } });
    assert.equal(wantsPeer(obs(true), healthyMem, cfg), null, 'all healthy: no request to the peer');
    assert.equal(wantsPeer(obs(false), healthyMem, cfg), null, 'a first failed probe (fall 2): nothing hinges on the peer yet, the poll does not wait (its retry goes out at once)');
    const oneBad = play(T, [...healthy, { t: 2, up: { tomcat: false } }]).memory;
    assert.equal(wantsPeer(obs(false), oneBad, cfg), 'fresh', 'the failure that reaches fall: the poll waits for the answer');
    const gone = { services: { tomcat: { ok: false, probes: [{ probe: 'process' as const, ok: false, gone: true, durationMs: 1 }] } } };
    assert.equal(wantsPeer(gone, healthyMem, cfg), 'fresh', 'its process gone: down at once, so decided now');
    assert.equal(wantsPeer(obs(false), healthyMem, { services: { tomcat: { ...T.tomcat, fall: 1 } }, peer: { required: false } }), 'fresh', 'fall 1: down with this failure');
    assert.equal(wantsPeer(obs(false), healthyMem, { services: { tomcat: { ...T.tomcat, critical: false } }, peer: { required: false } }), null, 'not critical: never hands the VIP over');
    const downMem = play(T, [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }]).memory;
    assert.equal(wantsPeer(obs(true), downMem, cfg), 'fresh', 'down (restarting): a decision may still hinge on it');
    assert.equal(wantsPeer(obs(false), healthyMem, { services: T }), null, 'no peer configured');
    assert.equal(wantsPeer(obs(false), { ...healthyMem, maintenance: { since: 0 } }, cfg), null, 'paused: nothing to weigh');
  });
});

describe('policy: failover.order handover-first', () => {
  it('tomcat process gone, the peer healthy -> releases the VIP and restarts in the same poll; takes it back after rise', () => {
    const p = play(
      T,
      [
        ...healthy,
        { t: 2, gone, peer: peerOk },
        { t: 3, keepalived: false, outcomes: [ok('tomcat'), ok('keepalived', 'keepalived.stop')] },
        { t: 4, keepalived: false },
        { t: 5, keepalived: true, outcomes: [ok('keepalived', 'keepalived.start')] },
      ],
      undefined,
      handover,
    );
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat', '', 'keepalived.start:keepalived', '']);
    const h = p.events[2]!.find((e) => e.event === 'handover');
    assert.ok(h, 'handover logged');
    assert.match(String(h.reason), /tomcat down; restarting it with the VIP on the peer; the peer is healthy/);
    assert.equal(p.memory.keepalived.release.active, false);
  });

  it('handover: tomcat answers again while its restart command still runs -> the VIP is taken back only once the restart has ended', () => {
    const p = play(
      T,
      [
        ...healthy,
        { t: 2, gone, peer: peerOk },
        { t: 3, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 4, keepalived: false },
        { t: 5, keepalived: false },
        { t: 6, keepalived: false, outcomes: [ok('tomcat')] },
      ],
      undefined,
      handover,
    );
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat', '', '', '', 'keepalived.start:keepalived']);
  });

  it('handover-first, the peer unhealthy -> restart first, handover.skipped said once', () => {
    const p = play(T, [...healthy, { t: 2, gone, peer: peerSick }, { t: 3, gone, peer: peerSick }], undefined, handover);
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat', '']);
    const skipped = p.events.flat().filter((e) => e.event === 'handover.skipped');
    assert.equal(skipped.length, 1);
    assert.match(String(skipped[0]!.reason), /the peer is unhealthy \(tomcat down\); restarting first/);
  });

  it('handover-first without a peer configured -> restart first, and says why', () => {
    const p = play(T, [...healthy, { t: 2, gone }], undefined, { failover: { order: 'handover-first' } });
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.match(String(p.events.flat().find((e) => e.event === 'handover.skipped')?.reason), /needs a peer guard/);
  });

  it('handed over, then the restart fails -> the VIP stays on the peer, keepalived is not started', () => {
    const p = play(
      T,
      [...healthy, { t: 2, gone, peer: peerOk }, { t: 3, keepalived: false, gone, outcomes: [bad('tomcat'), ok('keepalived', 'keepalived.stop')] }, { t: 4, keepalived: false, gone }],
      undefined,
      handover,
    );
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat', '', '']);
    assert.ok(eventNames(p).includes('service.failed'));
    assert.equal(p.memory.keepalived.release.active, true);
  });

  it('restart-first chosen explicitly, tomcat process gone, the peer healthy -> restart only, the VIP stays', () => {
    const p = play(T, [...healthy, { t: 2, gone, peer: peerOk }], undefined, { ...guard, failover: { order: 'restart-first' as const } });
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
  });
});
