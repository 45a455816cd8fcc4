// Item 2a: CPU per hour of the real daemon (`node dist/cli.js run`, its pid watch and
// that watch's pidwait helpers included) at interval 1s and 3s, and its RSS after start and at the end, from
// /proc/<pid>/stat and status; and, as the baseline for item 2c, the same build with the
// pid watch never started (workers/no-pid-watch.mjs preloaded). The four daemons run at
// once, each on its own stand-in host (own pid + network namespace).
import { Daemon } from './lib/daemon.js';
import { StandInHost } from './lib/host.js';
import { sleep } from './lib/ns.js';
import { childrenOf, cpuTimes, pssMB, rssMB } from './lib/proc.js';
import { worker } from './lib/paths.js';
import { lastJson, table, type Section, type SummaryRow } from './lib/report.js';
import { run } from './lib/run.js';
import type { Settings } from './lib/settings.js';
import { fmt, mb, ms } from './lib/stats.js';

const WARMUP_MS = 5000;
/** CPU per hour (s) of the committed run before the 250 ms pid watch existed (commit 04c8783); item 2c compares. */
const BEFORE_WATCH: Record<string, number> = { '1s': 15.0, '3s': 8.4 };

interface Run {
  interval: string;
  /** false: the same build with the 250 ms pid watch never started (workers/no-pid-watch.mjs) */
  pidWatch: boolean;
  seconds: number;
  polls: number;
  cpuMs: number;
  childrenMs: number;
  /** The pid watch's exit helpers (pidwait children of the daemon) at the end of the window. */
  helpers: number;
  /** Their own CPU in the window (not yet reaped, so not in the daemon's cutime), ms. */
  helpersMs: number;
  helpersRss: number;
  helpersPss: number;
  startupCpuMs: number;
  rssStart: number;
  rssEnd: number;
  warnings: string[];
}

