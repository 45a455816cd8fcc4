// The daemon's memory at start, read by a short-lived helper: this same program run as
// `ha-watchdog __state STATEDIR` reads stateDir/state.json and checks it against its
// schema exactly as `check` does (state.ts: a bad file set aside, never fatal) and
// prints the memory and the events to log as JSON. The schema (zod) lives only in the
// helper. Run after the daemon has taken the lock, so no other agent writes it meanwhile.
import type { Config } from '../config/load.js';
import { isAlive } from '../os/proc.js';
import { askSelf, type SelfCommand } from '../os/self.js';
import { freshMemory, resumeMemory } from '../policy/decide.js';
import type { Memory, PolicyEvent } from '../policy/types.js';
import { stateFile } from './state-save.js';

/** `saved`: state.json as it is on disk, as state.ts gives it (a memory equal to it is not written again). */
export type Restored = { memory: Memory; events: PolicyEvent[]; saved?: string };

const STATE_HELPER_TIMEOUT_MS = 30_000;
/** The state file is at most 4 MiB (state-save.ts); the reply is that and a few events. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** The saved memory (fresh, with a warning, when the helper cannot give it). */
export async function loadStateApart(self: SelfCommand, stateDir: string): Promise<Restored> {
  const r = await askSelf(self, ['__state', stateDir], { what: 'the state reader', timeoutMs: STATE_HELPER_TIMEOUT_MS, maxBytes: MAX_REPLY_BYTES });
  const reply = r.ok ? (r.value as Partial<Restored & { text: unknown }> | null) : undefined;
  if (reply && typeof reply.memory === 'object' && reply.memory?.version === 1 && Array.isArray(reply.events)) {
    return { memory: reply.memory, events: reply.events, ...(typeof reply.text === 'string' && { saved: reply.text }) };
  }
  const why = r.ok ? "the state reader's answer has an unexpected shape" : r.reason;
  return { memory: freshMemory(), events: [{ level: 'warn', event: 'state.unreadable', reason: `${stateFile(stateDir)}: ${why}; starting fresh` }] };
}

/** The memory to start from: the saved state, with any action that was in flight resolved (as state.ts restoreState). */
export async function restoreStateApart(self: SelfCommand, config: Config, now = () => Date.now()): Promise<Restored> {
  const loaded = await loadStateApart(self, config.stateDir);
  const resumed = resumeMemory(loaded.memory, config, now(), isAlive);
  return { memory: resumed.memory, events: [...loaded.events, ...resumed.events], ...(loaded.saved !== undefined && { saved: loaded.saved }) };
}
