// restart.diagnose with the real daemon: a hung tomcat (SIGSTOP: alive, not answering)
// is diagnosed before its restart and the evidence stays in stateDir/output/; a dead one
// (SIGKILL) is restarted without a diagnosis (there is nothing left to look at).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('restart.diagnose (integration)', { skip, concurrency: false }, () => {
  let stage: Stage;
  let agent: { lines: LogLine[] };
  const trace = () => ({ log: agent?.lines.map((l) => `${l.event} ${l.reason ?? l.msg ?? ''}`) });
  const file = () => join(stage.dir, 'state', 'output', 'tomcat.diagnose-1.log');

  before(async () => {
    stage = await Stage.create();
    await stage.startServices();
    const config = stage.config({ fall: 2 });
    // The "thread dump": the hung process's /proc status, which names its pid and state.
    writeFileSync(config, readFileSync(config, 'utf8').replace('      attempts: 1\n', '      attempts: 1\n      diagnose:\n        - { command: [/bin/cat, "/proc/{pid}/status"], timeout: 5s }\n'));
    agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
  });
  after(async () => {
    await stage?.destroy();
  });

  it('tomcat hung (SIGSTOP) -> diagnosed before the restart; the output survives it and restart.start names it', async () => {
    const pid = stage.tomcatPid();
    process.kill(pid, 'SIGSTOP');
    const start = await waitFor(() => events(agent.lines, 'restart.start', 'tomcat')[0], 15_000, { what: 'restart.start', detail: trace });
    assert.deepEqual(start.diagnose, [file()]);
    const done = await waitFor(() => events(agent.lines, 'diagnose.done', 'tomcat')[0], 10_000, { what: 'diagnose.done', detail: trace });
    assert.equal(done.file, file());
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: trace });
    const out = readFileSync(file(), 'utf8');
    assert.match(out, /^State:\s+T \(stopped\)$/m, 'the hung process, as it was before the restart');
    const order = agent.lines.map((l) => l.event).filter((e) => e === 'restart.start' || e === 'diagnose.done' || e === 'action.done');
    assert.deepEqual(order.slice(0, 3), ['restart.start', 'diagnose.done', 'action.done'], 'diagnosed, then restarted');
  });

  it('tomcat killed (SIGKILL) -> restarted without a diagnosis', async () => {
    const before = events(agent.lines, 'diagnose.done').length;
    const starts = events(agent.lines, 'restart.start', 'tomcat').length;
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.start', 'tomcat')[starts], 15_000, { what: 'second restart.start', detail: trace });
    assert.equal(events(agent.lines, 'restart.start', 'tomcat')[starts]!.diagnose, undefined);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length >= 2, 15_000, { what: 'restart.ok', detail: trace });
    assert.equal(events(agent.lines, 'diagnose.done').length, before);
    assert.ok(existsSync(file()), 'the earlier evidence is still there');
  });
});
