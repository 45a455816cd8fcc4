// `npm run package`: the .deb and the tarball (packaging/package.ts), built here or
// reused from pkg/ when no input changed. What is in them, and lintian (Debian's
// package checker) on the .deb: no error and no warning that the package does not
// override with a reason (packaging/debian/lintian-overrides).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ensurePackages, type Artefacts } from '../../packaging/package.js';
import { ROOT } from '../helpers/stage.js';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const TOOLS = ['dpkg-deb', 'dpkg-shlibdeps', 'lintian', 'strip'];
const missing = TOOLS.filter((t) => !has(t));
const reason = missing.length ? `missing ${missing.join(', ')}: apt-get install -y --no-install-recommends dpkg-dev lintian binutils` : undefined;
if (reason && process.env.CI === 'true') throw new Error(`packaging tests: prerequisite missing under CI=true: ${reason}`);
if (reason) process.stdout.write(`packaging tests skipped: ${reason}\n`);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });

describe('npm run package: the .deb and the tarball', { skip: reason ?? false }, () => {
  let a: Artefacts;
  let contents: Map<string, { mode: string; owner: string }>;

  before(async () => {
    const t0 = Date.now();
    a = await ensurePackages();
    process.stdout.write(`package.test: ${a.deb} ${a.reused ? 'reused' : `built in ${Date.now() - t0} ms`} (${(statSync(a.deb).size / 1e6).toFixed(1)} MB; tarball ${(statSync(a.tarball).size / 1e6).toFixed(1)} MB)\n`);
    contents = new Map();
    for (const line of sh('dpkg-deb', ['--contents', a.deb]).trim().split('\n')) {
      const [mode, owner, , , , ...rest] = line.split(/\s+/);
      const name = rest.join(' ').replace(/^\.\//, '/').replace(/ -> .*$/, '');
      contents.set(name.replace(/\/$/, '') || '/', { mode: mode!, owner: owner! });
    }
  });

  it('names: ha-watchdog_<version>-<revision>_<arch>.deb, ha-watchdog-<version>-linux-<arch>.tar.gz', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.match(a.deb, new RegExp(`/pkg/ha-watchdog_${version.replace(/\./g, '\\.')}-\\d+_${sh('dpkg', ['--print-architecture']).trim()}\\.deb$`));
    assert.match(a.tarball, new RegExp(`/pkg/ha-watchdog-${version.replace(/\./g, '\\.')}-linux-${process.arch}\\.tar\\.gz$`));
  });

  it('control: no dependency on nodejs; the shared libraries of node (libc6, libstdc++6, libgcc-s1) only', () => {
    const f = (field: string) => sh('dpkg-deb', ['--field', a.deb, field]).trim();
    assert.equal(f('Package'), 'ha-watchdog');
    assert.equal(f('Section'), 'admin');
    const deps = f('Depends');
    assert.doesNotMatch(deps, /node/);
    for (const d of deps.split(/,\s*/)) assert.match(d, /^(libc6|libstdc\+\+6|libgcc-s1)( \(>= [^)]+\))?$/, deps);
  });

  it('files: executable in /usr/sbin, units in /lib/systemd/system with ExecStart=/usr/sbin/ha-watchdog, conffile, man pages, docs, schema', () => {
    const want: Record<string, string> = {
      '/usr/sbin/ha-watchdog': '-rwxr-xr-x',
      '/lib/systemd/system/ha-watchdog.service': '-rw-r--r--',
      '/lib/systemd/system/ha-watchdog-check.service': '-rw-r--r--',
      '/lib/systemd/system/ha-watchdog-check.timer': '-rw-r--r--',
      '/etc/ha-watchdog/watchdog.yaml': '-rw-r--r--',
      '/usr/share/ha-watchdog/watchdog.schema.json': '-rw-r--r--',
      '/usr/share/man/man8/ha-watchdog.8.gz': '-rw-r--r--',
      '/usr/share/man/man5/watchdog.yaml.5.gz': '-rw-r--r--',
      '/usr/share/doc/ha-watchdog/copyright': '-rw-r--r--',
      '/usr/share/doc/ha-watchdog/changelog.Debian.gz': '-rw-r--r--',
      '/usr/share/doc/ha-watchdog/examples/keepalived-override.conf': '-rw-r--r--',
      '/usr/share/doc/ha-watchdog/examples/prometheus/ha-watchdog.rules.yml': '-rw-r--r--',
      '/usr/share/doc/ha-watchdog/examples/grafana/ha-watchdog.json': '-rw-r--r--',
      '/usr/share/lintian/overrides/ha-watchdog': '-rw-r--r--',
    };
    for (const [file, mode] of Object.entries(want)) {
      const e = contents.get(file);
      assert.ok(e, `${file} not in the package`);
      assert.equal(e.mode, mode, file);
      assert.equal(e.owner, 'root/root', file);
    }
    // The drop-in changes keepalived's own restart behaviour: shipped, never installed.
    assert.ok(![...contents.keys()].some((f) => f.startsWith('/etc/systemd') || f.startsWith('/lib/systemd/system/keepalived')), 'the package must not install a keepalived drop-in');
    assert.ok(![...contents.keys()].some((f) => f.startsWith('/etc/cron.d')), 'the cron mode is the operator\'s choice');
    assert.equal(sh('dpkg-deb', ['--info', a.deb, 'conffiles']).trim(), '/etc/ha-watchdog/watchdog.yaml');

    const x = mkdtempSync(join(tmpdir(), 'hwt-deb-'));
    try {
      sh('dpkg-deb', ['-x', a.deb, x]);
      for (const unit of ['ha-watchdog.service', 'ha-watchdog-check.service']) {
        const text = readFileSync(join(x, 'lib/systemd/system', unit), 'utf8');
        assert.match(text, /^ExecStart=\/usr\/sbin\/ha-watchdog (run|check)$/m, unit);
        assert.doesNotMatch(text, /\/usr\/bin\/ha-watchdog/, unit);
        assert.match(text, /^Documentation=man:ha-watchdog\(8\)$/m, unit);
      }
      // The repository's units keep /usr/bin (the npm/tarball install the other tests use).
      assert.match(readFileSync(join(ROOT, 'systemd/ha-watchdog.service'), 'utf8'), /^ExecStart=\/usr\/bin\/ha-watchdog run$/m);
      const conf = readFileSync(join(x, 'etc/ha-watchdog/watchdog.yaml'), 'utf8');
      assert.match(conf.split('\n')[0]!, /^# yaml-language-server: \$schema=file:\/\/\/usr\/share\/ha-watchdog\/watchdog\.schema\.json$/);
      assert.equal(conf.split('\n').slice(1).join('\n'), readFileSync(join(ROOT, 'watchdog.yaml'), 'utf8').split('\n').slice(1).join('\n'));
      assert.equal(readFileSync(join(x, 'usr/share/ha-watchdog/watchdog.schema.json'), 'utf8'), readFileSync(join(ROOT, 'contrib/watchdog.schema.json'), 'utf8'));
      assert.equal(gunzipSync(readFileSync(join(x, 'usr/share/man/man8/ha-watchdog.8.gz'))).toString(), readFileSync(join(ROOT, 'man/ha-watchdog.8'), 'utf8'));
      const copyright = readFileSync(join(x, 'usr/share/doc/ha-watchdog/copyright'), 'utf8');
      assert.match(copyright, /^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/$/m);
      for (const dep of ['zod', 'pino', 'undici', 'yaml', 'prom-client', 'execa', 'node-cron', 'ps-list', 're2js']) assert.match(copyright, new RegExp(`^ ${dep} \\d`, 'm'), `${dep} not listed in copyright`);
      const changelog = gunzipSync(readFileSync(join(x, 'usr/share/doc/ha-watchdog/changelog.Debian.gz'))).toString();
      assert.match(changelog, new RegExp(`^ha-watchdog \\(${a.debVersion.replace(/\./g, '\\.')}\\) `));
      // What is installed runs: the executable from the package, no node involved.
      const v = spawnSync(join(x, 'usr/sbin/ha-watchdog'), ['validate', '-c', join(x, 'etc/ha-watchdog/watchdog.yaml')], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
    } finally {
      rmSync(x, { recursive: true, force: true });
    }
  });

  it('maintainer scripts: nothing enabled or started on install; purge removes /etc/ha-watchdog and /var/lib/ha-watchdog', () => {
    const x = mkdtempSync(join(tmpdir(), 'hwt-ctrl-'));
    try {
      sh('dpkg-deb', ['-e', a.deb, x]);
      const postinst = readFileSync(join(x, 'postinst'), 'utf8');
      const code = (s: string) => s.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
      assert.doesNotMatch(code(postinst), /\benable\b|\bstart\b(?!-)/, 'postinst must not enable or start anything');
      assert.match(code(postinst), /daemon-reload/);
      assert.match(code(postinst), /try-restart ha-watchdog\.service/);
      assert.match(code(readFileSync(join(x, 'postrm'), 'utf8')), /purge[\s\S]*rm -rf \/etc\/ha-watchdog \/var\/lib\/ha-watchdog/);
      for (const s of ['postinst', 'prerm', 'postrm']) assert.equal(spawnSync('sh', ['-n', join(x, s)]).status, 0, `${s}: sh -n`);
    } finally {
      rmSync(x, { recursive: true, force: true });
    }
  });

  it('tarball: the executable, units, config, man pages, contrib, README and INSTALL', () => {
    const names = sh('tar', ['-tzf', a.tarball]).trim().split('\n');
    const top = `ha-watchdog-${a.version}-linux-${process.arch}/`;
    for (const f of ['ha-watchdog', 'INSTALL', 'COPYRIGHT', 'README.md', 'watchdog.yaml', 'systemd/ha-watchdog.service', 'systemd/ha-watchdog-check.service', 'systemd/ha-watchdog-check.timer', 'systemd/keepalived-override.conf', 'systemd/ha-watchdog.cron', 'man/ha-watchdog.8', 'man/watchdog.yaml.5', 'contrib/watchdog.schema.json', 'contrib/prometheus/ha-watchdog.rules.yml', 'contrib/grafana/ha-watchdog.json']) {
      assert.ok(names.includes(top + f), `${top}${f} not in the tarball`);
    }
    const exe = sh('tar', ['-tvzf', a.tarball, `${top}ha-watchdog`]);
    assert.match(exe, /^-rwxr-xr-x (root\/root|0\/0) /);
  });

  it('lintian: no error, no warning left that is not overridden with a reason', { timeout: 600_000 }, () => {
    const t0 = Date.now();
    const r = spawnSync('lintian', ['--pedantic', '--display-info', '--show-overrides', '--no-tag-display-limit', a.deb], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /^[EWIPXO]: /.test(l));
    const tag = (l: string) => l.split(' ')[2];
    const byKind = (k: string) => lines.filter((l) => l.startsWith(`${k}: `));
    const summary = ['E', 'W', 'I', 'P', 'O'].map((k) => `${k} ${[...new Set(byKind(k).map(tag))].join(',') || '-'}`).join('; ');
    process.stdout.write(`package.test: lintian ${((Date.now() - t0) / 1000).toFixed(0)} s: ${summary}\n`);
    assert.deepEqual(byKind('E'), [], 'lintian errors');
    assert.deepEqual(byKind('W'), [], 'lintian warnings');
    // Every override carries a reason: a comment right above it.
    const overrides = readFileSync(join(ROOT, 'packaging/debian/lintian-overrides'), 'utf8').split('\n');
    overrides.forEach((l, i) => {
      if (l.startsWith('ha-watchdog:')) assert.match(overrides[i - 1] ?? '', /^# /, `override without a reason: ${l}`);
    });
    // ...and none is stale (lintian says unused-override / mismatched-override).
    assert.deepEqual(lines.filter((l) => /unused-override|mismatched-override/.test(l)), []);
    assert.ok(existsSync(a.deb));
  });
});
