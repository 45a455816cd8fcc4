// Issues 13.6 and 13.11: the config was read without a size or type check (`validate -c
// /dev/zero` read 5.8 GB and aborted, a FIFO hung forever), and a YAML alias bomb was
// reported without a position. Reproduced with the built CLI as root, each run bounded:
// a regression fails the test instead of hanging it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { openRootDir, requireBuilt, runCli } from './config-helpers.js';

const skip = requireRoot();
const BOUND_MS = 15_000;

describe('hardening: what the config loader reads (issues 13.6, 13.11)', { skip, concurrency: false }, () => {
  let dir: string;
  before(() => {
    requireBuilt();
    dir = openRootDir();
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const command of ['validate', 'check', 'run']) {
    it(`${command} -c /dev/zero is refused at once: a character device, not a regular file`, async () => {
      const r = await runCli([command, '-c', '/dev/zero'], BOUND_MS);
      assert.equal(r.timedOut, false, `${command} -c /dev/zero did not finish within ${BOUND_MS} ms`);
      assert.equal(r.code, command === 'check' ? 3 : 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /\/dev\/zero: refusing the config: \/dev\/zero is a character device; required: a regular file/);
    });
  }

  it('a FIFO is refused at once, not waited on (validate and check)', async () => {
    const fifo = join(dir, 'w.yaml');
    execFileSync('mkfifo', ['-m', '0644', fifo]);
    try {
      for (const command of ['validate', 'check']) {
        const r = await runCli([command, '-c', fifo], BOUND_MS);
        assert.equal(r.timedOut, false, `${command} hung on a FIFO`);
        assert.notEqual(r.code, 0);
        assert.ok((r.stdout + r.stderr).includes(`refusing the config: ${fifo} is a FIFO (named pipe); required: a regular file`), r.stdout + r.stderr);
      }
    } finally {
      rmSync(fifo, { force: true });
    }
  });

  it('a 2 MiB file is refused before it is parsed, naming its size and the limit', async () => {
    const big = join(dir, 'big.yaml');
    // valid YAML all the way (a comment), so only the size can refuse it
    writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`, { mode: 0o644 });
    const r = await runCli(['validate', '-c', big], BOUND_MS);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`refusing the config: ${big} is ${2 * 1024 * 1024 + 3} bytes; required: at most 1048576 bytes (1 MiB)`), r.stderr);
  });

  it('a YAML alias bomb ("billion laughs") is refused with file:line:column, at once', async () => {
    const bomb = join(dir, 'bomb.yaml');
    const levels = 'abcdefghi'.split('');
    const lines = [`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
    for (let i = 1; i < levels.length; i++) lines.push(`${levels[i]}: &${levels[i]} [${Array(9).fill(`*${levels[i - 1]}`).join(',')}]`);
    writeFileSync(bomb, `${lines.join('\n')}\n`, { mode: 0o644 });
    const r = await runCli(['validate', '-c', bomb], BOUND_MS);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^${bomb.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: YAML: aliases expand to more than 100000 nodes`), r.stderr);
  });
});
