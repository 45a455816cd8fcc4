// `npm run bench:lab` (= npm run build && node --import tsx bench/lab.ts): the
// same lab scenarios played, in the same run and with the same lab code
// (lab/scenarios.ts), under six supervisors:
//   peer            keepalived's own answer: vrrp_script checks (curl tomcat and nginx,
//                   fall 2, rise 2) + lab/host/respawn.sh, systemd's Restart= stand-in
//                   (tomcat on-abort, nginx and keepalived on-failure, RestartSec 100 ms,
//                   start limit 5 in 10 s);
//   seed            the seed document's bash loop (lab/seed-loop.sh, logic untouched);
//   watchdog        ha-watchdog, restart-first, keepalived.control stop (the default lab);
//   watchdog-hf     ha-watchdog, handover-first + the peer guard, control stop;
//   watchdog-tf     ha-watchdog, restart-first, control track-file;
//   watchdog-hf-tf  ha-watchdog, handover-first + the peer guard, control track-file.
// Writes bench/results-lab.md (every table, the definitions, every run) and the
// comparison table + target lines between `<!-- lab:begin -->` and `<!-- lab:end -->`
// in bench/results.md (only that block; appended at the end when missing).
//
// Environment:
//   BENCH_LAB_REPS=3                 repetitions of each (scenario, supervisor)
//   BENCH_LAB_SCENARIOS=1,2,3b,6     scenarios: names of lab/scenarios.ts (kill-restart-works, ...) or their
//                                    ids (1 = kill-restart-works, 2 = kill-restart-fails, 3b = hang-restart-fails,
//                                    6 = repair-after-failover); results keep the ids
//   BENCH_LAB_PEERS=peer,seed,watchdog,watchdog-hf,watchdog-tf,watchdog-hf-tf   supervisors
//   BENCH_LAB_OUT=bench/results-lab.md   where the full results go
//   BENCH_LAB_SUMMARY=bench/results.md   where the marked block goes ('' or 'none': nowhere)
//   HALAB_KEEP_LOGS=<dir>            keep every lab's logs there
// `node --import tsx bench/lab.ts --render` re-renders both from the data embedded in
// BENCH_LAB_OUT (no runs). Needs Linux, root and the lab packages (lab/prereqs.sh).
//
// BENCH_LAB_SUITE=realistic (or --realistic) plays the realistic suite instead:
// lab/scenarios.ts REALISTIC (a webapp that deploys for 20 s, tomcat checked on
// /health: slow crash, slow hang, a hang whose restart fails, HTTP 500, a flapping
// health endpoint, repair after failover) under
//   peer, seed            as above (the same lab/host/respawn.sh and seed loop);
//   watchdog-shipped      ha-watchdog with the lab's `--profile shipped`: its defaults
//                         (failover.order auto, interval 1s, ...) + the peer guard, control stop.
// One lab per (supervisor, deployment time), reset between runs (lab/reset.ts) instead
// of a fresh lab per run; the agent keeps what it learned (state.json: tomcat's start
// time) across the runs of its lab, and every run says what it started with. The
// section between `<!-- realistic:begin -->` and `<!-- realistic:end -->` of
// BENCH_LAB_OUT is written (the rest of the file is kept), nothing in results.md.
//   BENCH_LAB_REPS=3   BENCH_LAB_SCENARIOS=slow-crash,...   BENCH_LAB_PEERS=peer,seed,watchdog-shipped
// `BENCH_LAB_SUITE=realistic node --import tsx bench/lab.ts --render` re-renders that section.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentKind, Lab, type LabOptions, labUnavailableReason, REPO_ROOT } from '../lab/lab.js';
import { errorCount, median } from '../lab/measure.js';
import { resetLab } from '../lab/reset.js';
import { isScenarioKey, play, type PlayResult, REALISTIC, scenario, scenarioLabel, SCENARIOS, type ScenarioId, type ScenarioSpec, vipHolderPath, vipMoves } from '../lab/scenarios.js';
import type { VipSample } from '../lab/vip.js';

type SupervisorId = 'peer' | 'seed' | 'watchdog' | 'watchdog-hf' | 'watchdog-tf' | 'watchdog-hf-tf' | 'watchdog-shipped';

interface Supervisor {
  agent: Exclude<AgentKind, 'none'>;
  /** Lab.up options of this supervisor (merged over the scenario's own `lab`). */
  lab: Pick<LabOptions, 'order' | 'control' | 'guard' | 'profile'>;
  /** ha-watchdog's failover.order; undefined: not ha-watchdog. */
  order?: 'restart-first' | 'handover-first';
  label: string;
}

const SUPERVISORS: Record<SupervisorId, Supervisor> = {
  peer: { agent: 'peer', lab: {}, label: 'keepalived vrrp_script + systemd Restart=' },
  seed: { agent: 'seed', lab: {}, label: 'seed bash loop' },
  watchdog: { agent: 'watchdog', lab: {}, order: 'restart-first', label: 'ha-watchdog restart-first, stop' },
  'watchdog-hf': { agent: 'watchdog', lab: { order: 'handover-first', guard: true }, order: 'handover-first', label: 'ha-watchdog handover-first + guard, stop' },
  'watchdog-tf': { agent: 'watchdog', lab: { control: 'track-file' }, order: 'restart-first', label: 'ha-watchdog restart-first, track-file' },
  'watchdog-hf-tf': {
    agent: 'watchdog',
    lab: { order: 'handover-first', control: 'track-file', guard: true },
    order: 'handover-first',
    label: 'ha-watchdog handover-first + guard, track-file',
  },
  'watchdog-shipped': { agent: 'watchdog', lab: { profile: 'shipped' }, label: 'ha-watchdog as shipped + peer guard, stop' },
};
/** The classic suite's supervisors (the default of BENCH_LAB_PEERS). */
const ALL: SupervisorId[] = ['peer', 'seed', 'watchdog', 'watchdog-hf', 'watchdog-tf', 'watchdog-hf-tf'];
/** The realistic suite's. */
const REALISTIC_SUPS: SupervisorId[] = ['peer', 'seed', 'watchdog-shipped'];
const ALL_SUPS = Object.keys(SUPERVISORS) as SupervisorId[];

/**
 * Where in its second rep `rep` of `reps` injects the fault (ms after a whole second):
 * spread evenly (1/6, 1/2, 5/6 of a second for 3 reps), so the median run faults at
 * mid-cycle of every 1 s schedule, the agent's ticks on whole seconds included.
 */
const faultPhase = (rep: number, reps: number): number => Math.round(((((rep - 1) % reps) + 0.5) / reps) * 1000);

/** "kill-restart-works (1)": the scenario's name in lab/scenarios.ts and its id (what the results keep). */
const scenarioName = (id: ScenarioId): string => scenarioLabel(scenario(id));
/** The ids of the scenarios the targets are about. */
const KILL_WORKS = SCENARIOS['kill-restart-works'].id;
const KILL_FAILS = SCENARIOS['kill-restart-fails'].id;

