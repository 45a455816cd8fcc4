// The registry: a probe that throws becomes a failed observation, the poll goes on.
import assert from 'node:assert/strict';
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
});
