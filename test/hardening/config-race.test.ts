// Issue 13.1: a user who owns the config's directory renames their own file onto the
// config's name; root then runs the commands in it. Reproduced for real: a real
// unprivileged user, a real rename loop running as that user, the built CLI (as root)
// asked again and again. The agent must refuse a directory others can write (naming it,
// its owner and mode), and must never run the user's command.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { createConfigUser, markerConfig, openRootDir, requireBuilt, runCli, type ConfigTestUser } from './config-helpers.js';

const skip = requireRoot();

// Runs as the user: swaps `evil` and the config at `path` in a loop (four renames, as
// the attack in the issue), until the file `stop` appears; prints how many swaps worked
// and how many renames were refused.
const SWAPPER = `
const fs = require('node:fs');
const [path, evil, hold, stop] = process.argv.slice(1);
let swaps = 0, refused = 0;
const deadline = Date.now() + 120000;
while (Date.now() < deadline && !fs.existsSync(stop)) {
  try {
    fs.renameSync(path, hold);
    fs.renameSync(evil, path);
    fs.renameSync(path, evil);
    fs.renameSync(hold, path);
    swaps++;
  } catch (e) {
    refused++;
    try { if (!fs.existsSync(path) && fs.existsSync(hold)) fs.renameSync(hold, path); } catch {}
  }
}
process.stdout.write(JSON.stringify({ swaps, refused }));
`;

// Runs as the user in a sticky directory it can write but whose root-owned entries it
// cannot replace: tries to rename its file onto the config's name until `stop`.
const STICKY_ATTACKER = `
const fs = require('node:fs');
const [path, evil, stop] = process.argv.slice(1);
let swaps = 0, refused = 0, errors = {};
const deadline = Date.now() + 120000;
while (Date.now() < deadline && !fs.existsSync(stop)) {
  try { fs.renameSync(evil, path); swaps++; } catch (e) { refused++; errors[e.code] = (errors[e.code] ?? 0) + 1; }
  try { fs.unlinkSync(path); swaps++; } catch (e) { refused++; errors[e.code] = (errors[e.code] ?? 0) + 1; }
}
process.stdout.write(JSON.stringify({ swaps, refused, errors }));
`;

type Attacker = { child: ReturnType<ConfigTestUser['spawn']>; out: () => string; closed: Promise<void> };

function startAttacker(user: ConfigTestUser, script: string, args: string[]): Attacker {
  const child = user.spawn([process.execPath, '-e', script, ...args]);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // e.g. EACCES: the user cannot run this node (installed under /root?); said, not thrown
  child.on('error', (e) => (out += `cannot start ${process.execPath} as ${user.name}: ${e.message}`));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, out: () => out, closed };
}

async function stopAttacker({ child, out, closed }: Attacker, stopFile: string): Promise<{ swaps: number; refused: number; errors?: Record<string, number> }> {
  writeFileSync(stopFile, '');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await closed;
  clearTimeout(t);
  try {
    return JSON.parse(out());
  } catch {
    throw new Error(`the attacker process said: ${out()}`);
  }
}

