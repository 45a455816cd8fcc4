// The policy's memory on disk (stateDir/state.json), so `check` runs from cron and a
// restarted daemon carry on where the last one stopped. Written atomically (an
// exclusive, no-follow temp file, fsync, rename: src/os/safe-write.ts); read without
// following a symlink, only if it is a regular file of root's within 4 MiB, and checked
// against its schema. Anything else is set aside (state.json.corrupt-<ms>), never fatal,
// and the log says why in a line that never quotes the file.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { errnoReason, readFileSafe, safeDir, UnsafePathError, writeFileAtomic } from '../os/safe-write.js';
import { freshMemory, resumeMemory } from '../policy/decide.js';
import { isAlive } from '../os/proc.js';
import type { Memory, PolicyEvent } from '../policy/types.js';
import type { KnownPids } from '../probes/index.js';
import { KnownPidsSchema, MemorySchema, shapeError } from './state-schema.js';

export const stateFile = (stateDir: string) => join(stateDir, 'state.json');

/** The memory is a few KB; anything near this was not written by the agent. */
export const MAX_STATE_BYTES = 4 * 1024 * 1024;
export const MAX_PIDS_BYTES = 1024 * 1024;

export function loadState(stateDir: string, now = Date.now()): { memory: Memory; events: PolicyEvent[] } {
  const file = stateFile(stateDir);
  // A stateDir another user can write to is not read from (nor is anything set aside in it).
  try {
    if (!safeDir(stateDir)) return { memory: freshMemory(), events: [] };
  } catch (e) {
    const why = e instanceof UnsafePathError ? e.message : `${stateDir}: ${errnoReason(e)}`;
    return { memory: freshMemory(), events: [{ level: 'warn', event: 'state.unreadable', reason: `${why}; not reading ${file}; starting fresh` }] };
  }
  const r = readFileSafe(file, { maxBytes: MAX_STATE_BYTES });
  if (!r.ok && r.kind === 'missing') return { memory: freshMemory(), events: [] };
  if (!r.ok && r.kind === 'error') {
    return { memory: freshMemory(), events: [{ level: 'warn', event: 'state.unreadable', reason: `${file}: ${r.reason}; starting fresh` }] };
  }
  let problem: string;
  if (r.ok) {
    const parsed = parse(r.text);
    if (parsed.ok) return { memory: parsed.memory, events: [] };
    problem = parsed.reason;
  } else problem = r.reason;
  // rename moves the directory entry (a symlink itself, never its target).
  const aside = `${file}.corrupt-${now}`;
  let moved = true;
  try {
    renameSync(file, aside);
  } catch {
    moved = false;
  }
  return {
    memory: freshMemory(),
    events: [{ level: 'warn', event: 'state.corrupt', reason: `${file}: ${problem}; ${moved ? `set aside as ${aside}` : 'could not set it aside'}; starting fresh` }],
  };
}

/** The memory in `text`, or why not (the shape error only, never the content). */
export function parse(text: string): { ok: true; memory: Memory } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text ("Unexpected token 'r', "root:$y$..." is not valid JSON").
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    return { ok: false, reason: text.trim() === '' ? 'empty' : `not JSON${at !== undefined ? ` (at byte ${at})` : ''}` };
  }
  const v = MemorySchema.safeParse(raw);
  if (!v.success) return { ok: false, reason: shapeError(v.error) };
  return { ok: true, memory: v.data as Memory };
}

export function saveState(stateDir: string, memory: Memory): void {
  writeFileAtomic(stateFile(stateDir), JSON.stringify(memory));
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
    if (!safeDir(stateDir)) return {};
  } catch {
    return {};
  }
  const r = readFileSafe(pidsFile(stateDir), { maxBytes: MAX_PIDS_BYTES });
  if (!r.ok) return {};
  try {
    const v = KnownPidsSchema.safeParse(JSON.parse(r.text));
    return v.success ? (v.data as KnownPids) : {};
  } catch {
    return {};
  }
}

export function savePids(stateDir: string, pids: KnownPids): void {
  writeFileAtomic(pidsFile(stateDir), JSON.stringify(pids));
}
