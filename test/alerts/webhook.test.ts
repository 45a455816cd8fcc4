// Webhook delivery against real servers on 127.0.0.1: the body as sent, retries with
// their backoff, and servers that fail, refuse, hang before or during their answer.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Webhook } from '../../src/alerts/webhook.js';
import { receiver } from './helpers.js';

const never = new AbortController().signal;

describe('alerts: webhook', () => {
  it('POSTs the body as application/json and succeeds on 2xx', async () => {
    const srv = await receiver((_n, res) => void res.writeHead(200).end('ok'));
    try {
      const w = new Webhook({ url: srv.url, timeout: 2000, retries: 3 });
      const r = await w.post('{"event":"failover"}', never);
      await w.close();
      assert.deepEqual([r.ok, r.attempts, r.reason], [true, 1, undefined]);
      const [got] = srv.received;
      assert.equal(got?.method, 'POST');
      assert.equal(got?.url, '/hooks/secret-token');
      assert.equal(got?.headers['content-type'], 'application/json');
      assert.equal(got?.body, '{"event":"failover"}');
    } finally {
      await srv.close();
    }
  });

  it('names the destination by origin only: the path (often a token) stays out of the logs', () => {
    assert.equal(new Webhook({ url: 'https://hooks.example.com/services/T0/B0/s3cret', timeout: 1000, retries: 0 }).destination, 'webhook https://hooks.example.com');
  });

  it('fails twice with 503, then succeeds: 3 attempts, 1 s then 2 s apart', async () => {
    const srv = await receiver((n, res) => void (n <= 2 ? res.writeHead(503).end('busy') : res.writeHead(200).end()));
    try {
      const w = new Webhook({ url: srv.url, timeout: 2000, retries: 3 });
      const r = await w.post('{}', never);
      await w.close();
      assert.deepEqual([r.ok, r.attempts], [true, 3]);
      const [a, b, c] = srv.received.map((x) => x.at) as [number, number, number];
      // exponential: the second wait is twice the first (timer slack allowed, not a constant 1 s)
      assert.ok(b - a >= 990 && b - a < 1600, `first backoff ${Math.round(b - a)} ms, expected ~1000`);
      assert.ok(c - b >= 1990 && c - b < 2600, `second backoff ${Math.round(c - b)} ms, expected ~2000`);
    } finally {
      await srv.close();
    }
  });

  it('gives up after 1 + retries attempts, naming the status and what the server said', async () => {
    const srv = await receiver((_n, res) => void res.writeHead(503).end('upstream\n down'));
    try {
      const w = new Webhook({ url: srv.url, timeout: 2000, retries: 2 }, { backoffMs: 20 });
      const r = await w.post('{}', never);
      await w.close();
      assert.equal(srv.received.length, 3);
      assert.deepEqual([r.ok, r.attempts, r.reason], [false, 3, 'status 503, expected 2xx: upstream down (after 3 attempts)']);
    } finally {
      await srv.close();
    }
  });

  it('a 404 (wrong URL or token) is not retried; neither is a redirect', async () => {
    for (const [status, reason] of [
      [404, 'status 404, expected 2xx: no such hook'],
      [301, 'status 301, expected 2xx'],
    ] as const) {
      const srv = await receiver((_n, res) => void (status === 404 ? res.writeHead(404).end('no such hook') : res.writeHead(301, { location: '/x' }).end()));
      try {
        const w = new Webhook({ url: srv.url, timeout: 2000, retries: 3 }, { backoffMs: 20 });
        const r = await w.post('{}', never);
        await w.close();
        assert.deepEqual([r.ok, r.attempts, r.reason, srv.received.length], [false, 1, reason, 1]);
      } finally {
        await srv.close();
      }
    }
  });

  it('a 429 is retried', async () => {
    const srv = await receiver((n, res) => void (n === 1 ? res.writeHead(429).end() : res.writeHead(202).end()));
    try {
      const w = new Webhook({ url: srv.url, timeout: 2000, retries: 1 }, { backoffMs: 20 });
      const r = await w.post('{}', never);
      await w.close();
      assert.deepEqual([r.ok, r.attempts], [true, 2]);
    } finally {
      await srv.close();
    }
  });

  it('a server that accepts and never answers fails at the timeout, each attempt', async () => {
    const srv = await receiver(() => undefined); // reads the request, never answers
    try {
      const w = new Webhook({ url: srv.url, timeout: 300, retries: 1 }, { backoffMs: 100 });
      const t = performance.now();
      const r = await w.post('{}', never);
      const took = performance.now() - t;
      await w.close();
      assert.deepEqual([r.ok, r.attempts, r.reason], [false, 2, 'no complete answer within 300 ms (after 2 attempts)']);
      assert.ok(took >= 690 && took < 1500, `took ${Math.round(took)} ms, expected 300 + 100 + 300`);
      assert.equal(srv.received.length, 2);
    } finally {
      await srv.close();
    }
  });

  it('the timeout covers the body: headers sent, body never finished', async () => {
    const srv = await receiver((_n, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    try {
      const w = new Webhook({ url: srv.url, timeout: 300, retries: 0 });
      const t = performance.now();
      const r = await w.post('{}', never);
      await w.close();
      assert.deepEqual([r.ok, r.reason], [false, 'no complete answer within 300 ms']);
      assert.ok(performance.now() - t < 1000);
    } finally {
      await srv.close();
    }
  });

  it('a refused connection is a failure naming it, and is retried', async () => {
    // a port that was just free: bind, note it, close
    const probe = createServer();
    const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    const w = new Webhook({ url: `http://127.0.0.1:${port}/`, timeout: 1000, retries: 1 }, { backoffMs: 20 });
    const r = await w.post('{}', never);
    await w.close();
    assert.equal(r.ok, false);
    assert.equal(r.attempts, 2);
    assert.match(r.reason!, /ECONNREFUSED/);
  });

  it('an abort (the agent stopping) ends a hanging request and the backoff at once', async () => {
    const srv = await receiver(() => undefined);
    try {
      const w = new Webhook({ url: srv.url, timeout: 10_000, retries: 3 });
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 200);
      const t = performance.now();
      const r = await w.post('{}', stop.signal);
      await w.close();
      assert.ok(performance.now() - t < 1000, 'waited past the abort');
      assert.deepEqual([r.ok, r.attempts, r.reason], [false, 1, 'abandoned: the agent is stopping']);
    } finally {
      await srv.close();
    }
  });
});
