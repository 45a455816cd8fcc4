// Process probe against the real process table: decoys, zombies, pidfiles, own children.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PollSnapshot, ProcessProbe, psList } from '../../src/probes/process.js';
import { sleep } from '../helpers/pidns.js';

const token = `haw${process.pid}x${Date.now() % 100000}`;
const dir = mkdtempSync(join(tmpdir(), 'haw-proc-'));
const started: number[] = [];
// Started through a shell that exits at once, so the process is re-parented away from
// this test: the probe ignores its own children (they are never the service).
const start = (argv: string[]) => {
  const q = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const pid = Number(execFileSync('bash', ['-c', `setsid ${q} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim());
  started.push(pid);
  return { pid, kill: (sig: NodeJS.Signals) => process.kill(pid, sig) };
};
const check = (probe: ProcessProbe) => {
  const snap = new PollSnapshot(psList);
  return probe.check(snap).then((r) => ({ ...r, scans: snap.scans }));
};

describe('probes: process', () => {
  // A copy of sleep named after the token: a process whose exe basename is unique to this run.
  const exe = join(dir, token.slice(0, 15));
  before(() => copyFileSync('/bin/sleep', exe));
  after(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a process by exact executable name and args regex', async () => {
    const c = start([exe, '300']);
    await sleep(100);
    const r = await check(new ProcessProbe({ name: token.slice(0, 15), args: '^\\S+ 300$', namespace: 'own' }));
    assert.equal(r.ok, true, r.reason);
    assert.deepEqual(r.pids, [c.pid]);
    c.kill('SIGKILL');
  });

  it('decoys that only mention the name are not the service (the seed grep bug)', async () => {
    const log = join(dir, `${token}-catalina.out`);
    writeFileSync(log, '');
    start(['tail', '-f', log]); // `ps -ef | grep <token>` would count this
    start(['sleep', '300', `org.apache.catalina.startup.Bootstrap-${token}`]); // right args, wrong program
    await sleep(100);
    const r = await check(new ProcessProbe({ name: 'java', args: `Bootstrap-${token}`, namespace: 'own' }));
    assert.equal(r.ok, false);
    assert.match(r.reason!, /no running process "java" with args matching/);
    const byName = await check(new ProcessProbe({ name: token, namespace: 'own' }));
    assert.equal(byName.ok, false, 'tail -f <file named after it> is not it');
  });

  it('the watchdog itself and its own children never count', async () => {
    const child = spawn('sleep', ['300', token], { stdio: 'ignore' }); // our own child
    started.push(child.pid!);
    await sleep(100);
    const r = await check(new ProcessProbe({ name: 'sleep', args: `^sleep 300 ${token}$`, namespace: 'own' }));
    assert.equal(r.ok, false, 'a child of the agent matched');
    const self = await check(new ProcessProbe({ name: 'node', args: 'process\\.test\\.ts', namespace: 'own' }));
    assert.ok(!(self.pids ?? []).includes(process.pid));
  });

  it('a match whose parent is another match (a master and its workers) is marked child; the top one is not', async () => {
    // A shell forks two workers of the token's exe, then execs into that exe itself: three
    // matches, the third being the workers' parent.
    const script = `${exe} 300 & ${exe} 300 & exec ${exe} 300`;
    const top = start(['bash', '-c', script]);
    await sleep(200);
    const r = await check(new ProcessProbe({ name: token.slice(0, 15), namespace: 'own' }));
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.pids!.length, 3, JSON.stringify(r.pids));
    const probe = new ProcessProbe({ name: token.slice(0, 15), namespace: 'own' });
    await check(probe);
    const known = probe.exportKnown().pids;
    assert.deepEqual(known.filter((k) => !k.child).map((k) => k.pid), [top.pid], 'the exec-ed shell (the workers\' parent) is the top process');
    assert.equal(known.filter((k) => k.child).length, 2);
    for (const pid of r.pids!) process.kill(pid, 'SIGKILL');
  });

  it('a zombie is dead, not running', async () => {
    // python forks a child that exits at once; the parent never reaps it.
    const zname = `z${token}`.slice(0, 15);
    const zexe = join(dir, zname);
    copyFileSync('/bin/true', zexe);
    start(['python3', '-c', `import os,time\nif os.fork()==0: os.execv(${JSON.stringify(zexe)}, [${JSON.stringify(zexe)}])\ntime.sleep(300)`]);
    // python may take a while to start (a pyenv shim): wait until the zombie exists.
    const zombie = () =>
      readdirSync('/proc').some((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.includes(`(${zname})`) && / Z /.test(stat.slice(stat.lastIndexOf(')')));
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 100 && !zombie(); i++) await sleep(100);
    assert.ok(zombie(), 'the zombie exists');
    const r = await check(new ProcessProbe({ name: zname, namespace: 'own' }));
    assert.equal(r.ok, false, `zombie counted as running: ${JSON.stringify(r)}`);
    assert.match(r.reason!, /zombie/);
  });

  it('pidfile: live and matching is running; dead pid, other program, garbage are not', async () => {
    const c = start([exe, '301']);
    await sleep(100);
    const pf = join(dir, 'svc.pid');
    const probe = (m: { args?: string } = {}) => new ProcessProbe({ name: token.slice(0, 15), pidfile: pf, ...m, namespace: 'own' });
    writeFileSync(pf, `${c.pid}\n`);
    assert.equal((await check(probe())).ok, true);
    assert.equal((await check(probe())).scans, 0, 'a pidfile needs no process-table scan');
    const other = start(['sleep', '302']);
    await sleep(50);
    writeFileSync(pf, `${other.pid}\n`);
    const r1 = await check(probe());
    assert.match(r1.reason!, /names pid \d+, which is "sleep 302", not "haw/);
    writeFileSync(pf, '999999\n');
    assert.match((await check(probe())).reason!, /names pid 999999, which is not running/);
    writeFileSync(pf, 'hello\n');
    assert.match((await check(probe())).reason!, /holds "hello", expected a pid/);
    rmSync(pf);
    assert.match((await check(probe())).reason!, /unreadable \(no such file\)/);
    symlinkSync("/etc/hostname", pf);
    assert.match((await check(probe())).reason!, /unreadable \(is a symbolic link; not following it\)/, "never read through a symlink");
    rmSync(pf);
  });

  it('steady state: known pids are confirmed through /proc, no scan; a vanished pid triggers a new scan', async () => {
    const c = start([exe, '303']);
    await sleep(100);
    const probe = new ProcessProbe({ name: token.slice(0, 15), args: ' 303$', namespace: 'own' });
    const first = await check(probe);
    assert.deepEqual([first.ok, first.scans], [true, 1]);
    const second = await check(probe);
    assert.deepEqual([second.ok, second.scans], [true, 0]);
    c.kill('SIGKILL');
    await sleep(100);
    const third = await check(probe);
    assert.deepEqual([third.ok, third.scans], [false, 1]);
    const d = start([exe, '303']);
    await sleep(100);
    const fourth = await check(probe);
    assert.deepEqual([fourth.ok, fourth.pids], [true, [d.pid]]);
  });

  it('one scan per poll is shared by all process probes', async () => {
    const snap = new PollSnapshot(psList);
    await Promise.all([new ProcessProbe({ name: `a${token}`, namespace: 'own' }).check(snap), new ProcessProbe({ name: `b${token}`, namespace: 'own' }).check(snap)]);
    assert.equal(snap.scans, 1);
  });
  it('confirms known pids through stat files opened once and re-read in place; a death is seen, and the files are closed', async () => {
    // This process's open files that are the stat file of pid.
    const statFiles = (pid: number) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/stat`;
        } catch {
          return false;
        }
      }).length;
    const c = start([exe, '3171']);
    await sleep(100);
    const probe = new ProcessProbe({ name: token.slice(0, 15), args: '^\\S+ 3171$', namespace: 'own' });
    assert.equal((await check(probe)).scans, 1, 'found by a scan');
    const r1 = await check(probe);
    assert.equal(r1.ok, true);
    assert.equal(r1.scans, 0, 'confirmed without a scan');
    assert.equal(statFiles(c.pid), 1, 'its stat file opened once');
    await check(probe);
    assert.equal(statFiles(c.pid), 1, 're-read in place, not reopened');
    c.kill('SIGKILL');
    await sleep(100);
    const r2 = await check(probe);
    assert.equal(r2.ok, false, `the death is seen: ${JSON.stringify(r2.pids)} killed ${c.pid}`);
    assert.equal(r2.scans, 1, 'and confirmed by a scan');
    assert.equal(statFiles(c.pid), 0, 'its file closed');
    const d = start([exe, '3171']);
    await sleep(100);
    assert.equal((await check(probe)).ok, true);
    await check(probe);
    assert.equal(statFiles(d.pid), 1);
    probe.close();
    assert.equal(statFiles(d.pid), 0, 'close() closes it');
    d.kill('SIGKILL');
  });
});
