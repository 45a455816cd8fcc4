// What the agent needs of a unit, as systemd publishes it on its unit object: the
// org.freedesktop.systemd1.Unit states and, for a service, the main process and how it
// last ended. Filled from GetAll, then kept current from PropertiesChanged (which
// carries only what changed, per interface). Pure.

export interface UnitState {
  unit: string;
  /** loaded, not-found, masked, error, ... */
  loadState: string;
  /** active, reloading, inactive, failed, activating, deactivating */
  activeState: string;
  /** running, dead, failed, start-pre, auto-restart, stop-sigterm, ... */
  subState: string;
  /** 0 when there is none (and always for a unit that is not a service). */
  mainPid: number;
  /** How the main process last ended: 1 exited, 2 killed, 3 dumped core; 0 not yet. */
  execMainCode: number;
  /** Its exit status, or the signal number when killed/dumped. */
  execMainStatus: number;
  /** The service's Result: success, exit-code, signal, core-dump, timeout, watchdog, ... */
  result: string;
  /** The unit's Restart= setting: no, on-failure, always, ... ('' for a non-service). */
  restart: string;
  /** Restarts systemd made by itself (Restart=) since the unit was last started by hand. */
  nRestarts: number;
  /** CLOCK_MONOTONIC µs of the main process's last exit (0: none): tells a death from a pid swap. */
  execMainExitUsec: number;
}

export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

export function emptyState(unit: string): UnitState {
  return { unit, loadState: '', activeState: '', subState: '', mainPid: 0, execMainCode: 0, execMainStatus: 0, result: '', restart: '', nRestarts: 0, execMainExitUsec: 0 };
}

// D-Bus property -> field. The same names on the Unit and the Service interface never clash.
const FIELDS = {
  LoadState: 'loadState',
  ActiveState: 'activeState',
  SubState: 'subState',
  MainPID: 'mainPid',
  ExecMainCode: 'execMainCode',
  ExecMainStatus: 'execMainStatus',
  Result: 'result',
  Restart: 'restart',
  NRestarts: 'nRestarts',
  ExecMainExitTimestampMonotonic: 'execMainExitUsec',
} as const satisfies Record<string, keyof UnitState>;

/** The state with the given (unwrapped) properties applied; unknown ones ignored. */
export function applyProps(state: UnitState, props: Record<string, unknown>): UnitState {
  const next = { ...state };
  for (const [prop, field] of Object.entries(FIELDS)) {
    const v = props[prop];
    if (v === undefined) continue;
    if (typeof next[field] === 'number') {
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n === 'number' && Number.isFinite(n)) (next as Record<string, unknown>)[field] = n;
    } else if (typeof v === 'string') {
      (next as Record<string, unknown>)[field] = v;
    }
  }
  return next;
}

/** True when any of the D-Bus property names is one this state follows. */
export function followsAny(props: Record<string, unknown>): boolean {
  return Object.keys(props).some((k) => k in FIELDS);
}

/** "failed (failed), main pid 0, killed by signal 9, result signal" for a log line. */
export function describeState(s: UnitState): string {
  const how =
    s.execMainCode === CLD_EXITED
      ? `exited ${s.execMainStatus}`
      : s.execMainCode === CLD_KILLED || s.execMainCode === CLD_DUMPED
        ? `killed by signal ${s.execMainStatus}${s.execMainCode === CLD_DUMPED ? ' (core)' : ''}`
        : 'no exit yet';
  return `${s.activeState} (${s.subState}), main pid ${s.mainPid}, last ${how}, result ${s.result || '-'}, Restart=${s.restart || '-'}`;
}
