// The daemon's control socket: `status`, `pause` and `resume` from the CLI on the same
// host. A unix socket only, never TCP. Node cannot read a peer's credentials, so the
// file mode is the access check: the socket is 0600 (root) from the moment it exists,
// inside root's 0700 stateDir. One request line in, one response line out.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { CONTROL_TIMEOUT_MS, MAX_REQUEST_BYTES, MAX_SOCKET_PATH_BYTES, parseRequest, type ControlRequest, type ControlResponse } from './protocol.js';

export type ControlHandler = (req: ControlRequest) => ControlResponse | Promise<ControlResponse>;

export interface ControlServer {
  path: string;
  /** Stops listening, drops open connections, removes the socket file. */
  close(): Promise<void>;
}

/** A few concurrent CLI calls at most; Node closes any connection beyond these at once. */
const MAX_CONNECTIONS = 8;

export async function startControlServer(path: string, handler: ControlHandler, opts: { timeoutMs?: number } = {}): Promise<{ ok: true; server: ControlServer } | { ok: false; reason: string }> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    return { ok: false, reason: `socket path ${path} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket address holds; use a shorter stateDir` };
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e) {
    return { ok: false, reason: `cannot create ${dirname(path)}: ${(e as Error).message}` };
  }
  const stale = await clearStale(path);
  if (stale) return { ok: false, reason: stale };

  const open = new Set<Socket>();
  const server = createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    serve(sock, handler, opts.timeoutMs ?? CONTROL_TIMEOUT_MS);
  });
  server.maxConnections = MAX_CONNECTIONS;

  const listening = new Promise<Error | null>((resolve) => {
    server.once('listening', () => resolve(null));
    server.once('error', (e) => resolve(e));
  });
  // bind() creates the socket file synchronously inside listen(), with the process umask:
  // 0177 for that one call makes it 0600 from its first instant, so there is no window
  // in which another user could connect. No other code runs in between (one thread).
  const umask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  const failed = await listening;
  if (failed) return { ok: false, reason: `cannot listen on ${path}: ${failed.message}` };
  let ino: number;
  try {
    chmodSync(path, 0o600); // belt and braces; already 0600
    ino = lstatSync(path).ino;
  } catch (e) {
    server.close();
    return { ok: false, reason: `cannot secure ${path}: ${(e as Error).message}` };
  }
  server.on('error', () => {}); // per-connection errors are handled on the socket

  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of open) s.destroy();
    });
    // libuv unlinks the socket on close; only a file that is still ours is removed here.
    try {
      if (lstatSync(path).ino === ino) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  return { ok: true, server: { path, close } };
}

function serve(sock: Socket, handler: ControlHandler, timeoutMs: number): void {
  let buf = '';
  let taken = false; // one request per connection
  const reply = (res: ControlResponse) => void sock.end(`${JSON.stringify(res)}\n`);
  sock.setEncoding('utf8');
  sock.setTimeout(timeoutMs, () => sock.destroy()); // a client that connects and says nothing
  sock.on('error', () => {}); // a client that went away is no concern of the daemon's
  sock.on('data', (chunk: string) => {
    if (taken) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    const line = nl < 0 ? buf : buf.slice(0, nl);
    if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
      taken = true;
      reply({ ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
      return;
    }
    if (nl < 0) return;
    taken = true;
    const req = parseRequest(line);
    if ('error' in req) {
      reply({ ok: false, error: req.error });
      return;
    }
    Promise.resolve()
      .then(() => handler(req))
      .then(reply, (e: Error) => reply({ ok: false, error: `internal error: ${e.message}` }));
  });
}

// A socket file left by an agent that died without cleaning up is removed, but only
// when nobody answers on it: a live one belongs to another process and is left alone.
async function clearStale(path: string): Promise<string | null> {
  try {
    if (!lstatSync(path).isSocket()) return `${path} exists and is not a socket; not touching it`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `cannot inspect ${path}: ${(e as Error).message}`;
  }
  if (await answers(path)) return `another process answers on ${path}; not taking it over`;
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot remove the stale socket ${path}: ${(e as Error).message}`;
  }
  return null;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(true)); // accepted by the kernel but nobody reads: alive
    s.once('connect', () => done(true));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT'));
  });
}
