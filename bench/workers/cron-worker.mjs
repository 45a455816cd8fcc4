// Item 2, for the breakdown: what the daemon's scheduler alone costs. Schedules a task
// that does nothing with node-cron (the daemon's cron expression for the interval) as
// the daemon does (`node-cron-shipped`: src/agent/cron-time.ts's matcher, no Intl) or
// as node-cron comes (`node-cron`), or with a plain setTimeout chain aligned to the
// interval, and reports the CPU time used over SECONDS (self + children, ms), after a
// 2 s warm-up, and the RSS at the end.
//   node cron-worker.mjs node-cron|node-cron-shipped|timeout INTERVAL_MS SECONDS
import { readFileSync } from 'node:fs';
import { cpuNow, cpuDelta, dist, emit, sleep } from './common.mjs';

const [kind, intervalArg, secondsArg] = process.argv.slice(2);
const interval = Number(intervalArg);
const seconds = Number(secondsArg);
let ticks = 0;
const tick = () => void (ticks += 1);
let stop;
if (kind === 'node-cron' || kind === 'node-cron-shipped') {
  const { cronExpression } = await dist('config/interval.js');
  const { default: cron } = await import('node-cron');
  const expression = cronExpression(interval);
  const task = cron.createTask(expression, tick, { name: 'bench' });
  if (kind === 'node-cron-shipped') {
    const { cheapenTask } = await dist('agent/cron-time.js');
    if (!cheapenTask(task, expression)) throw new Error(`cheapenTask refused ${expression}`);
  }
  await task.start();
  stop = () => task.stop();
} else {
  let timer;
  const arm = () => (timer = setTimeout(() => (tick(), arm()), interval - (Date.now() % interval)));
  arm();
  stop = () => clearTimeout(timer);
}
await sleep(2000);
const a = cpuNow();
const t0 = ticks;
await sleep(seconds * 1000);
const b = cpuNow();
await stop();
const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
emit({ kind, interval, seconds, ticks: ticks - t0, cpu: cpuDelta(a, b), rssMB: rss });
process.exit(0);
