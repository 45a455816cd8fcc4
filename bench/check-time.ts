// Item 4: wall time of `ha-watchdog check` (the built CLI, one-shot, as cron runs it) on
// a healthy stand-in host, as shipped (each command imports what it needs lazily) and
// with every dependency imported up front; plus where the time goes: bare node
// start-up, each module's import, the ps-list scan, the HTTP probes; and, to size the
// first fix, the same check from an esbuild bundle of dist/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from './lib/bundle.js';
import { StandInHost } from './lib/host.js';
import { CLI, worker } from './lib/paths.js';
import { lastJson, table, type Section, type SummaryRow } from './lib/report.js';
import { run } from './lib/run.js';
import type { Settings } from './lib/settings.js';
import { max, median, min, ms, mb } from './lib/stats.js';

const TARGET_MS = 300;
const MODULES = ['zod', 'yaml', 'pino', 'undici', 'execa', 'ps-list', 'node-cron', 'all', 'config/load.js', 'agent/check.js'];

interface Run {
  ms: number;
  code: number | null;
  out?: Record<string, unknown>;
  stderr?: string;
}
type Results = Record<string, Run[]>;

export async function checkTime(s: Settings, log: (m: string) => void, withNamespace: boolean): Promise<Section> {
  const bundle = withNamespace ? buildBundle() : { error: 'needs root (pid namespace)' };
  const host = withNamespace ? await StandInHost.create() : null;
  const node = process.execPath;
  let whole: Results;
  let imports: Results;
  try {
    const variants: Variant[] = [{ name: 'bare node (`node empty.mjs`)', argv: [node, worker('empty.mjs')] }, { name: 'CLI, no work (`node dist/cli.js --version`)', argv: [node, CLI, '--version'] }];
    if (host) {
      const cfg = host.config({ tag: 'check' });
      variants.push(
        { name: '**check, as shipped** (lazy imports)', argv: [node, CLI, 'check', '-c', cfg] },
        { name: 'check, every dependency imported eagerly (`--import preload-all.mjs`)', argv: [node, '--import', worker('preload-all.mjs'), CLI, 'check', '-c', cfg] },
        { name: "check with `node --liftoff-only` (V8 flag: no TurboFan tier-up of undici's llhttp WebAssembly)", argv: [node, '--liftoff-only', CLI, 'check', '-c', cfg] },
        ...('cli' in bundle ? [{ name: 'check from an esbuild bundle of dist/ (not shipped; a fix below)', argv: [node, bundle.cli, 'check', '-c', cfg] }] : []),
        { name: 'check path step by step (check-phases.mjs, same work)', argv: [node, worker('check-phases.mjs'), cfg], json: true },
        { name: 'check path step by step, HTTP probes on node:http instead of undici (check-phases.mjs node-http; not shipped: a fix below)', argv: [node, worker('check-phases.mjs'), cfg, 'node-http'], json: true },
      );
    }
    log(`check: ${variants.length} variants × ${s.checkReps} rounds`);
    whole = await runner(host, { rounds: s.checkReps, variants });
    log(`check: import times of ${MODULES.length} modules × ${s.importReps}`);
    imports = await runner(host, { rounds: s.importReps, variants: MODULES.map((m) => ({ name: m, argv: [node, worker('import-time.mjs'), m], json: true })) });
  } finally {
    host?.destroy();
    if ('cli' in bundle) bundle.cleanup();
  }
  return render(whole, imports, 'cli' in bundle ? bundle.sizeNote : bundle.error);
}

interface Variant {
  name: string;
  argv: string[];
  json?: boolean;
}

