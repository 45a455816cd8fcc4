// The poll loop on a hand-driven clock: polls never overlap, ticks and kicks during a
// poll coalesce into one poll right after it, a failing probe's retry is one timer,
// a poll that throws does not stop the loop, stop() waits for the poll in progress.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, PollLoop, healthzAliveMs, watchdogAliveMs } from '../../src/agent/poll-loop.js';

/** A clock whose time and timers move only when the test says. */
class FakeClock implements Clock {
  t = 1_000_000;
  private timers = new Map<number, { at: number; f: () => void }>();
  private next = 1;
  now = () => this.t;
  setTimeout = (f: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, f });
    return id;
  };
  clearTimeout = (id: unknown) => void this.timers.delete(id as number);
  pending = () => this.timers.size;
  advance(ms: number) {
    this.t += ms;
    for (const [id, tm] of [...this.timers]) {
      if (tm.at <= this.t) {
        this.timers.delete(id);
        tm.f();
      }
    }
  }
}

/** A poll the test finishes by hand; `how` records whether each poll was asked to probe. */
function gate() {
  const started: Array<(r?: { retryInMs?: number } | Error) => void> = [];
  const how: boolean[] = [];
  const poll = (h: { probe: boolean }) =>
    new Promise<{ retryInMs?: number }>((resolve, reject) => {
      how.push(h.probe);
      started.push((r) => (r instanceof Error ? reject(r) : resolve(r ?? {})));
    });
  return { poll, started, how };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('PollLoop', () => {
  it('a tick starts a poll; ticks and kicks during it coalesce into exactly one poll after it', async () => {
    const clock = new FakeClock();
    const g = gate();
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock });
    loop.tick();
    assert.equal(g.started.length, 1);
    loop.kick();
    loop.tick();
    loop.kick();
    assert.equal(g.started.length, 1, 'no overlap');
    g.started[0]!();
    await settle();
    assert.equal(g.started.length, 2, 'one poll right after, for all three');
    g.started[1]!();
    await settle();
    assert.equal(g.started.length, 2, 'nothing more was asked');
    assert.equal(loop.polling, false);
  });

  it('late answers alone -> a poll that decides without probing; a tick or another kick among them -> it probes', async () => {
    const clock = new FakeClock();
    const g = gate();
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock });
    loop.kick({ probe: false });
    assert.deepEqual(g.how, [false], 'a late answer at rest: decided on at once, no probe started');
    loop.kick({ probe: false });
    loop.kick({ probe: false });
    g.started[0]!();
    await settle();
    assert.deepEqual(g.how, [false, false], 'two more late answers during it: one poll, still without probes');
    loop.kick({ probe: false });
    loop.tick();
    g.started[1]!();
    await settle();
    assert.deepEqual(g.how, [false, false, true], 'a tick among them: that poll probes');
    loop.kick();
    loop.kick({ probe: false });
    g.started[2]!();
    await settle();
    assert.deepEqual(g.how, [false, false, true, true], 'a kick that wants probes (a vanished pid, an action done) wins over a late answer');
    g.started[3]!({ retryInMs: 50 });
    await settle();
    clock.advance(50);
    assert.deepEqual(g.how, [false, false, true, true, true], 'the retry timer probes');
    g.started[4]!();
    await settle();
  });

  it('a tick that finds the poll still running after a whole interval says so (overrun), and still runs after it', async () => {
    const clock = new FakeClock();
    const g = gate();
    const overruns: number[] = [];
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock, onOverrun: (ms) => overruns.push(ms) });
    loop.tick();
    clock.advance(500);
    loop.tick();
    assert.deepEqual(overruns, [], 'half an interval is no overrun');
    clock.advance(700);
    loop.tick();
    assert.deepEqual(overruns, [1200]);
    g.started[0]!();
    await settle();
    assert.equal(g.started.length, 2);
  });

  it('a poll asking for a retry gets one timer; the next poll replaces it; none is left once it stops asking', async () => {
    const clock = new FakeClock();
    const g = gate();
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock });
    loop.tick();
    g.started[0]!({ retryInMs: 100 });
    await settle();
    assert.equal(clock.pending(), 1);
    clock.advance(99);
    assert.equal(g.started.length, 1);
    clock.advance(1);
    assert.equal(g.started.length, 2, 'the retry kicked a poll');
    g.started[1]!({ retryInMs: 100 });
    await settle();
    loop.tick(); // a tick before the retry is due: the retry timer is replaced, not doubled
    g.started[2]!({});
    await settle();
    assert.equal(clock.pending(), 0);
    clock.advance(1000);
    assert.equal(g.started.length, 3);
  });

  it('a poll that throws is reported and the loop goes on; onPolled runs after every poll', async () => {
    const clock = new FakeClock();
    const g = gate();
    const errors: unknown[] = [];
    let polled = 0;
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock, onError: (e) => errors.push(e), onPolled: () => polled++ });
    loop.tick();
    clock.advance(300);
    g.started[0]!(new Error('probe exploded'));
    await settle();
    assert.equal((errors[0] as Error).message, 'probe exploded');
    assert.equal(loop.lastEnd, clock.t);
    loop.tick();
    assert.equal(g.started.length, 2);
    g.started[1]!();
    await settle();
    assert.equal(polled, 2);
  });

  it('stop() waits for the poll in progress, starts no other (pending kicks and the retry timer dropped)', async () => {
    const clock = new FakeClock();
    const g = gate();
    const loop = new PollLoop({ interval: 1000, poll: g.poll, clock });
    loop.tick();
    loop.kick();
    let stopped = false;
    const s = loop.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'still polling');
    g.started[0]!({ retryInMs: 50 });
    await s;
    assert.equal(stopped, true);
    loop.tick();
    loop.kick();
    clock.advance(1000);
    assert.equal(g.started.length, 1);
    assert.equal(clock.pending(), 0);
  });

  it('liveness limits: /healthz allows three intervals plus 10 s, the systemd watchdog two plus a minute', () => {
    assert.equal(healthzAliveMs(1000), 13_000);
    assert.equal(watchdogAliveMs(3000), 66_000);
  });
});
