// sd_notify for the agent, through systemd's own `systemd-notify` tool.
//
// Node has no AF_UNIX datagram sockets, and the npm modules that add them
// (unix-dgram, sd-notify, ...) are native addons needing a node-gyp build on
// every target; systemd-notify ships with systemd itself, so wherever there is
// a NOTIFY_SOCKET there is the tool. See test/systemd/README.md for the study.
//
// Every message is sent as
//   systemd-notify --pid=<our pid> --no-block VAR=value ...
// spawned with execFile (argv array, no shell), one at a time in call order,
// never blocking the event loop and never throwing: failures go to onError.
//
// * --pid=<our pid>: as root, systemd-notify puts our PID (not its own) into
//   the datagram's SCM_CREDENTIALS, so systemd attributes it to the main
//   process: NotifyAccess=main is enough, and there is no race with
//   systemd-notify exiting before PID 1 looks up the sender's cgroup (the
//   attributed PID, ours, is alive). It also adds MAINPID=<our pid>, which is
//   a no-op when we are already the main PID. Faking the credentials needs
//   CAP_SYS_ADMIN: the unit must not drop it from CapabilityBoundingSet=.
// * --no-block: skip the BARRIER=1 round-trip (systemd >= 246). Calls are
//   serialised, so datagrams still arrive in call order.
// * Outside systemd (no NOTIFY_SOCKET) every call is a no-op: nothing spawns.
import { execFile as nodeExecFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type NotifyCallback = (err: Error | null) => void;

export interface Notifier {
  /** true when NOTIFY_SOCKET is set, i.e. messages are actually sent */
  readonly enabled: boolean;
  /**
   * The watchdog timeout systemd expects pings within (WATCHDOG_USEC in ms),
   * or null when the watchdog is off or meant for another PID (WATCHDOG_PID).
   */
  readonly watchdogIntervalMs: number | null;
  /** READY=1 + STATUS=: start-up (or a reload) is complete. */
  ready(status: string, done?: NotifyCallback): void;
  /** STATUS=: the one-line status `systemctl status` shows; skipped when unchanged. */
  status(status: string, done?: NotifyCallback): void;
  /**
   * WATCHDOG=1, at most once per watchdogIntervalMs/4 (cheap to call on
   * every poll); a no-op when the watchdog is off.
   */
  watchdog(done?: NotifyCallback): void;
  /** STOPPING=1 (+ STATUS= when given). */
  stopping(status?: string, done?: NotifyCallback): void;
  /**
   * RELOADING=1 + MONOTONIC_USEC= (+ STATUS=). Send ready() when the reload
   * is done: systemd keeps the unit "reloading" until READY=1.
   */
  reloading(status?: string, done?: NotifyCallback): void;
  /**
   * Pings the watchdog every watchdogIntervalMs/4 from a timer (unref'd) while
   * isAlive() returns true, for loops whose period may exceed the watchdog
   * timeout. Returns a stop function. A no-op when the watchdog is off.
   */
  keepAlive(isAlive?: () => boolean): () => void;
  /** Resolves once every message queued so far has been handed over (or failed). */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  /** The systemd-notify binary. Default: /usr/bin/systemd-notify, /bin/systemd-notify, else PATH. */
  command?: string;
  /** The PID messages are attributed to. Default: process.pid. */
  pid?: number;
  /** Called with every failure (spawn error, non-zero exit, timeout, overflow). Default: one line to stderr. */
  onError?: (err: Error) => void;
  /** Kill a systemd-notify that has not exited after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** Messages waiting behind the one in flight before new ones are dropped. Default 32. */
  maxQueue?: number;
  /** Clock for the watchdog rate limit (tests). Default Date.now. */
  now?: () => number;
  /** child_process.execFile replacement (tests). */
  execFile?: ExecFileLike;
}

export type ExecFileLike = (
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeout: number; killSignal: NodeJS.Signals; windowsHide: boolean },
  callback: (error: (Error & { code?: unknown; signal?: unknown }) | null, stdout: string | Buffer, stderr: string | Buffer) => void,
) => unknown;

const MAX_STATUS = 1024;

function defaultCommand(): string {
  for (const p of ['/usr/bin/systemd-notify', '/bin/systemd-notify']) if (existsSync(p)) return p;
  return 'systemd-notify';
}

/** STATUS= is one line; keep it short and free of control characters. */
export function sanitizeStatus(s: string): string {
  // eslint-disable-next-line no-control-regex
  const one = String(s).replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return one.length > MAX_STATUS ? `${one.slice(0, MAX_STATUS - 1)}…` : one;
}

/** WATCHDOG_USEC in ms, or null when unset, invalid, or for another PID. */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}

