import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireLock, lockFile } from '../../src/agent/lock.js';
import { readStat } from '../../src/os/proc.js';

describe('agent: lock', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'haw-lock-'));

  it('taken, refused to a second taker while held (naming the owner), free again after release', () => {
    const d = dir();
    const a = acquireLock(d, 'ha-watchdog run');
    assert.ok(a.ok);
    const b = acquireLock(d, 'ha-watchdog check');
    assert.ok(!b.ok);
    assert.equal(b.reason, `held by ha-watchdog run (pid ${process.pid})`);
    a.release();
    assert.equal(existsSync(lockFile(d)), false);
    const c = acquireLock(d, 'ha-watchdog check');
    assert.ok(c.ok);
    c.release();
    rmSync(d, { recursive: true });
  });

  it('a stale lock (dead pid) is taken over and reported', () => {
    const d = dir();
    writeFileSync(lockFile(d), JSON.stringify({ pid: 999_999, startTime: 5, command: 'ha-watchdog run' }));
    const r = acquireLock(d, 'ha-watchdog check');
    assert.ok(r.ok);
    assert.equal(r.tookOverFrom?.pid, 999_999);
    r.release();
    rmSync(d, { recursive: true });
  });

  it('a lock whose pid was reused by another process (start time differs) is stale', () => {
    const d = dir();
    const mine = readStat(process.pid)!;
    writeFileSync(lockFile(d), JSON.stringify({ pid: process.pid, startTime: mine.startTime - 1, command: 'ha-watchdog run' }));
    assert.ok(acquireLock(d, 'x').ok);
    rmSync(d, { recursive: true });
  });

  it('a garbage lock file is stale', () => {
    const d = dir();
    writeFileSync(lockFile(d), 'garbage');
    assert.ok(acquireLock(d, 'x').ok);
    rmSync(d, { recursive: true });
  });

  it('many processes racing over a stale lock: exactly one wins', async () => {
    const d = dir();
    writeFileSync(lockFile(d), JSON.stringify({ pid: 999_999, startTime: 5, command: 'dead' }));
    const here = fileURLToPath(new URL('.', import.meta.url));
    const racer = join(d, 'racer.mts');
    writeFileSync(
      racer,
      `import { existsSync } from 'node:fs';\nimport { acquireLock } from ${JSON.stringify(join(here, '../../src/agent/lock.ts'))};
const r = acquireLock(${JSON.stringify(d)}, 'racer');
console.log(r.ok ? 'won' : 'lost');
// The winner holds the lock until every racer has tried (a slow machine starts them far apart).
const t = setInterval(() => { if (existsSync(${JSON.stringify(join(d, 'all-tried'))})) { clearInterval(t); if (r.ok) r.release(); } }, 50);`,
    );
    const tsx = join(here, '../../node_modules/.bin/tsx');
    const exited: Array<Promise<void>> = [];
    const results = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((res) => {
        const c = execFile(tsx, [racer], { timeout: 60_000 }, () => {});
        exited.push(new Promise((done) => c.once('exit', () => done())));
        c.stdout!.once('data', (out) => res(String(out).trim()));
      })),
    );
    writeFileSync(join(d, 'all-tried'), '');
    await Promise.all(exited);
    assert.equal(results.filter((x) => x === 'won').length, 1, results.join(','));
    rmSync(d, { recursive: true });
  });

  it('a stateDir others can write to is refused (unsafe), naming path, owner and mode; nothing written in it', () => {
    const d = dir();
    chmodSync(d, 0o777);
    const r = acquireLock(d, 'ha-watchdog run');
    assert.ok(!r.ok);
    assert.equal(r.unsafe, true);
    assert.match(r.reason, new RegExp(`^refused: stateDir ${d} is owned by uid ${process.getuid!()}.* with mode 0777: another user could plant files or symlinks in it; it must be a directory owned by`));
    assert.deepEqual(readdirSync(d), []);
    rmSync(d, { recursive: true });
  });

  it('a missing stateDir is created 0700', () => {
    const d = dir();
    const sd = join(d, 'a', 'b');
    const r = acquireLock(sd, 'x');
    assert.ok(r.ok);
    assert.equal(lstatSync(sd).mode & 0o777, 0o700);
    r.release();
    rmSync(d, { recursive: true });
  });

  it('a symlink planted at lock.<pid> is not written through', () => {
    const d = dir();
    writeFileSync(join(d, 'target'), 'precious');
    symlinkSync(join(d, 'target'), join(d, `lock.${process.pid}`));
    const r = acquireLock(d, 'x');
    assert.ok(r.ok);
    assert.equal(readFileSync(join(d, 'target'), 'utf8'), 'precious');
    assert.ok(lstatSync(lockFile(d)).isFile());
    r.release();
    rmSync(d, { recursive: true });
  });

  it('release never throws: the stateDir gone, or the lock not removable', () => {
    const d = dir();
    const r = acquireLock(d, 'x');
    assert.ok(r.ok);
    rmSync(d, { recursive: true });
    assert.deepEqual(r.release(), { released: true });
  });

  it('taking the lock removes temp files a killed writer left (older than 10 minutes), not fresh ones', () => {
    const d = dir();
    const old = join(d, `state.json.tmp-123-${'a'.repeat(12)}`);
    const fresh = join(d, `pids.json.tmp-124-${'b'.repeat(12)}`);
    writeFileSync(old, '{}');
    writeFileSync(fresh, '{}');
    const past = new Date(Date.now() - 11 * 60_000);
    utimesSync(old, past, past);
    const r = acquireLock(d, 'x');
    assert.ok(r.ok);
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(fresh), true);
    r.release();
    rmSync(d, { recursive: true });
  });
});
