// Item 2b: RSS right after start and after a soak of back-to-back polls (the built
// Agent driving a stand-in host), once with gc() before each sample (--expose-gc: the
// live size) and once without (what the OS sees, garbage included).
import { StandInHost } from './lib/host.js';
import { daemonFlags } from './lib/flags.js';
import { worker } from './lib/paths.js';
import { lastJson, table, type Section, type SummaryRow } from './lib/report.js';
import type { Settings } from './lib/settings.js';
import { fmt, max, mb, median } from './lib/stats.js';

const RSS_LIMIT_MB = 60; // issue 17
const GROWTH_LIMIT_MB = 5;
const TUNED = ['--max-semi-space-size=1', '--max-old-space-size=64'];
function plannedRuns(): Array<{ label: string; flags: string[] }> {
  const own = daemonFlags();
  return [
    { label: `gc() before each sample${own.length ? `, \`${own.join(' ')}\` as \`run\` sets` : ''}`, flags: ['--expose-gc', ...own] },
    { label: own.length ? `no forced GC, \`${own.join(' ')}\` (the V8 flags \`run\` sets for itself)` : 'no forced GC (as the daemon runs)', flags: own },
    { label: `no forced GC, \`node ${TUNED.join(' ')}\` (not shipped: a smaller young generation and heap limit)`, flags: TUNED },
  ];
}

interface Sample {
  poll: number;
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
}
interface Soak {
  label: string;
  flags: string[];
  gc: boolean;
  polls: number;
  wallMs: number;
  cpuMs: number;
  scans: number;
  notOk: number;
  logLines: number;
  samples: Sample[];
}