const suite = process.env.BENCH_LAB_SUITE ?? (process.argv.includes('--realistic') ? 'realistic' : 'classic');
if (suite !== 'classic' && suite !== 'realistic') throw new Error(`BENCH_LAB_SUITE must be classic or realistic, not ${suite}`);
const realistic = suite === 'realistic';
const reps = Number(process.env.BENCH_LAB_REPS ?? 3);
const keys = (process.env.BENCH_LAB_SCENARIOS || (realistic ? REALISTIC.join(',') : '1,2,3b,6')).split(',').map((s) => s.trim());
const sups = (process.env.BENCH_LAB_PEERS || (realistic ? REALISTIC_SUPS : ALL).join(',')).split(',').map((s) => s.trim()) as SupervisorId[];
const out = process.env.BENCH_LAB_OUT ?? join(REPO_ROOT, 'bench', 'results-lab.md');
const summaryEnv = process.env.BENCH_LAB_SUMMARY ?? join(REPO_ROOT, 'bench', 'results.md');
const summaryOut = summaryEnv === '' || summaryEnv === 'none' ? undefined : summaryEnv;
const rendering = process.argv.includes('--render');

for (const k of keys) if (!isScenarioKey(k)) throw new Error(`BENCH_LAB_SCENARIOS: unknown scenario ${k} (${Object.values(SCENARIOS).map(scenarioLabel).join(', ')})`);
/** The scenarios' ids (names given in BENCH_LAB_SCENARIOS are taken as their ids). */
const ids: ScenarioId[] = keys.map((k) => scenario(k).id);
for (const s of sups) if (!(s in SUPERVISORS)) throw new Error(`BENCH_LAB_PEERS: unknown supervisor ${s} (${ALL_SUPS.join(', ')})`);
if (realistic) for (const id of ids) if (!(REALISTIC as readonly string[]).includes(id)) throw new Error(`BENCH_LAB_SCENARIOS: ${id} is not a realistic scenario (${REALISTIC.join(', ')})`);
if (!Number.isInteger(reps) || reps < 1 || reps > 50) throw new Error('BENCH_LAB_REPS must be an integer 1..50');
const reason = labUnavailableReason();
if (reason && !rendering) {
  console.error(`bench:lab: ${reason}`);
  process.exit(1);
}

interface Run {
  id: ScenarioId;
  sup: SupervisorId;
  rep: number;
  ok: boolean;
  error?: string;
  /** Fault (6: the repair) to the client's final uninterrupted run of answers from the right host, ms. */
  settledMs?: number;
  /** Failed client requests from the fault (6: the repair) to the end of the window. */
  errors: number;
  /** Seconds of errors: the client's outages summed over the same span, ms (lab/measure.ts errorMs). */
  errorMs: number;
  /** Changes of the host holding the VIP from the (first) fault to the end ('none' in between not counted). */
  vipMoves: number;
  /** 1: failed requests after the client's first answer from B (the way back); 6: after the repair. */
  returnErrors?: number;
  right: boolean;
  wrong: string[];
  path: string;
  /** VIP holders from the (first) fault to the end. */
  vipPath: string;
  upMs: number;
}

/** Holders of the VIP from `from` on (the last sample before it included), repeats collapsed. */
function holders(vip: VipSample[], from: number, to: number): string[] {
  const before = vip.filter((s) => s.t < from).pop();
  const out: string[] = [];
  for (const s of [...(before ? [before] : []), ...vip.filter((x) => x.t >= from && x.t <= to)]) {
    if (out[out.length - 1] !== s.holder) out.push(s.holder);
  }
  return out;
}

function moves(path: string[]): number {
  const hosts = path.filter((h) => h !== 'none');
  let n = 0;
  for (let i = 1; i < hosts.length; i++) if (hosts[i] !== hosts[i - 1]) n += 1;
  return n;
}

/**
 * The verdict: lab/scenarios.ts's (measure()), except scenario 1 for everything
 * but ha-watchdog restart-first. restart-first promises to restart in place, so a
 * VIP that left A is wrong for it; handover-first gives the VIP to B on purpose
 * and must bring it back; the seed loop and keepalived's checks make no promise
 * either way. For those, right = the VIP and the client end on A, without
 * flapping (at most 2 VIP moves: A → B → A).
 */
function judge(r: PlayResult, sup: Supervisor, vipMoves: number, vipPath: string): string[] {
  if (r.spec.name !== 'kill-restart-works' || sup.order === 'restart-first') return r.metrics.wrong;
  const wrong = r.metrics.wrong.filter((w) => !w.startsWith('the VIP left A') && w !== 'the client saw B');
  if (vipMoves > 2) wrong.push(`the VIP flapped (${vipPath})`);
  return wrong;
}

function measureRun(r: PlayResult, id: ScenarioId, supId: SupervisorId, rep: number, upMs: number): Run {
  const m = r.metrics;
  const first = r.marks[0]?.t ?? r.fault;
  const path = holders(r.vip, first, r.end);
  const vipMoves = moves(path);
  const vipPath = path.join(' → ');
  let returnErrors: number | undefined;
  if (r.spec.name === 'kill-restart-works') {
    const firstB = r.samples.find((s) => s.t >= r.fault && s.t <= r.end && s.who === 'B');
    returnErrors = firstB ? errorCount(r.samples, firstB.t, r.end) : 0;
  } else if (r.spec.name === 'repair-after-failover') returnErrors = m.errors;
  const wrong = judge(r, SUPERVISORS[supId], vipMoves, vipPath);
  return { id, sup: supId, rep, ok: true, settledMs: m.settledMs, errors: m.errors, errorMs: m.errorMs, vipMoves, returnErrors, right: wrong.length === 0, wrong, path: m.path, vipPath, upMs };
}

/**
 * The agent runs from a copy of dist/ taken now: the other engineers' `npm run build`
 * during a long bench must not change the agent half-way. Removed at exit.
 */
function snapshotDist(): { cli: string; built: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ha-watchdog-bench-lab-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { cli: join(dir, 'dist', 'cli.js'), built: statSync(join(REPO_ROOT, 'dist', 'cli.js')).mtime.toISOString() };
}

let runs: Run[] = [];
let t0 = Date.now();
let elapsedMs = 0;
let machineLines: string[] = [];
const load0 = loadavg();
const total = reps * ids.length * sups.length;
const DATA_OPEN = '<!-- bench-lab-data';

// --- the report ------------------------------------------------------------------

function writeOutputs(): void {
  // The realistic suite's section of the same file is kept as it is.
  const kept = markedBlock(existsSync(out) ? readFileSync(out, 'utf8') : '', R_BEGIN, R_END);
  writeFileSync(out, kept ? `${renderFull().trimEnd()}\n\n${kept}\n` : renderFull());
  if (summaryOut) writeSummaryBlock(summaryOut, renderBlock());
}

const BEGIN = '<!-- lab:begin -->';
const END = '<!-- lab:end -->';
const R_BEGIN = '<!-- realistic:begin -->';
const R_END = '<!-- realistic:end -->';

