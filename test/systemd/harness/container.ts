// The Container class: boots a throwaway overlay of the cached rootfs with
// systemd-nspawn (boot-container.sh) in a private mount namespace, runs commands inside
// it (nsenter), and removes everything it made on stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/wait.js';
import { makeCgroups, removeCgroups } from './cgroups.js';
import { alive, describeResult, type ExecResult, type Log, readText, run, safeReaddir, sleep, startTime, tail } from './host.js';
import { ensureRootfs } from './rootfs.js';
import { reapStaleRuns, removeRunDir, RUN_ROOT, type RunState } from './runs.js';

const BOOT_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'boot-container.sh');

/** A generous `before` hook timeout: a cold build plus a boot. */
export const BOOT_HOOK_TIMEOUT_MS = 20 * 60_000;

const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Bind {
  host: string;
  container: string;
  readOnly?: boolean;
}

export interface BootOptions {
  packages?: readonly string[];
  /** Extra bind mounts (e.g. the repo, read-only). */
  binds?: Bind[];
  /** Host node binary to bind at /usr/local/bin/node; false for none. */
  node?: string | false;
  /** Until systemctl is-system-running --wait answers. Default 120 s. */
  bootTimeoutMs?: number;
  /** Throw instead of booting (pass Gate.failure). */
  failure?: string;
  log?: Log;
}

export interface StopReport {
  /** false when anything had to be forced or could not be removed */
  clean: boolean;
  problems: string[];
}

export interface Timings {
  /** ms spent building the rootfs in this call (0 when cached) */
  buildMs: number;
  /** ms from spawning nspawn to `is-system-running` answering */
  bootMs: number;
  /** what is-system-running printed: running, degraded, ... */
  systemState: string;
}

const live = new Set<Container>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test process exits without stop(): kill the pid
  // namespace (its mounts go with it) and drop the run dir.
  process.on('exit', () => {
    for (const c of live) c.killSync();
  });
}

export class Container {
  readonly name: string;
  readonly runDir: string;
  readonly rootfs: string;
  readonly timings: Timings = { buildMs: 0, bootMs: 0, systemState: '' };
  /** PID (host view) of the container's systemd, i.e. its PID 1. */
  leaderPid = 0;
  private nspawn: ChildProcess | undefined;
  private exited: Promise<void>;
  private hasExited = false;
  private cgroups: string[] = [];
  private stopping: Promise<StopReport> | undefined;
  private log: Log;

  private constructor(name: string, runDir: string, rootfs: string, log: Log) {
    this.name = name;
    this.runDir = runDir;
    this.rootfs = rootfs;
    this.log = log;
    this.exited = Promise.resolve();
  }

  get consoleLogFile(): string {
    return path.join(this.runDir, 'console.log');
  }

