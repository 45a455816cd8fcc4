// The peer guard's question against a real HTTP server standing in for the other
// host's /healthz: what each kind of answer means.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { askPeer } from '../../src/probes/peer.js';
import { freePort } from '../helpers/stage.js';

let server: Server;
let base = '';
const answers: Record<string, { status: number; body: string; hang?: boolean }> = {
  '/healthy': { status: 200, body: JSON.stringify({ healthy: true, host: 'B', services: { tomcat: { health: 'up', critical: true, failed: false } } }) },
  '/sick': { status: 200, body: JSON.stringify({ healthy: false, host: 'B', services: { tomcat: { health: 'down', critical: true, failed: true }, extra: { health: 'down', critical: false, failed: false } } }) },
  '/dead-loop': { status: 503, body: JSON.stringify({ healthy: true, host: 'B' }) },
  '/html': { status: 200, body: '<html>nginx</html>' },
  '/nohealthy': { status: 200, body: '{"ok":true}' },
  '/hang': { status: 200, body: '', hang: true },
};

before(async () => {
  server = createServer((req, res) => {
    const a = answers[req.url ?? ''] ?? { status: 404, body: 'no' };
    if (a.hang) return; // never answers
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  base = `http://127.0.0.1:${port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('askPeer', () => {
  it('healthy: reachable and healthy', async () => {
    assert.deepEqual(await askPeer({ url: `${base}/healthy`, timeout: 1000 }), { reachable: true, healthy: true, reason: 'B reports healthy' });
  });
  it('unhealthy: reachable, not healthy, names its critical services that are not up', async () => {
    assert.deepEqual(await askPeer({ url: `${base}/sick`, timeout: 1000 }), { reachable: true, healthy: false, reason: 'B: tomcat failed' });
  });
  it('503 (its loop is not polling): cannot be asked, whatever the body says', async () => {
    const r = await askPeer({ url: `${base}/dead-loop`, timeout: 1000 });
    assert.equal(r.reachable, false);
    assert.match(r.reason!, /not polling \(status 503\)/);
  });
  it('not a health report (wrong port, nginx page, other JSON): cannot be asked, and says what it saw', async () => {
    for (const [path, re] of [['/html', /not JSON: "<html>nginx/], ['/nohealthy', /no "healthy"/], ['/missing', /status 404/]] as const) {
      const r = await askPeer({ url: `${base}${path}`, timeout: 1000 });
      assert.equal(r.reachable, false, path);
      assert.match(r.reason!, re);
    }
  });
  it('no answer within the timeout: cannot be asked, in about the timeout', async () => {
    const t0 = performance.now();
    const r = await askPeer({ url: `${base}/hang`, timeout: 300 });
    assert.equal(r.reachable, false);
    assert.match(r.reason!, /no answer within 300 ms/);
    assert.ok(performance.now() - t0 < 2000);
  });
  it('connection refused: cannot be asked', async () => {
    const r = await askPeer({ url: `http://127.0.0.1:${await freePort()}/healthz`, timeout: 1000 });
    assert.equal(r.reachable, false);
    assert.match(r.reason!, /ECONNREFUSED/);
  });
});
