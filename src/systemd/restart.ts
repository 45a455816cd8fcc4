// Is systemd bringing this unit back by itself? Then the agent must not restart it
// too: two supervisors racing restart it twice (or stop what the other just started).
// The agent only records it, and watches the restart's outcome. Pure.
//
// SubState auto-restart is systemd saying so. Before that state has arrived (the
// Service interface's PropertiesChanged with MainPID 0 comes just before the Unit
// one), the unit's Restart= and how the main process ended decide, as systemd's own
// table does (systemd.service(5), "Restart="). Not modelled: SuccessExitStatus=,
// RestartPreventExitStatus=, RestartForceExitStatus= (they change which exits count).
import { CLD_DUMPED, CLD_EXITED, CLD_KILLED, type UnitState } from './unit-state.js';

export interface RestartJudgement {
  bySystemd: boolean;
  why: string;
}

// SIGHUP, SIGINT, SIGPIPE, SIGTERM: "clean" signals for systemd.
const CLEAN_SIGNALS = new Set([1, 2, 13, 15]);

type Ending = 'clean' | 'unclean-exit' | 'unclean-signal' | 'timeout' | 'watchdog';

// Which Restart= values restart on which ending.
const RESTARTS: Record<Ending, readonly string[]> = {
  clean: ['always', 'on-success'],
  'unclean-exit': ['always', 'on-failure'],
  'unclean-signal': ['always', 'on-failure', 'on-abnormal', 'on-abort'],
  timeout: ['always', 'on-failure', 'on-abnormal'],
  watchdog: ['always', 'on-failure', 'on-abnormal', 'on-watchdog'],
};

function ending(s: UnitState): Ending | undefined {
  if (s.result === 'timeout') return 'timeout';
  if (s.result === 'watchdog') return 'watchdog';
  if (s.execMainCode === CLD_EXITED) return s.execMainStatus === 0 ? 'clean' : 'unclean-exit';
  if (s.execMainCode === CLD_KILLED || s.execMainCode === CLD_DUMPED) {
    return s.execMainCode === CLD_KILLED && CLEAN_SIGNALS.has(s.execMainStatus) ? 'clean' : 'unclean-signal';
  }
  return undefined;
}

// systemd >= 254 names the moment between the death and auto-restart (PR 26971).
const BEFORE_AUTO_RESTART = new Set(['failed-before-auto-restart', 'dead-before-auto-restart']);

function covers(s: UnitState): { e: Ending | undefined; yes: boolean } {
  const e = ending(s);
  return { e, yes: e !== undefined && RESTARTS[e].includes(s.restart) };
}

/**
 * A failed (or dead) unit whose Restart= covers how it ended may be only passing
 * through: systemd before 254 sets failed, signals it "so that software can take
 * notice", then auto-restart in the same step (Debian 12 ships 252). Only a fresh read
 * tells; UnitWatch does one before telling anyone.
 */
export function mayBePassingThrough(s: UnitState): boolean {
  if (s.mainPid !== 0 || s.result === 'start-limit-hit') return false;
  if (!((s.activeState === 'failed' && s.subState === 'failed') || (s.activeState === 'inactive' && s.subState === 'dead'))) return false;
  return covers(s).yes;
}

export function systemdRestarts(s: UnitState): RestartJudgement {
  if (s.subState === 'auto-restart') return { bySystemd: true, why: 'SubState auto-restart: systemd starts it again after RestartSec=' };
  if (BEFORE_AUTO_RESTART.has(s.subState)) return { bySystemd: true, why: `SubState ${s.subState}: systemd starts it again after RestartSec=` };
  if (s.mainPid !== 0) return { bySystemd: false, why: `main process ${s.mainPid} is running` };
  if (!s.restart || s.restart === 'no') return { bySystemd: false, why: `Restart=${s.restart || 'no'}` };
  // Settled (UnitWatch re-reads one that may be passing through): had systemd meant to
  // restart, the unit would be in auto-restart.
  if (s.activeState === 'inactive' || s.activeState === 'failed') return { bySystemd: false, why: `${s.activeState} (${s.subState}) without auto-restart` };
  if (s.result === 'start-limit-hit') return { bySystemd: false, why: 'start limit hit: systemd gave up' };
  const { e, yes } = covers(s);
  if (!e) return { bySystemd: false, why: 'main process gone, no exit status seen yet' };
  return { bySystemd: yes, why: `Restart=${s.restart} ${yes ? 'covers' : 'does not cover'} this end: ${e} (code ${s.execMainCode}, status ${s.execMainStatus}, result ${s.result || '-'})` };
}
