// Errors of the D-Bus systemd client are values, never throws: the agent must go on
// (falling back to its pid watch and systemctl) whatever the bus does. Each names the
// operation, the unit when there is one, what was expected and what was seen.

export interface SystemdError {
  /** connect, subscribe, watch, read, start, stop, restart, call Manager.LoadUnit, ... */
  op: string;
  unit?: string;
  expected: string;
  seen: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: SystemdError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = (error: SystemdError): { ok: false; error: SystemdError } => ({ ok: false, error });

/** One line for a log: "restart tomcat10.service: expected job result done, saw failed". */
export function describeError(e: SystemdError): string {
  return `${e.op}${e.unit ? ` ${e.unit}` : ''}: expected ${e.expected}, saw ${e.seen}`;
}

/** The message of anything thrown by the D-Bus library (its DBusError has a name). */
export function thrownText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { type?: unknown; text?: unknown; message?: unknown };
    if (typeof e.type === 'string') return `${e.type}${typeof e.text === 'string' ? `: ${e.text}` : ''}`;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
