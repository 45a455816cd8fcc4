// Carries out one decided action and turns how it went into an outcome for the policy.
// Logs what it does ("restart.start", "keepalived.stop", ...) and how it ended
// ("action.done" / "action.failed"); never throws.
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import { join } from 'node:path';
import type { Action, ActionOutcome } from '../policy/types.js';
import { actionEvent } from '../catalogue/events.js';
import { runCommand } from './command.js';
import { commandResult, type CommandResult } from './result.js';
import { startKeepalived, stopKeepalived } from './keepalived.js';
import { writeTrackFile } from '../os/track-file.js';
import { describePlan, planUnitJob, runUnitJob, SYSTEMCTL, type UnitJobPlan, type UnitJobResult, type UnitJobs } from './unit-job.js';

export interface ActionContext {
  config: Config;
  log: Logger;
  dryRun: boolean;
  /** keepalived's pids as last observed (for the default SIGTERM stop). */
  keepalivedPids: number[];
  /** A restart command's process exists (recorded so a restarted agent knows it ran). */
  onSpawn?: (action: Action, pid: number) => void;
  /** systemd jobs over the daemon's D-Bus connection (`restart.unit`, keepalived's `unit`); without it they fork systemctl. */
  jobs?: UnitJobs;
  /** A restart's systemd job is queued (its path; recorded as onSpawn's pid is). */
  onQueued?: (action: Action, job: string) => void;
  /** The program a unit job forks without a bus (default /usr/bin/systemctl; tests use a stand-in). */
  systemctl?: string;
}

const VERB: Record<Action['kind'], string> = {
  restart: 'restart',
  'keepalived.start': 'start keepalived',
  'keepalived.stop': 'stop keepalived',
  'vip.release': 'release the VIP (track file 1)',
  'vip.reclaim': 'take the VIP back (track file 0)',
};

export async function execute(action: Action, ctx: ActionContext): Promise<ActionOutcome> {
  const startedAt = Date.now();
  const since = performance.now();
  const { config, log } = ctx;
  const service = action.kind === 'restart' ? action.target : undefined;
  const plan = jobPlan(action, ctx);
  const command = plan ? describePlan(plan) : commandOf(action, config);
  const what = action.kind === 'restart' ? `restart ${action.target} (attempt ${action.attempt})` : VERB[action.kind];
  const event = actionEvent(action.kind);
  const diagnose = diagnosePlan(action, config);
  const note = plan?.via === 'systemctl' ? plan.note : undefined;
  const fields = { event, service, reason: action.reason, command, ...(plan && { unit: plan.unit, via: plan.via }), dryRun: ctx.dryRun || undefined, ...(diagnose.length && { diagnose: diagnose.map((d) => d.file) }) };
  const level = action.kind === 'keepalived.stop' || action.kind === 'vip.release' ? 'warn' : 'info';
  log[level](fields, `${ctx.dryRun ? 'would ' : ''}${what}: ${action.reason}${note ? ` (${note})` : ''}`);
  if (ctx.dryRun) return { target: action.target, kind: action.kind, ok: true, startedAt, finishedAt: Date.now(), dryRun: true };

  for (const d of diagnose) await runDiagnose(d, service!, ctx);
  let r: CommandResult & Partial<Pick<UnitJobResult, 'job' | 'via' | 'note'>>;
  try {
    r = plan ? await runJob(plan, action, ctx) : await run(action, ctx);
  } catch (e) {
    r = commandResult(false, { reason: `internal error: ${(e as Error).message}`, since });
  }
  const done = {
    event: r.ok ? ('action.done' as const) : ('action.failed' as const),
    service,
    action: action.kind,
    // A job planned over the bus that had to fork systemctl (the bus went away meanwhile).
    command: plan && r.via === 'systemctl' ? [ctx.systemctl ?? SYSTEMCTL, plan.op, plan.unit] : command,
    ...(plan && { unit: plan.unit, via: r.via ?? plan.via }),
    ...(r.job !== undefined && { job: r.job }),
    exitCode: r.exitCode,
    durationMs: r.durationMs,
    output: r.output || undefined,
  };
  const late = r.note ? ` (${r.note})` : '';
  if (r.ok) log.info({ ...done, reason: r.reason }, `${what}: done${r.reason ? ` (${r.reason})` : ''}${late}`);
  else log.error({ ...done, reason: r.reason }, `${what}: failed: ${r.reason}${late}`);
  return { target: action.target, kind: action.kind, ok: r.ok, reason: r.reason, startedAt, finishedAt: Date.now() };
}

