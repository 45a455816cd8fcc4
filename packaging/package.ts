// `npm run package`: the release artefacts, built on this machine from this checkout,
// nothing downloaded:
//
//   pkg/ha-watchdog_<debversion>_<debarch>.deb         dpkg-deb, lintian-clean
//   pkg/ha-watchdog-<version>-linux-<arch>.tar.gz      the same files for a host without dpkg
//   pkg/build/ha-watchdog                              the executable (packaging/sea.ts)
//
// Layout of the .deb (Debian 12 paths):
//   /usr/sbin/ha-watchdog                      the single executable (node built in)
//   /lib/systemd/system/ha-watchdog.service, ha-watchdog-check.{service,timer}
//                                              systemd/ with ExecStart=/usr/sbin/ha-watchdog
//   /etc/ha-watchdog/watchdog.yaml             conffile (the repository's watchdog.yaml)
//   /usr/share/ha-watchdog/watchdog.schema.json   JSON Schema for editors
//   /usr/share/man/man8/ha-watchdog.8.gz, man5/watchdog.yaml.5.gz
//   /usr/share/doc/ha-watchdog/                copyright, changelog.Debian.gz, README.Debian,
//                                              examples/ (keepalived drop-in, cron file,
//                                              Prometheus rules, Grafana dashboard)
//   /usr/share/lintian/overrides/ha-watchdog
// Nothing is enabled or started by the maintainer scripts (packaging/debian/).
//
// Env: HA_WATCHDOG_DEB_REVISION (default 1) makes <version>-<revision>.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch } from 'node:process';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { inputsHash, withLock } from './fresh.js';
import { buildSea, ROOT, type SeaResult } from './sea.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PKG = join(ROOT, 'pkg');
const BUILD = join(PKG, 'build');
const MAINTAINER = 'ha-watchdog maintainers <maintainers@users.noreply.r-seed-3859e186.example>';
export const SCHEMA_PATH = '/usr/share/ha-watchdog/watchdog.schema.json';

/** What the executable is built from. */
const SEA_INPUTS = ['src', 'package.json', 'package-lock.json', 'packaging/sea.ts'];
/** What the packages are built from (besides the executable). */
const PACKAGE_INPUTS = [...SEA_INPUTS, 'packaging', 'systemd', 'man', 'contrib', 'watchdog.yaml', 'README.md'];

const pkgJson = () => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; description: string };

export function debArch(): string {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
}

/** Node's own arch name, as in node's release tarballs (linux-x64). */
export const tarArch = arch;

export interface Artefacts {
  executable: string;
  deb: string;
  tarball: string;
  version: string;
  debVersion: string;
  sea?: SeaResult;
  /** true when pkg/ was reused as it was. */
  reused: boolean;
}

