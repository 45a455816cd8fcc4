// Issue 13, part 2: root files written through symlinks. A real unprivileged user plants
// symlinks (at every name the agent used to write: state.json.tmp-<pid>, pids.json.tmp-<pid>,
// lock.<pid>, output/<service>.restart.log, $TMPDIR/ha-watchdog-output) and swaps the
// control socket; the built CLI, run as root in a pid namespace with a fake tomcat and
// keepalived, must refuse or survive, and the root-owned target must not change.
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { sleep } from '../helpers/pidns.js';
import { CLI, events, Stage, type LogLine } from '../helpers/stage.js';
import { configWithStateDir, createUser, killTomcat, makeDir, openDir, rootDir, RootFile, type TestUser } from './state-helpers.js';

const skip = requireRoot();

/** Every name the agent wrote with a plain open('w') before, for the pids a namespace gives out first. */
function plantEverywhere(user: TestUser, stateDir: string, target: string): void {
  const code = `const fs = require('fs'); const t = ${JSON.stringify(target)}; process.chdir(${JSON.stringify(stateDir)});
for (let p = 1; p <= 300; p++) for (const n of ['state.json.tmp-' + p, 'pids.json.tmp-' + p, 'lock.' + p]) fs.symlinkSync(t, n);
fs.symlinkSync(t, 'state.json'); fs.symlinkSync(t, 'pids.json');
fs.mkdirSync('output', { mode: 0o777 }); fs.chmodSync('output', 0o777);
fs.symlinkSync(t, 'output/tomcat.restart.log'); fs.symlinkSync(t, 'output/keepalived.stop.log');`;
  user.run([process.execPath, '-e', code]);
}

