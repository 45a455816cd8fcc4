// A webhook receiver on 127.0.0.1 that records what it gets, a logger whose lines the
// test can read, and a config builder for notify.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { NotifyConfig } from '../../src/config/load.js';
import { DEFAULT_NOTIFY_EVENTS } from '../../src/catalogue/events.js';
import { createLogger, type Logger } from '../../src/log.js';

export interface Received {
  /** performance.now() when the request's body was complete. */
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Connections the server saw closed (by the client or by the test). */
  closedConnections(): number;
  close(): Promise<void>;
}

/** `respond` answers request number n (1-based); not answering at all is a hang. */
export async function receiver(respond: (n: number, res: ServerResponse, req: Received) => void = (_n, res) => void res.writeHead(204).end()): Promise<Receiver> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let closed = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { at: performance.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      respond(received.length, res, r);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => {
      closed += 1;
      sockets.delete(s);
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token`,
    received,
    closedConnections: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface LogLine {
  level: string;
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

export function captureLog(): { log: Logger; lines: LogLine[]; of: (event: string) => LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger({ level: 'debug', env: {}, write: (line) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines, of: (event) => lines.filter((l) => l.event === event) };
}

export function notifyConfig(over: Partial<NotifyConfig> = {}): NotifyConfig {
  return { events: [...DEFAULT_NOTIFY_EVENTS], dedupe: 300_000, ...over };
}
