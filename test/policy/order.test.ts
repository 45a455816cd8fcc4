// failover.order auto (the default) and the start times it learns, as table cases
// named after the situation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshMemory } from '../../src/policy/decide.js';
import { chooseOrder } from '../../src/policy/order.js';
import type { Memory } from '../../src/policy/types.js';
import { eventNames, healthy, kinds, ok, play, type Poll, svc, T } from './play.js';

const gone = { tomcat: true };
const peerOk = { reachable: true, healthy: true };
const peerSick = { reachable: true, healthy: false, reason: 'tomcat down' };
const guard = { peer: { required: false } };

/** A memory in which `service` took `startMs` to start last time (and, optionally, a handover was measured). */
function learned(service: string, startMs: number, handoverMs?: number): Memory {
  const m = freshMemory();
  m.services[service] = { health: 'up', good: 2, bad: 0, phase: 'idle', attempt: 0, failed: false, restarts: [], startMs, startFrom: 'restart' };
  if (handoverMs !== undefined) m.keepalived.vip.handoverMs = handoverMs;
  return m;
}

const handoverEvent = (p: ReturnType<typeof play>) => p.events.flat().find((e) => e.event === 'handover');
const inPlaceEvent = (p: ReturnType<typeof play>) => p.events.flat().find((e) => e.event === 'restart.in_place');

describe('policy: failover.order auto', () => {
  it('no start time known yet, peer healthy -> hand over first, and say why', () => {
    const p = play(T, [...healthy, { t: 2, gone, peer: peerOk }], undefined, guard);
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat']);
    assert.match(String(handoverEvent(p)?.reason), /no start time known yet for tomcat .*handing the VIP to the healthy peer first/);
  });

  it('tomcat took 21 s to start last time, peer healthy -> hand over first', () => {
    const p = play(T, [{ t: 0 }, { t: 1 }, { t: 2, gone, peer: peerOk }], learned('tomcat', 21_400), guard);
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat']);
    assert.match(String(handoverEvent(p)?.reason), /tomcat took 21s to start last time, longer than a handover \(about 1s\)/);
  });

  it('nginx restarts in 0.1 s -> restart in place, the VIP stays, said once', () => {
    const N = { nginx: svc({ process: { name: 'nginx', namespace: 'own' } }) };
    const p = play(N, [{ t: 0 }, { t: 1 }, { t: 2, gone: { nginx: true }, peer: peerOk }, { t: 2.5, gone: { nginx: true }, peer: peerOk }], learned('nginx', 100), guard);
    assert.deepEqual(kinds(p), ['', '', 'restart:nginx', '']);
    assert.ok(!eventNames(p).includes('handover'));
    assert.equal(p.events.flat().filter((e) => e.event === 'restart.in_place').length, 1);
    assert.match(String(inPlaceEvent(p)?.reason), /nginx took 100ms to start last time, no longer than a handover \(about 1s\); restarting in place/);
  });

  it('peer unhealthy -> restart first, even for a slow tomcat', () => {
    const p = play(T, [{ t: 0 }, { t: 1 }, { t: 2, gone, peer: peerSick }], learned('tomcat', 21_000), guard);
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.match(String(inPlaceEvent(p)?.reason), /the peer is unhealthy \(tomcat down\); restarting first/);
  });

  it('peer not answering -> restart first', () => {
    const p = play(T, [...healthy, { t: 2, gone, peer: { reachable: false, healthy: false, reason: 'connect ECONNREFUSED' } }], undefined, guard);
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.match(String(inPlaceEvent(p)?.reason), /cannot be asked/);
  });

  it('no peer guard -> today\'s restart-first, nothing weighed or said', () => {
    const p = play(T, [...healthy, { t: 2, gone }]);
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.ok(!eventNames(p).includes('restart.in_place'));
    assert.ok(!eventNames(p).includes('handover.skipped'));
  });

  it('a handover measured at 0.4 s, tomcat took 0.9 s last time -> hand over (the handover costs less)', () => {
    const p = play(T, [{ t: 0 }, { t: 1 }, { t: 2, gone, peer: peerOk }], learned('tomcat', 900, 400), guard);
    assert.deepEqual(kinds(p), ['', '', 'keepalived.stop:keepalived,restart:tomcat']);
    assert.match(String(handoverEvent(p)?.reason), /longer than a handover \(about 400ms\)/);
  });

  it('handed over, the VIP answers from the peer a second later -> the handover cost is measured', () => {
    const p = play(
      T,
      [
        { t: 0, vip: true },
        { t: 1, vip: true },
        { t: 2, gone, peer: peerOk, vip: false },
        { t: 2.7, gone, keepalived: false, vip: true, outcomes: [ok('keepalived', 'keepalived.stop')] },
      ],
      undefined,
      guard,
    );
    assert.equal(p.memory.keepalived.vip.handoverMs, 700);
  });

  it('explicit orders are kept: handover-first hands over a fast service, restart-first never hands over', () => {
    const fast = learned('tomcat', 100);
    const hf = play(T, [{ t: 0 }, { t: 1 }, { t: 2, gone, peer: peerOk }], fast, { ...guard, failover: { order: 'handover-first' as const } });
    assert.deepEqual(kinds(hf), ['', '', 'keepalived.stop:keepalived,restart:tomcat']);
    const rf = play(T, [{ t: 0 }, { t: 1 }, { t: 2, gone, peer: peerOk }], learned('tomcat', 60_000), { ...guard, failover: { order: 'restart-first' as const } });
    assert.deepEqual(kinds(rf), ['', '', 'restart:tomcat']);
  });

  it('chooseOrder is pure and says the same for the same inputs', () => {
    const a = chooseOrder('tomcat', { startMs: 5000 }, 1000, { configured: true, required: false }, peerOk);
    const b = chooseOrder('tomcat', { startMs: 5000 }, 1000, { configured: true, required: false }, peerOk);
    assert.deepEqual(a, b);
    assert.equal(a.handover, true);
    assert.equal(chooseOrder('tomcat', { startMs: 1000 }, 1000, { configured: true, required: false }, peerOk).handover, false, 'equal: restart in place');
  });
});

