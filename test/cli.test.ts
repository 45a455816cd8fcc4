// The built CLI as an operator runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, ROOT } from './helpers/stage.js';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
    execFile('node', [CLI, ...args], { env: { ...process.env, ...env } }, (e, stdout, stderr) => res({ code: e ? (e as { code: number }).code : 0, stdout, stderr })),
  );

describe('cli', () => {
  it('--version and --help', async () => {
    const v = await cli(['--version']);
    assert.equal(v.stdout.trim(), (await import('../package.json', { with: { type: 'json' } })).default.version);
    const h = await cli(['--help']);
    assert.match(h.stdout, /Usage: ha-watchdog <command>/);
    assert.match(h.stdout, /0 OK, 1 degraded but handled, 2 critical, 3 unknown/);
  });

  it('no command, unknown command or option -> usage error 64', async () => {
    assert.equal((await cli([])).code, 64);
    const u = await cli(['frobnicate']);
    assert.equal(u.code, 64);
    assert.match(u.stderr, /unknown command "frobnicate"/);
    assert.equal((await cli(['check', '--bogus'])).code, 64);
  });

  it('validate: the shipped config is valid; --print shows defaults filled in', async () => {
    // A copy in a fresh root-owned directory: as root, validate also checks every
    // directory up to / (StrictModes), and where the checkout lives is not the point here.
    const shipped = join(mkdtempSync(join(tmpdir(), 'haw-shipped-')), 'watchdog.yaml');
    copyFileSync(join(ROOT, 'watchdog.yaml'), shipped);
    chmodSync(shipped, 0o644);
    const ok = await cli(['validate', '-c', shipped]);
    assert.equal(ok.code, 0, ok.stderr);
    const p = await cli(['validate', '-c', shipped, '--print']);
    assert.match(p.stdout, /interval: 1s/);
    assert.match(p.stdout, /tlsVerify: true/);
  });

  it('validate: errors -> exit 1, each with file:line:column and key; HA_WATCHDOG_CONFIG is honoured', async () => {
    const d = mkdtempSync(join(tmpdir(), 'haw-cli-'));
    const f = join(d, 'w.yaml');
    writeFileSync(f, 'interval: 2.5s\nservices:\n  tomcat: { process: { name: java }, fall: 0 }\nkeepalived: { start: { command: [/bin/true] } }\n', { mode: 0o644 });
    const r = await cli(['validate'], { HA_WATCHDOG_CONFIG: f });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${f}:1:11: interval: `));
    assert.match(r.stderr, new RegExp(`${f}:3:44: services.tomcat.fall: expected a whole number from 1 to 100, got number 0`));
    rmSync(d, { recursive: true });
  });

  it('run with an invalid config exits 1 and logs config.invalid', async () => {
    const r = await cli(['run', '-c', '/nonexistent.yaml']);
    assert.equal(r.code, 1);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]!);
    assert.equal(line.event, 'config.invalid');
  });
});
