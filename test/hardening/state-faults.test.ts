// Issue 13, parts 7, 8 and 9: a bad day for stateDir. On a real tmpfs remounted
// read-only, a real 64 KiB tmpfs filled up, and SIGTERM in the middle of a restart, the
// built CLI against a fake tomcat and keepalived must survive (exit 0, a warning), never
// count a working restart as failed, and save how a restart ended.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, Stage } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';
import { configWithStateDir, killTomcat, Tmpfs } from './state-helpers.js';

const skip = requireRoot();

/** Replaces the stage's tomcat-restart script body (keeping the shebang). */
function restartScript(stage: Stage, prefix: string): void {
  const script = join(stage.dir, 'bin', 'tomcat-restart');
  writeFileSync(script, readFileSync(script, 'utf8').replace('#!/bin/bash\n', `#!/bin/bash\n${prefix}\n`));
}

describe('hardening: a read-only, full or vanished stateDir, SIGTERM mid-restart (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  let fs: Tmpfs | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
    fs?.cleanup();
    fs = undefined;
  });

  it('stateDir remounted read-only under a running agent: a restart still works; SIGTERM exits 0 with a warning, no crash', async () => {
    fs = new Tmpfs('1m');
    stage = await Stage.create();
    const config = configWithStateDir(stage, fs.dir);
    await stage.startServices();
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    await fs.readOnly(stage);
    const probe = await stage.ns.run(['touch', join(fs.dir, 'probe')]);
    assert.notEqual(probe.code, 0, 'the stateDir is read-only inside the namespace too');
    restartScript(stage, 'echo "restarting tomcat" || exit 9');
    await killTomcat(stage);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: () => agent.lines });
    const done = events(agent.lines, 'action.done', 'tomcat')[0]!;
    assert.match(String(done.output), /\[output not kept: cannot create .*tomcat\.restart\.log: (EROFS|ENOENT)/);
    assert.ok(events(agent.lines, 'state.write_failed').length > 0);
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    const warn = events(agent.lines, 'lock.release_failed')[0];
    assert.equal(warn?.level, 'warn', JSON.stringify(agent.lines.slice(-8)));
    assert.match(String(warn?.reason), /cannot remove .*\/lock: EROFS/);
    assert.equal(events(agent.lines, 'agent.stop').length, 1);
    assert.deepEqual(agent.lines.filter((l) => l.level === 'stderr'), [], 'nothing uncaught');
    assert.deepEqual(stage.recorded(), ['tomcat-restart'], 'no failover');

    // Started on it: run refuses (exit 1) naming the cause, check reports read-only (exit 3).
    const again = await stage.startAgent(config);
    assert.equal(await again.exited, 1);
    assert.ok(again.lines.some((l) => /EROFS/.test(String(l.reason ?? ''))), JSON.stringify(again.lines));
    const check = await stage.cli(['check', '-c', config, '--json']);
    assert.equal(check.code, 3, check.stdout);
    assert.match(JSON.parse(check.stdout).note, /read-only: lock .*EROFS/);
  });

  it('stateDir removed under a running agent: SIGTERM exits 0 and the state is saved again (in a new 0700 stateDir)', async () => {
    stage = await Stage.create();
    const config = stage.config();
    await stage.startServices();
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    const stateDir = join(stage.dir, 'state');
    // Gone at once (an rm -r races the agent's own writes); removed for good after.
    renameSync(stateDir, `${stateDir}.gone`);
    rmSync(`${stateDir}.gone`, { recursive: true, force: true });
    await killTomcat(stage);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: () => agent.lines });
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.deepEqual(agent.lines.filter((l) => l.level === 'stderr'), []);
    const saved = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    assert.equal(saved.services.tomcat.restarts.length, 1);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
  });

  it('a full stateDir (64 KiB tmpfs, filled): a restart script that writes output still succeeds; no failover', async () => {
    fs = new Tmpfs('64k');
    stage = await Stage.create();
    const config = configWithStateDir(stage, fs.dir, { grace: '5s' });
    await stage.startServices();
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    fs.fill();
    assert.equal(fs.freeBytes(), 0, 'the tmpfs is full');
    // 8 KB on stdout, and the script fails if it cannot write them (as `set -e` scripts do).
    restartScript(stage, `head -c 8192 /dev/zero | tr '\\0' x || exit 9\necho || exit 9`);
    await killTomcat(stage);
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: () => agent.lines });
    assert.equal(events(agent.lines, 'action.failed').length, 0, JSON.stringify(events(agent.lines, 'action.failed')));
    const done = events(agent.lines, 'action.done', 'tomcat')[0]!;
    assert.match(String(done.output), /\[output not kept: .* has \d+ bytes free, less than 1048576; the command runs with its output discarded/);
    assert.deepEqual(stage.recorded(), ['tomcat-restart'], 'no failover');
    // Space again: the memory is saved at exit.
    rmSync(join(fs.dir, 'filler'));
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(JSON.parse(readFileSync(join(fs.dir, 'state.json'), 'utf8')).services.tomcat.restarts.length, 1);
  });

  it('SIGTERM while a restart runs that then fails: the failure is saved (not "restarting"), and the next agent fails over at once instead of waiting out the 90 s grace', async () => {
    stage = await Stage.create();
    const config = stage.config({ grace: '90s', attempts: 1 });
    await stage.startServices();
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    // The restart takes 2 s and fails (tomcat does not come back).
    const script = join(stage.dir, 'bin', 'tomcat-restart');
    writeFileSync(script, '#!/bin/bash\nsleep 2\necho "tomcat10.service: start failed" >&2\nexit 1\n');
    await killTomcat(stage);
    await waitFor(() => events(agent.lines, 'restart.start', 'tomcat').length, 10_000, { what: 'restart.start', detail: () => agent.lines });
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    assert.equal(events(agent.lines, 'action.failed', 'tomcat').length, 1);
    assert.equal(events(agent.lines, 'service.failed', 'tomcat').length, 1, 'the outcome went through the policy');
    const saved = JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8')).services.tomcat;
    assert.equal(saved.phase, 'idle');
    assert.equal(saved.failed, true);
    assert.equal(saved.last.ok, false);
    assert.match(saved.last.reason, /exit code 1/);
    assert.equal(saved.restarts.length, 1);

    const started = Date.now();
    const next = await stage.startAgent(config);
    await waitFor(() => stage!.recorded().includes('keepalived-stop'), 20_000, { what: 'failover (keepalived-stop)', detail: () => next.lines });
    assert.ok(Date.now() - started < 20_000);
    assert.equal(events(next.lines, 'state.resumed').length, 0, 'nothing was left in flight');
    process.kill(next.pid, 'SIGTERM');
    assert.equal(await next.exited, 0);
  });

  it('SIGTERM while a restart runs that then works: saved in grace from when it finished, and the next agent says restart.ok without a resumed grace', async () => {
    stage = await Stage.create();
    const config = stage.config({ grace: '90s' });
    await stage.startServices();
    const agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 10_000, { what: 'service.up', detail: () => agent.lines });
    writeFileSync(join(stage.dir, 'bin', 'slow'), ''); // the restart takes 2 s
    await killTomcat(stage);
    await waitFor(() => events(agent.lines, 'restart.start', 'tomcat').length, 10_000, { what: 'restart.start', detail: () => agent.lines });
    process.kill(agent.pid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    const saved = JSON.parse(readFileSync(join(stage.dir, 'state', 'state.json'), 'utf8')).services.tomcat;
    assert.equal(saved.phase, 'grace');
    assert.equal(saved.last.ok, true);
    assert.equal(saved.graceUntil, saved.last.finishedAt + 90_000);
    const next = await stage.startAgent(config);
    await waitFor(() => events(next.lines, 'restart.ok', 'tomcat').length, 10_000, { what: 'restart.ok', detail: () => next.lines });
    assert.equal(events(next.lines, 'state.resumed').length, 0);
    process.kill(next.pid, 'SIGTERM');
    assert.equal(await next.exited, 0);
    assert.equal(existsSync(join(stage.dir, 'state', 'lock')), false);
  });
});
