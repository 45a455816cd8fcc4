// The shipped systemd/ files, checked in a real systemd (Debian 12, systemd
// 252: what the target hosts run) inside the test container:
// - `systemd-analyze verify` on every unit and on keepalived.service with our
//   drop-in, failing on any warning (verify exits 0 on most of them);
// - the drop-in's effect on keepalived.service;
// - the timer's schedule, the check service's exit-code mapping and its
//   ExecCondition= skip while the daemon runs, the cron line's guard;
// - ha-watchdog.service's hardening against the agent's real job: a stand-in
//   (fixtures/standin.ts, using src/systemd/notify.ts) runs as its ExecStart and
//   restarts/stops a unit, signals and inspects another user's process, talks
//   TCP and netlink, writes its state dir; plus READY/STATUS/reload/stop and
//   WatchdogSec= + Restart=always; negative controls showing that what the
//   unit keeps is needed;
// - keepalived under the drop-in: two real VRRP routers (the backup in its
//   own network namespace), failover time and VIP left behind for a stop vs
//   a SIGKILL, and no restart after the SIGKILL.
// Run in the container (not on the host) because the host has no systemd as
// PID 1: the runtime checks need one, and verify there sees the same unit
// search path, keepalived.service and binaries as a target host.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { BOOT_HOOK_TIMEOUT_MS, bootContainer, hostLeftovers, requirementsGate, type Container, props } from './container.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const UNITS = join(REPO, 'systemd');
const IN_REPO = '/opt/ha-watchdog'; // the repo, bind-mounted read-only
const gate = requirementsGate();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STUB = `#!/bin/sh
# stand-in for /usr/bin/ha-watchdog: records its arguments, exits with /etc/hwt-exit
echo "$*" >>/var/lib/ha-watchdog/stub-calls
exit "$(cat /etc/hwt-exit 2>/dev/null || echo 0)"
`;

// A service of another user (nobody), outside the agent's sandbox, for the
// agent to inspect, signal, restart and probe over TCP (like nginx/tomcat).
const VICTIM_PORT = 18080;
const VICTIM = `[Service]
User=nobody
ExecStart=/usr/local/bin/node -e "require('net').createServer((s) => s.end('pong')).listen(${VICTIM_PORT}, '127.0.0.1'); process.on('SIGHUP', () => console.log('got HUP'))"
`;

const STANDIN = (extra: string[] = [], args = '') =>
  [
    '[Service]',
    'ExecStart=',
    `ExecStart=/usr/local/bin/node --import tsx ${IN_REPO}/test/systemd/fixtures/standin.ts hwt-victim.service ${args}`,
    `WorkingDirectory=${IN_REPO}`,
    ...extra,
    '',
  ].join('\n');


