// `ha-watchdog check`: exit codes, state carried between cron runs, the lock.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { Stage } from '../helpers/stage.js';

const skip = requireRoot();

describe('ha-watchdog check (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
  });
  const setup = async (opts: Parameters<Stage['config']>[0] = {}) => {
    stage = await Stage.create();
    const config = stage.config(opts);
    await stage.startServices();
    return { s: stage, config };
  };

  it('all healthy -> exit 0 and silent (cron mails any output)', async () => {
    const { s, config } = await setup();
    const r = await s.cli(['check', '-c', config]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  });

  it('the pids found by one check are confirmed by the next through /proc: no ps scan', async () => {
    const { s, config } = await setup();
    const first = JSON.parse((await s.cli(['check', '-c', config, '--json'])).stdout);
    assert.equal(first.scans, 1);
    const second = JSON.parse((await s.cli(['check', '-c', config, '--json'])).stdout);
    assert.deepEqual([second.status, second.scans], ['OK', 0]);
    // a restarted tomcat (new pid) is found again by one scan
    process.kill(s.tomcatPid(), 'SIGKILL');
    await s.ns.run([join(s.dir, 'bin', 'tomcat-restart')], s.env);
    const third = JSON.parse((await s.cli(['check', '-c', config, '--json'])).stdout);
    assert.deepEqual([third.status, third.scans], ['OK', 1]);
    // a changed matcher does not trust the saved pids
    writeFileSync(config, readFileSync(config, 'utf8').replace('fake-service\\.mjs', 'fake-service.mjs'));
    const fourth = JSON.parse((await s.cli(['check', '-c', config, '--json'])).stdout);
    assert.equal(fourth.scans, 1);
  });

  it('a healthy pass that changes nothing writes nothing: state.json and pids.json keep their inode (no temp file, no fsync)', async () => {
    const { s, config } = await setup();
    const ino = (f: string) => statSync(join(s.dir, 'state', f)).ino;
    assert.equal((await s.cli(['check', '-c', config])).code, 0);
    assert.equal((await s.cli(['check', '-c', config])).code, 0);
    const before = [ino('state.json'), ino('pids.json')];
    assert.equal((await s.cli(['check', '-c', config])).code, 0);
    assert.deepEqual([ino('state.json'), ino('pids.json')], before, 'rewritten although nothing changed');
    // something changed (tomcat's pid): both are written again
    process.kill(s.tomcatPid(), 'SIGKILL');
    await s.ns.run([join(s.dir, 'bin', 'tomcat-restart')], s.env);
    assert.equal((await s.cli(['check', '-c', config])).code, 0);
    assert.notEqual(ino('pids.json'), before[1], 'the new pid was not saved');
  });

  it('fall 2 across two cron runs (tomcat hung: HTTP fails, the process is there): first sees one bad poll, no action; second restarts it -> exit 1', async () => {
    const { s, config } = await setup({ fall: 2, rise: 1 });
    await s.cli(['check', '-c', config]);
    process.kill(s.tomcatPid(), 'SIGSTOP');
    const first = await s.cli(['check', '-c', config]);
    assert.equal(first.code, 2, first.stdout);
    assert.match(first.stdout, /^HA-WATCHDOG CRITICAL - tomcat down/);
    assert.deepEqual(s.recorded(), [], 'one bad poll is not "down" with fall 2');
    const second = await s.cli(['check', '-c', config]);
    assert.equal(second.code, 1, second.stdout);
    assert.match(second.stdout, /^HA-WATCHDOG WARNING - tomcat up/);
    assert.match(second.stdout, /restart\.ok tomcat/);
    assert.deepEqual(s.recorded(), ['tomcat-restart']);
  });

  it('a vanished process needs no fall: tomcat SIGKILLed -> the first run restarts it even with fall 2', async () => {
    const { s, config } = await setup({ fall: 2, rise: 1 });
    await s.cli(['check', '-c', config]);
    process.kill(s.tomcatPid(), 'SIGKILL');
    const first = await s.cli(['check', '-c', config]);
    assert.equal(first.code, 1, first.stdout);
    assert.match(first.stdout, /restart\.ok tomcat/);
    assert.deepEqual(s.recorded(), ['tomcat-restart']);
  });

  it('keepalived dead while tomcat is healthy -> started by the pass, exit 1; the next pass is OK, exit 0', async () => {
    const { s, config } = await setup();
    for (const pid of await s.keepalivedPids()) process.kill(pid, 'SIGKILL');
    const r = await s.cli(['check', '-c', config]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^HA-WATCHDOG WARNING - tomcat up, keepalived running\n  keepalived start: keepalived not running and critical services healthy/);
    assert.deepEqual(s.recorded(), ['keepalived-start']);
    const again = await s.cli(['check', '-c', config]);
    assert.deepEqual([again.code, again.stdout], [0, '']);
  });

  it('restart fails -> failover, exit 2, and --json says so', async () => {
    const { s, config } = await setup();
    s.setFail('tomcat-restart', true);
    process.kill(s.tomcatPid(), 'SIGKILL');
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 2);
    const report = JSON.parse(r.stdout);
    assert.equal(report.status, 'CRITICAL');
    assert.equal(report.keepalived.failedOver, true);
    assert.ok(report.events.some((e: { event: string }) => e.event === 'failover'));
    assert.ok(report.log.some((l: { event: string; output?: string }) => l.event === 'action.failed' && /fail switch set/.test(l.output ?? '')));
    assert.deepEqual(s.recorded(), ['tomcat-restart', 'keepalived-stop']);
    assert.deepEqual(report.actions.map((a: { kind: string }) => a.kind), ['restart', 'keepalived.stop'], 'each action reported once');
    // the next cron run does not stop keepalived again, and heals with backoff (not yet due)
    const again = await s.cli(['check', '-c', config]);
    assert.equal(again.code, 2);
    assert.deepEqual(s.recorded(), ['tomcat-restart', 'keepalived-stop']);
  });

  it('--dry-run decides and reports, runs nothing, writes no state', async () => {
    const { s, config } = await setup();
    process.kill(s.tomcatPid(), 'SIGKILL');
    const r = await s.cli(['check', '-c', config, '--dry-run', '--json']);
    const report = JSON.parse(r.stdout);
    assert.ok(report.log.some((l: { msg: string; dryRun?: boolean }) => l.dryRun && /^would restart tomcat/.test(l.msg)));
    assert.deepEqual(s.recorded(), []);
    assert.equal(existsSync(join(s.dir, 'state', 'state.json')), false);
  });

  it('the daemon holds the lock -> check only reports, says so, exit 3', async () => {
    const { s, config } = await setup({ interval: '1h' });
    const agent = await s.startAgent(config);
    for (let i = 0; i < 100 && !agent.lines.some((l) => l.event === 'service.up'); i++) await new Promise((r) => setTimeout(r, 50));
    // Settled: on a loaded machine the first poll's late probe answers each start a poll
    // of their own (POLL_WAIT_MS); one of them must not meet the hang below.
    for (let n = -1, i = 0; i < 100 && n !== agent.lines.length; i++) {
      n = agent.lines.length;
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Hung, not killed: the daemon's pid watch would see a death at once and act itself;
    // a hang it sees only at its next poll, an hour away.
    process.kill(s.tomcatPid(), 'SIGSTOP');
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 3);
    const report = JSON.parse(r.stdout);
    assert.equal(report.readOnly, true);
    assert.match(report.note, /read-only: lock held by ha-watchdog run \(pid \d+\); not acting/);
    assert.deepEqual(s.recorded(), [], 'the check did not act');
  });

  it('two checks at once never both act', async () => {
    const { s, config } = await setup();
    // a slow restart keeps the first check inside its pass while the second one starts
    writeFileSync(join(s.dir, 'bin', 'slow'), '');
    process.kill(s.tomcatPid(), 'SIGKILL');
    const [a, b] = await Promise.all([s.cli(['check', '-c', config, '--json']), s.cli(['check', '-c', config, '--json'])]);
    const reports = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    assert.equal(s.recorded().filter((x) => x === 'tomcat-restart').length, 1, JSON.stringify(s.recorded()));
    assert.equal(reports.filter((r) => r.readOnly).length, 1);
  });

  it('a stale lock from a dead process is taken over', async () => {
    const { s, config } = await setup();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(s.dir, 'state'), { recursive: true });
    writeFileSync(join(s.dir, 'state', 'lock'), JSON.stringify({ pid: 999_999, startTime: 1, command: 'ha-watchdog run' }));
    process.kill(s.tomcatPid(), 'SIGKILL');
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(JSON.parse(r.stdout).readOnly, false);
    assert.deepEqual(s.recorded(), ['tomcat-restart']);
  });

  it('a corrupt state file is set aside with a warning, never a crash', async () => {
    const { s, config } = await setup();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(s.dir, 'state'), { recursive: true });
    writeFileSync(join(s.dir, 'state', 'state.json'), '{"version":1,"servi');
    const r = await s.cli(['check', '-c', config, '--json']);
    const report = JSON.parse(r.stdout);
    assert.ok(report.log.some((l: { event: string }) => l.event === 'state.corrupt'));
    assert.ok(readdirSync(join(s.dir, 'state')).some((f) => f.startsWith('state.json.corrupt-')));
    assert.equal(r.code, 0);
  });

  it('config error -> exit 3 with file:line:column, key and what was expected', async () => {
    const { s } = await setup();
    const bad = join(s.dir, 'bad.yaml');
    writeFileSync(bad, 'interval: 7s\nservices:\n  tomcat: { tcp: "127.0.0.1:80" }\nkeepalived: { start: { command: [/bin/true] } }\n');
    const r = await s.cli(['check', '-c', bad]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /bad\.yaml:1:11: interval: node-cron .* cannot hit 7000 ms evenly; use one of: 1s, 2s, 3s, 4s, 5s, 6s, 10s/);
  });
});
