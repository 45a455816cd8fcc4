// Where the policy's memory is kept (stateDir/state.json) and how it is written:
// atomically (an exclusive, no-follow temp file, fsync, rename: src/os/safe-write.ts).
// Reading it back, checked against its schema, is src/agent/state.ts.
import { join } from 'node:path';
import { writeFileAtomic } from '../os/safe-write.js';
import type { Memory } from '../policy/types.js';

export const stateFile = (stateDir: string) => join(stateDir, 'state.json');

/** The memory is a few KB; anything near this was not written by the agent. */
export const MAX_STATE_BYTES = 4 * 1024 * 1024;

export function saveState(stateDir: string, memory: Memory): void {
  writeFileAtomic(stateFile(stateDir), JSON.stringify(memory));
}
