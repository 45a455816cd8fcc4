// Item 2c: what the daemon's pid watch (src/agent/pid-watch.ts) costs on its 250 ms timer,
// i.e. for a process without a pidwait helper (as shipped, with helpers, it does not tick). The real
// PidWatch from dist/, over the real known pids of a steady Agent on a stand-in host (in
// its pid namespace, so the pids are the stand-ins'), in a worker run with the daemon's
// V8 flags: tick() back to back (the work of one tick), then the watch on its own 250 ms
// timer next to an empty timer of the same period (what a tick costs in place, timer
// wake-up included), extrapolated to an hour at 4 ticks a second. Next to it: the
// daemon's CPU per hour from item 2a (which includes the watch) against the committed
// run before the watch existed.
import { daemonFlags } from './lib/flags.js';
import { StandInHost } from './lib/host.js';
import { worker } from './lib/paths.js';
import { ticksPerSecond } from './lib/proc.js';
import { lastJson, table, type Section, type SummaryRow } from './lib/report.js';
import type { Settings } from './lib/settings.js';
import { fmt, max, median, min, ms } from './lib/stats.js';

/** bench/results.md before the pid watch: the run at commit 04c8783, committed in 1ceb39f. */
const BEFORE = { commit: '04c8783', results: '1ceb39f', perHourS: { '1s': 15.0, '3s': 8.4 } as Record<string, number>, perPollMs: { '1s': 4.17, '3s': 7.0 } as Record<string, number> };

interface Window {
  cpuUs: number;
  ms: number;
  ticks?: number;
}

interface Round {
  idle: Window;
  empty: Window & { ticks: number };
  paced: Window & { ticks: number };
}

interface Out {
  periodMs: number;
  owners: Record<string, number>;
  pids: number;
  /** The top processes the watch reads (older results: all). */
  watched?: number;
  batches: Array<{ cpuUs: number; wallUs: number }>;
  reports: number;
  rounds: Round[];
  warmAfterTicks: number;
}

interface InPlace {
  rounds: number;
  /** µs per second of the idle windows (median over the rounds) */
  idleUsPerS: number;
  /** µs per tick over the idle rate, median over the rounds (and min, max) */
  watch: { med: number; min: number; max: number; ticks: number; each: number[] };
  empty: { med: number; min: number; max: number; ticks: number; each: number[] };
}

/** Per tick, each round's window minus the idle rate (the median one: an idle window can catch a GC). */
function inPlace(rounds: Round[]): InPlace {
  const idleUsPerS = median(rounds.map((r) => r.idle.cpuUs / (r.idle.ms / 1000)));
  const per = (w: Window & { ticks: number }) => (w.cpuUs - idleUsPerS * (w.ms / 1000)) / Math.max(1, w.ticks);
  const agg = (ws: Array<Window & { ticks: number }>) => {
    const each = ws.map(per);
    return { med: median(each), min: min(each), max: max(each), ticks: ws.reduce((a, w) => a + w.ticks, 0), each };
  };
  return { rounds: rounds.length, idleUsPerS, watch: agg(rounds.map((r) => r.paced)), empty: agg(rounds.map((r) => r.empty)) };
}

/** agent / seed as "1/N", or "N× the seed" when the agent costs more. */
const ratio = (agent: number, seed: number) => (agent <= seed ? `1/${fmt(seed / agent)}` : `${fmt(agent / seed)}× the seed`);

/** What earlier items measured, when they ran in the same bench. */
export interface Earlier {
  /** Item 2a: daemon CPU per hour (ms of CPU per hour) by interval, as shipped. */
  daemonPerHourMs?: Record<string, number>;
  /** Item 2a: the same build with the pid watch never started. */
  noWatchPerHourMs?: Record<string, number>;
  /** Item 1: steady poll and seed iteration medians (ms), stand-ins only and host-sized. */
  poll?: Array<{ processes: number; steadyMs: number; seedMs: number }>;
}

export async function pidWatchCost(s: Settings, log: (m: string) => void, earlier: Earlier): Promise<Section> {
  log(`pid watch: ${s.watchTicks} ticks back to back, then ${s.watchSeconds} s on its timer`);
  const host = await StandInHost.create();
  let out: Out;
  try {
    const cfg = host.config({ interval: '1s', tag: 'pidwatch' });
    const env = { ...process.env, BENCH_CLK_TCK: String(ticksPerSecond()) };
    const r = await host.ns.run([process.execPath, ...daemonFlags(), '--expose-gc', worker('poll-worker.mjs'), 'pidwatch', cfg, String(s.watchTicks), String(s.watchSeconds * 1000)], { env, timeoutMs: (s.watchSeconds * 3 + 120) * 1000 });
    if (r.code !== 0) throw new Error(`poll-worker pidwatch: exit ${r.code}: ${r.stderr.trim().slice(-2000)}`);
    out = lastJson<Out>(r.stdout, 'poll-worker pidwatch');
  } finally {
    host.destroy();
  }
  return render(out, s, earlier);
}

