import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const BENCH = join(ROOT, 'bench');
/** The build measured: a snapshot taken by lib/snapshot.ts when run.ts starts, else dist/. */
export const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');
export const CLI = join(DIST, 'cli.js');
export const WORKERS = join(BENCH, 'workers');
export const worker = (name: string) => join(WORKERS, name);
