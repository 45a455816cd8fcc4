// `ha-watchdog run` supervising real processes in a private pid namespace: a real HTTP
// server standing in for tomcat, a stand-in keepalived, recording restart/start/stop scripts.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';
import { sleep } from '../helpers/pidns.js';

const skip = requireRoot();

describe('ha-watchdog run (integration)', { skip, concurrency: false }, () => {
  let stage: Stage;
  let agent: { lines: LogLine[]; pid: number; exited: Promise<number | null> };
  const trace = () => ({ recorded: stage.recorded(), log: agent?.lines.map((l) => `${l.event} ${l.service ?? ''} ${l.reason ?? l.msg ?? ''}`) });

  before(async () => {
    stage = await Stage.create();
    await stage.startServices();
    agent = await stage.startAgent(stage.config());
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
  });
  after(async () => {
    await stage?.destroy();
  });

  it('tomcat killed (SIGKILL), restart works -> restarted, keepalived left alone', async () => {
    const old = stage.tomcatPid();
    process.kill(old, 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: trace });
    assert.notEqual(stage.tomcatPid(), old);
    assert.deepEqual(stage.recorded(), ['tomcat-restart'], 'one restart, no keepalived stop');
    assert.equal(events(agent.lines, 'failover').length, 0);
    assert.equal((await stage.keepalivedPids()).length, 1);
  });

  it('tomcat hung (SIGSTOP: process there, HTTP silent) -> detected through HTTP and restarted', async () => {
    const before = events(agent.lines, 'restart.ok', 'tomcat').length;
    const old = stage.tomcatPid();
    process.kill(old, 'SIGSTOP');
    await waitFor(() => events(agent.lines, 'service.down', 'tomcat').some((l) => /http: .*no complete answer within 500 ms/.test(String(l.reason)) && !/process:/.test(String(l.reason))), 15_000, { what: 'service.down via http', detail: trace });
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length > before, 15_000, { what: 'restart.ok after hang', detail: trace });
    assert.notEqual(stage.tomcatPid(), old);
    assert.equal(stage.ns.hostPid(old), null, 'the hung process must not survive the restart');
  });

  it('keepalived killed while tomcat is healthy -> started again', async () => {
    const [k] = await stage.keepalivedPids();
    process.kill(k!, 'SIGKILL');
    await waitFor(() => events(agent.lines, 'keepalived.start').length, 15_000, { what: 'keepalived.start', detail: trace });
    await waitFor(async () => (await stage.keepalivedPids()).length === 1, 10_000, { what: 'keepalived running again', detail: trace });
  });

  it('SIGHUP with a broken config -> config.invalid logged, old config kept, agent keeps working', async () => {
    const file = stage.config();
    writeFileSync(file, 'interval: 1s\nservices: {}\nbogus: 1\n');
    process.kill(agent.pid, 'SIGHUP');
    const invalid = await waitFor(() => events(agent.lines, 'config.invalid')[0], 10_000, { what: 'config.invalid', detail: trace });
    assert.match(String(invalid.msg), /watchdog\.yaml:3:1: bogus: unknown key "bogus"/);
    // still supervising with the old config
    const restarts = events(agent.lines, 'restart.ok', 'tomcat').length;
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length > restarts, 15_000, { what: 'restart after bad reload', detail: trace });
  });

  it('SIGHUP with a good config -> config.reload, applies from the next poll', async () => {
    stage.config({ grace: '4s' });
    process.kill(agent.pid, 'SIGHUP');
    await waitFor(() => events(agent.lines, 'config.reload').length, 10_000, { what: 'config.reload', detail: trace });
  });

  it('tomcat killed, restart fails -> failover: keepalived stopped, once, with the reason', async () => {
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const f = await waitFor(() => events(agent.lines, 'failover')[0], 20_000, { what: 'failover', detail: trace });
    assert.match(String(f.reason), /tomcat: 1 restart attempt\(s\) failed, last: command failed: exit code 1/);
    await waitFor(async () => (await stage.keepalivedPids()).length === 0, 10_000, { what: 'keepalived gone', detail: trace });
    await sleep(3000);
    assert.equal(stage.recorded().filter((a) => a === 'keepalived-stop').length, 1, 'stopped once');
    assert.equal(stage.recorded().filter((a) => a === 'keepalived-start').length, 1, 'never started onto the broken host');
  });

  it('repaired after failover -> tomcat healed with backoff, then keepalived started again', async () => {
    stage.setFail('tomcat-restart', false);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').some((l) => /healthy again after failure/.test(String(l.reason))), 30_000, { what: 'healed', detail: trace });
    await waitFor(async () => (await stage.keepalivedPids()).length === 1, 15_000, { what: 'keepalived back', detail: trace });
    const starts = events(agent.lines, 'keepalived.start');
    assert.match(String(starts.at(-1)!.reason), /critical services healthy again/);
  });

  it('SIGTERM -> agent.stop logged, exit code 0, lock released', async () => {
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.ok(events(agent.lines, 'agent.stop').length);
    const r = await stage.cli(['check', '-c', `${stage.dir}/watchdog.yaml`, '--json']);
    const report = JSON.parse(r.stdout);
    assert.equal(report.readOnly, false, 'the lock was released');
  });
});
