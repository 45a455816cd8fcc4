// The agent SIGKILLed in the middle of a restart and started again: it reads its state,
// does not repeat the restart that was in flight, keeps the budget, takes over its lock.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('ha-watchdog run: killed mid-restart (integration)', { skip }, () => {
  let stage: Stage | undefined;
  after(async () => stage?.destroy());

  it('restarted agent resumes: no repeated restart, budget kept, stale lock taken over', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const config = stage.config({ grace: '20s' });
    const first = await stage.startAgent(config);
    await waitFor(() => events(first.lines, 'service.up').length, 10_000, { what: 'up' });
    writeFileSync(join(stage.dir, 'bin', 'slow'), ''); // the restart takes 2 s
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const statePath = join(stage.dir, 'state', 'state.json');
    const spawned = () => {
      try {
        return JSON.parse(readFileSync(statePath, 'utf8')).services.tomcat.last?.pid;
      } catch {
        return undefined;
      }
    };
    await waitFor(spawned, 10_000, { what: 'the restart command spawned' });
    process.kill(first.pid, 'SIGKILL'); // mid-restart: the command goes on without the agent
    await first.exited;
    const saved = JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8'));
    assert.equal(saved.services.tomcat.phase, 'restarting');

    const second = await stage.startAgent(config);
    const trace = () => second.lines.map((l) => `${l.event} ${l.reason ?? l.msg ?? ''}`);
    await waitFor(() => events(second.lines, 'lock.stale').length, 10_000, { what: 'lock.stale', detail: trace });
    const resumed = await waitFor(() => events(second.lines, 'state.resumed')[0], 10_000, { what: 'state.resumed', detail: trace });
    assert.match(String(resumed.reason), /was in flight when the agent stopped and (still runs|has ended); not repeating it/);
    await waitFor(() => events(second.lines, 'restart.ok', 'tomcat').length, 20_000, { what: 'restart.ok', detail: trace });
    assert.deepEqual(stage.recorded(), ['tomcat-restart'], 'the restart ran once');
    assert.equal(events(second.lines, 'restart.start').length, 0);
    const state = JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8'));
    assert.equal(state.services.tomcat.restarts.length, 1, 'the restart still counts against the budget');
  });
});