export async function soak(s: Settings, log: (m: string) => void): Promise<Section> {
  const host = await StandInHost.create();
  const runs: Soak[] = [];
  const floor: Record<string, number> = {};
  try {
    for (const [i, run] of plannedRuns().entries()) {
      log(`soak: ${s.soakPolls} polls back to back, ${run.label}`);
      const argv = [process.execPath, ...run.flags, worker('soak-worker.mjs'), host.config({ tag: `soak-${i}` }), String(s.soakPolls)];
      const r = await host.ns.run(argv, { timeoutMs: 900_000 });
      if (r.code !== 0) throw new Error(`soak-worker: exit ${r.code}: ${r.stderr.trim().slice(-2000)}`);
      runs.push({ ...lastJson<Soak>(r.stdout, 'soak-worker'), label: run.label, flags: run.flags });
    }
    for (const m of ['none', 'all']) {
      const r = await host.ns.run([process.execPath, worker('import-time.mjs'), m], { timeoutMs: 60_000 });
      floor[m] = lastJson<{ rssAfterMB: number }>(r.stdout, 'import-time').rssAfterMB;
    }
  } finally {
    host.destroy();
  }
  const rows: SummaryRow[] = [];
  const body: string[] = [
    `A worker process in a stand-in host's namespace drives the built \`Agent\`'s \`poll()\` back to back (the daemon's poll without the interval; persist on; shipped-style config with 2 HTTP probes and 7 pids), sampling \`VmRSS\` from \`/proc/self/status\` after the first poll ("start"), every ${Math.floor(s.soakPolls / 40)} polls, and at the end. Three runs: with \`--expose-gc\` and \`gc()\` before each sample (RSS of what is live plus what V8 keeps), without (what the OS sees, garbage not yet collected included), and without but with smaller V8 heap limits, to show what the shipped one could get by flags alone.`,
    '',
    `For scale: a bare \`node\` process here has an RSS of ${mb(floor.none ?? NaN)}; with the seven runtime dependencies imported (zod, yaml, pino, undici, execa, ps-list, node-cron) ${mb(floor.all ?? NaN)}. The daemon loads pino, undici (its HTTP client alone, src/net/undici.ts), ps-list and node-cron in its steady state, execa only with the first command it runs, and neither zod nor yaml: its config and its state at start are read by a short-lived helper process (src/config/load-apart.ts), as this worker reads its config.`,
    '',
    table(
      ['run', 'polls', 'wall', 'polls/s', 'RSS start', 'RSS end', 'growth', 'growth, 2nd half', 'median RSS', 'max RSS', 'V8 heap used start → end', 'V8 heap total start → end', 'polls not healthy'],
      runs.map((r) => {
        const first = r.samples[0]!;
        const last = r.samples[r.samples.length - 1]!;
        const mid = r.samples[Math.floor(r.samples.length / 2)]!;
        const rss = r.samples.map((x) => x.rssMB);
        return [r.label, r.polls, `${fmt(r.wallMs / 1000)} s`, fmt(r.polls / (r.wallMs / 1000)), mb(first.rssMB), mb(last.rssMB), mb(last.rssMB - first.rssMB), mb(last.rssMB - mid.rssMB), mb(median(rss)), mb(max(rss)), `${mb(first.heapUsedMB)} → ${mb(last.heapUsedMB)}`, `${mb(first.heapTotalMB)} → ${mb(last.heapTotalMB)}`, r.notOk];
      }),
    ),
    '',
    ...runs.map((r) => {
      const first = r.samples[0]!;
      const last = r.samples[r.samples.length - 1]!;
      const mid = r.samples[Math.floor(r.samples.length / 2)]!;
      const half = last.rssMB - mid.rssMB;
      const rss = r.samples.map((x) => x.rssMB);
      return `- ${r.label}: ${Math.abs(half) < 2 ? `RSS levels off: ${mb(half)} over the second half, between ${mb(Math.min(...rss.slice(rss.length >> 1)))} and ${mb(Math.max(...rss.slice(rss.length >> 1)))}, so the ${mb(last.rssMB - first.rssMB)} from start to end is the warm-up (V8 sizing its heap, compiled code), not a leak` : half < 0 ? `RSS goes up and down with the GC cycles and ends the second half ${mb(-half)} lower than it began it, between ${mb(Math.min(...rss.slice(rss.length >> 1)))} and ${mb(Math.max(...rss.slice(rss.length >> 1)))}: no growth after the warm-up` : `RSS still grows in the second half (${mb(half)})`}; the V8 heap in use goes ${mb(first.heapUsedMB)} → ${mb(last.heapUsedMB)}.`;
    }),
    '',
    'RSS over the soak (MB), every sample:',
    '',
    ...runs.map((r) => `- ${r.label}: ${r.samples.map((x) => fmt(x.rssMB)).join(', ')}`),
    '',
  ];
  for (const r of runs) {
    const first = r.samples[0]!;
    const last = r.samples[r.samples.length - 1]!;
    const peak = max(r.samples.map((x) => x.rssMB));
    const growth = last.rssMB - first.rssMB;
    const tuned = r.flags.some((f) => TUNED.includes(f));
    const label = r.gc ? 'gc() before samples' : tuned ? `${r.flags.join(' ')} (not shipped)` : `no forced GC${r.flags.length ? `, ${r.flags.join(' ')} as \`run\`` : ''}`;
    const would = (v: string) => (tuned ? `would be ${v}` : v);
    rows.push({ item: '2. soak', measure: `RSS, ${r.polls} polls, ${label}`, median: `${mb(first.rssMB)} → ${mb(last.rssMB)}`, max: mb(peak), target: `< ${RSS_LIMIT_MB} MB`, verdict: would(peak < RSS_LIMIT_MB ? 'met' : `missed by ${mb(peak - RSS_LIMIT_MB)}`) });
    const mid = r.samples[Math.floor(r.samples.length / 2)]!;
    rows.push({ item: '2. soak', measure: `RSS growth across the soak (2nd half alone: ${mb(last.rssMB - mid.rssMB)}), ${label}`, median: mb(growth), max: '-', target: `< ${GROWTH_LIMIT_MB} MB`, verdict: would(growth < GROWTH_LIMIT_MB ? 'met' : `missed by ${mb(growth - GROWTH_LIMIT_MB)}`) });
  }
  return { title: '2b. Memory over a soak', body: body.join('\n'), rows };
}
