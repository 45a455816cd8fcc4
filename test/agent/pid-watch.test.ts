// The 250 ms pid watch against real processes: one that is killed, one that becomes a
// zombie, one that keeps running, and a pid whose start time no longer matches.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PidWatch, type PidWatchOptions, type Vanished } from '../../src/agent/pid-watch.js';
import { waitForExit } from '../../src/os/exit-wait.js';
import { readStat } from '../../src/os/proc.js';
import type { KnownPids } from '../../src/probes/index.js';

const started: number[] = [];
function sleeper(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  started.push(c.pid!);
  return c.pid!;
}
const known = (owner: string, pids: number[]): KnownPids => ({ [owner]: { match: 'x', pids: pids.map((pid) => ({ pid, startTime: readStat(pid)!.startTime })) } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Counts the watch's rounds (its timer's and due()'s). */
function countTicks(w: PidWatch): () => number {
  let n = 0;
  const tick = w.tick.bind(w);
  w.tick = () => (n++, tick());
  return () => n;
}

const stateDir = mkdtempSync(join(tmpdir(), 'hwt-pid-watch-'));
/** The kernel's notice through the real pidwait (os/exit-wait.ts), as the daemon wires it. */
const helpers = (pidwait?: string, fallbacks: string[] = []): PidWatchOptions => ({
  waitForExit: (pid, hooks) => waitForExit(pid, hooks, { dir: stateDir, pidwait }),
  onFallback: (owner, pid, reason) => fallbacks.push(`${owner} ${pid}: ${reason}`),
});
/** Until cond() holds, looking every 10 ms (at most 5 s: then the assertion after it fails). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
}
const helperPids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && readStat(Number(p))?.ppid === process.pid && readStat(Number(p))?.comm === 'pidwait').map(Number);

after(() => {
  rmSync(stateDir, { recursive: true, force: true });
  for (const p of started) {
    try {
      process.kill(-p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('PidWatch', () => {
  it('a killed process is reported within one period, once; a live one never', async () => {
    const victim = sleeper();
    const bystander = sleeper();
    await sleep(50);
    const set = { ...known('tomcat', [victim]), ...known('nginx', [bystander]) };
    const reports: Array<{ at: number; gone: Vanished[] }> = [];
    const w = new PidWatch(() => set, (gone) => reports.push({ at: performance.now(), gone }), { everyMs: 100 });
    w.start();
    await sleep(250);
    assert.equal(reports.length, 0, 'nothing died yet');
    const killedAt = performance.now();
    process.kill(victim, 'SIGKILL');
    await sleep(400);
    w.stop();
    assert.equal(reports.length, 1, 'reported once, not every tick');
    assert.deepEqual(reports[0]!.gone, [{ owner: 'tomcat', pid: victim }]);
    assert.ok(reports[0]!.at - killedAt < 250, `reported ${Math.round(reports[0]!.at - killedAt)} ms after the kill (period 100 ms)`);
  });

  it('a zombie counts as gone', async () => {
    // sh backgrounds a short sleep, then execs into a long one that never reaps it.
    const c = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    started.push(c.pid!);
    const zombie = Number(await new Promise<string>((r) => c.stdout!.once('data', (d) => r(String(d)))));
    const set = known('tomcat', [zombie]);
    const w = new PidWatch(() => set, () => undefined);
    assert.deepEqual(w.tick(), []);
    await sleep(500);
    assert.equal(readStat(zombie)?.state, 'Z', 'the test set-up made a zombie');
    assert.deepEqual(w.tick(), [{ owner: 'tomcat', pid: zombie }]);
  });

  it("only a service's top processes: a child of another of its pids (an nginx worker) is left to the polls", async () => {
    const master = sleeper();
    const worker = sleeper();
    await sleep(50);
    const stat = (pid: number) => readStat(pid)!.startTime;
    const set: KnownPids = { nginx: { match: 'x', pids: [{ pid: master, startTime: stat(master) }, { pid: worker, startTime: stat(worker), child: true }] } };
    const fds = () => readdirSync('/proc/self/fd').length;
    const w = new PidWatch(() => set, () => undefined);
    const before = fds();
    assert.deepEqual(w.tick(), []);
    assert.equal(fds(), before + 1, "only the top process's stat file is kept open");
    process.kill(worker, 'SIGKILL');
    await sleep(100);
    assert.deepEqual(w.tick(), [], "a worker's death is not the watch's to report");
    process.kill(master, 'SIGKILL');
    await sleep(100);
    assert.deepEqual(w.tick(), [{ owner: 'nginx', pid: master }]);
    w.stop();
    // Nothing but children known: no timer at all.
    const onlyChildren: KnownPids = { nginx: { match: 'x', pids: [{ pid: sleeper(), startTime: 1, child: true }] } };
    const idle = new PidWatch(() => onlyChildren, () => undefined, { everyMs: 20 });
    const ticks = countTicks(idle);
    idle.start();
    await sleep(120);
    idle.stop();
    assert.equal(ticks(), 0);
  });

  it('gone() lists the dead known pids now, without reporting or remembering them', () => {
    const alive = sleeper();
    const set: KnownPids = { ...known('nginx', [alive]), tomcat: { match: 'x', pids: [{ pid: alive, startTime: readStat(alive)!.startTime - 1 }] } };
    let reports = 0;
    const w = new PidWatch(() => set, () => void reports++);
    assert.deepEqual(w.gone(), [{ owner: 'tomcat', pid: alive }]);
    assert.deepEqual(w.gone(), [{ owner: 'tomcat', pid: alive }], 'asked again: the same answer');
    assert.equal(reports, 0);
    assert.equal(w.tick().length, 1, 'tick() still reports it once');
  });

  it('keeps one open file per known process, and closes it when the pid is forgotten, gone, or the watch stops', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const a = sleeper();
    const b = sleeper();
    let set: KnownPids = known('tomcat', [a, b]);
    const w = new PidWatch(() => set, () => undefined);
    const before = fds();
    w.tick();
    assert.equal(fds(), before + 2, 'opened once');
    w.tick();
    assert.equal(fds(), before + 2, 're-read in place, not reopened');
    process.kill(a, 'SIGKILL');
    await sleep(100);
    assert.deepEqual(w.tick(), [{ owner: 'tomcat', pid: a }]);
    assert.equal(fds(), before + 1, 'closed once dead');
    set = known('tomcat', [b]);
    w.tick();
    w.stop();
    assert.equal(fds(), before, 'all closed');
  });

  it('a pid now held by another process (other start time) counts as gone', () => {
    const pid = sleeper();
    const set: KnownPids = { tomcat: { match: 'x', pids: [{ pid, startTime: readStat(pid)!.startTime - 1 }] } };
    assert.deepEqual(new PidWatch(() => set, () => undefined).tick(), [{ owner: 'tomcat', pid }]);
  });
  it('with no known pid it does not wake up, until a poll finds some (resume)', async () => {
    let set: KnownPids = { tomcat: { match: 'x', pids: [] } };
    const w = new PidWatch(() => set, () => undefined, { everyMs: 50 });
    const ticks = countTicks(w);
    w.start();
    await sleep(300);
    assert.equal(ticks(), 0, 'no timer while nothing is known');
    set = known('tomcat', [sleeper()]);
    w.resume();
    await sleep(300);
    w.stop();
    assert.ok(ticks() >= 3, `ticking again once pids are known: ${ticks()} ticks in 300 ms at 50 ms`);
  });

  it('leaves the round that falls on a scheduled poll to the scheduler (due), on whole multiples of the period', async () => {
    const set = known('tomcat', [sleeper()]);
    const w = new PidWatch(() => set, () => undefined, { everyMs: 50 });
    const at: number[] = [];
    const tick = w.tick.bind(w);
    w.tick = () => (at.push(Date.now()), tick());
    // A "poll" every 100 ms: every other round is the scheduler's.
    w.start({ nextPollAt: () => (Math.floor(Date.now() / 100) + 1) * 100 });
    await sleep(620);
    w.stop();
    assert.ok(at.length >= 4 && at.length <= 7, `about 6 rounds of its own in 600 ms, got ${at.length}`);
    for (const t of at) assert.ok(t % 100 >= 40 && t % 100 <= 70, `its own rounds fall between the polls (at ${t % 100} ms past a multiple of 100)`);
    let count = 0;
    const w2 = new PidWatch(() => set, () => undefined, { everyMs: 50 });
    w2.tick = () => (count++, []);
    w2.due();
    assert.equal(count, 0, 'due() before start(): nothing');
    w2.start();
    w2.due();
    w2.stop();
    assert.equal(count, 1, 'due(): one round at once');
  });
  it('with exit helpers (pidwait): no round at all while every process is helped; a SIGKILL is still reported at once, once', async () => {
    const victim = sleeper();
    const bystander = sleeper();
    await sleep(50);
    const set = { ...known('tomcat', [victim]), ...known('nginx', [bystander]) };
    const reports: Vanished[][] = [];
    const w = new PidWatch(() => set, (gone) => reports.push(gone), { everyMs: 20, ...helpers() });
    w.start();
    await until(() => w.armed === 2);
    assert.equal(w.armed, 2, 'a helper for each process');
    assert.equal(helperPids().length, 2, 'two pidwait processes, children of this one');
    assert.deepEqual([w.how('tomcat'), w.how('nginx'), w.how('keepalived')], ['kernel', 'kernel', null], 'how a death is noticed (status says it)');
    const ticks = countTicks(w);
    await sleep(300);
    assert.equal(ticks(), 0, 'no timer round while both are helped (the 20 ms timer would have run ~15 times)');
    const t0 = performance.now();
    process.kill(victim, 'SIGKILL');
    await until(() => reports.length > 0);
    console.log(`# SIGKILL -> reported in ${(performance.now() - t0).toFixed(1)} ms, with ${ticks()} round(s)`);
    assert.deepEqual(reports, [[{ owner: 'tomcat', pid: victim }]]);
    assert.equal(w.how('tomcat'), null, 'no live process known');
    assert.equal(ticks(), 1, "one round: the helper's notice (the dead pid is confirmed by its stat file)");
    await sleep(100);
    assert.equal(reports.length, 1, 'reported once');
    w.stop();
    await until(() => helperPids().length === 0);
    assert.deepEqual(helperPids(), [], "stop() ends the bystander's helper");
  });

  it('a helper that cannot work (no pidwait): that process is watched by the timer, onFallback says why, its death is still reported', async () => {
    const pid = sleeper();
    await sleep(50);
    const set = known('keepalived', [pid]);
    const fallbacks: string[] = [];
    const reports: Vanished[][] = [];
    const w = new PidWatch(() => set, (gone) => reports.push(gone), { everyMs: 20, ...helpers('/nonexistent/pidwait', fallbacks) });
    const ticks = countTicks(w);
    w.start();
    await until(() => fallbacks.length > 0);
    assert.equal(fallbacks.length, 1);
    assert.match(fallbacks[0]!, new RegExp(`^keepalived ${pid}: helper exited [1-9]`));
    assert.equal(w.armed, 0);
    assert.equal(w.how('keepalived'), 'timer');
    const before = ticks();
    await sleep(200);
    assert.ok(ticks() - before >= 3, `the timer reads it instead: ${ticks() - before} rounds in 200 ms at 20 ms`);
    process.kill(pid, 'SIGKILL');
    await until(() => reports.length > 0);
    w.stop();
    assert.deepEqual(reports, [[{ owner: 'keepalived', pid }]]);
    assert.equal(fallbacks.length, 1, 'said once');
  });

  it('a pid the probes forget (restarted): its helper ends; the new pid gets its own', async () => {
    const old = sleeper();
    const fresh = sleeper();
    await sleep(50);
    let set = known('tomcat', [old]);
    const w = new PidWatch(() => set, () => undefined, helpers());
    w.start();
    await until(() => w.armed === 1);
    const [first] = helperPids();
    assert.ok(first);
    set = known('tomcat', [fresh]);
    w.resume();
    w.tick();
    await until(() => w.armed === 1 && !helperPids().includes(first));
    assert.equal(w.armed, 1);
    assert.ok(!helperPids().includes(first), "the forgotten pid's helper ended");
    assert.equal(helperPids().length, 1);
    w.stop();
  });
});
