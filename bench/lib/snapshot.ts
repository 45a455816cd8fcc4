// Other work on this machine may rebuild dist/ while the bench runs (npm run build,
// npm test). So run.ts imports this module first: it copies dist/ as built by `npm run
// bench` into a temp directory (with package.json, and node_modules linked) and points
// BENCH_DIST there, which lib/paths.ts and every worker (inherited env) then use. One
// run measures one build. Removed on exit.
import { cpSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** sha256 of the built .js files, first 12 hex digits: which build was measured. */
export let distHash = 'unknown';

if (!process.env.BENCH_DIST && existsSync(join(root, 'dist', 'cli.js'))) {
  const dir = mkdtempSync(join(tmpdir(), 'haw-bench-dist-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  process.env.BENCH_DIST = join(dir, 'dist');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
if (process.env.BENCH_DIST) {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js')) h.update(p.slice(process.env.BENCH_DIST!.length)).update(readFileSync(p));
    }
  };
  walk(process.env.BENCH_DIST);
  distHash = h.digest('hex').slice(0, 12);
}
