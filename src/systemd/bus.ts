// One connection to the system bus (dbus-daemon), as a thin layer over the pure-JS
// D-Bus client: method calls with a timeout and errors as values, the signals that
// arrive, and a clean close. The library leaves a call pending forever when the
// connection drops, and throws from an EventEmitter without an 'error' listener;
// this layer answers every pending call and catches every error instead.
//
// Idle cost: one unix socket, no timer. A timer exists only while a call waits.
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Message, MessageType, sessionBus, type MessageBus } from '@jellybrick/dbus-next';
import { fail, ok, thrownText, type Result, type SystemdError } from './errors.js';

export const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';
/** A call systemd does not answer in this long is a hung PID 1 or bus, not a slow one. */
export const CALL_TIMEOUT_MS = 5000;

export interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
  timeoutMs?: number;
}

/** What an error of this call names: the operation and unit it was for. */
export interface Context {
  op: string;
  unit?: string;
}

export interface Signal {
  sender: string;
  path: string;
  interface: string;
  member: string;
  body: unknown[];
  /** Date.now() when the message was taken off the socket. */
  at: number;
}

export interface ConnectOptions {
  socketPath?: string;
  timeoutMs?: number;
}

type Pending = (r: Result<unknown[]>) => void;

export class SystemBus {
  private readonly signalHandlers = new Set<(s: Signal) => void>();
  private readonly closeHandlers = new Set<(e: SystemdError) => void>();
  private readonly pending = new Set<Pending>();
  private lostError: SystemdError | undefined;
  private closing: Promise<void> | undefined;

  /** Use connectSystemBus(). */
  constructor(
    private readonly bus: MessageBus,
    readonly socketPath: string,
  ) {
    bus.on('message', (msg: Message) => {
      // Broadcasts only: they reach this connection through its match rules, whose
      // sender= dbus-daemon enforces. A signal addressed to this connection bypasses the
      // rules, so any local user on the bus could forge a "death" with one.
      if (msg.type !== MessageType.SIGNAL || msg.destination) return;
      const at = Date.now();
      const sig: Signal = { sender: msg.sender, path: msg.path, interface: msg.interface, member: msg.member, body: msg.body, at };
      for (const h of this.signalHandlers) h(sig);
    });
    untyped(bus).on('error', (err: unknown) => this.lost(`connection error: ${thrownText(err)}`));
    // The library forwards 'error' but not the socket's end: listen on the socket itself.
    socketOf(bus)?.once('close', () => this.lost('the bus closed the connection'));
  }

  /** The bus's unique name for this connection (":1.42"). */
  get name(): string {
    return this.bus.name ?? '';
  }

  /** Set once the connection is gone (closed or lost); calls then fail at once. */
  get closed(): boolean {
    return this.lostError !== undefined;
  }

