// Reading the config file: root runs the commands it names, so what root reads must be
// what root checked, and nobody but root may be able to change it.
//
// - The file is opened once (O_NONBLOCK: a FIFO cannot hang the open) and everything is
//   checked on that descriptor (fstat): a regular file (not /dev/zero, not a FIFO), at
//   most MAX_CONFIG_BYTES, and, running as root, owned by root and not writable by group
//   or others. It is read from that same descriptor, bounded. No second lookup by path
//   that another file could be renamed onto in between.
// - Running as root, every directory on the way to it, from / down, must be owned by
//   root and not writable by group or others, or sticky (like /tmp: others may create
//   entries there but not rename or remove root's): otherwise whoever can write the
//   directory can rename their own file onto the config's name (sshd's StrictModes).
//   The path is resolved here, one component at a time: a symlink is allowed (config
//   management links /etc/ha-watchdog/watchdog.yaml to a versioned file) if root owns
//   it, and its target is checked the same way; the resolved path is then opened
//   O_NOFOLLOW and must be the very file that was checked (same device and inode).
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';

/** The largest config accepted: the shipped one is 5 KiB. */
export const MAX_CONFIG_BYTES = 1 << 20;
const MAX_SYMLINKS = 40; // as the kernel's ELOOP

/** Why a config file was not read; the message names the offending path. */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

export const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

let passwd: Map<number, string> | undefined;
/** "haw-x (uid 1001)", "root (uid 0)", "uid 4242" when /etc/passwd does not know it. */
export function describeOwner(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !passwd.has(Number(id))) passwd.set(Number(id), name);
      }
    } catch {
      // no names then, uids only
    }
  }
  const name = passwd.get(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

function kind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'of an unknown type';
}

const found = (st: Stats) => `owned by ${describeOwner(st.uid)}, mode ${octal(st.mode)}`;

function errno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')})` : String(e);
}

/**
 * A directory through which the config is reached. Root must own it, and group and
 * others must not be able to write it unless it is sticky.
 */
function checkDirectory(dir: string, st: Stats, config: string): void {
  const why = `whoever can write ${dir} can rename another file onto ${config}, and root runs the commands in it`;
  const required = 'required: every directory from the config up to / owned by root and not writable by group or others (a sticky directory such as /tmp is fine)';
  if (st.uid !== 0) {
    throw new ConfigFileError(`refusing the config: the directory ${dir} is ${found(st)}; ${required}; ${why}. Move the config to a directory root owns, or: chown root ${dir} && chmod go-w ${dir}`);
  }
  if (st.mode & 0o022 && !(st.mode & 0o1000)) {
    throw new ConfigFileError(`refusing the config: the directory ${dir} is ${found(st)}, writable by ${st.mode & 0o002 ? 'others' : 'its group'} and not sticky; ${required}; ${why}. chmod go-w ${dir}`);
  }
}

/** Resolves the path one component at a time, checking every directory and symlink on the way. */
function resolveChecked(file: string): { path: string; st: Stats } {
  const absolute = resolve(file);
  let pending = absolute.split('/').filter(Boolean);
  const dirs: string[] = []; // the resolved directory we are in, checked
  const here = () => `/${dirs.join('/')}`;
  const rootSt = lstatSync('/');
  checkDirectory('/', rootSt, absolute);
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      dirs.pop(); // its parent was checked on the way down
      continue;
    }
    const path = dirs.length ? `${here()}/${name}` : `/${name}`;
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      throw new ConfigFileError(`cannot read the config: ${errno(e)}${path === resolve(file) ? '' : ` at ${path}`}`);
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new ConfigFileError(`cannot read the config: more than ${MAX_SYMLINKS} symbolic links on the way (ELOOP)`);
      if (st.uid !== 0) {
        throw new ConfigFileError(`refusing the config: the symbolic link ${path} is owned by ${describeOwner(st.uid)}; required: every symbolic link on the way to the config owned by root; its owner can point it at a file of their own, and root runs the commands in it`);
      }
      const target = readlinkSync(path);
      if (target.startsWith('/')) dirs.length = 0; // "/" was checked first
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    if (pending.length > 0) {
      if (!st.isDirectory()) throw new ConfigFileError(`cannot read the config: ${path} is ${kind(st)}, not a directory (ENOTDIR)`);
      checkDirectory(path, st, absolute);
      dirs.push(name);
      continue;
    }
    return { path, st };
  }
  // The path named a directory ("/", "x/..").
  return { path: here(), st: lstatSync(here()) };
}

const FILE_REQUIRED = 'owned by root and not writable by group or others, when the agent runs as root (root runs the commands in it)';

/** The file itself, as its descriptor shows it. */
function checkFile(path: string, st: Stats, asRoot: boolean): void {
  if (!st.isFile()) {
    throw new ConfigFileError(`refusing the config: ${path} is ${kind(st)}; required: a regular file`);
  }
  if (st.size > MAX_CONFIG_BYTES) {
    throw new ConfigFileError(`refusing the config: ${path} is ${st.size} bytes; required: at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`);
  }
  if (!asRoot) return;
  const problems: string[] = [];
  if (st.mode & 0o022) {
    problems.push(`refusing a config that its group or others can write: ${path} is ${found(st)}; required: ${FILE_REQUIRED}. chmod go-w ${path}`);
  }
  if (st.uid !== 0) {
    problems.push(`refusing a config not owned by root: ${path} is ${found(st)}; required: ${FILE_REQUIRED}. chown root ${path}`);
  }
  if (problems.length) throw new ConfigFileError(problems.join('\n'));
}

/** Reads at most MAX_CONFIG_BYTES from fd; more than that (the file grew) is refused. */
function readBounded(fd: number, path: string): string {
  const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
  let total = 0;
  for (;;) {
    const n = readSync(fd, buf, total, buf.length - total, null);
    if (n === 0) break;
    total += n;
    if (total > MAX_CONFIG_BYTES) throw new ConfigFileError(`refusing the config: ${path} grew past ${MAX_CONFIG_BYTES} bytes (1 MiB) while it was read`);
  }
  return buf.toString('utf8', 0, total);
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * The config's text, read from one descriptor that was checked. Running as root
 * (asRoot), the file and every directory and symlink on its path must be root's and
 * writable by nobody else. Throws ConfigFileError saying what was found and what is required.
 */
export function readConfigFile(file: string, asRoot: boolean): string {
  let path = file;
  let seen: Stats | undefined;
  let flags = OPEN_FLAGS;
  if (asRoot) {
    ({ path, st: seen } = resolveChecked(file));
    // Refused before opening: a FIFO or a device is not even opened.
    checkFile(path, seen, true);
    flags |= constants.O_NOFOLLOW;
  }
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    throw new ConfigFileError(`cannot read the config: ${errno(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (seen && (st.dev !== seen.dev || st.ino !== seen.ino)) {
      throw new ConfigFileError(`refusing the config: ${path} was replaced while it was being checked; try again`);
    }
    checkFile(path, st, asRoot);
    return readBounded(fd, path);
  } finally {
    closeSync(fd);
  }
}
