// The few calls to systemd's Manager (PID 1 on the bus as org.freedesktop.systemd1)
// and to its unit objects that the watch and the jobs need. Plain functions over a
// SystemBus; each result is a value naming the unit and the call.
import type { Context, SystemBus } from './bus.js';
import { fail, ok, type Result } from './errors.js';

export const SYSTEMD = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
export const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
export const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
export const PROPS_IFACE = 'org.freedesktop.DBus.Properties';

const manager = (member: string, signature = '', body: unknown[] = []) => ({
  destination: SYSTEMD,
  path: MANAGER_PATH,
  interface: MANAGER_IFACE,
  member,
  signature,
  body,
});

/**
 * Without a subscriber systemd sends no unit or job signals at all. One Subscribe per
 * connection; systemd drops it by itself when the connection goes.
 */
export async function subscribe(bus: SystemBus): Promise<Result<void>> {
  // Only the Manager signals the watch and the jobs use: the others (UnitNew, JobNew,
  // ...) fire for every unit and job on the host and would wake the agent for nothing.
  for (const member of ['JobRemoved', 'Reloading']) {
    const rule = `type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='${member}'`;
    const m = await bus.addMatch(rule, { op: 'subscribe' });
    if (!m.ok) return m;
  }
  const r = await bus.call(manager('Subscribe'), { op: 'subscribe' });
  return r.ok ? ok(undefined) : r;
}

/** The unit's object path; LoadUnit (not GetUnit) so that an inactive unit has one too. */
export async function loadUnit(bus: SystemBus, unit: string, op: string): Promise<Result<string>> {
  const r = await bus.call(manager('LoadUnit', 's', [unit]), { op, unit });
  if (!r.ok) return r;
  const path = r.value[0];
  if (typeof path !== 'string') return fail({ op, unit, expected: 'an object path from LoadUnit', seen: JSON.stringify(r.value) });
  return ok(path);
}

/** Properties.GetAll of one interface of an object, variants unwrapped. */
export async function getAll(bus: SystemBus, path: string, iface: string, ctx: Context): Promise<Result<Record<string, unknown>>> {
  const r = await bus.call({ destination: SYSTEMD, path, interface: PROPS_IFACE, member: 'GetAll', signature: 's', body: [iface] }, ctx);
  if (!r.ok) return r;
  return ok(unwrap(r.value[0]));
}

/** The match rule for one unit object's PropertiesChanged (and nothing of other units). */
export function propertiesRule(path: string): string {
  return `type='signal',sender='${SYSTEMD}',path='${path}',interface='${PROPS_IFACE}',member='PropertiesChanged'`;
}

/** A{sv} as the library gives it (values are Variant objects) to plain values. */
export function unwrap(dict: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!dict || typeof dict !== 'object') return out;
  for (const [k, v] of Object.entries(dict as Record<string, unknown>)) {
    out[k] = v && typeof v === 'object' && 'value' in v && 'signature' in v ? (v as { value: unknown }).value : v;
  }
  return out;
}

export function managerCall(member: string, signature: string, body: unknown[], timeoutMs?: number) {
  return { ...manager(member, signature, body), timeoutMs };
}
