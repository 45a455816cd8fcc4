// Commands run for real: exit codes, missing programs, timeouts that reach the whole
// process group, bounded output, and daemons that keep stdout open.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../../src/actions/command.js';
import { readStat, isDead } from '../../src/os/proc.js';
import { sleep } from '../helpers/pidns.js';

const dir = mkdtempSync(join(tmpdir(), 'haw-cmd-'));
const run = (command: string[], timeout = 5000) => runCommand({ command, timeout }, { stateDir: dir, name: 'test' });
const script = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
};

describe('actions: runCommand', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 is ok; output is kept', async () => {
    const r = await run(['/bin/echo', 'restarted']);
    assert.deepEqual([r.ok, r.exitCode, r.output], [true, 0, 'restarted']);
  });

  it('a non-zero exit is a failure naming the code, with stderr in the output', async () => {
    const r = await run([script('fail', 'echo "tomcat10.service failed" >&2; exit 3')]);
    assert.deepEqual([r.ok, r.exitCode, r.reason, r.output], [false, 3, 'exit code 3', 'tomcat10.service failed']);
  });

  it('a missing program is a failure (ENOENT), not a crash', async () => {
    const r = await run(['/nonexistent/systemctl', 'restart', 'x']);
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^ENOENT: .*\/nonexistent\/systemctl/);
  });

  it('arguments are passed as argv, never through a shell', async () => {
    const r = await run(['/bin/echo', '$(id -u); rm -rf /tmp/x', '`whoami`']);
    assert.equal(r.output, '$(id -u); rm -rf /tmp/x `whoami`');
  });

  it('past its timeout the whole process group gets TERM, then KILL', async () => {
    const pidfile = join(dir, 'grandchild.pid');
    // ignores TERM, and has a child of its own that ignores it too
    const p = script('stubborn', `trap '' TERM; bash -c "trap '' TERM; echo \\$\\$ > ${pidfile}; while :; do sleep 0.1; done" & while :; do sleep 0.1; done`);
    const t = performance.now();
    const r = await run([p], 300);
    assert.equal(r.ok, false);
    assert.equal(r.timedOut, true);
    assert.match(r.reason!, /timed out after 300 ms \(TERM, then KILL after 5000 ms\)/);
    assert.ok(performance.now() - t < 15_000);
    const grandchild = Number(readFileSync(pidfile, 'utf8'));
    await sleep(200);
    assert.ok(isDead(readStat(grandchild)), 'the command\'s child survived the timeout');
  });

  it('a restart script that leaves a daemon holding stdout returns when the script exits', async () => {
    const p = script('daemonize', `sleep 30 & echo "started $!"; exit 0`);
    const t = performance.now();
    const r = await run([p], 10_000);
    assert.equal(r.ok, true);
    assert.ok(performance.now() - t < 5000, 'waited for the daemon');
    process.kill(Number(/started (\d+)/.exec(r.output)![1]), 'SIGKILL');
  });

  it('huge output is bounded to its head and tail', async () => {
    const r = await run([script('noisy', 'echo FIRST; head -c 1000000 /dev/zero | tr "\\0" x; echo; echo LAST')]);
    assert.ok(r.output.length < 5000, String(r.output.length));
    assert.match(r.output, /^FIRST/);
    assert.match(r.output, /\[\.\.\. \d+ bytes left out \.\.\.\]/);
    assert.match(r.output, /LAST$/);
  });
});