describe('systemd units (systemd/)', { skip: gate.skip ?? false }, () => {
  let ct: Container;
  const show = async (unit: string, ...p: string[]) => props(await ct.systemctl('show', '-p', p.join(','), unit));
  const stubCalls = async () => {
    const r = await ct.exec(['cat', '/var/lib/ha-watchdog/stub-calls']);
    return r.code === 0 ? r.stdout.trim().split('\n').filter(Boolean) : [];
  };
  const resetStub = async (exit = 0) => {
    await ct.exec(['rm', '-f', '/var/lib/ha-watchdog/stub-calls']);
    await ct.writeFile('/etc/hwt-exit', `${exit}\n`);
  };

  before(
    async () => {
      ct = await bootContainer({ failure: gate.failure, binds: [{ host: REPO, container: IN_REPO, readOnly: true }] });
      for (const f of ['ha-watchdog.service', 'ha-watchdog-check.service', 'ha-watchdog-check.timer']) {
        await ct.copyIn(join(UNITS, f), `/etc/systemd/system/${f}`);
      }
      await ct.copyIn(join(UNITS, 'keepalived-override.conf'), '/etc/systemd/system/keepalived.service.d/ha-watchdog.conf');
      await ct.writeFile('/usr/bin/ha-watchdog', STUB, 0o755);
      await ct.writeFile('/etc/systemd/system/hwt-victim.service', VICTIM);
      await ct.execOk(['mkdir', '-p', '/var/lib/ha-watchdog']);
      await ct.systemctl('daemon-reload');
      await ct.systemctl('start', 'hwt-victim.service');
    },
    { timeout: BOOT_HOOK_TIMEOUT_MS },
  );

  after(async () => {
    if (!ct) return;
    const report = await ct.stop();
    assert.deepEqual(report.problems, [], 'stop() had to force something');
    assert.deepEqual(hostLeftovers(ct.name), []);
  });

  it('systemd-analyze verify: every unit and keepalived.service + drop-in, no warning', async () => {
    const units = ['ha-watchdog.service', 'ha-watchdog-check.service', 'ha-watchdog-check.timer'].map((u) => `/etc/systemd/system/${u}`);
    // keepalived.service by name: verify loads it from the unit path with our drop-in.
    const r = await ct.exec(['systemd-analyze', 'verify', '--man=no', ...units, 'keepalived.service']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify printed warnings');
  });

  it('verify does report a broken unit (control for the test above)', async () => {
    await ct.writeFile('/etc/systemd/system/hwt-bad.service', '[Service]\nExecStart=/bin/true\nProtectSystem=stricter\nBogus=1\n');
    const r = await ct.exec(['systemd-analyze', 'verify', '--man=no', '/etc/systemd/system/hwt-bad.service']);
    assert.match(r.stderr, /Failed to parse protect system value/);
    assert.match(r.stderr, /Unknown key 'Bogus'/);
    await ct.execOk(['rm', '/etc/systemd/system/hwt-bad.service']);
  });

  it('the drop-in makes keepalived.service Restart=no, TimeoutStopSec=10s', async () => {
    const p = await show('keepalived.service', 'Restart', 'TimeoutStopUSec', 'KillMode', 'DropInPaths', 'Type');
    assert.equal(p.Restart, 'no');
    assert.equal(p.TimeoutStopUSec, '10s');
    assert.equal(p.KillMode, 'control-group', "Debian's default, kept");
    assert.equal(p.Type, 'notify', "Debian's keepalived.service is Type=notify (the agent's After= relies on it)");
    assert.match(p.DropInPaths!, /keepalived\.service\.d\/ha-watchdog\.conf/);
  });

  it('ha-watchdog.service loads with the intended settings', async () => {
    const p = await show(
      'ha-watchdog.service',
      'Type',
      'NotifyAccess',
      'Restart',
      'RestartUSec',
      'KillMode',
      'StateDirectory',
      'RuntimeDirectory',
      'RuntimeDirectoryPreserve',
      'ProtectSystem',
      'After',
      'Wants',
      'Requires',
      'BindsTo',
      'SyslogIdentifier',
      'StartLimitIntervalUSec',
    );
    assert.equal(p.Type, 'notify');
    assert.equal(p.NotifyAccess, 'main');
    assert.equal(p.Restart, 'always');
    // (WatchdogUSec reads "infinity" while inactive; the running stand-in below checks WATCHDOG_USEC.)
    assert.equal(p.KillMode, 'mixed');
    assert.equal(p.StateDirectory, 'ha-watchdog');
    assert.equal(p.RuntimeDirectory, 'ha-watchdog', 'the track file dir, writable under ProtectSystem=strict');
    assert.equal(p.RuntimeDirectoryPreserve, 'yes', 'an agent restart must not delete the track file');
    assert.equal(p.ProtectSystem, 'strict');
    assert.equal(p.SyslogIdentifier, 'ha-watchdog');
    assert.equal(p.StartLimitIntervalUSec, '0');
    assert.match(p.After!, /keepalived\.service/);
    assert.match(p.After!, /network-online\.target/);
    assert.doesNotMatch(`${p.Wants} ${p.Requires} ${p.BindsTo}`, /keepalived/, 'no pulling dependency on keepalived');
    const security = await ct.execOk(['systemd-analyze', 'security', '--no-pager', 'ha-watchdog.service']);
    const score = /Overall exposure level for ha-watchdog\.service: ([\d.]+)/.exec(security)?.[1];
    process.stdout.write(`systemd-analyze security ha-watchdog.service: exposure ${score}\n`);
    assert.ok(Number(score) <= 5, `exposure ${score}`);
  });

  it('ha-watchdog-check.timer fires at second 0 of every minute', async () => {
    await ct.systemctl('start', 'ha-watchdog-check.timer');
    try {
      const p = await show('ha-watchdog-check.timer', 'TimersCalendar', 'AccuracyUSec', 'NextElapseUSecRealtime', 'Unit');
      assert.equal(p.Unit, 'ha-watchdog-check.service');
      assert.equal(p.AccuracyUSec, '1s');
      assert.match(p.TimersCalendar!, /OnCalendar=\*-\*-\* \*:\*:00/);
      assert.match(p.NextElapseUSecRealtime!, /:\d\d:00 /);
      const cal = await ct.execOk(['systemd-analyze', 'calendar', '--iterations=2', '*-*-* *:*:00']);
      // The container runs in UTC: "Next elapse: Wed 2026-11-25 13:38:00 UTC", "Iter. #2: ..."
      const times = [...cal.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+) (\S+) UTC/g)].map((m) => Date.parse(`${m[1]}T${m[2]}Z`));
      assert.equal(times.length, 2, cal);
      assert.equal(times[1]! - times[0]!, 60_000);
    } finally {
      // Not left running: a pass at the next minute would disturb the tests below.
      await ct.systemctl('stop', 'ha-watchdog-check.timer');
    }
  });

  it('ha-watchdog-check.service: exit 0 and 1 succeed, 2 and 3 leave it failed', async () => {
    for (const [exit, result] of [
      [0, 'success'],
      [1, 'success'],
      [2, 'exit-code'],
      [3, 'exit-code'],
    ] as const) {
      await resetStub(exit);
      const r = await ct.exec(['systemctl', 'start', 'ha-watchdog-check.service'], { timeoutMs: 30_000 });
      const p = await show('ha-watchdog-check.service', 'Result', 'ExecMainStatus');
      assert.equal(p.Result, result, `exit ${exit}`);
      assert.equal(r.code === 0, result === 'success');
      assert.deepEqual(await stubCalls(), ['check']);
      await ct.exec(['systemctl', 'reset-failed', 'ha-watchdog-check.service']);
    }
  });

  it('the cron line runs `ha-watchdog check` every minute as root', async () => {
    const lines = readFileSync(join(UNITS, 'ha-watchdog.cron'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const env = lines.filter((l) => /^[A-Z_]+=/.test(l));
    const jobs = lines.filter((l) => !/^[A-Z_]+=/.test(l));
    assert.equal(jobs.length, 1, jobs.join('\n'));
    const f = jobs[0]!.split(/\s+/);
    assert.deepEqual(f.slice(0, 6), ['*', '*', '*', '*', '*', 'root']);
    const command = f.slice(6).join(' ');
    assert.match(command, /\/usr\/bin\/ha-watchdog check$/);
    // Run it the way cron does: /bin/sh -c with the file's environment.
    await resetStub(0);
    await ct.execOk(['/usr/bin/env', '-i', ...env, '/bin/sh', '-c', command]);
    assert.deepEqual(await stubCalls(), ['check'], 'runs while the daemon is not active');
  });

  it('hardening: the agent job works inside ha-watchdog.service; READY/STATUS via notify.ts', async () => {
    await ct.writeFile('/etc/systemd/system/ha-watchdog.service.d/standin.conf', STANDIN());
    await ct.systemctl('daemon-reload');
    // Type=notify: returns once the stand-in's READY=1 was accepted.
    const start = await ct.exec(['systemctl', 'start', 'ha-watchdog.service'], { timeoutMs: 90_000 });
    const journal = () => ct.journal('ha-watchdog.service', ['-o', 'cat']);
    assert.equal(start.code, 0, `${start.stderr}\n${await journal()}`);
    const p = await show('ha-watchdog.service', 'ActiveState', 'SubState', 'StatusText', 'MainPID');
    const report = JSON.parse(await ct.readFile('/var/lib/ha-watchdog/standin.json')) as {
      pid: number;
      watchdogIntervalMs: number;
      results: Record<string, { ok: boolean; detail?: string }>;
    };
    for (const [name, r] of Object.entries(report.results)) process.stdout.write(`standin ${r.ok ? 'ok  ' : 'FAIL'} ${name}: ${r.detail ?? ''}\n`);
    assert.deepEqual(
      Object.entries(report.results)
        .filter(([, r]) => !r.ok)
        .map(([n, r]) => `${n}: ${r.detail}`),
      [],
    );
    assert.equal(p.ActiveState, 'active');
    assert.equal(p.StatusText, 'standin: all checks ok');
    assert.equal(Number(p.MainPID), report.pid);
    assert.equal(report.watchdogIntervalMs, 30_000, 'WATCHDOG_USEC reached the agent');
    assert.match(await ct.journal('hwt-victim.service', ['-o', 'cat']), /got HUP/);
    assert.doesNotMatch(await journal(), /Got notification message|reception only permitted|notify errors/);
  });

  it('the check passes are skipped (not failed) while the daemon is active', async () => {
    await resetStub(0);
    const r = await ct.exec(['systemctl', 'start', 'ha-watchdog-check.service'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await stubCalls(), [], 'ExecStart= ran although the daemon is active');
    assert.match(await ct.journal('ha-watchdog-check.service', ['-o', 'cat', '-n', '3']), /exec-condition/i);
    const line = readFileSync(join(UNITS, 'ha-watchdog.cron'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('* '))!;
    await ct.execOk(['/bin/sh', '-c', line.split(/\s+/).slice(6).join(' ')]);
    assert.deepEqual(await stubCalls(), [], 'the cron line ran the check although the daemon is active');
  });

  it('reload (SIGHUP) goes RELOADING=1 -> READY=1; stop exits 0 with Result=success', async () => {
    await ct.systemctl('reload', 'ha-watchdog.service');
    for (let i = 0; ; i++) {
      const p = await show('ha-watchdog.service', 'StatusText', 'ActiveState');
      if (p.StatusText === 'standin: reloaded' && p.ActiveState === 'active') break;
      if (i > 50) assert.fail(`after reload: ${JSON.stringify(p)}`);
      await sleep(100);
    }
    await ct.execOk(['systemctl', 'stop', 'ha-watchdog.service'], { timeoutMs: 120_000 });
    const p = await show('ha-watchdog.service', 'Result', 'ExecMainStatus', 'ExecMainCode', 'ActiveState', 'NRestarts');
    assert.equal(p.Result, 'success');
    assert.equal(p.ExecMainStatus, '0');
    assert.equal(p.ActiveState, 'inactive');
    assert.equal(p.NRestarts, '0', 'Restart=always must not restart after a stop job');
  });

  it('negative controls: what the unit keeps (or leaves out) is what the job needs', async () => {
    // Each variant adds one setting to the shipped unit and must break the
    // stand-in the way the unit's comments say it would.
    const variants: Array<{ set: string; starts: boolean; failed?: string[]; result?: string; journal?: RegExp }> = [
      // systemd-notify --pid cannot fake SCM_CREDENTIALS: PID 1 drops READY=1.
      { set: 'CapabilityBoundingSet=~CAP_SYS_ADMIN', starts: false, result: 'timeout', journal: /reception only permitted for main PID/ },
      { set: 'CapabilityBoundingSet=~CAP_KILL', starts: true, failed: ['signal-other-user'] },
      { set: 'CapabilityBoundingSet=~CAP_SYS_PTRACE', starts: true, failed: ['proc-exe-of-other-user'] },
      { set: 'PrivateNetwork=yes', starts: true, failed: ['tcp-to-another-service'] },
      // V8's JIT needs W+X pages.
      { set: 'MemoryDenyWriteExecute=yes', starts: false, result: 'signal' },
      // PID 1 refuses systemctl from non-root; systemd-notify cannot fake credentials either.
      { set: 'User=nobody', starts: false, failed: ['systemctl-restart', 'systemctl-stop-start'] },
    ];
    await ct.writeFile('/etc/systemd/system/ha-watchdog.service.d/standin.conf', STANDIN(['Restart=no', 'TimeoutStartSec=5s']));
    try {
      for (const v of variants) {
        await ct.writeFile('/etc/systemd/system/ha-watchdog.service.d/variant.conf', `[Service]\n${v.set}\n`);
        await ct.exec(['rm', '-f', '/var/lib/ha-watchdog/standin.json']);
        await ct.systemctl('daemon-reload');
        const r = await ct.exec(['systemctl', 'start', 'ha-watchdog.service'], { timeoutMs: 30_000 });
        const p = await show('ha-watchdog.service', 'Result');
        const report = await ct.exec(['cat', '/var/lib/ha-watchdog/standin.json']);
        const failed =
          report.code === 0
            ? Object.entries((JSON.parse(report.stdout) as { results: Record<string, { ok: boolean }> }).results)
                .filter(([, x]) => !x.ok)
                .map(([n]) => n)
            : [];
        const journal = await ct.journal('ha-watchdog.service', ['-o', 'cat', '-n', '40']);
        await ct.exec(['systemctl', 'stop', 'ha-watchdog.service'], { timeoutMs: 60_000 });
        await ct.exec(['systemctl', 'reset-failed', 'ha-watchdog.service']);
        process.stdout.write(`variant ${v.set}: started=${r.code === 0} result=${p.Result} failed checks=[${failed.join(' ')}]\n`);
        assert.equal(r.code === 0, v.starts, `${v.set}: start ${r.code === 0 ? 'succeeded' : 'failed'}\n${journal}`);
        if (v.result) assert.equal(p.Result, v.result, v.set);
        if (v.failed) assert.deepEqual(failed.sort(), [...v.failed].sort(), v.set);
        if (v.journal) assert.match(journal, v.journal, v.set);
      }
    } finally {
      await ct.exec(['rm', '-f', '/etc/systemd/system/ha-watchdog.service.d/variant.conf', '/etc/systemd/system/ha-watchdog.service.d/standin.conf']);
      await ct.exec(['systemctl', 'daemon-reload']);
    }
  });

  it('keepalived + drop-in: a stop hands the VIP over fast and cleanly; SIGKILL is slow, leaves the VIP, and is not restarted', async () => {
    // Two VRRP routers inside the container: keepalived.service (priority
    // 150) on hwt0, and a backup keepalived (priority 100) in network
    // namespace "peer" on the other end of a veth pair.
    const vrrp = (state: string, iface: string, prio: number) =>
      `vrrp_instance VI_1 {\n  state ${state}\n  interface ${iface}\n  virtual_router_id 51\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n`;
    await ct.writeFile('/etc/keepalived/keepalived.conf', vrrp('MASTER', 'hwt0', 150));
    await ct.writeFile('/etc/keepalived/peer.conf', vrrp('BACKUP', 'hwt1', 100));
    await ct.execOk([
      'sh',
      '-ec',
      [
        'ip netns add peer',
        'ip link add hwt0 type veth peer name hwt1',
        'ip link set hwt1 netns peer',
        'ip addr add 192.0.2.1/24 dev hwt0',
        'ip link set hwt0 up',
        'ip -n peer addr add 192.0.2.2/24 dev hwt1',
        'ip -n peer link set hwt1 up',
        'systemd-run --unit=hwt-peer -p NetworkNamespacePath=/run/netns/peer /usr/sbin/keepalived --dont-fork --log-console -f /etc/keepalived/peer.conf -p /run/peer.pid -r /run/peer_vrrp.pid -c /run/peer_checkers.pid',
      ].join('\n'),
    ]);
    const vipOn = async (where: 'master' | 'peer') =>
      (await ct.exec(where === 'master' ? ['ip', '-br', 'addr', 'show', 'hwt0'] : ['ip', '-n', 'peer', '-br', 'addr', 'show', 'hwt1'])).stdout.includes('192.0.2.100');
    const masterUp = async () => {
      await ct.systemctl('reset-failed', 'keepalived.service').catch(() => undefined);
      await ct.execOk(['ip', 'addr', 'flush', 'dev', 'hwt0', 'to', '192.0.2.100/32']);
      await ct.systemctl('start', 'keepalived.service');
      for (let i = 0; !((await vipOn('master')) && !(await vipOn('peer'))); i++) {
        if (i > 100) assert.fail('keepalived.service never became master');
        await sleep(100);
      }
    };
    // Runs `how`, then polls until the backup holds the VIP; prints seconds.
    const failover = async (how: string) => {
      const out = await ct.execOk([
        'sh',
        '-c',
        `t0=$(date +%s.%N); ${how}; for i in $(seq 1 200); do ip -n peer -br addr show hwt1 | grep -q 192.0.2.100 && break; sleep 0.02; done; t1=$(date +%s.%N); echo "$t0 $t1"`,
      ]);
      const [t0, t1] = out.trim().split(' ').map(Number);
      return t1! - t0!;
    };
    try {
      await masterUp();
      const viaStop = await failover('systemctl stop keepalived.service');
      const afterStop = await show('keepalived.service', 'ActiveState', 'Result');
      const vipLeftAfterStop = await vipOn('master');

      await masterUp();
      const viaKill = await failover('systemctl kill -s KILL keepalived.service');
      await sleep(2000); // long enough for a Restart= to have fired
      const afterKill = await show('keepalived.service', 'ActiveState', 'Result', 'NRestarts');
      const vipLeftAfterKill = await vipOn('master');

      process.stdout.write(
        `keepalived failover (advert_int 1, backup priority 100): systemctl stop ${viaStop.toFixed(2)} s, SIGKILL ${viaKill.toFixed(2)} s; VIP left on the old master: stop ${vipLeftAfterStop}, SIGKILL ${vipLeftAfterKill}\n`,
      );
      // Priority-0 advert: the backup waits only its skew time, (256-100)/256 s.
      assert.ok(viaStop < 2, `stop took ${viaStop} s`);
      assert.equal(afterStop.Result, 'success');
      assert.equal(vipLeftAfterStop, false, 'a stopped keepalived removes its VIP');
      // No advert: Master_Down_Interval = 3 x advert_int + skew, counted from the last advert.
      assert.ok(viaKill > 2.3, `SIGKILL took only ${viaKill} s`);
      assert.equal(vipLeftAfterKill, true, 'a SIGKILLed keepalived leaves its VIP configured');
      assert.equal(afterKill.ActiveState, 'failed');
      assert.equal(afterKill.Result, 'signal');
      assert.equal(afterKill.NRestarts, '0', 'Restart=no: systemd does not bring a killed keepalived back');
    } finally {
      await ct.exec(['systemctl', 'stop', 'keepalived.service', 'hwt-peer.service']);
      await ct.exec(['systemctl', 'reset-failed', 'keepalived.service', 'hwt-peer.service']);
      await ct.exec(['rm', '-f', '/etc/keepalived/keepalived.conf']);
    }
  });

  it('WatchdogSec= kills an agent that stops pinging and Restart=always brings it back', async () => {
    await ct.writeFile(
      '/etc/systemd/system/ha-watchdog.service.d/standin.conf',
      // 2 s watchdog and 1 s restart delay to keep the test short.
      STANDIN(['WatchdogSec=2s', 'RestartSec=1s'], 'hang'),
    );
    await ct.systemctl('daemon-reload');
    await ct.execOk(['systemctl', 'start', 'ha-watchdog.service'], { timeoutMs: 90_000 });
    try {
      for (let i = 0; ; i++) {
        const p = await show('ha-watchdog.service', 'NRestarts');
        if (Number(p.NRestarts) >= 1) break;
        if (i > 150) assert.fail(`no restart after the watchdog timeout:\n${await ct.journal('ha-watchdog.service', ['-o', 'cat'])}`);
        await sleep(100);
      }
      assert.match(await ct.journal('ha-watchdog.service', ['-o', 'cat']), /Watchdog timeout/);
    } finally {
      await ct.exec(['systemctl', 'stop', 'ha-watchdog.service'], { timeoutMs: 120_000 });
      await ct.exec(['rm', '-f', '/etc/systemd/system/ha-watchdog.service.d/standin.conf']);
      await ct.exec(['systemctl', 'daemon-reload']);
    }
  });
});
