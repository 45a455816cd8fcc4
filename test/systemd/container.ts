/**
 * A real systemd for tests: a Debian bookworm container booted with
 * systemd-nspawn. See test/systemd/README.md for the why of every step.
 *
 *   const gate = requirementsGate();
 *   describe('x', { skip: gate.skip ?? false }, () => {
 *     let ct: Container;
 *     before(async () => { ct = await bootContainer({ failure: gate.failure }); }, { timeout: BOOT_HOOK_TIMEOUT_MS });
 *     after(async () => { await ct?.stop(); });
 *     it('...', async () => { await ct.execOk(['systemctl', 'start', 'foo']); });
 *   });
 *
 * - The rootfs is built once per recipe with debootstrap and cached in
 *   CACHE_DIR/rootfs-<hash> (outside the repo, kept between runs); the hash
 *   covers build-rootfs.sh and the package list.
 * - Each container boots a throwaway overlayfs (upper dir on a tmpfs) of that
 *   cache, inside a private mount namespace: no host mount is ever made.
 * - --private-network: the container has only its own loopback; the root
 *   network namespace is not touched.
 * - Node inside: the host's /usr/bin/node is bind-mounted read-only at
 *   /usr/local/bin/node (host and container are both bookworm, so its
 *   libc/libstdc++ links resolve to the same library versions).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = path.join(HERE, 'build-rootfs.sh');
const BOOT_SCRIPT = path.join(HERE, 'boot-container.sh');

/** Where built rootfs trees are cached (outside the repo, survives runs). */
export const CACHE_DIR = process.env.HA_WATCHDOG_TEST_CACHE ?? '/var/cache/ha-watchdog-test';
/** Where per-container run dirs live (mount points, console log, state). */
export const RUN_ROOT = process.env.HA_WATCHDOG_TEST_RUNS ?? '/var/tmp/ha-watchdog-test';
/** Debian mirror for debootstrap (the one the host's apt uses by default). */
export const MIRROR = process.env.HA_WATCHDOG_TEST_MIRROR ?? 'http://deb.debian.org/debian';

/**
 * Packages of the default rootfs. systemd, systemd-sysv and dbus make it
 * bootable; keepalived provides the real keepalived.service for the drop-in
 * tests (its ConditionFileNotEmpty= keeps it from starting without a config);
 * iproute2 and procps are what the agent shells out to.
 */
export const DEFAULT_PACKAGES: readonly string[] = ['systemd', 'systemd-sysv', 'dbus', 'keepalived', 'iproute2', 'procps'];

/** A generous `before` hook timeout: a cold build plus a boot. */
export const BOOT_HOOK_TIMEOUT_MS = 20 * 60_000;

const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Host tools the harness needs, and the Debian package of each. */
export const REQUIRED_TOOLS: ReadonlyArray<readonly [tool: string, pkg: string]> = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['flock', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['mount', 'mount'],
];

export type Log = (line: string) => void;

export interface Gate {
  /** Set when the tests must be skipped (printed as the skip reason). */
  skip?: string;
  /** Set when CI=true and a prerequisite is missing: the tests must fail. */
  failure?: string;
}

function findTool(tool: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, tool);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Why the systemd tests cannot run here, or nothing when they can. */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return `systemd container tests need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'systemd container tests need root (systemd-nspawn, mount namespaces, cgroups)';
  }
  const missing = REQUIRED_TOOLS.filter(([tool]) => !findTool(tool));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return `missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y --no-install-recommends ${pkgs}`;
  }
  if (!fs.existsSync('/usr/bin/node')) return 'missing /usr/bin/node (bind-mounted into the container)';
  return undefined;
}

/**
 * Skip only when not root / not Linux (or tools missing) on a developer
 * machine; under CI=true any missing prerequisite is a failure instead.
 */
export function requirementsGate(): Gate {
  const reason = missingPrerequisite();
  if (!reason) return {};
  if (process.env.CI === 'true') {
    process.stdout.write(`systemd tests: prerequisite missing under CI=true, failing: ${reason}\n`);
    return { failure: `prerequisite missing (CI=true makes this a failure): ${reason}` };
  }
  process.stdout.write(`systemd tests skipped: ${reason}\n`);
  return { skip: reason };
}

// ---------------------------------------------------------------- processes

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOpts {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Append stdout+stderr to this file instead of collecting them. */
  logFile?: string;
  /** Own session/process group: a `kill 0` inside cannot reach the test runner. */
  detached?: boolean;
}

function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let out: number | undefined;
    if (opts.logFile) out = fs.openSync(opts.logFile, 'a');
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      detached: opts.detached ?? false,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out ?? 'pipe', out ?? 'pipe'],
    });
    if (out !== undefined) fs.closeSync(out);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function describeResult(what: string, r: ExecResult): string {
  return `${what} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat: start time, to tell a live owner from PID reuse. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ------------------------------------------------------------------- rootfs

