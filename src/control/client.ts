// The CLI's side of the control socket: send one request, read one response line.
// Every way of not getting an answer is a value with a message an operator can act on.
// Node cannot read the server's credentials, so before connecting the client checks
// that the socket can only be the daemon's: stateDir passes the agent's own checks
// (src/os/safe-write.ts: root's, nobody else can write to it) and the socket is root's
// and not writable by group or others. A socket another user could have swapped in is
// refused, so nobody can fake "paused".
import { lstatSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { agentUid, describeUid, octal, safeDir, UnsafePathError } from '../os/safe-write.js';
import { CONTROL_TIMEOUT_MS, MAX_RESPONSE_BYTES, type ControlRequest, type ControlResponse } from './protocol.js';

export type ControlAnswer =
  | { ok: true; response: ControlResponse }
  /** absent: no daemon (exit 3); unsafe: a socket that may not be the daemon's, not asked; the others: it could not be asked or did not answer. */
  | { ok: false; kind: 'absent' | 'denied' | 'unsafe' | 'timeout' | 'broken'; message: string };

const denied = (path: string): ControlAnswer => ({ ok: false, kind: 'denied', message: `permission denied on ${path}: only root can talk to the ha-watchdog daemon` });
const absent = (path: string): ControlAnswer => ({ ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (no socket at ${path})` });
const unsafe = (path: string, why: string): ControlAnswer => ({
  ok: false,
  kind: 'unsafe',
  message: `refusing to talk to ${path}: ${why}; it may not be the daemon's socket (anything it answered could be made up)`,
});

/** Whether the socket at `path` can only be the daemon's; an answer when it is not (or is not there). */
export function vetSocket(path: string): ControlAnswer | null {
  const dir = dirname(path);
  try {
    if (!safeDir(dir, { create: false })) return absent(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return denied(path);
    if (!(e instanceof UnsafePathError)) return { ok: false, kind: 'broken', message: `cannot check ${dir}: ${(e as Error).message}` };
    // Not root, asking root's daemon: the socket is out of reach anyway.
    if (agentUid() !== 0 && rootOwned(dir)) return denied(path);
    return unsafe(path, e.message);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return absent(path);
    if (code === 'EACCES' || code === 'EPERM') return denied(path);
    return { ok: false, kind: 'broken', message: `cannot talk to the ha-watchdog daemon on ${path}: ${(e as Error).message}` };
  }
  if (!st.isSocket()) return { ok: false, kind: 'broken', message: `cannot talk to the ha-watchdog daemon on ${path}: it is not a socket` };
  if (st.uid !== agentUid()) return unsafe(path, `the socket is owned by ${describeUid(st.uid)}, not ${describeUid(agentUid())}`);
  if ((st.mode & 0o022) !== 0) return unsafe(path, `the socket has mode ${octal(st.mode)} (the daemon's is 0600)`);
  return null;
}

function rootOwned(dir: string): boolean {
  try {
    return lstatSync(dir).uid === 0;
  } catch {
    return false;
  }
}

export function askDaemon(path: string, req: ControlRequest, timeoutMs = CONTROL_TIMEOUT_MS): Promise<ControlAnswer> {
  const refused = vetSocket(path);
  if (refused) return Promise.resolve(refused);
  return new Promise((resolve) => {
    const sock = createConnection(path);
    let buf = '';
    let settled = false;
    const done = (a: ControlAnswer) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(a);
    };
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => done({ ok: false, kind: 'timeout', message: `the ha-watchdog daemon did not answer on ${path} within ${timeoutMs} ms` }));
    sock.once('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') done(absent(path));
      else if (e.code === 'ECONNREFUSED') done({ ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (nothing listens on ${path})` });
      else if (e.code === 'EACCES' || e.code === 'EPERM') done(denied(path));
      else done({ ok: false, kind: 'broken', message: `cannot talk to the ha-watchdog daemon on ${path}: ${e.message}` });
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_RESPONSE_BYTES) return done({ ok: false, kind: 'broken', message: `the answer on ${path} is longer than ${MAX_RESPONSE_BYTES} bytes` });
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const response = JSON.parse(buf.slice(0, nl)) as ControlResponse;
        if (typeof response?.ok !== 'boolean') throw new Error('no "ok" field');
        done({ ok: true, response });
      } catch (e) {
        done({ ok: false, kind: 'broken', message: `unreadable answer on ${path}: ${(e as Error).message}` });
      }
    });
    sock.on('end', () => done({ ok: false, kind: 'broken', message: `the ha-watchdog daemon closed ${path} without answering` }));
  });
}