interface Message {
  fields: string[];
  /** coalescing key: a queued message with the same key is replaced */
  kind?: 'status' | 'watchdog';
  callbacks: NotifyCallback[];
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env, opts: NotifierOptions = {}): Notifier {
  const socket = env.NOTIFY_SOCKET || undefined;
  const enabled = socket !== undefined;
  const pid = opts.pid ?? process.pid;
  const watchdogIntervalMs = enabled ? watchdogIntervalFromEnv(env, pid) : null;
  const minPingGap = watchdogIntervalMs === null ? Infinity : watchdogIntervalMs / 4;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxQueue = opts.maxQueue ?? 32;
  const exec: ExecFileLike = opts.execFile ?? (nodeExecFile as unknown as ExecFileLike);
  const onError =
    opts.onError ??
    ((err: Error) => {
      process.stderr.write(`ha-watchdog: sd_notify: ${err.message}\n`);
    });
  const command = enabled ? (opts.command ?? defaultCommand()) : '';

  let lastPing = -Infinity;
  let inFlight = false;
  const queue: Message[] = [];
  let idleWaiters: Array<() => void> = [];

  const report = (err: Error) => {
    try {
      onError(err);
    } catch {
      // a throwing logger must not break the agent
    }
  };
  const settle = (cbs: NotifyCallback[], err: Error | null) => {
    for (const cb of cbs) {
      try {
        cb(err);
      } catch (e) {
        report(new Error(`notify callback threw: ${(e as Error).message}`));
      }
    }
  };
  const later = (cb: NotifyCallback | undefined) => {
    if (cb) process.nextTick(cb, null);
  };

  const pump = () => {
    if (inFlight) return;
    const msg = queue.shift();
    if (!msg) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const resolve of w) resolve();
      return;
    }
    inFlight = true;
    const args = [`--pid=${pid}`, '--no-block', ...msg.fields];
    const finish = (err: Error | null) => {
      inFlight = false;
      if (err) report(err);
      settle(msg.callbacks, err);
      pump();
    };
    try {
      exec(command, args, { env: { NOTIFY_SOCKET: socket }, timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true }, (error, _stdout, stderr) => {
        if (!error) return finish(null);
        const why = error.signal
          ? `killed by ${String(error.signal)}${error.signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}`
          : typeof error.code === 'number'
            ? `exit ${error.code}`
            : String(error.code ?? error.message);
        const detail = String(stderr ?? '').trim();
        finish(new Error(`${command} ${msg.fields.join(' ')}: ${why}${detail ? `: ${detail}` : ''}`));
      });
    } catch (e) {
      finish(new Error(`${command}: ${(e as Error).message}`));
    }
  };

  const send = (fields: string[], kind: Message['kind'], done?: NotifyCallback) => {
    if (!enabled) return later(done);
    const callbacks = done ? [done] : [];
    // A queued ping anywhere suffices; a newer status supersedes a queued
    // one only when nothing was queued after it (order must be kept).
    const queued = kind === 'watchdog' ? queue.find((m) => m.kind === kind) : kind ? queue.at(-1) : undefined;
    if (queued && queued.kind === kind) {
      queued.fields = fields;
      queued.callbacks.push(...callbacks);
      return;
    }
    if (queue.length >= maxQueue) {
      const err = new Error(`queue full (${maxQueue} messages waiting): dropped ${fields.join(' ')}`);
      report(err);
      if (done) process.nextTick(done, err);
      return;
    }
    queue.push({ fields, kind, callbacks });
    pump();
  };

  // The last STATUS= handed to the queue, so status() can skip repeats.
  let lastStatus: string | undefined;
  const withStatus = (fields: string[], status?: string) => {
    if (status === undefined) return fields;
    lastStatus = sanitizeStatus(status);
    return [...fields, `STATUS=${lastStatus}`];
  };

  const watchdog = (done?: NotifyCallback) => {
    if (watchdogIntervalMs === null) return later(done);
    const t = now();
    if (t - lastPing < minPingGap) return later(done);
    lastPing = t;
    send(['WATCHDOG=1'], 'watchdog', done);
  };

  return {
    enabled,
    watchdogIntervalMs,
    ready: (status, done) => send(withStatus(['READY=1'], status), undefined, done),
    status: (status, done) => {
      // The daemon reports its summary after every poll; most are unchanged.
      if (sanitizeStatus(status) === lastStatus) return later(done);
      send(withStatus([], status), 'status', done);
    },
    watchdog,
    stopping: (status, done) => send(withStatus(['STOPPING=1'], status), undefined, done),
    reloading: (status, done) =>
      send(withStatus(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`], status), undefined, done),
    keepAlive: (isAlive = () => true) => {
      if (watchdogIntervalMs === null) return () => undefined;
      const timer = setInterval(() => {
        let ok = false;
        try {
          ok = isAlive();
        } catch (e) {
          report(new Error(`keepAlive check threw: ${(e as Error).message}`));
        }
        if (ok) watchdog();
      }, Math.max(1, Math.floor(minPingGap)));
      timer.unref();
      return () => clearInterval(timer);
    },
    flush: () =>
      !inFlight && queue.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
          }),
  };
}
