// The daemon's use of the unit watch: for every service whose processes are a
// systemd unit (`process.unit`), systemd's word that the main process died (the
// instant systemd reaps it, no polling) and whether systemd brings it back by itself.
// Without a system bus (no systemd, a container) the daemon goes on with the pid watch.
import { existsSync } from 'node:fs';
// Types only at the top: the D-Bus client is loaded when there is a unit to watch.
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
  close(): Promise<void>;
}

export interface NoticeHandlers {
  death(service: string, d: UnitDeath): void;
  /** The bus could not be used or was lost: said once, the pid watch covers the services. */
  problem(reason: string): void;
}

/** Starts watching the units of `units` (service -> unit); undefined when there is nothing to watch or no bus. */
export async function watchUnits(units: Record<string, string>, on: NoticeHandlers, socket = '/run/dbus/system_bus_socket'): Promise<UnitNotices | undefined> {
  if (!Object.keys(units).length) return undefined;
  if (!existsSync(socket)) {
    on.problem(`no system bus at ${socket} (no systemd here?); the pid watch covers ${Object.keys(units).join(', ')}`);
    return undefined;
  }
  // Loaded only here: a host without units never pays for the D-Bus client.
  const { UnitWatch } = await import('./units.js');
  const { systemdRestarts } = await import('./restart.js');
  const opened = await UnitWatch.open({ socketPath: socket });
  if (!opened.ok) {
    on.problem(`cannot use systemd over D-Bus (${describeError(opened.error)}); the pid watch covers ${Object.keys(units).join(', ')}`);
    return undefined;
  }
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
    on.problem(`the D-Bus connection to systemd was lost (${describeError(e)}); the pid watch covers ${Object.keys(units).join(', ')}`);
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
    close: () => watch.close(),
  };
}
