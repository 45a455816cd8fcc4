// keepalived.control track-file: keepalived reads a number from a track_file; with
// `weight 0` any non-zero value puts the instance in FAULT (the VIP moves to the peer)
// while keepalived keeps running, and 0 brings it back. Written atomically (temp file
// + rename in the same directory) so keepalived never reads half a write.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandResult } from './command.js';

export function writeTrackFile(file: string, value: 0 | 1): CommandResult {
  const started = performance.now();
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${value}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    return { ok: true, timedOut: false, output: '', durationMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { ok: false, timedOut: false, reason: `cannot write ${value} to ${file}: ${(e as Error).message}`, output: '', durationMs: Math.round(performance.now() - started) };
  }
}

/** The value keepalived would read now: 0, 1, or undefined when the file is missing or unreadable. */
export function readTrackFile(file: string): 0 | 1 | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return n === 0 ? 0 : Number.isNaN(n) ? undefined : 1;
  } catch {
    return undefined;
  }
}
