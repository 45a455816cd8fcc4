// Issue 13, parts 3 and 11: a state.json of the wrong shape was fatal (every `check`
// exit 3, `run` dead at start leaving its lock) or silently stopped every poll
// (`poll.error`); a 50 MB unknown key was carried and rewritten forever. With the built
// CLI against a fake tomcat and keepalived: the state is set aside with the shape error
// only, the agent starts fresh and acts; unknown keys are gone after the first save.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';
import { killTomcat, makeDir } from './state-helpers.js';

const skip = requireRoot();

describe('hardening: a wrongly shaped or bloated state.json (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
  });
  const setup = async (state: string) => {
    stage = await Stage.create();
    const config = stage.config();
    const stateDir = makeDir(join(stage.dir, 'state'), 0o700);
    writeFileSync(join(stateDir, 'state.json'), state, { mode: 0o600 });
    await stage.startServices();
    return { s: stage, config, stateDir };
  };

  it('"keepalived": null -> check is not UNKNOWN: set aside with the shape error, a fresh state saved; run starts, acts, stops and releases its lock', async () => {
    const { s, config, stateDir } = await setup('{"version":1,"services":{},"keepalived":null}');
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    const corrupt = events(report.log, 'state.corrupt')[0];
    assert.match(String(corrupt?.reason), /state\.json: not a version-1 state: keepalived: .*expected object, received null; set aside as .*state\.json\.corrupt-\d+; starting fresh/);
    assert.equal(readdirSync(stateDir).filter((f) => f.startsWith('state.json.corrupt-')).length, 1);
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).keepalived.phase, 'idle');

    writeFileSync(join(stateDir, 'state.json'), '{"version":1,"services":{},"keepalived":null}');
    const agent = await s.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    await killTomcat(s);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: () => agent.lines });
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(events(agent.lines, 'state.corrupt').length, 1);
    assert.equal(events(agent.lines, 'poll.error').length, 0);
    assert.equal(existsSync(join(stateDir, 'lock')), false, 'the lock is released');
  });

  it('"services": {"tomcat": "x"}, "keepalived": {} -> no poll.error: the agent polls and restarts a killed tomcat', async () => {
    const { s, config } = await setup('{"version":1,"services":{"tomcat":"x"},"keepalived":{}}');
    const agent = await s.startAgent(config);
    const corrupt = await waitFor(() => events(agent.lines, 'state.corrupt')[0], 10_000, { what: 'state.corrupt', detail: () => agent.lines });
    assert.match(String(corrupt.reason), /not a version-1 state: services\.tomcat: .*expected object, received string; keepalived\.phase: /);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    await killTomcat(s);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: () => agent.lines });
    assert.equal(events(agent.lines, 'poll.error').length, 0);
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('unknown keys (3 MB of them) are dropped at the first save; what the memory knew is kept', async () => {
    const now = Date.now();
    const junk = 'x'.repeat(3 * 1024 * 1024);
    const state = {
      version: 1,
      junk,
      services: { tomcat: { health: 'up', good: 3, bad: 0, phase: 'idle', attempt: 0, failed: false, restarts: [now - 60_000], startMs: 4321, startFrom: 'restart', startAt: now - 50_000, extra: junk.slice(0, 1000) } },
      keepalived: { phase: 'idle', failedOver: false, handoverMs: 850, more: { deep: true } },
    };
    const { s, config, stateDir } = await setup(JSON.stringify(state));
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(events(JSON.parse(r.stdout).log, 'state.corrupt').length, 0, 'a state with extra keys is not corrupt');
    const file = join(stateDir, 'state.json');
    assert.ok(statSync(file).size < 4096, `state.json is ${statSync(file).size} bytes`);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(saved.junk, undefined);
    assert.equal(saved.services.tomcat.extra, undefined);
    assert.equal(saved.keepalived.more, undefined);
    assert.deepEqual([saved.services.tomcat.restarts, saved.services.tomcat.startMs, saved.keepalived.vip.handoverMs], [[now - 60_000], 4321, 850]);
  });

  it('a 50 MB state.json is set aside unread (more than the 4 MiB a state can be): the check is quick and writes a small state', async () => {
    const { s, config, stateDir } = await setup(`{"version":1,"services":{},"keepalived":{"phase":"idle","failedOver":false},"junk":"${'x'.repeat(50 * 1024 * 1024)}"}`);
    const started = Date.now();
    const r = await s.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 0, r.stdout.slice(0, 2000));
    assert.ok(Date.now() - started < 10_000);
    assert.match(String(events(JSON.parse(r.stdout).log, 'state.corrupt')[0]?.reason), /is 524288\d\d bytes, more than the 4194304 allowed; set aside as /);
    assert.ok(statSync(join(stateDir, 'state.json')).size < 4096);
  });
});
