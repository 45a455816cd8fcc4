// Edges of the daemon: a hung probe longer than the interval, the retry of a failing probe, SIGTERM in the middle of a restart, the
// default keepalived stop (SIGTERM to its main pid), --dry-run.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { parseExposition, value } from '../helpers/exposition.js';
import { sleep } from '../helpers/pidns.js';
import { events, freePort, Stage } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('ha-watchdog run: edges (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
  });

  /** The daemon's /metrics, read back as samples (metrics.listen on a free loopback port). */
  const metricsOf = (port: number) => async () => parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

  it('a hung tomcat whose probe takes longer than the interval -> no tick skipped, no poll.slow: the polls go on every second', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const port = await freePort();
    const config = stage.config({ fall: 3, extra: `metrics: { listen: "127.0.0.1:${port}" }\n` });
    // tomcat hangs: its HTTP probe takes its whole timeout; make that 2.5 s, longer than the 1 s interval
    writeFileSync(config, readFileSync(config, 'utf8').replace('timeout: 500ms', 'timeout: 2500ms'));
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up').length, 10_000, { what: 'up' });
    const scrape = metricsOf(port);
    process.kill(stage.tomcatPid(), 'SIGSTOP');
    const polls = async () => value(await scrape(), 'ha_watchdog_poll_duration_seconds_count') ?? 0;
    const before = await polls();
    await sleep(5000);
    const during = (await polls()) - before;
    // 5 ticks in 5 s; a poll that waited for the 2.5 s probe would have run 2 or 3.
    assert.ok(during >= 4, `polls while tomcat hangs: ${during} in 5 s`);
    // A poll.slow may still be said on a loaded machine (a poll longer than a second);
    // it never means a skipped tick any more.
    for (const e of events(agent.lines, 'poll.slow')) assert.doesNotMatch(String(e.msg), /skipping/, 'a tick was skipped');
    await waitFor(() => events(agent.lines, 'service.down', 'tomcat').length, 15_000, { what: 'down after fall probes' });
  });

  it('a failing probe is asked again at once: down fall probes after the first failure, not fall ticks (interval 10 s)', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const port = await freePort();
    const agent = await stage.startAgent(stage.config({ interval: '10s', fall: 2, extra: `metrics: { listen: "127.0.0.1:${port}" }\n` }));
    await waitFor(() => events(agent.lines, 'service.up').length, 10_000, { what: 'up' });
    const scrape = metricsOf(port);
    const failures = async () => value(await scrape(), 'ha_watchdog_probe_failures_total', { service: 'tomcat', probe: 'http' }) ?? 0;
    process.kill(stage.tomcatPid(), 'SIGSTOP');
    await waitFor(async () => (await failures()) >= 1, 15_000, { what: 'the first failed probe (at a tick)' });
    // The next tick is 10 s away: down within 5 s means the second probe was the retry.
    const down = await waitFor(() => events(agent.lines, 'service.down', 'tomcat')[0], 5000, { what: 'service.down' });
    assert.match(String(down.reason), /no complete answer within 500 ms/);
    assert.equal(await failures(), 2, 'down after exactly fall (2) failed probes');
  });

  it('SIGTERM while a restart is running -> the restart finishes, state saved, exit 0', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const agent = await stage.startAgent(stage.config());
    await waitFor(() => events(agent.lines, 'service.up').length, 10_000, { what: 'up' });
    writeFileSync(join(stage.dir, 'bin', 'slow'), ''); // the restart takes 2 s
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.start').length, 10_000, { what: 'restart.start' });
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
    await waitFor(() => events(agent.lines, 'service.up').length, 10_000, { what: 'up' });
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const stop = await waitFor(() => events(agent.lines, 'keepalived.stop')[0], 15_000, { what: 'keepalived.stop' });
    assert.equal(stop.command, 'SIGTERM to keepalived main pid');
    await waitFor(async () => (await stage!.keepalivedPids()).length === 0, 15_000, { what: 'keepalived gone' });
    assert.ok(!stage.recorded().includes('keepalived-stop'));
  });

  it('--dry-run: decides and logs "would ...", runs nothing', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const agent = await stage.startAgent(stage.config(), ['--dry-run']);
    await waitFor(() => events(agent.lines, 'service.up').length, 10_000, { what: 'up' });
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const would = await waitFor(() => events(agent.lines, 'restart.start')[0], 10_000, { what: 'would restart' });
    assert.match(String(would.msg), /^would restart tomcat \(attempt 1\)/);
    assert.equal(would.dryRun, true);
    assert.deepEqual(stage.recorded(), []);
  });
});