  /** The container's console output so far (boot messages, nspawn errors). */
  consoleLog(): string {
    try {
      return fs.readFileSync(this.consoleLogFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Boots a container; see BootOptions. */
  static async boot(opts: BootOptions = {}): Promise<Container> {
    if (opts.failure) throw new Error(opts.failure);
    const log: Log = opts.log ?? ((l) => process.stdout.write(`container: ${l}\n`));
    const rootfs = await ensureRootfs({ packages: opts.packages, log });
    await fsp.mkdir(RUN_ROOT, { recursive: true });
    for (const p of await reapStaleRuns(log)) log(p);

    const name = `hwt-${randomBytes(4).toString('hex')}`;
    const runDir = path.join(RUN_ROOT, name);
    await fsp.mkdir(path.join(runDir, 'merged'), { recursive: true });
    await fsp.mkdir(path.join(runDir, 'scratch'));
    const c = new Container(name, runDir, rootfs.path, log);
    c.timings.buildMs = rootfs.buildMs;
    live.add(c);
    installExitHook();
    try {
      await c.start(opts);
    } catch (err) {
      const report = await c.stop();
      const extra = report.problems.length ? `\ncleanup problems: ${report.problems.join('; ')}` : '';
      throw new Error(`${(err as Error).message}\n--- console (last lines)\n${tail(c.consoleLogFile, 60)}${extra}`);
    }
    return c;
  }

  private writeState(extra: Partial<RunState> = {}): void {
    const st: RunState = {
      name: this.name,
      ownerPid: process.pid,
      ownerStart: startTime(process.pid),
      cgroups: this.cgroups,
      nspawnPid: this.nspawn?.pid,
      leaderPid: this.leaderPid || undefined,
      ...extra,
    };
    fs.writeFileSync(path.join(this.runDir, 'state.json'), JSON.stringify(st));
  }

  private async start(opts: BootOptions): Promise<void> {
    this.cgroups = makeCgroups(this.name, this.log);
    this.writeState();
    const node = opts.node === undefined ? '/usr/bin/node' : opts.node;
    const args = [
      '--boot',
      '--register=no',
      '--keep-unit',
      '--private-network',
      '--link-journal=no',
      '--resolv-conf=off',
      '--timezone=off',
      '--console=read-only',
      `--machine=${this.name}`,
    ];
    if (node) args.push(`--bind-ro=${node}:/usr/local/bin/node`);
    for (const b of opts.binds ?? []) args.push(`${b.readOnly ? '--bind-ro' : '--bind'}=${b.host}:${b.container}`);

    const env: NodeJS.ProcessEnv = { ...process.env, HWT_CGROUPS: this.cgroups.join(' ') };
    delete env.NOTIFY_SOCKET;
    const out = fs.openSync(this.consoleLogFile, 'a');
    const t0 = Date.now();
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', BOOT_SCRIPT, this.runDir, this.rootfs, ...args], {
      env,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.nspawn = child;
    this.exited = new Promise((resolve) => {
      child.on('exit', () => {
        this.hasExited = true;
        resolve();
      });
      child.on('error', (err) => {
        this.log(`cannot spawn unshare: ${err.message}`);
        this.hasExited = true;
        resolve();
      });
    });
    this.writeState();

    // The container's PID 1 is nspawn's child running systemd.
    this.leaderPid = await waitFor(() => {
      if (this.hasExited) throw new Error('systemd-nspawn exited during boot');
      const pid = child.pid;
      if (!pid) return undefined;
      for (const tid of safeReaddir(`/proc/${pid}/task`)) {
        for (const c of readText(`/proc/${pid}/task/${tid}/children`).split(' ').filter(Boolean)) {
          if (readText(`/proc/${c}/comm`).trim() === 'systemd') return Number(c);
        }
      }
      return undefined;
    }, 30_000, { what: 'the container systemd to start', onError: 'throw' });
    this.writeState();

    const timeout = opts.bootTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeout;
    // Until PID 1 listens on its private socket systemctl cannot connect;
    // after that --wait blocks until start-up finished.
    for (;;) {
      if (this.hasExited) throw new Error('systemd-nspawn exited during boot');
      const r = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) });
      const state = r.stdout.trim();
      if (['running', 'degraded', 'maintenance', 'stopping'].includes(state)) {
        this.timings.systemState = state;
        break;
      }
      if (Date.now() > deadline) throw new Error(`container did not finish booting in ${timeout} ms: ${describeResult('is-system-running', r)}`);
      await sleep(100);
    }
    this.timings.bootMs = Date.now() - t0;
    if (this.timings.systemState !== 'running') {
      const failed = await this.exec(['systemctl', '--failed', '--no-legend', '--plain']);
      this.log(`container state ${this.timings.systemState}; failed units:\n${failed.stdout}`);
    }
  }

  /**
   * Runs argv inside the container (all its namespaces, its root) with a
   * clean environment. Resolves with the exit status; never rejects for a
   * non-zero exit (see execOk).
   */
  exec(argv: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    if (!this.leaderPid) return Promise.reject(new Error('container not started'));
    const env = Object.entries({
      PATH: CONTAINER_PATH,
      LANG: 'C.UTF-8',
      TERM: 'dumb',
      SYSTEMD_PAGER: 'cat',
      SYSTEMD_COLORS: '0',
      ...opts.env,
    }).map(([k, v]) => `${k}=${v}`);
    return run('nsenter', ['-t', String(this.leaderPid), '-a', '-r', '-w', '--', '/usr/bin/env', '-i', ...env, ...argv], {
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? 60_000,
      detached: true,
    });
  }

