// /healthz under a real slowloris: 150 clients that open a connection, send half a
// request and trickle a header byte now and then (and come back when dropped), while
// the peer keeps asking /healthz. The peer must get its answers, or it would read this
// host as unreachable. All on loopback, bounded in count and time.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Metrics } from '../../src/serve/metrics.js';
import { MAX_CONNECTIONS, MAX_PER_ADDRESS, startStatusServer } from '../../src/serve/listener.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/stage.js';

async function serve(t: TestContext): Promise<number> {
  const server = await startStatusServer(
    { host: '127.0.0.1', port: await freePort() },
    { metrics: new Metrics(), health: () => ({ alive: true, body: { healthy: true } }), log: createLogger({ write: () => {} }) },
  );
  t.after(() => server.close());
  return server.port;
}

/** `count` slow-header clients from `from`; each reconnects when dropped, at most `reconnects` times in all. */
function slowloris(port: number, count: number, from: string, reconnects = 3000) {
  const socks = new Set<Socket>();
  let left = reconnects;
  let stopped = false;
  let opened = 0;
  const open = () => {
    if (stopped) return;
    opened += 1;
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    socks.add(s);
    s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: lb1\r\n'));
    s.on('error', () => {});
    s.on('close', () => {
      socks.delete(s);
      if (!stopped && left-- > 0) setTimeout(open, 10);
    });
  };
  for (let i = 0; i < count; i++) open();
  const trickle = setInterval(() => {
    for (const s of socks) if (!s.destroyed && s.writable) s.write(`X-${Math.random().toString(36).slice(2, 6)}: a\r\n`);
  }, 500);
  return {
    openNow: () => [...socks].filter((s) => !s.destroyed && !s.connecting).length,
    opened: () => opened,
    stop: () => {
      stopped = true;
      clearInterval(trickle);
      for (const s of socks) s.destroy();
    },
  };
}

/** n sequential /healthz requests as the peer makes them (fresh connection, 1 s timeout); how many answered 200. */
async function asks(port: number, n: number, from = '127.0.0.1'): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const status = await new Promise<number>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, localAddress: from });
      let buf = '';
      const done = (v: number) => {
        clearTimeout(timer);
        s.destroy();
        resolve(v);
      };
      const timer = setTimeout(() => done(0), 1000);
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: lb1\r\nConnection: close\r\n\r\n'));
      s.on('data', (d) => {
        buf += d;
        const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
        if (m) done(Number(m[1]));
      });
      s.on('error', () => done(0));
    });
    if (status === 200) ok += 1;
    await new Promise((r) => setTimeout(r, 20));
  }
  return ok;
}

describe('hardening: /healthz under slow and greedy clients', () => {
  it('150 slow-header clients from another address: every one of 45 /healthz requests is answered', async (t) => {
    const port = await serve(t);
    const attack = slowloris(port, 150, '127.0.0.2');
    t.after(() => attack.stop());
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(attack.opened() >= 150, 'the attack is on');
    assert.equal(await asks(port, 45), 45);
    assert.ok(attack.openNow() <= MAX_PER_ADDRESS, `one address holds at most ${MAX_PER_ADDRESS} connections, held ${attack.openNow()}`);
  });

  it('150 slow-header clients from the same address as the peer: /healthz still answers every request', async (t) => {
    const port = await serve(t);
    const attack = slowloris(port, 150, '127.0.0.1');
    t.after(() => attack.stop());
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await asks(port, 45), 45);
  });

  it('many addresses at once: the total stays capped, and /healthz answers', async (t) => {
    const port = await serve(t);
    const attacks = Array.from({ length: 12 }, (_, i) => slowloris(port, 15, `127.0.1.${i + 1}`, 200));
    t.after(() => attacks.forEach((a) => a.stop()));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await asks(port, 20), 20);
    const held = attacks.reduce((n, a) => n + a.openNow(), 0);
    assert.ok(held <= MAX_CONNECTIONS, `at most ${MAX_CONNECTIONS} open in all, held ${held}`);
  });
});