export async function daemonCpu(s: Settings, log: (m: string) => void, seedIterationMs?: number): Promise<Section> {
  log(`daemon CPU: interval 1s and 3s, with and without the pid watch, ${s.daemonSeconds} s each, side by side`);
  // The schedulers alone, at the same time (no namespace needed: they only tick).
  const cronRuns = Promise.all(
    (['node-cron-shipped', 'node-cron', 'timeout'] as const).flatMap((kind) => [1000, 3000].map((interval) => scheduler(kind, interval, Math.max(5, Math.min(s.daemonSeconds, 60))))),
  );
  const all = await Promise.all(['1s', '3s'].flatMap((i) => [true, false].map((w) => watch(i, s.daemonSeconds, w))));
  const runs = all.filter((r) => r.pidWatch); // as shipped
  const baseline = all.filter((r) => !r.pidWatch);
  const cron = await cronRuns;
  const rows: SummaryRow[] = [];
  const body: string[] = [
    `The daemon is the built CLI, \`node dist/cli.js run -c <config>\` (its pid watch included: a \`pidwait\` exit helper per watched process, the 250 ms timer for any process without one), shipped-style config (tomcat, nginx, keepalived; process + HTTP probes, fall 2, rise 2, HTTP timeout 2s), inside a stand-in host's pid namespace (only the stand-ins in its process table). The CPU time is \`utime+stime+cutime+cstime\` of the daemon from \`/proc/<pid>/stat\`, plus the \`utime+stime\` of its exit helpers (children not yet reaped: not in its \`cutime\`), read ${WARMUP_MS / 1000} s after \`agent.start\` (start-up and the first, scanning polls excluded; shown separately) and again after ${s.daemonSeconds} s, extrapolated to an hour. Four daemons ran at the same time, each on its own stand-in host (the machine has 2 cores; they are idle most of the time): at 1s and 3s as shipped, and at 1s and 3s with the pid watch never started (\`node --import workers/no-pid-watch.mjs\`, which replaces \`PidWatch.prototype.start\` with a no-op in the same build; not shipped, a baseline for item 2c).`,
    '',
    table(
      ['interval', 'pid watch', 'watched', 'polls', 'CPU in the window', 'per poll', 'CPU per hour', 'of one core', 'exit helpers: CPU in the window (included), RSS / PSS', 'start-up CPU (to +5 s)', 'RSS after start', `RSS after ${s.daemonSeconds} s`],
      [...runs, ...baseline].map((r) => {
        const perHour = (r.cpuMs / r.seconds) * 3600;
        const helpers = r.helpers ? `${r.helpers}: ${ms(r.helpersMs)}, ${mb(r.helpersRss)} / ${mb(r.helpersPss)}` : 'none';
        return [r.pidWatch ? `**${r.interval}**` : r.interval, r.pidWatch ? 'on (as shipped)' : 'off (baseline, not shipped)', `${fmt(r.seconds)} s`, r.polls, ms(r.cpuMs), ms(r.cpuMs / Math.max(1, r.polls)), `${fmt(perHour / 1000)} s`, `${fmt((perHour / 3_600_000) * 100)} %`, helpers, ms(r.startupCpuMs), mb(r.rssStart), mb(r.rssEnd)];
      }),
    ),
    '',
  ];
  for (const r of all) {
    if (r.warnings.length) body.push(`Interval ${r.interval}, pid watch ${r.pidWatch ? 'on' : 'off'}: ${r.warnings.join('; ')}`, '');
  }
  body.push(
    'The scheduler alone (`workers/cron-worker.mjs`: a task that does nothing, ticked by node-cron with the daemon\'s cron expression, or by a `setTimeout` chain aligned to the interval), measured at the same time. As shipped, node-cron ticks with the daemon\'s matcher (`src/agent/cron-time.ts`: the next match and the per-tick context by Date arithmetic); node-cron as it comes computes both through `Intl.DateTimeFormat` (several `formatToParts` per tick) and loads ICU\'s locale and time zone data for it (the RSS column):',
    '',
    table(
      ['scheduler', 'interval', 'ticks', 'CPU', 'per tick', 'per hour', 'RSS of the process'],
      cron.map((c) => [SCHEDULERS[c.kind] ?? c.kind, `${c.interval / 1000}s`, c.ticks, ms(c.cpu.total), ms(c.cpu.total / Math.max(1, c.ticks)), `${fmt((c.cpu.total / c.seconds) * 3.6)} s`, c.rssMB === undefined ? '-' : mb(c.rssMB)]),
    ),
    '',
  );
  for (const r of runs) {
    const c = cron.find((x) => x.kind === 'node-cron-shipped' && `${x.interval / 1000}s` === r.interval);
    const stock = cron.find((x) => x.kind === 'node-cron' && x.interval === c?.interval);
    if (c) body.push(`Interval ${r.interval}: of the daemon's ${ms(r.cpuMs / Math.max(1, r.polls))} per poll (the pid watch's ticks between polls included), about ${ms(c.cpu.total / Math.max(1, c.ticks))} is node-cron's own work per tick as shipped (node-cron as it comes: ${ms((stock?.cpu.total ?? NaN) / Math.max(1, stock?.ticks ?? 0))}; a setTimeout chain: ${ms((cron.find((x) => x.kind === 'timeout' && x.interval === c.interval)?.cpu.total ?? NaN) / Math.max(1, c.ticks))}).`);
  }
  body.push('');
  if (seedIterationMs !== undefined) {
    body.push(
      `For comparison, the seed loop (body measured in item 1, ${ms(seedIterationMs)} per iteration, sleeping 3 s) costs about ${fmt((seedIterationMs * 1200) / 1000)} s CPU per hour; at a 1 s period it would be ${fmt((seedIterationMs * 3600) / 1000)} s. The daemon as shipped: ${runs.map((r) => `${fmt((r.cpuMs / r.seconds) * 3.6)} s per hour at ${r.interval}`).join(', ')}; without the pid watch ${baseline.map((r) => `${fmt((r.cpuMs / r.seconds) * 3.6)} s at ${r.interval}`).join(', ')}.`,
      '',
    );
  }
  for (const r of runs) {
    const perHour = (r.cpuMs / r.seconds) * 3600;
    const before = BEFORE_WATCH[r.interval];
    const off = baseline.find((b) => b.interval === r.interval);
    const offPerHour = off ? (off.cpuMs / off.seconds) * 3600 : NaN;
    rows.push({
      item: '2. daemon',
      measure: `CPU per hour, interval ${r.interval}, pid watch included (in brackets: the same build without it, this run)`,
      median: `${fmt(perHour / 1000)} s/h (${fmt(offPerHour / 1000)} s/h)`,
      max: '-',
      target: `(reported; ${before === undefined ? '' : `${fmt(before)} s/h in the run before the pid watch, see 2c`})`,
      verdict: 'n/a',
    });
  }
  // Issue 17: same run, the daemon at most 1/4 of the seed loop's CPU per hour at 3s, 1/2 at 1s.
  if (seedIterationMs !== undefined) {
    const seedPerHour = seedIterationMs * 1200; // ms per hour: one iteration every 3 s
    for (const r of runs) {
      const perHour = (r.cpuMs / r.seconds) * 3600;
      const share = SEED_SHARE[r.interval];
      if (share === undefined) continue;
      const ratio = perHour / seedPerHour;
      rows.push({
        item: '2. daemon',
        measure: `CPU per hour at interval ${r.interval} vs the seed loop's (${fmt(seedPerHour / 1000)} s/h: item 1's iteration every 3 s), pid watch included`,
        median: `${fmt(perHour / 1000)} s/h = ${fmt(ratio)}× the seed loop's`,
        max: '-',
        target: `≤ 1/${1 / share} of the seed loop's (issue 17)`,
        verdict: ratio <= share ? 'met' : `missed: ${fmt(ratio / share)}× the allowance`,
      });
    }
  }
  for (const r of runs) {
    const top = Math.max(r.rssStart, r.rssEnd);
    rows.push({ item: '2. daemon', measure: `RSS of the daemon ${WARMUP_MS / 1000} s after start → after ${s.daemonSeconds} s more, interval ${r.interval}${r.helpers ? ` (its ${r.helpers} exit helpers besides: ${mb(r.helpersRss)} RSS, ${mb(r.helpersPss)} PSS)` : ''}`, median: `${mb(r.rssStart)} → ${mb(r.rssEnd)}`, max: mb(top), target: '< 60 MB (issue 17)', verdict: top < 60 ? 'met' : `missed by ${mb(top - 60)}` });
  }
  const data = Object.fromEntries(all.map((r) => [`${r.pidWatch ? 'perHourMs' : 'noWatchPerHourMs'}.${r.interval}`, (r.cpuMs / r.seconds) * 3600]));
  return { title: '2a. Daemon CPU per hour', body: body.join('\n'), rows, data };
}

