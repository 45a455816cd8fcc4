// The daemon's use of the unit watch: for every service whose processes are a
// systemd unit (`process.unit`), systemd's word that the main process died (the
// instant systemd reaps it, no polling) and whether systemd brings it back by itself.
// Without a system bus (no systemd, a container) the daemon goes on with the pid watch.
// The same connection runs the actions' systemd jobs (`restart.unit`, keepalived's
// `start.unit`/`stop.unit`); without it they fork systemctl (src/actions/unit-job.ts).
import { existsSync } from 'node:fs';
// Types only at the top: the D-Bus client is loaded when there is a unit to watch.
import type { UnitJobs } from './jobs.js';
import type { UnitDeath } from './units.js';
import type { UnitState } from './unit-state.js';
import { describeError } from './errors.js';

/** What systemd is doing about a unit, for the policy (ServiceObservation.systemd). */
export interface SystemdView {
  /** systemd restarts or starts it by itself (Restart=, auto-restart, activating): the agent leaves it alone. */
  restarting: boolean;
  /** The unit has a main process (systemd started it; it may still be starting up). */
  running: boolean;
  reason: string;
}

export interface UnitNotices {
  /** The services whose deaths systemd reports (the pid watch can skip their pids). */
  readonly services: ReadonlySet<string>;
  view(service: string): SystemdView | undefined;
  /** systemd jobs over the same connection; unavailable() says why not when there is none. */
  readonly jobs: UnitJobs;
  close(): Promise<void>;
}

export interface NoticeHandlers {
  death(service: string, d: UnitDeath): void;
  /** The bus could not be used or was lost: said once, the pid watch covers the services. */
  problem(reason: string): void;
}

export interface WatchOptions {
  /**
   * The config has actions on units (`restart.unit`, ...): the connection is opened for
   * their jobs too. A function: asked again when the bus is lost (a reload may have added some).
   */
  jobs?: boolean | (() => boolean);
  socket?: string;
}

/**
 * Starts watching the units of `units` (service -> unit), and opens the connection for
 * jobs when asked; undefined when there is neither. No bus: the problem is said once,
 * and the jobs say why they cannot run (their actions fork systemctl).
 */
export async function watchUnits(units: Record<string, string>, on: NoticeHandlers, opts: WatchOptions = {}): Promise<UnitNotices | undefined> {
  const socket = opts.socket ?? '/run/dbus/system_bus_socket';
  const names = Object.keys(units);
  const jobs = () => (typeof opts.jobs === 'function' ? opts.jobs() : (opts.jobs ?? false));
  if (!names.length && !jobs()) return undefined;
  // What goes without the bus, for the line that says so.
  const without = () => [names.length ? `the pid watch covers ${names.join(', ')}` : '', jobs() ? 'unit jobs (restart.unit, keepalived start/stop unit) fork systemctl' : ''].filter(Boolean).join('; ');
  let gone: string | undefined;
  const none = (why: string): UnitNotices => {
    gone = why;
    on.problem(`${why}; ${without()}`);
    return { services: new Set(), view: () => undefined, jobs: { unavailable: () => gone, run: () => Promise.reject(new Error(`no D-Bus connection: ${gone}`)) }, close: async () => {} };
  };
  if (!existsSync(socket)) return none(`no system bus at ${socket} (no systemd here?)`);
  // Loaded only here: a host without units never pays for the D-Bus client.
  const { UnitWatch } = await import('./units.js');
  const { systemdRestarts } = await import('./restart.js');
  const opened = await UnitWatch.open({ socketPath: socket });
  if (!opened.ok) return none(`cannot use systemd over D-Bus (${describeError(opened.error)})`);
  const watch = opened.value;
  const byUnit = new Map(Object.entries(units).map(([service, unit]) => [unit, service]));
  const states = new Map<string, UnitState>();
  const services = new Set<string>();
  for (const [service, unit] of Object.entries(units)) {
    const r = await watch.watch(unit);
    if (r.ok) {
      states.set(unit, r.value);
      services.add(service);
    } else on.problem(`systemd: cannot watch ${unit} (${describeError(r.error)}); the pid watch covers ${service}`);
  }
  watch.on('change', (c) => states.set(c.unit, c.state));
  watch.on('death', (d) => {
    states.set(d.unit, d.state);
    const service = byUnit.get(d.unit);
    if (service) on.death(service, d);
  });
  watch.on('lost', (e) => {
    services.clear();
    gone = `the D-Bus connection to systemd was lost (${describeError(e)})`;
    on.problem(`${gone}; ${without()}`);
  });
  return {
    services,
    view(service) {
      const unit = units[service];
      const s = unit !== undefined && services.has(service) ? states.get(unit) : undefined;
      if (!s) return undefined;
      const running = s.mainPid !== 0;
      if (s.activeState === 'activating' || s.activeState === 'reloading') return { restarting: true, running, reason: `${unit} is ${s.activeState} (${s.subState})` };
      const j = systemdRestarts(s);
      return { restarting: j.bySystemd, running, reason: `${unit}: ${j.why}` };
    },
    jobs: {
      unavailable: () => gone ?? (watch.closed ? 'the D-Bus connection to systemd is closed' : undefined),
      run: (op, unit, o) => watch[op](unit, o),
    },
    close: () => watch.close(),
  };
}
