// Host side of the D-Bus unit watch tests and bench: the test units, the driver
// (dbus-driver.ts) bundled with src/systemd by esbuild into one file copied into the
// container (no dist/, no node_modules inside: the bundle carries the D-Bus client),
// and a long-running driver process in the container's namespaces spoken to over its
// stdin/stdout. Container.exec() waits for its command to end, hence the own spawn,
// in the same form (nsenter into all namespaces, a clean env, own process group).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Container } from './container.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DRIVER_IN_CONTAINER = '/opt/hwt-dbus/driver.mjs';

/** The units the tests and the bench watch, by name -> unit file. */
export const UNITS: Record<string, string> = {
  // A long-running main process that nothing brings back but the agent.
  'hwt-norestart.service': unit('Restart=no', ['ExecStart=/usr/bin/sleep infinity', 'Restart=no']),
  // systemd restarts it itself: the agent must only record that.
  'hwt-onfailure.service': unit('Restart=on-failure', ['ExecStart=/usr/bin/sleep infinity', 'Restart=on-failure', 'RestartSec=1500ms'], ['StartLimitIntervalSec=0']),
  // Its start job fails: ExecStartPre= fails before the main process exists.
  'hwt-prefail.service': unit('ExecStartPre fails', ['ExecStartPre=/usr/bin/false', 'ExecStart=/usr/bin/sleep infinity']),
  // Its start job fails: Type=exec waits for the exec, which finds no program.
  'hwt-noexec.service': unit('ExecStart missing', ['Type=exec', 'ExecStart=/nonexistent/hwt-program']),
  // A start that takes longer than the caller waits.
  'hwt-slowstart.service': unit('slow ExecStartPre', ['ExecStartPre=/usr/bin/sleep 5', 'ExecStart=/usr/bin/sleep infinity']),
  // The bench's victim: killed 20 times in a row, so no start limit.
  'hwt-bench.service': unit('bench victim', ['ExecStart=/usr/bin/sleep infinity', 'Restart=no'], ['StartLimitIntervalSec=0']),
};

function unit(what: string, service: string[], unitSection: string[] = []): string {
  return ['[Unit]', `Description=ha-watchdog D-Bus watch test: ${what}`, ...unitSection, '', '[Service]', ...service, ''].join('\n');
}

/** Writes the units into the container and reloads systemd. */
export async function installUnits(ct: Container): Promise<void> {
  for (const [name, text] of Object.entries(UNITS)) await ct.writeFile(`/etc/systemd/system/${name}`, text);
  await ct.systemctl('daemon-reload');
}

/** esbuild bundle of dbus-driver.ts (+ src/systemd, + the D-Bus client) copied into the container. */
export async function installDriver(ct: Container): Promise<{ bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'hwt-dbus-driver-'));
  try {
    const outfile = join(dir, 'driver.mjs');
    const r = spawnSync(
      join(REPO, 'node_modules', '.bin', 'esbuild'),
      [join(REPO, 'test/systemd/dbus-driver.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${outfile}`, '--log-level=error'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`esbuild of dbus-driver.ts failed: ${r.stderr || r.error?.message}`);
    const text = readFileSync(outfile);
    await ct.writeFile(DRIVER_IN_CONTAINER, text);
    return { bytes: text.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Event = Record<string, unknown> & { event: string };

/** The driver process in the container: requests with replies, and its events in order. */
export class Driver {
  readonly events: Event[] = [];
  readonly stderr: string[] = [];
  private readonly replies = new Map<number, (r: Record<string, unknown>) => void>();
  private readonly waiters = new Set<() => void>();
  private nextId = 1;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderr.push(`(stdout) ${line}`);
        return;
      }
      if (typeof msg.id === 'number') {
        this.replies.get(msg.id)?.(msg);
        this.replies.delete(msg.id);
      } else {
        this.events.push(msg as Event);
        for (const w of [...this.waiters]) w();
      }
    });
    child.stderr.on('data', (b: Buffer) => this.stderr.push(b.toString()));
    this.exited = new Promise((res) => child.on('close', (code, signal) => res({ code, signal })));
  }

  /** Starts the driver in the container; resolves once its watch is open. */
  static async start(ct: Container): Promise<Driver> {
    const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'];
    const child = spawn('nsenter', ['-t', String(ct.leaderPid), '-a', '-r', '-w', '--', '/usr/bin/env', '-i', ...env, '/usr/local/bin/node', DRIVER_IN_CONTAINER], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const d = new Driver(child);
    const ready = await d.waitEvent((e) => e.event === 'ready' || e.event === 'open-failed', 20_000);
    if (ready.event !== 'ready') throw new Error(`driver could not open the watch: ${JSON.stringify(ready)}\n${d.stderr.join('')}`);
    return d;
  }

  request(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 90_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.replies.delete(id);
        rej(new Error(`driver gave no reply to ${cmd} in ${timeoutMs} ms; stderr: ${this.stderr.join('')}`));
      }, timeoutMs);
      this.replies.set(id, (r) => {
        clearTimeout(t);
        if (r.thrown) rej(new Error(`driver threw on ${cmd}: ${String(r.thrown)}`));
        else res(r);
      });
      this.child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** The first event (from `from` on) matching pred, waiting up to timeoutMs for it. */
  waitEvent(pred: (e: Event) => boolean, timeoutMs: number, from = 0): Promise<Event> {
    return new Promise((res, rej) => {
      const check = () => {
        const e = this.events.slice(from).find(pred);
        if (!e) return false;
        clearTimeout(t);
        this.waiters.delete(check);
        res(e);
        return true;
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        rej(new Error(`no matching driver event in ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(from))}; stderr: ${this.stderr.join('')}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** The host pid of the node process (nsenter forks it into the pid namespace). */
  hostPid(): number {
    const pid = this.child.pid;
    if (!pid) throw new Error('driver not running');
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean);
      if (kids[0]) return Number(kids[0]);
    }
    throw new Error(`nsenter ${pid} has no child`);
  }

  /** Kills the driver's process group (a test that failed midway). */
  kill(): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
