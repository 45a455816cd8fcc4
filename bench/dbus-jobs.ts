// What `restart.unit` saves: a unit restarted as a systemd job over the agent's D-Bus
// connection (UnitWatch.restart: RestartUnit, waiting for JobRemoved) against
// `/usr/bin/systemctl restart <unit>` forked (what `restart.command` and the no-bus
// fallback do), in the real systemd of the test container. Wall time per restart, and
// CPU per restart: the caller's own (with the systemctl children it waited for),
// systemd's (PID 1) and dbus-daemon's. Appends (or replaces) its section of
// bench/results-dbus.md; nothing is asserted.
//
//   sudo node --import tsx bench/dbus-jobs.ts
//   BENCH_JOBS_ROUNDS=4 BENCH_JOBS_BATCH=10   (default: 4 rounds of 10 restarts each way)
//
// The caller is the driver of test/systemd/dbus-units.test.ts (a node process in the
// container). Batches alternate (10 over D-Bus, 10 forked, ...) so that drift on a
// shared machine hits both; CPU is read from /proc in clock ticks (10 ms) around each
// batch. The fork is a plain child_process.spawn (own process group, output
// discarded): the agent's execa adds its own cost on top, so the saving measured here
// is a lower bound.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Container } from '../test/systemd/container.js';
import { inContainer } from './lib/container.js';
import { Driver, installDriver, installUnits } from '../test/systemd/dbus-harness.js';
import { machine } from './lib/machine.js';
import { BENCH, ROOT } from './lib/paths.js';
import { table } from './lib/report.js';
import { max, median, min, ms, quantile, sum } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_JOBS_ROUNDS ?? 4);
const BATCH = Number(process.env.BENCH_JOBS_BATCH ?? 10);
const UNIT = 'hwt-bench.service';
const OUT = join(BENCH, 'results-dbus.md');
/** This section of results-dbus.md starts here (bench/dbus-notice.ts keeps it when it rewrites the file). */
export const JOBS_MARKER = '<!-- bench/dbus-jobs.ts -->';
const TICK_MS = 10;
const started = Date.now();
const log = (m: string) => process.stderr.write(`[dbus-jobs +${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

type Way = 'dbus' | 'fork';
interface Cpu {
  self: { own: number; children: number };
  pid1: number;
  dbus: number | null;
}
interface Tally {
  wall: number[];
  selfTicks: number;
  childTicks: number;
  pid1Ticks: number;
  dbusTicks: number;
  n: number;
}

async function measure(ct: Container): Promise<{ tally: Record<Way, Tally>; bootMs: number }> {
  await installUnits(ct);
  await installDriver(ct);
  await ct.systemctl('start', UNIT);
  const d = await Driver.start(ct);
  const tally: Record<Way, Tally> = {
    dbus: { wall: [], selfTicks: 0, childTicks: 0, pid1Ticks: 0, dbusTicks: 0, n: 0 },
    fork: { wall: [], selfTicks: 0, childTicks: 0, pid1Ticks: 0, dbusTicks: 0, n: 0 },
  };
  const cpu = async () => (await d.request('cpu')) as unknown as Cpu;
  const restartOnce = async (way: Way): Promise<number> => {
    if (way === 'dbus') {
      const r = (await d.request('restart', { unit: UNIT })).result as { ok: boolean; durationMs: number };
      if (!r.ok) throw new Error(`restart job: ${JSON.stringify(r)}`);
      return r.durationMs;
    }
    const r = (await d.request('fork', { unit: UNIT, op: 'restart' })) as { code: number; ms: number };
    if (r.code !== 0) throw new Error(`systemctl restart exited ${r.code}`);
    return r.ms;
  };
  try {
    // Warm-up: the first of each (page cache, JIT, systemd's unit load) is not counted.
    await restartOnce('dbus');
    await restartOnce('fork');
    for (let round = 0; round < ROUNDS; round++) {
      for (const way of (round % 2 ? ['fork', 'dbus'] : ['dbus', 'fork']) as Way[]) {
        const t = tally[way];
        const a = await cpu();
        for (let i = 0; i < BATCH; i++) t.wall.push(await restartOnce(way));
        const b = await cpu();
        t.selfTicks += b.self.own - a.self.own;
        t.childTicks += b.self.children - a.self.children;
        t.pid1Ticks += b.pid1 - a.pid1;
        t.dbusTicks += (b.dbus ?? 0) - (a.dbus ?? 0);
        t.n += BATCH;
        log(`round ${round + 1}/${ROUNDS} ${way}: wall median ${ms(median(t.wall.slice(-BATCH)))}`);
      }
    }
    await d.request('close');
    return { tally, bootMs: ct.timings.bootMs };
  } finally {
    d.kill();
  }
}

async function main(): Promise<void> {
  const facts = machine();
  const r = await inContainer(measure, log);
  if (!r) return;
  const per = (t: Tally, ticks: number) => (ticks * TICK_MS) / t.n;
  const row = (label: string, t: Tally) => {
    const caller = per(t, t.selfTicks + t.childTicks);
    const total = caller + per(t, t.pid1Ticks) + per(t, t.dbusTicks);
    return [label, t.n, ms(median(t.wall)), ms(quantile(t.wall, 0.9)), ms(max(t.wall)), ms(min(t.wall)), ms(per(t, t.selfTicks)), ms(per(t, t.childTicks)), ms(per(t, t.pid1Ticks)), ms(per(t, t.dbusTicks)), ms(caller), ms(total)];
  };
  const { dbus, fork } = r.tally;
  const callerOf = (t: Tally) => per(t, t.selfTicks + t.childTicks);
  const totalOf = (t: Tally) => callerOf(t) + per(t, t.pid1Ticks) + per(t, t.dbusTicks);
  const section = [
    JOBS_MARKER,
    '# restart.unit: a systemd job over D-Bus vs forking systemctl',
    '',
    `Written by \`sudo node --import tsx ${relative(ROOT, join(BENCH, 'dbus-jobs.ts'))}\` (${new Date().toISOString()}); nothing is asserted. Machine: ${facts.CPU ?? '?'}, ${facts.cores ?? '?'} cores, load average at start ${facts['load average at start'] ?? '?'}, commit ${facts.commit ?? '?'}.`,
    '',
    `In the systemd test container (Debian 12, systemd 252, its own dbus-daemon; booted in ${r.bootMs} ms): \`${UNIT}\` (\`ExecStart=/usr/bin/sleep infinity\`) restarted ${dbus.n + fork.n} times by one node process in the container (the driver of test/systemd/dbus-units.test.ts), in alternating batches of ${BATCH}: **D-Bus job**: \`UnitWatch.restart\` (src/systemd/units.ts: \`RestartUnit\` on the connection the watch already holds, then \`JobRemoved\`), what \`restart.unit\` runs; **fork**: \`child_process.spawn('/usr/bin/systemctl', ['restart', unit])\` in its own process group, waited for, what \`restart.command: [/usr/bin/systemctl, restart, ...]\` and the no-bus fallback run (the agent's execa adds its own cost on top). Wall: the caller's clock from the call (spawn) to JobRemoved (exit); the job's in whole ms (its \`durationMs\`). CPU per restart: ticks (10 ms) of the caller (its own; its waited-for children, i.e. systemctl), of systemd (PID 1) and of dbus-daemon, summed over the batches and divided by the restarts. Both include systemd stopping and starting the unit's process.`,
    '',
    table(
      ['way', 'n', 'wall median', 'p90', 'max', 'min', 'CPU caller', 'CPU systemctl', 'CPU systemd', 'CPU dbus-daemon', 'CPU caller + systemctl', 'CPU all'],
      [row('D-Bus job (restart.unit)', dbus), row('fork systemctl restart', fork)],
    ),
    '',
    `**Result**: per restart, wall ${ms(median(fork.wall))} -> ${ms(median(dbus.wall))} median (${ms(median(fork.wall) - median(dbus.wall))} saved); CPU of the caller with its children ${ms(callerOf(fork))} -> ${ms(callerOf(dbus))} (${ms(callerOf(fork) - callerOf(dbus))} saved); all CPU counted (caller, systemctl, systemd, dbus-daemon) ${ms(totalOf(fork))} -> ${ms(totalOf(dbus))}. Restarts are rare (a failure, not a poll): this is latency and CPU per failure, not a steady-state cost.`,
    '',
    `Every wall time (ms), D-Bus: ${dbus.wall.map((x) => x.toFixed(1)).join(', ')}; fork: ${fork.wall.map((x) => x.toFixed(1)).join(', ')}. Sum of wall: ${ms(sum(dbus.wall))} vs ${ms(sum(fork.wall))}.`,
    '',
  ].join('\n');
  const before = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  const kept = before.includes(JOBS_MARKER) ? before.slice(0, before.indexOf(JOBS_MARKER)) : before;
  writeFileSync(OUT, `${kept.trimEnd()}\n\n${section}`);
  log(`wrote ${relative(ROOT, OUT)}: wall ${ms(median(fork.wall))} -> ${ms(median(dbus.wall))}, caller CPU ${ms(callerOf(fork))} -> ${ms(callerOf(dbus))}`);
}

await main();