function render(o: Out, s: Settings, e: Earlier): Section {
  const perSecond = 1000 / o.periodMs;
  const hot = o.batches.map((b) => b.cpuUs);
  const hotWall = o.batches.map((b) => b.wallUs);
  const hotUs = median(hot);
  const w = inPlace(o.rounds);
  const pacedUs = w.watch.med;
  const perHourS = (us: number) => (us * perSecond * 3600) / 1e6;
  const core = (us: number) => `${fmt((perHourS(us) / 3600) * 100)} %`;
  const windowS = s.watchSeconds / Math.max(1, o.rounds.length);
  const rows: SummaryRow[] = [];
  const body: string[] = [
    `The real \`PidWatch\` (\`dist/agent/pid-watch.js\`) in a worker inside a stand-in host's pid namespace, with the daemon's V8 flags (node ${daemonFlags().join(' ') || '(none)'}), over the known pids of a steady \`Agent\` (5 polls first, then its HTTP connections closed): ${o.pids} pids (${Object.entries(o.owners).map(([k, v]) => `${k} ${v}`).join(', ')}), of which the watch confirms the ${o.watched ?? o.pids} top ones (a child of another of the same match, nginx's workers and keepalived's children, is left to the polls) through their \`/proc/<pid>/stat\` as \`src/agent/pid-watch.ts\` does it. CPU = \`process.cpuUsage()\` (every thread, µs). Every pid stayed alive: ${o.reports} vanish reports (0 expected). A tick reads one small file per known pid, so its cost grows with the known pids, not with the size of the process table.`,
    '',
    `**Back to back**: \`tick()\` called in a loop, in batches of 1000: the work of a tick alone, caches hot (it also has V8 compile \`tick()\` hot, as in a daemon that has run for a while: ${o.warmAfterTicks} ticks before what follows; their garbage is then collected with \`gc()\`, the worker runs with \`--expose-gc\` for that alone). **In place**, how the daemon runs it: ${w.rounds} rounds of three ${fmt(windowS)} s windows, idle (nothing scheduled), an empty \`setInterval\` of ${o.periodMs} ms (the timer wake-up alone), and \`tick()\` on the same timer (what \`start()\` sets up; the watch is not stopped between rounds, so its files stay open as in a running daemon); per tick = (the window's CPU − the median idle rate × its length) / its ticks, median over the rounds.`,
    '',
    table(
      ['what', 'ticks', 'CPU per tick (median)', 'min / max', `per hour at ${fmt(perSecond)} ticks/s`, 'of one core'],
      [
        [`**in place: the watch ticking every ${o.periodMs} ms**`, w.watch.ticks, `**${fmt(w.watch.med)} µs**`, `${fmt(w.watch.min)} / ${fmt(w.watch.max)} µs`, `**${fmt(perHourS(w.watch.med))} s**`, core(w.watch.med)],
        [`of which the timer wake-up alone (an empty \`setInterval\` of ${o.periodMs} ms)`, w.empty.ticks, `${fmt(w.empty.med)} µs`, `${fmt(w.empty.min)} / ${fmt(w.empty.max)} µs`, `${fmt(perHourS(w.empty.med))} s`, core(w.empty.med)],
        [`back to back: \`tick()\` in a loop (${o.batches.length} batches after one for warm-up; wall ${fmt(median(hotWall))} µs per tick)`, o.batches.length * 1000, `${fmt(hotUs)} µs`, `${fmt(min(hot))} / ${fmt(max(hot))} µs`, `${fmt(perHourS(hotUs))} s`, core(hotUs)],
      ],
    ),
    '',
    `Idle rate (nothing scheduled: V8's own housekeeping), median of the idle windows: ${fmt(w.idleUsPerS)} µs/s, subtracted above. Per round, µs per tick: watch ${w.watch.each.map((x) => fmt(x)).join(', ')}; empty timer ${w.empty.each.map((x) => fmt(x)).join(', ')}.`,
    '',
    `The in-place figure is the one that counts: **${fmt(pacedUs)} µs per tick, ${fmt(perHourS(pacedUs))} s of CPU per hour** (${core(pacedUs)} of one core), the same at every poll interval. That is ${fmt(pacedUs / hotUs)}× the back-to-back cost: ${fmt(w.empty.med)} µs of it is waking the process up at all (epoll, libuv's timers, the kernel's scheduler: what any timer firing in an idle node process costs on this machine), and the rest is the tick's own work (${o.watched ?? o.pids} reads of \`/proc/<pid>/stat\`) done with cold caches after ${o.periodMs} ms asleep, many times slower than in a tight loop. Both parts are small, frequent costs, and what this machine charges for a wake-up varies a lot from one moment to the next: read them next to the noise probe in the machine table.`,
    '',
  ];
  const intervals = ['1s', '3s'];
  const d = e.daemonPerHourMs;
  const off = e.noWatchPerHourMs ?? {};
  if (d && intervals.some((i) => d[i] !== undefined)) {
    body.push(
      `The whole daemon (item 2a, this run): as shipped, and the same build with the watch never started, side by side; and the committed run from before the watch existed (commit ${BEFORE.commit}, \`bench/results.md\` as committed in ${BEFORE.results}: same bench and machine, another moment and load).`,
      '',
      table(
        ['interval', 'daemon CPU per hour, as shipped', 'same build, no pid watch', 'difference (the watch, in the daemon)', 'the 250 ms timer alone (above; idle where helpers run)', `before the watch (${BEFORE.commit})`],
        intervals
          .filter((i) => d[i] !== undefined)
          .map((i) => {
            const now = d[i]! / 1000;
            const no = (off[i] ?? NaN) / 1000;
            return [i, `**${fmt(now)} s**`, `${fmt(no)} s`, Number.isFinite(no) ? `${now >= no ? '+' : ''}${fmt(now - no)} s` : '-', `${fmt(perHourS(pacedUs))} s`, `${fmt(BEFORE.perHourS[i]!)} s`];
          }),
      ),
      '',
      `Item 2a reads \`/proc/<pid>/stat\` in ${1000 / ticksPerSecond()} ms ticks over ${s.daemonSeconds} s, so each of its per-hour figures is good to about ±${fmt((2 * (1000 / ticksPerSecond()) * 3600) / (s.daemonSeconds * 1000))} s/h from the quantization alone, before any noise from the machine; the watch's own figure above is the precise one, the difference in the daemon the check that nothing else came with it.`,
      '',
    );
  } else {
    body.push(`Item 2a did not run in this bench, so the daemon's CPU per hour is not shown here; in the committed run before the watch existed (commit ${BEFORE.commit}) it was ${BEFORE.perHourS['1s']} s/h at interval 1s and ${BEFORE.perHourS['3s']} s/h at 3s.`, '');
  }
  if (e.poll?.length) {
    body.push(
      `Against the steady-state CPU target of item 1 (a steady poll at most 1/10 of the seed loop body): the watch runs between the polls, so per poll period it adds ${fmt(perSecond)} ticks per second of interval. At \`interval: 3s\`, the seed loop's own period (\`sleep 3\`), that is ${fmt(3 * perSecond)} ticks per poll:`,
      '',
      table(
        ['processes', 'steady poll (item 1)', `+ ${fmt(3 * perSecond)} ticks in place`, 'poll period total', 'seed loop body (item 1)', 'ratio', 'target ≤ 1/10'],
        e.poll.map((p) => {
          const add = (3 * perSecond * pacedUs) / 1000;
          const total = p.steadyMs + add;
          return [p.processes, ms(p.steadyMs), ms(add), ms(total), ms(p.seedMs), ratio(total, p.seedMs), total <= p.seedMs / 10 ? 'met' : `missed by ${ms(total - p.seedMs / 10)}`];
        }),
      ),
      '',
      'Item 1 itself (the poll alone) is unchanged by the watch: the watch adds no work to a poll, only ticks between polls.',
      '',
    );
  }
  rows.push({
    item: '2c. pid watch',
    measure: `CPU of the pid watch's 250 ms timer, where no pidwait helper runs (${o.pids} known pids, ${o.watched ?? o.pids} watched): per tick in place (back to back) → per hour at ${fmt(perSecond)} ticks/s`,
    median: `${fmt(pacedUs)} µs (${fmt(hotUs)} µs) → ${fmt(perHourS(pacedUs))} s/h (${fmt((perHourS(pacedUs) / 3600) * 100)} % of a core)`,
    max: `${fmt(w.watch.max)} µs (worst round in place)`,
    target: '(reported)',
    verdict: 'n/a',
  });
  for (const p of e.poll ?? []) {
    const total = p.steadyMs + (3 * perSecond * pacedUs) / 1000;
    rows.push({
      item: '2c. pid watch',
      measure: `a 3 s period (the seed loop's), timer watch: steady poll + the watch's ${fmt(3 * perSecond)} ticks in place, vs seed loop body (${p.processes} processes)`,
      median: `${ms(total)} vs ${ms(p.seedMs)} (${ratio(total, p.seedMs)})`,
      max: '-',
      target: '≤ 1/10 (item 1\'s target, applied to the whole period)',
      verdict: total <= p.seedMs / 10 ? 'met' : `missed by ${ms(total - p.seedMs / 10)}: ${ratio(total, p.seedMs)}`,
    });
  }
  return { title: '2c. The pid watch\'s 250 ms timer (for a process without a pidwait helper)', body: body.join('\n'), rows, data: { pacedUs, hotUs, perHourS: perHourS(pacedUs) } };
}
