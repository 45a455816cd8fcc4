// The .deb of `npm run package` on a host without Node.js: the Debian 12 container of
// container.ts (systemd 252, keepalived, no nodejs package), the way an operator
// installs keepalived:
//
//   apt-get install ./ha-watchdog_<v>_<arch>.deb   offline (its only dependencies,
//                                                   libc6/libstdc++6/libgcc-s1, are there)
//   ha-watchdog --version / validate               nothing enabled or started yet
//   systemctl enable --now ha-watchdog             READY; heals a killed service
//   apt-get install <the same package, revision+1> the edited config kept, the running
//                                                   agent restarted onto the new build
//   apt-get remove / purge                          config and state kept / removed
//
// The container gets no node at /usr/local/bin (node: false; the empty mount-point
// file is deleted, so `node` is found nowhere on the PATH). The stand-in tomcat
// (fake-tomcat.service, as in agent.test.ts) runs on the host's node binary
// bind-mounted at /opt/hwt-fakes/node, outside the PATH, and used by nothing else.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPackages, ensurePackages, type Artefacts } from '../../packaging/package.js';
import { waitFor } from '../helpers/wait.js';
import { BOOT_HOOK_TIMEOUT_MS, bootContainer, hostLeftovers, props, requirementsGate, type Container } from './container.js';

const gate = requirementsGate();
const say = (line: string) => process.stdout.write(`package.test: ${line}\n`);
const UNIT = 'ha-watchdog.service';
const CONFIG = '/etc/ha-watchdog/watchdog.yaml';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

const FAKE_TOMCAT = `// fake tomcat for package.test.ts
import { createServer } from 'node:http';
createServer((req, res) => res.end('fake tomcat ok\\n')).listen(8080, '127.0.0.1');
`;
const FAKE_TOMCAT_UNIT = `[Unit]
Description=fake tomcat: node HTTP server on 127.0.0.1:8080 (ha-watchdog package test)

[Service]
Type=simple
ExecStart=/opt/hwt-fakes/node /opt/hwt-fakes/fake-tomcat.mjs
Restart=no
`;
const KEEPALIVED_CONF = `vrrp_instance VI_1 {
  state MASTER
  interface hwt0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
}
`;
// The operator's edit of the shipped config: what an upgrade must keep.
const EDITED = `# edited by the operator (package.test.ts)
interval: 1s
services:
  tomcat:
    process: { name: node, args: 'fake-tomcat\\.mjs' }
    http: { url: http://127.0.0.1:8080/, timeout: 1s, bodyMatches: fake tomcat }
    fall: 2
    rise: 1
    restart:
      command: [/usr/bin/systemctl, restart, fake-tomcat]
      timeout: 20s
      grace: 15s
keepalived:
  start: { command: [/usr/bin/systemctl, start, keepalived], timeout: 20s }
  stop: { command: [/usr/bin/systemctl, stop, keepalived], timeout: 20s }
`;