export interface RootfsOptions {
  packages?: readonly string[];
  log?: Log;
}

export interface RootfsInfo {
  path: string;
  /** true when this call ran debootstrap, false when the cache was used. */
  built: boolean;
  buildMs: number;
}

/** The cache path for a recipe (build-rootfs.sh commands + packages). */
export function rootfsPath(packages: readonly string[] = DEFAULT_PACKAGES): string {
  const pkgs = [...new Set(packages)].sort();
  const h = createHash('sha256');
  h.update(JSON.stringify({ suite: 'bookworm', variant: 'minbase', packages: pkgs }));
  h.update('\0');
  // The script's commands, not its comments, are the recipe.
  const commands = fs
    .readFileSync(BUILD_SCRIPT, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  h.update(commands.join('\n'));
  return path.join(CACHE_DIR, `rootfs-${h.digest('hex').slice(0, 16)}`);
}

function rootfsComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'etc/ha-watchdog-test-rootfs')) && fs.existsSync(path.join(dir, 'usr/lib/systemd/systemd'));
}

/**
 * Returns the cached rootfs for the recipe, building it first if needed.
 * Concurrent callers serialise on a flock(1) lock; the build happens in a
 * temp dir renamed into place only when complete.
 */
export async function ensureRootfs(opts: RootfsOptions = {}): Promise<RootfsInfo> {
  const packages = [...new Set(opts.packages ?? DEFAULT_PACKAGES)].sort();
  const final = rootfsPath(packages);
  if (rootfsComplete(final)) {
    touch(`${final}.used`);
    return { path: final, built: false, buildMs: 0 };
  }
  await fsp.mkdir(CACHE_DIR, { recursive: true });
  const logFile = `${final}.build.log`;
  opts.log?.(`building rootfs ${final} (log: ${logFile})`);
  const t0 = Date.now();
  const r = await run(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'flock', path.join(CACHE_DIR, '.build.lock'), 'sh', BUILD_SCRIPT, final, MIRROR, packages.join(',')],
    { logFile, timeoutMs: 30 * 60_000 },
  );
  const buildMs = Date.now() - t0;
  if ((r.code !== 0 && r.code !== 10) || !rootfsComplete(final)) {
    throw new Error(`rootfs build failed (exit ${r.code ?? r.signal}); last lines of ${logFile}:\n${tail(logFile)}`);
  }
  const built = r.code === 0;
  opts.log?.(built ? `rootfs built in ${(buildMs / 1000).toFixed(1)} s` : `rootfs built by another process; waited ${(buildMs / 1000).toFixed(1)} s`);
  touch(`${final}.used`);
  if (built) await pruneRootfsCache(final, opts.log);
  return { path: final, built, buildMs };
}

/** Unused for this long, an old recipe's rootfs is deleted by the next build. */
export const CACHE_MAX_IDLE_MS = 14 * 24 * 3600_000;

function touch(file: string): void {
  try {
    const now = new Date();
    fs.closeSync(fs.openSync(file, 'a'));
    fs.utimesSync(file, now, now);
  } catch {
    /* the stamp is only a pruning hint */
  }
}

/** Removes other recipes' trees that nobody booted for CACHE_MAX_IDLE_MS. */
async function pruneRootfsCache(keep: string, log?: Log): Promise<void> {
  for (const e of safeReaddir(CACHE_DIR)) {
    const dir = path.join(CACHE_DIR, e);
    if (!/^rootfs-[0-9a-f]{16}$/.test(e) || dir === keep) continue;
    let used = 0;
    try {
      used = fs.statSync(`${dir}.used`).mtimeMs;
    } catch {
      used = fs.statSync(dir).mtimeMs;
    }
    if (Date.now() - used < CACHE_MAX_IDLE_MS || mountsUnder(dir).length > 0) continue;
    log?.(`pruning unused rootfs ${dir}`);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rm(`${dir}.used`, { force: true });
    await fsp.rm(`${dir}.build.log`, { force: true });
  }
}

// ------------------------------------------------------------------ cgroups

interface CgroupMount {
  mountpoint: string;
  /** this process's path in that hierarchy */
  own: string;
}

/** The hierarchies nspawn --keep-unit uses: cgroup2 and v1 name=systemd. */
function cgroupHierarchies(): CgroupMount[] {
  const self = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const ownV2 = self.find((l) => l.startsWith('0::'))?.slice(3);
  const ownNamed = self.find((l) => l.split(':')[1] === 'name=systemd')?.split(':')[2];
  const out: CgroupMount[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountpoint = pre.split(' ')[4];
    const [fstype, , superOpts] = post.split(' ');
    if (!mountpoint) continue;
    if (fstype === 'cgroup2' && ownV2 !== undefined) out.push({ mountpoint, own: ownV2 });
    if (fstype === 'cgroup' && ownNamed !== undefined && superOpts?.split(',').includes('name=systemd')) {
      out.push({ mountpoint, own: ownNamed });
    }
  }
  return out;
}

