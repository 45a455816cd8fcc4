// The policy's memory on disk (stateDir/state.json), so `check` runs from cron and a
// restarted daemon carry on where the last one stopped. Written atomically
// (state-save.ts); read without following a symlink, only if it is a regular file of
// root's within 4 MiB, and checked against its schema. Anything else is set aside
// (state.json.corrupt-<ms>), never fatal, and the log says why in a line that never
// quotes the file. The daemon reads it through a helper process (state-apart.ts), so
// the schema (zod) stays out of the long-running process.
import { renameSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { errnoReason, readFileSafe, safeDir, UnsafePathError } from '../os/safe-write.js';
import { freshMemory, resumeMemory } from '../policy/decide.js';
import { isAlive } from '../os/proc.js';
import type { Memory, PolicyEvent } from '../policy/types.js';
import { MemorySchema, shapeError } from './state-schema.js';
import { MAX_STATE_BYTES, stateFile } from './state-save.js';

export { MAX_STATE_BYTES, saveState, stateFile } from './state-save.js';
export { loadPids, MAX_PIDS_BYTES, pidsFile, savePids } from './pids-file.js';

/** `text`: the file as read, when it was read as it is (so a writer can tell it holds this memory already). */
export function loadState(stateDir: string, now = Date.now()): { memory: Memory; events: PolicyEvent[]; text?: string } {
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
    if (parsed.ok) return { memory: parsed.memory, events: [], text: r.text };
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

/** The memory to start from: the saved state, with any action that was in flight resolved. */
export function restoreState(config: Config, now = Date.now()): { memory: Memory; events: PolicyEvent[]; saved?: string } {
  const loaded = loadState(config.stateDir, now);
  const resumed = resumeMemory(loaded.memory, config, now, isAlive);
  return { memory: resumed.memory, events: [...loaded.events, ...resumed.events], ...(loaded.text !== undefined && { saved: loaded.text }) };
}
