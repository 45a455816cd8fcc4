// The real agent (the built package, not a stand-in) under the shipped
// systemd/ha-watchdog.service, in a real systemd (Debian 12, systemd 252: the
// container of container.ts), installed the way an operator installs a release
// tarball, supervising real units inside the container:
//
// - fake-tomcat.service: a node HTTP server on 127.0.0.1:8080 standing in for
//   tomcat10, Restart=no, restarted by the agent with
//   `/usr/bin/systemctl restart fake-tomcat`. /run/fake-tomcat.fail makes its
//   ExecStartPre= fail (a restart that cannot work); /run/fake-tomcat.slow
//   (seconds) makes its start slow (a restart in flight). fake-nginx.service,
//   the same on :8081, is watched only by the config of the good reload.
// - keepalived.service: Debian's real unit with the shipped drop-in
//   (systemd/keepalived-override.conf), one VRRP instance on a veth pair inside
//   the container's private network namespace (this kernel has no dummy
//   driver: `ip link add dummy0 type dummy` says "Unknown device type"; and
//   keepalived refuses lo: "cannot use a loopback interface (lo) for vrrp").
//   The agent stops/starts it with `/usr/bin/systemctl stop|start keepalived`.
//
// Install (what README.md "Operating it" describes), host side = the build host:
//   npm pack --ignore-scripts        -> ha-watchdog-<v>.tgz (package.json "files")
//   tar -x; cp package-lock.json; npm ci --omit=dev --ignore-scripts
//                                    -> the lockfile's production node_modules
//   chmod 0755 dist/cli.js; tar -czf ha-watchdog-<v>-linux.tgz package
// target side (node, no npm): extract to /usr/lib/ha-watchdog, symlink
// /usr/bin/ha-watchdog -> dist/cli.js, install the units from the package.
//
// One agent runs through the whole file; every test leaves it (and tomcat,
// keepalived) healthy for the next. Mind the agent's restart budget (5
// restarts of one service in 10 minutes, then it fails over instead): tomcat
// is restarted once in test 3, three times in test 4, once in test 8 -- the
// whole budget; fake-nginx (watched from test 5's reload on) once in test 5,
// twice in test 10 (`restart.unit`: a systemd job over D-Bus, then systemctl
// once the bus is killed). The only change to the shipped unit is a
// timing drop-in (see TIMING_DROPIN). Needs dist/ built (`npm run build`;
// `npm test` does it first).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { BOOT_HOOK_TIMEOUT_MS, bootContainer, hostLeftovers, requirementsGate, type Container, props } from './container.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const gate = requirementsGate();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`agent.test: ${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const PREFIX = '/usr/lib/ha-watchdog';
const CONFIG = '/etc/ha-watchdog/watchdog.yaml';
const STATE_DIR = '/var/lib/ha-watchdog';
const UNIT = 'ha-watchdog.service';

// The shipped unit's WatchdogSec=30s and RestartSec=5s would make the freeze
// test wait ~35 s and the crash test ~6 s. Shorter values exercise the same
// paths (WATCHDOG_USEC reaches the agent, which pings every WatchdogSec/4 =
// 750 ms; a 3 s watchdog also shows that the real agent keeps pinging through
// restarts, failovers and reloads: NRestarts stays 0 until the freeze test).
// Installed before the first start: WATCHDOG_USEC is read at exec time.
const TIMING_DROPIN = `# agent.test.ts: test timing only; everything else is the shipped unit.
[Service]
WatchdogSec=3s
RestartSec=1s
`;

const fakeServer = (name: string, port: number) => `// fake ${name} for agent.test.ts
import { createServer } from 'node:http';
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('fake ${name} ok\\n');
}).listen(${port}, '127.0.0.1');
`;

const FAKE_TOMCAT_PRE = `#!/bin/sh
# ExecStartPre of fake-tomcat.service: the test's levers on its (re)start.
if [ -e /run/fake-tomcat.fail ]; then
  echo "fake-tomcat: /run/fake-tomcat.fail exists, refusing to start" >&2
  exit 1
fi
if [ -s /run/fake-tomcat.slow ]; then
  sleep "$(cat /run/fake-tomcat.slow)"
fi
`;

const FAKE_TOMCAT_UNIT = `[Unit]
Description=fake tomcat: node HTTP server on 127.0.0.1:8080 (ha-watchdog agent test)

[Service]
Type=simple
ExecStartPre=/opt/hwt-fakes/pre-start.sh
ExecStart=/usr/local/bin/node /opt/hwt-fakes/fake-tomcat.mjs
# Only the agent brings it back (that is what is tested).
Restart=no
`;

// The second service the good reload adds (test 5).
const FAKE_NGINX_UNIT = `[Unit]
Description=fake nginx: node HTTP server on 127.0.0.1:8081 (ha-watchdog agent test)

[Service]
Type=simple
ExecStart=/usr/local/bin/node /opt/hwt-fakes/fake-nginx.mjs
Restart=no
`;

// Debian's keepalived.service has ConditionFileNotEmpty= on this file.
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
const VIP = '192.0.2.100';

/** The agent's config; `extra` adds services (the good reload adds one). */
function config(opts: { extra?: string; colour?: boolean } = {}): string {
  return [
    '# /etc/ha-watchdog/watchdog.yaml of test/systemd/agent.test.ts',
    'interval: 1s',
    `stateDir: ${STATE_DIR}`,
    'services:',
    '  tomcat:',
    '    critical: true',
    '    process:',
    '      name: node',
    "      args: 'fake-tomcat\\.mjs'",
    // A unit: systemd reports its deaths over D-Bus (test 9), and only its cgroup matches.
    '      unit: fake-tomcat.service',
    ...(opts.colour ? ['      colour: red'] : []),
    '    http:',
    '      url: http://127.0.0.1:8080/',
    '      timeout: 1s',
    '      expectStatus: [200]',
    '      bodyMatches: fake tomcat',
    '    fall: 2',
    '    rise: 1',
    '    restart:',
    '      command: [/usr/bin/systemctl, restart, fake-tomcat]',
    '      timeout: 20s',
    '      grace: 15s',
    '      attempts: 1',
    ...(opts.extra ? [opts.extra] : []),
    'keepalived:',
    '  process:',
    '    name: keepalived',
    '  start:',
    '    command: [/usr/bin/systemctl, start, keepalived]',
    '    timeout: 20s',
    '  stop:',
    '    command: [/usr/bin/systemctl, stop, keepalived]',
    '    timeout: 20s',
    '',
  ].join('\n');
}
// What the good reload adds: a second service that exists only in that config.
const NGINX_SERVICE = [
  '  nginx:',
  '    critical: true',
  '    process:',
  '      name: node',
  "      args: 'fake-nginx\\.mjs'",
  '    http:',
  '      url: http://127.0.0.1:8081/',
  '      timeout: 1s',
  '    fall: 2',
  '    rise: 1',
  '    restart:',
  '      command: [/usr/bin/systemctl, restart, fake-nginx]',
  '      timeout: 20s',
  '      grace: 15s',
].join('\n');

