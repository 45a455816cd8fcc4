// undiciClient(): undici's HTTP client from its own files, held to the package's
// exports (a new undici 7.x that moves a file fails here, not in production), used
// for real against a local server, and without loading undici's index.js.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { undiciClient } from '../../src/net/undici.js';

const require = createRequire(import.meta.url);

describe('net: undiciClient', () => {
  it("gives undici's own Agent, Dispatcher and errors, and a request like index.js's", () => {
    const full = require('undici') as Record<string, unknown>;
    const c = undiciClient() as unknown as Record<string, unknown>;
    for (const name of ['Agent', 'Dispatcher', 'errors']) assert.equal(c[name], full[name], `${name} (undici ${require('undici/package.json').version})`);
    assert.equal(typeof c.request, 'function');
    assert.equal(undiciClient(), undiciClient(), 'loaded once');
  });

  it('request() and Agent#request() answer from a real server; the wrapper refuses what index.js refuses', async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const { Agent, request } = undiciClient();
    const agent = new Agent({ keepAliveTimeout: 1 });
    try {
      const a = await request(`http://127.0.0.1:${port}/health?x=1`, { dispatcher: agent });
      assert.equal(a.statusCode, 200);
      assert.equal(await a.body.text(), 'GET /health?x=1');
      const b = await agent.request({ origin: `http://127.0.0.1:${port}`, path: '/pair', method: 'GET' });
      assert.equal(await b.body.text(), 'GET /pair');
      assert.throws(() => request(`http://127.0.0.1:${port}/`, { agent } as never), /unsupported opts\.agent/);
    } finally {
      await agent.close();
      server.close();
    }
  });

  it("does not load undici's index.js (fetch, WebSocket, mocks, caches)", () => {
    const url = new URL('../../src/net/undici.ts', import.meta.url).href;
    const script = `import { createRequire } from 'node:module';
const { undiciClient } = await import(${JSON.stringify(url)});
undiciClient();
const cache = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ undici: cache.filter((f) => f.includes('/undici/')).length, index: cache.filter((f) => /\\/undici\\/index\\.js$/.test(f)), fetch: cache.filter((f) => f.includes('/undici/lib/web/')) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
    assert.ok(out.undici > 10, `undici files loaded: ${out.undici}`);
    assert.deepEqual([out.index, out.fetch], [[], []]);
  });
});