const sh = (cmd: string, args: string[], opts: { cwd?: string } = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

/** The executable, rebuilt only when its inputs changed. */
export async function ensureSea(): Promise<{ executable: string; reused: boolean }> {
  const executable = join(BUILD, 'ha-watchdog');
  const hash = inputsHash(ROOT, SEA_INPUTS, [process.version, process.execPath, process.env.HWT_SEA_MINIFY ?? '', process.env.HWT_SEA_SNAPSHOT ?? '']);
  const stamp = join(BUILD, 'ha-watchdog.stamp');
  mkdirSync(PKG, { recursive: true });
  return withLock(join(PKG, '.lock'), async () => {
    if (existsSync(executable) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return { executable, reused: true };
    await buildSea(executable);
    writeFileSync(stamp, hash);
    return { executable, reused: false };
  });
}

/** The .deb and the tarball, rebuilt only when an input changed (for the tests). */
export async function ensurePackages(): Promise<Artefacts> {
  const { executable } = await ensureSea();
  const hash = inputsHash(ROOT, PACKAGE_INPUTS, [process.version, process.execPath, process.env.HA_WATCHDOG_DEB_REVISION ?? '']);
  const stamp = join(PKG, 'packages.stamp');
  return withLock(join(PKG, '.lock'), async () => {
    const names = artefactNames();
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(names.deb) && existsSync(names.tarball)) {
      return { executable, ...names, reused: true };
    }
    const a = await buildPackages({ executable });
    writeFileSync(stamp, hash);
    return a;
  });
}

function artefactNames(revision = process.env.HA_WATCHDOG_DEB_REVISION ?? '1', outDir = PKG) {
  const version = pkgJson().version;
  const debVersion = `${version}-${revision}`;
  return {
    version,
    debVersion,
    deb: join(outDir, `ha-watchdog_${debVersion}_${debArch()}.deb`),
    tarball: join(outDir, `ha-watchdog-${version}-linux-${tarArch}.tar.gz`),
  };
}

export interface BuildOptions {
  /** An executable already built (default: build one). */
  executable?: string;
  /** Debian revision (default HA_WATCHDOG_DEB_REVISION or 1). */
  revision?: string;
  /** Where the .deb and tarball go (default pkg/). */
  outDir?: string;
  /** Extra changelog entries, newest first, above the packaging's own. */
  changelog?: Array<{ version: string; text: string }>;
}

/** Builds the .deb and the tarball. */
export async function buildPackages(opts: BuildOptions = {}): Promise<Artefacts> {
  let sea: SeaResult | undefined;
  let executable = opts.executable;
  if (!executable) {
    sea = await buildSea(join(BUILD, 'ha-watchdog'));
    executable = sea.executable;
  }
  const outDir = opts.outDir ?? PKG;
  mkdirSync(outDir, { recursive: true });
  const names = artefactNames(opts.revision, outDir);
  const epoch = sourceDateEpoch();
  const stage = join(BUILD, `stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    const root = join(stage, 'deb');
    stageTree(root, executable, names, epoch, opts.changelog ?? []);
    buildDeb(root, names.deb, epoch);
    buildTarball(join(stage, 'tar'), root, executable, names, epoch);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return { executable, ...names, sea, reused: false };
}

/** The last commit's time (reproducible dates in the changelog and archives), else now. */
function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(sh('git', ['log', '-1', '--format=%ct'], { cwd: ROOT }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

function put(file: string, data: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, data);
  chmodSync(file, mode);
}
const gz = (data: string | Buffer) => gzipSync(data, { level: 9 }); // node's gzip: no name, mtime 0

/** systemd/ units and cron file with the package's path of the executable. */
export function packagedUnit(text: string): string {
  return text
    .replace(/\/usr\/bin\/ha-watchdog\b/g, '/usr/sbin/ha-watchdog')
    .replace(/^(Description=.*)$/m, '$1\nDocumentation=man:ha-watchdog(8)');
}

/** The shipped watchdog.yaml with the schema reference pointing at the installed schema. */
export function packagedConfig(text: string): string {
  return text.replace(/^# yaml-language-server: \$schema=.*$/m, `# yaml-language-server: $schema=file://${SCHEMA_PATH}`);
}

function stageTree(root: string, executable: string, names: ReturnType<typeof artefactNames>, epoch: number, extraLog: Array<{ version: string; text: string }>): void {
  const doc = join(root, 'usr/share/doc/ha-watchdog');
  put(join(root, 'usr/sbin/ha-watchdog'), readFileSync(executable), 0o755);
  for (const unit of ['ha-watchdog.service', 'ha-watchdog-check.service', 'ha-watchdog-check.timer']) {
    put(join(root, 'lib/systemd/system', unit), packagedUnit(readFileSync(join(ROOT, 'systemd', unit), 'utf8')));
  }
  put(join(root, 'etc/ha-watchdog/watchdog.yaml'), packagedConfig(readFileSync(join(ROOT, 'watchdog.yaml'), 'utf8')));
  put(join(root, SCHEMA_PATH), readFileSync(join(ROOT, 'contrib/watchdog.schema.json')));
  put(join(root, 'usr/share/man/man8/ha-watchdog.8.gz'), gz(readFileSync(join(ROOT, 'man/ha-watchdog.8'))));
  put(join(root, 'usr/share/man/man5/watchdog.yaml.5.gz'), gz(readFileSync(join(ROOT, 'man/watchdog.yaml.5'))));
  // Examples: what the operator installs by hand (see README.Debian).
  put(join(doc, 'examples/keepalived-override.conf'), readFileSync(join(ROOT, 'systemd/keepalived-override.conf')));
  put(join(doc, 'examples/ha-watchdog.cron'), packagedUnit(readFileSync(join(ROOT, 'systemd/ha-watchdog.cron'), 'utf8')));
  put(join(doc, 'examples/prometheus/ha-watchdog.rules.yml'), readFileSync(join(ROOT, 'contrib/prometheus/ha-watchdog.rules.yml')));
  put(join(doc, 'examples/grafana/ha-watchdog.json'), readFileSync(join(ROOT, 'contrib/grafana/ha-watchdog.json')));
  put(join(doc, 'README.Debian'), readFileSync(join(HERE, 'debian/README.Debian')));
  put(join(doc, 'copyright'), copyright());
  const nodeLicense = nodeLicenseFile();
  if (nodeLicense) put(join(doc, 'LICENSE.nodejs.gz'), gz(readFileSync(nodeLicense)));
  put(join(doc, 'changelog.Debian.gz'), gz(changelog(names.debVersion, epoch, extraLog)));
  put(join(root, 'usr/share/lintian/overrides/ha-watchdog'), readFileSync(join(HERE, 'debian/lintian-overrides')));

  const dbg = join(root, 'DEBIAN');
  mkdirSync(dbg, { mode: 0o755 });
  for (const s of ['postinst', 'prerm', 'postrm']) put(join(dbg, s), readFileSync(join(HERE, 'debian', s)), 0o755);
  put(join(dbg, 'conffiles'), '/etc/ha-watchdog/watchdog.yaml\n');
  const files = listFiles(root).filter((f) => !f.startsWith('DEBIAN/'));
  put(join(dbg, 'md5sums'), sh('md5sum', files, { cwd: root }));
  const sizeKb = Number(sh('du', ['-k', '-s', '--exclude=DEBIAN', root]).split('\t')[0]);
  const control = readFileSync(join(HERE, 'debian/control.in'), 'utf8')
    .replace('@VERSION@', names.debVersion)
    .replace('@ARCH@', debArch())
    .replace('@MAINTAINER@', MAINTAINER)
    .replace('@SIZE@', String(sizeKb))
    .replace('@DEPENDS@', shlibDepends(join(root, 'usr/sbin/ha-watchdog')));
  put(join(dbg, 'control'), control);
  // Every directory 0755 (umask-independent).
  sh('find', [root, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
}

function listFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Depends: of the executable's shared libraries (node's: libc6, libstdc++6, libgcc-s1), by dpkg-shlibdeps. */
function shlibDepends(executable: string): string {
  const tmp = join(BUILD, `shlibdeps-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'debian'), { recursive: true });
  writeFileSync(join(tmp, 'debian/control'), 'Source: ha-watchdog\n\nPackage: ha-watchdog\nArchitecture: any\n');
  try {
    const out = sh('dpkg-shlibdeps', ['-O', '-e', executable], { cwd: tmp });
    const m = /^shlibs:Depends=(.*)$/m.exec(out);
    if (!m) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${out}`);
    return m[1]!.trim();
  } catch (e) {
    throw new Error(`dpkg-shlibdeps (dpkg-dev) failed: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function rfc2822(epoch: number): string {
  return sh('date', ['-u', '-R', '-d', `@${epoch}`]).trim();
}

function changelog(debVersion: string, epoch: number, extra: Array<{ version: string; text: string }>): string {
  const entry = (version: string, lines: string[]) =>
    `ha-watchdog (${version}) unstable; urgency=medium\n\n${lines.map((l) => `  * ${l}`).join('\n')}\n\n -- ${MAINTAINER}  ${rfc2822(epoch)}\n`;
  const base = entry(debVersion, [
    'Package built from the ha-watchdog repository (npm run package): one',
    '  self-contained executable with Node.js built in (no dependency on',
    '  nodejs), the systemd units, man pages, the example configuration.',
  ]);
  return [...extra.map((e) => entry(e.version, e.text.split('\n'))), base].join('\n');
}

const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.`;

/** The npm packages the bundle contains (from esbuild's metafile, saved by sea.ts). */
function bundledPackages(): Array<{ name: string; version: string; license: string; author: string }> {
  const list = join(BUILD, 'bundled-packages.json');
  const dirs = JSON.parse(readFileSync(list, 'utf8')) as string[];
  return dirs.map((d) => {
    const p = JSON.parse(readFileSync(join(ROOT, d, 'package.json'), 'utf8')) as { name: string; version: string; license?: string | { type: string }; author?: string | { name: string } };
    const license = typeof p.license === 'string' ? p.license : p.license?.type ?? 'UNKNOWN';
    const author = typeof p.author === 'string' ? p.author.replace(/\s*[<(].*$/, '') : p.author?.name ?? 'its authors';
    return { name: p.name, version: p.version, license, author };
  });
}

/** Node's own LICENSE (Node.js is MIT; it lists every library it bundles, with its license). */
function nodeLicenseFile(): string | undefined {
  return ['/usr/share/doc/nodejs/LICENSE', join(dirname(process.execPath), '../share/doc/node/LICENSE')].find((f) => existsSync(f));
}

/** debian/copyright in the machine-readable format (DEP-5). */
export function copyright(): string {
  const p = pkgJson();
  const pkgs = bundledPackages();
  const known: Record<string, string> = { MIT: 'Expat', ISC: 'ISC', 'Apache-2.0': 'Apache-2.0', 'BSD-2-Clause': 'BSD-2-clause', 'BSD-3-Clause': 'BSD-3-clause' };
  const unknown = pkgs.filter((x) => !known[x.license]);
  if (unknown.length) throw new Error(`bundled packages with a license this copyright file does not cover: ${unknown.map((u) => `${u.name} ${u.license}`).join(', ')}`);
  const licenses = [...new Set(['Expat', ...pkgs.map((x) => known[x.license]!)])];
  const nodeNote = nodeLicenseFile()
    ? `the licenses of the libraries Node.js bundles (V8, libuv, OpenSSL, ICU, zlib, llhttp,\n nghttp2, c-ares and others) are in full in /usr/share/doc/ha-watchdog/LICENSE.nodejs.gz\n (Node.js's LICENSE file)`
    : `the licenses of the libraries Node.js bundles are listed in\n https://github.com/nodejs/node/blob/${process.version}/LICENSE`;
  const paras: string[] = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: ha-watchdog\nComment: The executable /usr/sbin/ha-watchdog is the Node.js ${process.version} runtime with\n ha-watchdog and the npm packages listed below bundled into it (a Node.js single\n executable application).`,
    `Files: *\nCopyright: ${new Date(sourceDateEpoch() * 1000).getUTCFullYear()} ha-watchdog maintainers\nLicense: ${known[p.license] ?? p.license}`,
    [
      'Files: usr/sbin/ha-watchdog',
      `Copyright: ${new Date(sourceDateEpoch() * 1000).getUTCFullYear()} ha-watchdog maintainers`,
      ' Node.js contributors, and the authors of the libraries Node.js bundles',
      ...[...new Set(pkgs.map((x) => x.author))].map((a) => ` ${a}`),
      `License: ${licenses.join(' and ')}`,
      `Comment: Node.js ${process.version} is under the Expat (MIT) license; ${nodeNote}.`,
      ' .',
      ' npm packages bundled into the executable:',
      ...pkgs.map((x) => ` ${x.name} ${x.version}: ${known[x.license]}`),
    ].join('\n'),
    `License: Expat\n ${MIT}`,
  ];
  if (licenses.includes('ISC')) paras.push(`License: ISC\n Permission to use, copy, modify, and/or distribute this software for any\n purpose with or without fee is hereby granted, provided that the above\n copyright notice and this permission notice appear in all copies.\n .\n THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES\n WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF\n MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR\n ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\n WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN\n ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF\n OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`);
  if (licenses.includes('Apache-2.0')) paras.push(`License: Apache-2.0\n On Debian systems, the full text of the Apache License, Version 2.0 is in\n /usr/share/common-licenses/Apache-2.0.`);
  if (licenses.includes('BSD-3-clause')) paras.push(`License: BSD-3-clause\n On Debian systems, the full text of the BSD 3-clause license is in\n /usr/share/common-licenses/BSD.`);
  if (licenses.includes('BSD-2-clause')) paras.push(`License: BSD-2-clause\n Redistribution and use in source and binary forms, with or without\n modification, are permitted provided that the conditions of the BSD\n 2-clause license are met; see https://opensource.org/licenses/BSD-2-Clause.`);
  return `${paras.join('\n\n')}\n`;
}

function buildDeb(root: string, deb: string, epoch: number): void {
  rmSync(deb, { force: true });
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, deb], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  });
}

function buildTarball(dir: string, debRoot: string, executable: string, names: ReturnType<typeof artefactNames>, epoch: number): void {
  const top = `ha-watchdog-${names.version}-linux-${tarArch}`;
  const t = join(dir, top);
  const cp = (from: string, to: string, mode = 0o644) => put(join(t, to), readFileSync(from), mode);
  cp(executable, 'ha-watchdog', 0o755);
  for (const f of readdirSync(join(debRoot, 'lib/systemd/system'))) cp(join(debRoot, 'lib/systemd/system', f), `systemd/${f}`);
  cp(join(ROOT, 'systemd/keepalived-override.conf'), 'systemd/keepalived-override.conf');
  cp(join(debRoot, 'usr/share/doc/ha-watchdog/examples/ha-watchdog.cron'), 'systemd/ha-watchdog.cron');
  cp(join(debRoot, 'etc/ha-watchdog/watchdog.yaml'), 'watchdog.yaml');
  cp(join(ROOT, 'man/ha-watchdog.8'), 'man/ha-watchdog.8');
  cp(join(ROOT, 'man/watchdog.yaml.5'), 'man/watchdog.yaml.5');
  cp(join(ROOT, 'contrib/watchdog.schema.json'), 'contrib/watchdog.schema.json');
  cp(join(ROOT, 'contrib/prometheus/ha-watchdog.rules.yml'), 'contrib/prometheus/ha-watchdog.rules.yml');
  cp(join(ROOT, 'contrib/grafana/ha-watchdog.json'), 'contrib/grafana/ha-watchdog.json');
  cp(join(ROOT, 'README.md'), 'README.md');
  cp(join(debRoot, 'usr/share/doc/ha-watchdog/copyright'), 'COPYRIGHT');
  put(join(t, 'INSTALL'), readFileSync(join(HERE, 'INSTALL.tarball')));
  sh('find', [t, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
  rmSync(names.tarball, { force: true });
  // Reproducible: sorted names, root-owned, the commit's mtime, gzip -n.
  execFileSync('sh', ['-c', `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@${epoch} -C "$1" -cf - "$2" | gzip -6n > "$3"`, 'sh', dir, top, names.tarball]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const a = await buildPackages();
  const size = (f: string) => `${(statSync(f).size / 1e6).toFixed(1)} MB`;
  if (a.sea) process.stdout.write(`executable ${a.executable}: ${size(a.executable)} (node ${a.sea.nodeVersion}, bundle ${(a.sea.bundleBytes / 1e3).toFixed(0)} kB)\n`);
  process.stdout.write(`${a.deb}: ${size(a.deb)}\n${a.tarball}: ${size(a.tarball)}\n(${((Date.now() - t0) / 1000).toFixed(1)} s; ${basename(a.deb)} is checked with: lintian ${a.deb})\n`);
}
