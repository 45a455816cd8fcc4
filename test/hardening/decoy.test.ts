// A process in a container (another pid namespace) on the same host is not this host's
// tomcat or keepalived, however well it imitates one; and `process.unit` matches only
// the processes of that unit's cgroup. Real pid namespaces (unshare), real cgroups.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PollSnapshot, ProcessProbe, psList } from '../../src/probes/process.js';
import { pidNamespace } from '../../src/os/proc.js';
import { sleep } from '../helpers/pidns.js';
import { requireRoot } from '../helpers/prereq.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();
const token = `hwd${process.pid}x${Date.now() % 100000}`.slice(0, 15);
const dir = mkdtempSync(join(tmpdir(), 'haw-decoy-'));
const exe = join(dir, token);
const loose: number[] = [];

const check = (probe: ProcessProbe) => probe.check(new PollSnapshot(psList));

/** Waits until a process named `name` runs whose pid namespace is (or is not) ours; its host pid. */
async function waitForProcess(name: string, own: boolean): Promise<number> {
  const mine = pidNamespace('self');
  const found = async () => (await psList()).find((p) => p.name === name && (pidNamespace(p.pid) === mine) === own)?.pid;
  return waitFor(found, 5_000, { what: `a ${name} process ${own ? 'in' : 'outside'} this pid namespace`, intervalMs: 50, onError: 'throw' });
}

/** Runs argv re-parented away from this test (the probe ignores its own descendants). */
function startDetached(argv: string[]): number {
  const q = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const pid = Number(execFileSync('bash', ['-c', `setsid ${q} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim());
  loose.push(pid);
  return pid;
}

describe('hardening: decoys in other pid namespaces and outside the unit', { skip }, () => {
  // tail -f /dev/null under a unique name: runs until killed, with any arguments after it.
  before(() => copyFileSync('/usr/bin/tail', exe));
  after(() => {
    for (const pid of loose) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a perfect decoy in another pid namespace (a container) is not this host\'s service; namespace: any counts it', async () => {
    // "java ... org.apache.catalina.startup.Bootstrap" in its own pid namespace, as in a container.
    startDetached(['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', exe, '-f', '/dev/null', 'org.apache.catalina.startup.Bootstrap']);
    const decoy = await waitForProcess(token, false);
    const own = await check(new ProcessProbe({ name: token, args: 'catalina\\.startup\\.Bootstrap', namespace: 'own' }));
    assert.equal(own.ok, false, `the container's process counted as this host's: ${JSON.stringify(own)}`);
    assert.match(own.reason!, /1 matching in another pid namespace ignored/);
    const any = await check(new ProcessProbe({ name: token, args: 'catalina\\.startup\\.Bootstrap', namespace: 'any' }));
    assert.deepEqual(any.pids, [decoy]);
    // The same program in this namespace is found.
    const mine = startDetached([exe, '-f', '/dev/null', 'org.apache.catalina.startup.Bootstrap']);
    await waitForProcess(token, true);
    const both = await check(new ProcessProbe({ name: token, args: 'catalina\\.startup\\.Bootstrap', namespace: 'own' }));
    assert.deepEqual(both.pids, [mine], 'only the one in this namespace');
  });

  it('a pidfile naming a process in another pid namespace is refused', async () => {
    const decoy = await waitForProcess(token, false);
    const pf = join(dir, 'decoy.pid');
    writeFileSync(pf, `${decoy}\n`);
    const r = await check(new ProcessProbe({ name: token, pidfile: pf, namespace: 'own' }));
    assert.equal(r.ok, false);
    assert.match(r.reason!, /another pid namespace/);
  });

  it('process.unit: only the processes in that unit\'s cgroup match; a same-named one outside does not', async (t) => {
    // A real cgroup named like a unit on the unified hierarchy (cgroup v2), as systemd makes one per service.
    const root = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => existsSync(join(d, 'cgroup.procs')) && readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${d} `));
    if (!root) {
      if (process.env.CI === 'true') assert.fail('no writable cgroup2 hierarchy');
      t.skip('no cgroup2 hierarchy');
      return;
    }
    const unit = `${token}.service`;
    const cg = join(root, unit);
    mkdirSync(cg);
    try {
      const inside = startDetached([exe, '-f', '/dev/null', 'unit-test']);
      const outside = startDetached([exe, '-f', '/dev/null', 'unit-test']);
      writeFileSync(join(cg, 'cgroup.procs'), String(inside));
      assert.match(readFileSync(`/proc/${inside}/cgroup`, 'utf8'), new RegExp(`^0::/${unit}$`, 'm'));
      const r = await check(new ProcessProbe({ name: token, args: 'unit-test', namespace: 'own', unit }));
      assert.deepEqual(r.pids, [inside]);
      const none = await check(new ProcessProbe({ name: token, args: 'unit-test', namespace: 'own', unit: `other-${unit}` }));
      assert.equal(none.ok, false);
      assert.match(none.reason!, /in unit other-.* \(2 matching outside unit other-\S+ ignored\)/);
      process.kill(inside, 'SIGKILL');
      process.kill(outside, 'SIGKILL');
    } finally {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(cg);
          break;
        } catch {
          await sleep(50);
        }
      }
    }
  });
});
