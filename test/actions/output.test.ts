// Where a command's output goes: a fresh file in stateDir/output (never through a
// symlink), or /dev/null when that cannot be (the command runs all the same, said once);
// and the track file, written and read without following a symlink.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../../src/actions/command.js';
import { readTrackFile, writeTrackFile } from '../../src/os/track-file.js';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'haw-out-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const echo = (stateDir: string, text = 'restarted') => runCommand({ command: ['/bin/sh', '-c', `echo ${text} || exit 9`], timeout: 5000 }, { stateDir, name: 'tomcat.restart' });

describe('actions: output file', () => {
  it('stateDir/output/<name>.log, 0600, in a 0700 directory; a symlink there is replaced, its target untouched', async () => {
    const d = dir();
    mkdirSync(join(d, 'output'), { mode: 0o700 });
    writeFileSync(join(d, 'precious'), 'precious');
    symlinkSync(join(d, 'precious'), join(d, 'output', 'tomcat.restart.log'));
    const r = await echo(d);
    assert.deepEqual([r.ok, r.output], [true, 'restarted']);
    assert.equal(readFileSync(join(d, 'precious'), 'utf8'), 'precious');
    const st = lstatSync(join(d, 'output', 'tomcat.restart.log'));
    assert.ok(st.isFile());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(readFileSync(join(d, 'output', 'tomcat.restart.log'), 'utf8'), 'restarted\n');
    assert.deepEqual(readdirSync(join(d, 'output')), ['tomcat.restart.log'], 'no temp file left');
  });

  it('output cannot be created (stateDir/output is a file): the command runs and succeeds, its output discarded, said once', async () => {
    const d = dir();
    writeFileSync(join(d, 'output'), 'x');
    const first = await echo(d);
    assert.equal(first.ok, true);
    assert.match(first.output, /^\[output not kept: output directory .*\/output is not a directory.*; the command runs with its output discarded \(said once until it can be written again\)\]$/);
    const second = await echo(d);
    assert.deepEqual([second.ok, second.output], [true, ''], 'said once');
    rmSync(join(d, 'output'));
    assert.equal((await echo(d, 'back')).output, 'back');
  });

  it('an output directory others can write to is not used (no fallback anywhere else)', async () => {
    const d = dir();
    mkdirSync(join(d, 'output'));
    chmodSync(join(d, 'output'), 0o777);
    const r = await echo(d);
    assert.equal(r.ok, true);
    assert.match(r.output, /output directory .*\/output is owned by uid \d+.* with mode 0777/);
    assert.deepEqual(readdirSync(join(d, 'output')), []);
  });
});

describe('actions: track file', () => {
  it('a symlink at the track file (or at its old temp name) is replaced, never written through', () => {
    const d = dir();
    const file = join(d, 'ha-watchdog.track');
    writeFileSync(join(d, 'precious'), 'precious');
    symlinkSync(join(d, 'precious'), file);
    symlinkSync(join(d, 'precious'), `${file}.tmp-${process.pid}`);
    assert.equal(readTrackFile(file), undefined, 'a symlink is not read');
    assert.equal(writeTrackFile(file, 1).ok, true);
    assert.equal(readFileSync(join(d, 'precious'), 'utf8'), 'precious');
    assert.ok(lstatSync(file).isFile());
    assert.equal(readTrackFile(file), 1);
    assert.equal(writeTrackFile(file, 0).ok, true);
    assert.equal(readTrackFile(file), 0);
  });

  it('a FIFO at the track file reads as unknown at once (no hang)', () => {
    const d = dir();
    const file = join(d, 'fifo.track');
    execFileSync('mkfifo', [file]);
    const t = Date.now();
    assert.equal(readTrackFile(file), undefined);
    assert.ok(Date.now() - t < 1000);
  });
});
