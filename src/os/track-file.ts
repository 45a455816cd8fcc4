// keepalived.control track-file: keepalived reads a number from a track_file; with
// `weight 0` any non-zero value puts the instance in FAULT (the VIP moves to the peer)
// while keepalived keeps running, and 0 brings it back. Written atomically (an
// exclusive, no-follow temp file + rename in the same directory: src/os/safe-write.ts)
// so keepalived never reads half a write and root never writes through a symlink.
// Read without following a symlink (and never blocking on a FIFO).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFileSafe, writeFileAtomic } from './safe-write.js';

/** Writes 0 or 1; an error is a value naming the file. */
export function writeTrackFile(file: string, value: 0 | 1): { ok: true } | { ok: false; reason: string } {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileAtomic(file, `${value}\n`, { mode: 0o644, checkDir: false });
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `cannot write ${value} to ${file}: ${(e as Error).message}` };
  }
}

/** The value keepalived would read now: 0, 1, or undefined when the file is missing or unreadable. */
export function readTrackFile(file: string): 0 | 1 | undefined {
  const r = readFileSafe(file, { maxBytes: 4096, owner: null });
  if (!r.ok) return undefined;
  const n = Number.parseInt(r.text.trim(), 10);
  return n === 0 ? 0 : Number.isNaN(n) ? undefined : 1;
}
