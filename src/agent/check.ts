// `ha-watchdog check`: one pass for cron. Probe, decide, act, then re-check until what
// it started is settled (bounded), save the memory, report, exit 0/1/2/3.
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import type { Logger } from '../log.js';
import type { Action, PolicyEvent } from '../policy/types.js';
import { Agent, logEvent } from './agent.js';
import { acquireLock } from './lock.js';
import { buildReport, EXIT, formatReport, type CheckReport } from './report.js';
import { restoreState } from './state.js';

/** A pass never runs longer than this, so cron runs a minute apart cannot pile up. */
export const CHECK_BUDGET_MS = 45_000;
const RECHECK_EVERY_MS = 1000;

export interface CheckOptions {
  configPath: string;
  dryRun: boolean;
  log: Logger;
}

export async function runCheck(opts: CheckOptions): Promise<CheckReport | { error: string; exitCode: number }> {
  let config;
  try {
    config = loadConfig(opts.configPath);
  } catch (e) {
    return { error: e instanceof ConfigError ? e.message : `${opts.configPath}: ${(e as Error).message}`, exitCode: EXIT.unknown };
  }
  const deadline = Date.now() + CHECK_BUDGET_MS;
  const lock = opts.dryRun ? null : acquireLock(config.stateDir, 'ha-watchdog check');
  const readOnly = lock !== null && !lock.ok;
  const note = lock && !lock.ok ? `read-only: lock ${lock.reason}; not acting` : opts.dryRun ? 'dry run: nothing executed' : undefined;
  if (note && readOnly) opts.log.warn({ event: 'lock.held', reason: note }, note);
  try {
    const restored = restoreState(config);
    const early: PolicyEvent[] = restored.events;
    for (const e of early) logEvent(opts.log, e);
    // Notifications of what this pass saw and did, sent before it exits (no dedupe across runs).
    const alerts = config.notify && !readOnly && !opts.dryRun ? (await import('../alerts/index.js')).createAlerts(config.notify, { log: opts.log, stateDir: config.stateDir }) : undefined;
    const agent = new Agent(config, restored.memory, { log: opts.log, dryRun: opts.dryRun, readOnly, persist: true, saved: restored.saved, onEvent: (e) => alerts?.send(e) });
    const events: PolicyEvent[] = [...early];
    const actions: Action[] = [];
    let scans = 0;
    const poll = async () => {
      const r = await agent.poll();
      events.push(...r.events);
      actions.push(...r.actions);
      scans += r.scans;
      return r;
    };
    let r = await poll();
    // Follow through on what this pass started: wait for the command, then re-check
    // until the service is up, its grace ran out, or the pass budget is spent.
    while (!readOnly && !opts.dryRun && Date.now() < deadline && (agent.busy || settling(agent))) {
      await agent.settle(deadline - Date.now());
      await new Promise((res) => setTimeout(res, RECHECK_EVERY_MS));
      r = await poll();
    }
    await agent.settle(Math.max(0, deadline - Date.now()));
    agent.persist();
    await Promise.all([agent.close(), alerts?.close(Math.max(1000, deadline - Date.now()))]);
    return buildReport(config, agent.memory, r.observations, events, readOnly ? [] : actions, { readOnly, dryRun: opts.dryRun, note, scans });
  } finally {
    if (lock?.ok) lock.release();
  }
}

function settling(agent: Agent): boolean {
  return Object.values(agent.memory.services).some((m) => m.phase !== 'idle') || agent.memory.keepalived.phase !== 'idle';
}

export { formatReport };
