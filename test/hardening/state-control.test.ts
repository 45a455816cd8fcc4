// Issue 13, part 2 (the control socket): the client checks that a socket can only be the
// daemon's before it says a word to it: a socket of another user (even in root's own
// stateDir), one others may write to, or one in a stateDir that is not safe is refused.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { askDaemon } from '../../src/control/client.js';
import { requireRoot } from '../helpers/prereq.js';
import { createUser, rootDir, type TestUser } from './state-helpers.js';

const skip = requireRoot();

describe('hardening: the control client refuses a socket that may not be the daemon\'s', { skip, concurrency: false }, () => {
  let user: TestUser;
  let base: string;
  const servers: Server[] = [];
  let connections = 0;
  before(() => {
    user = createUser();
    base = rootDir('haw-ctl-hard-');
  });
  after(() => {
    for (const s of servers) s.close();
    user?.remove();
    rmSync(base, { recursive: true, force: true });
  });

  /** A server that answers "ok" to anything, at stateDir/control.sock. */
  const serve = async (name: string, dirMode = 0o700): Promise<string> => {
    const dir = join(base, name);
    mkdirSync(dir);
    chmodSync(dir, dirMode);
    const path = join(dir, 'control.sock');
    const s = createServer((c) => {
      connections++;
      c.on('data', () => c.end('{"ok":true,"persisted":true}\n'));
    });
    await new Promise<void>((r) => s.listen(path, r));
    chmodSync(path, 0o600);
    servers.push(s);
    return path;
  };

  it('root\'s socket, 0600, in root\'s 0700 stateDir: talked to', async () => {
    const path = await serve('good');
    const a = await askDaemon(path, { op: 'status' });
    assert.deepEqual(a, { ok: true, response: { ok: true, persisted: true } });
  });

  it('a socket owned by another user: refused, not connected to', async () => {
    const path = await serve('theirs');
    chownSync(path, user.uid, user.gid);
    const before = connections;
    const a = await askDaemon(path, { op: 'pause', by: 'test' });
    assert.equal(a.ok, false);
    assert.equal(!a.ok && a.kind, 'unsafe');
    assert.match(!a.ok ? a.message : '', new RegExp(`refusing to talk to ${path}: the socket is owned by uid ${user.uid} \\(${user.name}\\), not uid 0 \\(root\\)`));
    assert.equal(connections, before);
  });

  it('a socket others may connect to (0666): refused', async () => {
    const path = await serve('wide');
    chmodSync(path, 0o666);
    const a = await askDaemon(path, { op: 'status' });
    assert.match(!a.ok ? a.message : '', /the socket has mode 0666 \(the daemon's is 0600\)/);
  });

  it('a stateDir others can write to (0777): refused even though the socket itself looks right', async () => {
    const path = await serve('open', 0o777);
    const a = await askDaemon(path, { op: 'resume', by: 'test' });
    assert.equal(!a.ok && a.kind, 'unsafe');
    assert.match(!a.ok ? a.message : '', /stateDir .*\/open is owned by uid 0 \(root\) with mode 0777/);
  });
});
