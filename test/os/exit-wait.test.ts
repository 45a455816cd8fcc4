// The kernel's death notice through procps's pidwait, against real processes: the real
// /usr/bin/setpriv and /usr/bin/pidwait, real kills, a real agent process SIGKILLed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { holdsPidfd, removeOldPidfiles, waitForExit, type ExitWaiter, type ExitWaitHooks } from '../../src/os/exit-wait.js';
import { openStat, statAlive } from '../../src/os/stat-file.js';
import { readStat } from '../../src/os/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'hwt-exit-wait-'));
const started: number[] = [];
function sleeper(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  started.push(c.pid!);
  return c.pid!;
}
// The helper and its timers never keep a process alive (the agent has its own reasons to
// run); this test process is kept alive while it waits for them.
const keepAlive = setInterval(() => undefined, 1000);
after(() => {
  clearInterval(keepAlive);
  for (const p of started) {
    try {
      process.kill(-p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gone = (pid: number) => {
  const s = readStat(pid);
  return s === null || s.state === 'Z' || s.state === 'X';
};

/** A waiter on pid with its hooks recorded; `alive` reads the process's own stat file, as the pid watch does. */
function watch(pid: number, o: { pidwait?: string } = {}) {
  const fd = openStat(pid, readStat(pid)!.startTime);
  const seen: string[] = [];
  let armed!: () => void;
  let ended!: (why: string) => void;
  const armedP = new Promise<void>((r) => (armed = r));
  const endedP = new Promise<string>((r) => (ended = r));
  const hooks: ExitWaitHooks = {
    alive: () => fd !== null && statAlive(fd),
    armed: () => (seen.push('armed'), armed()),
    ended: (why) => (seen.push(`ended: ${why}`), ended(why)),
  };
  const w = waitForExit(pid, hooks, { dir, ...o });
  assert.ok(!(w instanceof Error), String(w));
  return { w: w as ExitWaiter, seen, armedP, endedP, hooks };
}
const helperOf = (w: ExitWaiter) => (w as unknown as { child: { pid: number } }).child.pid;

describe('waitForExit (pidwait)', () => {
  it('a live process: armed once the helper holds its pidfd; its SIGKILL ends the helper (under the shipped unit\'s UMask=0077)', { timeout: 15_000 }, async () => {
    const pid = sleeper();
    const umask = process.umask(0o077);
    const { w, seen, armedP, endedP } = watch(pid);
    process.umask(umask);
    await Promise.race([armedP, endedP.then((why) => assert.fail(`the helper ended before it held the pidfd: ${why}`))]);
    assert.ok(w.armed);
    const helper = helperOf(w);
    assert.ok(holdsPidfd(helper, pid), 'the helper holds a pidfd for that pid');
    const files = readdirSync(dir);
    assert.equal(files.length, 1, 'one pidfile while the helper lives');
    assert.match(files[0]!, new RegExp(`^pidwait-${pid}\\.tmp-${process.pid}-[0-9a-f]{12}$`));
    assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o444);
    assert.equal(readFileSync(join(dir, files[0]!), 'latin1'), `${pid}\n`);
    // Read-only: a writer (or a deleted file held open) would keep the filesystem from a read-only remount.
    assert.match(readFileSync(`/proc/${helper}/fdinfo/0`, 'latin1'), /^flags:\s*\d*[0-7]{2}0$/m, "the helper's stdin is open O_RDONLY");
    if (process.geteuid?.() === 0) assert.match(readFileSync(`/proc/${helper}/status`, 'latin1'), /^Uid:\t65534\t65534\t65534\t65534$/m, 'as root, the helper runs as nobody');
    assert.match(readFileSync(`/proc/${helper}/status`, 'latin1'), /^NoNewPrivs:\t1$/m);
    await sleep(200);
    assert.deepEqual(seen, ['armed'], 'nothing ends while the process lives');
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const why = await endedP;
    console.log(`# SIGKILL -> helper ended in ${(performance.now() - t0).toFixed(1)} ms (${why})`);
    assert.match(why, /helper exited 0/, 'pidwait exits 0 when the process it waited for exited');
    assert.deepEqual(seen, ['armed', 'ended: helper exited 0']);
    assert.deepEqual(readdirSync(dir), [], 'the pidfile is removed when the helper ends');
  });

  it("removeOldPidfiles: another agent's pidfiles go, this agent's and other files stay", () => {
    const sub = mkdtempSync(join(dir, 'old-'));
    const names = [`pidwait-12.tmp-${process.pid}-0123456789ab`, 'pidwait-12.tmp-1-0123456789ab', 'pidwait-7.tmp-99999-abcdef012345', 'state.json', 'state.json.tmp-1-0123456789ab'];
    for (const n of names) writeFileSync(join(sub, n), '1\n');
    assert.equal(removeOldPidfiles(sub), 2);
    assert.deepEqual(readdirSync(sub).sort(), [names[0], names[3], names[4]].sort());
  });

  it('a pid that died before the helper looked: ended, never armed', { timeout: 15_000 }, async () => {
    const pid = sleeper();
    const fd = openStat(pid, readStat(pid)!.startTime);
    process.kill(pid, 'SIGKILL');
    while (!gone(pid)) await sleep(5);
    const seen: string[] = [];
    const endedP = new Promise<string>((r) => {
      const w = waitForExit(pid, { alive: () => fd !== null && statAlive(fd), armed: () => seen.push('armed'), ended: r }, { dir });
      assert.ok(!(w instanceof Error));
    });
    const why = await endedP;
    assert.deepEqual(seen, [], 'never armed');
    assert.match(why, /helper exited 1|gone before/);
  });

  it('stop(): the helper is killed, and no hook is called after', { timeout: 15_000 }, async () => {
    const pid = sleeper();
    const { w, seen, armedP } = watch(pid);
    await armedP;
    const helper = helperOf(w);
    w.stop();
    for (let i = 0; i < 100 && !gone(helper); i++) await sleep(10);
    assert.ok(gone(helper), 'helper gone');
    process.kill(pid, 'SIGKILL');
    await sleep(100);
    assert.deepEqual(seen, ['armed']);
  });

  it('no pidwait: the helper fails while the process lives, and says so (the caller then watches by timer)', { timeout: 15_000 }, async () => {
    const pid = sleeper();
    const { seen, endedP, hooks } = watch(pid, { pidwait: '/nonexistent/pidwait' });
    const why = await endedP;
    assert.match(why, /helper exited [1-9]/);
    assert.ok(hooks.alive(), 'the process itself still runs');
    assert.deepEqual(seen, [`ended: ${why}`]);
  });

  it('a state directory it cannot write: an error naming it, no helper', { timeout: 15_000 }, () => {
    const w = waitForExit(process.pid, { alive: () => true, armed: () => undefined, ended: () => undefined }, { dir: '/nonexistent/hwt' });
    assert.ok(w instanceof Error);
    assert.match(w.message, /pidfile in \/nonexistent\/hwt: .*ENOENT/);
  });

  it('an agent that is SIGKILLed leaves no helper behind (--pdeathsig)', { timeout: 15_000 }, async () => {
    const pid = sleeper();
    const src = `
      import { waitForExit } from ${JSON.stringify(join(process.cwd(), 'src/os/exit-wait.ts'))};
      const w = waitForExit(${pid}, { alive: () => true, armed: () => console.log(w.child.pid), ended: () => undefined }, { dir: ${JSON.stringify(dir)} });
      setInterval(() => {}, 1000);`;
    const agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(agent.pid!);
    const helper = Number(await new Promise<string>((r) => agent.stdout!.once('data', (d) => r(String(d)))));
    assert.ok(holdsPidfd(helper, pid));
    agent.kill('SIGKILL');
    for (let i = 0; i < 200 && !gone(helper); i++) await sleep(10);
    assert.ok(gone(helper), `helper ${helper} ended with its agent`);
    assert.ok(!gone(pid), 'the watched process itself is untouched');
  });

  it('holdsPidfd: a process with no pidfd, and a missing process', { timeout: 15_000 }, () => {
    assert.equal(holdsPidfd(process.pid, 1), false);
    assert.equal(holdsPidfd(2 ** 22 + 1, 1), false);
    // pidwait run by hand on this very process holds one.
    const r = spawnSync('sh', ['-c', `echo ${process.pid} > ${dir}/p; /usr/bin/pidwait -F ${dir}/p & sleep 0.3; ls -l /proc/$!/fd | grep -c pidfd; kill $!`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '1', 'the real pidwait holds one pidfd for one pid');
  });
});
