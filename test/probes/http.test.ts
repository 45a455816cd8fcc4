// HTTP probe against real servers: status, body regex, MD5 digest, TLS, and servers
// that hang before or in the middle of their answer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HttpCheck } from '../../src/config/load.js';
import { HttpProbe } from '../../src/probes/http.js';

const BODY = 'host=A\n<html>ok</html>\n';
const listen = (s: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown }) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));

describe('probes: http', () => {
  let server: Server;
  let base: string;
  const sockets = new Set<Socket>();
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/503') return void res.writeHead(503).end('down');
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/' }).end();
      if (req.url === '/hang') return; // never answers
      if (req.url === '/slow-body') {
        res.writeHead(200);
        res.write('partial');
        return; // headers sent, body never finishes
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(BODY);
    });
    server.on('connection', (s) => sockets.add(s));
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const probe = (over: Partial<HttpCheck> & { url: string }) => new HttpProbe({ timeout: 500, tlsVerify: true, ...over });

  it('2xx passes by default; 3xx too (not followed), like keepalived', async () => {
    assert.equal((await probe({ url: `${base}/` }).check()).ok, true);
    assert.equal((await probe({ url: `${base}/redirect` }).check()).ok, true);
  });

  it('a wrong status fails with expected vs seen', async () => {
    const r = await probe({ url: `${base}/503` }).check();
    assert.deepEqual([r.ok, r.reason], [false, `${base}/503: status 503, expected 2xx/3xx`]);
    const r2 = await probe({ url: `${base}/redirect`, expectStatus: [200] }).check();
    assert.equal(r2.reason, `${base}/redirect: status 302, expected 200`);
  });

  it('bodyMatches and digest (MD5 of the body, as keepalived HTTP_GET digest)', async () => {
    const md5 = createHash('md5').update(BODY).digest('hex');
    assert.equal((await probe({ url: `${base}/`, bodyMatches: 'host=A', digest: md5 }).check()).ok, true);
    const r = await probe({ url: `${base}/`, bodyMatches: 'host=B' }).check();
    assert.equal(r.reason, `${base}/: body does not match /host=B/`);
    const d = await probe({ url: `${base}/`, digest: '0'.repeat(32) }).check();
    assert.equal(d.reason, `${base}/: body MD5 ${md5}, expected ${'0'.repeat(32)}`);
  });

  it('a hung server (accepts, never answers) fails within the timeout', async () => {
    const t = performance.now();
    const r = await probe({ url: `${base}/hang`, timeout: 300 }).check();
    const took = performance.now() - t;
    assert.equal(r.ok, false);
    assert.match(r.reason!, /no complete answer within 300 ms/);
    assert.ok(took < 3000, `took ${took} ms`); // generous: only "bounded by the timeout", not a stopwatch
  });

  it('a body that never finishes fails within the timeout too (the whole request is bounded)', async () => {
    const r = await probe({ url: `${base}/slow-body`, timeout: 300 }).check();
    assert.match(r.reason!, /no complete answer within 300 ms/);
  });

  it('a listener that never accepts (SYN queue only) fails within the timeout', async () => {
    const raw = createTcp(() => undefined);
    raw.on('connection', (s) => s.pause()); // accepted by the kernel, never read
    const port = await listen(raw);
    const r = await probe({ url: `http://127.0.0.1:${port}/`, timeout: 300 }).check();
    raw.close();
    assert.match(r.reason!, /no complete answer within 300 ms/);
  });

  it('connections are kept alive between probes; one the server dropped is retried once on a fresh connection', async () => {
    let connections = 0;
    let requests = 0;
    const flaky = createServer((req, res) => {
      requests += 1;
      // every second request on a connection: the server drops it without answering,
      // as a restarted server's old connection would
      const n = ((req.socket as unknown as { n?: number }).n = ((req.socket as unknown as { n?: number }).n ?? 0) + 1);
      if (n === 2) return void req.socket.destroy();
      res.end('ok');
    });
    flaky.on('connection', () => (connections += 1));
    const port = await listen(flaky);
    const p = probe({ url: `http://127.0.0.1:${port}/` });
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await p.check()).ok);
    assert.deepEqual(results, [true, true, true]);
    assert.equal(requests, 4, 'one retry');
    // probes 1 and 2 share one connection; the retry uses a fresh one (closed after it);
    // probe 3 opens the next kept-alive connection
    assert.equal(connections, 3);
    await p.close();
    flaky.close();
  });

  it('connection refused is a failure with the error code', async () => {
    const s = createTcp();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    const r = await probe({ url: `http://127.0.0.1:${port}/` }).check();
    assert.match(r.reason!, /ECONNREFUSED/);
  });

  describe('https', () => {
    let dir: string;
    let url: string;
    let https: ReturnType<typeof createHttps>;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'haw-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
      https = createHttps({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, s) => s.end('tls ok'));
      url = `https://127.0.0.1:${await listen(https)}/`;
    });
    after(() => {
      https.close();
      rmSync(dir, { recursive: true, force: true });
    });
    it('a self-signed certificate fails with tlsVerify: true', async () => {
      const r = await probe({ url }).check();
      assert.equal(r.ok, false);
      assert.match(r.reason!, /self[- ]signed|SELF_SIGNED/i);
    });
    it('and passes with tlsVerify: false (like SSL_GET)', async () => {
      const r = await probe({ url, tlsVerify: false, bodyMatches: 'tls ok' }).check();
      assert.equal(r.ok, true, r.reason);
    });
  });
});
