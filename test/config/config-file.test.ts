// Reading the config file: one descriptor, checked with fstat; as root, every directory
// and symlink on the path must be root's and writable by nobody else (or sticky).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lchownSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_CONFIG_BYTES, readConfigFile } from '../../src/config/config-file.js';
import { loadConfig } from '../../src/config/load.js';
import { requireRoot } from '../helpers/prereq.js';

const KEEPALIVED = 'keepalived:\n  start: { command: [/usr/bin/systemctl, start, keepalived] }\n';
const minimal = `services:\n  tomcat:\n    process: { name: java }\n${KEEPALIVED}`;
const OTHER = 4242; // a uid that is not root (no user needed: root can chown to any uid)

describe('config file: read once, checked on its descriptor', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'haw-cfgfile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a FIFO is refused without waiting for a writer', () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const asRoot of [false, true]) {
      if (asRoot && process.getuid?.() !== 0) continue;
      assert.throws(() => readConfigFile(fifo, asRoot), new RegExp(`refusing the config: ${fifo} is a FIFO \\(named pipe\\); required: a regular file`));
    }
  });

  it('/dev/zero is refused (a character device), and a directory', () => {
    assert.throws(() => readConfigFile('/dev/zero', false), /\/dev\/zero is a character device; required: a regular file/);
    assert.throws(() => readConfigFile(dir, false), /is a directory; required: a regular file/);
  });

  it(`a file over ${MAX_CONFIG_BYTES} bytes is refused; one of exactly that size is read`, () => {
    const f = join(dir, 'big.yaml');
    writeFileSync(f, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x23));
    assert.throws(() => readConfigFile(f, false), new RegExp(`${f} is ${MAX_CONFIG_BYTES + 1} bytes; required: at most 1048576 bytes \\(1 MiB\\)`));
    writeFileSync(f, Buffer.alloc(MAX_CONFIG_BYTES, 0x23));
    assert.equal(readConfigFile(f, false).length, MAX_CONFIG_BYTES);
  });

  it('a missing file names the error', () => {
    assert.throws(() => loadConfig(join(dir, 'nope.yaml'), { asRoot: false }), /nope\.yaml: cannot read the config: ENOENT \(no such file or directory\)/);
  });
});

describe('config file as root: the file, its directories and symlinks', { skip: requireRoot() }, () => {
  let base: string;
  let n = 0;
  const fresh = () => {
    const d = join(base, `case${++n}`);
    mkdirSync(d, { mode: 0o755 });
    return d;
  };
  const config = (d: string, name = 'w.yaml') => {
    const f = join(d, name);
    writeFileSync(f, minimal, { mode: 0o644 });
    return f;
  };
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'haw-cfgroot-'));
    chmodSync(base, 0o755);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('root\'s config in root\'s directories under /tmp (sticky) is read', () => {
    const f = config(fresh());
    assert.equal(readConfigFile(f, true), minimal);
    assert.deepEqual(Object.keys(loadConfig(f, { asRoot: true }).services), ['tomcat']);
  });

  it('a directory on the path owned by another uid is refused, naming it, its owner and mode, and what is required', () => {
    const d = fresh();
    const f = config(d);
    chownSync(d, OTHER, OTHER);
    assert.throws(
      () => loadConfig(f, { asRoot: true }),
      (e: Error) => {
        assert.ok(e.message.startsWith(`${f}: refusing the config: the directory ${d} is owned by uid ${OTHER}, mode 0755; required: every directory from the config up to / owned by root and not writable by group or others (a sticky directory such as /tmp is fine); whoever can write ${d} can rename another file onto ${f}`), e.message);
        return true;
      },
    );
  });

  it('a grandparent directory others can write is refused too; a sticky one is not', () => {
    const top = fresh();
    const inner = join(top, 'etc');
    mkdirSync(inner, { mode: 0o755 });
    const f = config(inner);
    chmodSync(top, 0o777);
    assert.throws(() => readConfigFile(f, true), new RegExp(`the directory ${top} is owned by root \\(uid 0\\), mode 0777, writable by others and not sticky`));
    chmodSync(top, 0o1777);
    assert.equal(readConfigFile(f, true), minimal);
    chownSync(top, OTHER, 0); // sticky, but its owner may rename anything in it
    assert.throws(() => readConfigFile(f, true), new RegExp(`the directory ${top} is owned by uid ${OTHER}, mode 01777`));
  });

  it('the file itself: group/other-writable or not root\'s is refused with owner and mode', () => {
    const f = config(fresh());
    chmodSync(f, 0o620);
    assert.throws(() => readConfigFile(f, true), new RegExp(`refusing a config that its group or others can write: ${f} is owned by root \\(uid 0\\), mode 0620`));
    chmodSync(f, 0o644);
    chownSync(f, OTHER, OTHER);
    assert.throws(() => readConfigFile(f, true), new RegExp(`refusing a config not owned by root: ${f} is owned by uid ${OTHER}, mode 0644`));
  });

  it('a symlink root owns is followed (config management links the config), and its target is checked the same way', () => {
    const d = fresh();
    const real = config(d, 'watchdog-v2.yaml');
    const link = join(d, 'w.yaml');
    symlinkSync('watchdog-v2.yaml', link);
    assert.equal(readConfigFile(link, true), minimal);
    // a symlink to a directory on the way, relative and with ".."
    const alias = join(base, `alias${n}`);
    symlinkSync(`./case${n}/../case${n}`, alias);
    assert.equal(readConfigFile(join(alias, 'w.yaml'), true), minimal);
    // the target's directory unsafe: refused, naming it
    chmodSync(d, 0o757);
    assert.throws(() => readConfigFile(join(alias, 'w.yaml'), true), new RegExp(`the directory ${d} is owned by root \\(uid 0\\), mode 0757, writable by others`));
    chmodSync(d, 0o755);
    assert.equal(readConfigFile(real, true), minimal);
  });

  it('a symlink another uid owns is refused: its owner could point it anywhere', () => {
    const d = fresh();
    config(d, 'real.yaml');
    const link = join(d, 'w.yaml');
    symlinkSync('real.yaml', link);
    lchownSync(link, OTHER, OTHER);
    assert.throws(() => readConfigFile(link, true), new RegExp(`refusing the config: the symbolic link ${link} is owned by uid ${OTHER}; required: every symbolic link on the way to the config owned by root`));
  });

  it('a symlink loop is an error, not a hang', () => {
    const d = fresh();
    symlinkSync('b.yaml', join(d, 'a.yaml'));
    symlinkSync('a.yaml', join(d, 'b.yaml'));
    assert.throws(() => readConfigFile(join(d, 'a.yaml'), true), /more than 40 symbolic links on the way \(ELOOP\)/);
  });

  it('a path through something that is not a directory is an error naming it', () => {
    const f = config(fresh());
    assert.throws(() => readConfigFile(join(f, 'x.yaml'), true), new RegExp(`cannot read the config: ${f} is a regular file, not a directory \\(ENOTDIR\\)`));
  });
});