  /** exec() that rejects, with stdout/stderr in the message, unless exit 0. */
  async execOk(argv: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) throw new Error(describeResult(argv.join(' '), r));
    return r.stdout;
  }

  /** systemctl with the given args; resolves with stdout, rejects on failure. */
  systemctl(...args: string[]): Promise<string> {
    return this.execOk(['systemctl', ...args]);
  }

  /** Host path of a container path (through /proc/<pid>/root). */
  hostPath(containerPath: string): string {
    if (!path.isAbsolute(containerPath)) throw new Error(`container path must be absolute: ${containerPath}`);
    return `/proc/${this.leaderPid}/root${path.normalize(containerPath)}`;
  }

  /** Copies a host file or directory into the container. */
  async copyIn(hostPath: string, containerPath: string, mode?: number): Promise<void> {
    const dest = this.hostPath(containerPath);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.cp(hostPath, dest, { recursive: true, force: true, preserveTimestamps: true });
    if (mode !== undefined) await fsp.chmod(dest, mode);
  }

  /** Writes a file inside the container (parents created). */
  async writeFile(containerPath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const dest = this.hostPath(containerPath);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.writeFile(dest, data, { mode });
    await fsp.chmod(dest, mode);
  }

  async readFile(containerPath: string): Promise<string> {
    return fsp.readFile(this.hostPath(containerPath), 'utf8');
  }

  /** journalctl -u <unit> [args] after asking journald to flush. */
  async journal(unit: string, args: string[] = []): Promise<string> {
    await this.exec(['journalctl', '--sync']);
    return this.execOk(['journalctl', '--no-pager', '-q', '-u', unit, ...args]);
  }

  /** The unit's journal entries as parsed `journalctl -o json` objects. */
  async journalEntries(unit: string, args: string[] = []): Promise<Array<Record<string, unknown>>> {
    const out = await this.journal(unit, ['-o', 'json', ...args]);
    return out
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /**
   * Powers the container off and removes everything it made: waits for
   * nspawn to exit (which drops the private mounts), kills what is left if
   * poweroff hangs, removes its cgroups and run dir. Never rejects;
   * idempotent.
   */
  stop(timeoutMs = 30_000): Promise<StopReport> {
    this.stopping ??= this.doStop(timeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<StopReport> {
    const problems: string[] = [];
    const waitExit = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void this.exited.then(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    try {
      if (this.nspawn && !this.hasExited) {
        if (this.leaderPid) {
          const r = await this.exec(['systemctl', 'poweroff', '--no-block'], { timeoutMs: 10_000 }).catch((e: Error) => e);
          if (r instanceof Error || r.code !== 0) {
            problems.push(`systemctl poweroff failed: ${r instanceof Error ? r.message : r.stderr.trim()}`);
            this.nspawn.kill('SIGTERM'); // nspawn turns it into SIGRTMIN+3: poweroff
          }
        } else {
          this.nspawn.kill('SIGTERM');
        }
        if (!(await waitExit(timeoutMs))) {
          problems.push(`container did not power off in ${timeoutMs} ms; killed`);
          // SIGKILL to a pid namespace's init kills the whole namespace.
          if (this.leaderPid && alive(this.leaderPid)) process.kill(this.leaderPid, 'SIGKILL');
          this.nspawn.kill('SIGKILL');
          if (!(await waitExit(10_000))) problems.push('systemd-nspawn did not exit after SIGKILL');
        }
      }
      await removeCgroups(this.cgroups, problems);
      await removeRunDir(this.runDir, problems);
    } catch (err) {
      problems.push(`cleanup error: ${(err as Error).message}`);
    }
    live.delete(this);
    for (const p of problems) this.log(p);
    return { clean: problems.length === 0, problems };
  }

  /** Synchronous last-resort cleanup for process 'exit'. */
  killSync(): void {
    try {
      if (this.leaderPid && alive(this.leaderPid)) process.kill(this.leaderPid, 'SIGKILL');
      if (this.nspawn?.pid && alive(this.nspawn.pid)) process.kill(this.nspawn.pid, 'SIGKILL');
    } catch {
      /* best effort: reapStaleRuns() finishes the job next time */
    }
  }
}

export const bootContainer = (opts?: BootOptions): Promise<Container> => Container.boot(opts);

/** `systemctl show -p A -p B` output ("A=x\nB=y") as an object. */
export function props(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
