// The one way the agent (root) writes and reads its own files. A directory another user
// can write to would let that user plant symlinks (root truncating /etc/shadow through
// stateDir/state.json.tmp-<pid>), swap the control socket, or feed the agent a state of
// their making. So:
// - a directory the agent keeps files in is checked first (safeDir): a real directory
//   owned by the agent's user (root), not writable by group or others, and no other
//   user can replace it (its parents are root's, or sticky like /tmp); created 0700 if
//   missing. Anything else is refused with the path, owner and mode found.
// - every file is written under a fresh temp name created O_CREAT|O_EXCL|O_NOFOLLOW
//   (never an existing file, never through a symlink), fsynced, then renamed over the
//   real name (rename replaces a symlink, it does not follow it).
// - a file is read O_NOFOLLOW|O_NONBLOCK (no symlink, no FIFO hang), only if it is a
//   regular file, within a size cap, owned by the agent's user; the reason a file is
//   refused never quotes its content.
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_RDWR, O_RDONLY, O_NONBLOCK, O_DIRECTORY } = constants;

/** A directory or file the agent must not use: another user could control it. */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

/** The user the agent runs as (root in production): the owner its files must have. */
export const agentUid = (): number => process.geteuid?.() ?? 0;

export const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/** "uid 1000 (alice)", "uid 0 (root)". */
export function describeUid(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    const name = line?.split(':')[0];
    return name ? `uid ${uid} (${name})` : `uid ${uid}`;
  } catch {
    return `uid ${uid}`;
  }
}

const who = () => describeUid(agentUid());
const trusted = (uid: number) => uid === 0 || uid === agentUid();
const groupOrOtherWritable = (st: Stats) => (st.mode & 0o022) !== 0;
const sticky = (st: Stats) => (st.mode & 0o1000) !== 0;

/**
 * Checks `dir` for the agent's files, creating it 0700 (and missing parents) if it does
 * not exist and `create` is set. Throws UnsafePathError naming the path, the owner and
 * mode found and what is required; other errors (EROFS creating it, EACCES) as they are.
 * Returns false if it does not exist and was not to be created.
 */
export function safeDir(dir: string, opts: { create?: boolean; what?: string } = {}): boolean {
  const what = opts.what ?? 'stateDir';
  const abs = resolve(dir);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (!opts.create) {
      checkPath(abs, what);
      return false;
    }
    checkPath(abs, what); // the parents it will be created in
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    st = lstatSync(abs);
  }
  checkPath(abs, what);
  const real = st.isSymbolicLink() ? realpathSync(abs) : abs;
  if (real !== abs) st = lstatSync(real);
  const required = `it must be a directory owned by ${who()}, not writable by group or others (chown ${agentUid() === 0 ? 'root:root' : agentUid()} ${abs} && chmod 0700 ${abs})`;
  if (!st.isDirectory()) throw new UnsafePathError(`${what} ${abs} is not a directory; ${required}`);
  if (st.uid !== agentUid() || groupOrOtherWritable(st)) {
    throw new UnsafePathError(`${what} ${abs}${real !== abs ? ` (${real})` : ''} is owned by ${describeUid(st.uid)} with mode ${octal(st.mode)}: another user could plant files or symlinks in it; ${required}`);
  }
  return true;
}

/**
 * Nobody but root and the agent's user can replace `abs` or one of its parents: each
 * symlink on the way is theirs, and each real parent is theirs and not writable by
 * others unless sticky (/tmp: others cannot rename what is not theirs).
 */
function checkPath(abs: string, what: string): void {
  const parts = abs.split(sep).filter(Boolean);
  let at: string = sep;
  for (const p of parts) {
    const next = join(at, p);
    let st: Stats;
    try {
      st = lstatSync(next);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') break; // created below, by us
      throw e;
    }
    if (st.isSymbolicLink() && !trusted(st.uid)) {
      throw new UnsafePathError(`${what} ${abs}: ${next} is a symbolic link owned by ${describeUid(st.uid)}; another user could point it anywhere`);
    }
    at = next;
  }
  // The real parents of what exists of the path.
  let real: string;
  try {
    real = realpathSync(at);
  } catch {
    return;
  }
  // The directory itself is the caller's to judge; what it is created in, and above, here.
  for (let d = at === abs ? dirname(real) : real; ; d = dirname(d)) {
    const st = lstatSync(d);
    if (!trusted(st.uid) || (groupOrOtherWritable(st) && !sticky(st))) {
      throw new UnsafePathError(
        `${what} ${abs}: its parent ${d} is owned by ${describeUid(st.uid)} with mode ${octal(st.mode)}: another user could replace ${what}; every parent must be owned by root and not writable by group or others (or sticky, like /tmp)`,
      );
    }
    if (d === dirname(d)) break;
  }
}

/** 12 random hex digits (the global Web Crypto: nothing to load for the CLIs that never write). */
const randomHex = () => Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex');

/** A fresh private file next to `file` (O_CREAT|O_EXCL|O_NOFOLLOW): never an existing file, never a symlink's target. */
export function createTemp(file: string, mode = 0o600, flags = O_WRONLY): { path: string; fd: number } {
  for (let i = 0; ; i++) {
    const path = `${file}.tmp-${process.pid}-${randomHex()}`;
    try {
      return { path, fd: openSync(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW, mode) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 5) throw e;
    }
  }
}

