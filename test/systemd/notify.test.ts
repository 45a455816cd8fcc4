// Unit tests of src/systemd/notify.ts. No systemd needed: the datagrams are
// caught on a unix datagram socket made by a tiny python3 receiver, which
// also reports the sender PID from SCM_CREDENTIALS (what PID 1 uses to
// attribute a message to a unit).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createNotifier, sanitizeStatus, watchdogIntervalFromEnv, type ExecFileLike } from '../../src/systemd/notify.js';

const RECEIVER = `
import json, socket, struct, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path if not path.startswith('@') else '\\0' + path[1:])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"ready": True}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', payload[:12])[0]
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
`;

interface Datagram {
  data: string;
  pid: number | null;
}

/** A unix datagram socket that records what arrives on it. */
class Receiver {
  readonly got: Datagram[] = [];
  private waiters: Array<() => void> = [];
  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(path: string): Promise<Receiver> {
    const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const r = new Receiver(path, child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean } & Datagram;
        if (msg.ready) return resolve();
        r.got.push({ data: msg.data, pid: msg.pid });
        for (const w of r.waiters.splice(0)) w();
      });
    });
    return r;
  }

  async waitFor(n: number, timeoutMs = 5000): Promise<Datagram[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.got.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} datagrams, got ${JSON.stringify(this.got)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.got;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** An execFile stand-in that records calls and answers when told. */
function fakeExec() {
  const calls: Array<{ file: string; args: string[]; env: NodeJS.ProcessEnv; done: (err: Error | null) => void }> = [];
  const exec: ExecFileLike = (file, args, options, callback) => {
    calls.push({ file, args, env: options.env, done: (err) => callback(err as never, '', '') });
    return undefined;
  };
  return { exec, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

const SYSTEMD_NOTIFY = ['/usr/bin/systemd-notify', '/bin/systemd-notify'].find((p) => existsSync(p));
function realSocketSkip(): string | false {
  const missing = process.platform !== 'linux' ? 'Linux' : !SYSTEMD_NOTIFY ? 'systemd-notify (apt-get install systemd)' : undefined;
  if (!missing) return false;
  if (process.env.CI === 'true') return false; // under CI a missing tool must fail, not skip
  process.stdout.write(`notify socket tests skipped: needs ${missing}\n`);
  return `needs ${missing}`;
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('createNotifier outside systemd (no NOTIFY_SOCKET)', () => {
  it('is disabled, spawns nothing, and still calls callbacks', async () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: String(process.pid) }, { execFile: exec });
    assert.equal(n.enabled, false);
    assert.equal(n.watchdogIntervalMs, null);
    const results: Array<Error | null> = [];
    n.ready('up', (e) => results.push(e));
    n.status('fine', (e) => results.push(e));
    n.watchdog((e) => results.push(e));
    n.stopping(undefined, (e) => results.push(e));
    n.reloading('reloading', (e) => results.push(e));
    const stop = n.keepAlive();
    stop();
    await n.flush();
    await tick();
    assert.equal(calls.length, 0);
    assert.deepEqual(results, [null, null, null, null, null]);
  });

  it('treats an empty NOTIFY_SOCKET as unset', () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier({ NOTIFY_SOCKET: '' }, { execFile: exec });
    n.ready('x');
    assert.equal(n.enabled, false);
    assert.equal(calls.length, 0);
  });

  it('spawns nothing with the real execFile either (process env without NOTIFY_SOCKET)', async () => {
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET;
    let errors = 0;
    const n = createNotifier(env, { command: '/nonexistent/systemd-notify', onError: () => errors++ });
    n.ready('x');
    n.watchdog();
    await n.flush();
    await tick();
    assert.equal(errors, 0, 'a spawn of the nonexistent command would have reported ENOENT');
  });
});

