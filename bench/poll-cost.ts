// Item 1: CPU time of one steady-state poll, against one iteration of the seed's bash
// loop body, on a stand-in host (tomcat, nginx, keepalived; process + HTTP probes) in a
// private pid namespace, once with only the stand-ins in the process table and once
// with idle filler processes to give it a real server's size.
import { StandInHost } from './lib/host.js';
import { daemonFlags } from './lib/flags.js';
import { worker } from './lib/paths.js';
import { ticksPerSecond } from './lib/proc.js';
import { lastJson, table, type Section, type SummaryRow } from './lib/report.js';
import type { Settings } from './lib/settings.js';
import { fmt, max, mean, median, ms } from './lib/stats.js';

const GAP_MS = 20;
const SEED_BODY = 'A=$(ps -ef|grep tomcat|wc -l); B=$(ps -ef|grep keepalived|wc -l)';

interface Cpu {
  self: number;
  children: number;
  total: number;
  wallMs?: number;
}

interface Variant {
  name: string;
  processes: number;
  cold: Cpu[];
  steady: Cpu[];
  steadyScans: number;
  steadyNotOk: number;
  scan: Cpu[];
  pslist: Cpu[];
  proc: Cpu[];
  parts: Record<string, number[]>;
  bash: number[];
}

export async function pollCost(s: Settings, log: (m: string) => void): Promise<Section> {
  const variants: Variant[] = [];
  const plan: Array<[string, number]> = [['only the stand-ins', 0]];
  if (s.filler > 0) plan.push([`host-sized (+${s.filler} idle processes)`, s.filler]);
  for (const [name, filler] of plan) {
    log(`poll cost: ${name}`);
    const host = await StandInHost.create({ filler });
    try {
      variants.push(await measureVariant(host, name, s));
    } finally {
      host.destroy();
    }
  }
  return render(variants, s);
}