// ------------------------------------------------------------ host side

function host(cmd: string, args: string[], cwd = REPO): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

interface Release {
  tarball: string;
  version: string;
  packed: string[];
  ms: { pack: number; npmCi: number; total: number };
}

/**
 * The build-host half of a tarball install: `npm pack` of the package as
 * built, the lockfile's production dependencies added with `npm ci
 * --omit=dev`, one self-contained tarball out.
 */
async function buildRelease(work: string): Promise<Release> {
  const t0 = Date.now();
  if (!existsSync(join(REPO, 'dist/cli.js'))) throw new Error('dist/cli.js missing: run `npm run build` first (`npm test` does)');
  // --ignore-scripts: `prepare` would rebuild dist/ in the shared working tree
  // (with dev dependencies); the test ships the dist/ that `npm run build` made.
  const packJson = await host('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work]);
  const [info] = JSON.parse(packJson) as Array<{ filename: string; version: string; files: Array<{ path: string }> }>;
  const tPack = Date.now();
  const stage = join(work, 'stage');
  mkdirSync(stage);
  await host('tar', ['-xzf', join(work, info!.filename), '-C', stage]); // -> stage/package/
  const pkg = join(stage, 'package');
  // The tarball has no lockfile; the repo's pins the exact versions the tests ran with.
  copyFileSync(join(REPO, 'package-lock.json'), join(pkg, 'package-lock.json'));
  const ci = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  try {
    // The npm cache that installed the repo's node_modules has every tarball.
    await host('npm', [...ci, '--offline'], pkg);
  } catch (e) {
    say(`npm ci --offline failed (${(e as Error).message.split('\n')[0]}); trying the registry`);
    await host('npm', [...ci, '--prefer-offline'], pkg);
  }
  const tCi = Date.now();
  // npm makes bin targets executable when it installs a package; here nothing installs it.
  chmodSync(join(pkg, 'dist/cli.js'), 0o755);
  const tarball = join(work, `ha-watchdog-${info!.version}-linux.tgz`);
  await host('tar', ['-czf', tarball, '-C', stage, 'package']);
  return { tarball, version: info!.version, packed: info!.files.map((f) => f.path), ms: { pack: tPack - t0, npmCi: tCi - tPack, total: Date.now() - t0 } };
}

// ------------------------------------------------------------ the journal

interface AgentEvent {
  level: string;
  time: string;
  event: string;
  msg: string;
  service?: string;
  reason?: string;
  [k: string]: unknown;
}
interface Line {
  ev: AgentEvent;
  /** the agent's own timestamp (ms) */
  t: number;
  entry: Record<string, unknown>;
}

const PRIORITY: Record<string, string> = { error: '3', warn: '4', info: '6', debug: '7' };


/** "Wed 2026-11-25 14:09:18.123456 UTC" (systemctl show --timestamp=us+utc) -> ms since the epoch, µs kept as a fraction. */
function parseUsUtc(s: string): number {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) UTC$/.exec(s);
  assert.ok(m, `unexpected timestamp "${s}"`);
  return Date.parse(`${m[1]}T${m[2]}Z`) + Number(m[3]) / 1000;
}

