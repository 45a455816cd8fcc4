// The peer guard's question and the poll: a first failed probe asks nothing (the poll
// goes on, its retry at once), the poll that reaches `fall` asks and waits for the
// answer, and a later decision (the failed restart) asks anew. A real Agent, real HTTP servers on loopback: the service
// (answers 200, then 503) and the peer's /healthz, which answers only when the test
// lets it: a poll that waited for it would never end.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import { freshMemory } from '../../src/policy/decide.js';
import { waitFor } from '../helpers/wait.js';

const silent = { info() {}, warn() {}, error() {}, debug() {}, fatal() {}, trace() {}, child() { return silent; } } as never;

test('a first failed probe does not wait on the peer; the poll that reaches fall asks and waits', { timeout: 60_000 }, async () => {
  let status = 200;
  const app = createServer((_q, res) => {
    res.statusCode = status;
    res.end('x');
  });
  const held: ServerResponse[] = [];
  let asked = 0;
  const peer = createServer((_q, res) => {
    asked++;
    held.push(res);
  });
  for (const s of [app, peer]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s: typeof app) => (s.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'hwt-peer-ask-'));
  chmodSync(dir, 0o700);
  after(() => {
    for (const r of held) r.destroy();
    app.close();
    peer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'watchdog.yaml');
  // interval 30s: "within the interval" holds however slow this machine is.
  writeFileSync(
    file,
    `interval: 30s\nstateDir: ${dir}/state\nservices:\n  app:\n    http: { url: "http://127.0.0.1:${port(app)}/health" }\n    restart: { command: [/bin/true] }\n` +
      `keepalived:\n  start: { command: [/bin/true] }\npeer: { url: "http://127.0.0.1:${port(peer)}/healthz", timeout: 20s }\n`,
    { mode: 0o600 },
  );
  const agent = new Agent(loadConfig(file), freshMemory(), { log: silent, dryRun: true, persist: false, list: () => Promise.resolve([]) });
  try {
    await agent.poll();
    await agent.poll();
    assert.equal(agent.memory.services.app?.health, 'up');
    assert.equal(asked, 0, 'all healthy: the peer is not asked');

    status = 503;
    const first = await agent.poll();
    assert.equal(first.observations.services.app?.ok, false);
    assert.equal(agent.memory.services.app?.health, 'up', 'one failed probe of fall 2: not down yet');
    assert.ok(first.retryInMs !== undefined, 'asked again soon');
    assert.equal(asked, 0, 'nothing hinges on the peer yet: not asked');

    const second = agent.poll();
    // Answer only now: the deciding poll must be waiting for it.
    await waitFor(() => asked === 1 || undefined, 10_000, { what: 'the deciding poll\'s question at the peer' });
    held[0]!.setHeader('content-type', 'application/json');
    held[0]!.end(JSON.stringify({ healthy: true, host: 'b' }));
    const r = await second;
    assert.equal(agent.memory.services.app?.health, 'down');
    assert.equal(asked, 1);
    assert.equal(r.observations.peer?.healthy, true);
    assert.deepEqual(r.actions.map((a) => a.kind), ['restart'], 'decided on it (keepalived is not running here: nothing to hand over, the restart)');
  } finally {
    await agent.close?.();
  }
});
