// The pids the process probes last found (stateDir/pids.json): a `check` from cron
// confirms them through /proc instead of scanning the process table with ps. Only a
// cache: anything wrong with it means one scan more, never a wrong answer. Its shape is
// checked here by hand (no schema library: the daemon reads it too, and keeps zod out).
import { join } from 'node:path';
import { readFileSafe, safeDir, writeFileAtomic } from '../os/safe-write.js';
import type { KnownPids } from '../probes/index.js';

export const pidsFile = (stateDir: string) => join(stateDir, 'pids.json');

export const MAX_PIDS_BYTES = 1024 * 1024;
const MAX_MATCH = 64 * 1024;
const MAX_PIDS = 4096;
/** Service names are config keys; "__proto__" and friends would be trouble as object keys. */
const BAD_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function loadPids(stateDir: string): KnownPids {
  try {
    if (!safeDir(stateDir)) return {};
  } catch {
    return {};
  }
  const r = readFileSafe(pidsFile(stateDir), { maxBytes: MAX_PIDS_BYTES });
  if (!r.ok) return {};
  try {
    return knownPids(JSON.parse(r.text)) ?? {};
  } catch {
    return {};
  }
}

/** The cache as KnownPids (unknown keys dropped), or undefined if anything in it has another shape. */
export function knownPids(raw: unknown): KnownPids | undefined {
  if (!isObject(raw)) return undefined;
  const out: KnownPids = {};
  for (const [name, set] of Object.entries(raw)) {
    if (name.length === 0 || name.length > 256 || BAD_NAMES.has(name)) return undefined;
    if (!isObject(set) || typeof set.match !== 'string' || set.match.length > MAX_MATCH) return undefined;
    if (!Array.isArray(set.pids) || set.pids.length > MAX_PIDS) return undefined;
    const pids = [];
    for (const p of set.pids as unknown[]) {
      if (!isObject(p) || !Number.isInteger(p.pid) || typeof p.startTime !== 'number' || !Number.isFinite(p.startTime)) return undefined;
      if (p.child !== undefined && p.child !== true) return undefined;
      pids.push({ pid: p.pid as number, startTime: p.startTime, ...(p.child === true && { child: true as const }) });
    }
    out[name] = { match: set.match, pids };
  }
  return out;
}

export function savePids(stateDir: string, pids: KnownPids): void {
  writeFileAtomic(pidsFile(stateDir), JSON.stringify(pids));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
