// The optional read-only HTTP endpoint: Prometheus text at /metrics, this host's
// health as JSON at /healthz. GET and HEAD only and no request body is ever read:
// nothing here can change the agent's state. Bound exactly to the configured
// address, with short timeouts and connection caps, so a slow or greedy client
// cannot pin the daemon's sockets or memory, nor lock the peer out: past a cap the
// oldest connection that is not being answered is dropped, never the new one (a
// slowloris holding every slot would otherwise make this host look unreachable).
import type { Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface StatusSources {
  metrics: Metrics;
  /** alive: the poll loop is completing polls; body: this host's health (e.g. hostHealth()). */
  health: () => { alive: boolean; body: unknown };
  log: Logger;
  /**
   * `doctor` on the peer asks /pair?nonce=...: this host's keepalived.conf summary (its
   * VRRP password only as a hash keyed by the nonce). Answered to `from` (the
   * configured peer's address) only.
   */
  pair?: { from: string; answer: (nonce: string) => unknown };
}

export interface StatusServer {
  /** The bound port (the configured one, or the kernel's pick for port 0). */
  port: number;
  close(): Promise<void>;
}

// The peer, Prometheus and curl send their whole request at once.
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Open connections in all, and from one address; past either the oldest idle one goes. */
export const MAX_CONNECTIONS = 128;
export const MAX_PER_ADDRESS = 16;

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process listens there)',
  EADDRNOTAVAIL: 'address not available (no interface of this host has it)',
  EACCES: 'permission denied',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name does not resolve (temporary DNS failure)',
};

export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startStatusServer(listen: ListenAddress, src: StatusSources): Promise<StatusServer> {
  const address = formatAddress(listen);
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: 1_000,
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      handle(req, res, src).catch((e: Error) => fail(res, src.log, req.url, e));
    },
  );
  server.setTimeout(REQUEST_TIMEOUT_MS); // an idle socket is destroyed
  capConnections(server);

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.close(() => {});
      const why = (e.code ? WHY[e.code] : undefined) ?? e.message;
      reject(new Error(`cannot serve metrics on ${address}: ${why}${e.code ? ` (${e.code})` : ''}`, { cause: e }));
    };
    server.once('error', onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Past listen, an error (EMFILE on accept, ...) is logged; an unhandled 'error' would crash the daemon.
  server.on('error', (e) => src.log.warn({ event: 'metrics.error', reason: e.message, address }, `metrics endpoint ${address}: ${e.message}`));
  // The daemon's own timers keep it alive; a forgotten close() must not keep it from exiting.
  server.unref();

  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Keeps at most MAX_CONNECTIONS open, MAX_PER_ADDRESS from one address. A connection
 * over a cap evicts the oldest one not being answered right now (half-sent headers,
 * or idle between keep-alive requests), so slow clients cannot keep a fast one out.
 */
function capConnections(server: ReturnType<typeof createServer>): void {
  const open = new Map<Socket, { address: string; busy: boolean }>(); // insertion order = age
  const evictOldest = (from?: string) => {
    for (const [sock, c] of open) {
      if (c.busy || (from !== undefined && c.address !== from)) continue;
      open.delete(sock);
      sock.destroy();
      return true;
    }
    return false;
  };
  server.on('connection', (sock: Socket) => {
    const address = sock.remoteAddress ?? '?';
    let mine = 0;
    for (const c of open.values()) if (c.address === address) mine += 1;
    if (mine >= MAX_PER_ADDRESS && !evictOldest(address)) return void sock.destroy();
    if (open.size >= MAX_CONNECTIONS && !evictOldest()) return void sock.destroy();
    open.set(sock, { address, busy: false });
    sock.once('close', () => open.delete(sock));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = open.get(req.socket);
    if (!c) return;
    c.busy = true;
    res.once('finish', () => (c.busy = false));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, src: StatusSources): Promise<void> {
  req.resume(); // a body is never read, only drained
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics' && path !== '/healthz' && !(path === '/pair' && src.pair)) {
    return send(res, 404, 'text/plain; charset=utf-8', `not found: only /metrics and /healthz are served\n`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed: this endpoint is read-only\n`);
  }
  if (path === '/metrics') {
    return send(res, 200, src.metrics.contentType, await src.metrics.text());
  }
  if (path === '/pair') return pair(req, res, src.pair!);
  const h = src.health();
  send(res, h.alive ? 200 : 503, 'application/json', `${JSON.stringify(h.body)}\n`);
}

function pair(req: IncomingMessage, res: ServerResponse, p: NonNullable<StatusSources['pair']>): void {
  const from = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  if (from !== p.from) return send(res, 403, 'text/plain; charset=utf-8', `forbidden: /pair answers the configured peer (${p.from}) only, not ${from}\n`);
  const nonce = new URL(req.url ?? '/', 'http://x').searchParams.get('nonce');
  if (nonce === null || !/^[0-9a-f]{16,64}$/.test(nonce)) return send(res, 400, 'text/plain; charset=utf-8', 'nonce: 16 to 64 hex digits expected\n');
  send(res, 200, 'application/json', `${JSON.stringify(p.answer(nonce))}\n`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body); // Node sends no body for HEAD, headers stay the same as for GET
}

function fail(res: ServerResponse, log: Logger, url: string | undefined, e: Error): void {
  log.warn({ event: 'metrics.error', reason: e.message, path: url }, `metrics endpoint: ${url}: ${e.message}`);
  if (res.headersSent) return void res.destroy();
  send(res, 500, 'text/plain; charset=utf-8', `internal error: ${e.message}\n`);
}
