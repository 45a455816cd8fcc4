// How much CPU this machine charges an idle node process right now: CPU per second
// asleep, and per wake-up of an empty 250 ms setInterval. On the VM the committed
// results come from these ranged from ~0.1 ms/s and ~0.2 ms to several ms of both over
// one afternoon, whatever the code, and every small, frequent cost this bench measures
// (the pid watch above all) moves with them. run.ts runs it at the start and at the end
// and puts both in the machine table.
//   node idle-probe.mjs [MS]     MS asleep, then MS of the empty timer; prints one JSON line
import { emit, sleep } from './common.mjs';

const ms = Number(process.argv[2] ?? 3000);
const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
await sleep(200);
let c0 = cpu();
await sleep(ms);
const idleUsPerS = (cpu() - c0) / (ms / 1000);
let ticks = 0;
c0 = cpu();
const timer = setInterval(() => void (ticks += 1), 250);
await sleep(ms);
clearInterval(timer);
const wakeUpUs = (cpu() - c0 - idleUsPerS * (ms / 1000)) / Math.max(1, ticks);
emit({ idleUsPerS, wakeUpUs, ticks });
