// A start / stop / restart of a systemd unit (`restart.unit`, `keepalived.start.unit`,
// `keepalived.stop.unit`): a job queued over the daemon's one D-Bus connection (the
// unit watch's, src/systemd/jobs.ts), waited for until systemd's JobRemoved; no process
// is forked. Without a bus (no systemd, a container, `check` from cron, the connection
// lost) the same job is asked of `systemctl <op> <unit>`, forked like any command (its
// timeout, TERM then KILL, its output file), and the first time for each cause the
// action's log line says so.
//
// The timeout is the action's (`restart.timeout`, ...): a job still running past it is
// a failed action, like a command past its timeout. The job is not cancelled: systemd
// bounds it itself (TimeoutStartSec=, TimeoutStopSec=), and cancelling a restart
// midway would leave the unit stopped with nobody starting it. Killing a forked
// `systemctl restart` past its timeout does not cancel its job either: both ways, what
// systemd started finishes, and the policy's next step (another attempt, whose restart
// job replaces a pending one; a failover) follows.
import type { JobOp, JobOutcome, UnitJobs } from '../systemd/jobs.js';
import { runCommand } from './command.js';
import { commandResult, type CommandResult } from './result.js';

export type { UnitJobs } from '../systemd/jobs.js';

export const SYSTEMCTL = '/usr/bin/systemctl';

/** How the job will run: over the bus, or `systemctl` forked (and why). */
export type UnitJobPlan =
  | { op: JobOp; unit: string; via: 'dbus' }
  | {
      op: JobOp;
      unit: string;
      via: 'systemctl';
      command: string[];
      /** Why not over the bus. */
      why: string;
      /** Set the first time for this cause: the action's log line says it. */
      note?: string;
    };

export interface UnitJobResult extends CommandResult {
  /** The job's object path, when it went over the bus. */
  job?: string;
  via: 'dbus' | 'systemctl';
  /** The bus went away after the action was logged: why systemctl ran instead (said once). */
  note?: string;
}

/** Causes already said (the fallback is logged once per cause, not at every action). */
const said = new Set<string>();

/** Where the job goes; `jobs` undefined: this process has no bus (`check`). */
export function planUnitJob(op: JobOp, unit: string, jobs: UnitJobs | undefined, systemctl = SYSTEMCTL): UnitJobPlan {
  const why = jobs ? jobs.unavailable() : 'this process has no D-Bus connection to systemd (`check` makes none)';
  if (why === undefined) return { op, unit, via: 'dbus' };
  const command = [systemctl, op, unit];
  if (said.has(why)) return { op, unit, via: 'systemctl', command, why };
  said.add(why);
  return { op, unit, via: 'systemctl', command, why, note: `${why}: systemd unit jobs fork ${systemctl} instead (said once)` };
}

/** What the log's `command` field shows for a planned job. */
export function describePlan(p: UnitJobPlan): string[] | string {
  return p.via === 'dbus' ? `${p.op} ${p.unit} (systemd job over D-Bus)` : p.command;
}

export interface UnitJobOptions {
  jobs: UnitJobs | undefined;
  timeoutMs: number;
  stateDir: string;
  /** Names the output file of a forked systemctl: stateDir/output/<name>.log. */
  name: string;
  /** The job is queued (its path), so a restarted agent knows it ran. */
  onQueued?: (job: string) => void;
  /** A forked systemctl's process exists. */
  onSpawn?: (pid: number) => void;
  /** Default /usr/bin/systemctl. */
  systemctl?: string;
}

export async function runUnitJob(plan: UnitJobPlan, opts: UnitJobOptions): Promise<UnitJobResult> {
  if (plan.via === 'systemctl' || !opts.jobs) return fork(plan.via === 'systemctl' ? plan.command : [opts.systemctl ?? SYSTEMCTL, plan.op, plan.unit], opts);
  const o = await opts.jobs.run(plan.op, plan.unit, { timeoutMs: opts.timeoutMs, onQueued: opts.onQueued });
  // The bus went away between the plan and the call: nothing was queued, so systemctl asks instead.
  const gone = !o.ok && o.job === undefined ? opts.jobs.unavailable() : undefined;
  if (gone !== undefined) {
    const again = planUnitJob(plan.op, plan.unit, opts.jobs, opts.systemctl);
    if (again.via === 'systemctl') return { ...(await fork(again.command, opts)), ...(again.note !== undefined && { note: again.note }) };
  }
  return { ...fromOutcome(o, opts.timeoutMs), ...(o.job !== undefined && { job: o.job }), via: 'dbus' };
}

/** A job's end as the CommandResult every action returns. */
export function fromOutcome(o: JobOutcome, timeoutMs: number): CommandResult {
  const base = { ...commandResult(o.ok), durationMs: o.durationMs };
  if (o.ok) return base;
  if (o.timedOut) return { ...base, timedOut: true, reason: `timed out after ${timeoutMs} ms: job ${o.job ?? '?'} still running, left to systemd (not cancelled)` };
  const e = o.error;
  // A job that ended: "job result failed; unit failed (failed), result exit-code". A call
  // that failed: what was asked and what came back (no such unit, access denied, no reply).
  const reason = !e ? `job result ${o.result || 'unknown'}` : o.job !== undefined ? e.seen : `${e.op}${e.unit ? ` ${e.unit}` : ''}: expected ${e.expected}, saw ${e.seen}`;
  return { ...base, reason };
}

async function fork(command: string[], opts: UnitJobOptions): Promise<UnitJobResult> {
  const r = await runCommand({ command, timeout: opts.timeoutMs }, { stateDir: opts.stateDir, name: opts.name, onSpawn: opts.onSpawn });
  return { ...r, via: 'systemctl' };
}

/** Tests: forget which causes were said. */
export function resetSaid(): void {
  said.clear();
}
