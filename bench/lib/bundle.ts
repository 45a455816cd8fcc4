// For item 4's "what would fix it": dist/ bundled into one file with esbuild (the one
// tsx already brings into node_modules), built into a temp directory, never into the
// repository. pino stays outside the bundle (src/log.ts requires it at run time through
// createRequire) and resolves through a node_modules link.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './paths.js';

export interface Bundle {
  cli: string;
  sizeNote: string;
  cleanup: () => void;
}

export function buildBundle(): Bundle | { error: string } {
  const esbuild = join(ROOT, 'node_modules', '.bin', 'esbuild');
  if (!existsSync(esbuild)) return { error: 'esbuild not found in node_modules (it comes with tsx)' };
  const dir = mkdtempSync(join(tmpdir(), 'haw-bench-bundle-'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const out = join(dir, 'dist', 'cli.js');
  const r = spawnSync(
    esbuild,
    [CLI, '--bundle', '--platform=node', '--format=esm', '--target=node20', '--minify-syntax', `--outfile=${out}`, '--log-level=error', "--banner:js=import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);"],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) {
    cleanup();
    return { error: `esbuild failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 500)}` };
  }
  const st = spawnSync('du', ['-k', out], { encoding: 'utf8' }).stdout.split('\t')[0];
  return { cli: out, sizeNote: `${st} KB`, cleanup };
}
