import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { checkTcp } from '../../src/probes/tcp.js';

describe('probes: tcp', () => {
  it('a listening port passes; a closed one fails with the error code', async () => {
    const s = createServer((c) => c.end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    assert.equal((await checkTcp({ host: '127.0.0.1', port, timeout: 1000 })).ok, true);
    await new Promise((r) => s.close(r));
    const r = await checkTcp({ host: '127.0.0.1', port, timeout: 1000 });
    assert.deepEqual([r.ok, r.reason], [false, `127.0.0.1:${port}: ECONNREFUSED`]);
  });
  it('IPv6 loopback is written [::1]:port in reasons', async () => {
    const r = await checkTcp({ host: '::1', port: 1, timeout: 500 });
    assert.equal(r.ok, false);
    assert.match(r.reason!, /^\[::1\]:1: /);
  });
});
