// Edges of the daemon: overrunning polls, SIGTERM in the middle of a restart, the
// default keepalived stop (SIGTERM to its main pid), --dry-run.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage, waitFor } from '../helpers/stage.js';

const skip = requireRoot();

describe('ha-watchdog run: edges (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
  });

  it('a poll longer than the interval -> the next tick is skipped with poll.slow, polls never overlap', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const config = stage.config({ fall: 5 });
    // tomcat hangs: its HTTP probe takes its whole 500 ms timeout; make the timeout 2.5 s
    writeFileSync(config, (await import('node:fs')).readFileSync(config, 'utf8').replace('timeout: 500ms', 'timeout: 2500ms'));
    const agent = await stage.startAgent(config);
    await waitFor('up', () => events(agent.lines, 'service.up').length, 10_000);
    process.kill(stage.tomcatPid(), 'SIGSTOP');
    const slow = await waitFor('poll.slow', () => events(agent.lines, 'poll.slow')[0], 15_000);
    assert.match(String(slow.msg), /skipping this tick|longer than the 1s interval/);
  });

  it('SIGTERM while a restart is running -> the restart finishes, state saved, exit 0', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const agent = await stage.startAgent(stage.config());
    await waitFor('up', () => events(agent.lines, 'service.up').length, 10_000);
    writeFileSync(join(stage.dir, 'bin', 'slow'), ''); // the restart takes 2 s
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor('restart.start', () => events(agent.lines, 'restart.start').length, 10_000);
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    const order = agent.lines.map((l) => l.event).filter((e) => e === 'action.done' || e === 'agent.stop');
    assert.deepEqual(order, ['action.done', 'agent.stop'], 'the restart completed before the agent stopped');
    const state = JSON.parse((await import('node:fs')).readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8'));
    assert.equal(state.services.tomcat.restarts.length, 1, 'the restart budget was saved');
  });

  it('no keepalived.stop command -> failover sends SIGTERM to keepalived\'s main pid', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const agent = await stage.startAgent(stage.config({ keepalivedStop: false }));
    await waitFor('up', () => events(agent.lines, 'service.up').length, 10_000);
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const stop = await waitFor('keepalived.stop', () => events(agent.lines, 'keepalived.stop')[0], 15_000);
    assert.equal(stop.command, 'SIGTERM to keepalived main pid');
    await waitFor('keepalived gone', async () => (await stage!.keepalivedPids()).length === 0, 15_000);
    assert.ok(!stage.recorded().includes('keepalived-stop'));
  });

  it('--dry-run: decides and logs "would ...", runs nothing', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const agent = await stage.startAgent(stage.config(), ['--dry-run']);
    await waitFor('up', () => events(agent.lines, 'service.up').length, 10_000);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const would = await waitFor('would restart', () => events(agent.lines, 'restart.start')[0], 10_000);
    assert.match(String(would.msg), /^would restart tomcat \(attempt 1\)/);
    assert.equal(would.dryRun, true);
    assert.deepEqual(stage.recorded(), []);
  });
});
