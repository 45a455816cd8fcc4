// The policy's memory on disk (stateDir/state.json), so `check` runs from cron and a
// restarted daemon carry on where the last one stopped. Written atomically (temp file,
// fsync, rename); a corrupt or truncated file is set aside, never fatal.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { freshMemory, resumeMemory } from '../policy/decide.js';
import { isAlive } from '../probes/proc.js';
import type { Memory, PolicyEvent } from '../policy/types.js';
import type { KnownPids } from '../probes/index.js';

export const stateFile = (stateDir: string) => join(stateDir, 'state.json');

export function loadState(stateDir: string, now = Date.now()): { memory: Memory; events: PolicyEvent[] } {
  const file = stateFile(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { memory: freshMemory(), events: [] };
    return { memory: freshMemory(), events: [{ level: 'warn', event: 'state.unreadable', reason: `${file}: ${(e as Error).message}; starting fresh` }] };
  }
  try {
    const memory = JSON.parse(text) as Memory;
    if (memory?.version !== 1 || typeof memory.services !== 'object' || typeof memory.keepalived !== 'object') throw new Error('not a version-1 state');
    return { memory, events: [] };
  } catch (e) {
    const aside = `${file}.corrupt-${now}`;
    let moved = true;
    try {
      renameSync(file, aside);
    } catch {
      moved = false;
    }
    return {
      memory: freshMemory(),
      events: [{ level: 'warn', event: 'state.corrupt', reason: `${file}: ${(e as Error).message}; ${moved ? `set aside as ${aside}` : 'could not set it aside'}; starting fresh` }],
    };
  }
}

export function saveState(stateDir: string, memory: Memory): void {
  writeAtomically(stateDir, stateFile(stateDir), JSON.stringify(memory));
}

/** Temp file, fsync, rename: a crash leaves the old file or the new one, never half of one. */
export function writeAtomically(dir: string, file: string, text: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const d = openSync(dir, 'r');
    fsyncSync(d);
    closeSync(d);
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

/** The memory to start from: the saved state, with any action that was in flight resolved. */
export function restoreState(config: Config, now = Date.now()): { memory: Memory; events: PolicyEvent[] } {
  const loaded = loadState(config.stateDir, now);
  const resumed = resumeMemory(loaded.memory, config, now, isAlive);
  return { memory: resumed.memory, events: [...loaded.events, ...resumed.events] };
}

// The pids the process probes last found (stateDir/pids.json): a `check` from cron
// confirms them through /proc instead of scanning the process table with ps. Only a
// cache: anything wrong with it means one scan more, never a wrong answer.
export const pidsFile = (stateDir: string) => join(stateDir, 'pids.json');

export function loadPids(stateDir: string): KnownPids {
  try {
    const v = JSON.parse(readFileSync(pidsFile(stateDir), 'utf8')) as KnownPids;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

export function savePids(stateDir: string, pids: KnownPids): void {
  writeAtomically(stateDir, pidsFile(stateDir), JSON.stringify(pids));
}
