// `ha-watchdog status | pause | resume` against the real built daemon, over its real
// control socket, in a private pid namespace with a fake tomcat and keepalived.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, lstatSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';
import { sleep } from '../helpers/pidns.js';

const skip = requireRoot();

describe('control socket: status, pause, resume (integration)', { skip, concurrency: false }, () => {
  let stage: Stage;
  let config: string;
  let agent: { lines: LogLine[]; pid: number; exited: Promise<number | null> };
  const sock = () => join(stage.dir, 'state', 'control.sock');
  const trace = () => ({ recorded: stage.recorded(), log: agent?.lines.map((l) => `${l.event} ${l.service ?? ''} ${l.reason ?? l.msg ?? ''}`) });
  const cli = (...args: string[]) => stage.cli([...args, '-c', config]);
  const statusJson = async () => {
    const r = await cli('status', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const restarts = () => stage.recorded().filter((a) => a === 'tomcat-restart').length;

  before(async () => {
    stage = await Stage.create();
    config = stage.config();
    // The VIP as clients reach it: here the fake tomcat on 127.0.0.1, an address this host has.
    appendFileSync(config, `  vip: { url: "http://127.0.0.1:${stage.port}/", timeout: 500ms }\n`);
    await stage.startServices();
  });
  after(async () => {
    await stage?.destroy();
  });

  it('status with no daemon running -> says so, exit 3 (also with --json)', async () => {
    const r = await cli('status');
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`no ha-watchdog daemon is running \\(no socket at ${sock()}\\)`));
    const j = await cli('status', '--json');
    assert.equal(j.code, 3);
    assert.match(JSON.parse(j.stdout).error, /no ha-watchdog daemon is running/);
    assert.equal((await cli('pause')).code, 3);
    assert.equal((await cli('resume')).code, 3);
    assert.equal((await cli('retry', 'tomcat')).code, 3);
  });

  it('usage errors -> 64', async () => {
    assert.equal((await cli('status', '--for', '3m')).code, 64);
    const bad = await cli('pause', '--for', 'soon');
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--for: expected a duration/);
    assert.equal((await cli('pause', '--for', '0s')).code, 64);
    const noService = await cli('retry');
    assert.equal(noService.code, 64);
    assert.match(noService.stderr, /retry needs the service/);
    assert.equal((await cli('retry', 'tomcat', 'nginx')).code, 64);
  });

  it('the daemon serves stateDir/control.sock, a socket of mode 0600', async () => {
    agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
    const st = lstatSync(sock());
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    assert.equal(statSync(join(stage.dir, 'state')).mode & 0o777, 0o700);
    assert.equal(events(agent.lines, 'agent.start')[0]?.control, sock());
  });

  it('status: the table', async () => {
    const r = await cli('status');
    assert.equal(r.code, 0, r.stderr);
    const t = r.stdout;
    assert.match(t, /^ha-watchdog \S+ on \S+ \(pid \d+, up [^)]+\), polling every 1s$/m);
    assert.match(t, /^last poll \S+ ago \(\d+ ms\); healthy$/m);
    assert.match(t, /^MAINTENANCE {2}not paused$/m);
    assert.match(t, /^SERVICE +STATE +SINCE +LAST PROBES +STARTS IN +RESTARTS +BACKOFF$/m);
    assert.match(t, /^tomcat +up +\d\d:\d\d:\d\d \(\S+\) +process ok [\d.]+ms, http ok [\d.]+ms +- +0\/5 in 10m +-$/m);
    assert.match(t, /^KEEPALIVED {3}running \(pid \d+\)$/m);
    assert.match(t, /^VIP {10}127\.0\.0\.1 held by this host, answers$/m);
    assert.match(t, /^LAST ACTIONS none$/m);
  });

  it('status --json: the documented fields', async () => {
    const s = await statusJson();
    assert.equal(s.format, 1);
    assert.equal(typeof s.host, 'string');
    assert.equal(s.agent.interval, '1s');
    assert.equal(s.agent.config, config);
    assert.equal(s.agent.dryRun, false);
    assert.ok(Date.parse(s.lastPoll.at) > Date.now() - 5000);
    assert.equal(s.healthy, true);
    assert.deepEqual(s.maintenance, { paused: false, since: null, until: null, remainingMs: null, reason: null, by: null, switchover: false });
    const t = s.services.tomcat;
    assert.equal(t.state, 'up');
    assert.equal(t.health, 'up');
    assert.equal(t.critical, true);
    assert.ok(Date.parse(t.since) > 0);
    assert.deepEqual(
      t.lastPoll.probes.map((p: { probe: string; ok: boolean; reason: unknown }) => [p.probe, p.ok, p.reason]),
      [
        ['process', true, null],
        ['http', true, null],
      ],
    );
    for (const p of t.lastPoll.probes) assert.equal(typeof p.durationMs, 'number');
    assert.equal(t.lastPoll.probes[0].pids.length, 1);
    assert.deepEqual(t.restarts, { inWindow: 0, budget: 5, windowMs: 600_000, nextAllowedAt: null });
    assert.equal(t.backoff, null);
    assert.equal(s.keepalived.running, true);
    assert.equal(s.keepalived.pids.length, 1);
    assert.equal(s.keepalived.failedOver, false);
    assert.deepEqual(s.vip, { url: `http://127.0.0.1:${stage.port}/`, address: '127.0.0.1', held: true, note: null, answering: true });
    assert.deepEqual(s.lastActions, []);
  });

  it('pause -> tomcat killed -> probed and reported down, but no restart and no failover', async () => {
    const p = await cli('pause', '--reason', 'deploy tomcat 10.1.20');
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^paused until `ha-watchdog resume`: deploy tomcat 10\.1\.20$/m);
    const ev = await waitFor(() => events(agent.lines, 'maintenance.paused')[0], 5000, { what: 'maintenance.paused', detail: trace });
    assert.equal(ev.by, 'root');
    assert.equal(ev.pauseReason, 'deploy tomcat 10.1.20');
    const saved = JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8'));
    assert.equal(saved.maintenance.reason, 'deploy tomcat 10.1.20', 'saved at once');

    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'service.down', 'tomcat').length, 10_000, { what: 'service.down', detail: trace });
    await sleep(4000); // four polls, with fall 1 and a restart command that works
    assert.equal(restarts(), 0, 'no restart while paused');
    assert.deepEqual(stage.recorded(), [], 'no action at all while paused');
    assert.equal(events(agent.lines, 'restart.start').length + events(agent.lines, 'failover').length, 0);

    const s = await statusJson();
    assert.equal(s.maintenance.paused, true);
    assert.equal(s.maintenance.reason, 'deploy tomcat 10.1.20');
    assert.equal(s.maintenance.by, 'root');
    assert.equal(s.maintenance.until, null);
    assert.equal(s.services.tomcat.health, 'down');
    assert.equal(s.healthy, false);
    const probes = s.services.tomcat.lastPoll.probes;
    assert.equal(probes.find((x: { probe: string }) => x.probe === 'http').ok, false);
    assert.match(probes.find((x: { probe: string }) => x.probe === 'http').reason, /\S/);
    const table = (await cli('status')).stdout;
    assert.match(table, /^MAINTENANCE {2}PAUSED since \d\d:\d\d:\d\d by root, until `ha-watchdog resume`: deploy tomcat 10\.1\.20$/m);
    assert.match(table, /^tomcat +down +.*http FAIL/m);
    assert.match(table, /^ {2}tomcat http: \S/m);
  });

  it('the pause survives a daemon restart (state.json); the socket is removed at exit', async () => {
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(existsSync(sock()), false, 'socket removed at exit');
    agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'agent.start').length, 10_000, { what: 'agent.start', detail: trace });
    const s = await statusJson();
    assert.equal(s.maintenance.paused, true);
    assert.equal(s.maintenance.reason, 'deploy tomcat 10.1.20');
    await sleep(3000);
    assert.equal(restarts(), 0, 'still no restart after the agent restarted');
    assert.equal(events(agent.lines, 'restart.start').length, 0);
  });

  it('resume -> the restart happens; status lists it under the last actions', async () => {
    const r = await cli('resume');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^resumed/);
    const ev = await waitFor(() => events(agent.lines, 'maintenance.resumed')[0], 5000, { what: 'maintenance.resumed', detail: trace });
    assert.equal(ev.by, 'root');
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: trace });
    assert.equal(restarts(), 1);
    const s = await statusJson();
    assert.equal(s.maintenance.paused, false);
    assert.equal(s.services.tomcat.restarts.inWindow, 1);
    const a = s.lastActions[0];
    assert.equal(a.target, 'tomcat');
    assert.equal(a.kind, 'restart');
    assert.equal(a.result, 'ok');
    assert.equal(a.attempt, 1);
    assert.equal(typeof a.durationMs, 'number');
    assert.match(a.why, /\S/);
    assert.match((await cli('status')).stdout, /^\d\d:\d\d:\d\d +tomcat +restart #1 +ok +\S+ +\S/m);
    assert.match((await cli('resume')).stdout, /^not paused/);
  });

  it('pause --for 2s ends by itself (maintenance.expired)', async () => {
    const p = await cli('pause', '--for', '2s');
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^paused until \d\d:\d\d:\d\d \(for 2s\)$/m);
    const s = await statusJson();
    assert.equal(s.maintenance.paused, true);
    assert.ok(s.maintenance.remainingMs > 0 && s.maintenance.remainingMs <= 2000);
    assert.ok(Date.parse(s.maintenance.until) - Date.parse(s.maintenance.since) === 2000);
    await waitFor(() => events(agent.lines, 'maintenance.expired').length, 6000, { what: 'maintenance.expired', detail: trace });
    assert.equal((await statusJson()).maintenance.paused, false);
    assert.equal(JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8')).maintenance, undefined);
    // acting again: a kill now is healed
    const before = restarts();
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => restarts() > before && events(agent.lines, 'restart.ok', 'tomcat').length > 0, 15_000, { what: 'restart after expiry', detail: trace });
  });

  it('retry: refused with the reason when there is nothing to retry (exit 1)', async () => {
    const healthy = await cli('retry', 'tomcat');
    assert.equal(healthy.code, 1);
    assert.match(healthy.stderr, /the daemon refused retry: tomcat is healthy; nothing to retry/);
    const unknown = await cli('retry', 'redis');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no service "redis" in the config; configured: tomcat/);
  });

  it('retry: tomcat failed and backing off, repaired, `retry tomcat` -> restarted at once, before the backoff ends; the learned start time in status', async () => {
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const failed = await waitFor(() => events(agent.lines, 'service.failed', 'tomcat').at(-1), 15_000, { what: 'service.failed', detail: trace });
    const nextTryAt = Date.parse(String(failed.time)) + Number(failed.nextTryInMs);
    assert.ok(Number(failed.nextTryInMs) >= 10_000, 'backing off');
    const table = (await cli('status')).stdout;
    assert.match(table, /^tomcat +failed .* next try \d\d:\d\d:\d\d \(in \S+\)$/m, 'status says when the next try is');
    stage.setFail('tomcat-restart', false);
    const before = events(agent.lines, 'restart.start', 'tomcat').length;
    const oksBefore = events(agent.lines, 'restart.ok', 'tomcat').length;
    const r = await cli('retry', 'tomcat');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tomcat: a restart attempt at the next poll \(the backoff and the restart budget waived once\)$/m);
    assert.equal(events(agent.lines, 'retry.asked', 'tomcat')[0]?.by, 'root');
    const ok = await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat')[oksBefore], 15_000, { what: 'restart.ok after retry', detail: trace });
    const started = events(agent.lines, 'restart.start', 'tomcat')[before];
    assert.ok(started, 'a restart was started');
    assert.ok(Date.parse(String(started.time)) < nextTryAt, 'the retried restart did not wait for the backoff');
    assert.equal(typeof ok.startMs, 'number');
    const s = await statusJson();
    assert.equal(s.services.tomcat.start.from, 'restart');
    assert.equal(s.services.tomcat.start.ms, ok.startMs);
  });

  it('a daemon killed with SIGKILL leaves its socket; the next one removes it (nobody answers) and serves', async () => {
    process.kill(agent.pid, 'SIGKILL');
    await agent.exited;
    assert.ok(lstatSync(sock()).isSocket(), 'left behind');
    const stale = await cli('status');
    assert.equal(stale.code, 3);
    assert.match(stale.stderr, /no ha-watchdog daemon is running \(nothing listens on /);
    agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'agent.start').length, 10_000, { what: 'agent.start', detail: trace });
    assert.equal(events(agent.lines, 'control.failed').length, 0);
    assert.equal((await statusJson()).format, 1);
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('the socket cannot be served (a file in its place) -> control.failed logged, the agent goes on', async () => {
    writeFileSync(sock(), 'not a socket');
    agent = await stage.startAgent(config);
    const failed = await waitFor(() => events(agent.lines, 'control.failed')[0], 10_000, { what: 'control.failed', detail: trace });
    assert.equal(failed.level, 'error');
    assert.match(String(failed.reason), /exists and is not a socket; not touching it/);
    await waitFor(() => events(agent.lines, 'agent.start').length, 10_000, { what: 'agent.start', detail: trace });
    const before = restarts();
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => restarts() > before, 15_000, { what: 'still healing', detail: trace });
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(readFileSync(sock(), 'utf8'), 'not a socket', 'left alone');
    rmSync(sock());
  });

  it('--dry-run serves no socket', async () => {
    agent = await stage.startAgent(config, ['--dry-run']);
    await waitFor(() => events(agent.lines, 'agent.start').length, 10_000, { what: 'agent.start', detail: trace });
    assert.equal(existsSync(sock()), false);
    assert.equal((await cli('status')).code, 3);
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});
