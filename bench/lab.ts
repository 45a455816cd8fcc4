// `npm run bench:lab` (= npm run build && node --import tsx bench/lab.ts): the
// same lab scenarios played with three supervisors, in the same run and with
// the same lab code (lab/scenarios.ts):
//   watchdog  ha-watchdog on both hosts (interval 1s, keepalived.vip on the VIP);
//   seed      the seed document's bash loop (lab/seed-loop.sh, logic untouched);
//   peer      keepalived's own vrrp_script checks (curl tomcat and nginx, fall 2,
//             rise 2) + a 1 s respawn loop standing in for systemd's Restart=always.
// Writes bench/results-lab.md: per scenario and supervisor, the time from the
// fault to the client being served steadily by the right host, failed client
// requests, and whether the outcome was right.
//
// Environment:
//   BENCH_LAB_REPS=3                    repetitions of each (scenario, supervisor)
//   BENCH_LAB_SCENARIOS=1,2,3,5,6       scenarios (ids of lab/scenarios.ts)
//   BENCH_LAB_PEERS=watchdog,seed,peer  supervisors
//   BENCH_LAB_OUT=bench/results-lab.md  where the results go
//   HALAB_KEEP_LOGS=<dir>               keep every lab's logs there
// Needs Linux, root and the lab packages (lab/prereqs.sh).
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentKind, Lab, labUnavailableReason, REPO_ROOT } from '../lab/lab.js';
import { median } from '../lab/measure.js';
import { play, type PlayResult, SCENARIOS, type ScenarioId } from '../lab/scenarios.js';

type Peer = Exclude<AgentKind, 'none'>;

const reps = Number(process.env.BENCH_LAB_REPS ?? 3);
const ids = (process.env.BENCH_LAB_SCENARIOS ?? '1,2,3,5,6').split(',').map((s) => s.trim()) as ScenarioId[];
const peers = (process.env.BENCH_LAB_PEERS ?? 'watchdog,seed,peer').split(',').map((s) => s.trim()) as Peer[];
const out = process.env.BENCH_LAB_OUT ?? join(REPO_ROOT, 'bench', 'results-lab.md');

for (const id of ids) if (!(id in SCENARIOS)) throw new Error(`BENCH_LAB_SCENARIOS: unknown scenario ${id} (${Object.keys(SCENARIOS).join(', ')})`);
for (const p of peers) if (!['watchdog', 'seed', 'peer'].includes(p)) throw new Error(`BENCH_LAB_PEERS: unknown supervisor ${p} (watchdog, seed, peer)`);
if (!Number.isInteger(reps) || reps < 1 || reps > 50) throw new Error('BENCH_LAB_REPS must be an integer 1..50');
const reason = labUnavailableReason();
if (reason && !process.argv.includes('--render')) {
  console.error(`bench:lab: ${reason}`);
  process.exit(1);
}

interface Run {
  id: ScenarioId;
  peer: Peer;
  rep: number;
  ok: boolean;
  error?: string;
  settledMs?: number;
  errors: number;
  /** Sum of the client's outages (first failed request to the next answer, any host) from the fault on. */
  outageMs: number;
  right: boolean;
  wrong: string[];
  path: string;
  vipPath: string;
  upMs: number;
}

function outageMs(r: PlayResult): number {
  let total = 0;
  let from: number | undefined;
  for (const s of r.samples) {
    if (s.t < r.fault || s.t > r.end) continue;
    if (s.who === 'error') from ??= s.t;
    else if (from !== undefined) {
      total += s.t - from;
      from = undefined;
    }
  }
  if (from !== undefined) total += r.end - from;
  return total;
}

/**
 * The agent runs from a copy of dist/ taken now: the other engineers' `npm run build`
 * during a 20-minute bench must not change the agent half-way. Removed at exit.
 */
function snapshotDist(): { cli: string; built: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ha-watchdog-bench-lab-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { cli: join(dir, 'dist', 'cli.js'), built: statSync(join(REPO_ROOT, 'dist', 'cli.js')).mtime.toISOString() };
}

const PEER_LABEL: Record<Peer, string> = {
  watchdog: 'ha-watchdog',
  seed: 'seed bash loop',
  peer: 'vrrp_script + respawn',
};

let runs: Run[] = [];
let t0 = Date.now();
let elapsedMs = 0;
let machineLines: string[] = [];
const load0 = loadavg();
const total = reps * ids.length * peers.length;
const DATA_OPEN = '<!-- bench-lab-data';