describe('watchdogIntervalMs', () => {
  const sock = { NOTIFY_SOCKET: '/run/systemd/notify' };
  it('is WATCHDOG_USEC in ms', () => {
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: '30000000' }).watchdogIntervalMs, 30_000);
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }).watchdogIntervalMs, 30_000);
  });
  it('is null when unset, invalid, zero, or for another PID', () => {
    assert.equal(createNotifier(sock).watchdogIntervalMs, null);
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: 'abc' }).watchdogIntervalMs, null);
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: '0' }).watchdogIntervalMs, null);
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }).watchdogIntervalMs, null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42), 2000);
  });
  it('honours opts.pid for WATCHDOG_PID', () => {
    assert.equal(createNotifier({ ...sock, WATCHDOG_USEC: '4000000', WATCHDOG_PID: '4242' }, { pid: 4242 }).watchdogIntervalMs, 4000);
  });
});

describe('createNotifier message handling (fake execFile)', () => {
  const env = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '4000000' };

  it('runs systemd-notify --pid --no-block with argv fields and only NOTIFY_SOCKET in its env', () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier({ ...env, SECRET: 'x' }, { execFile: exec, command: '/usr/bin/systemd-notify', pid: 1234 });
    n.ready('up; 3 services ok');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.file, '/usr/bin/systemd-notify');
    assert.deepEqual(calls[0]!.args, ['--pid=1234', '--no-block', 'READY=1', 'STATUS=up; 3 services ok']);
    assert.deepEqual(calls[0]!.env, { NOTIFY_SOCKET: '/run/systemd/notify' });
  });

  it('rate-limits watchdog() to one ping per WATCHDOG_USEC/4', () => {
    const { exec, calls } = fakeExec();
    let t = 10_000;
    const n = createNotifier(env, { execFile: exec, now: () => t });
    assert.equal(n.watchdogIntervalMs, 4000);
    const sent: number[] = [];
    for (const at of [10_000, 10_500, 10_999, 11_000, 11_500, 12_100, 12_200]) {
      t = at;
      n.watchdog();
      for (const c of calls.splice(0)) {
        assert.deepEqual(c.args.slice(2), ['WATCHDOG=1']);
        sent.push(at);
        c.done(null);
      }
    }
    assert.deepEqual(sent, [10_000, 11_000, 12_100]);
  });

  it('skips a status() equal to the last STATUS sent', async () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier(env, { execFile: exec });
    n.ready('all ok');
    calls[0]!.done(null);
    let cb = 0;
    n.status('all ok', () => cb++); // same as READY's STATUS
    n.status('nginx down');
    calls[1]!.done(null);
    n.status('nginx down');
    n.status('all ok');
    calls[2]!.done(null);
    await tick();
    assert.deepEqual(
      calls.map((c) => c.args.slice(2)),
      [['READY=1', 'STATUS=all ok'], ['STATUS=nginx down'], ['STATUS=all ok']],
    );
    assert.equal(cb, 1, 'the callback of a skipped status still runs');
  });

  it('sends nothing for watchdog() when the watchdog is off', () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier({ NOTIFY_SOCKET: '/x' }, { execFile: exec });
    n.watchdog();
    assert.equal(calls.length, 0);
  });

  it('serialises messages in call order, one systemd-notify at a time', async () => {
    const { exec, calls } = fakeExec();
    const n = createNotifier(env, { execFile: exec, now: () => 0 });
    n.ready('a');
    n.stopping('b');
    n.reloading();
    assert.equal(calls.length, 1, 'only one in flight');
    calls[0]!.done(null);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]!.args.slice(2), ['STOPPING=1', 'STATUS=b']);
    calls[1]!.done(null);
    assert.equal(calls[2]!.args[2], 'RELOADING=1');
    assert.match(calls[2]!.args[3]!, /^MONOTONIC_USEC=\d+$/);
    let flushed = false;
    const f = n.flush().then(() => (flushed = true));
    await tick();
    assert.equal(flushed, false);
    calls[2]!.done(null);
    await f;
    assert.equal(flushed, true);
  });

  it('coalesces queued status updates and pings, never reordering', () => {
    const { exec, calls } = fakeExec();
    let t = 0;
    const n = createNotifier(env, { execFile: exec, now: () => t });
    n.ready('starting'); // in flight
    n.status('s1');
    n.status('s2'); // replaces s1 (last in queue)
    n.stopping(); // queued after the status
    n.status('s3'); // must not jump ahead of STOPPING
    n.watchdog();
    t = 5000;
    n.watchdog(); // a ping is already queued: coalesced
    const seen: string[][] = [];
    while (calls.length > seen.length) {
      const c = calls[seen.length]!;
      seen.push(c.args.slice(2));
      c.done(null);
    }
    assert.deepEqual(seen, [['READY=1', 'STATUS=starting'], ['STATUS=s2'], ['STOPPING=1'], ['STATUS=s3'], ['WATCHDOG=1']]);
  });

  it('never throws: errors go to onError and the callback, the queue goes on', async () => {
    const errors: Error[] = [];
    let first = true;
    const exec: ExecFileLike = (_f, args, _o, cb) => {
      if (first) {
        first = false;
        throw new TypeError('boom');
      }
      setImmediate(() => cb(Object.assign(new Error('Command failed'), { code: 1 }), '', 'Failed to notify: No such file or directory\n'));
    };
    const n = createNotifier(env, { execFile: exec, onError: (e) => errors.push(e) });
    const results: Array<Error | null> = [];
    assert.doesNotThrow(() => n.ready('x', (e) => results.push(e)));
    assert.doesNotThrow(() => n.status('y', (e) => results.push(e)));
    await n.flush();
    assert.equal(errors.length, 2);
    assert.match(errors[0]!.message, /boom/);
    assert.match(errors[1]!.message, /STATUS=y: exit 1: Failed to notify/);
    assert.equal(results.length, 2);
    assert.ok(results.every((r) => r instanceof Error));
  });

  it('survives a throwing onError and a throwing callback', async () => {
    const exec: ExecFileLike = (_f, _a, _o, cb) => setImmediate(() => cb(Object.assign(new Error('x'), { code: 2 }), '', ''));
    const n = createNotifier(env, {
      execFile: exec,
      onError: () => {
        throw new Error('logger down');
      },
    });
    n.ready('x', () => {
      throw new Error('callback bug');
    });
    n.status('y');
    await n.flush();
  });

  it('drops messages beyond maxQueue and reports it', async () => {
    const { exec, calls } = fakeExec();
    const errors: Error[] = [];
    const n = createNotifier(env, { execFile: exec, maxQueue: 2, onError: (e) => errors.push(e) });
    n.ready('1'); // in flight
    n.stopping(); // queued
    n.reloading(); // queued
    let dropped: Error | null = null;
    n.ready('4', (e) => (dropped = e));
    await tick();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /queue full/);
    assert.ok(dropped);
    for (let i = 0; i < 3; i++) calls[i]!.done(null);
    assert.equal(calls.length, 3);
  });

  it('keepAlive() pings from an unref\'d timer while isAlive() says so', async () => {
    const { exec, calls } = fakeExec();
    let t = 0;
    const n = createNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '40000' }, { execFile: exec, now: () => t }); // 40 ms: ping gap 10 ms
    let alive = true;
    const stop = n.keepAlive(() => alive);
    const pump = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        t = Date.now();
        for (const c of calls.splice(0)) c.done(null);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const counted: string[] = [];
    const orig = calls.push.bind(calls);
    calls.push = (...items) => {
      for (const i of items) counted.push(i.args[2]!);
      return orig(...items);
    };
    await pump(100);
    const whileAlive = counted.length;
    alive = false;
    await pump(60);
    const afterDead = counted.length;
    stop();
    assert.ok(whileAlive >= 3, `expected several pings, got ${whileAlive}`);
    assert.ok(afterDead - whileAlive <= 1, 'no pings once isAlive() is false');
    assert.ok(counted.every((f) => f === 'WATCHDOG=1'));
  });

  it('sanitizes STATUS to one bounded line', () => {
    assert.equal(sanitizeStatus('a\nb\r\n\tc\0d'), 'a b c d');
    assert.equal(sanitizeStatus('x'.repeat(5000)).length, 1024);
  });
});