function makeCgroups(name: string, log?: Log): string[] {
  const dirs: string[] = [];
  for (const h of cgroupHierarchies()) {
    const dir = path.join(h.mountpoint, h.own, name);
    try {
      fs.mkdirSync(dir);
      dirs.push(dir);
    } catch (err) {
      log?.(`cannot create cgroup ${dir}: ${(err as Error).message} (nspawn will use the shared parent)`);
    }
  }
  return dirs;
}

function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.push(Number(p));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      /* gone */
    }
  };
  walk(dir);
  return pids;
}

/** Kills whatever is left in the cgroups and removes them (deepest first). */
async function removeCgroups(dirs: string[], problems: string[]): Promise<void> {
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    const left = cgroupPids(dir);
    if (left.length > 0) {
      problems.push(`processes left in ${dir}: ${left.join(' ')} (killed)`);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    const subdirs: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      subdirs.push(d);
    };
    try {
      walk(dir);
    } catch {
      continue;
    }
    for (const d of subdirs) {
      // A cgroup can be busy for a moment after its last process was reaped.
      for (let i = 0; ; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (i >= 50) {
            problems.push(`cannot remove cgroup ${d}: ${code}`);
            break;
          }
          await sleep(100);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- run dirs

interface RunState {
  name: string;
  ownerPid: number;
  ownerStart?: string;
  nspawnPid?: number;
  leaderPid?: number;
  cgroups: string[];
}

function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)));
}

async function removeRunDir(dir: string, problems: string[]): Promise<void> {
  const mounts = mountsUnder(dir);
  if (mounts.length > 0) {
    // Cannot happen (all mounts are in nspawn's private namespace); never
    // rm -rf through a mount point.
    problems.push(`mounts left under ${dir}: ${mounts.join(' ')}; run dir kept`);
    return;
  }
  await fsp.rm(dir, { recursive: true, force: true });
}

/** Cleans up after test processes that died without calling stop(). */
export async function reapStaleRuns(log?: Log): Promise<string[]> {
  const problems: string[] = [];
  let entries: string[];
  try {
    entries = await fsp.readdir(RUN_ROOT);
  } catch {
    return problems;
  }
  for (const e of entries) {
    if (!e.startsWith('hwt-')) continue;
    const dir = path.join(RUN_ROOT, e);
    let st: RunState | undefined;
    try {
      st = JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8')) as RunState;
    } catch {
      st = undefined;
    }
    if (st && alive(st.ownerPid) && startTime(st.ownerPid) === st.ownerStart) continue;
    if (!st) {
      // state.json is written right after mkdir; give a just-created dir a chance.
      const age = Date.now() - (await fsp.stat(dir)).mtimeMs;
      if (age < 60_000) continue;
    }
    log?.(`reaping stale container run dir ${dir}`);
    for (const pid of [st?.leaderPid, st?.nspawnPid]) {
      if (pid && alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await sleep(200);
    await removeCgroups(st?.cgroups ?? [], problems);
    await removeRunDir(dir, problems);
  }
  return problems;
}

// ---------------------------------------------------------------- container

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
    this.leaderPid = await waitFor('the container systemd to start', 30_000, () => {
      if (this.hasExited) throw new Error('systemd-nspawn exited during boot');
      const pid = child.pid;
      if (!pid) return undefined;
      for (const tid of safeReaddir(`/proc/${pid}/task`)) {
        for (const c of readText(`/proc/${pid}/task/${tid}/children`).split(' ').filter(Boolean)) {
          if (readText(`/proc/${c}/comm`).trim() === 'systemd') return Number(c);
        }
      }
      return undefined;
    });
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

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export const bootContainer = (opts?: BootOptions): Promise<Container> => Container.boot(opts);

/**
 * What of a container (by name; default: any of ours) is visible on the host:
 * mounts, run dirs, cgroups. Empty after a clean stop().
 */
export function hostLeftovers(name = 'hwt-'): string[] {
  const found: string[] = [];
  for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = m.split(' ')[4];
    if (mp && (mp.startsWith(path.join(RUN_ROOT, name)) || mp.startsWith(CACHE_DIR) || mp === '/run/systemd/nspawn')) found.push(`mount ${mp}`);
  }
  for (const e of safeReaddir(RUN_ROOT)) if (e.startsWith(name)) found.push(`run dir ${path.join(RUN_ROOT, e)}`);
  for (const h of cgroupHierarchies()) {
    for (const e of safeReaddir(path.join(h.mountpoint, h.own))) if (e.startsWith(name)) found.push(`cgroup ${path.join(h.mountpoint, h.own, e)}`);
  }
  return found;
}

/** `systemctl show -p A -p B` output ("A=x\nB=y") as an object. */
export function props(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
