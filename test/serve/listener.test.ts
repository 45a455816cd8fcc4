// Unit tests of src/serve/listener.ts: a real server on 127.0.0.1, asked over
// real HTTP (fetch) and raw TCP (for the slow client).
import { freshMemory } from '../../src/policy/decide.js';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Metrics } from '../../src/serve/metrics.js';
import { formatAddress, startStatusServer, type StatusSources } from '../../src/serve/listener.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/stage.js';

interface Started {
  base: string;
  port: number;
  lines: string[];
  healthCalls: () => number;
}

async function start(t: TestContext, over: Partial<StatusSources> & { alive?: boolean } = {}): Promise<Started> {
  const lines: string[] = [];
  let calls = 0;
  const body = { healthy: true, host: 'lb1', services: { tomcat: { health: 'up' } } };
  const server = await startStatusServer(
    { host: '127.0.0.1', port: await freePort() },
    {
      metrics: over.metrics ?? new Metrics(),
      health: over.health ?? (() => (calls++, { alive: over.alive ?? true, body })),
      log: createLogger({ write: (l) => lines.push(l) }),
    },
  );
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${server.port}`, port: server.port, lines, healthCalls: () => calls };
}

describe('agent: status server', () => {
  it('GET /metrics serves the Prometheus text of the Metrics it was given', async (t) => {
    const m = new Metrics();
    m.observePoll(
      { observations: { services: {}, keepalived: { running: true, pids: [1] }, outcomes: [] }, actions: [], events: [{ level: 'error', event: 'failover' }], durationMs: 3, scans: 0 },
      { version: 1, services: {}, keepalived: { ...freshMemory().keepalived, release: { active: true } } },
      Date.now(),
    );
    const { base } = await start(t, { metrics: m });
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const text = await res.text();
    assert.match(text, /^ha_watchdog_failovers_total 1$/m);
    assert.match(text, /^ha_watchdog_keepalived_running 1$/m);
    assert.equal((await fetch(`${base}/metrics?name[]=x`)).status, 200, 'a query string is ignored');
  });

  it('/healthz: 200 with the JSON body while the loop is alive, 503 with the same body when not', async (t) => {
    let alive = true;
    const body = { healthy: false, host: 'lb1', paused: false };
    const { base } = await start(t, { health: () => ({ alive, body }) });
    let res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), body);
    alive = false;
    res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), body);
  });

  it('HEAD answers like GET, without a body', async (t) => {
    const { base } = await start(t, { alive: false });
    const res = await fetch(`${base}/healthz`, { method: 'HEAD' });
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('content-length')) > 10);
    assert.equal(await res.text(), '');
    const m = await fetch(`${base}/metrics`, { method: 'HEAD' });
    assert.equal(m.status, 200);
    assert.equal(await m.text(), '');
  });

  it('any other method -> 405 with Allow, and the health source is not even asked', async (t) => {
    const s = await start(t);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/metrics', '/healthz']) {
        const res = await fetch(`${s.base}${path}`, { method, ...(method !== 'OPTIONS' && method !== 'DELETE' && { body: '{"pause":true}' }) });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get('allow'), 'GET, HEAD');
        await res.text();
      }
    }
    assert.equal(s.healthCalls(), 0);
  });

  it('any other path -> 404', async (t) => {
    const { base } = await start(t);
    for (const path of ['/', '/metrics/', '/healthz/x', '/pause', '/..%2fmetrics', '/METRICS']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), /only \/metrics and \/healthz/);
    }
    assert.equal((await fetch(`${base}/nope`, { method: 'POST' })).status, 404);
  });

  it('bound exactly to the configured address: not reachable on another loopback address', async (t) => {
    const { port } = await start(t);
    await assert.rejects(fetch(`http://127.0.0.2:${port}/healthz`), (e: Error) => /ECONNREFUSED/.test(String((e.cause as Error)?.message ?? e)));
  });

  it('a metrics source that throws -> 500 and a warning, and the server goes on', async (t) => {
    const broken = { contentType: 'text/plain', text: () => Promise.reject(new Error('registry exploded')) } as unknown as Metrics;
    const s = await start(t, { metrics: broken });
    const res = await fetch(`${s.base}/metrics`);
    assert.equal(res.status, 500);
    assert.match(await res.text(), /registry exploded/);
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    const warn = s.lines.map((l) => JSON.parse(l)).find((l) => l.event === 'metrics.error');
    assert.equal(warn?.level, 'warn');
    assert.match(warn?.reason, /registry exploded/);
  });

  it('port in use -> rejects naming the address and EADDRINUSE', async (t) => {
    const { port } = await start(t);
    await assert.rejects(
      startStatusServer({ host: '127.0.0.1', port }, { metrics: new Metrics(), health: () => ({ alive: true, body: {} }), log: createLogger({ write: () => {} }) }),
      { message: `cannot serve metrics on 127.0.0.1:${port}: address already in use (another process listens there) (EADDRINUSE)` },
    );
  });

  it('IPv6 addresses are named in brackets, as in the config', async (t) => {
    assert.equal(formatAddress({ host: '::1', port: 9120 }), '[::1]:9120');
    assert.equal(formatAddress({ host: '127.0.0.1', port: 9120 }), '127.0.0.1:9120');
    const sources = { metrics: new Metrics(), health: () => ({ alive: true, body: { ok: 1 } }), log: createLogger({ write: () => {} }) };
    const v6 = await startStatusServer({ host: '::1', port: 0 }, sources).catch((e: Error) => e);
    if (v6 instanceof Error) {
      // As everywhere in the tests: in CI a missing prerequisite fails, never skips silently.
      if (process.env.CI === 'true') throw new Error(`CI=true and there is no IPv6 loopback: ${v6.message}`);
      return t.skip(`no IPv6 loopback here: ${v6.message}`);
    }
    t.after(() => v6.close());
    assert.equal((await fetch(`http://[::1]:${v6.port}/healthz`)).status, 200);
    await assert.rejects(startStatusServer({ host: '::1', port: v6.port }, sources), { message: new RegExp(`on \\[::1\\]:${v6.port}: .*EADDRINUSE`) });
  });

  it('an address this host does not have -> rejects naming it and EADDRNOTAVAIL', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a real interface.
    await assert.rejects(
      startStatusServer({ host: '192.0.2.1', port: 9120 }, { metrics: new Metrics(), health: () => ({ alive: true, body: {} }), log: createLogger({ write: () => {} }) }),
      /^Error: cannot serve metrics on 192\.0\.2\.1:9120: .*\(EADDRNOTAVAIL\)$/,
    );
  });

  it('a client that never finishes its headers is cut off (408) within seconds', async (t) => {
    const { port } = await start(t);
    const started = Date.now();
    const got = await new Promise<{ data: string; ms: number }>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'));
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve({ data, ms: Date.now() - started }));
      sock.on('error', reject);
      setTimeout(() => {
        sock.destroy();
        reject(new Error('still open after 15 s'));
      }, 15_000).unref();
    });
    assert.match(got.data, /^HTTP\/1\.1 408/);
    assert.ok(got.ms >= 2_000 && got.ms < 6_000, `closed after ${got.ms} ms (headers timeout 2 s, checked every second)`);
  });

  it('close() ends kept-alive and half-sent connections at once and frees the port', async () => {
    const port = await freePort();
    const sources = { metrics: new Metrics(), health: () => ({ alive: true, body: {} }), log: createLogger({ write: () => {} }) };
    const a = await startStatusServer({ host: '127.0.0.1', port }, sources);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`); // undici keeps the connection open
    await res.text();
    // A request still in its headers would hold close() until the headers timeout.
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.on('connect', r).write('GET /healthz HTTP/1.1\r\n'));
    sock.on('error', () => {});
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await a.close();
    assert.ok(Date.now() - t0 < 1_000, `close took ${Date.now() - t0} ms`);
    sock.destroy();
    const b = await startStatusServer({ host: '127.0.0.1', port }, sources);
    await b.close();
  });
});
