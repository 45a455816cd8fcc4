// `ha-watchdog switchover` / `takeback` with the real daemon over its real socket, the
// peer's /healthz played by a stand-in whose answer the test switches. On one machine
// the VIP cannot really move (the lab's test does that): here the commands, the refusals
// and what the agent does to keepalived are checked; the CLI's wait times out, saying so.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, freePort, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('switchover and takeback (integration)', { skip, concurrency: false }, () => {
  let stage: Stage;
  let peer: Server;
  let peerHealthy = false;
  let config: string;
  let agent: { lines: LogLine[]; pid: number };
  const cli = (...args: string[]) => stage.cli([...args, '-c', config]);
  const trace = () => ({ recorded: stage.recorded(), log: agent?.lines.map((l) => `${l.event} ${l.reason ?? l.msg ?? ''}`) });

  before(async () => {
    peer = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ healthy: peerHealthy, host: 'B', services: { tomcat: { health: peerHealthy ? 'up' : 'down', critical: true, failed: false } } })));
    const port = await freePort();
    await new Promise<void>((r) => peer.listen(port, '127.0.0.1', r));
    stage = await Stage.create();
    await stage.startServices();
    config = stage.config({ extra: `peer: { url: "http://127.0.0.1:${port}/healthz", timeout: 1s }\n` });
    appendFileSync(config, `  vip: { url: "http://127.0.0.1:${stage.port}/", timeout: 500ms }\n`);
    agent = await stage.startAgent(config);
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
  });
  after(async () => {
    await stage?.destroy();
    peer?.closeAllConnections();
    peer?.close();
  });

  it('the peer unhealthy -> switchover refused (exit 1), nothing done', async () => {
    const r = await cli('switchover', '--reason', 'kernel upgrade');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the daemon refused switchover: the peer is not fit to take the VIP: B: tomcat down/);
    assert.deepEqual(stage.recorded(), []);
  });

  it('takeback with no switchover -> refused', async () => {
    const r = await cli('takeback');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no switchover in progress/);
  });

  it('the peer healthy -> switchover: keepalived stopped, status says switched over; the VIP (still this host\'s here) never answers from the peer: exit 1 after --wait', async () => {
    peerHealthy = true;
    const r = await cli('switchover', '--reason', 'kernel upgrade', '--wait', '2s');
    await waitFor(() => stage.recorded().includes('keepalived-stop'), 10_000, { what: 'keepalived stopped', detail: trace });
    assert.equal(r.code, 1, 'the VIP did not move (one machine): not a success');
    assert.match(r.stderr, /switchover: the VIP did not answer from the peer within 2s .*holds it away; `ha-watchdog takeback` brings it back/);
    const s = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(s.maintenance.switchover, true);
    assert.equal(s.maintenance.reason, 'kernel upgrade');
    assert.equal(s.keepalived.failedOver, true);
    assert.match((await cli('status')).stdout, /^MAINTENANCE {2}SWITCHED OVER \(the VIP is held on the peer until `ha-watchdog takeback`\)/m);
    assert.equal(events(agent.lines, 'switchover.start')[0]?.by, 'root');
    assert.equal((await cli('switchover')).code, 1, 'a second switchover is refused');
  });

  it('takeback while tomcat is down -> refused; once it is up -> keepalived started again', async () => {
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'service.down', 'tomcat').length, 10_000, { what: 'tomcat down', detail: trace });
    const refused = await cli('takeback');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /this host is not healthy: tomcat down; the VIP stays on the peer/);
    assert.ok(!stage.recorded().includes('tomcat-restart'), 'no restart while switched over');
    await stage.startServices(); // the operator's planned work is done: tomcat runs again (keepalived too: the stand-in starts both)
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length >= 2, 15_000, { what: 'tomcat up again', detail: trace });
    const r = await cli('takeback', '--wait', '5s');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the VIP answers from this host again/);
    assert.equal(events(agent.lines, 'switchover.takeback').length, 1);
    const s = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(s.maintenance.paused, false);
  });
});