describe('the .deb in a real systemd on a host without Node.js: install, run, upgrade, remove, purge', { skip: gate.skip ?? false }, () => {
  let ct: Container;
  let a: Artefacts;
  let upgrade: Artefacts;
  let work = '';

  const show = async (unit: string, ...p: string[]) => props(await ct.execOk(['systemctl', 'show', '-p', p.join(','), unit]));
  const apt = (...args: string[]) => ct.exec(['apt-get', '-y', '-q', '-o', 'Dpkg::Use-Pty=0', ...args], { env: APT_ENV, timeoutMs: 180_000 });
  const exists = async (p: string) => (await ct.exec(['test', '-e', p])).code === 0;
  /** For a timed-out wait: the agent's journal, its last 30 lines. */
  const journalTail = async () => `--- journal -u ${UNIT}\n${await ct.journal(UNIT, ['-o', 'cat', '-n', '30']).catch((e: Error) => e.message)}`;
  const waitHealthy = () =>
    waitFor(async () => {
      const p = await show(UNIT, 'ActiveState', 'SubState', 'StatusText', 'MainPID');
      return p.ActiveState === 'active' && p.SubState === 'running' && p.StatusText === 'tomcat up, keepalived running' && p;
    }, 60_000, { what: 'the agent active and reporting "tomcat up, keepalived running"', intervalMs: 200, detail: journalTail });

  before(
    async () => {
      const t0 = Date.now();
      a = await ensurePackages();
      work = mkdtempSync(join(tmpdir(), 'hwt-pkgct-'));
      // The same build, one Debian revision up: what an upgrade installs.
      upgrade = await buildPackages({ executable: a.executable, revision: String(Number(a.debVersion.split('-').pop()) + 1), outDir: work });
      say(`${a.deb} (${a.reused ? 'reused' : 'built'}) and ${upgrade.deb} in ${Date.now() - t0} ms`);
      ct = await bootContainer({
        failure: gate.failure,
        node: false,
        binds: [{ host: realpathSync(process.execPath), container: '/opt/hwt-fakes/node', readOnly: true }],
      });
      // The rootfs's empty mount point for node (node: false binds nothing there).
      await ct.execOk(['rm', '-f', '/usr/local/bin/node']);
      await ct.writeFile('/opt/hwt-fakes/fake-tomcat.mjs', FAKE_TOMCAT);
      await ct.writeFile('/etc/systemd/system/fake-tomcat.service', FAKE_TOMCAT_UNIT);
      await ct.writeFile('/etc/keepalived/keepalived.conf', KEEPALIVED_CONF);
      await ct.execOk(['sh', '-ec', ['ip link add hwt0 type veth peer name hwt1', 'ip addr add 192.0.2.1/24 dev hwt0', 'ip link set hwt1 up', 'ip link set hwt0 up'].join('\n')]);
      await ct.systemctl('daemon-reload');
      await ct.systemctl('start', 'fake-tomcat.service', 'keepalived.service');
    },
    { timeout: BOOT_HOOK_TIMEOUT_MS },
  );

  after(async () => {
    try {
      if (ct) {
        const report = await ct.stop();
        assert.deepEqual(report.problems, [], 'stop() had to force something');
        assert.deepEqual(hostLeftovers(ct.name), []);
      }
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('the host has no Node.js: no node on the PATH, no nodejs package', async () => {
    assert.notEqual((await ct.exec(['sh', '-c', 'command -v node nodejs'])).code, 0);
    assert.notEqual((await ct.exec(['dpkg-query', '-W', 'nodejs'])).code, 0);
  });

  it('apt-get install ./ha-watchdog_*.deb, offline: installed, nothing enabled or started; --version and validate work', { timeout: 240_000 }, async () => {
    await ct.copyIn(a.deb, '/root/ha-watchdog.deb');
    const r = await apt('install', '/root/ha-watchdog.deb');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Setting up ha-watchdog /);
    assert.equal((await ct.execOk(['dpkg-query', '-W', '-f', '${Version} ${db:Status-Abbrev}', 'ha-watchdog'])).trim(), `${a.debVersion} ii`);
    assert.equal((await ct.execOk(['sh', '-c', 'command -v ha-watchdog'])).trim(), '/usr/sbin/ha-watchdog');
    assert.equal((await ct.execOk(['ha-watchdog', '--version'])).trim(), a.version);
    assert.match(await ct.execOk(['ha-watchdog', 'validate']), /\/etc\/ha-watchdog\/watchdog\.yaml: valid \(2 services/);
    for (const unit of [UNIT, 'ha-watchdog-check.timer']) {
      const p = await show(unit, 'UnitFileState', 'ActiveState', 'FragmentPath');
      assert.deepEqual([p.UnitFileState, p.ActiveState], ['disabled', 'inactive'], `${unit} after install: ${JSON.stringify(p)}`);
      assert.match(p.FragmentPath!, /^\/(usr\/)?lib\/systemd\/system\//);
    }
    assert.match((await show(UNIT, 'ExecStart')).ExecStart!, /path=\/usr\/sbin\/ha-watchdog ; argv\[\]=\/usr\/sbin\/ha-watchdog run /);
    assert.equal((await ct.execOk(['stat', '-c', '%U %a', CONFIG, '/var/lib/ha-watchdog'])).trim(), 'root 644\nroot 700');
    // keepalived untouched by the installation.
    assert.equal((await show('keepalived.service', 'ActiveState')).ActiveState, 'active');
    assert.equal(await exists('/etc/systemd/system/keepalived.service.d'), false, 'the keepalived drop-in must not be installed');
  });

  it('systemctl enable --now ha-watchdog: READY after the first poll; a killed service is healed', { timeout: 120_000 }, async () => {
    await ct.writeFile(CONFIG, EDITED, 0o644);
    assert.match(await ct.execOk(['ha-watchdog', 'validate']), /valid \(1 services\)/);
    const t0 = Date.now();
    // Type=notify: returns once the agent said READY=1 (or fails).
    await ct.execOk(['systemctl', 'enable', '--now', UNIT], { timeoutMs: 90_000 });
    const readyMs = Date.now() - t0;
    const p = await waitHealthy();
    assert.equal((await ct.execOk(['readlink', `/proc/${p.MainPID}/exe`])).trim(), '/usr/sbin/ha-watchdog', 'the main process is the packaged executable');

    const victim = Number((await show('fake-tomcat.service', 'MainPID')).MainPID);
    const tKill = Date.now();
    await ct.execOk(['kill', '-KILL', String(victim)]);
    await waitFor(async () => {
      const s = await show('fake-tomcat.service', 'ActiveState', 'MainPID');
      return s.ActiveState === 'active' && Number(s.MainPID) !== victim && Number(s.MainPID) > 0 && s;
    }, 60_000, { what: 'fake-tomcat restarted by the agent', intervalMs: 200, detail: journalTail });
    await waitHealthy();
    const events = (await ct.journal(UNIT, ['-o', 'cat'])).split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { event: string }).event);
    for (const e of ['agent.start', 'service.down', 'restart.start', 'restart.ok']) assert.ok(events.includes(e), `${e} not logged: ${events.join(' ')}`);
    say(`enable --now returned (READY) after ${readyMs} ms; SIGKILL -> healed in ${Date.now() - tKill} ms`);
  });

  it('upgrade to the same package rebuilt (revision + 1): the edited config kept, the running agent restarted onto it', { timeout: 240_000 }, async () => {
    const before = await show(UNIT, 'MainPID', 'UnitFileState');
    await ct.copyIn(upgrade.deb, '/root/ha-watchdog-upgrade.deb');
    const r = await apt('install', '/root/ha-watchdog-upgrade.deb');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Unpacking ha-watchdog \\(${upgrade.debVersion.replace(/\./g, '\\.')}\\) over \\(${a.debVersion.replace(/\./g, '\\.')}\\)`));
    assert.equal((await ct.execOk(['dpkg-query', '-W', '-f', '${Version}', 'ha-watchdog'])).trim(), upgrade.debVersion);
    assert.equal(await ct.readFile(CONFIG), EDITED, 'the upgrade replaced the edited config');
    assert.equal(await exists(`${CONFIG}.dpkg-dist`), false);
    const p = await waitHealthy();
    assert.notEqual(p.MainPID, before.MainPID, 'the running agent was not restarted onto the new build');
    assert.equal((await show(UNIT, 'UnitFileState')).UnitFileState, 'enabled');
  });

  it('apt-get remove: the agent stopped, the executable gone; config and state kept; keepalived left running', { timeout: 180_000 }, async () => {
    const r = await apt('remove', 'ha-watchdog');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal((await ct.execOk(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'ha-watchdog'])).trim(), 'rc');
    assert.equal(await exists('/usr/sbin/ha-watchdog'), false);
    assert.equal((await show(UNIT, 'ActiveState')).ActiveState, 'inactive');
    assert.equal(await ct.readFile(CONFIG), EDITED);
    assert.equal(await exists('/var/lib/ha-watchdog/state.json'), true, 'the state went with remove');
    assert.equal((await show('keepalived.service', 'ActiveState')).ActiveState, 'active');
  });

  it('apt-get purge: /etc/ha-watchdog and /var/lib/ha-watchdog removed, no unit links left', { timeout: 180_000 }, async () => {
    const r = await apt('purge', 'ha-watchdog');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.notEqual((await ct.exec(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'ha-watchdog'])).stdout.trim(), 'rc');
    assert.equal(await exists('/etc/ha-watchdog'), false);
    assert.equal(await exists('/var/lib/ha-watchdog'), false);
    const links = (await ct.execOk(['find', '/etc/systemd/system', '-name', 'ha-watchdog*'])).trim();
    assert.equal(links, '', `unit links left after purge: ${links}`);
  });
});
