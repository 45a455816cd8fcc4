// The real daemon's outlets: Prometheus metrics and /healthz scraped over HTTP, and a
// webhook received by a local test server, while it supervises real processes.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, freePort, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const skip = requireRoot();

describe('ha-watchdog run: metrics, /healthz and notifications (integration)', { skip, concurrency: false }, () => {
  let stage: Stage;
  let agent: { lines: LogLine[]; pid: number };
  let hook: Server;
  const received: Array<Record<string, unknown>> = [];
  let metricsPort = 0;
  const trace = () => ({ recorded: stage.recorded(), received, log: agent?.lines.map((l) => `${l.event} ${l.service ?? ''} ${l.reason ?? l.msg ?? ''}`) });
  const get = async (path: string, init?: RequestInit) => {
    const r = await fetch(`http://127.0.0.1:${metricsPort}${path}`, init);
    return { status: r.status, text: await r.text() };
  };
  const sample = async (name: string) => {
    const { text } = await get('/metrics');
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(name));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  before(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ method: req.method, type: req.headers['content-type'], ...JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((r) => hook.listen(hookPort, '127.0.0.1', r));
    metricsPort = await freePort();
    stage = await Stage.create();
    await stage.startServices();
    const extra = `metrics: { listen: "127.0.0.1:${metricsPort}" }
notify:
  webhook: { url: "http://127.0.0.1:${hookPort}/hook", timeout: 2s, retries: 1 }
  events: [service.down, restart.failed, failover]
`;
    agent = await stage.startAgent(stage.config({ extra }));
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up', detail: trace });
  });
  after(async () => {
    await stage?.destroy();
    hook?.closeAllConnections();
    hook?.close();
  });

  it('/metrics: tomcat up, keepalived running, polls counted', async () => {
    await waitFor(() => events(agent.lines, 'metrics.listen').length, 5000, { what: 'metrics listener', detail: trace });
    assert.equal(await sample('ha_watchdog_service_up{service="tomcat"}'), 1);
    assert.equal(await sample('ha_watchdog_keepalived_running'), 1);
    assert.ok((await sample('ha_watchdog_poll_duration_seconds_count'))! >= 1);
    assert.equal(await sample('ha_watchdog_paused'), 0);
  });

  it('/healthz: 200 with this host healthy; nothing but GET/HEAD', async () => {
    const h = await get('/healthz');
    assert.equal(h.status, 200);
    const body = JSON.parse(h.text);
    assert.equal(body.healthy, true);
    assert.equal(body.services.tomcat.health, 'up');
    assert.equal((await get('/healthz', { method: 'POST', body: '{}' })).status, 405);
  });

  it('tomcat killed, restart works -> the restart is counted; service.down reaches the webhook as JSON', async () => {
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: trace });
    await waitFor(async () => (await sample('ha_watchdog_restarts_total{service="tomcat",result="ok"}')) === 1, 5000, { what: 'restart counted', detail: trace });
    const down = await waitFor(() => received.find((r) => r.event === 'service.down'), 5000, { what: 'webhook service.down', detail: trace });
    assert.equal(down.method, 'POST');
    assert.equal(down.type, 'application/json');
    assert.equal(down.service, 'tomcat');
    assert.match(String(down.reason), /process: no running process/);
    assert.equal(typeof down.host, 'string');
  });

  it('restart fails -> restart.failed and failover reach the webhook; the failover is counted; /healthz says unhealthy', async () => {
    stage.setFail('tomcat-restart', true);
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => received.find((r) => r.event === 'failover'), 15_000, { what: 'webhook failover', detail: trace });
    assert.ok(received.some((r) => r.event === 'restart.failed'));
    assert.deepEqual(received.find((r) => r.event === 'failover')!.services, ['tomcat']);
    assert.equal(await sample('ha_watchdog_failovers_total'), 1);
    const body = JSON.parse((await get('/healthz')).text);
    assert.equal(body.healthy, false);
    assert.equal(body.keepalived.failedOver, true);
  });
});
