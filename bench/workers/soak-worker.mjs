// Item 2, run inside the bench namespace: RSS of a process driving Agent.poll() back
// to back (the built agent, persist on, as in the daemon) for N polls. The config is read
// as the daemon reads it: by a helper process (`node dist/cli.js __config`), so the
// config stack (yaml, zod) is not in this process either.
//   node [--expose-gc] [V8 flags] soak-worker.mjs CONFIG N
// With --expose-gc, gc() runs before every sample (the live size, not what the GC has
// not collected yet). Samples VmRSS after the first poll, every N/40 polls and at the end.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuNow, dist, emit, quietLogger, rssMB } from './common.mjs';

const [configPath, nArg] = process.argv.slice(2);
const n = Number(nArg);
const { loadConfigApart } = await dist('config/load-apart.js');
const { Agent } = await dist('agent/agent.js');
const { freshMemory } = await dist('policy/decide.js');
const counter = { lines: 0 };
const log = await quietLogger(counter);
const cli = join(process.env.BENCH_DIST ?? fileURLToPath(new URL('../../dist', import.meta.url)), 'cli.js');
const loaded = await loadConfigApart({ file: process.execPath, args: [cli] }, configPath);
if (!loaded.ok) throw new Error(loaded.message);
const { config } = loaded;
const agent = new Agent(config, freshMemory(), { log, dryRun: false, persist: true });
const gc = globalThis.gc;
const sample = (poll) => {
  gc?.();
  const m = process.memoryUsage();
  return { poll, rssMB: rssMB(), heapUsedMB: m.heapUsed / 1048576, heapTotalMB: m.heapTotal / 1048576, externalMB: m.external / 1048576 };
};
const samples = [];
let scans = 0;
let notOk = 0;
const started = performance.now();
const cpu0 = cpuNow();
for (let i = 1; i <= n; i++) {
  const r = await agent.poll();
  scans += r.scans;
  if (!(Object.values(r.observations.services).every((s) => s.ok) && r.observations.keepalived.running)) notOk += 1;
  if (i === 1 || i === n || i % Math.max(1, Math.floor(n / 40)) === 0) samples.push(sample(i));
}
const wallMs = performance.now() - started;
const cpu1 = cpuNow();
await agent.close();
emit({ gc: Boolean(gc), polls: n, wallMs, cpuMs: cpu1.self - cpu0.self + cpu1.children - cpu0.children, scans, notOk, logLines: counter.lines, samples });
process.exit(0);
