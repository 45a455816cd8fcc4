// The CLI's side of the control socket: send one request, read one response line.
// Every way of not getting an answer is a value with a message an operator can act on.
import { createConnection } from 'node:net';
import { CONTROL_TIMEOUT_MS, MAX_RESPONSE_BYTES, type ControlRequest, type ControlResponse } from './agent/control-protocol.js';

export type ControlAnswer =
  | { ok: true; response: ControlResponse }
  /** absent: no daemon (exit 3); the others: it could not be asked or did not answer. */
  | { ok: false; kind: 'absent' | 'denied' | 'timeout' | 'broken'; message: string };

export function askDaemon(path: string, req: ControlRequest, timeoutMs = CONTROL_TIMEOUT_MS): Promise<ControlAnswer> {
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
      if (e.code === 'ENOENT') done({ ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (no socket at ${path})` });
      else if (e.code === 'ECONNREFUSED') done({ ok: false, kind: 'absent', message: `no ha-watchdog daemon is running (nothing listens on ${path})` });
      else if (e.code === 'EACCES' || e.code === 'EPERM') done({ ok: false, kind: 'denied', message: `permission denied on ${path}: only root can talk to the ha-watchdog daemon` });
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
