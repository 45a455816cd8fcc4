// Item 2, for the breakdown: what the daemon's scheduler alone costs. Schedules a task
// that does nothing with node-cron (the daemon's cron expression for the interval), or
// with a plain setTimeout chain aligned to the interval, and reports the CPU time used
// over SECONDS (self + children, ms), after a 2 s warm-up.
//   node cron-worker.mjs node-cron|timeout INTERVAL_MS SECONDS
import { cpuNow, cpuDelta, dist, emit, sleep } from './common.mjs';

const [kind, intervalArg, secondsArg] = process.argv.slice(2);
const interval = Number(intervalArg);
const seconds = Number(secondsArg);
let ticks = 0;
const tick = () => void (ticks += 1);
let stop;
if (kind === 'node-cron') {
  const { cronExpression } = await dist('config/interval.js');
  const { default: cron } = await import('node-cron');
  const task = cron.schedule(cronExpression(interval), tick, { name: 'bench' });
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
emit({ kind, interval, seconds, ticks: ticks - t0, cpu: cpuDelta(a, b) });
process.exit(0);
