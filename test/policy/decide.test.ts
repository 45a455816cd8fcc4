// Table-driven policy cases, named after the situation. Each case plays a
// sequence of polls through decide() and checks what it asked for.
import type { EventName } from '../../src/catalogue/events.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshMemory, recordJob, recordSpawn, resumeMemory } from '../../src/policy/decide.js';
import type { Memory } from '../../src/policy/types.js';
import { bad, eventNames, healthy, kinds, ok, play, type Poll, svc, type Svc, T } from './play.js';

describe('policy: decide()', () => {
  const cases: Array<{ name: string; services?: Record<string, Svc>; polls: Poll[]; actions: string[]; events?: EventName[]; noEvents?: EventName[] }> = [
    {
      name: 'all healthy, keepalived running -> nothing to do',
      polls: [...healthy, { t: 2 }],
      actions: ['', '', ''],
      events: ['service.up'],
    },
    {
      name: 'tomcat dead for one poll with fall 2 -> not down yet, no restart',
      polls: [...healthy, { t: 2, up: { tomcat: false } }],
      actions: ['', '', ''],
      noEvents: ['service.down'],
    },
    {
      name: 'tomcat process gone (not just failing) -> down at once, no fall, restart in the same poll',
      polls: [...healthy, { t: 2, gone: { tomcat: true } }],
      actions: ['', '', 'restart:tomcat'],
      events: ['service.up', 'service.down'],
    },
    {
      name: 'tomcat killed, its unit has Restart=on-failure (systemd says auto-restart) -> left to systemd, said once, no restart, no failover; back up -> service.recovered',
      polls: [
        ...healthy,
        { t: 2, gone: { tomcat: true }, systemd: { tomcat: true } },
        { t: 3, gone: { tomcat: true }, systemd: { tomcat: true } },
        { t: 4, systemd: { tomcat: false } },
        { t: 5, systemd: { tomcat: false } },
      ],
      actions: ['', '', '', '', '', ''],
      events: ['service.up', 'service.down', 'restart.left_to_systemd', 'service.up', 'service.recovered'],
      noEvents: ['failover', 'restart.start'],
    },
    {
      name: 'left to systemd, systemd started it again, still deploying (process up, HTTP failing) -> the agent waits its grace (30 s), no restart, no failover; still not healthy after it -> the agent restarts',
      polls: [
        ...healthy,
        { t: 2, gone: { tomcat: true }, systemd: { tomcat: true } },
        { t: 4, pids: { tomcat: [77] }, up: { tomcat: false }, systemd: { tomcat: false } },
        { t: 20, pids: { tomcat: [77] }, up: { tomcat: false }, systemd: { tomcat: false } },
        { t: 33, pids: { tomcat: [77] }, up: { tomcat: false }, systemd: { tomcat: false } },
        { t: 35, pids: { tomcat: [77] }, up: { tomcat: false }, systemd: { tomcat: false } },
      ],
      actions: ['', '', '', '', '', '', 'restart:tomcat'],
      events: ['service.up', 'service.down', 'restart.left_to_systemd'],
    },
    {
      name: 'left to systemd, systemd has started it (a main pid) but the process probe has not seen it yet -> still waits, no restart',
      polls: [
        ...healthy,
        { t: 2, gone: { tomcat: true }, systemd: { tomcat: true } },
        { t: 4, gone: { tomcat: true }, systemd: { tomcat: false }, sdRunning: { tomcat: true } },
      ],
      actions: ['', '', '', ''],
      events: ['service.up', 'service.down', 'restart.left_to_systemd'],
    },
    {
      name: 'tomcat killed, its unit has Restart=no (systemd does nothing) -> the agent restarts it as usual',
      polls: [...healthy, { t: 2, gone: { tomcat: true }, systemd: { tomcat: false } }],
      actions: ['', '', 'restart:tomcat'],
      noEvents: ['restart.left_to_systemd'],
    },
    {
      name: 'tomcat left to systemd, but systemd gives up (start limit) -> the agent restarts it then',
      polls: [
        ...healthy,
        { t: 2, gone: { tomcat: true }, systemd: { tomcat: true } },
        { t: 3, gone: { tomcat: true }, systemd: { tomcat: false } },
      ],
      actions: ['', '', '', 'restart:tomcat'],
      events: ['service.up', 'service.down', 'restart.left_to_systemd'],
    },
    {
      name: 'tomcat dead for fall polls -> service.down and restart attempt 1',
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }],
      actions: ['', '', '', 'restart:tomcat'],
      events: ['service.up', 'service.down'],
    },
    {
      name: 'seed bug: restart worked -> no failover (the bash loop killed keepalived anyway)',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [ok('tomcat')] },
        { t: 5 },
        { t: 6 },
        { t: 7 },
      ],
      actions: ['', '', '', 'restart:tomcat', '', '', '', ''],
      events: ['service.up', 'service.down', 'service.up', 'restart.ok'],
      noEvents: ['failover', 'restart.failed'],
    },
    {
      name: 'restart command ok but tomcat still down after grace -> restart.failed, failover stops keepalived',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [ok('tomcat')] },
        { t: 20, up: { tomcat: false } },
        { t: 34, up: { tomcat: false } },
      ],
      actions: ['', '', '', 'restart:tomcat', '', '', 'keepalived.stop:keepalived'],
      events: ['service.up', 'service.down', 'restart.failed', 'service.failed', 'failover'],
    },
    {
      name: 'restart command exits non-zero -> the attempt fails at once, failover',
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }, { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] }],
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived'],
      events: ['service.up', 'service.down', 'restart.failed', 'service.failed', 'failover'],
    },
    {
      name: 'tomcat dead, restart failed twice (attempts 2) -> stop keepalived',
      services: { tomcat: svc({ restart: { command: ['/bin/true'], timeout: 60_000, grace: 30_000, attempts: 2 } }) },
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] },
        { t: 5, up: { tomcat: false }, outcomes: [bad('tomcat')] },
      ],
      actions: ['', '', '', 'restart:tomcat', 'restart:tomcat', 'keepalived.stop:keepalived'],
      events: ['service.up', 'service.down', 'restart.failed', 'restart.failed', 'service.failed', 'failover'],
    },
    {
      name: 'failover once: keepalived gone after the stop -> no repeated stop',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] },
        { t: 5, up: { tomcat: false }, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 6, up: { tomcat: false }, keepalived: false },
        { t: 7, up: { tomcat: false }, keepalived: false },
      ],
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived', '', '', ''],
    },
    {
      name: 'keepalived killed while tomcat is healthy -> start keepalived',
      polls: [...healthy, { t: 2, keepalived: false }],
      actions: ['', '', 'keepalived.start:keepalived'],
    },
    {
      name: 'keepalived dead and tomcat down -> never start keepalived onto a broken host',
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false }, keepalived: false }, { t: 4, up: { tomcat: false }, keepalived: false }],
      actions: ['', '', '', 'restart:tomcat', ''],
    },
    {
      name: 'agent just started, keepalived not running, tomcat not yet up for rise polls -> wait',
      polls: [{ t: 0, keepalived: false }, { t: 1, keepalived: false }],
      actions: ['', 'keepalived.start:keepalived'],
    },
    {
      name: 'after failover, tomcat healthy again for rise polls -> keepalived started once',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] },
        { t: 5, up: { tomcat: false }, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 6, keepalived: false },
        { t: 7, keepalived: false },
        { t: 8, keepalived: false },
        { t: 9, keepalived: true, outcomes: [ok('keepalived', 'keepalived.start')] },
      ],
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived', '', '', 'keepalived.start:keepalived', '', ''],
      events: ['service.up', 'service.down', 'restart.failed', 'service.failed', 'failover', 'service.up', 'service.recovered'],
    },
    {
      name: 'non-critical service cannot be restarted -> restarted, never a failover',
      services: { tomcat: svc(), cache: svc({ critical: false }) },
      polls: [
        ...healthy,
        { t: 2, up: { cache: false } },
        { t: 3, up: { cache: false } },
        { t: 4, up: { cache: false }, outcomes: [bad('cache')] },
        { t: 5, up: { cache: false } },
      ],
      actions: ['', '', '', 'restart:cache', '', ''],
      events: ['service.up', 'service.up', 'service.down', 'restart.failed', 'service.failed'],
      noEvents: ['failover'],
    },
    {
      name: 'restart in flight and the service still down -> no second action on it',
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }, { t: 4, up: { tomcat: false } }, { t: 5, up: { tomcat: false } }],
      actions: ['', '', '', 'restart:tomcat', '', ''],
    },
    {
      name: 'keepalived start in flight -> no second start',
      polls: [...healthy, { t: 2, keepalived: false }, { t: 3, keepalived: false }, { t: 4, keepalived: false }],
      actions: ['', '', 'keepalived.start:keepalived', '', ''],
    },
    {
      name: 'no restart command configured: down -> failed -> failover',
      services: { tomcat: svc({ restart: undefined }) },
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }],
      actions: ['', '', '', 'keepalived.stop:keepalived'],
      events: ['service.up', 'service.down', 'service.failed', 'failover'],
    },
    {
      name: 'back within grace but only one good poll with rise 2 -> still waiting, no failover',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [ok('tomcat')] },
        { t: 5 },
      ],
      actions: ['', '', '', 'restart:tomcat', '', ''],
      noEvents: ['restart.ok', 'restart.failed', 'failover'],
    },
    {
      name: 'seed bug: tomcat hung (process there, HTTP fails) -> counted down and restarted',
      polls: [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }],
      actions: ['', '', '', 'restart:tomcat'],
    },
    {
      name: 'keepalived brought back by someone else while tomcat still failed -> stopped again at once; if it keeps coming back, with backoff',
      polls: [
        ...healthy,
        { t: 2, up: { tomcat: false } },
        { t: 3, up: { tomcat: false } },
        { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] },
        { t: 5, up: { tomcat: false }, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 6, up: { tomcat: false }, keepalived: true },
        { t: 7, up: { tomcat: false }, keepalived: true, outcomes: [ok('keepalived', 'keepalived.stop')] },
        { t: 8, up: { tomcat: false }, keepalived: true },
        { t: 17, up: { tomcat: false }, keepalived: true },
      ],
      // t=6: back -> stopped at once; t=7/8: back again -> waits 10 s; t=17: heal backoff (from t=4) also due
      actions: ['', '', '', 'restart:tomcat', 'keepalived.stop:keepalived', '', 'keepalived.stop:keepalived', '', '', 'keepalived.stop:keepalived,restart:tomcat'],
      events: ['service.up', 'service.down', 'restart.failed', 'service.failed', 'failover', 'keepalived.running_again', 'keepalived.running_again'],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const p = play(c.services ?? T, c.polls);
      assert.deepEqual(kinds(p), c.actions);
      if (c.events) assert.deepEqual(eventNames(p), c.events);
      for (const e of c.noEvents ?? []) assert.ok(!eventNames(p).includes(e), `unexpected ${e}: ${eventNames(p).join(', ')}`);
    });
  }

  it('tomcat dead on both hosts: after failover nothing answers on the VIP -> "no healthy host remains", once, no flapping', () => {
    const down = { tomcat: false };
    const polls: Poll[] = [
      { t: 0, vip: true },
      { t: 1, vip: true },
      { t: 2, up: down, vip: true },
      { t: 3, up: down, vip: true },
      { t: 4, up: down, vip: false, outcomes: [bad('tomcat')] },
      { t: 5, up: down, vip: false, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
    ];
    for (let t = 6; t < 120; t++) polls.push({ t, up: down, vip: false, keepalived: false, outcomes: [] });
    // every heal restart fails on the next poll
    const p0 = play(T, polls.slice(0, 6));
    let p = p0;
    for (const poll of polls.slice(6)) {
      const prev = p.actions.at(-1) ?? [];
      const outcomes = prev.filter((a) => a.kind === 'restart').map(() => bad('tomcat'));
      const step = play(T, [{ ...poll, outcomes }], p.memory);
      p = { actions: [...p.actions, ...step.actions], events: [...p.events, ...step.events], memory: step.memory };
    }
    const names = eventNames(p);
    assert.equal(names.filter((e) => e === 'vip.unserved').length, 1, names.join(','));
    const said = p.events.flat().find((e) => e.event === 'vip.unserved')!;
    assert.match(String(said.reason), /^no healthy host remains: this host gave up the VIP \(tomcat: /);
    const ka = p.actions.flat().filter((a) => a.kind.startsWith('keepalived'));
    assert.deepEqual(ka.map((a) => a.kind), ['keepalived.stop'], 'keepalived stopped once, never started again');
  });

  it('after the failover stop the same keepalived pids linger a moment -> not "running again", re-stopped only after 10 s; a new pid -> at once', () => {
    const down = { tomcat: false };
    const p = play(T, [
      ...healthy.map((h) => ({ ...h, kpids: [10, 11] })),
      { t: 2, up: down, kpids: [10, 11] },
      { t: 3, up: down, kpids: [10, 11] },
      { t: 4, up: down, kpids: [10, 11], outcomes: [bad('tomcat')] },
      { t: 5, up: down, kpids: [10], outcomes: [ok('keepalived', 'keepalived.stop')] },
      { t: 6, up: down, kpids: [10] },
      { t: 15, up: down, kpids: [10] },
      { t: 16, up: down, kpids: [10], outcomes: [ok('keepalived', 'keepalived.stop')] },
      { t: 17, up: down, kpids: [20] },
    ]);
    const stops = p.actions.map((a) => a.filter((x) => x.kind === 'keepalived.stop').length);
    // t=4 failover stop; t=5,6 lingering (wait); t=15: 10 s passed -> stop again; t=17 new pid 20 -> at once
    assert.deepEqual(stops, [0, 0, 0, 0, 1, 0, 0, 1, 0, 1]);
    const again = p.events.flat().filter((e) => e.event === 'keepalived.running_again').map((e) => String(e.reason));
    assert.match(again[0]!, /^keepalived \(pid 10\) still runs after the stop/);
    assert.match(again[1]!, /^keepalived runs again \(started by someone else\)/);
  });

  it('VIP failing while this host still holds it (its own 502s) -> no "no healthy host" at the failover', () => {
    const down = { tomcat: false };
    const p = play(T, [
      { t: 0, vip: true },
      { t: 1, vip: true },
      { t: 2, up: down, vip: false },
      { t: 3, up: down, vip: false },
      { t: 4, up: down, vip: false, outcomes: [bad('tomcat')] },
      { t: 5, up: down, vip: false, keepalived: true },
      { t: 6, up: down, vip: true, keepalived: false, outcomes: [ok('keepalived', 'keepalived.stop')] },
      { t: 7, up: down, vip: true, keepalived: false },
    ]);
    assert.ok(eventNames(p).includes('failover'));
    assert.ok(!eventNames(p).includes('vip.unserved'), eventNames(p).join(','));
    assert.ok(!eventNames(p).includes('vip.served'));
  });

  it('the peer serves the VIP after our failover -> no alarm; VIP back after an outage -> vip.served', () => {
    const down = { tomcat: false };
    const p = play(T, [
      ...healthy,
      { t: 2, up: down },
      { t: 3, up: down },
      { t: 4, up: down, outcomes: [bad('tomcat')] },
      { t: 5, up: down, keepalived: false, vip: true, outcomes: [ok('keepalived', 'keepalived.stop')] },
      { t: 6, up: down, keepalived: false, vip: false },
      { t: 7, up: down, keepalived: false, vip: false },
      { t: 8, up: down, keepalived: false, vip: true },
    ]);
    assert.ok(!eventNames(p).includes('vip.unserved'), 'two bad VIP polls are not enough');
    assert.ok(!eventNames(p).includes('vip.served'));
  });

  it('healing a failed service backs off 10 s, doubling, up to 5 min', () => {
    const polls: Poll[] = [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }, { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] }];
    let p = play(T, polls);
    const healAt: number[] = [];
    let t = 5;
    for (let i = 0; i < 9; i++) {
      // poll every second until the next heal restart is issued, then fail it
      for (let guard = 0; guard < 700; guard++, t++) {
        const step = play(T, [{ t, up: { tomcat: false }, keepalived: false }], p.memory);
        p = { ...step, memory: step.memory };
        if (step.actions[0]!.length) break;
      }
      healAt.push(t);
      t += 1;
      p = play(T, [{ t, up: { tomcat: false }, keepalived: false, outcomes: [bad('tomcat')] }], p.memory);
      t += 1;
    }
    // gaps from each failed heal to the next one
    const gaps = [healAt[0]! - 4, ...healAt.slice(1).map((x, i) => x - healAt[i]! - 1)];
    // 10, 20, 40, 80 s; then the budget (5 restarts in 10 min) holds the next one back; then the 5-min cap
    assert.deepEqual(gaps.slice(0, 4), [10, 20, 40, 80]);
    assert.ok(gaps[4]! > 160, `budget should hold back the 6th restart: ${gaps}`);
    assert.ok(gaps.slice(5).every((g) => g >= 300 - 1 && g <= 600), `gaps ${gaps}`);
    assert.ok(p.memory.services.tomcat!.backoffMs! <= 300_000);
  });

  it('restart budget: a sixth restart within 10 minutes is refused and the service marked failed', () => {
    const svcs = { tomcat: svc({ fall: 1, rise: 1, restart: { command: ['/bin/true'], timeout: 1000, grace: 5000, attempts: 1 } }) };
    const polls: Poll[] = [{ t: 0 }];
    let t = 1;
    for (let i = 0; i < 5; i++) {
      polls.push({ t: t++, up: { tomcat: false } }); // down -> restart
      polls.push({ t: t++, outcomes: [ok('tomcat')] }); // back up
    }
    polls.push({ t: t++, up: { tomcat: false } });
    const p = play(svcs, polls);
    const restarts = p.actions.flat().filter((a) => a.kind === 'restart').length;
    assert.equal(restarts, 5);
    const last = p.events.at(-1)!;
    assert.ok(last.some((e) => e.event === 'service.failed' && /budget/.test(String(e.reason))), JSON.stringify(last));
    assert.deepEqual(p.actions.at(-1)!.map((a) => a.kind), ['keepalived.stop']);
  });

  it('keepalived that keeps dying is restarted with backoff, not in a tight loop', () => {
    // feed back each start's outcome on the next poll
    let p = play(T, healthy);
    const startedAt: number[] = [];
    for (let t = 2; t < 40; t++) {
      const prev = p.actions.at(-1) ?? [];
      const outcomes = prev.some((a) => a.kind === 'keepalived.start') ? [ok('keepalived', 'keepalived.start')] : [];
      const step = play(T, [{ t, keepalived: false, outcomes }], p.memory);
      if (step.actions[0]!.length) startedAt.push(t);
      p = { actions: [...p.actions, ...step.actions], events: [...p.events, ...step.events], memory: step.memory };
    }
    assert.deepEqual(startedAt, [2, 12, 32]);
  });

  it('agent killed mid-restart (command started) and started again -> the restart is not repeated, grace applies', () => {
    const p = play(T, [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }]);
    assert.equal(p.memory.services.tomcat!.phase, 'restarting');
    const spawned = recordSpawn(p.memory, 'tomcat', 4242, 99);
    const r = resumeMemory(JSON.parse(JSON.stringify(spawned)), { services: T }, 10_000, (pid, st) => pid === 4242 && st === 99);
    assert.equal(r.memory.services.tomcat!.phase, 'grace');
    // still running: its timeout (60 s from t=3) plus the 30 s grace
    assert.equal(r.memory.services.tomcat!.graceUntil, 3_000 + 60_000 + 30_000);
    assert.deepEqual(r.events.map((e) => e.event), ['state.resumed']);
    assert.match(String(r.events[0]!.reason), /\(pid 4242\) was in flight when the agent stopped and still runs; not repeating it/);
    const ended = resumeMemory(spawned, { services: T }, 10_000, () => false);
    assert.equal(ended.memory.services.tomcat!.graceUntil, 10_000 + 30_000, 'ended unseen: grace from now');
    const after = play(T, [{ t: 10, up: { tomcat: false } }, { t: 11 }, { t: 12 }], r.memory);
    assert.deepEqual(kinds(after), ['', '', '']);
    assert.ok(eventNames(after).includes('restart.ok'));
    assert.equal(after.memory.services.tomcat!.restarts.length, 1, 'the restart budget keeps the earlier restart');
  });

  it('agent killed mid-restart whose systemd job (restart.unit) was queued -> not repeated; the job may still run: its timeout, then the grace', () => {
    const p = play(T, [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }]);
    const queued = recordJob(p.memory, 'tomcat', '/org/freedesktop/systemd1/job/77');
    assert.equal(queued.services.tomcat!.last?.job, '/org/freedesktop/systemd1/job/77');
    const r = resumeMemory(JSON.parse(JSON.stringify(queued)), { services: T }, 10_000, () => false);
    assert.equal(r.memory.services.tomcat!.phase, 'grace');
    assert.equal(r.memory.services.tomcat!.graceUntil, 3_000 + 60_000 + 30_000);
    assert.match(String(r.events[0]!.reason), /\(systemd job \/org\/freedesktop\/systemd1\/job\/77\) was in flight when the agent stopped and may still run; not repeating it/);
    assert.equal(recordJob(r.memory, 'tomcat', '/x'), r.memory, 'only a restart in flight records its job');
  });

  it('agent killed after deciding a restart but before its command started -> tried again at once, budget not charged twice', () => {
    const p = play(T, [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }]);
    const r = resumeMemory(p.memory, { services: T }, 10_000);
    assert.equal(r.memory.services.tomcat!.phase, 'idle');
    assert.deepEqual(r.memory.services.tomcat!.restarts, []);
    assert.match(String(r.events[0]!.reason), /never started before the agent stopped; trying it now/);
    const after = play(T, [{ t: 10, up: { tomcat: false } }], r.memory);
    assert.deepEqual(kinds(after), ['restart:tomcat']);
    assert.equal(after.memory.services.tomcat!.restarts.length, 1);
  });

  it('memory survives a JSON round trip (it is persisted between check runs)', () => {
    const p = play(T, [...healthy, { t: 2, up: { tomcat: false } }, { t: 3, up: { tomcat: false } }, { t: 4, up: { tomcat: false }, outcomes: [bad('tomcat')] }]);
    const copy = JSON.parse(JSON.stringify(p.memory)) as Memory;
    const a = play(T, [{ t: 5, up: { tomcat: false }, keepalived: false }], p.memory);
    const b = play(T, [{ t: 5, up: { tomcat: false }, keepalived: false }], copy);
    assert.deepEqual(a.actions, b.actions);
    assert.deepEqual(a.events, b.events);
  });

  it('decide() does not mutate the memory it was given', () => {
    const m = freshMemory();
    const before = JSON.stringify(m);
    play(T, [{ t: 0, up: { tomcat: false } }], m);
    assert.equal(JSON.stringify(m), before);
  });
});