async function measureVariant(host: StandInHost, name: string, s: Settings): Promise<Variant> {
  const cfg = host.config({ interval: '3s' });
  const env = { ...process.env, BENCH_CLK_TCK: String(ticksPerSecond()) };
  const run = async <T>(args: string[]): Promise<T> => {
    const r = await host.ns.run([process.execPath, ...daemonFlags(), worker('poll-worker.mjs'), ...args], { env, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`poll-worker ${args[0]}: exit ${r.code}: ${r.stderr.trim().slice(-2000)}`);
    return lastJson<T>(r.stdout, `poll-worker ${args[0]}`);
  };
  const processes = host.ns.processCount();
  const cold: Cpu[] = [];
  for (let i = 0; i < s.coldPolls; i++) cold.push(await coldPoll(host, cfg, env));
  const steady = await run<{ samples: Cpu[]; scans: number; notOk: number }>(['steady', cfg, String(s.steadyPolls), String(GAP_MS)]);
  const scan = await run<{ samples: Cpu[] }>(['scan', cfg, String(s.scanPolls), String(GAP_MS)]);
  const pslist = await run<{ samples: Cpu[] }>(['pslist', cfg, String(s.refCalls), String(GAP_MS)]);
  const proc = await run<{ samples: Cpu[] }>(['proc', cfg, String(s.refCalls), String(GAP_MS)]);
  const parts = await run<{ parts: Record<string, number[]> }>(['parts', cfg, String(Math.max(20, Math.round(s.steadyPolls / 3))), String(GAP_MS)]);
  const bash = await seedIterations(host, s.bashIterations);
  return { name, processes, cold, steady: steady.samples, steadyScans: steady.scans, steadyNotOk: steady.notOk, scan: scan.samples, pslist: pslist.samples, proc: proc.samples, parts: parts.parts, bash };
}

/**
 * The first poll of a fresh process. Its children (the ps runs) would be rounded to
 * 10 ms ticks in /proc/self/stat; instead the worker runs under bash, whose `times`
 * gives its children's CPU to the ms: that minus the worker's own CPU at exit is what
 * the worker's children used (all of it during the poll: nothing else spawns).
 */
async function coldPoll(host: StandInHost, cfg: string, env: NodeJS.ProcessEnv): Promise<Cpu> {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = `${[process.execPath, ...daemonFlags(), worker('poll-worker.mjs'), 'cold', cfg, '1', String(GAP_MS)].map(q).join(' ')}; times`;
  const r = await host.ns.run(['/bin/bash', '-c', cmd], { env, timeoutMs: 60_000 });
  const json = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.code !== 0 || !json) throw new Error(`poll-worker cold: exit ${r.code}: ${r.stderr.trim().slice(-2000)}`);
  const w = JSON.parse(json) as { poll: Cpu; selfAtExit: number };
  const t = [...r.stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  const children = Math.max(0, t[2]! + t[3]! - w.selfAtExit);
  return { self: w.poll.self, children, total: w.poll.self + children, wallMs: w.poll.wallMs };
}

/**
 * CPU time (ms) of each iteration of the seed loop's body, from bash's `times` (the
 * shell's own user+sys and its reaped children's, ms resolution), inside the namespace.
 */
async function seedIterations(host: StandInHost, n: number): Promise<number[]> {
  const script = `times; for ((i = 0; i < ${n}; i++)); do ${SEED_BODY}; times; done`;
  const r = await host.ns.run(['/bin/bash', '-c', script], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`seed loop body: exit ${r.code}: ${r.stderr}`);
  const secs = [...r.stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  const totals: number[] = [];
  for (let i = 0; i + 3 < secs.length; i += 4) totals.push(secs[i]! + secs[i + 1]! + secs[i + 2]! + secs[i + 3]!);
  return totals.slice(1).map((t, i) => t - totals[i]!);
}

const tot = (xs: Cpu[]) => xs.map((x) => x.total);

function render(vs: Variant[], s: Settings): Section {
  const rows: SummaryRow[] = [];
  const lines: string[] = [];
  lines.push(
    `Each poll's CPU time is user+system of the polling process (every thread, \`process.cpuUsage()\`) plus that of its reaped children (the \`ps\` runs of ps-list; \`cutime+cstime\` from \`/proc/self/stat\`), measured from the start of one poll to the start of the next (a ${GAP_MS} ms sleep between them), so work finishing after \`poll()\` resolves counts too. The agent is the built \`Agent\` class (\`dist/agent/agent.js\`) in a worker process inside the namespace${daemonFlags().length ? ` (node ${daemonFlags().join(' ')}, the V8 flags \`run\` sets for itself)` : ''}, config shaped like the shipped \`watchdog.yaml\` (tomcat: \`java\` + \`org.apache.catalina.startup.Bootstrap\` + HTTP :8080; nginx: \`nginx\` + HTTP :80/nginx-health; keepalived: 3 processes; 7 pids confirmed per poll). The seed loop body \`${SEED_BODY}\` runs ${s.bashIterations} times in one bash in the same namespace; its cost per iteration is the difference of bash's \`times\` (shell + children) around it.`,
    '',
    `Children's CPU is counted in ${1000 / ticksPerSecond()} ms ticks: one poll's share is quantized, but the sum over many polls is exact to one tick, so the **mean** columns are the precise ones for polls with children (warm scan, ps-list). For the cold first poll (one per process) the children's CPU comes from the \`times\` of a bash wrapping the worker instead (ms resolution, about ±1 ms: bash's children total minus the worker's own CPU at exit).`,
    '',
  );
  for (const v of vs) {
    const steady = tot(v.steady);
    const bashMed = median(v.bash);
    const ratio = bashMed / median(steady);
    const target = bashMed / 10;
    const met = median(steady) <= target;
    const procKey = Object.keys(v.parts).find((k) => k.startsWith('process probes'));
    const procPart = procKey ? median(v.parts[procKey]!) : NaN;
    const httpKey = Object.keys(v.parts).find((k) => k.startsWith('HTTP probes'));
    const httpPart = httpKey ? median(v.parts[httpKey]!) : NaN;
    lines.push(`### ${v.name}: ${v.processes} processes in the namespace`, '');
    lines.push(
      table(
        ['what', 'reps', 'median CPU', 'max CPU', 'mean CPU', 'of which children (mean)', 'median wall'],
        [
          ['**steady poll** (known pids confirmed via /proc, 2 HTTP probes, decide, state compare)', v.steady.length, ms(median(steady)), ms(max(steady)), ms(mean(steady)), ms(mean(v.steady.map((x) => x.children))), ms(median(v.steady.map((x) => x.wallMs ?? NaN)))],
          ['**seed bash loop body** (2× `ps -ef | grep | wc -l`)', v.bash.length, ms(bashMed), ms(max(v.bash)), ms(mean(v.bash)), 'all but bash itself', '-'],
          ['first poll of a fresh process, no saved pids (cold: imports ps-list, undici; ps-list scan)', v.cold.length, ms(median(tot(v.cold))), ms(max(tot(v.cold))), ms(mean(tot(v.cold))), ms(mean(v.cold.map((x) => x.children))), ms(median(v.cold.map((x) => x.wallMs ?? NaN)))],
          ['first poll of a fresh Agent in a warm process, no saved pids (ps-list scan)', v.scan.length, ms(median(tot(v.scan))), ms(max(tot(v.scan))), ms(mean(tot(v.scan))), ms(mean(v.scan.map((x) => x.children))), ms(median(v.scan.map((x) => x.wallMs ?? NaN)))],
          ['reference: one bare ps-list call (2 `ps` runs)', v.pslist.length, ms(median(tot(v.pslist))), ms(max(tot(v.pslist))), ms(mean(tot(v.pslist))), ms(mean(v.pslist.map((x) => x.children))), ms(median(v.pslist.map((x) => x.wallMs ?? NaN)))],
          ['reference: one /proc scan in node (readdir; stat, cmdline, exe of each pid)', v.proc.length, ms(median(tot(v.proc))), ms(max(tot(v.proc))), ms(mean(tot(v.proc))), '0', ms(median(v.proc.map((x) => x.wallMs ?? NaN)))],
        ],
      ),
      '',
      `Steady poll / seed iteration (medians): **1/${fmt(ratio)}** (target at most 1/10, i.e. ≤ ${ms(target)} here): **${met ? 'met' : `missed by ${ms(median(steady) - target)} (${fmt(median(steady) / target)}× the allowance)`}**. Steady polls that needed a scan: ${v.steadyScans} of ${v.steady.length}; polls not all healthy: ${v.steadyNotOk}.`,
      '',
      `${met ? 'How it splits' : 'Why'}: the two HTTP probes cost ${ms(httpPart)} together (${fmt((httpPart / median(steady)) * 100)} % of the steady poll's median); the seed loop does no HTTP check at all. The process-table part alone (3 process probes confirming 7 known pids through /proc: what replaces the seed's \`ps -ef | grep\`) costs ${ms(procPart)}, **1/${fmt(bashMed / procPart)}** of the seed iteration.`,
      '',
      'Where a steady poll\'s CPU goes (each part alone, in its steady state, same measurement):',
      '',
      table(
        ['part', 'median CPU', 'max CPU'],
        Object.entries(v.parts).map(([k, xs]) => [k, ms(median(xs)), ms(max(xs))]),
      ),
      '',
    );
    rows.push({
      item: '1. poll cost',
      measure: `steady poll CPU vs seed loop body (${v.processes} processes)`,
      median: `${ms(median(steady))} vs ${ms(bashMed)} (1/${fmt(ratio)})`,
      max: `${ms(max(steady))} vs ${ms(max(v.bash))}`,
      target: '≤ 1/10 of the bash iteration',
      verdict: met ? 'met' : `missed by ${ms(median(steady) - target)}: 1/${fmt(ratio)}`,
    });
    rows.push({
      item: '1. poll cost',
      measure: `first poll, ps-list scan (${v.processes} processes; cold process / warm)`,
      median: `${ms(median(tot(v.cold)))} / ${ms(median(tot(v.scan)))}`,
      max: `${ms(max(tot(v.cold)))} / ${ms(max(tot(v.scan)))}`,
      target: '(reported)',
      verdict: 'n/a',
    });
  }
  const data: Record<string, number> = {};
  vs.forEach((v, i) => {
    data[`processes.${i}`] = v.processes;
    data[`steadyMs.${i}`] = median(tot(v.steady));
    data[`seedMs.${i}`] = median(v.bash);
  });
  return { title: '1. Steady-state cost per poll', body: lines.join('\n'), rows, data };
}