/** The marked block of a text, markers included ('' when absent). */
function markedBlock(text: string, begin: string, end: string): string {
  const b = text.indexOf(begin);
  const e = text.indexOf(end, b);
  return b >= 0 && e > b ? text.slice(b, e + end.length) : '';
}

/** Replaces the marked block of `file` (or appends it at the end); nothing else of the file changes. */
function writeSummaryBlock(file: string, block: string, begin = BEGIN, end = END): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const b = text.indexOf(begin);
  const e = text.indexOf(end, b);
  const marked = `${begin}\n${block.trimEnd()}\n${end}`;
  const next = b >= 0 && e > b ? text.slice(0, b) + marked + text.slice(e + end.length) : `${text.trimEnd()}${text ? '\n\n' : ''}${marked}\n`;
  writeFileSync(file, next);
}

function sh(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return '?';
  }
}

function machine(built: string): string[] {
  const os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(safeRead('/etc/os-release'))?.[1] ?? '?';
  const pkgs = sh(['dpkg-query', '-W', '-f', '${Package} ${Version}, ', 'keepalived', 'nginx', 'tomcat10']).replace(/,\s*$/, '');
  const dirty = sh(['git', '-C', REPO_ROOT, 'status', '--porcelain', 'src', 'lab'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((f) => f && f !== '?');
  const dirs = [...new Set(dirty.map((f) => `${f.split('/')[0]}/`))];
  return [
    `- machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs, Linux ${sh(['uname', '-r'])}, ${os}`,
    `- Node ${process.version}; ${pkgs}`,
    `- ha-watchdog ${pkgVersion()}: dist/ built ${built}, at commit ${sh(['git', '-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'])}${dirs.length ? ` with uncommitted changes in ${dirs.join(', ')}` : ''} (the agent runs from a copy of dist/ taken at the start)`,
    `- date: ${new Date(t0).toISOString()}`,
    `- command: \`sudo ${realistic ? 'BENCH_LAB_SUITE=realistic ' : ''}BENCH_LAB_REPS=${reps} BENCH_LAB_SCENARIOS=${ids.join(',')} BENCH_LAB_PEERS=${sups.join(',')} npm run bench:lab\``,
  ];
}

function safeRead(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}
function pkgVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const fmtS = (ms: number | undefined, digits = 1): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(digits)} s`);

function medMax(xs: number[], fmt: (x: number) => string = String): string {
  return xs.length ? `${fmt(median(xs)!)} / ${fmt(Math.max(...xs))}` : '–';
}

function mostCommon(xs: string[]): string {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

/** Why runs were wrong, details in parentheses dropped, with how many runs: "the client saw B (2/3)". */
function reasons(rs: Run[]): string {
  const counts = new Map<string, number>();
  for (const r of rs) for (const w of new Set(r.wrong.map((x) => x.replace(/ \([^)]*\)/g, '')))) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].map(([w, n]) => `${w} (${n}/${rs.length})`).join('; ');
}

/** "error×50 → A×246" → "error → A" */
const shape = (path: string): string => path.replace(/×\d+/g, '');
const esc = (s: string): string => s.replace(/\|/g, '\\|');

interface Cell {
  rs: Run[];
  ok: Run[];
  right: number;
  settled: number[];
  never: number;
  errors: number[];
  errorMs: number[];
  moves: number[];
  ret: number[];
}

function cell(id: ScenarioId, sup: SupervisorId): Cell {
  const rs = runs.filter((r) => r.id === id && r.sup === sup);
  const ok = rs.filter((r) => r.ok);
  const settled = ok.map((r) => r.settledMs).filter((x): x is number => x !== undefined);
  return {
    rs,
    ok,
    right: rs.filter((r) => r.right).length,
    settled,
    never: ok.length - settled.length,
    errors: ok.map((r) => r.errors),
    errorMs: ok.map((r) => r.errorMs),
    moves: ok.map((r) => r.vipMoves),
    ret: ok.map((r) => r.returnErrors).filter((x): x is number => x !== undefined),
  };
}

function toRight(c: Cell): string {
  if (!c.settled.length) return c.ok.length ? 'never' : '–';
  return `${medMax(c.settled, (x) => fmtS(x))}${c.never ? ` (never in ${c.never})` : ''}`;
}

/** The comparison table: one row per (scenario, supervisor). */
function comparisonTable(): string[] {
  const lines = [
    '| scenario | supervisor | right | failed requests | seconds of errors | VIP moves | VIP serves from the right host after |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const id of ids) {
    for (const sup of sups) {
      const c = cell(id, sup);
      lines.push(
        `| ${scenarioName(id)} | ${SUPERVISORS[sup].label} | ${c.right}/${c.rs.length} | ${medMax(c.errors)} | ${medMax(c.errorMs, (x) => fmtS(x))} | ${medMax(c.moves)} | ${toRight(c)} |`,
      );
    }
  }
  return lines;
}

// --- targets -----------------------------------------------------------------------

function verdict(ok: boolean, missed: string): string {
  return ok ? 'met' : `missed ${missed}`;
}

/** One line per target of the issue, for the supervisors of this run. */
function targetLines(): string[] {
  const lines: string[] = [];
  const has = (id: ScenarioId, s: SupervisorId): boolean => ids.includes(id) && sups.includes(s) && cell(id, s).ok.length > 0;
  const hf = (['watchdog-hf', 'watchdog-hf-tf'] as const).filter((s) => has(KILL_WORKS, s));
  const rf = (['watchdog', 'watchdog-tf'] as const).filter((s) => has(KILL_FAILS, s));
  const peer1 = has(KILL_WORKS, 'peer') ? cell(KILL_WORKS, 'peer') : undefined;
  const peer2 = has(KILL_FAILS, 'peer') ? cell(KILL_FAILS, 'peer') : undefined;
  for (const s of hf) {
    const c = cell(KILL_WORKS, s);
    const name = SUPERVISORS[s].label;
    const eMed = median(c.errorMs)!;
    lines.push(
      `- **handover-first, tomcat killed, peer healthy (kill-restart-works), ${name}: at most 1.5 s of client-visible errors (median)**: ` +
        `${fmtS(eMed, 2)} (max ${fmtS(Math.max(...c.errorMs), 2)}): ${verdict(eMed <= 1500, `by ${fmtS(eMed - 1500, 2)}`)}.`,
    );
    if (peer1) {
      const mine = median(c.errors)!;
      const theirs = median(peer1.errors)!;
      lines.push(
        `- **… fewer failed requests than keepalived's own answer in the same run**: median ${mine} (max ${Math.max(...c.errors)}) vs ${theirs} (max ${Math.max(...peer1.errors)}): ` +
          `${verdict(mine < theirs, `by ${mine - theirs + 1} request${mine - theirs + 1 === 1 ? '' : 's'} (needs < ${theirs})`)}.`,
      );
    }
    const retMed = median(c.ret)!;
    const retMax = Math.max(...c.ret);
    const withB = c.ok.filter((r) => r.path.includes('B×')).length;
    lines.push(
      `- **… the return to the master costs no failed request** (failed requests after the client's first answer from B; the VIP went to B in ${withB}/${c.ok.length} runs): ` +
        `median ${retMed}, max ${retMax}: ${retMax === 0 ? 'met in every run' : retMed === 0 ? `met by the median; missed in ${c.ret.filter((x) => x > 0).length}/${c.ret.length} runs (max ${retMax})` : `missed by ${retMed} (median)`}.`,
    );
  }
  for (const s of rf) {
    const c = cell(KILL_FAILS, s);
    const name = SUPERVISORS[s].label;
    if (!c.settled.length) {
      lines.push(`- **kill-restart-fails, ${name}: the VIP serves from the backup within 2 s (median)**: never settled on B: missed.`);
      continue;
    }
    const med = median(c.settled)!;
    const peerMed = peer2?.settled.length ? median(peer2.settled)! : undefined;
    lines.push(
      `- **kill-restart-fails, ${name}: the VIP serves from the backup within 2 s (median)**: ${fmtS(med, 2)} (max ${fmtS(Math.max(...c.settled), 2)}): ${verdict(med <= 2000, `by ${fmtS(med - 2000, 2)}`)}` +
        (peerMed === undefined
          ? '.'
          : `; **ahead of keepalived's own answer** (${fmtS(peerMed, 2)} in this run, 2.1 s in the issue): ${verdict(med < peerMed, `by ${fmtS(med - peerMed, 2)}`)}.`),
    );
  }
  return lines;
}