/** The systemd job an action is, when its config names a unit instead of a command. */
function jobPlan(action: Action, ctx: ActionContext): UnitJobPlan | undefined {
  const { config } = ctx;
  const unit =
    action.kind === 'restart'
      ? config.services[action.target]?.restart?.unit
      : action.kind === 'keepalived.start'
        ? config.keepalived.start.unit
        : action.kind === 'keepalived.stop'
          ? config.keepalived.stop?.unit
          : undefined;
  if (unit === undefined) return undefined;
  const op = action.kind === 'restart' ? 'restart' : action.kind === 'keepalived.start' ? 'start' : 'stop';
  return planUnitJob(op, unit, ctx.jobs, ctx.systemctl);
}

function runJob(plan: UnitJobPlan, action: Action, ctx: ActionContext): Promise<UnitJobResult> {
  const { config } = ctx;
  const timeoutMs = action.kind === 'restart' ? config.services[action.target]!.restart!.timeout : action.kind === 'keepalived.start' ? config.keepalived.start.timeout : config.keepalived.stop!.timeout;
  const name = action.kind === 'restart' ? `${action.target}.restart` : action.kind;
  return runUnitJob(plan, {
    jobs: ctx.jobs,
    timeoutMs,
    stateDir: config.stateDir,
    name,
    onQueued: (job) => ctx.onQueued?.(action, job),
    onSpawn: (pid) => ctx.onSpawn?.(action, pid),
    systemctl: ctx.systemctl,
  });
}

function run(action: Action, ctx: ActionContext): Promise<CommandResult> {
  const { config } = ctx;
  switch (action.kind) {
    case 'restart': {
      const restart = config.services[action.target]?.restart;
      if (!restart?.command) return Promise.resolve(commandResult(false, { reason: 'no restart command configured' }));
      return runCommand({ command: restart.command, timeout: restart.timeout }, { stateDir: config.stateDir, name: `${action.target}.restart`, onSpawn: (pid) => ctx.onSpawn?.(action, pid) });
    }
    case 'keepalived.start':
      return startKeepalived(config.keepalived, config.stateDir);
    case 'keepalived.stop':
      return stopKeepalived(config.keepalived, ctx.keepalivedPids, config.stateDir);
    case 'vip.release':
    case 'vip.reclaim': {
      const since = performance.now();
      const w = writeTrackFile(config.keepalived.trackFile, action.kind === 'vip.release' ? 1 : 0);
      return Promise.resolve(commandResult(w.ok, { reason: w.ok ? undefined : w.reason, since }));
    }
  }
}

interface Diagnose {
  spec: { command: string[]; timeout: number };
  name: string;
  file: string;
}

/**
 * restart.diagnose for a service whose process is alive (a hang, not a crash): each
 * command with "{pid}" replaced by its pid, output kept in stateDir/output/ under a
 * fixed name (the last one per command survives until the next diagnosis).
 */
export function diagnosePlan(action: Action, config: Config): Diagnose[] {
  if (action.kind !== 'restart' || !action.pids?.length) return [];
  const pid = String(action.pids[0]);
  return (config.services[action.target]?.restart?.diagnose ?? []).map((d, i) => {
    const name = `${action.target}.diagnose-${i + 1}`;
    return { spec: { command: d.command.map((w) => w.replaceAll('{pid}', pid)), timeout: d.timeout }, name, file: join(config.stateDir, 'output', `${name}.log`) };
  });
}

/** A diagnosis never stops the restart: its failure is logged, and the restart goes on. */
async function runDiagnose(d: Diagnose, service: string, ctx: ActionContext): Promise<void> {
  let r: CommandResult;
  const since = performance.now();
  try {
    r = await runCommand(d.spec, { stateDir: ctx.config.stateDir, name: d.name });
  } catch (e) {
    r = commandResult(false, { reason: `internal error: ${(e as Error).message}`, since });
  }
  const fields = { event: r.ok ? ('diagnose.done' as const) : ('diagnose.failed' as const), service, command: d.spec.command, file: d.file, exitCode: r.exitCode, durationMs: r.durationMs, reason: r.reason };
  if (r.ok) ctx.log.info(fields, `diagnose ${service}: ${d.spec.command.join(' ')}: done, output in ${d.file}`);
  else ctx.log.warn(fields, `diagnose ${service}: ${d.spec.command.join(' ')}: ${r.reason}; restarting anyway`);
}

function commandOf(action: Action, config: Config): string[] | string | undefined {
  if (action.kind === 'restart') return config.services[action.target]?.restart?.command;
  if (action.kind === 'keepalived.start') return config.keepalived.start.command;
  if (action.kind === 'vip.release' || action.kind === 'vip.reclaim') return `write ${action.kind === 'vip.release' ? 1 : 0} to ${config.keepalived.trackFile}`;
  return config.keepalived.stop?.command ?? 'SIGTERM to keepalived main pid';
}
