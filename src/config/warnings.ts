// Things a valid config may still get wrong on this host: printed by `validate` and
// logged at start, never fatal (the host may be prepared after the config is written).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { PIDWAIT, SETPRIV } from '../os/exit-wait.js';
import type { ParsedConfig } from './schema.js';

/** The helpers the daemon's pid watch runs (paths injectable for tests). */
export interface WarningHost {
  pidwait?: string;
  setpriv?: string;
}

export interface ConfigWarning {
  /** Key path, e.g. ["keepalived", "trackFile"]. */
  path: string[];
  message: string;
}

export function configWarnings(c: ParsedConfig, host: WarningHost = {}): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  // Processes that are not units are watched by the kernel's notice through pidwait
  // (src/os/exit-wait.ts); without it, by a 250 ms timer: it works, at a price.
  const services = Object.entries(c.services).filter(([, s]) => s.process && !s.process.unit).map(([n]) => n);
  const watched = c.keepalived.process.unit ? services : [...services, 'keepalived'];
  const missing = [host.pidwait ?? PIDWAIT, host.setpriv ?? SETPRIV].filter((f) => !can(f, constants.X_OK));
  if (watched.length && missing.length) {
    out.push({
      path: services.length ? ['services', services[0]!, 'process'] : ['keepalived', 'process'],
      message: `${missing.join(' and ')} not found (procps >= 4, util-linux): the processes of ${watched.join(', ')} will be watched by reading /proc every 250 ms instead of by the kernel's exit notice`,
    });
  }
  if (c.keepalived.control === 'track-file') {
    const problem = unwritable(c.keepalived.trackFile);
    if (problem) out.push({ path: ['keepalived', 'trackFile'], message: `${problem}; the agent could not move the VIP (keepalived.control is track-file)` });
  }
  if (c.failover.order === 'handover-first' && !c.peer) {
    out.push({ path: ['failover', 'order'], message: 'handover-first hands the VIP over only to a peer known to be healthy; without `peer` it always restarts first' });
  }
  if (c.peer && !c.metrics) {
    out.push({ path: ['peer'], message: 'this host asks its peer, but serves no /healthz itself (no `metrics.listen`), so the peer cannot ask back' });
  }
  return out;
}

/** Why `file` cannot be written (as the current user), or null if it can. */
function unwritable(file: string): string | null {
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) return `${file} is a directory, expected a file`;
    return can(file, constants.W_OK) ? null : `${file} is not writable`;
  }
  // Missing: the agent creates it (and its directory); the nearest existing directory must be writable.
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) return `${file} cannot be created: ${dir} is not a directory`;
  return can(dir, constants.W_OK) ? null : `${file} does not exist and ${dir} is not writable`;
}

/** Can the current user access path in this mode (W_OK, X_OK)? */
function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
