import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireLock, lockFile } from '../../src/agent/lock.js';
import { readStat } from '../../src/probes/proc.js';

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
      `import { acquireLock } from ${JSON.stringify(join(here, '../../src/agent/lock.ts'))};
const r = acquireLock(${JSON.stringify(d)}, 'racer');
console.log(r.ok ? 'won' : 'lost');
setTimeout(() => { if (r.ok) r.release(); }, 1500);`,
    );
    const tsx = join(here, '../../node_modules/.bin/tsx');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((res) => execFile(tsx, [racer], (_e, out) => res(out.trim())))),
    );
    assert.equal(results.filter((x) => x === 'won').length, 1, results.join(','));
    rmSync(d, { recursive: true });
  });
});