// --- definitions ---------------------------------------------------------------------

const DEFINITIONS = [
  '- **failed requests**: client requests that failed (HTTP 502 from an nginx whose tomcat is dead or hung,',
  '  300 ms timeouts, refused connections) from the fault to the end of the window (repair-after-failover: from',
  '  the repair); median / max over the runs.',
  '- **seconds of errors**: the client\'s outages summed over the same span (first failed request to the next',
  '  answer from any host; `errorMs` of lab/measure.ts); median / max.',
  '- **VIP moves**: changes of the host holding the VIP (sampled every 200 ms from the hosts\' interfaces) from the',
  '  fault (repair-after-failover: from the kill, so a right run has 2) to the end; a gap with nobody holding',
  '  it is not a move; median / max.',
  '- **VIP serves from the right host after**: from the fault (repair-after-failover: the repair) to the first',
  '  request of the client\'s final uninterrupted run of answers from the host that should serve; median / max',
  '  over the runs that got there, "never" when none did.',
  '- **right**: runs whose outcome was right, out of the runs:',
  '  - kill-restart-works (1): the VIP and the client end on A. ha-watchdog restart-first promises a restart',
  '    in place, so for it the VIP must also never leave A (the client never sees B). handover-first gives the',
  '    VIP to B on purpose and must bring it back; the seed loop and keepalived\'s checks make no promise either',
  '    way: for these, leaving A is allowed, flapping is not (at most 2 VIP moves).',
  '  - kill-restart-fails (2) and hang-restart-fails (3b): the VIP and the client end on B.',
  '  - repair-after-failover (6): the VIP and the client end on A, and no request fails from the repair on',
  '    (one request timing out exactly at the VRRP handover happens with no supervisor at all, about 1',
  '    preemption in 12 in this lab: lab/README.md, Gotchas).',
];

function supervisorsText(): string[] {
  return [
    '- **keepalived vrrp_script + systemd Restart=** ("keepalived\'s own answer"): keepalived tracks `curl` checks of',
    '  tomcat (`:8080/`) and nginx (`/nginx-health`) every second, `fall 2`, `rise 2`, no weight: a failing check',
    '  puts the instance in FAULT, which gives up the VIP. `lab/host/respawn.sh` stands in for systemd with the',
    '  units\' `Restart=`: tomcat `on-abort` (Debian\'s tomcat10.service: restarted only after an unclean signal such',
    '  as SIGKILL, not after a failed start), nginx and keepalived `on-failure`; `RestartSec=100ms`, start limit 5',
    '  in 10 s (systemd\'s defaults). A unit it does not restart stays down: a later repair brings nothing back, and',
    '  a hung process is never noticed.',
    '- **seed bash loop**: `lab/seed-loop.sh`, section 2.4.6 of the seed document with only its three commands',
    '  adapted: every 3 s, `ps -ef | grep tomcat | wc -l`; 1 → start tomcat, then (without re-checking) kill',
    '  keepalived; 2 with no keepalived → start keepalived. It counts any process mentioning "tomcat", and never',
    '  looks at HTTP.',
    '- **ha-watchdog**: `node dist/cli.js run` on each host with the lab\'s `watchdog.yaml` (interval 1s, tomcat and',
    '  nginx checked by process and HTTP, fall 2 / rise 2, one restart attempt, `keepalived.vip` on the VIP), in',
    '  four variants (lab/README.md, "Configured labs"): `failover.order` restart-first (restart, fail over if',
    '  that fails) or handover-first with the peer guard (`peer.url` = the other host\'s `/healthz`: hand the VIP',
    '  over at once when the peer is healthy, restart, take the VIP back), each with `keepalived.control` stop',
    '  (stop/start keepalived) or track-file (keepalived keeps running; a `track_file` with weight 0 moves the VIP).',
  ];
}

/** The block for bench/results.md (between the markers). */
function renderBlock(): string {
  const repsRun = Math.max(0, ...runs.map((r) => r.rep));
  return [
    '## Lab: what clients see through the VIP',
    '',
    `Written by \`bench/lab.ts\` (\`sudo npm run bench:lab\`, ${new Date(t0).toISOString()}, ${repsRun} repetition${repsRun === 1 ? '' : 's'}, ${runs.length} runs): the same`,
    'faults in the two-host lab (real keepalived 2.2.7, nginx, tomcat10 in network namespaces; a client polls the',
    'VIP every 50 ms, 300 ms timeout), a fresh lab per run, every supervisor in the same run. Median / max over the',
    'runs. Definitions, every run and the machine: [results-lab.md](results-lab.md).',
    '',
    ...comparisonTable(),
    '',
    'Targets (reported, not asserted):',
    '',
    ...targetLines(),
    '',
  ].join('\n');
}

