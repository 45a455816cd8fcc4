// The registry: a probe that throws becomes a failed observation, the poll goes on.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/load.js';
import { Probes } from '../../src/probes/index.js';

describe('probes: registry', () => {
  it('a process-table scan that throws -> failed observations with the reason, no crash', async () => {
    const config = {
      file: 'x',
      interval: 1000,
      stateDir: '/tmp',
      services: { tomcat: { critical: true, fall: 1, rise: 1, process: { name: 'java' }, tcp: { host: '127.0.0.1', port: 1, timeout: 200 } } },
      keepalived: { process: { name: 'keepalived' }, start: { command: ['/bin/true'], timeout: 1000 } },
    } as unknown as Config;
    const probes = new Probes(config, () => Promise.reject(new Error('ps: not found')));
    const o = await probes.observe();
    assert.equal(o.services.tomcat!.ok, false);
    assert.deepEqual(o.services.tomcat!.probes.map((p) => [p.probe, p.ok, p.reason]), [
      ['process', false, 'probe crashed: ps: not found'],
      ['tcp', false, '127.0.0.1:1: ECONNREFUSED'],
    ]);
    assert.deepEqual(o.keepalived, { running: false, pids: [], reason: 'probe crashed: ps: not found' });
    await probes.close();
  });

  it('askPeer(): every call is a new question (a later decision never takes an earlier answer)', async () => {
    let asked = 0;
    const server = createServer((_req, res) => {
      asked++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ healthy: asked === 1, host: 'b' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    const config = {
      file: 'x',
      interval: 1000,
      stateDir: '/tmp',
      services: {},
      keepalived: { process: { name: 'keepalived' }, start: { command: ['/bin/true'], timeout: 1000 } },
      peer: { url, timeout: 5000, required: false },
    } as unknown as Config;
    const probes = new Probes(config, () => Promise.resolve([]));
    try {
      assert.equal((await probes.askPeer())?.healthy, true);
      assert.equal((await probes.askPeer())?.healthy, false, 'the peer failed meanwhile: the second decision sees it');
      assert.equal(asked, 2);
    } finally {
      await probes.close();
      server.close();
    }
  });

  it('observe(wait, probe false): takes the answers that came late and starts no probe', { timeout: 30_000 }, async () => {
    let asked = 0;
    const server = createServer((_req, res) => {
      asked++;
      setTimeout(() => {
        res.statusCode = 503;
        res.end('busy');
      }, 300);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    const config = {
      file: 'x',
      interval: 1000,
      stateDir: '/tmp',
      services: { app: { critical: true, fall: 2, rise: 2, http: { url, timeout: 5000, tlsVerify: true } } },
      keepalived: { process: { name: 'keepalived' }, start: { command: ['/bin/true'], timeout: 1000 } },
    } as unknown as Config;
    const probes = new Probes(config, () => Promise.resolve([]));
    let late = 0;
    probes.onLate = () => late++;
    try {
      const first = await probes.observe(20);
      assert.equal(first.services.app, undefined, 'not answered within the wait');
      assert.equal(probes.probing('app'), true);
      while (late === 0) await new Promise((r) => setTimeout(r, 20));
      const decided = await probes.observe(20, false);
      assert.equal(decided.services.app?.ok, false, 'the late 503 is this poll\'s');
      assert.equal(probes.probing('app'), false, 'no new probe started');
      assert.equal(asked, 1);
      await probes.observe(20);
      assert.equal(asked, 2, 'a probing poll asks again');
    } finally {
      await probes.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
