// Command delivery for real: the JSON arrives on stdin, the environment carries no
// NOTIFY_SOCKET, and a failing, missing or hanging command is a failure with its reason.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AlertCommand } from '../../src/alerts/command.js';

const dir = mkdtempSync(join(tmpdir(), 'haw-alert-cmd-'));
const script = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
};
const command = (argv: string[], timeout = 5000) => new AlertCommand({ command: argv, timeout }, { stateDir: dir });

describe('alerts: command', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gets the event JSON on stdin, and an environment without NOTIFY_SOCKET', async () => {
    const got = join(dir, 'stdin.json');
    const env = join(dir, 'env.txt');
    const saved = process.env.NOTIFY_SOCKET;
    process.env.NOTIFY_SOCKET = '/run/systemd/notify';
    try {
      const body = JSON.stringify({ event: 'failover', host: 'lb1', services: ['tomcat'], reason: "it's \"down\"; $(rm -rf /)" });
      // argv, no shell of ours: sh here is the test's own choice of program
      const r = await command(['/bin/sh', '-c', 'cat > "$1"; env > "$2"', 'sh', got, env]).run(body);
      assert.deepEqual([r.ok, r.attempts, r.reason], [true, 1, undefined]);
      assert.deepEqual(JSON.parse(readFileSync(got, 'utf8')), JSON.parse(body));
      assert.doesNotMatch(readFileSync(env, 'utf8'), /^NOTIFY_SOCKET=/m);
    } finally {
      if (saved === undefined) delete process.env.NOTIFY_SOCKET;
      else process.env.NOTIFY_SOCKET = saved;
    }
  });

  it('a non-zero exit is a failure with the code and what the command said', async () => {
    const r = await command([script('fail', 'cat >/dev/null; echo "mail relay refused" >&2; exit 3')]).run('{}');
    assert.deepEqual([r.ok, r.reason], [false, 'exit code 3, expected 0; output: mail relay refused']);
  });

  it('a command that ignores stdin still counts by its exit code', async () => {
    const r = await command(['/bin/true']).run(JSON.stringify({ pad: 'x'.repeat(200_000) }));
    assert.equal(r.ok, true);
  });

  it('a missing program is a failure (ENOENT), not a crash', async () => {
    const r = await command(['/nonexistent/alert-me']).run('{}');
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^ENOENT: .*\/nonexistent\/alert-me/);
  });

  it('a command that hangs is stopped at its timeout', async () => {
    const t = performance.now();
    const r = await command([script('hang', 'exec sleep 30')], 300).run('{}');
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^timed out after 300 ms/);
    assert.ok(performance.now() - t < 3000);
  });
});
