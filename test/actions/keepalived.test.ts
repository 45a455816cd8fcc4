// The default keepalived stop: SIGTERM to the main pid (not its children), escalating
// to SIGKILL only if it will not go.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { mainPid, stopKeepalived } from '../../src/actions/keepalived.js';
import { isDead, readStat } from '../../src/os/proc.js';
import { childrenOf, sleep } from '../helpers/pidns.js';

const cfg = { process: { name: 'keepalived', namespace: 'own' as const }, start: { command: ['/bin/true'], timeout: 1000 }, control: 'stop' as const, trackFile: '/run/ha-watchdog/keepalived.track', config: '/etc/keepalived/keepalived.conf' };

// A parent with two children, like keepalived's main process with its vrrp/checker children.
function family(trapTerm: boolean): number {
  const body = `${trapTerm ? "trap '' TERM; " : ''}sleep 300 & sleep 300 & wait`;
  return Number(execFileSync('bash', ['-c', `setsid bash -c ${JSON.stringify(body)} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim());
}

describe('actions: keepalived stop without a command', () => {
  it('mainPid picks the process whose parent is not in the set', async () => {
    const main = family(false);
    await sleep(100);
    const kids = childrenOf(main);
    assert.equal(kids.length, 2);
    assert.equal(mainPid([...kids, main]), main);
    process.kill(-main, 'SIGKILL');
  });

  it('SIGTERM to the main pid; done when it is gone', async () => {
    const main = family(false);
    await sleep(100);
    const r = await stopKeepalived(cfg, [...childrenOf(main), main], '/tmp');
    assert.equal(r.ok, true, r.reason);
    assert.ok(isDead(readStat(main)));
    try {
      process.kill(-main, 'SIGKILL');
    } catch {
      // group already gone
    }
  });

  it('nothing to stop is fine', async () => {
    const r = await stopKeepalived(cfg, [], '/tmp');
    assert.deepEqual([r.ok, r.reason], [true, 'keepalived was not running']);
  });

  it('one that ignores SIGTERM gets SIGKILL after 10 s, and says so', async () => {
    const main = family(true);
    await sleep(100);
    const r = await stopKeepalived(cfg, [main], '/tmp');
    assert.equal(r.ok, true);
    assert.match(r.reason!, /ignored SIGTERM for 10000 ms; sent SIGKILL/);
    await sleep(100);
    assert.ok(isDead(readStat(main)));
    process.kill(-main, 'SIGKILL');
  });
});
