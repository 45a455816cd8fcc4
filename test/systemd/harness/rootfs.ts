// The rootfs cache: a Debian bookworm tree built once per recipe (build-rootfs.sh's
// commands + the package list) with debootstrap, in CACHE_DIR/rootfs-<hash>, kept
// between runs; other recipes' trees unused for CACHE_MAX_IDLE_MS are pruned.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Log, mountsUnder, run, safeReaddir, tail } from './host.js';

const BUILD_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build-rootfs.sh');

/** Where built rootfs trees are cached (outside the repo, survives runs). */
export const CACHE_DIR = process.env.HA_WATCHDOG_TEST_CACHE ?? '/var/cache/ha-watchdog-test';
/** Debian mirror for debootstrap (the one the host's apt uses by default). */
export const MIRROR = process.env.HA_WATCHDOG_TEST_MIRROR ?? 'http://deb.debian.org/debian';

/**
 * Packages of the default rootfs. systemd, systemd-sysv and dbus make it
 * bootable; keepalived provides the real keepalived.service for the drop-in
 * tests (its ConditionFileNotEmpty= keeps it from starting without a config);
 * iproute2 and procps are what the agent shells out to.
 */
export const DEFAULT_PACKAGES: readonly string[] = ['systemd', 'systemd-sysv', 'dbus', 'keepalived', 'iproute2', 'procps'];

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
