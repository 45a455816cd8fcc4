// The real daemon giving the VIP up: asking a peer first (the peer guard), through
// keepalived's track file instead of stopping it, and seeing a vanished process at once
// (the 250 ms pid watch) rather than at the next poll.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { sleep } from '../helpers/pidns.js';
import { events, freePort, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('ha-watchdog run: peer guard, track file, pid watch (integration)', { skip, concurrency: false }, () => {
  let stage: Stage | undefined;
  let peer: Server | undefined;
  afterEach(async () => {
    await stage?.destroy();
    stage = undefined;
    peer?.closeAllConnections();
    peer?.close();
    peer = undefined;
  });
  const log = (lines: LogLine[]) => () => ({ recorded: stage?.recorded(), log: lines.map((l) => `${l.event} ${l.service ?? ''} ${l.reason ?? l.msg ?? ''}`) });

  it('peer guard: restart fails while the peer is unhealthy -> failover.held, keepalived kept; the peer heals -> failover', async () => {
    // The other host's /healthz, as its agent serves it; what it says is switched by the test.
    let peerHealthy = false;
    peer = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ healthy: peerHealthy, host: 'B', services: { tomcat: { health: peerHealthy ? 'up' : 'down', critical: true, failed: !peerHealthy } } })));
    const port = await freePort();
    await new Promise<void>((r) => peer!.listen(port, '127.0.0.1', r));
    stage = await Stage.create();
    await stage.startServices();
    const a = await stage.startAgent(stage.config({ extra: `peer: { url: "http://127.0.0.1:${port}/healthz", timeout: 1s }\n` }));
    const trace = log(a.lines);
    await waitFor(() => events(a.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const held = await waitFor(() => events(a.lines, 'failover.held')[0], 15_000, { what: 'failover.held', detail: trace });
    assert.match(String(held.reason), /keeping the VIP here: the peer is unhealthy too: B: tomcat failed/);
    await sleep(2500);
    assert.deepEqual(stage.recorded(), ['tomcat-restart'], 'keepalived not stopped while the peer is unhealthy');
    assert.equal(events(a.lines, 'failover.held').length, 1, 'said once, re-asked every poll');
    peerHealthy = true;
    await waitFor(() => events(a.lines, 'failover').length, 10_000, { what: 'failover', detail: trace });
    await waitFor(() => stage!.recorded().includes('keepalived-stop'), 10_000, { what: 'keepalived stopped', detail: trace });
    assert.match(String(events(a.lines, 'failover')[0]!.reason), /the peer is healthy .*\(held until now\)/);
  });

  it('track-file control: restart fails -> 1 written, keepalived keeps running; repaired -> 0 written', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const track = join(stage.dir, 'run', 'keepalived.track');
    const config = stage.config();
    appendFileSync(config, `  control: track-file\n  trackFile: ${track}\n`);
    const a = await stage.startAgent(config);
    const trace = log(a.lines);
    await waitFor(() => events(a.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
    // Written by the action the poll that saw tomcat up started: a moment after service.up.
    const holds = (v: string) => () => existsSync(track) && readFileSync(track, 'utf8').trim() === v;
    await waitFor(holds('0'), 5000, { what: 'track file 0 (missing at start: written)', detail: trace });
    const keepalived = await stage.keepalivedPids();
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(a.lines, 'failover').length, 15_000, { what: 'failover', detail: trace });
    await waitFor(holds('1'), 5000, { what: 'track file 1', detail: trace });
    assert.deepEqual(await stage.keepalivedPids(), keepalived, 'keepalived still runs, the same process');
    assert.ok(!stage.recorded().includes('keepalived-stop'));
    stage.setFail('tomcat-restart', false);
    // healing backs off 10 s after the failure, then rise 1
    await waitFor(holds('0'), 30_000, { what: 'track file 0 again', detail: trace });
    assert.ok(events(a.lines, 'vip.reclaim').length >= 1);
    assert.deepEqual(await stage.keepalivedPids(), keepalived);
  });

  it('pid watch: with a 1 h interval, a SIGKILLed tomcat is restarted within about a second (not at the next poll)', async () => {
    stage = await Stage.create();
    await stage.startServices();
    const a = await stage.startAgent(stage.config({ interval: '1h', fall: 3 }));
    const trace = log(a.lines);
    await waitFor(() => events(a.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
    await sleep(300);
    const killedAt = Date.now();
    process.kill(stage.tomcatPid(), 'SIGKILL');
    const down = await waitFor(() => events(a.lines, 'service.down', 'tomcat')[0], 5000, { what: 'service.down', detail: trace });
    const seenMs = Date.parse(String(down.time)) - killedAt;
    assert.ok(seenMs < 1000, `service.down ${seenMs} ms after the kill (pid watch every 250 ms; fall 3 does not apply to a vanished process)`);
    await waitFor(() => events(a.lines, 'restart.ok', 'tomcat').length, 10_000, { what: 'restart.ok', detail: trace });
  });
});
