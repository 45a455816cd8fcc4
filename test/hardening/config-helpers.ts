// Helpers for the config hardening tests: a real unprivileged user (useradd, removed
// after), the built CLI run with a time bound (a regression fails, it never hangs the
// suite), and a config whose commands leave marker files.
import { spawn } from 'node:child_process';
import { createUser } from '../helpers/user.js';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

/** The built CLI must exist (npm test builds it first). */
export function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
}

export type { TestUser as ConfigTestUser } from '../helpers/user.js';
/** The attacker of the config tests: a real user (test/helpers/user.ts). */
export const createConfigUser = () => createUser('hawcfg');

/** A directory under /tmp, root's, that others may traverse (0755). */
export function openRootDir(prefix = 'haw-cfg-hard-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs the built CLI as root; killed (timedOut) past timeoutMs. */
export function runCli(args: string[], timeoutMs = 20_000): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
  });
}

/**
 * A config that runs `touch marker` as keepalived's start command on the first poll
 * (its one service, non-critical, is probed over TCP at `port`).
 */
export function markerConfig(o: { stateDir: string; marker: string; port: number; tag: string }): string {
  return [
    `# ${o.tag}`,
    `stateDir: ${o.stateDir}`,
    'services:',
    `  web-${o.tag}:`,
    `    tcp: "127.0.0.1:${o.port}"`,
    '    critical: false',
    'keepalived:',
    '  process: { name: hawcfg-no-such-keepalived }',
    `  start: { command: [/usr/bin/touch, ${o.marker}], timeout: 5s }`,
    '',
  ].join('\n');
}