  /** A method call; the reply's body, or why there is none (error reply, timeout, lost bus). */
  call(c: Call, ctx: Context): Promise<Result<unknown[]>> {
    const what = `${c.interface}.${c.member}`;
    if (this.lostError) return Promise.resolve(fail({ ...ctx, expected: `a reply to ${what}`, seen: this.lostError.seen }));
    const timeoutMs = c.timeoutMs ?? CALL_TIMEOUT_MS;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done: Pending = (r) => {
        if (!this.pending.delete(done)) return;
        clearTimeout(timer);
        resolve(r.ok ? r : fail({ ...r.error, ...ctx, expected: `a reply to ${what}` }));
      };
      this.pending.add(done);
      timer = setTimeout(() => done(fail({ op: ctx.op, expected: '', seen: `no reply in ${timeoutMs} ms` })), timeoutMs);
      const msg = new Message({ destination: c.destination, path: c.path, interface: c.interface, member: c.member, signature: c.signature ?? '', body: c.body ?? [] });
      this.bus.call(msg).then(
        (reply) => done(ok(reply?.body ?? [])),
        (err: unknown) => done(fail({ op: ctx.op, expected: '', seen: thrownText(err) })),
      );
    });
  }

  /** Calls fn for every signal this connection receives (as routed by its match rules). */
  onSignal(fn: (s: Signal) => void): () => void {
    this.signalHandlers.add(fn);
    return () => this.signalHandlers.delete(fn);
  }

  /** Called once when the connection ends: lost, or closed by close() (e.op 'close'). */
  onClosed(fn: (e: SystemdError) => void): () => void {
    this.closeHandlers.add(fn);
    return () => this.closeHandlers.delete(fn);
  }

  /** Asks dbus-daemon to route the signals matching rule to this connection. */
  addMatch(rule: string, ctx: Context): Promise<Result<unknown[]>> {
    return this.call({ ...DAEMON, member: 'AddMatch', signature: 's', body: [rule] }, ctx);
  }

  removeMatch(rule: string, ctx: Context): Promise<Result<unknown[]>> {
    return this.call({ ...DAEMON, member: 'RemoveMatch', signature: 's', body: [rule] }, ctx);
  }

  /**
   * Ends the connection: pending calls are answered (failed), the socket is closed
   * and nothing of it keeps the process alive. Never rejects; idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const socket = socketOf(this.bus);
    this.lost('the connection was closed by its owner', 'close');
    this.signalHandlers.clear();
    if (!socket || socket.destroyed) return;
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.bus.disconnect(); // half-close: dbus-daemon answers by closing its side
    // dbus-daemon closes within microseconds; destroy() bounds the wait if it does not.
    const t = setTimeout(() => socket.destroy(), 1000);
    await gone;
    clearTimeout(t);
  }

  private lost(seen: string, op = 'bus'): void {
    if (this.lostError) return;
    this.lostError = { op, expected: `a connection to ${this.socketPath}`, seen };
    for (const done of [...this.pending]) done(fail({ op, expected: '', seen }));
    for (const h of this.closeHandlers) h(this.lostError);
    this.closeHandlers.clear();
  }
}

const DAEMON = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

/** The library emits 'error' (its types leave it out). */
const untyped = (bus: MessageBus) => bus as unknown as EventEmitter;

/** The library's socket (not in its types): needed to see the end and to wait for the close. */
function socketOf(bus: MessageBus): Socket | undefined {
  const stream = (bus as unknown as { _connection?: { stream?: unknown } })._connection?.stream;
  return stream && typeof (stream as Socket).once === 'function' ? (stream as Socket) : undefined;
}

/**
 * Connects to the system bus and says Hello (EXTERNAL auth: the agent is root).
 * Resolves with the bus, or with why not (no socket, refused, no Hello in time).
 */
export function connectSystemBus(opts: ConnectOptions = {}): Promise<Result<SystemBus>> {
  const socketPath = opts.socketPath ?? SYSTEM_BUS_SOCKET;
  const timeoutMs = opts.timeoutMs ?? CALL_TIMEOUT_MS;
  const expected = `a Hello reply from dbus-daemon at ${socketPath} within ${timeoutMs} ms`;
  return new Promise((resolve) => {
    // sessionBus() is the library's only way to name the address; the bus is the system one.
    const bus = sessionBus({ busAddress: `unix:path=${socketPath}`, authMethods: ['EXTERNAL'] });
    let settled = false;
    const settle = (r: Result<SystemBus>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untyped(bus).off('error', onError);
      resolve(r);
    };
    const giveUp = (seen: string) => {
      settle(fail({ op: 'connect', expected, seen }));
      untyped(bus).on('error', () => {}); // late errors of the abandoned connection
      socketOf(bus)?.destroy();
    };
    const onError = (err: unknown) => giveUp(thrownText(err));
    const timer = setTimeout(() => giveUp('no answer'), timeoutMs);
    untyped(bus).on('error', onError);
    bus.once('connect', () => settle(ok(new SystemBus(bus, socketPath))));
  });
}
