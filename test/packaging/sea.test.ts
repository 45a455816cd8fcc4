// The single executable (packaging/sea.ts: esbuild bundle + node SEA + postject) must
// behave exactly as dist/cli.js does: same stdout, stderr and exit code for the same
// command, with no node anywhere on its PATH. Builds pkg/build/ha-watchdog, or reuses
// it when none of its inputs changed (packaging/fresh.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSea } from '../../packaging/package.js';
import { asciiOnly } from '../../packaging/sea.js';
import { CLI, ROOT } from '../helpers/stage.js';

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

// No node on the PATH, no NODE_OPTIONS: what a host without Node.js gives it.
const BARE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Out> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b));
    c.stderr.on('data', (b: Buffer) => (stderr += b));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The report without what differs between two runs: timestamps. */
function normalise(json: string): unknown {
  return JSON.parse(json, (k, v: unknown) => (k === 'time' ? '<time>' : v));
}

describe('the single executable behaves as dist/cli.js', () => {
  let exe = '';
  let dir = '';
  let server: Server;
  let keepalived: ReturnType<typeof spawn> | undefined;
  const cases: Record<string, string> = {};

  before(async () => {
    const t0 = Date.now();
    const r = await ensureSea();
    exe = r.executable;
    process.stdout.write(`sea.test: ${exe} ${r.reused ? 'reused (inputs unchanged)' : `built in ${Date.now() - t0} ms`}\n`);
    dir = mkdtempSync(join(tmpdir(), 'hwt-sea-'));
    chmodSync(dir, 0o755);
    server = createServer((_req, res) => res.end('tomcat ok\n'));
    await new Promise<void>((r2) => server.listen(0, '127.0.0.1', r2));
    const port = (server.address() as { port: number }).port;
    // A process standing in for keepalived, found by its command line.
    keepalived = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', 'hwt-sea-fake-keepalived'], { stdio: 'ignore' });
    const write = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text, { mode: 0o644 });
      chmodSync(f, 0o644);
      cases[name] = f;
    };
    const ka = `keepalived:\n  process: { name: node, args: 'hwt-sea-fake-keepalived' }\n  start: { command: [/bin/true] }\n`;
    write('healthy.yaml', `interval: 1s\nstateDir: ${dir}/state\nservices:\n  tomcat:\n    http: { url: "http://127.0.0.1:${port}/", bodyMatches: "tomcat ok" }\n    tcp: "127.0.0.1:${port}"\n    restart: { command: [/bin/true] }\n${ka}`);
    write('down.yaml', `interval: 1s\nstateDir: ${dir}/state\nservices:\n  tomcat:\n    http: { url: "http://127.0.0.1:1/", timeout: 300ms }\n    fall: 1\n${ka}`);
    write('bad.yaml', `interval: 7s\nservices:\n  tomcat:\n    process: { name: java, colour: red }\n    restart: { command: "systemctl restart tomcat10" }\nkeepalived: {}\n`);
    write('warn.yaml', `services:\n  tomcat: { tcp: "127.0.0.1:${port}" }\nkeepalived:\n  start: { command: [/bin/true] }\n  control: track-file\n  trackFile: /proc/hwt-cannot-write/track\nfailover: { order: handover-first }\n`);
  });

  after(() => {
    keepalived?.kill('SIGKILL');
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const same = async (args: string[], json = false) => {
    const a = await run([process.execPath, CLI, ...args], { ...BARE_ENV, JOURNAL_STREAM: '' });
    const b = await run([exe, ...args], { ...BARE_ENV, JOURNAL_STREAM: '' });
    assert.equal(b.code, a.code, `exit code of \`${args.join(' ')}\`: dist ${a.code}, executable ${b.code}\n${b.stderr}`);
    if (json) assert.deepEqual(normalise(b.stdout), normalise(a.stdout));
    else assert.equal(b.stdout, a.stdout);
    assert.equal(b.stderr, a.stderr);
    return a;
  };

  it('runs with no node on the host: only libc, libstdc++, libgcc_s, libm, libdl, libpthread linked', () => {
    const r = spawnSync(exe, ['--version'], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(spawnSync('cat', [join(ROOT, 'package.json')], { encoding: 'utf8' }).stdout).version);
    const ldd = spawnSync('ldd', [exe], { encoding: 'utf8' }).stdout;
    const libs = [...ldd.matchAll(/^\s*(\S+\.so[.\d]*)/gm)].map((m) => m[1]!).filter((l) => !/^linux-vdso|ld-linux/.test(l));
    for (const l of libs) assert.match(l, /^lib(c|stdc\+\+|gcc_s|m|dl|pthread)\.so/, `unexpected shared library ${l}`);
  });

  it('--version, --help, usage errors: same output and exit codes', async () => {
    assert.equal((await same(['--version'])).code, 0);
    assert.equal((await same(['--help'])).code, 0);
    assert.equal((await same(['-h'])).code, 0);
    assert.equal((await same([])).code, 64);
    assert.equal((await same(['frobnicate'])).code, 64);
    assert.equal((await same(['check', '--bogus'])).code, 64);
    assert.equal((await same(['retry'])).code, 64);
    assert.equal((await same(['check', '--log-level', 'loud'])).code, 64);
  });

  it('validate: the shipped config, a broken one (every error with file:line:column), one with warnings, --print, a missing file', async () => {
    // A copy in a fresh root-owned directory (as root, validate checks every directory up to /).
    const shipped = join(mkdtempSync(join(tmpdir(), 'haw-shipped-')), 'watchdog.yaml');
    copyFileSync(join(ROOT, 'watchdog.yaml'), shipped);
    chmodSync(shipped, 0o644);
    assert.equal((await same(['validate', '-c', shipped])).code, 0);
    assert.equal((await same(['validate', '-c', shipped, '--print'])).code, 0);
    const bad = await same(['validate', '-c', cases['bad.yaml']!]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.yaml:1:11: interval: /);
    const warn = await same(['validate', '-c', cases['warn.yaml']!]);
    assert.equal(warn.code, 0);
    assert.match(warn.stderr, /warning: /);
    assert.equal((await same(['validate', '-c', join(dir, 'missing.yaml')])).code, 1);
  });

  it('check --json --dry-run: the same report on a healthy host (0) and with a service down (2)', async () => {
    assert.equal((await same(['check', '--json', '--dry-run', '-c', cases['healthy.yaml']!], true)).code, 0);
    assert.equal((await same(['check', '--json', '--dry-run', '-c', cases['down.yaml']!], true)).code, 2);
    assert.equal((await same(['check', '--dry-run', '-c', cases['healthy.yaml']!])).code, 0);
  });

  it("the daemon's helpers (`__config`, `__state`): the same JSON", async () => {
    assert.equal((await same(['__config', '-c', cases['healthy.yaml']!], true)).code, 0);
    assert.equal((await same(['__config', '-c', cases['bad.yaml']!], true)).code, 0);
    assert.equal((await same(['__state', join(dir, 'state')], true)).code, 0);
  });

  it('run: the executable runs itself as the config reader: a broken config is refused as by dist/cli.js (exit 1, the same config.invalid); a good one starts, polls and stops on SIGTERM', async () => {
    const invalid = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; msg?: string; errors?: unknown }).find((l) => l.event === 'config.invalid');
    const a = await run([process.execPath, CLI, 'run', '-c', cases['bad.yaml']!], { ...BARE_ENV, JOURNAL_STREAM: '' });
    const b = await run([exe, 'run', '-c', cases['bad.yaml']!], { ...BARE_ENV, JOURNAL_STREAM: '' });
    assert.deepEqual([a.code, b.code], [1, 1]);
    assert.match(String(invalid(a.stdout)?.msg), /^invalid config, not starting:\n.*bad\.yaml:1:11: interval: /);
    assert.deepEqual([invalid(b.stdout)?.msg, invalid(b.stdout)?.errors], [invalid(a.stdout)?.msg, invalid(a.stdout)?.errors]);

    const c = spawn(exe, ['run', '--dry-run', '-c', cases['healthy.yaml']!], { env: { ...BARE_ENV, JOURNAL_STREAM: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => c.on('close', r));
    const t0 = Date.now();
    while (!/"event":"service\.up"/.test(out) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
    c.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /"event":"agent\.start"/);
    assert.match(out, /"event":"service\.up","service":"tomcat"/);
  });

  it('the bundle is ASCII: V8 keeps the main script one byte a character, not two', () => {
    const bundle = spawnSync('cat', [join(ROOT, 'pkg/build/ha-watchdog.cjs')], { encoding: 'latin1', maxBuffer: 64 << 20 }).stdout;
    assert.ok(bundle.length > 1e6);
    assert.equal(/[^\x00-\x7f]/.exec(bundle)?.index, undefined);
  });

  it("a check from the bundle loads neither node:http2 (undici's HTTP/2 client, made lazy) nor node:crypto (no digest probed), yet node:http", async () => {
    // The executable runs exactly this bundle; node runs it here so that a preload can
    // read process.moduleLoadList (the built-ins loaded) at exit.
    const list = join(dir, 'loaded.json');
    const preload = join(dir, 'loaded.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
    const r = await run([process.execPath, '-r', preload, join(ROOT, 'pkg/build/ha-watchdog.cjs'), 'check', '--dry-run', '-c', cases['healthy.yaml']!], BARE_ENV);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const loaded = new Set(JSON.parse(readFileSync(list, 'utf8')) as string[]);
    assert.ok(loaded.has('NativeModule http'), 'the HTTP probe ran on node:http');
    for (const m of ['NativeModule http2', 'NativeModule tls', 'NativeModule crypto']) assert.equal(loaded.has(m), false, `${m} loaded`);
  });

  it('check (acting, state kept across runs): the executable continues what dist/cli.js saved', async () => {
    const first = await run([process.execPath, CLI, 'check', '--json', '-c', cases['healthy.yaml']!], BARE_ENV);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const second = await run([exe, 'check', '--json', '-c', cases['healthy.yaml']!], BARE_ENV);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal((JSON.parse(second.stdout) as { status: string }).status, 'OK');
  });
});

describe('asciiOnly: the bundle in ASCII means the same program', () => {
  it('strings, templates, regexes and comments keep their meaning; astral characters too', () => {
    // The TypeScript escapes make real non-ASCII characters in the JavaScript under test.
    const src = 'return [/* cheapest \u2192 dearest \u2014 */ "a\u2014b\u{1F600}", `t\u2192${1}`, /[\u2014]x/.test("\u2014x"), /^[\u{1F600}]$/u.test("\u{1F600}")]; // \u00e9';
    assert.match(src, /[^\x00-\x7f]/);
    const ascii = asciiOnly(src);
    assert.equal(/[^\x00-\x7f]/.test(ascii), false);
    assert.deepEqual(new Function(ascii)(), ['a\u2014b\u{1F600}', 't\u21921', true, true]);
    assert.deepEqual(new Function(ascii)(), new Function(src)());
  });
});