/** Runs check-runner.mjs: inside the stand-in host's namespace, or (without root) right here. */
async function runner(host: StandInHost | null, spec: { rounds: number; variants: Variant[] }): Promise<Results> {
  const dir = host?.dir ?? mkdtempSync(join(tmpdir(), 'haw-bench-runner-'));
  const file = join(dir, `runner-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(spec));
  try {
    const argv = [process.execPath, worker('check-runner.mjs'), file];
    if (!host) return lastJson<{ results: Results }>(await run(argv, 600_000), 'check-runner').results;
    const r = await host.ns.run(argv, { timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`check-runner: exit ${r.code}: ${r.stderr.trim().slice(-2000)}`);
    return lastJson<{ results: Results }>(r.stdout, 'check-runner').results;
  } finally {
    if (!host) rmSync(dir, { recursive: true, force: true });
  }
}

function render(whole: Results, imports: Results, bundleNote: string): Section {
  const rows: SummaryRow[] = [];
  const walls = (k: string) => (whole[k] ?? []).map((r) => r.ms);
  const find = (prefix: string) => Object.keys(whole).find((k) => k.includes(prefix));
  const bare = median(walls(find('bare node')!));
  const body: string[] = [
    `Each command is started by a runner process inside a stand-in host's namespace (healthy tomcat, nginx, keepalived stand-ins; shipped-style config), so namespace entry is not counted; wall time from spawn to exit. The variants take turns, round by round. \`check\` takes the lock and writes the state each time, as from cron; every run must exit 0 (OK).`,
    '',
    table(
      ['command', 'runs', 'median', 'max', 'min', 'exit codes'],
      Object.entries(whole).map(([k, rs]) => [k, rs.length, ms(median(rs.map((r) => r.ms))), ms(max(rs.map((r) => r.ms))), ms(min(rs.map((r) => r.ms))), [...new Set(rs.map((r) => r.code))].join(', ')]),
    ),
    '',
  ];
  const failed = Object.entries(whole).flatMap(([k, rs]) => rs.filter((r) => r.code !== 0).map((r) => `${k}: exit ${r.code}: ${r.stderr ?? ''}`));
  if (failed.length) body.push('Runs that did not exit 0:', '', ...failed.slice(0, 5).map((f) => `    ${f.replace(/\n/g, ' ').slice(0, 400)}`), '');
  const lazyKey = find('as shipped');
  const eagerKey = find('eagerly');
  if (!lazyKey || !eagerKey) {
    body.push('`check` itself was not measured: it needs root (the stand-in host is a pid namespace). Only node start-up and module import times are below.', '');
  }
  const bundleKey = find('esbuild bundle');
  const lazy = lazyKey ? walls(lazyKey) : [];
  const eager = eagerKey ? walls(eagerKey) : [];
  const liftoffKey = find('liftoff-only');
  if (lazyKey) body.push(
    `${median(eager) > median(lazy) ? `The lazy loading as shipped saves ${ms(median(eager) - median(lazy))} per check against importing everything up front` : 'Lazy loading made no measurable difference in this run against importing everything up front (noise exceeded it)'} (medians ${ms(median(lazy))} as shipped vs ${ms(median(eager))} eager: the check needs all of them but execa and node-cron anyway, so the lazy imports save only those two, plus the order in which modules load). ${liftoffKey ? `With \`--liftoff-only\` the same check takes ${ms(median(walls(liftoffKey)))}: at exit, node waits for V8's background threads, which are still optimizing (TurboFan tier-up) the WebAssembly HTTP parser (llhttp) that undici compiled for the first request (\`strace -f\` shows a V8 worker thread allocating compiler zone memory for tens of ms after the last JS ran, and the main thread joining it). ` : ''}${bundleKey ? `An esbuild bundle of dist/ (${bundleNote}, pino left outside) takes ${ms(median(walls(bundleKey)))}.` : `The bundle variant was not measured: ${bundleNote}.`}`,
    '',
  );

  // Phases
  for (const phaseKey of Object.keys(whole).filter((k) => k.includes('step by step'))) {
  const nodeHttp = phaseKey.includes('node:http');
  const phaseRuns = whole[phaseKey]!.filter((r) => r.out && Array.isArray(r.out.marks));
  if (phaseRuns.length) {
    const names = (phaseRuns[0]!.out!.marks as Array<[string, number]>).map((m) => m[0]);
    const step = (r: Run, i: number) => {
      const m = r.out!.marks as Array<[string, number]>;
      return m[i]![1] - (i ? m[i - 1]![1] : 0);
    };
    const total = phaseRuns.map((r) => r.ms);
    const lastMark = phaseRuns.map((r) => (r.out!.marks as Array<[string, number]>).at(-1)![1]);
    body.push(
      nodeHttp
        ? 'The same with the HTTP probes on `node:http` (undici never imported; each probe\'s `check()` replaced in the running agent by the same GET with `http.get`, `agent: false`, same timeout and status rule):'
        : 'Where the time of a check goes (check-phases.mjs: the same modules and calls in one process, a timestamp after each step; ps-list and undici, which the first poll would import on demand, imported explicitly right before it):',
      '',
      table(
        ['step', 'median', 'max'],
        [
          ...names.map((n, i) => [n, ms(median(phaseRuns.map((r) => step(r, i)))), ms(max(phaseRuns.map((r) => step(r, i))))]),
          ['process exec before node\'s time origin, and exit (wall − last timestamp)', ms(median(total.map((t, i) => t - lastMark[i]!))), ms(max(total.map((t, i) => t - lastMark[i]!)))],
          ['**total wall**', ms(median(total)), ms(max(total))],
        ],
      ),
      '',
    );
    const probeNames = Object.keys((phaseRuns[0]!.out!.probes as Record<string, number>) ?? {});
    const scans = phaseRuns.map((r) => r.out!.scans as number);
    body.push(
      `Process-table scans in that first poll: ${[...new Set(scans)].join(', ')} (0: the pids saved in \`stateDir/pids.json\` by the previous check were confirmed through /proc).`,
      '',
      'Inside that first poll, each probe\'s own duration (all concurrent; a process probe either confirms its saved pids through /proc or waits for the one ps-list scan shared by the poll):',
      '',
      table(
        ['probe', 'median', 'max'],
        probeNames.map((p) => {
          const xs = phaseRuns.map((r) => (r.out!.probes as Record<string, number>)[p]!);
          return [p, ms(median(xs)), ms(max(xs))];
        }),
      ),
      '',
    );
  }
  }

  body.push(
    `Import cost of each module alone, in a fresh process (\`import-time.mjs\`: the time of the \`import()\`; RSS before and after). "all" is the seven runtime dependencies together; \`config/load.js\` and \`agent/check.js\` are this project's own modules with what they import statically. Bare node start-up (from above): ${ms(bare)}.`,
    '',
    table(
      ['module', 'runs', 'median import', 'max import', 'RSS added (median)'],
      Object.entries(imports).map(([k, rs]) => {
        const ok = rs.filter((r) => r.out && typeof r.out.importMs === 'number');
        return [k, ok.length, ms(median(ok.map((r) => r.out!.importMs as number))), ms(max(ok.map((r) => r.out!.importMs as number))), mb(median(ok.map((r) => (r.out!.rssAfterMB as number) - (r.out!.rssBeforeMB as number))))];
      }),
    ),
    '',
  );

  if (!lazyKey) {
    rows.push({ item: '4. check', measure: '`check` wall time', median: '-', max: '-', target: `< ${TARGET_MS} ms`, verdict: 'skipped: needs root' });
    rows.push({ item: '4. check', measure: 'bare `node empty.mjs`', median: ms(bare), max: ms(max(walls(find('bare node')!))), target: '(floor)', verdict: 'n/a' });
    return { title: '4. `ha-watchdog check` one-shot time', body: body.join('\n'), rows };
  }
  const met = median(lazy) < TARGET_MS;
  rows.push({
    item: '4. check',
    measure: '`check` wall time, healthy host, as shipped',
    median: ms(median(lazy)),
    max: ms(max(lazy)),
    target: `< ${TARGET_MS} ms`,
    verdict: met ? (max(lazy) < TARGET_MS ? 'met' : `met by the median; max over by ${ms(max(lazy) - TARGET_MS)}`) : `missed by ${ms(median(lazy) - TARGET_MS)} (median)`,
  });
  rows.push({ item: '4. check', measure: '`check` wall time, every dependency imported eagerly', median: ms(median(eager)), max: ms(max(eager)), target: '(for comparison)', verdict: 'n/a' });
  if (liftoffKey) rows.push({ item: '4. check', measure: '`check` with `node --liftoff-only`', median: ms(median(walls(liftoffKey))), max: ms(max(walls(liftoffKey))), target: `< ${TARGET_MS} ms`, verdict: median(walls(liftoffKey)) < TARGET_MS ? 'would meet (median)' : 'would still miss' });
  const nodeHttpKey = find('node:http instead of undici');
  if (nodeHttpKey) rows.push({ item: '4. check', measure: '`check` path with HTTP probes on node:http (simulated, not shipped)', median: ms(median(walls(nodeHttpKey))), max: ms(max(walls(nodeHttpKey))), target: `< ${TARGET_MS} ms`, verdict: median(walls(nodeHttpKey)) < TARGET_MS ? 'would meet (median)' : 'would still miss' });
  if (bundleKey) rows.push({ item: '4. check', measure: '`check` from an esbuild bundle (not shipped)', median: ms(median(walls(bundleKey))), max: ms(max(walls(bundleKey))), target: `< ${TARGET_MS} ms`, verdict: median(walls(bundleKey)) < TARGET_MS ? 'would meet (median)' : 'would still miss' });
  rows.push({ item: '4. check', measure: 'bare `node empty.mjs`', median: ms(bare), max: ms(max(walls(find('bare node')!))), target: '(floor)', verdict: 'n/a' });
  return { title: '4. `ha-watchdog check` one-shot time', body: body.join('\n'), rows };
}