/** A new file at `file`, open read-write, replacing whatever was there (a symlink included, never followed). */
export function createReplacing(file: string, mode = 0o600): number {
  const t = createTemp(file, mode, O_RDWR);
  try {
    renameSync(t.path, file);
  } catch (e) {
    closeSync(t.fd);
    unlinkQuietly(t.path);
    throw e;
  }
  return t.fd;
}

export interface WriteOptions {
  /** File mode (before the umask). Default 0600. */
  mode?: number;
  /**
   * Check the directory with safeDir first (created 0700 if missing); default true.
   * false for a file outside stateDir (the track file in keepalived's directory): the
   * temp file is still exclusive and no-follow.
   */
  checkDir?: boolean;
  what?: string;
}

/**
 * A fresh private temp file next to `file` holding `data`, written in full (and fsynced
 * unless `sync` is false); its path (removed again on failure).
 */
export function writeTemp(file: string, data: string | Buffer, mode = 0o600, sync = true): string {
  const t = createTemp(file, mode);
  try {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < buf.length; ) off += writeSync(t.fd, buf, off, buf.length - off);
      if (sync) fsyncSync(t.fd);
    } finally {
      closeSync(t.fd);
    }
  } catch (e) {
    unlinkQuietly(t.path);
    throw e;
  }
  return t.path;
}

/** Temp file (exclusive, no-follow), fsync, rename, fsync the directory: a crash leaves the old file or the new one. */
export function writeFileAtomic(file: string, data: string | Buffer, opts: WriteOptions = {}): void {
  const dir = dirname(file);
  if (opts.checkDir !== false) safeDir(dir, { create: true, what: opts.what });
  const tmp = writeTemp(file, data, opts.mode ?? 0o600);
  try {
    renameSync(tmp, file);
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
  try {
    const d = openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

/** Temp files a killed writer left in `dir` (older than 10 minutes: a write takes milliseconds); never throws. */
export function removeStaleTemps(dir: string, now = Date.now()): number {
  let removed = 0;
  try {
    for (const name of readdirSync(dir)) {
      if (!/\.tmp-\d+-[0-9a-f]{12}$/.test(name)) continue;
      const path = join(dir, name);
      const st = lstatSync(path);
      if ((st.isFile() || st.isSymbolicLink()) && now - st.mtimeMs > 10 * 60_000) {
        unlinkSync(path);
        removed++;
      }
    }
  } catch {
    // a read-only or vanished directory: left for the next time
  }
  return removed;
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or a read-only filesystem: nothing to do about it
  }
}

export type ReadResult =
  | { ok: true; text: string }
  /** missing: no such file. unsafe: a symlink, not a regular file, too big, another owner (set it aside). error: could not read it. */
  | { ok: false; kind: 'missing' | 'unsafe' | 'error'; reason: string };

export interface ReadOptions {
  maxBytes: number;
  /** Require this owner (default: the agent's user); null: any owner. */
  owner?: number | null;
}

/** Reads a small file of the agent's without following a symlink; the reason never quotes the content. */
export function readFileSafe(file: string, opts: ReadOptions): ReadResult {
  const owner = opts.owner === undefined ? agentUid() : opts.owner;
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { ok: false, kind: 'missing', reason: 'no such file' } : { ok: false, kind: 'error', reason: errnoReason(e) };
  }
  const refuse = (s: Stats): ReadResult | undefined => {
    if (s.isSymbolicLink()) return { ok: false, kind: 'unsafe', reason: 'is a symbolic link; not following it' };
    if (!s.isFile()) return { ok: false, kind: 'unsafe', reason: `is not a regular file (${kindOf(s)})` };
    if (s.size > opts.maxBytes) return { ok: false, kind: 'unsafe', reason: `is ${s.size} bytes, more than the ${opts.maxBytes} allowed` };
    if (owner !== null && s.uid !== owner) return { ok: false, kind: 'unsafe', reason: `is owned by ${describeUid(s.uid)}, not by ${describeUid(owner)}` };
    return undefined;
  };
  const early = refuse(st);
  if (early) return early;
  let fd: number;
  try {
    fd = openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, kind: 'missing', reason: 'no such file' };
    if (code === 'ELOOP') return { ok: false, kind: 'unsafe', reason: 'is a symbolic link; not following it' };
    return { ok: false, kind: 'error', reason: errnoReason(e) };
  }
  try {
    const s = fstatSync(fd);
    const late = refuse(s) ?? (s.ino !== st.ino || s.dev !== st.dev ? { ok: false as const, kind: 'unsafe' as const, reason: 'was replaced while being read' } : undefined);
    if (late) return late;
    const buf = Buffer.alloc(Math.min(s.size, opts.maxBytes) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, n)) > 0; ) n += r;
    if (n > opts.maxBytes) return { ok: false, kind: 'unsafe', reason: `grew past the ${opts.maxBytes} bytes allowed while being read` };
    return { ok: true, text: buf.subarray(0, n).toString('utf8') };
  } catch (e) {
    return { ok: false, kind: 'error', reason: errnoReason(e) };
  } finally {
    closeSync(fd);
  }
}

/** "EACCES (permission denied)": the error without anything read from the file. */
export function errnoReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code) return String((e as Error)?.message ?? e);
  const text = /^[A-Z0-9_]+: ([^,]+)/.exec(err.message ?? '')?.[1];
  return text ? `${err.code} (${text})` : err.code;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a file';
}
