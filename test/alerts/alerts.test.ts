// createAlerts as the daemon uses it: send() from the poll loop returns at once, only
// the configured events go out, deduplicated, in order, through a bounded queue, to a
// real webhook on 127.0.0.1 and a real command; close() waits, within its timeout.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createAlerts } from '../../src/alerts/index.js';
import type { PolicyEvent } from '../../src/policy/types.js';
import { waitFor } from '../helpers/wait.js';
import { captureLog, notifyConfig, receiver } from './helpers.js';

const T0 = Date.parse('2026-11-25T13:32:05.000Z');
const MIN = 60_000;
const down = (service: string): PolicyEvent => ({ level: 'warn', event: 'service.down', service, reason: 'http: status 503, expected 200' });
const dir = mkdtempSync(join(tmpdir(), 'haw-alerts-'));

describe('alerts: createAlerts', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('posts the payload: event, level, host, ISO time, service, reason, the event\'s other fields, a text line', async () => {
    const srv = await receiver();
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 2000, retries: 0 } }), { log, host: 'lb1', now: () => T0 });
    try {
      alerts.send({ level: 'error', event: 'restart.failed', service: 'tomcat', attempt: 1, reason: 'command failed: exit code 1', durationMs: 1234, msg: 'not in the payload' });
      await alerts.close(5000);
      assert.equal(srv.received.length, 1);
      assert.deepEqual(JSON.parse(srv.received[0]!.body), {
        event: 'restart.failed',
        level: 'error',
        host: 'lb1',
        time: '2026-11-25T13:32:05.000Z',
        service: 'tomcat',
        reason: 'command failed: exit code 1',
        attempt: 1,
        durationMs: 1234,
        text: '[lb1] restart.failed tomcat: command failed: exit code 1',
      });
      const [sent] = of('alert.sent');
      assert.deepEqual([sent?.level, sent?.alert, sent?.service, sent?.destination, sent?.attempts], ['debug', 'restart.failed', 'tomcat', `webhook ${new URL(srv.url).origin}`, 1]);
      assert.doesNotMatch(JSON.stringify(of('alert.sent')), /secret-token/);
    } finally {
      await srv.close();
    }
  });

  it('a failover names its services in the text; host defaults to the hostname', async () => {
    const srv = await receiver();
    const { log } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 2000, retries: 0 } }), { log });
    try {
      alerts.send({ level: 'error', event: 'failover', services: ['tomcat', 'nginx'], reason: 'restart attempts failed' });
      await alerts.close(5000);
      const body = JSON.parse(srv.received[0]!.body) as Record<string, unknown>;
      assert.deepEqual(body.services, ['tomcat', 'nginx']);
      assert.equal(body.host, (await import('node:os')).hostname());
      assert.match(String(body.text), /\] failover tomcat, nginx: restart attempts failed$/);
    } finally {
      await srv.close();
    }
  });

  it('events not in notify.events are ignored', async () => {
    const srv = await receiver();
    const { log } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 2000, retries: 0 }, events: ['failover'] }), { log, now: () => T0 });
    try {
      alerts.send(down('tomcat'));
      alerts.send({ level: 'info', event: 'service.up', service: 'tomcat' });
      alerts.send({ level: 'error', event: 'failover', services: ['tomcat'], reason: 'x' });
      await alerts.close(5000);
      assert.deepEqual(srv.received.map((r) => JSON.parse(r.body).event), ['failover']);
    } finally {
      await srv.close();
    }
  });

  it('a flapping service: 20 service.down in a minute send 1; the next after the window carries suppressed: 19; nginx is separate', async () => {
    const srv = await receiver();
    const { log, of } = captureLog();
    let now = T0;
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 2000, retries: 0 } }), { log, now: () => now });
    try {
      for (let i = 0; i < 20; i++) {
        now = T0 + i * 3000;
        alerts.send(down('tomcat'));
      }
      now = T0 + 30_000;
      alerts.send(down('nginx'));
      now = T0 + 6 * MIN;
      alerts.send(down('tomcat'));
      await alerts.close(5000);
      const bodies = srv.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
      assert.deepEqual(
        bodies.map((b) => [b.service, b.suppressed, b.time]),
        [
          ['tomcat', undefined, new Date(T0).toISOString()],
          ['nginx', undefined, new Date(T0 + 30_000).toISOString()],
          ['tomcat', 19, new Date(T0 + 6 * MIN).toISOString()],
        ],
      );
      assert.match(String(bodies[2]!.text), /\(19 repeats suppressed\)$/);
      assert.equal(of('alert.suppressed').length, 19);
    } finally {
      await srv.close();
    }
  });

  it('send() returns at once while the webhook hangs; the failure is logged at the timeout', async () => {
    const srv = await receiver(() => undefined); // never answers
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 300, retries: 0 } }), { log });
    try {
      const t = performance.now();
      alerts.send(down('tomcat'));
      const took = performance.now() - t;
      assert.ok(took < 20, `send() took ${took.toFixed(1)} ms`);
      assert.equal(of('alert.failed').length, 0, 'failed before the timeout');
      await waitFor(() => of('alert.failed').length === 1, 3000, { what: 'alert.failed', intervalMs: 10 });
      const failedAfter = performance.now() - t;
      assert.ok(failedAfter >= 290 && failedAfter < 1500, `failed after ${Math.round(failedAfter)} ms, expected ~300`);
      const [f] = of('alert.failed');
      assert.deepEqual([f?.level, f?.alert, f?.service, f?.reason], ['warn', 'service.down', 'tomcat', 'no complete answer within 300 ms']);
      await alerts.close(1000);
    } finally {
      await srv.close();
    }
  });

  it('delivers in order, one at a time; past maxPending the oldest waiting is dropped, with one warning and one summary', async () => {
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const srv = await receiver((n, res) => void (n === 1 ? held.then(() => res.writeHead(204).end()) : res.writeHead(204).end()));
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 5000, retries: 0 } }), { log, maxPending: 3 });
    try {
      alerts.send(down('s0'));
      await waitFor(() => srv.received.length === 1, 5000, { what: 'the first alert in flight', intervalMs: 10 });
      for (let i = 1; i <= 9; i++) alerts.send(down(`s${i}`));
      assert.deepEqual(of('alert.dropped').map((l) => [l.service, l.dropped]), [['s1', 1]], 'one warning when dropping starts');
      release();
      await alerts.close(5000);
      assert.deepEqual(srv.received.map((r) => JSON.parse(r.body).service), ['s0', 's7', 's8', 's9']);
      assert.deepEqual(of('alert.dropped').map((l) => l.dropped), [1, 6], 'a summary once it caught up');
    } finally {
      await srv.close();
    }
  });

  it('the command gets the same JSON on stdin; a failing webhook does not hold it up', async () => {
    const out = join(dir, 'alert.json');
    const srv = await receiver(() => undefined);
    const { log, of } = captureLog();
    const alerts = createAlerts(
      notifyConfig({ webhook: { url: srv.url, timeout: 2000, retries: 0 }, command: { command: ['/bin/sh', '-c', 'cat > "$1"', 'sh', out], timeout: 5000 } }),
      { log, host: 'lb1', now: () => T0, stateDir: dir },
    );
    try {
      alerts.send({ level: 'info', event: 'keepalived.start', reason: 'all critical services are up', command: ['/usr/bin/systemctl', 'start', 'keepalived'] });
      await waitFor(() => of('alert.sent').length === 1, 1500, { what: 'the command delivery', intervalMs: 10 });
      assert.equal(of('alert.sent')[0]?.destination, 'command /bin/sh');
      assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), {
        event: 'keepalived.start',
        level: 'info',
        host: 'lb1',
        time: '2026-11-25T13:32:05.000Z',
        reason: 'all critical services are up',
        command: ['/usr/bin/systemctl', 'start', 'keepalived'],
        text: '[lb1] keepalived.start: all critical services are up',
      });
      assert.equal(of('alert.failed').length, 0, 'the hanging webhook has not timed out yet');
      await alerts.close(3000);
      assert.equal(of('alert.failed')[0]?.destination, `webhook ${new URL(srv.url).origin}`);
    } finally {
      await srv.close();
    }
  });

  it('close() waits for a slow delivery that is in flight', async () => {
    const srv = await receiver((_n, res) => void setTimeout(() => res.writeHead(200).end(), 600));
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 5000, retries: 0 } }), { log });
    try {
      alerts.send({ level: 'error', event: 'failover', services: ['tomcat'], reason: 'x' });
      const t = performance.now();
      await alerts.close(5000);
      const took = performance.now() - t;
      assert.equal(of('alert.sent').length, 1, 'close() returned before the delivery ended');
      assert.ok(took >= 500 && took < 2000, `close() took ${Math.round(took)} ms`);
    } finally {
      await srv.close();
    }
  });

  it('close() gives up at its timeout: the hanging request is aborted and what was lost is logged', async () => {
    const srv = await receiver(() => undefined);
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ webhook: { url: srv.url, timeout: 30_000, retries: 3 } }), { log });
    try {
      alerts.send(down('tomcat'));
      alerts.send(down('nginx'));
      await waitFor(() => srv.received.length === 1, 5000, { what: 'the first alert in flight', intervalMs: 10 });
      const t = performance.now();
      await alerts.close(300);
      const took = performance.now() - t;
      assert.ok(took >= 290 && took < 1000, `close() took ${Math.round(took)} ms`);
      assert.deepEqual(of('alert.dropped').map((l) => l.dropped), [2], 'one in flight, one waiting');
      assert.deepEqual(of('alert.failed').map((l) => l.reason), ['abandoned: the agent is stopping']);
      await waitFor(() => srv.closedConnections() === 1, 5000, { what: 'the request connection closed', intervalMs: 10 });
      // after close, alerts are refused (logged), never thrown
      alerts.send(down('tomcat'));
      assert.equal(of('alert.dropped').length, 2);
    } finally {
      await srv.close();
    }
  });

  it('send() never throws into the poll loop, even on an event that cannot be serialised', async () => {
    const { log, of } = captureLog();
    const alerts = createAlerts(notifyConfig({ command: { command: ['/bin/true'], timeout: 1000 } }), { log, stateDir: dir });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.doesNotThrow(() => alerts.send({ ...down('tomcat'), detail: circular }));
    assert.match(String(of('alert.failed')[0]?.reason), /^internal error: .*circular/i);
    await alerts.close(1000);
  });
});
