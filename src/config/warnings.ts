// Things a valid config may still get wrong on this host: printed by `validate` and
// logged at start, never fatal (the host may be prepared after the config is written).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ParsedConfig } from './schema.js';

export interface ConfigWarning {
  /** Key path, e.g. ["keepalived", "trackFile"]. */
  path: string[];
  message: string;
}

export function configWarnings(c: ParsedConfig): ConfigWarning[] {
  const out: ConfigWarning[] = [];
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
    return writable(file) ? null : `${file} is not writable`;
  }
  // Missing: the agent creates it (and its directory); the nearest existing directory must be writable.
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) return `${file} cannot be created: ${dir} is not a directory`;
  return writable(dir) ? null : `${file} does not exist and ${dir} is not writable`;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
