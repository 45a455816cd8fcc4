// A unit's state read from systemd now (not from the watch's cache): its object path
// from LoadUnit, then GetAll of the Unit interface and, for a service, of the Service
// interface. Three round trips to PID 1, on demand only.
import type { SystemBus } from './bus.js';
import { ok, type Result } from './errors.js';
import { getAll, loadUnit, SERVICE_IFACE, UNIT_IFACE } from './manager.js';
import { applyProps, emptyState, type UnitState } from './unit-state.js';

export const isService = (unit: string): boolean => unit.endsWith('.service');

/** The state of the unit at `path` (its object path), on top of `base`. */
export async function readProps(bus: SystemBus, unit: string, path: string, base: UnitState, op: string): Promise<Result<UnitState>> {
  const u = await getAll(bus, path, UNIT_IFACE, { op, unit });
  if (!u.ok) return u;
  let state = applyProps(base, u.value);
  if (isService(unit)) {
    const s = await getAll(bus, path, SERVICE_IFACE, { op, unit });
    if (!s.ok) return s;
    state = applyProps(state, s.value);
  }
  return ok(state);
}

export async function readUnit(bus: SystemBus, unit: string, op = 'read'): Promise<Result<UnitState & { path: string }>> {
  const p = await loadUnit(bus, unit, op);
  if (!p.ok) return p;
  const r = await readProps(bus, unit, p.value, emptyState(unit), op);
  return r.ok ? ok({ ...r.value, path: p.value }) : r;
}
