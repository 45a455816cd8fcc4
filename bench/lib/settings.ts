// Durations and repetitions of every item, from the environment. BENCH_QUICK=1 picks
// small defaults (about a minute in all) and writes bench/results-quick.md instead of
// bench/results.md; any BENCH_* variable below overrides either default.
import { resolve } from 'node:path';
import { ROOT } from './paths.js';

export const QUICK = process.env.BENCH_QUICK === '1';

function num(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export interface Settings {
  /** Item 1: measured steady polls (after warm-up), per process-table size. */
  steadyPolls: number;
  /** Item 1: polls of a fresh Agent in a warm process (each does a ps-list scan). */
  scanPolls: number;
  /** Item 1: fresh processes whose very first poll is measured (imports included). */
  coldPolls: number;
  /** Item 1: iterations of the seed's bash loop body. */
  bashIterations: number;
  /** Item 1: bare ps-list calls and /proc scans, for reference. */
  refCalls: number;
  /** Item 1: extra idle processes for the "host-like" process table. */
  filler: number;
  /** Item 2: seconds each daemon (1s and 3s interval) is watched. */
  daemonSeconds: number;
  /** Item 2: back-to-back polls of the soak (each run: with and without forced GC). */
  soakPolls: number;
  /** Item 3: repetitions per SIGSTOP (hang) case, fall 1 and fall 2. */
  latencyReps: number;
  /** Item 3: repetitions per SIGKILL case (the pid watch path), fall 1 and fall 2. */
  killReps: number;
  /** Item 2c: tick() calls of the pid watch back to back. */
  watchTicks: number;
  /** Item 2c: seconds of each in-place window kind (idle, empty timer, the watch's timer), in rounds of about 2 s. */
  watchSeconds: number;
  /** Item 4: runs of each `check` variant. */
  checkReps: number;
  /** Item 4: fresh processes per module for the import-time breakdown. */
  importReps: number;
  /** Only these items (comma list of poll,daemon,soak,pidwatch,latency,check), empty = all. */
  only: string[];
  out: string;
}

export function loadSettings(): Settings {
  return {
    steadyPolls: num('BENCH_STEADY_POLLS', 300, 40),
    scanPolls: num('BENCH_SCAN_POLLS', 40, 8),
    coldPolls: num('BENCH_COLD_POLLS', 5, 2),
    bashIterations: num('BENCH_BASH_ITERATIONS', 100, 20),
    refCalls: num('BENCH_REF_CALLS', 40, 8),
    filler: num('BENCH_FILLER', 100, 100),
    daemonSeconds: num('BENCH_DAEMON_SECONDS', 60, 10),
    soakPolls: num('BENCH_SOAK_POLLS', 20_000, 2_000),
    latencyReps: num('BENCH_LATENCY_REPS', 5, 2),
    killReps: num('BENCH_KILL_REPS', 10, 3),
    watchTicks: num('BENCH_WATCH_TICKS', 20_000, 5_000),
    watchSeconds: num('BENCH_WATCH_SECONDS', 10, 4),
    checkReps: num('BENCH_CHECK_REPS', 20, 5),
    importReps: num('BENCH_IMPORT_REPS', 5, 2),
    only: (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    out: resolve(ROOT, process.env.BENCH_OUT ?? (QUICK ? 'bench/results-quick.md' : 'bench/results.md')),
  };
}

/** The env knobs, for the "how to reproduce" section. */
export const KNOBS = [
  'BENCH_QUICK',
  'BENCH_STEADY_POLLS',
  'BENCH_SCAN_POLLS',
  'BENCH_COLD_POLLS',
  'BENCH_BASH_ITERATIONS',
  'BENCH_REF_CALLS',
  'BENCH_FILLER',
  'BENCH_DAEMON_SECONDS',
  'BENCH_SOAK_POLLS',
  'BENCH_LATENCY_REPS',
  'BENCH_KILL_REPS',
  'BENCH_WATCH_TICKS',
  'BENCH_WATCH_SECONDS',
  'BENCH_CHECK_REPS',
  'BENCH_IMPORT_REPS',
  'BENCH_ONLY',
  'BENCH_OUT',
];
