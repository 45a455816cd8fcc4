// Two real agents, each in its own pid namespace with its own fake tomcat and
// keepalived, asking each other's /healthz over loopback (127.0.0.1 and 127.0.0.2 as the
// two hosts' addresses). Both see this machine's interfaces: a VIP of 127.0.0.1 is held
// by "both hosts" (a split brain, for real as far as each agent can see); a VIP no
// interface has is held by neither.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, freePort, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('the pair\'s VIP: split brain and orphaned, between two real agents (integration)', { skip, concurrency: false }, () => {
  const stages: Stage[] = [];
  afterEach(async () => {
    await Promise.all(stages.splice(0).map((s) => s.destroy()));
  });

  /** Two stages A (127.0.0.1) and B (127.0.0.2) whose agents guard each other; `vip`: keepalived.vip's address. */
  async function pair(vip: string): Promise<Array<{ lines: LogLine[] }>> {
    const [a, b] = [await Stage.create(), await Stage.create()];
    stages.push(a, b);
    const [pa, pb] = [await freePort(), await freePort()];
    const agents = [];
    for (const [s, me, port, other, otherPort] of [[a, '127.0.0.1', pa, '127.0.0.2', pb], [b, '127.0.0.2', pb, '127.0.0.1', pa]] as const) {
      await s.startServices();
      const extra = `metrics: { listen: "${me}:${port}" }\npeer: { url: "http://${other}:${otherPort}/healthz", timeout: 500ms }\n`;
      const config = s.config({ extra });
      const { appendFileSync } = await import('node:fs');
      appendFileSync(config, `  vip: { url: "http://${vip}:${s.port}/", timeout: 500ms }\n`);
      agents.push(await s.startAgent(config));
    }
    return agents;
  }

  it('both hosts hold the VIP -> vip.split on both agents within a few polls, with both views', async () => {
    const agents = await pair('127.0.0.1');
    for (const [i, a] of agents.entries()) {
      const split = await waitFor(() => events(a.lines, 'vip.split')[0], 15_000, { what: `vip.split on agent ${i}`, detail: () => a.lines.map((l) => `${l.event} ${l.reason ?? l.msg}`).slice(-20) });
      assert.deepEqual(split.thisHost, { holdsVip: true, healthy: true });
      assert.equal((split.peer as { holdsVip: boolean }).holdsVip, true);
    }
  });

  it('neither holds the VIP while both are healthy -> vip.orphaned on both', async () => {
    const agents = await pair('127.0.0.99');
    for (const [i, a] of agents.entries()) {
      await waitFor(() => events(a.lines, 'vip.orphaned')[0], 15_000, { what: `vip.orphaned on agent ${i}` });
      assert.equal(events(a.lines, 'vip.split').length, 0);
    }
  });
});
