// What goes over the control socket (stateDir/control.sock) between the CLI and the
// daemon: one JSON request line, one JSON response line, then the connection ends.
// Shared by both sides so they cannot drift apart.
import { join } from 'node:path';

export const controlSocket = (stateDir: string) => join(stateDir, 'control.sock');

/** A request line longer than this is refused: nothing legitimate comes close. */
export const MAX_REQUEST_BYTES = 4096;
/** A response (the status report) longer than this is refused by the client. */
export const MAX_RESPONSE_BYTES = 1 << 20;
/** Each side gives the other this long to send its line. */
export const CONTROL_TIMEOUT_MS = 5000;
/** `pause --for` at most 30 days: a longer pause is a pause without `--for`. */
export const MAX_PAUSE_MS = 30 * 24 * 3_600_000;
export const MAX_REASON_CHARS = 200;
const MAX_BY_CHARS = 64;
/** Linux's sun_path holds 108 bytes with the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export type ControlRequest =
  | { op: 'status' }
  /** `by`: who asked, as the CLI can tell (its user, or $SUDO_USER); for the log only. */
  | { op: 'pause'; forMs?: number; reason?: string; by?: string }
  | { op: 'resume'; by?: string }
  /** A restart attempt of `service` now, backoff and budget waived once. */
  | { op: 'retry'; service: string; by?: string }
  /** Planned work: the VIP to the (healthy) peer and held there until takeback. */
  | { op: 'switchover'; reason?: string; by?: string }
  | { op: 'takeback'; by?: string };

export type ControlResponse = { ok: true; [field: string]: unknown } | { ok: false; error: string };

/** A request line, checked field by field; the error says what was wrong. */
export function parseRequest(line: string): ControlRequest | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { error: `request is not JSON: ${(e as Error).message}` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'request must be a JSON object with an "op"' };
  const r = v as Record<string, unknown>;
  switch (r.op) {
    case 'status':
      return { op: 'status' };
    case 'pause': {
      const forMs = r.forMs;
      if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isInteger(forMs) || forMs <= 0 || forMs > MAX_PAUSE_MS)) {
        return { error: `forMs must be a whole number of milliseconds from 1 to ${MAX_PAUSE_MS} (30 days), got ${JSON.stringify(forMs)}` };
      }
      const reason = text(r.reason, 'reason', MAX_REASON_CHARS);
      if (typeof reason === 'object') return reason;
      const by = text(r.by, 'by', MAX_BY_CHARS);
      if (typeof by === 'object') return by;
      return { op: 'pause', ...(forMs !== undefined && { forMs }), ...(reason !== undefined && { reason }), ...(by !== undefined && { by }) };
    }
    case 'resume': {
      const by = text(r.by, 'by', MAX_BY_CHARS);
      if (typeof by === 'object') return by;
      return { op: 'resume', ...(by !== undefined && { by }) };
    }
    case 'retry': {
      if (typeof r.service !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(r.service)) return { error: `service must be a service name (letters, digits, "_", "-", "."), got ${JSON.stringify(r.service)}` };
      const by = text(r.by, 'by', MAX_BY_CHARS);
      if (typeof by === 'object') return by;
      return { op: 'retry', service: r.service, ...(by !== undefined && { by }) };
    }
    case 'switchover':
    case 'takeback': {
      const reason = r.op === 'switchover' ? text(r.reason, 'reason', MAX_REASON_CHARS) : undefined;
      if (typeof reason === 'object') return reason;
      const by = text(r.by, 'by', MAX_BY_CHARS);
      if (typeof by === 'object') return by;
      return { op: r.op, ...(reason !== undefined && { reason }), ...(by !== undefined && { by }) };
    }
    default:
      return { error: `unknown op ${JSON.stringify(r.op)}; expected "status", "pause", "resume", "retry", "switchover" or "takeback"` };
  }
}

// Free text ends up in the log and in a table: control characters and invisible format
// characters (bidi overrides such as U+202E, zero-width joiners) become spaces, so a
// reason cannot reorder or hide what `status` shows.
function text(v: unknown, name: string, max: number): string | undefined | { error: string } {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return { error: `${name} must be a string, got ${typeof v}` };
  if (v.length > max) return { error: `${name} is longer than ${max} characters` };
  const clean = v.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim();
  return clean === '' ? undefined : clean;
}
