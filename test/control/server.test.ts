// The control socket on its own: file mode, stale and live sockets, the request line's
// limits, and the client's answers for every way of not reaching a daemon.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_PAUSE_MS, MAX_REQUEST_BYTES, parseRequest } from '../../src/control/protocol.js';
import { startControlServer, type ControlHandler } from '../../src/control/server.js';
import { askDaemon } from '../../src/control/client.js';
import { sleep } from '../helpers/pidns.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'haw-ctl-'));
  dirs.push(d);
  return join(d, 'state', 'control.sock');
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const echo: ControlHandler = (req) => ({ ok: true, got: req });

/** Sends raw bytes, returns what came back before the server closed. */
function raw(path: string, data: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let buf = '';
    s.on('data', (d) => (buf += d));
    s.on('close', () => resolve(buf));
    s.on('error', () => resolve(buf));
    s.on('connect', () => s.write(data));
    setTimeout(() => s.destroy(), waitMs);
  });
}

/** A socket file whose server died without removing it (SIGKILL). */
async function staleSocket(path: string): Promise<void> {
  const p = spawn(process.execPath, ['-e', `require('node:fs').mkdirSync(require('node:path').dirname(${JSON.stringify(path)}),{recursive:true});require('node:net').createServer().listen(${JSON.stringify(path)},()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => p.stdout!.once('data', r));
  p.kill('SIGKILL');
  await new Promise((r) => p.once('exit', r));
}

describe('control socket: server', () => {
  it('mode 0600 from the start, in a 0700 directory; the umask is restored; removed on close', async () => {
    const path = tmp();
    const umask = process.umask();
    const r = await startControlServer(path, echo);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    assert.equal(process.umask(), umask);
    const st = lstatSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(lstatSync(join(path, '..')).mode & 0o777, 0o700);
    const a = await askDaemon(path, { op: 'status' });
    assert.deepEqual(a, { ok: true, response: { ok: true, got: { op: 'status' } } });
    await r.server.close();
    assert.equal(existsSync(path), false);
  });

  it('a stale socket (nobody answers) is replaced', async () => {
    const path = tmp();
    await staleSocket(path);
    assert.ok(lstatSync(path).isSocket());
    const r = await startControlServer(path, echo);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    assert.equal((await askDaemon(path, { op: 'status' })).ok, true);
    await r.server.close();
  });

  it('a live socket (someone answers) is left alone: not ok, with the reason', async () => {
    const path = tmp();
    const first = await startControlServer(path, echo);
    assert.ok(first.ok);
    const second = await startControlServer(path, echo);
    assert.equal(second.ok, false);
    assert.match(!second.ok ? second.reason : '', /another process answers on .*control\.sock; not taking it over/);
    assert.equal((await askDaemon(path, { op: 'status' })).ok, true, 'the first still serves');
    await first.server.close();
  });

  it('a file that is not a socket is not touched', async () => {
    const path = tmp();
    await startControlServer(path, echo).then((r) => (r.ok ? r.server.close() : undefined)); // creates the directory
    writeFileSync(path, 'precious');
    const r = await startControlServer(path, echo);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /exists and is not a socket/);
    assert.ok(lstatSync(path).isFile());
  });

  it('a path longer than a unix socket address holds -> not ok, says to shorten stateDir', async () => {
    const r = await startControlServer(`/tmp/${'x'.repeat(120)}/control.sock`, echo);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /longer than the 107 bytes .* use a shorter stateDir/);
  });

  it('bad requests get an error line; one request per connection; a silent client is dropped', async () => {
    const path = tmp();
    const r = await startControlServer(path, echo, { timeoutMs: 300 });
    assert.ok(r.ok);
    assert.match(await raw(path, 'hello\n'), /^\{"ok":false,"error":"request is not JSON/);
    assert.match(await raw(path, '{"op":"reboot"}\n'), /unknown op \\"reboot\\"/);
    assert.match(await raw(path, `{"op":"status","pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"`), new RegExp(`request longer than ${MAX_REQUEST_BYTES} bytes`));
    const two = await raw(path, '{"op":"status"}\n{"op":"resume"}\n');
    assert.equal(two.trim().split('\n').length, 1);
    assert.match(two, /"op":"status"/);
    const started = Date.now();
    assert.equal(await raw(path, ''), '');
    assert.ok(Date.now() - started < 1500, 'dropped after the timeout');
    await r.server.close();
  });

  it('a handler that throws -> an error answer, the server goes on', async () => {
    const path = tmp();
    const r = await startControlServer(path, () => {
      throw new Error('boom');
    });
    assert.ok(r.ok);
    const a = await askDaemon(path, { op: 'status' });
    assert.deepEqual(a, { ok: true, response: { ok: false, error: 'internal error: boom' } });
    assert.equal((await askDaemon(path, { op: 'status' })).ok, true);
    await r.server.close();
  });
});

describe('control socket: client', () => {
  it('no socket -> absent, "no socket at"', async () => {
    const path = tmp();
    const a = await askDaemon(path, { op: 'status' });
    assert.deepEqual(a, { ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (no socket at ${path})` });
  });

  it('a stale socket -> absent, "nothing listens on"', async () => {
    const path = tmp();
    await staleSocket(path);
    const a = await askDaemon(path, { op: 'status' });
    assert.deepEqual(a, { ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (nothing listens on ${path})` });
  });

  it('a server that never answers -> timeout', async () => {
    const path = tmp();
    await startControlServer(path, echo).then((r) => (r.ok ? r.server.close() : undefined));
    const mute = createServer(() => {});
    await new Promise<void>((r) => mute.listen(path, r));
    const a = await askDaemon(path, { op: 'status' }, 200);
    assert.equal(a.ok, false);
    assert.equal(!a.ok && a.kind, 'timeout');
    mute.close();
    await sleep(10);
  });
});

describe('control socket: request checks', () => {
  it('accepts the three ops, with optional fields', () => {
    assert.deepEqual(parseRequest('{"op":"status"}'), { op: 'status' });
    assert.deepEqual(parseRequest('{"op":"pause"}'), { op: 'pause' });
    assert.deepEqual(parseRequest('{"op":"pause","forMs":60000,"reason":"deploy","by":"alice (sudo)"}'), { op: 'pause', forMs: 60000, reason: 'deploy', by: 'alice (sudo)' });
    assert.deepEqual(parseRequest('{"op":"resume","by":"root"}'), { op: 'resume', by: 'root' });
  });

  it('control characters in free text become spaces', () => {
    assert.deepEqual(parseRequest(JSON.stringify({ op: 'pause', reason: 'a\nb\u001b[31m ' })), { op: 'pause', reason: 'a b [31m' });
    assert.deepEqual(parseRequest(JSON.stringify({ op: 'retry', service: 'tomcat', by: 'alice' })), { op: 'retry', service: 'tomcat', by: 'alice' });
    // bidi overrides and zero-width characters cannot reorder or hide text in `status`
    assert.deepEqual(parseRequest(JSON.stringify({ op: 'pause', reason: 'deploy \u202Egnp.exe\u202C ok\u200B!', by: 'mal\u2066lory' })), { op: 'pause', reason: 'deploy  gnp.exe  ok !', by: 'mal lory' });
  });

  for (const [line, error] of [
    ['[]', /a JSON object/],
    ['{"op":"pause","forMs":-1}', /forMs must be a whole number/],
    ['{"op":"pause","forMs":1.5}', /forMs must be a whole number/],
    [`{"op":"pause","forMs":${MAX_PAUSE_MS + 1}}`, /30 days/],
    [`{"op":"pause","reason":"${'x'.repeat(201)}"}`, /reason is longer than 200/],
    ['{"op":"pause","reason":7}', /reason must be a string/],
    ['{}', /unknown op undefined; expected "status", "pause", "resume", "retry", "switchover" or "takeback"/],
    ['{"op":"retry"}', /service must be a service name/],
    ['{"op":"retry","service":"../etc"}', /service must be a service name/],
  ] as const) {
    it(`refuses ${line.slice(0, 40)}`, () => {
      const r = parseRequest(line);
      assert.ok('error' in r);
      assert.match(r.error, error);
    });
  }
});