describe('ha-watchdog under systemd (the real agent, installed from a tarball)', { skip: gate.skip ?? false }, () => {
  let ct: Container;
  let work = '';
  let release: Release;
  /** The environment of the agent's `systemctl restart` (test 8), for the NOTIFY_SOCKET check. */
  let restartEnv: string[] = [];

  const show = async (unit: string, ...p: string[]) => props(await ct.execOk(['systemctl', 'show', '--timestamp=us+utc', '-p', p.join(','), unit]));
  const mainPid = async (unit: string) => Number((await show(unit, 'MainPID')).MainPID);

  /** The agent's own journal lines (its stdout), parsed. */
  const agentLines = async (): Promise<Line[]> => {
    const entries = await ct.journalEntries(UNIT);
    return entries
      .filter((e) => e.SYSLOG_IDENTIFIER === 'ha-watchdog')
      .map((entry) => {
        const ev = JSON.parse(String(entry.MESSAGE)) as AgentEvent;
        return { ev, t: Date.parse(ev.time), entry };
      });
  };
  const eventsSince = async (since: number) => (await agentLines()).filter((l) => l.t >= since);
  const names = (ls: Line[]) => ls.map((l) => `${l.ev.event}${l.ev.service ? `(${l.ev.service})` : ''}`);

  /** For a timed-out wait: the agent's journal, its last 40 lines. */
  const journalTail = async () => `--- journal -u ${UNIT} (last 40)\n${await ct.journal(UNIT, ['-o', 'cat', '-n', '40']).catch((e: Error) => e.message)}`;
  const waitEvent = (what: string, since: number, pred: (e: AgentEvent) => boolean, timeoutMs = 30_000) =>
    waitFor(async () => (await eventsSince(since)).find((l) => pred(l.ev)), timeoutMs, { what: what, intervalMs: 200, detail: journalTail });

  /** Until the agent reports the steady state it is expected to return to. */
  const waitHealthy = (status = 'tomcat up, keepalived running', timeoutMs = 30_000) =>
    waitFor(async () => {
      const p = await show(UNIT, 'StatusText', 'ActiveState', 'SubState');
      return p.StatusText === status && p.ActiveState === 'active' && p.SubState === 'running' && p;
    }, timeoutMs, { what: `StatusText "${status}"`, intervalMs: 200, detail: journalTail });

  const vipOn = async () => (await ct.execOk(['ip', '-br', 'addr', 'show', 'hwt0'])).includes(` ${VIP}/`);

  const killTomcat = async () => {
    const pid = await mainPid('fake-tomcat.service');
    assert.ok(pid > 0, 'fake-tomcat has no main process');
    await ct.execOk(['kill', '-KILL', String(pid)]);
    return pid;
  };

  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'hwt-agent-'));
      release = await buildRelease(work);
      say(`release ${release.tarball}: npm pack ${release.ms.pack} ms, npm ci --omit=dev ${release.ms.npmCi} ms, total ${release.ms.total} ms (dist/cli.js built ${statSync(join(REPO, 'dist/cli.js')).mtime.toISOString()})`);
      ct = await bootContainer({ failure: gate.failure });

      // The target host's half of the install: node is there, npm is not.
      await ct.copyIn(release.tarball, '/root/ha-watchdog.tgz');
      await ct.execOk([
        'sh',
        '-ec',
        [
          `install -d -m 0755 ${PREFIX} /etc/ha-watchdog`,
          `tar -xzf /root/ha-watchdog.tgz -C ${PREFIX} --strip-components=1 --no-same-owner`,
          `ln -sfn ${PREFIX}/dist/cli.js /usr/bin/ha-watchdog`,
          `install -m 0644 ${PREFIX}/systemd/ha-watchdog.service /etc/systemd/system/ha-watchdog.service`,
          `install -D -m 0644 ${PREFIX}/systemd/keepalived-override.conf /etc/systemd/system/keepalived.service.d/ha-watchdog.conf`,
        ].join('\n'),
      ]);
      await ct.writeFile('/etc/systemd/system/ha-watchdog.service.d/test-timing.conf', TIMING_DROPIN);
      await ct.writeFile(CONFIG, config(), 0o644);

      // What it supervises.
      await ct.writeFile('/opt/hwt-fakes/fake-tomcat.mjs', fakeServer('tomcat', 8080));
      await ct.writeFile('/opt/hwt-fakes/fake-nginx.mjs', fakeServer('nginx', 8081));
      await ct.writeFile('/etc/systemd/system/fake-nginx.service', FAKE_NGINX_UNIT);
      await ct.writeFile('/opt/hwt-fakes/pre-start.sh', FAKE_TOMCAT_PRE, 0o755);
      await ct.writeFile('/etc/systemd/system/fake-tomcat.service', FAKE_TOMCAT_UNIT);
      await ct.writeFile('/etc/keepalived/keepalived.conf', KEEPALIVED_CONF);
      await ct.execOk([
        'sh',
        '-ec',
        // Both ends in the container's own network namespace: keepalived needs a non-loopback interface.
        ['ip link add hwt0 type veth peer name hwt1', 'ip addr add 192.0.2.1/24 dev hwt0', 'ip link set hwt1 up', 'ip link set hwt0 up'].join('\n'),
      ]);
      await ct.systemctl('daemon-reload');
      await ct.systemctl('enable', UNIT);
      await ct.systemctl('start', 'fake-tomcat.service', 'fake-nginx.service', 'keepalived.service');
    },
    { timeout: BOOT_HOOK_TIMEOUT_MS },
  );

  after(async () => {
    try {
      if (ct) {
        // The container's whole journal, for a post-mortem (the container is gone after this).
        const dump = process.env.HA_WATCHDOG_TEST_JOURNAL;
        if (dump) writeFileSync(dump, (await ct.exec(['journalctl', '--no-pager', '-o', 'short-precise'])).stdout);
        const report = await ct.stop();
        assert.deepEqual(report.problems, [], 'stop() had to force something');
        assert.deepEqual(hostLeftovers(ct.name), []);
      }
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('install: the tarball holds only what package.json ships, no native code; files in place; unit unchanged', async () => {
    for (const f of release.packed) assert.match(f, /^(dist\/|systemd\/|README\.md$|watchdog\.yaml$|package\.json$)/, `unexpected file in the package: ${f}`);
    // No compiled addons: the same tarball works on any Linux/arch with node >= 20.18.
    assert.equal((await host('find', [join(work, 'stage/package/node_modules'), '-name', '*.node'])).trim(), '');
    assert.equal((await ct.execOk(['ha-watchdog', '--version'])).trim(), release.version);
    assert.equal((await ct.execOk(['readlink', '-f', '/usr/bin/ha-watchdog'])).trim(), `${PREFIX}/dist/cli.js`);
    assert.equal((await ct.execOk(['stat', '-c', '%U %a', CONFIG])).trim(), 'root 644');
    assert.match(await ct.execOk(['ha-watchdog', 'validate']), /watchdog\.yaml: valid \(1 services\)/);
    assert.equal(await ct.readFile('/etc/systemd/system/ha-watchdog.service'), readFileSync(join(REPO, 'systemd/ha-watchdog.service'), 'utf8'));
    const p = await show(UNIT, 'DropInPaths', 'UnitFileState', 'RestartUSec');
    assert.equal(p.DropInPaths, '/etc/systemd/system/ha-watchdog.service.d/test-timing.conf');
    assert.equal(p.UnitFileState, 'enabled');
    assert.equal(p.RestartUSec, '1s');
    const k = await show('keepalived.service', 'ActiveState', 'Restart', 'DropInPaths');
    assert.equal(k.ActiveState, 'active');
    assert.equal(k.Restart, 'no');
    assert.match(k.DropInPaths!, /keepalived\.service\.d\/ha-watchdog\.conf$/);
  });

  it('1. start: active only after the first poll; StatusText is the one-line summary', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    // Type=notify: returns once READY=1 was accepted.
    const r = await ct.exec(['systemctl', 'start', UNIT], { timeoutMs: 90_000 });
    const startMs = Date.now() - t0;
    assert.equal(r.code, 0, `${r.stderr}\n${await ct.journal(UNIT, ['-o', 'cat'])}`);
    const p = await show(UNIT, 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'ExecMainStartTimestamp', 'ActiveEnterTimestamp', 'WatchdogUSec');
    assert.equal(p.ActiveState, 'active');
    assert.equal(p.WatchdogUSec, '3s');
    assert.equal(p.SubState, 'running');
    assert.equal(p.StatusText, 'tomcat up, keepalived running');
    // node is the main PID (the bin symlink execs node through env, no wrapper).
    assert.match(await ct.execOk(['cat', `/proc/${p.MainPID}/cmdline`]), /^(\/usr\/local\/bin\/)?node\0\/usr\/bin\/ha-watchdog\0run\0$/);
    const lines = await agentLines();
    const start = lines.find((l) => l.ev.event === 'agent.start');
    const up = lines.find((l) => l.ev.event === 'service.up' && l.ev.service === 'tomcat');
    assert.ok(start && up, names(lines).join(' '));
    assert.equal(start.ev.config, CONFIG);
    const execStart = parseUsUtc(p.ExecMainStartTimestamp!);
    const activeEnter = parseUsUtc(p.ActiveEnterTimestamp!);
    // Same clock (one kernel, no time namespace); the agent's times are ms, floored.
    assert.ok(execStart <= start.t + 1, `agent.start ${start.ev.time} before the exec?`);
    assert.ok(start.t <= up.t, 'service.up before agent.start');
    assert.ok(up.t <= activeEnter, `READY (active at ${p.ActiveEnterTimestamp}) came before the first poll's service.up (${up.ev.time})`);
    say(`start: systemctl start returned after ${startMs} ms; exec -> agent.start ${(start.t - execStart).toFixed(0)} ms, -> service.up ${(up.t - execStart).toFixed(0)} ms, -> active ${(activeEnter - execStart).toFixed(0)} ms`);
  });

  it("pid watch under the shipped unit's sandbox: keepalived (no unit in this config) is watched by a pidwait helper (nobody, no new privileges), tomcat (a unit) by none", { timeout: 30_000 }, async () => {
    const agent = await mainPid(UNIT);
    const keepalived = await mainPid('keepalived.service');
    const tomcat = await mainPid('fake-tomcat.service');
    // The helper starts after the first poll found the pid, and holds its pidfd tens of ms later.
    const helpers = async () =>
      (await ct.execOk(['sh', '-c', `ps -o pid=,uid=,comm= --ppid ${agent} || true`])).trim().split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === 'pidwait');
    const holds = async (helper: string) => (await ct.execOk(['sh', '-c', `grep -h '^Pid:' /proc/${helper}/fdinfo/* 2>/dev/null || true`])).split('\n').map((l) => Number(l.split(/\s+/)[1]));
    let found: string[][] = [];
    await waitFor(async () => (found = await helpers()).length > 0 && (await holds(found[0]![0]!)).includes(keepalived), 10_000, { what: 'a pidwait helper holding keepalived\'s pidfd', detail: journalTail });
    assert.equal(found.length, 1, `one helper, for keepalived alone (tomcat's deaths come from systemd): ${JSON.stringify(found)}`);
    const [pid, uid] = found[0]!;
    assert.equal(uid, '65534', 'it runs as nobody');
    assert.ok(!(await holds(pid!)).includes(tomcat));
    assert.match(await ct.execOk(['grep', '^NoNewPrivs:', `/proc/${pid}/status`]), /1/);
    const st = JSON.parse(await ct.execOk(['/usr/bin/ha-watchdog', 'status', '--json'])) as { services: Record<string, { deathNotice: string | null }>; keepalived: { deathNotice: string | null } };
    assert.deepEqual([st.services.tomcat!.deathNotice, st.keepalived.deathNotice], ['systemd', 'kernel'], '`status` says how each death is noticed');
    say(`pid watch: helper ${pid} (uid ${uid}) waits on keepalived ${keepalived}`);
  });

  it('3. healing: SIGKILL of the fake tomcat -> service.down, `systemctl restart fake-tomcat`, restart.ok', { timeout: 60_000 }, async () => {
    const t0 = Date.now();
    const oldPid = await killTomcat();
    const ok = await waitEvent('restart.ok', t0, (e) => e.event === 'restart.ok' && e.service === 'tomcat');
    const ev = await eventsSince(t0);
    const seq = names(ev);
    for (const want of ['service.down(tomcat)', 'restart.start(tomcat)', 'action.done(tomcat)', 'restart.ok(tomcat)']) assert.ok(seq.includes(want), `${want} missing: ${seq.join(' ')}`);
    assert.ok(seq.indexOf('service.down(tomcat)') < seq.indexOf('restart.start(tomcat)'));
    const start = ev.find((l) => l.ev.event === 'restart.start')!;
    assert.deepEqual(start.ev.command, ['/usr/bin/systemctl', 'restart', 'fake-tomcat']);
    assert.ok(!seq.some((s) => /failover|keepalived\.stop|restart\.failed/.test(s)), seq.join(' '));
    const t = await show('fake-tomcat.service', 'ActiveState', 'MainPID', 'NRestarts');
    assert.equal(t.ActiveState, 'active');
    assert.notEqual(Number(t.MainPID), oldPid);
    assert.equal(t.NRestarts, '0', 'systemd did not restart it by itself (Restart=no): the agent did');
    await waitHealthy();
    say(`heal: SIGKILL -> restart.ok ${secs(ok.t - t0)}`);
  });

  it('4. failover: the restart fails -> failover, keepalived stopped by systemctl, not restarted by its unit, stopped again if started behind the agent; back after healing', { timeout: 120_000 }, async () => {
    await ct.writeFile('/run/fake-tomcat.fail', '');
    const t0 = Date.now();
    await killTomcat();
    const fo = await waitEvent('failover', t0, (e) => e.event === 'failover');
    assert.deepEqual(fo.ev.services, ['tomcat']);
    await waitEvent('keepalived.stop done', t0, (e) => e.event === 'action.done' && e.action === 'keepalived.stop');
    const stopped = Date.now();
    let seq = names(await eventsSince(t0));
    for (const want of ['service.down(tomcat)', 'restart.start(tomcat)', 'action.failed(tomcat)', 'restart.failed(tomcat)', 'service.failed(tomcat)', 'failover', 'keepalived.stop']) {
      assert.ok(seq.includes(want), `${want} missing: ${seq.join(' ')}`);
    }
    const k = await show('keepalived.service', 'ActiveState', 'Result', 'NRestarts');
    assert.equal(k.ActiveState, 'inactive', 'stopped by `systemctl stop keepalived`');
    assert.equal(k.Result, 'success');
    assert.match(await ct.journal('keepalived.service', ['-o', 'cat']), /Stopping keepalived\.service/);
    assert.equal(await vipOn(), false, 'a SIGTERMed keepalived removes its VIP');
    await waitHealthy('tomcat down (failed), keepalived stopped (failover)');
    // Nothing brings keepalived back while tomcat is failed: not its unit
    // (Restart=no, and a stop job never restarts), not the agent (rule 4).
    for (let i = 0; i < 12; i++) {
      const s = await show('keepalived.service', 'ActiveState', 'NRestarts');
      assert.equal(s.ActiveState, 'inactive', `keepalived came back ${Date.now() - stopped} ms after the failover`);
      assert.equal(s.NRestarts, '0');
      await sleep(250);
    }
    assert.ok(!names(await eventsSince(t0)).includes('keepalived.start'));

    // Started behind the agent's back while tomcat is still failed -- Debian's
    // keepalived postinst runs `deb-systemd-invoke restart keepalived.service`
    // on every upgrade, which starts a stopped unit -- keepalived is stopped
    // again at once (keepalived.running_again), before it can become master
    // (3 x advert_int) and pull the VIP onto this broken host.
    const tBehind = Date.now();
    await ct.systemctl('restart', 'keepalived.service');
    let vipSeen = false;
    const again = await waitEvent('keepalived.running_again', t0, (e) => e.event === 'keepalived.running_again', 20_000);
    assert.equal(again.entry.PRIORITY, '4');
    await waitFor(async () => {
      vipSeen ||= await vipOn();
      return (await show('keepalived.service', 'ActiveState')).ActiveState === 'inactive';
    }, 15_000, { what: 'keepalived stopped again', intervalMs: 200, detail: journalTail });
    const ranMs = Date.now() - tBehind;
    assert.equal(vipSeen, false, 'keepalived took the VIP before the agent stopped it again');
    assert.equal(await vipOn(), false, 'the VIP is still on this host');
    assert.ok(!names(await eventsSince(t0)).includes('keepalived.start'));

    // Healing goes on with backoff (10 s, then 20 s: the retry at 10 s still
    // found the flag): once tomcat can start again, the agent restarts it and
    // then starts keepalived.
    await ct.execOk(['rm', '/run/fake-tomcat.fail']);
    const back = await waitEvent('keepalived.start', t0, (e) => e.event === 'keepalived.start', 45_000);
    await waitHealthy();
    seq = names(await eventsSince(t0));
    const upAt = Math.max(seq.lastIndexOf('restart.ok(tomcat)'), seq.lastIndexOf('service.recovered(tomcat)'), seq.lastIndexOf('service.up(tomcat)'));
    assert.ok(upAt >= 0 && upAt < seq.lastIndexOf('keepalived.start'), `keepalived started before tomcat was up: ${seq.join(' ')}`);
    assert.equal((await show('keepalived.service', 'ActiveState')).ActiveState, 'active');
    say(
      `failover: SIGKILL -> failover ${secs(fo.t - t0)}, -> keepalived inactive ${secs(stopped - t0)}; started behind the agent's back: ran ${secs(ranMs)} (never holding the VIP) until stopped again; ` +
        `fixed -> keepalived.start ${secs(back.t - t0)} after the kill (backoff 10 s + 20 s)`,
    );
  });

  it('2. journald: MESSAGE is the pure JSON line, PRIORITY its level; -p warning shows warnings and errors only', async () => {
    const all = await ct.journalEntries(UNIT);
    const mine = all.filter((e) => e.SYSLOG_IDENTIFIER === 'ha-watchdog');
    assert.ok(mine.length > 10, `only ${mine.length} agent lines`);
    const levels = new Set<string>();
    for (const e of mine) {
      const m = e.MESSAGE;
      assert.equal(typeof m, 'string', `MESSAGE is not text: ${JSON.stringify(e)}`);
      assert.ok(!(m as string).startsWith('<'), `priority prefix left in MESSAGE: ${m}`);
      const ev = JSON.parse(m as string) as AgentEvent;
      assert.ok(ev.event && ev.time && ev.msg !== undefined, m as string);
      assert.equal(e.PRIORITY, PRIORITY[ev.level], `PRIORITY ${e.PRIORITY} for a ${ev.level} line: ${m}`);
      assert.equal(e._TRANSPORT, 'stdout');
      levels.add(ev.level);
    }
    assert.deepEqual([...levels].sort(), ['error', 'info', 'warn']);
    // Everything else in `-u ha-watchdog` is PID 1's own messages about the unit.
    for (const e of all.filter((x) => x.SYSLOG_IDENTIFIER !== 'ha-watchdog')) assert.equal(e._PID, '1', JSON.stringify(e));

    const warn = await ct.journalEntries(UNIT, ['-p', 'warning']);
    for (const e of warn) assert.ok(Number(e.PRIORITY) <= 4, `-p warning showed ${JSON.stringify(e)}`);
    const warnEvents = warn.filter((e) => e.SYSLOG_IDENTIFIER === 'ha-watchdog').map((e) => JSON.parse(String(e.MESSAGE)) as AgentEvent);
    assert.deepEqual([...new Set(warnEvents.map((e) => e.level))].sort(), ['error', 'warn']);
    for (const want of ['service.down', 'keepalived.stop', 'restart.failed', 'failover']) assert.ok(warnEvents.some((e) => e.event === want), `${want} not in -p warning`);
    // The recipe of README.md "Read the logs": -t ha-watchdog -o cat gives one JSON object per line.
    const cat = (await ct.execOk(['journalctl', '--no-pager', '-q', '-t', 'ha-watchdog', '-o', 'cat', '-p', 'warning'])).trim().split('\n');
    assert.equal(cat.length, warnEvents.length);
    for (const l of cat) assert.doesNotThrow(() => JSON.parse(l), l);
  });

  it('5. reload: a good config applies (config.reload), a bad one is refused with file:line:column, the old one kept and acted on', { timeout: 60_000 }, async () => {
    const pid = await mainPid(UNIT);
    const withNginx = 'tomcat up, nginx up, keepalived running';
    // Good: adds nginx (fake-nginx.service, running since the start, unwatched so far).
    await ct.writeFile(CONFIG, config({ extra: NGINX_SERVICE }), 0o644);
    let t0 = Date.now();
    await ct.systemctl('reload', UNIT);
    const reload = await waitEvent('config.reload', t0, (e) => e.event === 'config.reload');
    assert.deepEqual(reload.ev.services, ['tomcat', 'nginx']);
    await waitHealthy(withNginx);

    // Bad: an unknown key. Refused; `systemctl reload` itself still exits 0.
    const bad = config({ extra: NGINX_SERVICE, colour: true });
    const line = bad.split('\n').findIndex((l) => l.includes('colour')) + 1;
    await ct.writeFile(CONFIG, bad, 0o644);
    t0 = Date.now();
    await ct.systemctl('reload', UNIT);
    const invalid = await waitEvent('config.invalid', t0, (e) => e.event === 'config.invalid');
    assert.equal(invalid.entry.PRIORITY, '3');
    assert.match(invalid.ev.msg, new RegExp(`${CONFIG.replace(/\./g, '\\.')}:${line}:7: services\\.tomcat\\.process\\.colour: unknown key "colour"`));
    const p = await show(UNIT, 'ActiveState', 'SubState', 'MainPID', 'StatusText');
    assert.deepEqual([p.ActiveState, p.SubState, Number(p.MainPID)], ['active', 'running', pid]);
    assert.equal(p.StatusText, withNginx);

    // Still acting, on the kept config: nginx exists only there. (nginx, not
    // tomcat: tomcat's restart budget, 5 in 10 minutes, is spent exactly by
    // tests 3, 4 and 8; one more tomcat restart would fail over.)
    const tKill = Date.now();
    const oldNginx = await mainPid('fake-nginx.service');
    await ct.execOk(['kill', '-KILL', String(oldNginx)]);
    const ok = await waitEvent('restart.ok(nginx) after the refused reload', tKill, (e) => e.event === 'restart.ok' && e.service === 'nginx');
    const start = (await eventsSince(tKill)).find((l) => l.ev.event === 'restart.start' && l.ev.service === 'nginx');
    assert.deepEqual(start?.ev.command, ['/usr/bin/systemctl', 'restart', 'fake-nginx']);
    assert.notEqual(await mainPid('fake-nginx.service'), oldNginx);
    await waitHealthy(withNginx);

    // Back to the base config (the agent restarts below re-read the file).
    await ct.writeFile(CONFIG, config(), 0o644);
    t0 = Date.now();
    await ct.systemctl('reload', UNIT);
    await waitEvent('config.reload (base)', t0, (e) => e.event === 'config.reload');
    await waitHealthy();
    assert.equal(await mainPid(UNIT), pid);
    assert.equal((await show(UNIT, 'NRestarts')).NRestarts, '0', 'the 3 s watchdog never fired so far');
    say(`reload: nginx SIGKILLed after the refused reload -> restart.ok ${secs(ok.t - tKill)}`);
  });

  it('8. SIGKILL of the agent during a restart: Restart=always brings it back, state.resumed, the restart is not repeated', { timeout: 60_000 }, async () => {
    const before = await show(UNIT, 'MainPID', 'NRestarts');
    await ct.writeFile('/run/fake-tomcat.slow', '4\n');
    try {
      const t0 = Date.now();
      await killTomcat();
      // Until the state file holds the pid of the running `systemctl restart`
      // (saved as soon as it spawned): a restart truly in flight.
      const cmdPid = await waitFor(async () => {
        const r = await ct.exec(['cat', `${STATE_DIR}/state.json`]);
        const tomcat = r.code === 0 ? (JSON.parse(r.stdout) as { services: Record<string, { phase: string; last?: { pid?: number } }> }).services.tomcat : undefined;
        const pid = tomcat?.phase === 'restarting' ? tomcat.last?.pid : undefined;
        return pid && (await ct.exec(['kill', '-0', String(pid)])).code === 0 ? pid : undefined;
      }, 20_000, { what: 'the restart command pid in state.json', intervalMs: 200, detail: journalTail });
      assert.match(await ct.execOk(['cat', `/proc/${cmdPid}/cmdline`]), /systemctl\0restart\0fake-tomcat/);
      restartEnv = (await ct.execOk(['cat', `/proc/${cmdPid}/environ`])).split('\0');
      const tKill = Date.now();
      await ct.execOk(['kill', '-KILL', before.MainPID!]);
      const p = await waitFor(async () => {
        const s = await show(UNIT, 'MainPID', 'NRestarts', 'ActiveState', 'SubState');
        return Number(s.NRestarts) === Number(before.NRestarts) + 1 && s.MainPID !== before.MainPID && s.MainPID !== '0' && s.ActiveState === 'active' && s.SubState === 'running' && s;
      }, 20_000, { what: 'the agent restarted by systemd', intervalMs: 200, detail: journalTail });
      const backMs = Date.now() - tKill;
      const resumed = await waitEvent('state.resumed', tKill, (e) => e.event === 'state.resumed' && e.service === 'tomcat');
      assert.equal(resumed.entry.PRIORITY, '4');
      assert.match(resumed.ev.reason!, new RegExp(`pid ${cmdPid}\\).*not repeating it`));
      await waitHealthy();
      const after = await eventsSince(tKill);
      assert.ok(names(after).includes('lock.stale'), `the killed agent's lock was not taken over: ${names(after).join(' ')}`);
      assert.ok(!after.some((l) => l.ev.event === 'restart.start'), `the restart was repeated: ${names(after).join(' ')}`);
      // fake-tomcat was started exactly once since the kill: by the first agent's job.
      const starts = (await ct.journalEntries('fake-tomcat.service')).filter((e) => Number(e.__REALTIME_TIMESTAMP) / 1000 >= t0 && /^Starting fake-tomcat/.test(String(e.MESSAGE)));
      assert.equal(starts.length, 1, `fake-tomcat started ${starts.length} times`);
      say(`crash mid-restart: SIGKILL -> new agent active ${secs(backMs)} (new MainPID ${p.MainPID}), resumed: ${resumed.ev.reason}`);
    } finally {
      await ct.exec(['rm', '-f', '/run/fake-tomcat.slow']);
    }
  });

  it('6. watchdog: an agent frozen (SIGSTOP) past WatchdogSec is killed and restarted', { timeout: 60_000 }, async () => {
    const before = await show(UNIT, 'MainPID', 'NRestarts');
    const t0 = Date.now();
    await ct.execOk(['kill', '-STOP', before.MainPID!]);
    const p = await waitFor(async () => {
      const s = await show(UNIT, 'MainPID', 'NRestarts', 'ActiveState', 'SubState');
      return Number(s.NRestarts) === Number(before.NRestarts) + 1 && s.MainPID !== before.MainPID && s.MainPID !== '0' && s.ActiveState === 'active' && s.SubState === 'running' && s;
    }, 30_000, { what: 'the frozen agent restarted', intervalMs: 200, detail: journalTail });
    const backMs = Date.now() - t0;
    const pid1 = (await ct.journalEntries(UNIT)).filter((e) => e._PID === '1' && Number(e.__REALTIME_TIMESTAMP) / 1000 >= t0).map((e) => String(e.MESSAGE));
    assert.ok(pid1.some((m) => /Watchdog timeout \(limit 3s\)/.test(m)), pid1.join('\n'));
    assert.ok(pid1.some((m) => /Failed with result 'watchdog'/.test(m)), pid1.join('\n'));
    assert.ok(backMs >= 2000, `restarted after only ${backMs} ms`);
    const ev = await eventsSince(t0);
    assert.ok(names(ev).includes('agent.start') && names(ev).includes('lock.stale'), names(ev).join(' '));
    await waitHealthy();
    assert.ok(!ev.some((l) => /restart\.start|keepalived\.(start|stop)/.test(l.ev.event)), `the restarted agent acted: ${names(ev).join(' ')}`);
    say(`watchdog: SIGSTOP -> new agent active ${secs(backMs)} (MainPID ${before.MainPID} -> ${p.MainPID}; WatchdogSec=3s, RestartSec=1s)`);
  });

  // systemd's own tools report a failure to an inherited NOTIFY_SOCKET (`systemctl`
  // sends "ERRNO=<n>"), which made PID 1 log warnings in this unit's journal on every
  // failed `systemctl restart`: commands must not inherit the agent's sd_notify variables.
  it('the commands the agent runs get no NOTIFY_SOCKET / WATCHDOG_* of its own', async () => {
    assert.ok(restartEnv.length > 0, 'test 8 did not capture the restart command environment');
    assert.deepEqual(
      restartEnv.filter((v) => /^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=/.test(v)),
      [],
      'the agent\'s `systemctl restart` inherited its sd_notify variables',
    );
    const noise = (await ct.journalEntries(UNIT)).map((e) => String(e.MESSAGE)).filter((m) => /Got notification message from PID/.test(m));
    assert.deepEqual(noise, []);
  });

  it('one actor: `ha-watchdog check` while the daemon runs does not act (the lock decides)', async () => {
    const r = await ct.exec(['ha-watchdog', 'check']);
    assert.equal(r.code, 3, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /read-only: lock held by ha-watchdog run \(pid \d+\)/);
  });

  it('9. systemd over D-Bus: the unit\'s main pid SIGKILLed is known at once (unit.died, no pid watch); with Restart=on-failure the agent leaves the restart to systemd', { timeout: 120_000 }, async () => {
    await waitHealthy();
    let seq: string[] = [];
    // Restart=on-failure: systemd brings it back; two supervisors must not race.
    await ct.writeFile('/etc/systemd/system/fake-tomcat.service.d/restart.conf', '[Service]\nRestart=on-failure\nRestartSec=2s\n');
    try {
      await ct.systemctl('daemon-reload');
      await waitHealthy();
      const t0 = Date.now();
      const pid = await killTomcat();
      const left = await waitEvent('restart.left_to_systemd', t0, (e) => e.event === 'restart.left_to_systemd' && e.service === 'tomcat');
      await waitEvent('service.recovered', t0, (e) => e.event === 'service.recovered' && e.service === 'tomcat');
      const ev = await eventsSince(t0);
      seq = names(ev);
      const d = ev.find((l) => l.ev.event === 'unit.died');
      assert.ok(d, `no unit.died: ${seq.join(' ')}`);
      assert.equal(d.ev.pid, pid);
      assert.equal(d.ev.bySystemd, true, JSON.stringify(d.ev));
      assert.ok(!seq.includes('restart.start(tomcat)'), `the agent restarted it too: ${seq.join(' ')}`);
      assert.ok(!seq.some((x) => /failover|service\.failed|keepalived\.stop/.test(x)), `the agent gave up while systemd restarted it: ${seq.join(' ')}`);
      const t = await show('fake-tomcat.service', 'ActiveState', 'NRestarts');
      assert.equal(t.ActiveState, 'active');
      assert.equal(t.NRestarts, '1', 'systemd restarted it, once');
      say(`D-Bus: SIGKILL -> unit.died ${d.t - t0} ms (the kill's own exec into the container included); left to systemd ${left.t - t0} ms after the kill; ${seq.join(' ')}`);
    } finally {
      await ct.execOk(['rm', '-f', '/etc/systemd/system/fake-tomcat.service.d/restart.conf']);
      await ct.systemctl('daemon-reload');
    }
    await waitHealthy();
  });

  // restart.unit: a restart job over the agent's one D-Bus connection (the unit watch's),
  // no systemctl forked. Proof that can fail: /usr/bin/systemctl is a shim that records
  // every call with its parent pid; the agent's own forks are those whose parent is the
  // agent. Then the bus is killed: the same restart forks systemctl (said once).
  // nginx, not tomcat: tomcat's restart budget is spent (see the top).
  it('10. restart.unit: a killed unit restarted as a systemd job over D-Bus, no systemctl forked; the bus lost -> systemctl restart <unit> forked instead, said once', { timeout: 120_000 }, async () => {
    const calls = '/run/ha-watchdog/systemctl-calls';
    const output = `${STATE_DIR}/output/nginx.restart.log`;
    const withNginx = 'tomcat up, nginx up, keepalived running';
    const agentPid = await mainPid(UNIT);
    /** The systemctl runs whose parent is the agent (the shim's lines: "<ppid> <argv>"). */
    const forked = async () => (await ct.execOk(['sh', '-c', `cat ${calls} 2>/dev/null || true`])).split('\n').filter((l) => l.startsWith(`${agentPid} `)).map((l) => l.slice(String(agentPid).length + 1));
    await ct.execOk(['mv', '/usr/bin/systemctl', '/usr/bin/systemctl.real']);
    await ct.writeFile('/usr/bin/systemctl', `#!/bin/sh\necho "$PPID $*" >> ${calls} 2>/dev/null\nexec /usr/bin/systemctl.real "$@"\n`, 0o755);
    try {
      assert.match(await ct.execOk(['systemctl', '--version']), /^systemd 252/, 'the shim passes through');
      await ct.writeFile(CONFIG, config({ extra: NGINX_SERVICE.replace('      command: [/usr/bin/systemctl, restart, fake-nginx]', '      unit: fake-nginx.service') }), 0o644);
      let t0 = Date.now();
      await ct.systemctl('reload', UNIT);
      await waitEvent('config.reload', t0, (e) => e.event === 'config.reload');
      await waitHealthy(withNginx);
      await ct.exec(['rm', '-f', output]);

      // Over the bus.
      t0 = Date.now();
      let old = await mainPid('fake-nginx.service');
      await ct.execOk(['kill', '-KILL', String(old)]);
      const ok = await waitEvent('restart.ok(nginx) by a job', t0, (e) => e.event === 'restart.ok' && e.service === 'nginx');
      let ev = await eventsSince(t0);
      const start = ev.find((l) => l.ev.event === 'restart.start' && l.ev.service === 'nginx')!;
      assert.equal(start.ev.via, 'dbus', JSON.stringify(start.ev));
      assert.equal(start.ev.command, 'restart fake-nginx.service (systemd job over D-Bus)');
      const done = ev.find((l) => l.ev.event === 'action.done' && l.ev.service === 'nginx')!;
      assert.match(String(done.ev.job), /^\/org\/freedesktop\/systemd1\/job\/\d+$/, JSON.stringify(done.ev));
      assert.deepEqual(await forked(), [], 'the agent forked systemctl');
      assert.equal((await ct.exec(['test', '-e', output])).code, 1, 'a restart log was written: a command ran');
      assert.notEqual(await mainPid('fake-nginx.service'), old);
      assert.ok(!ev.some((l) => l.ev.event === 'systemd.unavailable'), names(ev).join(' '));
      await waitHealthy(withNginx);
      say(`restart.unit over D-Bus: SIGKILL -> restart.ok ${secs(ok.t - t0)}, job ${String(done.ev.job)} in ${String(done.ev.durationMs)} ms, no systemctl forked`);

      // The bus lost: the same restart forks systemctl, and says so once.
      t0 = Date.now();
      await ct.execOk(['systemctl', 'kill', '-s', 'KILL', 'dbus.service']);
      await waitEvent('systemd.unavailable (lost)', t0, (e) => e.event === 'systemd.unavailable' && /lost/.test(String(e.reason)));
      old = await mainPid('fake-nginx.service');
      await ct.execOk(['kill', '-KILL', String(old)]);
      await waitEvent('restart.ok(nginx) by systemctl', t0, (e) => e.event === 'restart.ok' && e.service === 'nginx');
      ev = await eventsSince(t0);
      const lost = ev.find((l) => l.ev.event === 'systemd.unavailable')!;
      assert.match(String(lost.ev.reason), /unit jobs \(restart\.unit, keepalived start\/stop unit\) fork systemctl/);
      const fallback = ev.find((l) => l.ev.event === 'restart.start' && l.ev.service === 'nginx')!;
      assert.equal(fallback.ev.via, 'systemctl', JSON.stringify(fallback.ev));
      assert.deepEqual(fallback.ev.command, ['/usr/bin/systemctl', 'restart', 'fake-nginx.service']);
      assert.match(fallback.ev.msg, /the D-Bus connection to systemd was lost .*: systemd unit jobs fork \/usr\/bin\/systemctl instead \(said once\)/);
      assert.deepEqual(await forked(), ['restart fake-nginx.service']);
      assert.equal((await ct.exec(['test', '-e', output])).code, 0, 'the forked systemctl has its output file');
      await waitHealthy(withNginx);
    } finally {
      await ct.exec(['sh', '-c', 'mv -f /usr/bin/systemctl.real /usr/bin/systemctl']);
      await ct.writeFile(CONFIG, config(), 0o644);
      const t = Date.now();
      await ct.systemctl('reload', UNIT);
      await waitEvent('config.reload (base)', t, (e) => e.event === 'config.reload');
    }
    await waitHealthy();
  });

  it('7. stop: clean exit (Result=success, status 0), agent.stop logged, the lock released', { timeout: 120_000 }, async () => {
    const before = await show(UNIT, 'NRestarts');
    const t0 = Date.now();
    await ct.execOk(['systemctl', 'stop', UNIT], { timeoutMs: 120_000 });
    const stopMs = Date.now() - t0;
    const p = await show(UNIT, 'ActiveState', 'Result', 'ExecMainStatus', 'ExecMainCode', 'NRestarts');
    assert.equal(p.ActiveState, 'inactive');
    assert.equal(p.Result, 'success');
    assert.equal(p.ExecMainStatus, '0');
    assert.equal(p.ExecMainCode, '1', 'CLD_EXITED');
    assert.equal(p.NRestarts, before.NRestarts, 'Restart=always does not restart after a stop');
    const seq = names(await eventsSince(t0));
    assert.ok(seq.includes('agent.stopping') && seq.includes('agent.stop'), seq.join(' '));
    const stop = (await eventsSince(t0)).find((l) => l.ev.event === 'agent.stop')!;
    assert.equal(stop.ev.settled, true);
    assert.equal((await ct.exec(['test', '-e', `${STATE_DIR}/lock`])).code, 1, 'lock file left behind');
    // Released for real: a check now takes the lock and finds all well (silent, exit 0).
    const check = await ct.exec(['ha-watchdog', 'check']);
    assert.equal(check.code, 0, `${check.stdout}${check.stderr}`);
    assert.equal(check.stdout, '');
    assert.equal((await show('keepalived.service', 'ActiveState')).ActiveState, 'active', 'stopping the agent leaves keepalived alone');
    say(`stop: systemctl stop took ${stopMs} ms`);
  });
});