describe('hardening: symlinks and a stateDir another user can write (integration)', { skip, concurrency: false }, () => {
  let user: TestUser;
  let secretDir: string;
  const dirs: string[] = [];
  let stage: Stage | undefined;
  before(() => {
    user = createUser();
    secretDir = rootDir('haw-secret-');
    dirs.push(secretDir);
  });
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
  });
  after(async () => {
    user?.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a stateDir owned by another user, full of their symlinks: check exits 3 and run exits 1, naming path, owner and mode; nothing acted on, the root file untouched', async () => {
    const target = new RootFile(secretDir, 'shadow-1');
    const base = openDir();
    dirs.push(base);
    const stateDir = makeDir(join(base, 'state'), 0o755, user.uid, user.gid);
    plantEverywhere(user, stateDir, target.path);
    stage = await Stage.create();
    const config = configWithStateDir(stage, stateDir);
    await stage.startServices();
    await killTomcat(stage); // something to act on, were it to act

    const check = await stage.cli(['check', '-c', config, '--json']);
    assert.equal(check.code, 3, check.stdout + check.stderr);
    const report = JSON.parse(check.stdout);
    const required = new RegExp(`stateDir ${stateDir} is owned by uid ${user.uid} \\(${user.name}\\) with mode 0755.*must be a directory owned by uid 0 \\(root\\), not writable by group or others`);
    assert.match(report.note, required);

    const run = await stage.startAgent(config);
    assert.equal(await run.exited, 1);
    const refused = run.lines.find((l) => /refused: stateDir/.test(String(l.reason ?? '')));
    assert.ok(refused, JSON.stringify(run.lines));
    assert.match(String(refused!.reason), required);

    target.assertUntouched();
    assert.deepEqual(stage.recorded(), [], 'no action was taken');
    assert.equal(readlinkSync(join(stateDir, 'state.json')), target.path, "the user's symlink is left as it was (not followed, not ours)");
    assert.ok(!readdirSync(stateDir).includes('lock'), 'no lock taken in it');
  });

  it('a root-owned stateDir writable by others (0777), or inside a directory another user owns: refused', async () => {
    const target = new RootFile(secretDir, 'shadow-2');
    const base = openDir();
    dirs.push(base);
    const wide = makeDir(join(base, 'wide'), 0o777);
    plantEverywhere(user, wide, target.path);
    const userParent = makeDir(join(base, 'theirs'), 0o755, user.uid, user.gid);
    const inside = makeDir(join(userParent, 'state'), 0o700);
    stage = await Stage.create();
    await stage.startServices();

    const a = await stage.cli(['check', '-c', configWithStateDir(stage, wide), '--json']);
    assert.equal(a.code, 3, a.stdout);
    assert.match(JSON.parse(a.stdout).note, new RegExp(`stateDir ${wide} is owned by uid 0 \\(root\\) with mode 0777`));

    const b = await stage.cli(['check', '-c', configWithStateDir(stage, inside), '--json']);
    assert.equal(b.code, 3, b.stdout);
    assert.match(JSON.parse(b.stdout).note, new RegExp(`stateDir ${inside}: its parent ${userParent} is owned by uid ${user.uid} \\(${user.name}\\) with mode 0755: another user could replace stateDir`));
    assert.deepEqual(readdirSync(inside), [], 'nothing written in it');
    target.assertUntouched();
  });

  it('a control socket swapped in by another user: pause refuses to talk to it (exit 3) instead of printing "paused"', async () => {
    const base = openDir();
    dirs.push(base);
    const stateDir = makeDir(join(base, 'state'), 0o755, user.uid, user.gid);
    const sock = join(stateDir, 'control.sock');
    const log = join(stateDir, 'connections');
    // The user's fake daemon: says yes to anything, and notes every connection.
    const fake = user.spawn([
      process.execPath,
      '-e',
      `const fs=require('fs');require('net').createServer((s)=>{fs.appendFileSync(${JSON.stringify(log)},'x');s.on('data',()=>s.end(JSON.stringify({ok:true,persisted:true,maintenance:{paused:true,since:new Date().toISOString(),until:null,reason:'fake'}})+'\\n'))}).listen(${JSON.stringify(sock)},()=>{fs.chmodSync(${JSON.stringify(sock)},0o666);console.log('up')})`,
    ]);
    try {
    await new Promise((r) => fake.stdout!.once('data', r));
    stage = await Stage.create();
    const config = configWithStateDir(stage, stateDir);
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [CLI, 'pause', '-c', config, '--reason', 'deploy'], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'nothing claims it paused');
    assert.match(r.stderr, new RegExp(`refusing to talk to ${sock}: stateDir ${stateDir} is owned by uid ${user.uid}.*it may not be the daemon's socket`));
    const st = spawnSync(process.execPath, [CLI, 'status', '-c', config, '--json'], { encoding: 'utf8' });
    assert.equal(st.status, 3);
    assert.match(JSON.parse(st.stdout).error, /refusing to talk to/);
    await sleep(100);
    assert.throws(() => readFileSync(log), /ENOENT/, 'the fake daemon was never even connected to');
    } finally {
      fake.kill('SIGKILL');
    }
  });

  it('stateDir/output cannot be created: no fallback to $TMPDIR/ha-watchdog-output (where a user planted a symlink); the restart runs, works, and its output is discarded', async () => {
    const target = new RootFile(secretDir, 'shadow-3');
    const sharedTmp = makeDir(join(openDir(), 'tmp'), 0o1777);
    dirs.push(join(sharedTmp, '..'));
    user.run(['/bin/bash', '-c', `mkdir -m 0777 ${sharedTmp}/ha-watchdog-output && ln -s ${target.path} ${sharedTmp}/ha-watchdog-output/tomcat.restart.log`]);
    stage = await Stage.create();
    const config = stage.config();
    const stateDir = join(stage.dir, 'state');
    makeDir(stateDir, 0o700);
    writeFileSync(join(stateDir, 'output'), 'not a directory'); // mkdir output fails (EEXIST, not a dir)
    await stage.startServices();
    // the restart script writes to its stdout and fails if it cannot
    const script = join(stage.dir, 'bin', 'tomcat-restart');
    writeFileSync(script, readFileSync(script, 'utf8').replace('#!/bin/bash\n', '#!/bin/bash\necho "restarting tomcat" || exit 9\n'));
    await killTomcat(stage);
    const r = await stage.ns.run(['node', CLI, 'check', '-c', config, '--json'], { ...stage.env, TMPDIR: sharedTmp });
    const report = JSON.parse(r.stdout);
    assert.equal(r.code, 1, r.stdout);
    assert.match(JSON.stringify(report.services.tomcat), /"health":"up"/);
    const done = (report.log as LogLine[]).find((l) => l.event === 'action.done' && l.service === 'tomcat');
    assert.ok(done, JSON.stringify(report.log));
    assert.match(String(done!.output), /\[output not kept: output directory .*\/state\/output is not a directory.*; the command runs with its output discarded/);
    target.assertUntouched();
    assert.deepEqual(readdirSync(join(sharedTmp, 'ha-watchdog-output')), ['tomcat.restart.log'], 'nothing new in the shared temp directory');
    assert.ok(lstatSync(join(sharedTmp, 'ha-watchdog-output', 'tomcat.restart.log')).isSymbolicLink());
    assert.deepEqual(stage.recorded(), ['tomcat-restart']);
  });

  it('in root\'s own stateDir, symlinks at state.json, pids.json and output/<service>.restart.log are not followed: set aside or replaced, the shadow-like target untouched and never quoted', async () => {
    const target = new RootFile(secretDir, 'shadow-4');
    stage = await Stage.create();
    const config = stage.config();
    const stateDir = makeDir(join(stage.dir, 'state'), 0o700);
    makeDir(join(stateDir, 'output'), 0o700);
    symlinkSync(target.path, join(stateDir, 'state.json'));
    symlinkSync(target.path, join(stateDir, 'pids.json'));
    symlinkSync(target.path, join(stateDir, 'output', 'tomcat.restart.log'));
    await stage.startServices();
    await killTomcat(stage);
    const r = await stage.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /SECRET|root:\$y\$/, 'the target\'s content is never read into the log');
    const log = JSON.parse(r.stdout).log as LogLine[];
    const corrupt = events(log, 'state.corrupt')[0];
    assert.ok(corrupt, JSON.stringify(log));
    assert.match(String(corrupt.reason), /state\.json: is a symbolic link; not following it; set aside as .*state\.json\.corrupt-\d+; starting fresh/);
    target.assertUntouched();
    const aside = readdirSync(stateDir).find((f) => f.startsWith('state.json.corrupt-'))!;
    assert.equal(readlinkSync(join(stateDir, aside)), target.path, 'the symlink itself was set aside');
    for (const f of ['state.json', 'pids.json', 'output/tomcat.restart.log']) {
      const st = lstatSync(join(stateDir, f));
      assert.ok(st.isFile(), `${f} is now a regular file of the agent's`);
      assert.equal(st.mode & 0o777, 0o600, f);
      assert.equal(st.uid, 0, f);
    }
    assert.match(readFileSync(join(stateDir, 'output', 'tomcat.restart.log'), 'utf8'), /^$/);
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).services.tomcat.health, 'up');
  });

  it('a state.json holding another file\'s content (a copy of a shadow file): set aside, the log line gives the shape error only', async () => {
    stage = await Stage.create();
    const config = stage.config();
    const stateDir = makeDir(join(stage.dir, 'state'), 0o700);
    writeFileSync(join(stateDir, 'state.json'), 'root:$y$j9T$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n', { mode: 0o600 });
    await stage.startServices();
    const r = await stage.cli(['check', '-c', config, '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /SECRET|root:\$y\$/);
    const corrupt = events(JSON.parse(r.stdout).log, 'state.corrupt')[0]!;
    assert.match(String(corrupt.reason), /state\.json: not JSON( \(at byte \d+\))?; set aside as /);
  });

  it('state.json of another owner, a FIFO, or bigger than 4 MiB: set aside without reading it (no hang, no content)', async () => {
    stage = await Stage.create();
    const config = stage.config();
    const stateDir = makeDir(join(stage.dir, 'state'), 0o700);
    await stage.startServices();
    const { execFileSync } = await import('node:child_process');
    const cases: Array<[string, () => void, RegExp]> = [
      [
        'owner',
        () => {
          writeFileSync(join(stateDir, 'state.json'), JSON.stringify({ version: 1, services: {}, keepalived: { phase: 'idle', failedOver: true } }));
          execFileSync('chown', [`${user.uid}:${user.gid}`, join(stateDir, 'state.json')]);
        },
        new RegExp(`is owned by uid ${user.uid} \\(${user.name}\\), not by uid 0 \\(root\\)`),
      ],
      ['fifo', () => execFileSync('mkfifo', [join(stateDir, 'state.json')]), /is not a regular file \(a FIFO\)/],
      ['size', () => writeFileSync(join(stateDir, 'state.json'), `{"version":1,"junk":"${'x'.repeat(5 * 1024 * 1024)}"}`), /is \d+ bytes, more than the 4194304 allowed/],
    ];
    for (const [name, make, reason] of cases) {
      rmSync(join(stateDir, 'state.json'), { force: true });
      make();
      const started = Date.now();
      const r = await stage.cli(['check', '-c', config, '--json']);
      assert.ok(Date.now() - started < 20_000, name);
      assert.equal(r.code, 0, `${name}: ${r.stdout}`);
      const corrupt = events(JSON.parse(r.stdout).log, 'state.corrupt')[0];
      assert.match(String(corrupt?.reason), reason, name);
      assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).keepalived.release.active, false, `${name}: a fresh state of the agent's`);
    }
  });
});