describe('createNotifier with the real systemd-notify', { skip: realSocketSkip() }, () => {
  let dir: string;
  let rx: Receiver;
  before(async () => {
    assert.ok(SYSTEMD_NOTIFY, 'systemd-notify is missing: apt-get install systemd');
    dir = mkdtempSync(join(tmpdir(), 'hwt-notify-'));
    rx = await Receiver.start(join(dir, 'notify.sock'));
  });
  after(() => {
    rx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the exact datagrams, attributed to our PID', async () => {
    const errors: Error[] = [];
    const n = createNotifier(
      { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '8000000', WATCHDOG_PID: String(process.pid) },
      { onError: (e) => errors.push(e) },
    );
    assert.equal(n.enabled, true);
    assert.equal(n.watchdogIntervalMs, 8000);
    n.ready('polling 2 services');
    n.status('nginx up, tomcat up');
    n.watchdog();
    n.watchdog(); // rate-limited: not sent
    n.reloading('reloading config');
    n.stopping('SIGTERM: finishing');
    await n.flush();
    assert.deepEqual(errors, []);
    const got = await rx.waitFor(5);
    const pid = process.pid;
    assert.deepEqual(
      got.map((d) => d.data.replace(/MONOTONIC_USEC=\d+/, 'MONOTONIC_USEC=N')),
      [
        `MAINPID=${pid}\nREADY=1\nSTATUS=polling 2 services`,
        `MAINPID=${pid}\nSTATUS=nginx up, tomcat up`,
        `MAINPID=${pid}\nWATCHDOG=1`,
        `MAINPID=${pid}\nRELOADING=1\nMONOTONIC_USEC=N\nSTATUS=reloading config`,
        `MAINPID=${pid}\nSTOPPING=1\nSTATUS=SIGTERM: finishing`,
      ],
    );
    if (isRoot) {
      // As root, systemd-notify fakes SCM_CREDENTIALS to --pid: PID 1 sees
      // the message as coming from the main process (NotifyAccess=main).
      for (const d of got) assert.equal(d.pid, pid, `datagram ${JSON.stringify(d.data)} credited to ${d.pid}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rx.got.length, 5, 'the second watchdog() was rate-limited');
  });

  it('reports a missing socket through onError without throwing', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: join(dir, 'nobody-listens.sock') }, { onError: (e) => errors.push(e) });
    let cbErr: Error | null = null;
    n.ready('x', (e) => (cbErr = e));
    await n.flush();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /READY=1 STATUS=x: exit \d+/);
    assert.equal(cbErr, errors[0]);
  });

  it('reports a missing binary (ENOENT) through onError', async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: rx.path }, { command: join(dir, 'no-such-systemd-notify'), onError: (e) => errors.push(e) });
    n.status('x');
    await n.flush();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /ENOENT/);
  });

  it('kills a hung systemd-notify after timeoutMs and carries on', async () => {
    const hang = join(dir, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: rx.path }, { command: hang, timeoutMs: 200, onError: (e) => errors.push(e) });
    const t0 = Date.now();
    n.status('x');
    n.status('y');
    await n.flush();
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!.message, /killed by SIGKILL/);
  });

  it('works with an abstract-namespace NOTIFY_SOCKET (@name)', async () => {
    const name = `@hwt-notify-${process.pid}-${Date.now()}`;
    const abs = await Receiver.start(name);
    try {
      const errors: Error[] = [];
      const n = createNotifier({ NOTIFY_SOCKET: name }, { onError: (e) => errors.push(e) });
      n.ready('abstract');
      await n.flush();
      assert.deepEqual(errors, []);
      const [d] = await abs.waitFor(1);
      assert.equal(d!.data, `MAINPID=${process.pid}\nREADY=1\nSTATUS=abstract`);
    } finally {
      abs.stop();
    }
  });
});