/** Issue 17's share of the seed loop's CPU per hour, per interval. */
const SEED_SHARE: Record<string, number> = { '1s': 1 / 2, '3s': 1 / 4 };

const SCHEDULERS: Record<string, string> = {
  'node-cron-shipped': 'node-cron with the daemon\'s matcher (as shipped)',
  'node-cron': 'node-cron as it comes (Intl)',
  timeout: 'setTimeout chain (alternative)',
};

interface SchedulerRun {
  kind: string;
  interval: number;
  seconds: number;
  ticks: number;
  cpu: { total: number };
  rssMB?: number;
}

async function scheduler(kind: 'node-cron' | 'node-cron-shipped' | 'timeout', interval: number, seconds: number): Promise<SchedulerRun> {
  const r = await run([process.execPath, worker('cron-worker.mjs'), kind, String(interval), String(seconds)], (seconds + 30) * 1000);
  return lastJson<SchedulerRun>(r, `cron-worker ${kind}`);
}

async function watch(interval: string, seconds: number, pidWatch: boolean): Promise<Run> {
  const host = await StandInHost.create();
  let d: Daemon | undefined;
  try {
    d = await Daemon.start(host, host.config({ interval, tag: `daemon-${interval}` }), [], pidWatch ? [] : ['--import', worker('no-pid-watch.mjs')]);
    await d.waitFor('agent.start', (l) => l.event === 'agent.start', 15_000);
    await sleep(WARMUP_MS);
    const helpersOf = () => childrenOf(d!.pid).filter((c) => c.comm === 'pidwait').map((c) => c.pid);
    const helperCpu = (pids: number[]) => new Map(pids.map((p) => [p, cpuTimes(p)?.self ?? 0]));
    const a = cpuTimes(d.pid);
    const ha = helperCpu(helpersOf());
    const rssStart = rssMB(d.pid);
    const t0 = performance.now();
    const linesAt = d.lines.length;
    await sleep(seconds * 1000);
    const b = cpuTimes(d.pid);
    const helpers = helpersOf();
    const hb = helperCpu(helpers);
    const elapsed = (performance.now() - t0) / 1000;
    const rssEnd = rssMB(d.pid);
    if (!a || !b) throw new Error(`daemon (interval ${interval}${pidWatch ? '' : ', no pid watch'}) exited: ${d.stderr.join('').slice(-1000)}`);
    // A helper started in the window counts whole; one that ended was reaped into cutime.
    let helpersMs = 0;
    for (const [p, t] of hb) helpersMs += t - (ha.get(p) ?? 0);
    const every = Number(interval.replace('s', ''));
    const warnings = d.lines.slice(linesAt).filter((l) => l.level !== 'info' && l.level !== 'debug').map((l) => `${l.event}: ${l.reason ?? l.msg}`);
    return {
      interval,
      pidWatch,
      seconds: elapsed,
      polls: Math.round(elapsed / every),
      cpuMs: b.self - a.self + b.children - a.children + helpersMs,
      childrenMs: b.children - a.children,
      helpers: helpers.length,
      helpersMs,
      helpersRss: helpers.reduce((t, p) => t + rssMB(p), 0),
      helpersPss: helpers.reduce((t, p) => t + pssMB(p), 0),
      startupCpuMs: a.self + a.children,
      rssStart,
      rssEnd,
      warnings: [...new Set(warnings)].slice(0, 5),
    };
  } finally {
    await d?.stop();
    host.destroy();
  }
}
