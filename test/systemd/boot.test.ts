// Smoke test of the systemd test container (test/systemd/container.ts): it
// boots, runs node, accepts sd_notify the way src/systemd/notify.ts sends it,
// stores <N>-prefixed stdout lines with that journal priority, and leaves
// nothing behind when stopped.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { BOOT_HOOK_TIMEOUT_MS, bootContainer, hostLeftovers, reapStaleRuns, requirementsGate, RUN_ROOT, type Container } from './container.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const gate = requirementsGate();

/** Host processes whose command line names the container. */
function processesOf(name: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(name)) found.push(`${pid}: ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('systemd test container', { skip: gate.skip ?? false }, () => {
  let ct: Container;

  before(
    async () => {
      ct = await bootContainer({ failure: gate.failure });
      process.stdout.write(`container ${ct.name}: rootfs build ${ct.timings.buildMs} ms, boot ${ct.timings.bootMs} ms, state ${ct.timings.systemState}\n`);
    },
    { timeout: BOOT_HOOK_TIMEOUT_MS },
  );

  after(async () => {
    if (!ct) return;
    const report = await ct.stop();
    assert.deepEqual(report.problems, [], 'stop() had to force something');
    assert.deepEqual(hostLeftovers(ct.name), []);
    assert.deepEqual(processesOf(ct.name), []);
  });

  it('boots to "running" with no failed unit', async () => {
    assert.equal(ct.timings.systemState, 'running', ct.consoleLog());
    assert.equal((await ct.exec(['systemctl', 'is-system-running'])).stdout.trim(), 'running');
    assert.equal((await ct.execOk(['systemctl', '--failed', '--no-legend', '--plain'])).trim(), '');
  });

  it('is a separate machine: own PID 1, hostname, and only a loopback interface', async () => {
    assert.equal((await ct.execOk(['cat', '/proc/1/comm'])).trim(), 'systemd');
    assert.equal((await ct.execOk(['hostname'])).trim(), ct.name);
    const links = (await ct.execOk(['ip', '-o', 'link', 'show'])).trim().split('\n');
    assert.equal(links.length, 1, links.join('\n'));
    assert.match(links[0]!, /: lo: /);
    assert.equal((await ct.execOk(['cat', '/etc/debian_version'])).trim().split('.')[0], '12');
  });

  it('runs the host node binary (bind-mounted read-only)', async () => {
    assert.equal((await ct.execOk(['node', '--version'])).trim(), process.version);
    const r = await ct.exec(['sh', '-c', 'echo x > /usr/local/bin/node']);
    assert.notEqual(r.code, 0, 'the node bind mount must be read-only');
  });

  it('copies files in and reads them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hwt-copy-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'f.txt'), 'hello\n');
    try {
      await ct.copyIn(dir, '/opt/copied');
      assert.equal(await ct.execOk(['cat', '/opt/copied/sub/f.txt']), 'hello\n');
      await ct.writeFile('/etc/hwt/x.conf', 'a=1\n', 0o600);
      assert.equal((await ct.execOk(['stat', '-c', '%a %s', '/etc/hwt/x.conf'])).trim(), '600 4');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Type=notify service: READY/STATUS from systemd-notify --pid, journal priorities from <N> prefixes', async () => {
    await ct.copyIn(join(HERE, 'fixtures', 'notify-smoke.mjs'), '/opt/hwt/notify-smoke.mjs');
    await ct.writeFile(
      '/etc/systemd/system/hwt-smoke.service',
      ['[Service]', 'Type=notify', 'NotifyAccess=main', 'ExecStart=/usr/local/bin/node /opt/hwt/notify-smoke.mjs', 'TimeoutStartSec=20s', ''].join('\n'),
    );
    await ct.systemctl('daemon-reload');
    // Type=notify: `systemctl start` returns only once READY=1 was accepted.
    await ct.execOk(['systemctl', 'start', 'hwt-smoke.service'], { timeoutMs: 30_000 });
    const show = await ct.systemctl('show', '-p', 'ActiveState,SubState,StatusText,NotifyAccess', 'hwt-smoke.service');
    assert.match(show, /^ActiveState=active$/m);
    assert.match(show, /^SubState=running$/m);
    assert.match(show, /^StatusText=smoke: ready$/m);
    assert.match(show, /^NotifyAccess=main$/m);

    const entries = await ct.journalEntries('hwt-smoke.service');
    const byMessage = new Map(entries.map((e) => [String(e.MESSAGE), e]));
    assert.equal(byMessage.get('smoke: a warning line')?.PRIORITY, '4', JSON.stringify(entries.map((e) => [e.PRIORITY, e.MESSAGE])));
    assert.equal(byMessage.get('smoke: a plain line')?.PRIORITY, '6');
    assert.equal(byMessage.get('smoke: an error line')?.PRIORITY, '3');
    assert.ok(![...byMessage.keys()].some((m) => m.startsWith('<')), 'the <N> prefix is stripped');
    assert.ok(![...byMessage.keys()].some((m) => /Got notification message|failed:/.test(m)), 'no rejected notification');

    await ct.execOk(['systemctl', 'stop', 'hwt-smoke.service']);
    const done = await ct.systemctl('show', '-p', 'Result,ExecMainStatus,ActiveState', 'hwt-smoke.service');
    assert.match(done, /^Result=success$/m);
    assert.match(done, /^ExecMainStatus=0$/m);
  });

  it('reapStaleRuns() removes run dirs of dead test processes', async () => {
    const dir = join(RUN_ROOT, 'hwt-stale-test');
    mkdirSync(join(dir, 'merged'), { recursive: true });
    // PID 2^22 + 1 is above pid_max's ceiling: never alive.
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ name: 'hwt-stale-test', ownerPid: 4194305, cgroups: [] }));
    await reapStaleRuns();
    assert.deepEqual(hostLeftovers('hwt-stale-test'), []);
    assert.ok(readdirSync(RUN_ROOT).includes(ct.name), 'a live container is left alone');
  });
});
