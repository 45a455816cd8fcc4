// Item 4 breakdown: the cost of importing one module (or "all" seven runtime
// dependencies) into a fresh node process: time of the import() and RSS before/after.
//   node import-time.mjs MODULE|all|none|<path under dist/>
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { emit, rssMB } from './common.mjs';

const which = process.argv[2];
const ALL = ['zod', 'yaml', 'pino', 'undici', 'execa', 'ps-list', 'node-cron'];
const DIST = process.env.BENCH_DIST ?? join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'dist');
const spec = (m) => (m.endsWith('.js') ? pathToFileURL(join(DIST, m)).href : m);
const rss0 = rssMB();
const t0 = performance.now();
if (which === 'none') {
  // nothing: the RSS of node itself
} else if (which === 'all') await Promise.all(ALL.map((m) => import(m)));
else await import(spec(which));
const t1 = performance.now();
emit({ module: which, importMs: t1 - t0, startMs: t0, rssBeforeMB: rss0, rssAfterMB: rssMB() });