function renderFull(): string {
  const lines: string[] = [
    '# Lab bench: keepalived\'s own answer vs the seed loop vs ha-watchdog',
    '',
    'Generated by `bench/lab.ts` (`npm run bench:lab`). Each run brings up a fresh two-host lab',
    '(lab/README.md), lets the chosen supervisor run on both hosts, injects the fault with the client',
    'in C polling the VIP every 50 ms (300 ms timeout), observes for a fixed window, and tears the lab',
    'down. The same lab code, the same faults and windows for every supervisor (`lab/scenarios.ts`),',
    'interleaved (repetition, scenario, supervisor) so that machine noise spreads evenly. Repetition r of n',
    'injects its fault (r - 1/2)/n of a second after a whole second (lab/scenarios.ts `faultPhaseMs`): the',
    'agent polls on whole seconds, and every 1 s schedule meets the faults spread over its cycle.',
    '',
    ...machineLines,
    '',
    '## Results',
    '',
    ...comparisonTable(),
    '',
    '## Targets',
    '',
    ...targetLines(),
    '',
    '## Definitions',
    '',
    ...DEFINITIONS,
    '',
    '## The scenarios',
    '',
  ];
  for (const id of ids) {
    const s = scenario(id);
    lines.push(`- **${scenarioName(id)}**, lab/scenarios.ts "${s.title}": ${s.fault}; window ${s.windowMs / 1000} s${s.fromRepair ? ' after the repair' : ''}.`);
  }
  lines.push('', '## The supervisors', '', ...supervisorsText(), '', '## What the client saw', '');
  lines.push(
    '| scenario | supervisor | right | when wrong: why | return: failed after the client saw B (1) / after the repair (6) | what the client saw (most runs) | VIP (most runs) |',
    '|---|---|---|---|---|---|---|',
  );
  for (const id of ids) {
    for (const sup of sups) {
      const c = cell(id, sup);
      lines.push(
        `| ${scenarioName(id)} | ${SUPERVISORS[sup].label} | ${c.right}/${c.rs.length} | ${esc(reasons(c.rs))} | ${c.ret.length ? medMax(c.ret) : '–'} | ${mostCommon(c.ok.map((r) => shape(r.path)))} | ${mostCommon(c.ok.map((r) => r.vipPath))} |`,
      );
    }
  }
  lines.push(
    '',
    '## Every run',
    '',
    '| scenario | supervisor | rep | right | to right host | failed | errors | VIP moves | client | VIP (hosts\' interfaces) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of runs) {
    const okCells = r.ok
      ? `${r.right ? 'yes' : `no: ${esc(r.wrong.join('; '))}`} | ${r.settledMs === undefined ? 'never' : fmtS(r.settledMs, 2)} | ${r.errors} | ${fmtS(r.errorMs, 2)} | ${r.vipMoves}`
      : `run failed: ${esc((r.error ?? '').split('\n')[0] ?? '')} | | | |`;
    lines.push(`| ${r.id} | ${r.sup} | ${r.rep} | ${okCells} | ${r.path} | ${r.vipPath} |`);
  }
  lines.push('', `${DATA_OPEN}\n${JSON.stringify({ t0, elapsedMs, machine: machineLines, ids, sups, runs })}\n-->`, '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (realistic) return realisticMain();
  if (rendering) {
    const text = readFileSync(out, 'utf8');
    const at = text.indexOf(DATA_OPEN);
    if (at < 0) throw new Error(`${out}: no embedded data to re-render`);
    const data = JSON.parse(text.slice(at + DATA_OPEN.length, text.indexOf('-->', at))) as { runs: Run[]; t0: number; elapsedMs: number; machine: string[]; ids: ScenarioId[]; sups: SupervisorId[] };
    if (!data.sups) throw new Error(`${out}: data of an older bench (no "sups"): run the bench again`);
    ({ runs, t0, elapsedMs } = data);
    machineLines = data.machine;
    ids.splice(0, ids.length, ...data.ids);
    sups.splice(0, sups.length, ...data.sups);
    writeOutputs();
    console.log(`bench:lab: re-rendered ${out}${summaryOut ? ` and the lab block of ${summaryOut}` : ''} from ${runs.length} runs`);
    return;
  }

  const snapshot = snapshotDist();
  machineLines = machine(snapshot.built);
  console.log(`bench:lab: ${total} runs (${reps} × scenarios ${ids.join(',')} × ${sups.join(',')}), results to ${out}`);
  // Interleaved (rep, scenario, supervisor) so that machine noise spreads evenly.
  for (let rep = 1; rep <= reps; rep++) {
    for (const id of ids) {
      for (const supId of sups) {
        const n = runs.length + 1;
        const sup = SUPERVISORS[supId];
        let lab: Lab | undefined;
        try {
          lab = await Lab.up({ agent: sup.agent, agentCli: snapshot.cli, ...scenario(id).lab, ...sup.lab });
          const r = await play(lab, id, { faultPhaseMs: faultPhase(rep, reps) });
          const run = measureRun(r, id, supId, rep, lab.timings.upMs);
          runs.push(run);
          console.log(
            `[${n}/${total}] ${scenarioName(id)} ${supId.padEnd(14)} rep ${rep}: ${run.right ? 'right' : 'WRONG'}  settled ${run.settledMs ?? 'never'} ms  ` +
              `failed ${run.errors} (${(run.errorMs / 1000).toFixed(2)} s)  VIP moves ${run.vipMoves}  ${run.path}${run.right ? '' : `  (${run.wrong.join('; ')})`}`,
          );
        } catch (e) {
          runs.push({ id, sup: supId, rep, ok: false, error: (e as Error).message, errors: 0, errorMs: 0, vipMoves: 0, right: false, wrong: ['run failed'], path: '', vipPath: '', upMs: 0 });
          console.log(`[${n}/${total}] ${scenarioName(id)} ${supId} rep ${rep}: RUN FAILED: ${(e as Error).message}`);
        } finally {
          await lab?.down().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
        }
      }
    }
  }
  elapsedMs = Date.now() - t0;
  machineLines.push(`- ${total} runs in ${Math.round(elapsedMs / 60_000)} min; load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  writeOutputs();
  console.log(`bench:lab: done in ${Math.round(elapsedMs / 1000)} s; wrote ${out}${summaryOut ? ` and the lab block of ${summaryOut}` : ''}`);
}

// --- the realistic suite (BENCH_LAB_SUITE=realistic) ---------------------------------

interface RRun {
  id: ScenarioId;
  sup: SupervisorId;
  rep: number;
  /** The lab it ran on, and how many runs that lab had played before (0: a fresh lab). */
  labId: string;
  before: number;
  ok: boolean;
  error?: string;
  /** Failed client requests from the fault (slow-repair: the repair) to the end of the window. */
  errors: number;
  /** Seconds of client errors over the same span, ms (lab/measure.ts errorMs). */
  errorMs: number;
  /** Changes of the VIP's holder from the (first) fault to the end ('none' between two holders not counted). */
  vipMoves: number;
  /** A's tomcat at the end: one JVM, not stopped, / and /health answer 200 (lab/reset.ts tomcatProblem). */
  healed: boolean;
  health?: string;
  /** A's tomcat JVM replaced during the run. */
  restartedA: boolean;
  settledMs?: number;
  right: boolean;
  wrong: string[];
  path: string;
  vipPath: string;
  /** ha-watchdog: what A's agent had learned of tomcat's start time when the run started (state.json), ms; undefined: nothing. */
  learnedMs?: number;
  /** ha-watchdog: A's agent's decisions from the fault on (events), e.g. "handover → restart.ok → keepalived.start". */
  decisions?: string;
  /** The reset before the run: how long, and what it had to do. */
  resetMs: number;
  resetActions: string[];
}

/** A's agent events worth listing per run (the decisions, not the observations). */
const DECISIONS = new Set([
  'handover',
  'handover.skipped',
  'restart.in_place',
  'restart.ok',
  'restart.failed',
  'service.failed',
  'failover',
  'failover.held',
  'keepalived.stop',
  'keepalived.start',
  'vip.release',
  'vip.reclaim',
]);

let rruns: RRun[] = [];

/** Scenarios grouped by the lab they need (deployment time, health path), in the order given. */
function labGroups(list: ScenarioId[]): Array<{ lab: NonNullable<ScenarioSpec['lab']>; ids: ScenarioId[] }> {
  const groups = new Map<string, { lab: NonNullable<ScenarioSpec['lab']>; ids: ScenarioId[] }>();
  for (const id of list) {
    const lab = scenario(id).lab ?? {};
    const key = JSON.stringify([lab, scenario(id).labGroup ?? '']);
    if (!groups.has(key)) groups.set(key, { lab, ids: [] });
    groups.get(key)!.ids.push(id);
  }
  return [...groups.values()];
}

/** Seconds, estimated (calibrated on one repetition: 20 min for 18 runs on 2 busy cores): per lab, its start; per run, the window + the play's overhead + a reset. */
function estimateS(): number {
  let s = 0;
  for (const _ of sups) {
    for (const g of labGroups(ids)) {
      const deploy = g.lab.deploySeconds ?? 0;
      s += deploy + 18; // up: namespaces, javac (cached), both deployments, keepalived's election
      // per run: the window, the play's own waits (steady state, end checks), and a reset
      // (a few seconds; a tomcat restart costs the deployment, about every third run)
      for (const id of g.ids) s += reps * (scenario(id).windowMs / 1000 + (scenario(id).fromRepair ? 6 : 0) + 6 + (deploy > 0 ? 12 : 6));
    }
  }
  return s;
}

function measureRRun(r: PlayResult, supId: SupervisorId, rep: number, labId: string, before: number, reset: { ms: number; actions: string[]; learnedMs?: number }): RRun {
  const m = r.metrics;
  const path = vipHolderPath(r);
  const from = r.marks[0]?.t ?? r.fault;
  const decisions = r.events.A.filter((e) => (e.t ?? 0) >= from && DECISIONS.has(e.event)).map((e) => e.event);
  return {
    id: r.id,
    sup: supId,
    rep,
    labId,
    before,
    ok: true,
    errors: m.errors,
    errorMs: m.errorMs,
    vipMoves: vipMoves(path),
    healed: r.facts.healedA === true,
    health: r.facts.healthA,
    restartedA: r.facts.tomcatBefore.join(',') !== r.facts.tomcatAfter.join(','),
    settledMs: m.settledMs,
    right: m.right,
    wrong: m.wrong,
    path: m.path,
    vipPath: path.join(' → '),
    learnedMs: reset.learnedMs,
    decisions: SUPERVISORS[supId].agent === 'watchdog' ? decisions.join(' → ') || '(none)' : undefined,
    resetMs: reset.ms,
    resetActions: reset.actions,
  };
}

function rcell(id: ScenarioId, sup: SupervisorId) {
  const rs = rruns.filter((r) => r.id === id && r.sup === sup);
  const ok = rs.filter((r) => r.ok);
  return { rs, ok, right: rs.filter((r) => r.right).length, healed: ok.filter((r) => r.healed).length };
}

/** "1.2 s (0.9–3.0)": the median, and the range when the runs differ. */
function medRange(xs: number[], fmt: (x: number) => string): string {
  if (!xs.length) return '–';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? fmt(median(xs)!) : `${fmt(median(xs)!)} (${fmt(lo)}–${fmt(hi)})`;
}

/** The done-when lines of issues 12 and 16 for this run (reported, not asserted); ha-watchdog as shipped vs keepalived's own answer. */
function rTargetLines(): string[] {
  const W: SupervisorId = 'watchdog-shipped';
  const P: SupervisorId = 'peer';
  if (!sups.includes(W)) return ['- (ha-watchdog as shipped was not in this run)'];
  const ok = (id: ScenarioId, sup: SupervisorId) => rruns.filter((r) => r.id === id && r.sup === sup && r.ok);
  const med = (rs: RRun[], f: (r: RRun) => number | undefined) => {
    const xs = rs.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs)! : undefined;
  };
  const sec = (x: number | undefined) => (x === undefined ? 'never' : `${(x / 1000).toFixed(2)} s`);
  const verdict = (b: boolean) => (b ? 'met' : '**missed**');
  const lines: string[] = [];
  const has = (id: ScenarioId) => ids.includes(id) && ok(id, W).length > 0;
  const peerHas = (id: ScenarioId) => sups.includes(P) && ok(id, P).length > 0;
  if (has('slow-crash')) {
    const w = ok('slow-crash', W);
    const e = med(w, (r) => r.errorMs)!;
    const f = med(w, (r) => r.errors)!;
    const pf = peerHas('slow-crash') ? med(ok('slow-crash', P), (r) => r.errors) : undefined;
    lines.push(`- **slow crash: at most 1.5 s of client errors** (median): ${sec(e)}: ${verdict(e <= 1500)}; **fewer failed requests than keepalived's own answer**: ${f} vs ${pf ?? '–'}: ${pf === undefined ? 'not compared' : verdict(f < pf)}.`);
  }
  if (has('slow-hang')) {
    const w = ok('slow-hang', W);
    const e = med(w, (r) => r.errorMs)!;
    const healed = w.filter((r) => r.healed).length;
    lines.push(`- **slow hang: at most 3 s of client errors and healed on A** (median): ${sec(e)}, healed ${healed}/${w.length}: ${verdict(e <= 3000 && healed === w.length)}.`);
  }
  if (has('hang-start-fails')) {
    const s = med(ok('hang-start-fails', W), (r) => r.settledMs);
    const ps = peerHas('hang-start-fails') ? med(ok('hang-start-fails', P), (r) => r.settledMs) : undefined;
    lines.push(
      `- **hang whose restart fails: the backup serves within 2.5 s** (median, fault to the client's final run of answers from B): ${sec(s)}: ${verdict(s !== undefined && s <= 2500)}; ` +
        `**sooner than keepalived's own answer**: ${sec(s)} vs ${sec(ps)}: ${ps === undefined ? 'not compared' : verdict(s !== undefined && s < ps)}.`,
    );
  }
  if (has('fast-crash')) {
    const w = ok('fast-crash', W);
    const e = med(w, (r) => r.errorMs)!;
    lines.push(`- **fast crash once its start time is known: no more than 0.7 s of client errors** (median): ${sec(e)}: ${verdict(e <= 700)}.`);
  }
  if (has('switchover')) {
    const f = med(ok('switchover', W), (r) => r.errors)!;
    const pf = peerHas('switchover') ? med(ok('switchover', P), (r) => r.errors) : undefined;
    lines.push(
      `- **switchover and takeback (issue 16): failed requests no more than the VRRP handover itself** (median; keepalived stopped and started by hand in the same run): ${f} vs ${pf ?? '–'}: ${pf === undefined ? 'not compared' : verdict(f <= pf)}.`,
    );
  }
  if (sups.includes(P)) {
    const worse: string[] = [];
    for (const id of ids) {
      if (!has(id) || !peerHas(id)) continue;
      const e = med(ok(id, W), (r) => r.errorMs)!;
      const pe = med(ok(id, P), (r) => r.errorMs)!;
      if (e > pe) worse.push(`${id} (${sec(e)} vs ${sec(pe)})`);
    }
    lines.push(`- **on every scenario no more seconds of errors than keepalived's own answer** (medians): ${worse.length ? `**missed** on ${worse.join(', ')}` : 'met'}.`);
  }
  const moves = rruns.filter((r) => r.sup === W && r.ok).map((r) => r.vipMoves);
  if (moves.length) lines.push(`- **never more than 2 VIP moves per fault** (ha-watchdog, every run): max ${Math.max(...moves)}: ${verdict(Math.max(...moves) <= 2)}.`);
  return lines;
}

const R_DEFINITIONS = [
  '- **seconds of client errors**: the client\'s outages summed from the fault (slow-repair: from the repair) to the',
  '  end of the window (first failed request to the next answer from any host; `errorMs` of lab/measure.ts).',
  '- **failed requests**: client requests that failed over the same span (HTTP 5xx through nginx: 502 from a dead',
  '  tomcat, 500 from the HTTP 500 fault; 300 ms timeouts: a hung or still deploying tomcat, a VIP in transit;',
  '  refused connections).',
  '- **VIP moves**: changes of the host holding the VIP (sampled every 200 ms from the hosts\' interfaces) from',
  '  the (first) fault to the end; a gap with nobody holding it is not a move. A → B → A is 2.',
  '- **A healed**: at the end of the window, A\'s tomcat is one running JVM, not stopped, and answers 200 on `/`',
  '  and on `/health` (once in two tries: the flapping endpoint still counts as healthy); runs where it was.',
  '  hang-start-fails cannot heal (A\'s start keeps failing).',
  '- **right**: runs whose outcome was right, out of the runs (lab/scenarios.ts `right` of each scenario):',
  '  slow-crash, slow-hang, http-500: A healed, the VIP and the client end on A, at most 2 VIP moves;',
  '  hang-start-fails: the VIP and the client end on B, at most 2 moves; health-flap: the VIP never leaves A,',
  '  no tomcat restarted on either host, no failed request; slow-repair: A healed, the VIP and the client end',
  '  on A, no failed request from the repair on (one timeout exactly at the VRRP preemption happens with no',
  '  supervisor at all, about 1 in 12: lab/README.md, Gotchas; it counts as wrong here, as in scenario 6);',
  '  fast-crash: A healed, the VIP and the client end on A, at most 2 moves; switchover: the client served by B',
  '  during the maintenance, the VIP and the client on A at the end, at most 2 moves.',
  '- **fast-crash** plays on a lab of its own (its teaching kill makes the agent learn a fast start, which would',
  '  change hang-start-fails on a shared lab); its span starts at the second, measured kill.',
  '- **switchover**: its span runs from the switchover (or keepalived\'s stop) through the takeback to the end.',
  '- **fault phase**: repetition r of n injects its fault (r - 1/2)/n of a second after a whole second',
  '  (`faultPhaseMs` of lab/scenarios.ts play(); plus the injection\'s own ~0.1 s): ha-watchdog polls on whole',
  '  seconds, so the three repetitions meet its cycle early, midway and late (a fixed phase, as before, met it',
  '  always just after a tick, its worst case); keepalived\'s script runs on a timer of its own.',
  '- Medians over the runs, the range in parentheses when the runs differ.',
  '- **A\'s learned start** (every run): what ha-watchdog on A had in state.json for tomcat\'s start time when the',
  '  run started (`services.tomcat.startMs`, learned from its own restarts and kept across runs of the same lab,',
  '  as on a real host); "unknown" on a fresh lab or when nothing was learned yet. With `failover.order: auto`',
  '  an unknown start counts as slow.',
];

function rSupervisorsText(): string[] {
  return [
    '- **keepalived vrrp_script + systemd Restart=**: as in the classic suite above (`lab/host/respawn.sh`: tomcat',
    '  `on-abort`, nginx and keepalived `on-failure`), its tomcat check on the webapp\'s `/health`',
    '  (`curl -sf -m 1`, interval 1, fall 2, rise 2).',
    '- **seed bash loop**: `lab/seed-loop.sh` (counts processes every 3 s, never looks at HTTP).',
    '- **ha-watchdog as shipped + peer guard**: `lab.sh up --profile shipped`: each host\'s `watchdog.yaml` sets only',
    '  `stateDir`, the services\' process matching, `http.url` (tomcat: `/health`, nginx: `/nginx-health`), the',
    '  restart and keepalived start commands, `keepalived.vip`, and the peer guard as README.md documents it',
    '  (`metrics.listen` on the host\'s address :9120, `peer.url` the other host\'s `/healthz`). Everything else is',
    '  the agent\'s default: interval, probe timeouts and retry delay, fall/rise, restart timeout/grace/attempts,',
    '  `failover.order` (auto), `keepalived.control` (stop), and keepalived\'s stop: SIGTERM to its main pid, the',
    '  stand-in for the shipped file\'s D-Bus stop job of keepalived.service (this lab has no systemd; lab/README.md).',
  ];
}

function renderRealistic(elapsed: number, machineText: string[]): string {
  const repsRun = Math.max(0, ...rruns.map((r) => r.rep));
  const lines: string[] = [
    '## Realistic suite: a 20 s deployment, ha-watchdog as shipped',
    '',
    'Generated by `BENCH_LAB_SUITE=realistic npm run bench:lab` (bench/lab.ts). The lab webapp (lab/webapp) takes',
    '20 s to deploy at each tomcat start (the port is bound meanwhile, requests hang), tomcat is checked on its',
    '`/health`, and the faults are those of lab/scenarios.ts `REALISTIC`. Unlike the classic suite above, one lab',
    'per (supervisor, deployment time) plays every run, reset between runs by lab/reset.ts: faults cleared,',
    'unhealthy services restarted, the VIP on A with A master and B backup, the supervisor started afresh',
    '(ha-watchdog\'s state.json rebuilt from a fresh memory keeping only what it learned: tomcat\'s start time and',
    'the handover\'s cost). The runs of a lab are interleaved by repetition (rep 1 of every scenario, then rep 2).',
    '',
    ...machineText,
    `- ${rruns.length} runs (${repsRun} repetition${repsRun === 1 ? '' : 's'}) in ${Math.round(elapsed / 60_000)} min`,
    '',
    '### Results (medians)',
    '',
    '| scenario | supervisor | right | A healed | seconds of client errors | failed requests | VIP moves |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const id of ids) {
    for (const sup of sups) {
      const c = rcell(id, sup);
      lines.push(
        `| ${id} | ${SUPERVISORS[sup].label} | ${c.right}/${c.rs.length} | ${c.healed}/${c.ok.length} | ${medRange(c.ok.map((r) => r.errorMs), (x) => `${(x / 1000).toFixed(1)} s`)} | ${medRange(c.ok.map((r) => r.errors), String)} | ${medRange(c.ok.map((r) => r.vipMoves), String)} |`,
      );
    }
  }
  lines.push('', '### Targets (issues 12 and 16; reported, not asserted)', '', ...rTargetLines());
  lines.push('', '### Definitions', '', ...R_DEFINITIONS, '', '### The scenarios', '');
  for (const id of ids) {
    const s = scenario(id);
    lines.push(`- **${id}** (deployment ${s.lab?.deploySeconds ?? 0} s): ${s.fault}; window ${s.windowMs / 1000} s${s.fromRepair ? ' after the repair' : ''}. Right: ${s.right}.`);
  }
  lines.push('', '### The supervisors', '', ...rSupervisorsText(), '', '### Every run', '');
  lines.push(
    "| scenario | supervisor | rep | lab (runs before) | A's learned start | right | A healed | errors | failed | VIP moves | client | VIP | A's agent decided | reset before |",
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rruns) {
    const learned = SUPERVISORS[r.sup].agent !== 'watchdog' ? '–' : r.learnedMs === undefined ? 'unknown' : `${(r.learnedMs / 1000).toFixed(1)} s`;
    const reset = `${(r.resetMs / 1000).toFixed(1)} s${r.resetActions.length ? `: ${esc(r.resetActions.join('; '))}` : ''}`;
    const body = r.ok
      ? `${r.right ? 'yes' : `no: ${esc(r.wrong.join('; '))}`} | ${r.healed ? 'yes' : `no (${esc(r.health ?? '?')})`} | ${(r.errorMs / 1000).toFixed(2)} s | ${r.errors} | ${r.vipMoves} | ${r.path} | ${r.vipPath} | ${r.decisions ?? '–'}`
      : `run failed: ${esc((r.error ?? '').split('\n')[0] ?? '')} | | | | | | | `;
    lines.push(`| ${r.id} | ${r.sup} | ${r.rep} | ${r.labId} (${r.before}) | ${learned} | ${body} | ${reset} |`);
  }
  lines.push('', `${R_DATA_OPEN}\n${JSON.stringify({ t0, elapsed, machine: machineText, ids, sups, runs: rruns })}\n-->`);
  return lines.join('\n');
}

const R_DATA_OPEN = '<!-- bench-lab-realistic-data';

function writeRealistic(elapsed: number, machineText: string[]): void {
  writeSummaryBlock(out, renderRealistic(elapsed, machineText), R_BEGIN, R_END);
}

async function realisticMain(): Promise<void> {
  if (rendering) {
    const block = markedBlock(readFileSync(out, 'utf8'), R_BEGIN, R_END);
    const at = block.indexOf(R_DATA_OPEN);
    if (at < 0) throw new Error(`${out}: no realistic data to re-render`);
    const data = JSON.parse(block.slice(at + R_DATA_OPEN.length, block.indexOf('-->', at))) as {
      t0: number;
      elapsed: number;
      machine: string[];
      ids: ScenarioId[];
      sups: SupervisorId[];
      runs: RRun[];
    };
    t0 = data.t0;
    rruns = data.runs;
    ids.splice(0, ids.length, ...data.ids);
    sups.splice(0, sups.length, ...data.sups);
    writeRealistic(data.elapsed, data.machine);
    console.log(`bench:lab: re-rendered the realistic section of ${out} from ${rruns.length} runs`);
    return;
  }
  const snapshot = snapshotDist();
  const machineText = machine(snapshot.built);
  const groups = labGroups(ids);
  const totalRuns = reps * ids.length * sups.length;
  const est = estimateS();
  const stamp = () => `${((Date.now() - t0) / 60_000).toFixed(1).padStart(5)} min`;
  console.log(
    `bench:lab realistic: ${totalRuns} runs (${reps} × ${ids.join(',')} × ${sups.join(',')}), ${sups.length * groups.length} labs; ` +
      `estimated ${Math.round(est / 60)} min; results to ${out}`,
  );
  let n = 0;
  for (const supId of sups) {
    const sup = SUPERVISORS[supId];
    for (const g of groups) {
      let lab: Lab | undefined;
      let before = 0;
      const up = async (): Promise<Lab> => {
        const l = await Lab.up({ agent: sup.agent, agentCli: snapshot.cli, ...g.lab, ...sup.lab });
        console.log(`${stamp()} lab ${l.id} up for ${supId}, deployment ${l.config.deploySeconds} s, in ${(l.timings.upMs / 1000).toFixed(1)} s`);
        before = 0;
        return l;
      };
      try {
        for (let rep = 1; rep <= reps; rep++) {
          for (const id of g.ids) {
            n += 1;
            const tag = `[${n}/${totalRuns}] ${id.padEnd(16)} ${supId.padEnd(16)} rep ${rep}`;
            try {
              lab ??= await up();
              const rs = await resetLab(lab);
              const learnedMs = rs.learned.A.tomcatStartMs;
              const r = await play(lab, id, { eventsSince: Date.now(), faultPhaseMs: faultPhase(rep, reps) });
              before += 1;
              const run = measureRRun(r, supId, rep, lab.id, before - 1, { ms: rs.ms, actions: rs.actions, learnedMs });
              rruns.push(run);
              const left = (Date.now() - t0) / n * (totalRuns - n);
              console.log(
                `${stamp()} ${tag}: ${run.right ? 'right' : 'WRONG'}  errors ${(run.errorMs / 1000).toFixed(2)} s (${run.errors} failed)  VIP moves ${run.vipMoves}  ` +
                  `A healed ${run.healed ? 'yes' : 'no'}${sup.agent === 'watchdog' ? `  learned ${learnedMs === undefined ? 'unknown' : `${(learnedMs / 1000).toFixed(1)} s`}  ${run.decisions}` : ''}` +
                  `  (reset ${(rs.ms / 1000).toFixed(1)} s${rs.actions.length ? `: ${rs.actions.join('; ')}` : ''})  ~${Math.round(left / 60_000)} min left` +
                  (run.right ? '' : `\n${' '.repeat(10)}${run.wrong.join('; ')}`),
              );
            } catch (e) {
              rruns.push({
                id, sup: supId, rep, labId: lab?.id ?? '-', before, ok: false, error: (e as Error).message,
                errors: 0, errorMs: 0, vipMoves: 0, healed: false, restartedA: false, right: false, wrong: ['run failed'], path: '', vipPath: '', resetMs: 0, resetActions: [],
              });
              console.log(`${stamp()} ${tag}: RUN FAILED: ${(e as Error).message}; the next run gets a fresh lab`);
              await lab?.down().catch((err: unknown) => console.error(`teardown: ${(err as Error).message}`));
              lab = undefined;
            }
            writeRealistic(Date.now() - t0, machineText); // partial results survive an interrupted bench
          }
        }
      } finally {
        await lab?.down().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
      }
    }
  }
  const elapsed = Date.now() - t0;
  machineText.push(`- load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}; estimated ${Math.round(est / 60)} min`);
  writeRealistic(elapsed, machineText);
  console.log(`bench:lab realistic: done in ${Math.round(elapsed / 1000)} s (estimated ${Math.round(est)} s); wrote the realistic section of ${out}`);
}

await main();