describe('hardening: the config swapped between check and read (issue 13.1)', { skip, concurrency: false }, () => {
  let user: ConfigTestUser;
  let base: string;
  before(() => {
    requireBuilt();
    user = createConfigUser();
    base = openRootDir();
  });
  after(() => {
    user?.remove();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** dir (owned by `owner`, mode) holding root's good config and the user's evil one. */
  const setup = (name: string, owner: number, mode: number) => {
    const dir = join(base, name);
    mkdirSync(dir);
    const marks = { good: join(base, `${name}-good-ran`), evil: join(base, `${name}-EVIL-ran`) };
    const stateDir = join(base, `${name}-state`);
    const path = join(dir, 'w.yaml');
    writeFileSync(path, markerConfig({ stateDir, marker: marks.good, port: 1, tag: 'good' }), { mode: 0o644 });
    const evil = join(dir, 'evil.yaml');
    writeFileSync(evil, markerConfig({ stateDir, marker: marks.evil, port: 1, tag: 'evil' }), { mode: 0o644 });
    chownSync(evil, user.uid, user.gid);
    chownSync(dir, owner, owner === 0 ? 0 : user.gid);
    chmodSync(dir, mode);
    return { dir, path, evil, marks, stop: join(base, `${name}-stop`) };
  };

  it('a config in a directory another user owns is refused: validate and check name the directory, its owner and mode, and what is required', async () => {
    const { dir, path, marks } = setup('owned', user.uid, 0o755);
    const v = await runCli(['validate', '-c', path]);
    assert.equal(v.timedOut, false);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.ok(v.stderr.includes(`the directory ${dir} is owned by ${user.name} (uid ${user.uid}), mode 0755`), v.stderr);
    assert.match(v.stderr, /required: every directory from the config up to \/ owned by root and not writable by group or others/);
    const c = await runCli(['check', '-c', path]);
    assert.equal(c.code, 3, c.stdout + c.stderr);
    assert.match(c.stderr + c.stdout, /HA-WATCHDOG UNKNOWN - .*refusing the config: the directory .* is owned by hawcfg/);
    assert.equal(existsSync(marks.good) || existsSync(marks.evil), false, 'nothing ran');
  });

  it('a group-writable directory of root (the user in that group) is refused too', async () => {
    const { dir, path } = setup('groupw', 0, 0o775);
    chownSync(dir, 0, user.gid);
    const v = await runCli(['validate', '-c', path]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.ok(v.stderr.includes(`the directory ${dir} is owned by root (uid 0), mode 0775, writable by its group and not sticky`), v.stderr);
  });

  it('the rename race: while the user swaps their file onto the path in a loop, 50 runs of check and validate are each refused, and the user\'s command never runs', async () => {
    const { dir, path, evil, marks, stop } = setup('race', user.uid, 0o755);
    const attacker = startAttacker(user, SWAPPER, [path, evil, join(dir, 'good.hold'), stop]);
    const outcomes: string[] = [];
    try {
      // 50 runs, 5 at a time, alternating validate --print and check.
      for (let batch = 0; batch < 10; batch++) {
        const runs = await Promise.all(
          [0, 1, 2, 3, 4].map((k) => {
            const i = batch * 5 + k;
            return runCli(i % 2 ? ['check', '-c', path] : ['validate', '--print', '-c', path]).then((r) => ({ i, r }));
          }),
        );
        for (const { i, r } of runs) {
          assert.equal(r.timedOut, false, `run ${i} hung`);
          const out = r.stdout + r.stderr;
          assert.doesNotMatch(out, /# evil|web-evil/, `run ${i} read the user's config:\n${out}`);
          if (/refusing the config: the directory .* is owned by hawcfg|cannot read the config/.test(out)) outcomes.push('refused');
          else if (/web-good/.test(out)) outcomes.push('good');
          else assert.fail(`run ${i}: neither refused nor the good config (exit ${r.code}):\n${out}`);
        }
        assert.equal(existsSync(marks.evil), false, `a run of batch ${batch} ran the user's command as root`);
      }
    } finally {
      const stats = await stopAttacker(attacker, stop);
      assert.ok(stats.swaps > 0, `the attack must really have run: ${JSON.stringify(stats)}`);
    }
    assert.equal(existsSync(marks.evil), false, "the user's command never ran");
    // The directory is the user's: no run may trust it, whatever it found there.
    assert.deepEqual([...new Set(outcomes)], ['refused']);
  });

  it('in a sticky directory like /tmp the user cannot replace root\'s config: every rename fails, and check runs the good config', async () => {
    const { dir, path, evil, marks, stop } = setup('sticky', 0, 0o1777);
    const attacker = startAttacker(user, STICKY_ATTACKER, [path, evil, stop]);
    try {
      for (let i = 0; i < 12; i++) {
        const r = await runCli(i % 4 === 3 ? ['check', '-c', path] : ['validate', '--print', '-c', path]);
        assert.equal(r.timedOut, false);
        assert.match(r.stdout, /web-good/, `run ${i} (exit ${r.code}) did not read the good config:\n${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stdout + r.stderr, /web-evil/);
      }
    } finally {
      const stats = await stopAttacker(attacker, stop);
      assert.equal(stats.swaps, 0, `the user replaced root's file in ${dir}: ${JSON.stringify(stats)}`);
      assert.ok(stats.refused > 0 && (stats.errors?.EPERM ?? 0) > 0, JSON.stringify(stats));
    }
    assert.equal(existsSync(marks.good), true, 'check ran the good config (keepalived start)');
    assert.equal(existsSync(marks.evil), false);
  });
});
