// The policy's memory on disk (stateDir/state.json), so `check` runs from cron and a
// restarted daemon carry on where the last one stopped. Written atomically (temp file,
// fsync, rename); a corrupt or truncated file is set aside, never fatal.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { freshMemory, resumeMemory } from '../policy/decide.js';
import { isAlive } from '../probes/proc.js';
import type { Memory, PolicyEvent } from '../policy/types.js';

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
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = stateFile(stateDir);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(memory));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(stateDir, 'r');
    fsyncSync(dir);
    closeSync(dir);
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