// `bench/lab.ts --render`: re-renders the results file from the data embedded in it (no runs).
if (process.argv.includes('--render')) {
  const text = readFileSync(out, 'utf8');
  const at = text.indexOf(DATA_OPEN);
  if (at < 0) throw new Error(`${out}: no embedded data to re-render`);
  const data = JSON.parse(text.slice(at + DATA_OPEN.length, text.indexOf('-->', at))) as { runs: Run[]; t0: number; elapsedMs: number; machine: string[]; ids: ScenarioId[]; peers: Peer[] };
  ({ runs, t0, elapsedMs } = data);
  machineLines = data.machine;
  ids.splice(0, ids.length, ...data.ids);
  peers.splice(0, peers.length, ...data.peers);
  writeFileSync(out, render());
  console.log(`bench:lab: re-rendered ${out} from its ${runs.length} runs`);
  process.exit(0);
}
const snapshot = snapshotDist();
machineLines = machine(snapshot.built);
console.log(`bench:lab: ${total} runs (${reps} × scenarios ${ids.join(',')} × ${peers.join(',')}), results to ${out}`);
// Interleaved (rep, scenario, supervisor) so that machine noise spreads evenly.
for (let rep = 1; rep <= reps; rep++) {
  for (const id of ids) {
    for (const peer of peers) {
      const n = runs.length + 1;
      let lab: Lab | undefined;
      try {
        lab = await Lab.up({ agent: peer, agentCli: snapshot.cli });
        const r = await play(lab, id);
        const m = r.metrics;
        runs.push({ id, peer, rep, ok: true, settledMs: m.settledMs, errors: m.errors, outageMs: outageMs(r), right: m.right, wrong: m.wrong, path: m.path, vipPath: m.vipPath, upMs: lab.timings.upMs });
        console.log(
          `[${n}/${total}] scenario ${id} ${peer.padEnd(8)} rep ${rep}: ${m.right ? 'right' : 'WRONG'}  settled ${m.settledMs ?? 'never'} ms  errors ${m.errors}  ${m.path}${m.right ? '' : `  (${m.wrong.join('; ')})`}`,
        );
      } catch (e) {
        runs.push({ id, peer, rep, ok: false, error: (e as Error).message, errors: 0, outageMs: 0, right: false, wrong: ['run failed'], path: '', vipPath: '', upMs: 0 });
        console.log(`[${n}/${total}] scenario ${id} ${peer} rep ${rep}: RUN FAILED: ${(e as Error).message}`);
      } finally {
        await lab?.down().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
      }
    }
  }
}
elapsedMs = Date.now() - t0;
machineLines.push(`- ${total} runs in ${Math.round(elapsedMs / 60_000)} min; load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
writeFileSync(out, render());
console.log(`bench:lab: done in ${Math.round(elapsedMs / 1000)} s; wrote ${out}`);

// --- the report ------------------------------------------------------------------

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
  return [
    `- machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs, Linux ${sh(['uname', '-r'])}, ${os}`,
    `- Node ${process.version}; ${pkgs}`,
    `- ha-watchdog ${pkgVersion()}: dist/ built ${built}, at commit ${sh(['git', '-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'])}${sh(['git', '-C', REPO_ROOT, 'status', '--porcelain', 'src']) ? ' with uncommitted changes in src/' : ''} (the agent runs from a copy of dist/ taken at the start)`,
    `- date: ${new Date(t0).toISOString()}`,
    `- command: \`sudo BENCH_LAB_REPS=${reps} BENCH_LAB_SCENARIOS=${ids.join(',')} BENCH_LAB_PEERS=${peers.join(',')} npm run bench:lab\``,
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

function fmtS(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
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
function shape(path: string): string {
  return path.replace(/×\d+/g, '');
}

function render(): string {
  const lines: string[] = [
    '# Lab bench: ha-watchdog vs the seed loop vs keepalived vrrp_script',
    '',
    'Generated by `bench/lab.ts` (`npm run bench:lab`). Each run brings up a fresh two-host lab',
    '(lab/README.md), lets the chosen supervisor run on both hosts, injects the fault with the client',
    'in C polling the VIP every 50 ms (300 ms timeout), observes for a fixed window, and tears the lab',
    'down. The same lab code, the same faults and windows for every supervisor (`lab/scenarios.ts`).',
    '',
    ...machineLines,
    '',
    '## Results',
    '',
    '- **to right host**: from the fault (scenario 6: the repair) to the first request of the final,',
    "  uninterrupted run of answers from the host that should serve (the client's view); median / max",
    '  over the runs that got there; "never" counts the runs that did not.',
    '- **failed requests**: client requests that failed (HTTP 502 from a nginx whose tomcat is dead,',
    '  timeouts, refused connections) from the fault to the end of the window; median / max.',
    '- **outage**: total time the client got no answer at all (any host), median / max.',
    '- **right**: runs whose outcome was right (see the definitions below).',
    '',
    '| scenario | supervisor | right | to right host (median / max) | failed requests (median / max) | outage (median / max) | what the client saw (most runs) | when wrong: why |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const id of ids) {
    for (const peer of peers) {
      const rs = runs.filter((r) => r.id === id && r.peer === peer);
      const okRuns = rs.filter((r) => r.ok);
      const settled = okRuns.map((r) => r.settledMs).filter((x): x is number => x !== undefined);
      const never = okRuns.length - settled.length;
      const errs = okRuns.map((r) => r.errors);
      const outs = okRuns.map((r) => r.outageMs);
      const right = rs.filter((r) => r.right).length;
      const why = reasons(rs);
      const toRight = settled.length ? `${fmtS(median(settled))} / ${fmtS(Math.max(...settled))}${never ? ` (never in ${never})` : ''}` : 'never';
      lines.push(
        `| ${id}. ${SCENARIOS[id].title} | ${PEER_LABEL[peer]} | ${right}/${rs.length} | ${toRight} | ${errs.length ? `${median(errs)} / ${Math.max(...errs)}` : '–'} | ${outs.length ? `${fmtS(median(outs))} / ${fmtS(Math.max(...outs))}` : '–'} | ${mostCommon(okRuns.map((r) => shape(r.path)))} | ${why.replace(/\|/g, '\\|')} |`,
      );
    }
  }
  lines.push('', '## What "right" means', '');
  for (const id of ids) {
    const s = SCENARIOS[id];
    lines.push(`- **${id}. ${s.title}** (${s.fault}; window ${s.windowMs / 1000} s${id === '6' ? ' after the repair' : ''}): ${s.right}.`);
  }
  lines.push(
    '',
    'Scenario 6 counts every failed request after the repair as wrong. One request timing out (300 ms)',
    'exactly at the return is the VRRP handover itself (B drops the VIP as A takes it over; a SYN sent to',
    "B's MAC in that instant is lost): it happens with no supervisor at all, in about 1 preemption in 12 in",
    "this lab. A supervisor that starts keepalived before A's tomcat answers shows instead as HTTP 502s",
    "from A's nginx.",
    '',
    '## The supervisors',
    '',
    '- **ha-watchdog**: `node dist/cli.js run` on each host, the lab\'s `watchdog.yaml` (interval 1s, fall 2 / rise 2,',
    '  tomcat and nginx checked by process and HTTP, one restart attempt, then failover; `keepalived.vip` on the VIP).',
    '- **seed bash loop**: `lab/seed-loop.sh`, section 2.4.6 of the seed document with only its three commands',
    '  adapted: every 3 s, `ps -ef | grep tomcat | wc -l`; 1 → start tomcat, then (without re-checking) kill',
    '  keepalived; 2 with no keepalived → start keepalived. It counts any process mentioning "tomcat", and never',
    '  looks at HTTP.',
    '- **vrrp_script + respawn**: keepalived tracks `curl` checks of tomcat (`:8080/`) and nginx (`/nginx-health`)',
    '  every second (fall 2, rise 2): a failing check puts the instance in FAULT, which gives up the VIP. A',
    '  1 s loop restarts dead processes (as systemd `Restart=always` would); nothing restarts a hung one.',
    '',
    '## Every run',
    '',
    '| scenario | supervisor | rep | right | to right host | failed | outage | client | VIP (hosts\' interfaces) |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of runs) {
    lines.push(
      `| ${r.id} | ${r.peer} | ${r.rep} | ${r.ok ? (r.right ? 'yes' : 'no') : `run failed: ${(r.error ?? '').split('\n')[0]?.replace(/\|/g, '\\|')}`} | ${r.ok ? (r.settledMs === undefined ? 'never' : fmtS(r.settledMs)) : ''} | ${r.ok ? r.errors : ''} | ${r.ok ? fmtS(r.outageMs) : ''} | ${r.path} | ${r.vipPath} |`,
    );
  }
  lines.push('', `${DATA_OPEN}\n${JSON.stringify({ t0, elapsedMs, machine: machineLines, ids, peers, runs })}\n-->`, '');
  return lines.join('\n');
}