describe('policy: learning how long a service takes to start', () => {
  it('tomcat restarted, answers 21 s later -> startMs 21 s (restart to the first good poll), in restart.ok', () => {
    const polls: Poll[] = [...healthy, { t: 2, gone }, { t: 3, up: { tomcat: false }, outcomes: [ok('tomcat')] }];
    for (let t = 4; t < 23; t++) polls.push({ t, up: { tomcat: false } });
    polls.push({ t: 23 }, { t: 24 });
    const p = play(T, polls);
    assert.equal(p.memory.services.tomcat!.startMs, 21_000);
    assert.equal(p.memory.services.tomcat!.startFrom, 'restart');
    const restartOk = p.events.flat().find((e) => e.event === 'restart.ok');
    assert.equal(restartOk?.startMs, 21_000);
    assert.equal(JSON.parse(JSON.stringify(p.memory)).services.tomcat.startMs, 21_000, 'kept in state.json');
  });

  it('a new tomcat process seen starting (started by someone else) -> start time from its first sighting', () => {
    const polls: Poll[] = [
      { t: 0, pids: { tomcat: [100] } },
      { t: 1, pids: { tomcat: [100] } },
      { t: 2, gone },
      { t: 2.5, pids: { tomcat: [200] }, up: { tomcat: false } },
      { t: 10, pids: { tomcat: [200] }, up: { tomcat: false } },
      { t: 14.5, pids: { tomcat: [200] } },
      { t: 15.5, pids: { tomcat: [200] } },
    ];
    // No restart command, so nothing of ours started it.
    const p = play({ tomcat: svc({ restart: undefined }) }, polls);
    assert.equal(p.memory.services.tomcat!.startMs, 12_000);
    assert.equal(p.memory.services.tomcat!.startFrom, 'sighting');
    assert.match(String(p.events.flat().find((e) => e.event === 'service.up' && e.startMs !== undefined)?.reason), /started in 12s/);
  });

  it('the agent\'s first HTTP probe fails (a loaded host) with tomcat already running -> no sighting, no start time', () => {
    const p = play(T, [
      { t: 0, pids: { tomcat: [100] }, up: { tomcat: false } },
      { t: 0.1, pids: { tomcat: [100] } },
      { t: 1, pids: { tomcat: [100] } },
      { t: 2, pids: { tomcat: [100] } },
    ]);
    assert.equal(p.memory.services.tomcat!.startMs, undefined, 'found at the first poll: not seen starting');
  });

  it('pids change while still starting (a wrapper, then the JVM) -> counted from the first sighting', () => {
    const polls: Poll[] = [
      { t: 0, pids: { tomcat: [100] } },
      { t: 1, pids: { tomcat: [100] } },
      { t: 2, gone },
      { t: 3, pids: { tomcat: [200] }, up: { tomcat: false } },
      { t: 4, pids: { tomcat: [201] }, up: { tomcat: false } },
      { t: 20, pids: { tomcat: [201] } },
      { t: 21, pids: { tomcat: [201] } },
    ];
    const p = play({ tomcat: svc({ restart: undefined }) }, polls);
    assert.equal(p.memory.services.tomcat!.startMs, 17_000);
  });

  it('tomcat already healthy when the agent starts -> no start time (it was not seen starting)', () => {
    const p = play(T, [
      { t: 0, pids: { tomcat: [100] } },
      { t: 1, pids: { tomcat: [100] } },
      { t: 2, pids: { tomcat: [100] } },
    ]);
    assert.equal(p.memory.services.tomcat!.startMs, undefined);
  });

  it('a steady service leaves its memory unchanged poll after poll (state.json not rewritten)', () => {
    const p1 = play(T, [{ t: 0, pids: { tomcat: [100] } }, { t: 1, pids: { tomcat: [100] } }, { t: 2, pids: { tomcat: [100] } }]);
    const before = JSON.stringify(p1.memory);
    const p2 = play(T, [{ t: 3, pids: { tomcat: [100] } }, { t: 4, pids: { tomcat: [100] } }], p1.memory);
    assert.equal(JSON.stringify(p2.memory), before);
  });
});

describe('policy: a handover needs the VIP here', () => {
  it('tomcat down on the host without the VIP, peer healthy -> restart in place (nothing to hand over), keepalived left running', () => {
    const p = play(T, [{ t: 0, held: false }, { t: 1, held: false }, { t: 2, gone, peer: peerOk, held: false }], undefined, guard);
    assert.deepEqual(kinds(p), ['', '', 'restart:tomcat']);
    assert.match(String(inPlaceEvent(p)?.reason), /the VIP is not on this host: nothing to hand over/);
  });

  it('both tomcats die at once, each asks the other a moment before its own failure shows -> only the VIP holder hands over: never both', () => {
    const a = play(T, [{ t: 0, held: true }, { t: 1, held: true }, { t: 2, gone, peer: peerOk, held: true }], undefined, guard);
    const b = play(T, [{ t: 0, held: false }, { t: 1, held: false }, { t: 2, gone, peer: peerOk, held: false }], undefined, guard);
    const released = [a, b].filter((p) => kinds(p).some((k) => k.includes('keepalived.stop')));
    assert.equal(released.length, 1, 'exactly one host lets go of the VIP');
  });
});
